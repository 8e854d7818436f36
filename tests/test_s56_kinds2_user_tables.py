"""Rods and chains tables written or edited by hand, read by `evaluate --kind` and `link`: an angle of 180 (ImageJ's Fit
Ellipse gives [0, 180]) is read as 0; a chain with a gap says how to mend the file (the keep_beads advice only for
tables given in Python); infinite values and frame, chain or index numbers that are not whole are refused in one
line naming the file, the column and the row."""

import json

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect import evaluate_chains
from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.kinds import rods
from napari_particle_detect.synthetic.rods import rod_table

TIPS = ["y1", "x1", "y2", "x2"]


def run_cli(capsys, *args):
    code = main(["-q", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def two_rods() -> pd.DataFrame:
    return rod_table([40.0, 80.0], [40.0, 90.0], [0.0, 30.0], [20.0, 25.0], [4.0, 5.0]).assign(frame=0)


def chain_file(path, indices, frames=None) -> pd.DataFrame:
    n = len(indices)
    table = pd.DataFrame({"frame": frames if frames is not None else 0, "y": 50.0, "x": 20.0 + 10.0 * np.arange(n),
                          "score": 0.9, "chain": 0, "index": indices, "closed": 0})
    table.to_csv(path, index=False)
    return table


def refusal(capsys, *args) -> str:
    code, out, err = run_cli(capsys, *args)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    return err


def test_an_angle_of_180_is_read_as_0_as_fit_ellipse_gives_it(tmp_path, capsys):
    truth = two_rods()
    truth.to_csv(tmp_path / "truth.csv", index=False)
    imagej = truth.copy()
    imagej.loc[0, "angle"] = 180.0  # the same rod, its tips given along 180 degrees
    imagej.loc[0, TIPS] = truth.loc[0, ["y2", "x2", "y1", "x1"]].to_numpy()
    imagej.to_csv(tmp_path / "with_tips.csv", index=False)
    imagej.drop(columns=TIPS).to_csv(tmp_path / "centres_only.csv", index=False)
    # Before: "angle 180 on row 1 is out of range [0, 180) degrees", the file refused.
    for name in ("with_tips.csv", "centres_only.csv"):
        code, out, err = run_cli(capsys, "evaluate", tmp_path / name, tmp_path / "truth.csv", "--kind", "rods", "--json")
        assert code == 0, err
        scores = json.loads(out)
        assert (scores["tp"], scores["fp"], scores["fn"], scores["angle_median"]) == (2, 0, 0, 0.0)
    read = rods.check_table(imagej, "with_tips.csv")
    assert read.loc[0, "angle"] == 0.0  # tip 2 - tip 1 along the angle, as every writer gives it
    assert read.loc[0, TIPS].tolist() == truth.loc[0, TIPS].tolist()


@pytest.mark.parametrize("angle", [180.5, -5.0, 360.0])
def test_angles_truly_out_of_range_are_still_refused_in_one_line(tmp_path, capsys, angle):
    bad = two_rods()
    bad.loc[1, "angle"] = angle
    path = tmp_path / "bad.csv"
    bad.drop(columns=TIPS).to_csv(path, index=False)
    err = refusal(capsys, "evaluate", path, path, "--kind", "rods")
    assert f"{path}: angle {angle:g} on row 2 is out of range [0, 180) degrees (180 is read as 0)" in err
    assert "angle % 180" in err


def test_a_chain_with_a_gap_in_a_file_says_how_to_mend_the_file(tmp_path, capsys):
    path = tmp_path / "edited.csv"
    chain_file(path, [0, 1, 3])
    # Before: both told the command-line user to call napari_particle_detect.keep_beads(table, keep).
    for command in (["evaluate", path, path, "--kind", "chains"], ["link", path, "-o", tmp_path / "tracks.csv"]):
        err = refusal(capsys, *command)
        assert f"{path}: chain 0 (frame 0) has a gap or repeat in its index at 2" in err
        assert "it has 0, 1, 3" in err and "number its beads 0..2 from one end, or split it into two chains" in err
        assert "keep_beads" not in err
    assert not (tmp_path / "tracks.csv").exists()
    # A table given in Python keeps the advice that fits it.
    table = pd.read_csv(path)
    with pytest.raises(ParticleDetectError, match=r"^predicted: chain 0 .*keep_beads\(table, keep\)"):
        evaluate_chains(table, table)


def test_a_chain_written_across_two_frames_is_said_to_lie_in_one(tmp_path, capsys):
    path = tmp_path / "across.csv"
    chain_file(path, [0, 1, 2, 3], frames=[0, 0, 1, 1])
    err = refusal(capsys, "evaluate", path, path, "--kind", "chains")
    assert f"{path}: chain 0 (frame 1) has a gap or repeat in its index at 0" in err
    assert "chain 0 of frame 0 is another chain: a chain lies in one frame" in err


@pytest.mark.parametrize("column, value, said", [
    ("length", np.inf, "column length holds infinite values"),  # before: "its tips ... give length", tips not given
    ("y", np.inf, "column y holds infinite values"),  # before: "predicted: 1 of 2 points ... (the first: point 0)"
    ("frame", 0.5, "column frame holds values that are not whole numbers from 0"),  # before: scored as a frame
    ("width", -2.0, "width -2 on row 1 is not positive"),  # before: scored
])
def test_a_bad_rods_value_is_refused_naming_the_file_and_row(tmp_path, capsys, column, value, said):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    two_rods().drop(columns=TIPS).to_csv(good, index=False)
    table = two_rods().drop(columns=TIPS).astype({"frame": float})
    table.loc[0, column] = value
    table.to_csv(bad, index=False)
    err = refusal(capsys, "evaluate", bad, good, "--kind", "rods")
    assert f"{bad}: {said}" in err and "row 1" in err


@pytest.mark.parametrize("column, value, said", [
    ("y", np.inf, "column y holds infinite values"),  # before: "predicted: 1 of 3 points have ..."
    ("chain", 0.5, "column chain holds values that are not whole numbers"),  # before: scored as a chain
    ("index", -1.0, "column index holds values that are not whole numbers from 0"),
])
def test_a_bad_chains_value_is_refused_naming_the_file_and_row(tmp_path, capsys, column, value, said):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    table = chain_file(good, [0, 1, 2]).astype({column: float})
    table.loc[1, column] = value
    table.to_csv(bad, index=False)
    err = refusal(capsys, "evaluate", bad, good, "--kind", "chains")
    assert f"{bad}: {said}" in err and "row 2 below the header" in err


def test_a_header_separated_by_semicolons_is_said_to_be(tmp_path, capsys):
    path = tmp_path / "excel.csv"
    two_rods().to_csv(path, index=False, sep=";")
    # Before: "not a rods table: no y, x, angle, length column", every one of them in the header.
    err = refusal(capsys, "evaluate", path, path, "--kind", "rods")
    assert f"{path}: not a rods table" in err and "separate its columns with commas, not ';'" in err


def test_tips_given_in_part_are_refused_not_replaced(tmp_path, capsys):
    path = tmp_path / "three_tips.csv"
    table = two_rods()
    table.loc[0, ["y1", "x1"]] = [35.0, 35.0]  # moved by hand, y2 lost
    table.drop(columns="y2").to_csv(path, index=False)
    # Before: scored, the three tips given replaced by those of the centre, angle and length.
    err = refusal(capsys, "evaluate", path, path, "--kind", "rods")
    assert f"{path}: has tip columns y1, x1, x2 but no y2: give all four tips" in err
