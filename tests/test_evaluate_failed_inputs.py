"""``evaluate`` leaves out the truth of the inputs detect failed on: a table of several inputs holds nothing of a file
it could not read (or that failed at a frame), and its .json lists that file as ``failed``; scored, its truth
counted as all missed (F1 0.60 where the image detected scores 0.91), said only as "only in the truth". Each such
input is said in one line instead, for every kind. An earlier output a folder run marked failed keeps that run's
table and is scored as ever, saying so."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from test_cli_refusals import run_cli
from test_evaluate_detected_frames import DETECT, evaluate, rods_truth, volumes_truth
from test_interrupted_movie_detect import stop_after


@pytest.fixture
def images(tmp_path, monkeypatch, capsys) -> Path:
    """synth's stack of 2 frames as f/a.tif, and the truth of f/a.tif and f/b.tif alike (truth.csv), the files
    named as the images' own folder names them."""
    monkeypatch.chdir(tmp_path)
    assert run_cli(capsys, "synth", "s", "--n", 2, "--stack", "--shape", 96, 96)[0] == 0
    Path("f").mkdir()
    Path("s/stack.tif").rename("f/a.tif")
    one = pd.read_csv("s/stack.csv")
    pd.concat([one.assign(file=name) for name in ("a.tif", "b.tif")]).to_csv("truth.csv", index=False)
    one.assign(file="a.tif").to_csv("a_truth.csv", index=False)
    return Path("f")


def failed_line(predicted: str, name: str) -> str:
    return (f"{predicted}: detect failed on {name} (see {Path(predicted).with_suffix('.json')}): its truth left out "
            "of the scores")


def test_the_truth_of_an_image_a_folder_run_could_not_read_is_left_out(images, capsys):
    Path("f/b.tif").write_text("not an image")
    assert run_cli(capsys, "detect", "f", "-o", "centres.csv", *DETECT)[0] == 1  # b.tif failed, a.tif written

    out, err = evaluate(capsys, "centres.csv", "truth.csv")
    assert err == [failed_line("centres.csv", "f/b.tif")]
    assert {line.split()[0] for line in out.strip().splitlines()[1:]} == {"f/a.tif", "all"}
    scored = json.loads(evaluate(capsys, "centres.csv", "truth.csv", "--json")[0])
    assert scored == json.loads(evaluate(capsys, "centres.csv", "a_truth.csv", "--json")[0])  # a.tif's alone


def test_an_input_failed_at_a_frame_is_said_as_failed_not_as_unreached(images, capsys, monkeypatch):
    for name in ("b.tif", "c.tif"):
        Path("f", name).write_bytes(Path("f/a.tif").read_bytes())
    truth = pd.read_csv("truth.csv")
    pd.concat([truth, truth[truth["file"] == "a.tif"].assign(file="c.tif")]).to_csv("truth.csv", index=False)
    with monkeypatch.context() as patch:  # b.tif fails at its frame 1, then the run is stopped as c.tif begins
        stop_after(patch, 1, RuntimeError("out of memory"), file="b.tif")
        stop_after(patch, 0, KeyboardInterrupt(), file="c.tif")
        assert run_cli(capsys, "detect", "f/a.tif", "f/b.tif", "f/c.tif", "-o", "stopped.csv", *DETECT)[0] == 130

    out, err = evaluate(capsys, "stopped.csv", "truth.csv")
    assert err == [failed_line("stopped.csv", "f/b.tif"),
                   "stopped.csv: left unfinished before c.tif was detected: its truth left out of the scores"]
    assert {line.split()[0] for line in out.strip().splitlines()[1:]} == {"f/a.tif", "all"}


@pytest.mark.parametrize("kind", ["rods", "volumes"])
def test_rods_and_volumes_leave_out_the_truth_of_an_input_detect_failed_on(tmp_path, monkeypatch, capsys, kind):
    """Predictions that found every particle of a.tif (the truth's own rows), with detect's record of a table
    whose b.tif failed: a perfect score on a.tif."""
    from napari_particle_detect.kinds.registry import table_csv

    monkeypatch.chdir(tmp_path)
    draw = rods_truth if kind == "rods" else volumes_truth
    truth = pd.concat([draw(seed).assign(frame=0, file=name) for seed, name in enumerate(("a.tif", "b.tif"))],
                      ignore_index=True)
    write = (lambda table, path: Path(path).write_text(table_csv(table))) if kind == "rods" else (
        lambda table, path: table.to_csv(path, index=False))
    write(truth, "truth.csv")
    write(truth[truth["file"] == "a.tif"], "found.csv")
    Path("found.json").write_text(json.dumps({"inputs": [{"file": "a.tif", "frames": 1}],
                                              "failed": [{"file": "b.tif", "reason": "b.tif: cannot read image"}]}))

    options = ("--kind", "rods") if kind == "rods" else ("--voxel-size", 1, 1, 1)
    out, err = evaluate(capsys, "found.csv", "truth.csv", "--json", *options)
    assert err == [failed_line("found.csv", "b.tif")]
    assert json.loads(out)["f1"] == 1.0


def test_an_earlier_output_marked_failed_is_scored_against_the_whole_truth(tmp_path, monkeypatch, capsys):
    """A folder run's output of b.tif from an earlier run, b.tif failing since: its table is that run's, of the
    whole image, so nothing of the truth is left out; that it is an earlier run's is said in one line."""
    monkeypatch.chdir(tmp_path)
    truth = pd.DataFrame({"frame": [0, 0, 1], "y": [10.0, 40.0, 20.0], "x": [10.0, 40.0, 20.0]})
    truth.to_csv("truth.csv", index=False)
    truth.iloc[:2].to_csv("b.csv", index=False)
    Path("b.json").write_text(json.dumps({"inputs": [{"file": "b.tif", "frames": 2}], "fingerprint": None,
                                          "failed": [{"file": "b.tif", "reason": "b.tif: cannot read image"}]}))

    out, err = evaluate(capsys, "b.csv", "truth.csv", "--json")
    # Said, not silent: its centres are of b.tif as it was, which reads no more.
    assert err == ["b.csv: detect failed on b.tif since this table was made (see b.json): its centres are an earlier "
                   "run's, of the file as it was then; scored as they are"]
    assert json.loads(out)["fn"] == 1
    assert np.isclose(json.loads(out)["recall"], 2 / 3)


def test_evaluates_help_says_what_detect_did_not_detect_is_not_scored(capsys):
    from napari_particle_detect.cli.main import main

    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    described = " ".join(capsys.readouterr().out.split())
    assert ("the truth of the frames it left out (--frames, a run left unfinished) and of the inputs it failed on is "
            "left out of the scores") in described
