"""An output a folder run kept when its input failed since (its .json lists the file as failed) holds an earlier
run's centres: ``link`` and ``evaluate`` said nothing of it, so a user took them for the file's results now."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from test_cli_refusals import run_cli


def _stale_output(tmp_path: Path, capsys) -> None:
    """res/a.csv detected from a.tif by a folder run, then a.tif broken and the run made again: a.tif fails, its
    earlier output kept and marked failed."""
    assert run_cli(capsys, "synth", "s", "--n", 1, "--stack", "--shape", 96, 96)[0] == 0
    Path("s/stack.tif").rename("a.tif")
    options = ("--diameter", "12", "--device", "cpu", "--runtime", "torch")
    assert run_cli(capsys, "detect", "a.tif", "-o", "res/", *options)[0] == 0
    Path("a.tif").write_bytes(b"no image any more")
    assert run_cli(capsys, "detect", "a.tif", "-o", "res/", *options)[0] == 1
    assert len(pd.read_csv("res/a.csv"))  # the earlier run's centres, kept


WARNING = ("res/a.csv: detect failed on a.tif since this table was made (see res/a.json): its centres are an earlier "
           "run's, of the file as it was then; {}")


def test_link_and_evaluate_say_an_outputs_input_failed_since(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _stale_output(tmp_path, capsys)
    code, _, err = run_cli(capsys, "link", "res/a.csv", "-o", "tracks.csv")
    assert code == 0 and WARNING.format("linked as they are") in err.splitlines(), err
    code, _, err = run_cli(capsys, "evaluate", "res/a.csv", "s/stack.csv")
    assert code == 0 and WARNING.format("scored as they are") in err.splitlines(), err
