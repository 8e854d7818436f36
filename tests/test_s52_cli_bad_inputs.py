"""Bad inputs get one line that names the file and the problem precisely enough to mend it: a name that is nothing at
all is "file not found", not a message about something else; a table's bad value is named with its row."""

from __future__ import annotations

import pytest

from napari_particle_detect.projects.project import PROJECT_SUFFIX

from test_cli_refusals import refused


def test_rounds_of_a_mistyped_image_says_file_not_found(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NAPARI_PARTICLE_DETECT_HOME", str(tmp_path / "home"))
    missing = tmp_path / "cels.tif"  # cells.tif, mistyped
    line = refused(capsys, "rounds", missing)
    assert line == f"particle-detect: error: {missing}: file not found (no image or project folder of that name)"
    assert not (tmp_path / f"cels{PROJECT_SUFFIX}").exists()


def test_rounds_of_an_image_without_a_project_still_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NAPARI_PARTICLE_DETECT_HOME", str(tmp_path / "home"))
    image = tmp_path / "cells.tif"
    image.write_bytes(b"an image, unreviewed")
    assert refused(capsys, "rounds", image).startswith(f"particle-detect: error: {image}: no review project there")


@pytest.mark.parametrize("command", ["evaluate", "link"])
def test_a_table_with_text_in_a_number_column_is_refused_naming_its_first_bad_row(tmp_path, capsys, command):
    good = tmp_path / "truth.csv"
    good.write_text("frame,y,x\n0,1.0,2.0\n1,2.0,3.0\n")
    rows = ["0,1.0,2.0"] * 500 + ['0,"5,135",3.0', "1,2.0,3.0", "1,2.0,"]  # a decimal comma; a value left out
    table = tmp_path / "centres.csv"
    table.write_text("\n".join(["frame,y,x", *rows]) + "\n")
    arguments = [table, good] if command == "evaluate" else [table, "-o", tmp_path / "tracks.csv"]
    line = refused(capsys, command, *arguments)
    assert line == (f"particle-detect: error: {table}: y/x columns contain non-numeric or missing values (2 of 503 "
                    "rows; the first is row 501 below the header: y '5,135')")
    assert not (tmp_path / "tracks.csv").exists()

    table.write_text("frame,y,x\n0,1.0,2.0\nlast,2.0,3.0\n")
    assert refused(capsys, command, *arguments).endswith(
        "frame column contains non-numeric values (1 of 2 rows; the first is row 2 below the header: frame 'last')")


@pytest.mark.parametrize("bad_in", ["predicted", "truth"])
def test_evaluate_of_volumes_with_text_in_z_is_one_line_naming_the_row(tmp_path, capsys, bad_in):
    good = tmp_path / "good.csv"
    good.write_text("frame,z,y,x\n0,3.0,10.0,10.0\n0,5.0,20.0,20.0\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("frame,z,y,x\n0,3.0,10.0,10.0\n0,top,20.0,20.0\n")  # a note typed into the z column
    tables = [bad, good] if bad_in == "predicted" else [good, bad]
    line = refused(capsys, "evaluate", *tables, "--tolerance", "3")
    assert line == (f"particle-detect: error: {bad}: z column contains non-numeric or missing values (1 of 2 rows; "
                    "the first is row 2 below the header: z 'top')")


def test_link_of_volumes_with_text_in_z_names_the_file_and_row(tmp_path, capsys):
    table = tmp_path / "centres.csv"
    table.write_text("frame,z,y,x\n0,3.0,10.0,10.0\n1,,10.5,10.0\n")  # a z left out
    line = refused(capsys, "link", table, "-o", tmp_path / "tracks.csv")
    assert line == (f"particle-detect: error: {table}: z column contains non-numeric or missing values (1 of 2 rows; "
                    "the first is row 2 below the header: z missing)")
    assert not (tmp_path / "tracks.csv").exists()
