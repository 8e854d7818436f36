"""A table of y1, x1, y2, x2 without y and x (rods' tips, or a detector's boxes' corners) read as rods only with a line
saying so and what to add for boxes: before, link drew and linked boxes as their diagonals without a word, and
evaluate told the owner of boxes to give --kind rods, scoring the diagonals."""

from __future__ import annotations

import pandas as pd

from napari_particle_detect.cli.main import main

# Two boxes per frame over two frames, corners as many detectors write them.
BOXES = pd.DataFrame({"frame": [0, 0, 1, 1], "y1": [10.0, 40.0, 11.0, 41.0], "x1": [10.0, 40.0, 11.0, 41.0],
                      "y2": [20.0, 50.0, 21.0, 51.0], "x2": [20.0, 56.0, 21.0, 57.0]})
BOXES_HINT = "if they are boxes' corners, not rods' tips, add columns y and x (the boxes' centres) to read them as centres"


def test_link_says_in_one_line_how_a_table_of_corners_was_read(tmp_path, capsys):
    table = tmp_path / "boxes.csv"
    BOXES.to_csv(table, index=False)
    assert main(["link", str(table), "-o", str(tmp_path / "tracks.csv")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert f"{table}: y1, x1, y2, x2 without y and x read as rods' tips (line ends); {BOXES_HINT}" in err
    # With the centres given, the table is one of centres, its corners extra columns: nothing to say.
    BOXES.assign(y=BOXES[["y1", "y2"]].mean(axis=1), x=BOXES[["x1", "x2"]].mean(axis=1)).to_csv(table, index=False)
    assert main(["link", str(table), "-o", str(tmp_path / "centres.csv")]) == 0
    assert "boxes' corners" not in capsys.readouterr().err


def test_evaluate_without_kind_names_both_readings_of_a_table_of_corners(tmp_path, capsys):
    table, truth = tmp_path / "boxes.csv", tmp_path / "truth.csv"
    BOXES.to_csv(table, index=False)
    pd.DataFrame({"frame": [0, 0], "y": [15.0, 45.0], "x": [15.0, 48.0]}).to_csv(truth, index=False)
    assert main(["-q", "evaluate", str(table), str(truth)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"particle-detect: error: {table}: a rods table (y1, x1, y2, x2 columns), read here as sphere centres; give "
        f"--kind rods; {BOXES_HINT}"]


def test_a_table_of_corners_opened_in_napari_says_how_it_was_read(make_napari_viewer, tmp_path):
    from helpers import opened_with_messages

    table = tmp_path / "boxes.csv"
    BOXES.to_csv(table, index=False)
    layers, said = opened_with_messages(make_napari_viewer(), table)
    assert [layer.name for layer in layers] == ["boxes"]
    assert f"boxes.csv: y1, x1, y2, x2 without y and x read as rods' tips (line ends); {BOXES_HINT}" in said
