"""``--kind rods|chains`` on the command line with the shipped weights, and one line per bad table."""

import json

import numpy as np
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
    # --resume has nothing to continue in a round: it was ignored, and past the --overwrite check it replaced
    # the model already at -o.
    before = (tmp_path / "round.pt").read_bytes()
    code, _, err = run_cli(capsys, "train", "--kind", "rods", data, "--from", shipped_model_path("rods"),
                           "-o", tmp_path / "round", "--steps-per-epoch", "1", "--batch-size", "2", "--resume")
    assert code == 2 and err.count("\n") == 1 and "a fine-tuning round (--from with DATA) is short" in err, err
    assert (tmp_path / "round.pt").read_bytes() == before
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
    from napari_particle_detect.learning.training import TrainingCancelled

    config = KindTrainConfig(kind="rods", steps_per_epoch=1, epochs=1, batch_size=2, crop=64, validation_images=1,
                             validation_size=64)
    stale = tmp_path / "rods.state.pt"
    stale.write_bytes(b"an earlier run's state")  # a fresh run goes on without it: a --resume must not find it
    with pytest.raises(TrainingCancelled):  # stopped before its first epoch ended
        train_kind(config, tmp_path / "rods.pt", cancel=lambda: True)
    assert not stale.exists() or stale.read_bytes() != b"an earlier run's state"
    model = train_kind(config, tmp_path / "rods.pt")
    assert model.card.kind == "rods" and model.card.heads == ("centre", "cos2", "sin2", "log_length", "log_width", "tips")
    assert model.card.training["history"][0]["epoch"] == 1 and model.card.training["annotated_examples"] == 0


def test_an_interrupted_kind_training_resumes_from_the_command_line(tmp_path, capsys):
    from napari_particle_detect.cli.main import main

    out = tmp_path / "chains.pt"
    common = ["train", "--kind", "chains", "-o", str(out), "--steps-per-epoch", "1", "--batch-size", "2",
              "--crop", "48", "--threads", "1", "--device", "cpu"]
    assert main(common + ["--epochs", "1"]) == 0
    assert out.with_suffix(".state.pt").exists() and "epoch 1/1:" in capsys.readouterr().err
    assert main(common + ["--epochs", "2", "--resume"]) == 0
    resumed = capsys.readouterr().err
    assert "epoch 2/2:" in resumed and "epoch 1/" not in resumed  # the first epoch is not trained again
    assert main(common + ["--epochs", "3", "--resume", "-o", str(tmp_path / "none.pt")]) == 2
    assert "nothing to resume" in capsys.readouterr().err


def _chains_of_two_files():
    one = pd.DataFrame({"frame": 0, "y": [10.0, 20.0, 30.0, 60.0, 70.0], "x": [10.0, 10.0, 10.0, 50.0, 50.0],
                        "score": 0.9, "chain": [0, 0, 0, 1, 1], "index": [0, 1, 2, 0, 1], "closed": 0})
    # As detect writes several images into one table: chain ids restart in every file.
    return pd.concat([one.assign(file="image_000.tif"), one.assign(file="image_001.tif", x=one["x"] + 5)],
                     ignore_index=True)


