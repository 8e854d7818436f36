"""evaluate pairs the files of two tables by name: one image's detections are never scored against the truth
of another image of the same file name (data/day1/x.tif, data/day2/x.tif), a predicted file without truth is
left out of the scores, and a folder or an empty image given where one file is read is said in one line."""

from __future__ import annotations

import logging
import re

import pandas as pd
import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.io import read_image
from napari_particle_detect.kinds.evaluation import evaluate_frames
from napari_particle_detect.kinds.file_pairing import pair_files

from test_cli_refusals import refused, run_cli

DAY1 = [(10.0, 10.0), (30.0, 40.0)]
DAY2 = [(50.0, 20.0), (70.0, 80.0), (90.0, 15.0)]


def centres(*files: tuple[str, list[tuple[float, float]]]) -> pd.DataFrame:
    """A detect-style table of several files, each with its frame 0 centres."""
    return pd.DataFrame([{"file": name, "frame": 0, "y": y, "x": x} for name, points in files for y, x in points])


# detect data/day1/x.tif data/day2/x.tif -o xx.csv
PREDICTED = centres(("data/day1/x.tif", DAY1), ("data/day2/x.tif", DAY2))




@pytest.mark.parametrize("truth", [centres(("x.tif", DAY2)), centres(("x.tif", DAY1), ("x.tif", DAY2))],
                         ids=["day 2's truth named x.tif", "both days' truth named x.tif"])
def test_a_truth_name_that_fits_two_predicted_files_is_refused_either_way(truth):
    # It scored day 1's detections against day 2's truth (or both days' truth merged) and said nothing.
    two = r"matches 2 files of {} \(data/day1/x\.tif, data/day2/x\.tif\)"
    with pytest.raises(ParticleDetectError, match=r"^x\.tif \(truth\): " + two.format("predicted")):
        evaluate_frames(PREDICTED, truth)
    with pytest.raises(ParticleDetectError, match=r"^x\.tif \(predicted\): " + two.format("truth")):
        evaluate_frames(truth, PREDICTED)


def test_trailing_folders_pair_one_file_and_one_without_truth_is_left_out(caplog):
    truth = centres(("day1/x.tif", DAY1))
    with caplog.at_level(logging.WARNING):
        table = evaluate_frames(PREDICTED, truth)
    # Day 2 was scored as recall 1, F1 0, its three detections false positives of the pooled scores.
    assert list(table["file"]) == ["data/day1/x.tif", "all"]
    assert table.iloc[-1][["tp", "fp", "fn", "f1"]].tolist() == [2, 0, 0, 1.0]
    assert "no truth for data/day2/x.tif: left out of the scores" in caplog.messages
    # The other way round it was refused as ambiguous: day 2 has no predictions, so its centres are missed.
    with pytest.warns(UserWarning, match="file data/day2/x.tif is only in the truth table: its centres count as missed"):
        table = evaluate_frames(truth, PREDICTED)
    assert list(table["file"]) == ["day1/x.tif", "data/day2/x.tif", "all"]
    assert table.iloc[-1][["tp", "fp", "fn"]].tolist() == [2, 0, 3]


def test_file_option_takes_a_name_with_its_folder():
    truth = centres(("day1/x.tif", DAY1), ("day2/x.tif", DAY2))
    predicted, chosen_truth, _, _ = pair_files(PREDICTED, truth, "xx.csv", "truth.csv", select="day2/x.tif")
    assert predicted[["y", "x"]].to_numpy().tolist() == [list(p) for p in DAY2]
    assert chosen_truth[["y", "x"]].to_numpy().tolist() == [list(p) for p in DAY2]
    with pytest.raises(ParticleDetectError, match=r"^x\.tif \(--file\): matches 2 files of xx\.csv"):
        pair_files(PREDICTED, truth, "xx.csv", "truth.csv", select="x.tif")


def test_command_line_names_the_ambiguous_file_and_the_file_without_truth(tmp_path, capsys):
    predicted, truth, day1_truth = tmp_path / "xx.csv", tmp_path / "truth.csv", tmp_path / "day1.csv"
    PREDICTED.to_csv(predicted, index=False)
    centres(("x.tif", DAY2)).to_csv(truth, index=False)
    centres(("day1/x.tif", DAY1)).to_csv(day1_truth, index=False)
    line = refused(capsys, "evaluate", predicted, truth)
    assert line == (f"particle-detect: error: x.tif ({truth}): matches 2 files of {predicted} (data/day1/x.tif, "
                    "data/day2/x.tif); name each file alike in both tables, with its folder where names repeat")
    code, out, err = run_cli(capsys, "evaluate", predicted, day1_truth)
    assert code == 0 and err.strip() == "no truth for data/day2/x.tif: left out of the scores"
    assert "data/day2/x.tif" not in out


@pytest.mark.parametrize("command", [["link", "{folder}", "-o", "{tmp}/tracks.csv"],
                                     ["evaluate", "{tmp}/truth.csv", "{folder}"],
                                     ["evaluate", "{folder}", "{tmp}/truth.csv", "--kind", "rods"]])
def test_a_folder_of_tables_is_said_where_one_table_is_read(tmp_path, capsys, command):
    folder = tmp_path / "out1"  # detect's folder run: one table per image
    folder.mkdir()
    centres(("a.tif", DAY1)).to_csv(folder / "a.csv", index=False)
    centres(("a.tif", DAY1)).to_csv(tmp_path / "truth.csv", index=False)
    line = refused(capsys, *[part.format(folder=folder, tmp=tmp_path) for part in command])
    assert line == (f"particle-detect: error: {folder}: a folder; give one CSV (detect FILES -o ONE.csv writes one "
                    "table of several files)")


def test_an_empty_tiff_is_said_to_be_empty(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NAPARI_PARTICLE_DETECT_HOME", str(tmp_path / "home"))
    empty = tmp_path / "exp" / "empty.tif"
    empty.parent.mkdir()
    empty.write_bytes(b"")
    for lazy in (False, True):
        with pytest.raises(ParticleDetectError, match=rf"^{re.escape(str(empty))}: empty file \(0 bytes\)$"):
            read_image(empty, lazy=lazy)
    line = refused(capsys, "detect", empty, "-o", tmp_path / "empty.csv")
    assert line == f"particle-detect: error: {empty}: empty file (0 bytes)"
    # Read as a volume, or its axes looked up first, it went through the metadata reader: the same line.
    for axes in ("ZYX", "TYX"):
        line = refused(capsys, "detect", empty, "-o", tmp_path / "empty.csv", "--axes", axes)
        assert line == f"particle-detect: error: {empty}: empty file (0 bytes)", axes
