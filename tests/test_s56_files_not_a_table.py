"""evaluate and link given an image, or the .json record beside detect's CSV (a tab away from it), where a table of
centres goes: one line saying what the file is and what to give (before: "cannot read CSV (UnicodeDecodeError: 'utf-8'
codec can't decode byte 0xb6 ...)", "cannot read CSV (ParserError: ... Expected 2 fields in line 24, saw 3)" and
"needs columns y and x (got {)")."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect.cli.main import main


@pytest.fixture()
def tables(tmp_path):
    centres = tmp_path / "centres.csv"
    pd.DataFrame({"frame": [0, 0], "y": [5.0, 20.0], "x": [6.0, 30.0], "score": [0.9, 0.8]}).to_csv(centres,
                                                                                                   index=False)
    # Detect's record beside its table: nested, so its lines read as rows of different lengths.
    centres.with_suffix(".json").write_text(json.dumps({"threshold": 0.3, "inputs": [{"file": "a.tif",
                                                                                       "shape": [1, 40, 40]}]},
                                                       indent=2))
    image = tmp_path / "image.tif"
    tifffile.imwrite(image, np.arange(40 * 40, dtype=np.uint16).reshape(40, 40))
    (tmp_path / "synth.json").write_text(json.dumps({"shape": [40, 40]}))
    return centres, image, tmp_path / "synth.json"


def _error(capsys, *argv) -> str:
    assert main([str(a) for a in argv]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_an_image_given_as_a_table_is_named_an_image(tmp_path, capsys, tables):
    centres, image, _ = tables
    expected = f"particle-detect: error: {image}: a TIFF image, not a table of centres; give a CSV of centres"
    assert _error(capsys, "evaluate", centres, image).startswith(expected)
    assert _error(capsys, "link", image, "-o", tmp_path / "tracks.csv").startswith(expected)


def test_the_json_beside_a_table_points_to_the_table(tmp_path, capsys, tables):
    centres, _, synth = tables
    record = centres.with_suffix(".json")
    assert _error(capsys, "evaluate", record, centres) == (
        f"particle-detect: error: {record}: a JSON record, not a table of centres; give the table beside it, {centres}")
    assert _error(capsys, "evaluate", centres, synth) == (
        f"particle-detect: error: {synth}: a JSON record, not a table of centres; give a CSV of centres")
