"""``evaluate`` scores the truth only in the frames detect detected: a table of part of a stack (``detect --frames``)
or one a stopped run left unfinished holds nothing of the other frames, and scoring the truth's there as missed
read F1 0.57 where the frames detected score 0.88, without a word. The frames left out are said in one line per
input, for spheres, rods, chains and volumes alike, with or without --border; an unfinished table of several
inputs leaves out the truth of those it had not come to. Predictions detect detected whole are scored as ever."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.kinds.evaluation import evaluate_frames
from napari_particle_detect.kinds.registry import table_csv
from napari_particle_detect.synthetic.chains import benchmark_chain_config, synthesize_chains
from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods

from test_cli_refusals import run_cli
from test_interrupted_movie_detect import stop_after

FRAMES = 4
DETECT = ("--device", "cpu", "--threshold", "0.35")


@pytest.fixture
def synthesized(tmp_path, monkeypatch, capsys) -> Path:
    """synth's stack of 4 frames and its truth (s/stack.tif, s/stack.csv, s/synth.json)."""
    monkeypatch.chdir(tmp_path)
    assert run_cli(capsys, "synth", "s", "--n", FRAMES, "--stack", "--shape", 96, 96)[0] == 0
    return Path("s")


def evaluate(capsys, *args) -> tuple[str, list[str]]:
    """evaluate's scores (stdout) and its lines on stderr."""
    code, out, err = run_cli(capsys, "evaluate", *args)
    assert code == 0, err
    return out, err.strip().splitlines()


def printed_frames(out: str) -> list[str]:
    """The frame column of evaluate's per-frame table, its pooled ``all`` last."""
    return [line.split()[0] for line in out.strip().splitlines()[1:]]


def scores_of(predicted: Path, truth: pd.DataFrame, border: float = 0.0) -> dict:
    """The library's pooled scores of ``predicted`` against ``truth`` as given (the frames chosen by the caller)."""
    return evaluate_frames(pd.read_csv(predicted), truth, 3.0, border, (96, 96)).iloc[-1].to_dict()


@pytest.mark.parametrize("options", [(), ("--border", "10")], ids=["whole", "border"])
def test_a_range_of_frames_is_scored_on_those_frames_alone(synthesized, capsys, options):
    assert run_cli(capsys, "detect", "s/stack.tif", "-o", "s/centres.csv", "--frames", "0:2", *DETECT)[0] == 0

    out, err = evaluate(capsys, "s/centres.csv", "s/stack.csv", *options)
    assert err == ["s/centres.csv: frames 0-1 of s/stack.tif detected (--frames): the truth's frames 2-3 left out "
                   "of the scores"]
    assert printed_frames(out)[-3:] == ["0", "1", "all"]
    truth = pd.read_csv("s/stack.csv")
    border = float(options[1]) if options else 0.0
    pooled = json.loads(evaluate(capsys, "s/centres.csv", "s/stack.csv", "--json", *options)[0])
    expected = scores_of(Path("s/centres.csv"), truth[truth["frame"] < 2], border)
    assert (pooled["tp"], pooled["fn"], pooled["f1"]) == (expected["tp"], expected["fn"], pytest.approx(expected["f1"]))
    if options:  # the border's note counts the true centres of the frames scored only
        true = expected["tp"] + expected["fn"] + expected["left_out_truth"]
        assert f"left out {expected['left_out_truth']} of {true} true" in out


def test_an_unfinished_table_is_scored_on_its_frames_done(synthesized, capsys, monkeypatch):
    with monkeypatch.context() as patch:
        stop_after(patch, 2, KeyboardInterrupt())
        assert run_cli(capsys, "detect", "s/stack.tif", "-o", "s/centres.csv", *DETECT)[0] == 130

    out, err = evaluate(capsys, "s/centres.csv", "s/stack.csv")
    assert err == ["s/centres.csv: frames 0-1 of s/stack.tif detected (a run left unfinished): the truth's frames "
                   "2-3 left out of the scores"]
    assert printed_frames(out)[-3:] == ["0", "1", "all"]


