"""``--kind rods|chains`` on the command line with the shipped weights, and one line per bad table."""

import json

import pandas as pd
import pytest
import tifffile

from napari_particle_detect.kinds import chains
from napari_particle_detect.kinds import rods
from napari_particle_detect.cli.main import main
from napari_particle_detect.synthetic.chains import benchmark_chain_config, synthesize_chains
from napari_particle_detect.synthetic.rods import benchmark_rod_config, rod_table, synthesize_rods


def run_cli(capsys, *args):
    code = main(["-q", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_detect_rods_with_the_shipped_model(tmp_path, capsys):
    sample = synthesize_rods(benchmark_rod_config("fluorescent", 0.15, shape=(128, 128)), seed=123)
    tifffile.imwrite(tmp_path / "rods.tif", sample.image)
    code, _, err = run_cli(capsys, "detect", tmp_path / "rods.tif", "--kind", "rods", "-o", tmp_path / "out.csv",
                           "--device", "cpu")
    assert code == 0, err
    found = pd.read_csv(tmp_path / "out.csv")
    assert list(found.columns) == rods.COLUMNS
    assert ((found["angle"] >= 0) & (found["angle"] < 180)).all()
    scores, _ = rods.evaluate_rods(found, sample.table.assign(frame=0))
    assert scores.f1 > 0.7 and scores.angle_median < 10
    meta = json.loads((tmp_path / "out.json").read_text())
    assert meta["runtime"] in ("onnx", "openvino") and meta["precision"] in ("float32", "bfloat16")
    # the runtime asked for is the one run, and torch finds the same rods
    code, _, err = run_cli(capsys, "detect", tmp_path / "rods.tif", "--kind", "rods", "-o", tmp_path / "torch.csv",
                           "--device", "cpu", "--runtime", "torch")
    assert code == 0, err
    assert (json.loads((tmp_path / "torch.json").read_text())["runtime"], "torch") == ("torch", "torch")
    if meta["precision"] == "float32":
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "torch.csv"), found, atol=1e-3, check_dtype=False)


def test_detect_chains_with_the_shipped_model_and_evaluate(tmp_path, capsys):
    sample = synthesize_chains(benchmark_chain_config("fluorescent", 0.25, shape=(128, 128)), seed=124)
    tifffile.imwrite(tmp_path / "chains.tif", sample.image)
    sample.table.to_csv(tmp_path / "truth.csv", index=False)
    code, _, err = run_cli(capsys, "detect", tmp_path / "chains.tif", "--kind", "chains", "-o", tmp_path / "out.csv",
                           "--device", "cpu")
    assert code == 0, err
    found = pd.read_csv(tmp_path / "out.csv")
    assert list(found.columns) == chains.COLUMNS
    assert list(pd.read_csv(tmp_path / "out.chains.csv").columns) == chains.CHAIN_SUMMARY_COLUMNS
    code, out, _ = run_cli(capsys, "evaluate", tmp_path / "out.csv", tmp_path / "truth.csv", "--kind", "chains", "--json")
    assert code == 0
    scores = json.loads(out)
    assert scores["bead_f1"] > 0.8 and scores["bond_f1"] > 0.6


def _write(path, table):
    table.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("kind, table, problem", [
    ("chains", rod_table([1.0], [2.0], [10.0], [20.0], [4.0]), "not a chains table: no chain, index column"),
    ("rods", rod_table([1.0], [2.0], [10.0], [20.0], [4.0]).assign(angle=-5.0), "angle -5 on row 1 is out of range"),
    ("chains", pd.DataFrame({"y": [1.0, 2.0, 3.0], "x": [1.0, 2.0, 3.0], "chain": [0, 0, 0], "index": [0, 1, 3]}),
     "chain 0 (frame 0) has a gap or repeat in its index at 2"),
])
def test_bad_tables_fail_in_one_line_naming_the_file(tmp_path, capsys, kind, table, problem):
    bad = _write(tmp_path / "bad.csv", table)
    code, out, err = run_cli(capsys, "evaluate", bad, bad, "--kind", kind)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and str(bad) in err and problem in err


