"""Chains training from annotated data (train --kind chains DATA --validate, recipes) learns and is scored at the
scale detection reads each frame at, as a round is (test_chains_round_scale.py): beads read outside 7-16 px are
resampled to 12 px by detection (kinds_prediction.bead_sizing), so the annotated examples and the validation frames
are resampled alike, and a --diameter given is the beads' size there as it is to detect. Before, 22 px beads were
taught and scored as they came (the shipped model's validation score 0.71 where detection scores 0.98), --diameter
was ignored by both, and detect's .json said nothing of the beads' size or the resampling."""

import json

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.detection.kinds_prediction import detect_kind, shipped_model_path
from napari_particle_detect.kinds import chains
from napari_particle_detect.kinds.registry import table_csv
from napari_particle_detect.learning import kinds_training
from napari_particle_detect.learning.kinds_training import KindTrainConfig, resampled_as_detection, train_kind
from napari_particle_detect.models import load_model
from napari_particle_detect.synthetic.chains import benchmark_chain_config, synthesize_chains
from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods

TINY = KindTrainConfig(kind="chains", epochs=1, steps_per_epoch=1, batch_size=1, crop=48, threads=1)
GIVEN = 22.0  # px: the beads' diameter, as detect --diameter takes it


def large_beads(seed: int, size: int = 128):
    """Chains of 22 px beads, which detection resamples to about 12 px."""
    return synthesize_chains(benchmark_chain_config("fluorescent", 0.3, shape=(size, size), radius=11.0), seed=seed)


def detection_score(image: np.ndarray, truth: pd.DataFrame, threshold: float, diameter: float | None = None) -> float:
    """The mean of bead F1 and bond F1 of detection's own table at ``threshold``, in the image's pixels."""
    found = detect_kind(image, "chains", device="cpu", runtime="torch", precision="float32", threshold=threshold,
                        diameter=diameter)
    scores = chains.scores_from(chains.chain_counts(found, truth))
    return 0.5 * (scores.bead_f1 + scores.bond_f1)


def write_pair(folder, name: str, sample) -> None:
    folder.mkdir(exist_ok=True)
    tifffile.imwrite(folder / f"{name}.tif", sample.image)
    (folder / f"{name}.csv").write_text(table_csv(sample.table))


def run_cli(capsys, *args) -> tuple[int, str]:
    code = main(["-q", *map(str, args)])
    return code, capsys.readouterr().err


def test_annotated_chains_are_trained_and_validated_at_the_scale_detection_reads_them(tmp_path, monkeypatch):
    annotated, held_out = large_beads(seed=8), large_beads(seed=9)
    scale = detect_kind(annotated.image, "chains", device="cpu").attrs["scale"]
    held_out_scale = detect_kind(held_out.image, "chains", device="cpu").attrs["scale"]
    assert scale < 0.8 and held_out_scale < 0.8
    prepared = kinds_training.prepared_examples
    trained_on = []

    def noting_what_is_trained_on(examples):
        trained_on.extend(examples)
        return prepared(examples)

    monkeypatch.setattr(kinds_training, "prepared_examples", noting_what_is_trained_on)

    model = train_kind(TINY, tmp_path / "tuned.pt", init=shipped_model_path("chains"),
                       examples=[(annotated.image, annotated.table)],
                       validation_examples=[(held_out.image, held_out.table)])

    # The starting model's validation score is the one detection's table of the held-out frame gets (0.71 before).
    start = model.card.training["history"][0]
    assert start["score"] == pytest.approx(detection_score(held_out.image, held_out.table, start["threshold"]))
    # The crops are cut from the annotated frame as detection resamples it, its beads as large as detection's.
    [(image, table)] = trained_on
    resampled, factors = resampled_as_detection(annotated.image, scale)
    np.testing.assert_array_equal(image, resampled)
    np.testing.assert_allclose(table[["y", "x"]], (annotated.table[["y", "x"]] + 0.5) * factors - 0.5)
    assert model.card.training["scales"] == {"annotated example 0": pytest.approx(scale),
                                             "validation example 0": pytest.approx(held_out_scale)}


def test_a_diameter_given_to_train_is_the_beads_size_as_detect_takes_it(tmp_path, capsys):
    data, held_out = tmp_path / "data", tmp_path / "held_out"
    write_pair(data, "image_000", large_beads(seed=8, size=192))
    sample = large_beads(seed=9)
    write_pair(held_out, "image_000", sample)
    given = 12.0 / GIVEN  # detection's scale for 22 px beads given; their estimate reads them smaller (0.68-0.72)

    code, err = run_cli(capsys, "train", "--kind", "chains", data, "--from", shipped_model_path("chains"),
                        "-o", tmp_path / "round", "--diameter", GIVEN, "--steps-per-epoch", "1", "--batch-size", "2",
                        "--crop", "48")
    assert code == 0, err
    tuned = load_model(tmp_path / "round.pt").card.training["fine_tuned"]
    assert tuned["scales"] == {"frame 0": pytest.approx(given)} and tuned["config"]["diameter"] == GIVEN

    code, err = run_cli(capsys, "train", "--kind", "chains", data, "--validate", held_out, "--from",
                        shipped_model_path("chains"), "-o", tmp_path / "trained", "--diameter", GIVEN, "--epochs", "1",
                        "--steps-per-epoch", "1", "--batch-size", "1", "--crop", "48")
    assert code == 0, err
    training = load_model(tmp_path / "trained.pt").card.training
    assert training["scales"] == {"annotated example 0": pytest.approx(given),
                                  "validation example 0": pytest.approx(given)}
    start = training["history"][0]
    assert start["score"] == pytest.approx(detection_score(sample.image, sample.table, start["threshold"], GIVEN))


def test_a_diameter_with_rods_is_refused_in_one_line(tmp_path, capsys):
    sample = synthesize_rods(benchmark_rod_config("fluorescent", 0.15, shape=(96, 96)), seed=3)
    write_pair(tmp_path / "data", "image_000", sample)
    code, err = run_cli(capsys, "train", "--kind", "rods", tmp_path / "data", "-o", tmp_path / "rods", "--diameter",
                        "10", "--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "1")
    assert code == 2 and err.count("\n") == 1 and "--diameter" in err and "--kind rods" in err, err
    assert not list(tmp_path.glob("rods*"))


def test_detects_json_records_the_beads_diameter_and_scale_of_each_chains_input(tmp_path, capsys):
    tifffile.imwrite(tmp_path / "beads.tif", large_beads(seed=9).image)
    for diameter, source in ((None, "estimated"), (GIVEN, "given")):
        out = tmp_path / f"{source}.csv"
        code, err = run_cli(capsys, "detect", tmp_path / "beads.tif", "--kind", "chains", "-o", out, "--device", "cpu",
                            *(("--diameter", diameter) if diameter else ()))
        assert code == 0, err
        [record] = json.loads(out.with_suffix(".json").read_text())["inputs"]
        table = detect_kind(tifffile.imread(tmp_path / "beads.tif"), "chains", device="cpu", diameter=diameter)
        assert record["diameter_source"] == source
        assert (record["diameter_px"], record["rescale_factor"]) == pytest.approx((table.attrs["diameter"],
                                                                                  table.attrs["scale"]))
    assert (record["diameter_px"], record["rescale_factor"]) == pytest.approx((GIVEN, 12.0 / GIVEN))