def test_a_table_of_several_inputs_leaves_out_each_ones_frames_and_the_inputs_not_reached(synthesized, capsys,
                                                                                          monkeypatch):
    Path("s/stack.tif").rename("s/a.tif")
    Path("s/b.tif").write_bytes(Path("s/a.tif").read_bytes())
    one = pd.read_csv("s/stack.csv")
    pd.concat([one.assign(file=f"s/{name}") for name in ("a.tif", "b.tif")]).to_csv("s/truth.csv", index=False)
    assert run_cli(capsys, "detect", "s/a.tif", "s/b.tif", "-o", "s/centres.csv", "--frames", "1:3", *DETECT)[0] == 0

    out, err = evaluate(capsys, "s/centres.csv", "s/truth.csv")
    assert err == [f"s/centres.csv: frames 1-2 of s/{name} detected (--frames): the truth's frames 0, 3 left out of "
                   "the scores" for name in ("a.tif", "b.tif")]
    rows = [line.split()[:2] for line in out.strip().splitlines()[1:]]
    assert rows == [["s/a.tif", "1"], ["s/a.tif", "2"], ["s/b.tif", "1"], ["s/b.tif", "2"], ["all", "all"]]

    with monkeypatch.context() as patch:  # stopped as b.tif begins: a.tif's frames kept, b.tif not reached
        stop_after(patch, 0, KeyboardInterrupt(), file="b.tif")
        assert run_cli(capsys, "detect", "s/a.tif", "s/b.tif", "-o", "s/stopped.csv", *DETECT)[0] == 130
    out, err = evaluate(capsys, "s/stopped.csv", "s/truth.csv")
    assert err == ["s/stopped.csv: left unfinished before s/b.tif was detected: its truth left out of the scores"]
    assert {line.split()[0] for line in out.strip().splitlines()[1:]} == {"s/a.tif", "all"}


def rods_truth(seed: int) -> pd.DataFrame:
    return synthesize_rods(benchmark_rod_config("fluorescent", 0.15, shape=(96, 96)), seed=seed).table


def chains_truth(seed: int) -> pd.DataFrame:
    return synthesize_chains(benchmark_chain_config("fluorescent", 0.3, shape=(96, 96)), seed=seed).table


def volumes_truth(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.uniform(10, 50, size=(6, 3)), columns=["z", "y", "x"])


KINDS = {"rods": (rods_truth, "f1"), "chains": (chains_truth, "bead_f1"), "volumes": (volumes_truth, "f1")}


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("record", ["frames_detected", "whole"])
def test_rods_chains_and_volumes_are_scored_on_the_frames_detected(tmp_path, monkeypatch, capsys, kind, record):
    """Predictions that found every particle of frames 0-1 (the truth's own rows), with detect's record of them:
    a perfect score on the frames detected. A record of the whole stack leaves out nothing."""
    monkeypatch.chdir(tmp_path)
    draw, score = KINDS[kind]
    truth = pd.concat([draw(seed).assign(frame=seed) for seed in range(FRAMES)], ignore_index=True)
    truth = truth[["frame"] + [c for c in truth.columns if c != "frame"]]
    write = (lambda table, path: Path(path).write_text(table_csv(table))) if kind != "volumes" else (
        lambda table, path: table.to_csv(path, index=False))
    write(truth, "truth.csv")
    write(truth[truth["frame"] < 2], "found.csv")
    frames = {"frames_detected": [0, 1]} if record == "frames_detected" else {}
    count = {"frames": FRAMES} if kind != "volumes" else {"volumes": FRAMES}  # as a volume series' record counts
    Path("found.json").write_text(json.dumps({"inputs": [{"file": "stack.tif", **count, **frames}]}))

    options = ("--kind", kind) if kind != "volumes" else ("--voxel-size", 1, 1, 1)
    out, err = evaluate(capsys, "found.csv", "truth.csv", "--json", *options)
    if record == "frames_detected":
        assert err == ["found.csv: frames 0-1 of stack.tif detected (--frames): the truth's frames 2-3 left out of "
                       "the scores"]
        assert json.loads(out)[score] == 1.0
    else:
        assert err == [] and json.loads(out)[score] < 0.9  # frames 2-3 missed, as a whole run's would be
