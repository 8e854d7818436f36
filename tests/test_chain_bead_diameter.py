"""Chains take the beads' diameter where it is known, as spheres take theirs: it is used instead of the
estimate (which costs a third of a 256 px frame's detection), and resamples beads the model did not learn.
Rods work at any width and still refuse one. The library's kinds say an unfinished model, as spheres do."""

import json
import logging
import shutil

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect import detect
from napari_particle_detect.cli.main import main
from napari_particle_detect.detection import kinds_prediction
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.kinds import chains
from napari_particle_detect.synthetic.chains import benchmark_chain_config, synthesize_chains


@pytest.fixture(scope="module")
def large_beads():
    # Bright-field beads of radius 11.5 px, beyond the 3.5-9 px the model learnt (as they come: bead F1 0.14).
    return synthesize_chains(benchmark_chain_config("brightfield", 0.3, shape=(192, 192), radius=11.5), seed=8)


def bead_f1(found: pd.DataFrame, sample) -> float:
    return chains.evaluate_chains(found, sample.table.assign(frame=0))[0].bead_f1


def test_a_given_bead_diameter_is_used_instead_of_the_estimate(large_beads, monkeypatch, caplog):
    def no_estimate(*args, **kwargs):
        raise AssertionError("the size was estimated though it was given")

    monkeypatch.setattr(kinds_prediction, "estimate_size", no_estimate)
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        resampled = detect(large_beads.image, kind="chains", device="cpu", diameter=23.0)
    assert bead_f1(resampled, large_beads) > 0.95
    assert not caplog.records  # the user's own size: nothing to warn of
    # A size the model learnt is taken at its word: these beads are then detected as they come, and fail.
    as_they_come = detect(large_beads.image, kind="chains", device="cpu", diameter=12.0)
    assert bead_f1(as_they_come, large_beads) < 0.5


def test_the_command_line_takes_a_bead_diameter_for_chains_and_refuses_one_for_rods(large_beads, tmp_path, capsys):
    image = tmp_path / "beads.tif"
    tifffile.imwrite(image, large_beads.image)
    out = tmp_path / "beads.csv"
    assert main(["-q", "detect", str(image), "--kind", "chains", "--diameter", "23", "-o", str(out)]) == 0
    assert bead_f1(pd.read_csv(out), large_beads) > 0.95

    rods_out = tmp_path / "rods.csv"
    assert main(["-q", "detect", str(image), "--kind", "rods", "--diameter", "23", "-o", str(rods_out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--kind rods works at the image's own pixel scale" in err[0]
    assert not rods_out.exists()


@pytest.mark.parametrize("diameter", [0.0, -3.0, float("nan")])
def test_a_bead_diameter_that_is_no_size_is_refused(diameter):
    with pytest.raises(ParticleDetectError, match="diameter must be a positive number"):
        detect(np.ones((32, 32), np.float32), kind="chains", device="cpu", diameter=diameter)


def test_rods_refuse_a_diameter_in_the_library():
    with pytest.raises(ParticleDetectError, match="kind='rods' works at the image's own pixel scale"):
        detect(np.ones((32, 32), np.float32), kind="rods", device="cpu", diameter=10.0)


def test_the_library_says_once_that_a_kinds_model_did_not_finish_training(large_beads, tmp_path, caplog):
    model = tmp_path / "chains.pt"
    shutil.copy(kinds_prediction.shipped_model_path("chains"), model)
    card = json.loads(kinds_prediction.shipped_model_path("chains").with_suffix(".json").read_text())
    card["training"].update(finished=False, epochs_done=1, epochs=4)
    model.with_suffix(".json").write_text(json.dumps(card))
    frame = large_beads.image[:64, :64]
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        for _ in range(2):
            detect(frame, kind="chains", model=str(model), device="cpu", diameter=12.0)
    said = [r.getMessage() for r in caplog.records if "training stopped" in r.getMessage()]
    # Before, only the command line said it (spheres' detect() did too).
    assert said == [f"{model}: its training stopped after 1 of 4 epochs (its card says finished: false); it "
                    "detects as trained so far: resume the training to finish it"]


def test_a_chains_table_records_how_its_beads_were_sized(large_beads):
    given = detect(large_beads.image, kind="chains", device="cpu", diameter=23.0)
    assert (given.attrs["diameter"], given.attrs["diameter_source"]) == (23.0, "given")
    assert given.attrs["scale"] == pytest.approx(12.0 / 23.0, rel=0.02)  # to the 12 px beads the model works at
    estimated = detect(large_beads.image, kind="chains", device="cpu")
    assert estimated.attrs["diameter_source"] == "estimated" and 19 < estimated.attrs["diameter"] < 27
    assert estimated.attrs["scale"] < 0.7


def test_a_bead_diameter_larger_than_the_image_is_refused_as_for_spheres(large_beads):
    # It found nothing, unsaid (spheres refused it; the command line too).
    with pytest.raises(ParticleDetectError, match=r"diameter 300 px is larger than the image \(192 x 192 px\)"):
        detect(large_beads.image, kind="chains", device="cpu", diameter=300.0)