def test_a_round_on_corrected_chains_frames_from_the_shipped_model(tmp_path, capsys):
    from napari_particle_detect.detection.kinds_prediction import shipped_model_path
    from napari_particle_detect.models import load_model

    data = tmp_path / "data"
    code, _, err = run_cli(capsys, "synth", data, "--kind", "chains", "--n", "2", "--shape", "96", "96",
                           "--radius", "5", "6", "--beads", "3", "10", "--area-fraction", "0.3")
    assert code == 0, err
    code, _, err = run_cli(capsys, "train", "--kind", "chains", data / "image_000.tif", "--validate",
                           data / "image_001.tif", "--from", shipped_model_path("chains"), "-o", tmp_path / "round",
                           "--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "2", "--crop", "64")
    assert code == 0, err
    card = load_model(tmp_path / "round.pt").card
    assert card.kind == "chains" and card.training["history"][0]["epoch"] == 0  # the starting model scored first
    assert card.training["annotated_examples"] == 1 and card.training["annotated_validation_examples"] == 1


def test_a_round_without_validate_is_the_docks_round_with_its_held_out_verdict(tmp_path, capsys):
    from napari_particle_detect.detection.kinds_prediction import shipped_model_path
    from napari_particle_detect.models import load_model

    data = tmp_path / "data"
    code, _, err = run_cli(capsys, "synth", data, "--kind", "rods", "--n", "2", "--shape", "128", "128",
                           "--area-fraction", "0.15", "--seed", "3")
    assert code == 0, err
    code, _, err = run_cli(capsys, "train", "--kind", "chains", data, "--from", shipped_model_path("rods"),
                           "-o", tmp_path / "wrong")
    assert code == 2 and "a rods model, not a chains one" in err and not list(tmp_path.glob("wrong*"))
    code, _, err = run_cli(capsys, "train", "--kind", "rods", data, "--from", shipped_model_path("rods"),
                           "-o", tmp_path / "round", "--steps-per-epoch", "2", "--batch-size", "2")
    assert code == 0, err
    tuned = load_model(tmp_path / "round.pt").card.training["fine_tuned"]
    # The dock's rods round: all layers at 1.5e-4 on 96 px crops (kinds_rounds.round_config), the given steps.
    assert tuned["examples"] == 2 and tuned["trainable"] == "all" and tuned["config"]["steps_per_epoch"] == 2
    assert tuned["config"]["learning_rate"] == 1.5e-4 and tuned["config"]["crop"] == 96
    assert tuned["held_out_tiles"] >= 1 and tuned["parent_score"] is not None
    assert tuned["statistics_frames"] == 2  # its two corrected frames
    # Unannotated frames lend their images to the round's batch-norm statistics candidate.
    more = tmp_path / "more"
    code, _, err = run_cli(capsys, "synth", more, "--kind", "rods", "--n", "3", "--shape", "128", "128", "--seed", "9")
    assert code == 0, err
    code, _, err = run_cli(capsys, "train", "--kind", "rods", data, "--from", shipped_model_path("rods"),
                           "-o", tmp_path / "round2", "--steps-per-epoch", "1", "--batch-size", "2",
                           "--unlabelled", *sorted(more.glob("image_*.tif")), "--unlabelled-frames", "2")
    assert code == 0, err
    assert load_model(tmp_path / "round2.pt").card.training["fine_tuned"]["statistics_frames"] == 4
    code, _, err = run_cli(capsys, "train", "--kind", "rods", data, "--from", shipped_model_path("rods"),
                           "-o", tmp_path / "round3", "--unlabelled", tmp_path / "missing.tif")
    assert code == 2 and "missing.tif" in err and err.count("\n") == 1 and not list(tmp_path.glob("round3*"))
    code, _, err = run_cli(capsys, "train", "--kind", "rods", data, "-o", tmp_path / "fresh",
                           "--unlabelled", *sorted(more.glob("image_*.tif")))
    assert code == 2 and "belong to a fine-tuning round" in err and not list(tmp_path.glob("fresh*"))


def test_fresh_training_of_a_kind_saves_a_card_naming_it(tmp_path):
    from napari_particle_detect.learning.kinds_training import KindTrainConfig, train_kind

    config = KindTrainConfig(kind="rods", steps_per_epoch=1, epochs=1, batch_size=2, crop=64, validation_images=1,
                             validation_size=64)
    model = train_kind(config, tmp_path / "rods.pt")
    assert model.card.kind == "rods" and model.card.heads == ("centre", "cos2", "sin2", "log_length", "log_width", "tips")
    assert model.card.training["history"][0]["epoch"] == 1 and model.card.training["annotated_examples"] == 0


def test_an_interrupted_kind_training_resumes_from_the_command_line(tmp_path, capsys):
    from napari_particle_detect.cli.main import main

    out = tmp_path / "chains.pt"
    common = ["train", "--kind", "chains", "-o", str(out), "--steps-per-epoch", "1", "--batch-size", "2",
              "--crop", "48", "--threads", "1", "--device", "cpu"]
    assert main(common + ["--epochs", "1"]) == 0
    assert out.with_suffix(".state.pt").exists() and "epoch 1:" in capsys.readouterr().err
    assert main(common + ["--epochs", "2", "--resume"]) == 0
    resumed = capsys.readouterr().err
    assert "epoch 2:" in resumed and "epoch 1:" not in resumed  # the first epoch is not trained again
    assert main(common + ["--epochs", "3", "--resume", "-o", str(tmp_path / "none.pt")]) == 2
    assert "nothing to resume" in capsys.readouterr().err