def test_an_empty_table_is_scored_and_its_missing_scores_are_json_null(tmp_path, capsys):
    (tmp_path / "blank_rods.csv").write_text("frame,y,x,angle,length,width,y1,x1,y2,x2,score\n")
    truth = _write(tmp_path / "rods.csv", rod_table([20.0, 40.0], [20.0, 40.0], [10.0, 100.0], [20.0, 20.0], [5.0, 5.0]))
    code, out, err = run_cli(capsys, "evaluate", tmp_path / "blank_rods.csv", truth, "--kind", "rods", "--json")
    assert code == 0, err
    scores = json.loads(out, parse_constant=lambda name: pytest.fail(f"bare {name} in {out}"))
    assert (scores["tp"], scores["fn"], scores["angle_median"]) == (0, 2, None)
    (tmp_path / "blank_chains.csv").write_text("frame,y,x,score,chain,index,closed\n")
    chains_truth = _write(tmp_path / "chains.csv", _chains_of_two_files().drop(columns="file").iloc[:5])
    code, out, err = run_cli(capsys, "evaluate", tmp_path / "blank_chains.csv", chains_truth, "--kind", "chains", "--json")
    assert code == 0, err
    assert json.loads(out)["beads"] == 5 and json.loads(out)["bead_f1"] == 0.0
    # Spheres: no matches, no mean error.
    (tmp_path / "blank.csv").write_text("frame,y,x,score\n")
    spheres = _write(tmp_path / "spheres.csv", pd.DataFrame({"frame": 0, "y": [5.0, 9.0], "x": [5.0, 30.0]}))
    code, out, err = run_cli(capsys, "evaluate", tmp_path / "blank.csv", spheres, "--json")
    assert code == 0, err
    scores = json.loads(out, parse_constant=lambda name: pytest.fail(f"bare {name} in {out}"))
    assert scores["fn"] == 2 and scores["mean_error"] is None
    (tmp_path / "blank3d.csv").write_text("frame,z,y,x\n")
    volume = _write(tmp_path / "volume.csv", pd.DataFrame({"frame": 0, "z": [3.0, 4.0], "y": [5.0, 9.0], "x": [5.0, 30.0]}))
    code, out, err = run_cli(capsys, "evaluate", tmp_path / "blank3d.csv", volume, "--json")
    assert code == 0, err
    scores = json.loads(out, parse_constant=lambda name: pytest.fail(f"bare {name} in {out}"))
    assert scores["fn"] == 2 and scores["rms_z"] is None


def test_a_chains_table_of_several_files_is_evaluated_file_by_file(tmp_path, capsys):
    table = _chains_of_two_files()
    both = _write(tmp_path / "both.csv", table)
    code, out, err = run_cli(capsys, "evaluate", both, both, "--kind", "chains", "--json")
    assert code == 0, err
    scores = json.loads(out)
    assert (scores["beads"], scores["chains"], scores["chains_exact"], scores["bond_f1"]) == (10, 4, 1.0, 1.0)
    one = _write(tmp_path / "one.csv", table[table["file"] == "image_001.tif"].drop(columns="file"))
    code, out, err = run_cli(capsys, "evaluate", both, one, "--kind", "chains", "--file", "image_001", "--json")
    assert code == 0, err
    assert json.loads(out)["beads"] == 5 and json.loads(out)["bead_f1"] == 1.0


def test_an_empty_reviewed_frame_is_a_training_example(tmp_path):
    from napari_particle_detect.learning.kinds_training import load_kind_examples

    sample = synthesize_rods(benchmark_rod_config("fluorescent", 0.15, shape=(64, 64)), seed=3)
    tifffile.imwrite(tmp_path / "rods.tif", sample.image)
    _write(tmp_path / "rods.csv", sample.table)
    tifffile.imwrite(tmp_path / "blank.tif", sample.image[::-1].copy())
    (tmp_path / "blank.csv").write_text("frame,y,x,angle,length,width,y1,x1,y2,x2,score\n")
    examples = load_kind_examples([tmp_path], "rods")
    assert sorted(len(table) for _, table in examples) == [0, len(sample.table)]


def _chain_images(folder, names, frames=1):
    folder.mkdir(parents=True, exist_ok=True)
    for seed, name in enumerate(names):
        stack = [synthesize_chains(benchmark_chain_config("fluorescent", 0.3, shape=(96, 96)), seed=seed * 10 + f).image
                 for f in range(frames)]
        tifffile.imwrite(folder / name, stack[0] if frames == 1 else np.stack(stack))
    return folder


def test_a_stacks_chains_are_counted_per_frame_and_a_stale_per_chain_table_goes(tmp_path, capsys):
    stack = _chain_images(tmp_path, ["stack.tif"], frames=3) / "stack.tif"
    out = tmp_path / "x.csv"
    code, _, err = run_cli(capsys, "detect", stack, "--kind", "chains", "-o", out, "--device", "cpu")
    assert code == 0, err
    per_chain = pd.read_csv(tmp_path / "x.chains.csv")
    assert per_chain["frame"].nunique() == 3 and per_chain["chain"].nunique() < len(per_chain)  # ids restart per frame
    assert json.loads((tmp_path / "x.json").read_text())["inputs"][0]["objects"] == len(per_chain)
    # The same output as rods: the beads' per-chain table, detect's own, goes with the beads.
    code, _, err = run_cli(capsys, "detect", stack, "--kind", "rods", "-o", out, "--device", "cpu")
    assert code == 0, err
    assert not (tmp_path / "x.chains.csv").exists() and "angle" in pd.read_csv(out).columns
    # A file of that name that detect did not write (beside a rods output) is the user's: it stays.
    (tmp_path / "x.chains.csv").write_text("mine\n")
    code, _, err = run_cli(capsys, "detect", stack, "--kind", "rods", "-o", out, "--device", "cpu")
    assert code == 0, err
    assert (tmp_path / "x.chains.csv").read_text() == "mine\n"


def test_folder_runs_of_chains_keep_every_per_chain_table(tmp_path, capsys):
    clash = _chain_images(tmp_path / "clash", ["a.tif", "a.chains.tif"])
    code, out, err = run_cli(capsys, "detect", clash, "--kind", "chains", "-o", f"{tmp_path / 'clash_out'}/",
                             "--device", "cpu")
    assert code == 2 and err.count("\n") == 1 and "a.chains.csv: would be both the output CSV of input a.chains and " \
        "the per-chain table of a.csv" in err
    assert not (tmp_path / "clash_out").exists()  # refused before any work
    images = _chain_images(tmp_path / "ch", ["image_000.tif", "image_001.tif"])
    target = tmp_path / "ch_out"
    code, _, err = run_cli(capsys, "detect", images, "--kind", "chains", "-o", f"{target}/", "--device", "cpu")
    assert code == 0, err
    first = (target / "image_000.chains.csv").stat().st_mtime_ns
    (target / "image_001.chains.csv").unlink()
    main(["detect", str(images), "--kind", "chains", "-o", f"{target}/", "--device", "cpu"])
    assert "1 done, 1 unchanged and skipped" in capsys.readouterr().err
    assert (target / "image_001.chains.csv").exists() and (target / "image_000.chains.csv").stat().st_mtime_ns == first
    # Rods into the same folder replace detect's outputs, and the per-chain tables that went with them.
    code, _, err = run_cli(capsys, "detect", images, "--kind", "rods", "-o", f"{target}/", "--device", "cpu")
    assert code == 0, err
    assert not list(target.glob("*.chains.csv")) and len(list(target.glob("*.csv"))) == 2


@pytest.mark.parametrize("kind", ["rods", "ellipsoids", "chains"])
def test_synth_refuses_an_area_fraction_it_would_not_draw(tmp_path, capsys, kind):
    code, _, err = run_cli(capsys, "synth", tmp_path / "dense", "--kind", kind, "--area-fraction", "0.8", "--n", "1")
    assert code == 2 and err.count("\n") == 1 and f"--area-fraction 0.8: {kind} are drawn to an area fraction of at " \
        "most 0.6" in err
    assert not (tmp_path / "dense").exists()
    code, _, err = run_cli(capsys, "synth", tmp_path / "ok", "--kind", kind, "--area-fraction", "0.6", "--n", "1",
                           "--shape", "64", "64", *(["--radius", "3", "4"] if kind == "chains" else []))
    assert code == 0, err
    recorded = json.loads((tmp_path / "ok" / "synth.json").read_text())
    assert recorded["area_fraction"] == recorded["optics"]["area_fraction"] == 0.6


@pytest.mark.parametrize("side", [16, 24])
def test_synth_of_chains_on_too_small_an_image_says_the_smallest(tmp_path, capsys, side):
    code, _, err = run_cli(capsys, "synth", tmp_path / "p", "--kind", "chains", "--shape", side, side, "--n", "1",
                           "--radius", "4", "12")
    assert code == 2 and err.count("\n") == 1 and "too small for beads of radius up to 12 px: it takes at least " \
        "25 x 25 px" in err
    assert not (tmp_path / "p").exists()


def test_a_nan_frame_of_a_rods_stack_is_skipped_with_a_warning_and_the_rest_written(tmp_path, capsys):
    # The run stopped at the NaN frame with exit 2 and wrote no CSV, throwing away the frames before it.
    image = synthesize_rods(benchmark_rod_config("fluorescent", 0.15, shape=(96, 96)), seed=123).image
    stack = np.stack([image.astype(np.float32)] * 3)
    stack[1] = np.nan  # a dropped tile; a few NaN pixels are a mosaic's gaps (test_gaps_everywhere.py)
    path = tmp_path / "rods_nan.tif"
    tifffile.imwrite(path, stack, photometric="minisblack")
    code, _, err = run_cli(capsys, "detect", path, "--kind", "rods", "-o", tmp_path / "out.csv", "--device", "cpu")
    assert code == 0, err
    assert f"{path} frame 1: every pixel is NaN or infinite (a blank frame): nothing found" in err
    found = pd.read_csv(tmp_path / "out.csv")
    assert list(found.columns) == rods.COLUMNS and set(found["frame"]) == {0, 2}


def test_polarity_says_what_each_choice_does_for_every_kind(capsys):
    # --polarity had no help: auto behaving as bright for rods and chains (and for spheres' centres) was unsaid.
    with pytest.raises(SystemExit):
        main(["detect", "--help"])
    said = " ".join(capsys.readouterr().out.split())
    polarity = said[said.rindex("--polarity {auto,bright,dark}"):said.rindex("--channel N")]  # not the usage line
    assert "every --kind" in polarity and "dark inverts each frame first" in polarity
    assert "dark ones need no flag" in polarity and "--measure" in polarity


def test_a_kind_run_resumes_only_from_the_start_it_had(tmp_path, capsys, monkeypatch):
    from dataclasses import replace

    from napari_particle_detect.detection.kinds_prediction import shipped_model_path
    from napari_particle_detect.learning import kinds_training

    # Each epoch's score, which this test never reads, on 2 generated images, not 8: 4 scorings took most of its time.
    full_validation_set = kinds_training.validation_set
    monkeypatch.setattr(kinds_training, "validation_set",
                        lambda kind, config: full_validation_set(kind, replace(config, validation_images=2)))
    common = ["train", "--kind", "chains", "--steps-per-epoch", "1", "--batch-size", "2", "--crop", "48",
              "--threads", "1", "--device", "cpu"]
    fresh, tuned, shipped = tmp_path / "fresh.pt", tmp_path / "tuned.pt", shipped_model_path("chains")
    assert run_cli(capsys, *common, "-o", fresh, "--epochs", "1")[0] == 0
    assert run_cli(capsys, *common, "-o", tuned, "--epochs", "1", "--from", fresh)[0] == 0
    kept = {path: path.read_bytes() for path in (fresh, tuned, fresh.with_suffix(".state.pt"),
                                                 tuned.with_suffix(".state.pt"))}
    refusals = [
        (fresh, ["--from", shipped], "the interrupted run trained a new network; resume it without --from"),
        (tuned, [], f"the interrupted run fine-tuned {fresh}; resume it with --from {fresh}"),
        (tuned, ["--from", shipped], f"the interrupted run started from other weights ({fresh}); resume it from "
                                     "the same model"),
    ]
    for out, start, problem in refusals:
        code, _, err = run_cli(capsys, *common, "-o", out, "--epochs", "2", "--resume", *start)
        assert code == 2 and err == f"particle-detect: error: {out.with_suffix('.state.pt')}: {problem}\n"
    assert all(path.read_bytes() == before for path, before in kept.items())  # refused before any work
    code, _, err = run_cli(capsys, *common, "-o", tuned, "--epochs", "2", "--resume", "--from", fresh)
    assert code == 0, err


@pytest.mark.parametrize("command", ["detect", "train", "evaluate"])
def test_kind_ellipsoids_says_they_are_rods(tmp_path, capsys, command):
    # synth makes ellipsoids, but detect --kind ellipsoids got argparse's bare 'invalid choice'.
    arguments = {"detect": ["detect", tmp_path / "e.tif", "-o", tmp_path / "e.csv"],
                 "train": ["train", "-o", tmp_path / "m"],
                 "evaluate": ["evaluate", tmp_path / "a.csv", tmp_path / "b.csv"]}[command]
    with pytest.raises(SystemExit) as stopped:
        main([*map(str, arguments), "--kind", "ellipsoids"])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and err.count("\n") == 1
    assert "argument --kind: ellipsoids are detected, trained and scored as --kind rods" in err
