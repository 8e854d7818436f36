"""Tables read back with the plugin's reader and written back with its writer: detect's own output (no source
column, its .json beside it) read as the model's, not as centres added by hand; a folder run's table of many files
said in a line, not a line per file; the .json's records read by one function for link, evaluate and the reader."""

import json

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect._napari.reader import get_reader
from napari_particle_detect.files.file_detection import table_digests

ROWS = {"frame": 0, "y": [10.0, 20.0], "x": [12.0, 22.0], "score": [0.9, 0.4]}
VOLUME_ROWS = {**ROWS, "z": [2.0, 5.0]}
ROD_ROWS = {"frame": 0, "y": [10.0, 30.0], "x": [10.0, 30.0], "angle": [0.0, 90.0], "length": [20.0, 20.0],
            "width": [5.0, 5.0], "y1": [10.0, 20.0], "x1": [0.0, 30.0], "y2": [10.0, 40.0], "x2": [20.0, 30.0],
            "score": [0.9, 0.4]}


def _read(path) -> list:
    return get_reader(str(path))(str(path))


def _detect_output(path, rows: dict, kind: str = "spheres") -> None:
    """A table as detect writes it (no source column) with detect's .json beside it, recording its digest."""
    pd.DataFrame(rows).to_csv(path, index=False)
    meta = {"kind": kind, "inputs": [{"file": "img.tif", "centres": len(rows["y"])}],
            "tables": table_digests(path, kind)}
    path.with_suffix(".json").write_text(json.dumps(meta))


def _sources(layers) -> set[str]:
    return {s for _, kwargs, _ in layers if "source" in kwargs.get("features", {}) for s in kwargs["features"]["source"]}


@pytest.mark.parametrize("rows,kind", [(ROWS, "spheres"), (VOLUME_ROWS, "spheres"), (ROD_ROWS, "rods")],
                         ids=["2d", "volume", "rods"])
def test_detects_own_table_reads_back_as_the_models(tmp_path, rows, kind):
    path = tmp_path / "img.csv"
    _detect_output(path, rows, kind)
    assert _sources(_read(path)) == {"model"}  # read as 'added', the threshold hid none of them


def test_a_table_without_detects_json_or_edited_since_is_read_as_added(tmp_path):
    path = tmp_path / "img.csv"
    _detect_output(path, ROWS)
    with open(path, "a") as table:
        table.write("0,30.0,30.0,\n")  # a centre added by hand since detect wrote it
    assert _sources(_read(path)) == {"added"}
    other = tmp_path / "trackpy.csv"
    pd.DataFrame(ROWS).to_csv(other, index=False)
    assert _sources(_read(other)) == {"added"}


def _folder_table(path, rows: dict, files: list[str]) -> None:
    pd.concat([pd.DataFrame({**rows, "file": f"in/{name}"}) for name in files]).to_csv(path, index=False)


def test_a_folder_runs_table_is_said_in_a_line_not_a_line_per_file(make_napari_viewer, tmp_path):
    from helpers import notification_count, notifications_since

    make_napari_viewer()
    path = tmp_path / "out.csv"
    _folder_table(path, {**ROWS, "y_um": [5.0, 10.0], "x_um": [6.0, 11.0]}, [f"f{i}.tif" for i in range(6)])
    seen = notification_count()
    layers = _read(path)
    assert len([kind for *_, kind in layers if kind == "points"]) == 6
    said = [m for m in notifications_since(seen) if m.startswith("out.csv")]
    assert said == ["out.csv [f0.tif, f1.tif, f2.tif, f3.tif, ... (6 in all)]: drawn by their y_um,x_um columns, "
                    "their images not being open to place them over; open them first (napari's own reader draws a "
                    "TIFF in pixels, and the table then lies on it)"], said


def test_a_folder_runs_volume_parts_drawn_alike_are_said_once(make_napari_viewer, tmp_path):
    from helpers import notification_count, notifications_since

    viewer = make_napari_viewer()
    for name in ("a", "b", "c"):
        viewer.add_image(np.zeros((6, 24, 24), np.float32), name=name, scale=(2.0, 1.0, 1.0))
    path = tmp_path / "out.csv"
    _folder_table(path, VOLUME_ROWS, ["a.tif", "b.tif", "c.tif"])
    seen = notification_count()
    scales = {tuple(kwargs["scale"]) for _, kwargs, kind in _read(path) if kind == "points"}
    assert scales == {(2.0, 1.0, 1.0)}  # each part over its own image
    said = [m for m in notifications_since(seen) if m.startswith("out.csv")]
    assert said == ["out.csv [a.tif, b.tif, c.tif]: drawn in the voxels of their images (at scale 2 x 1 x 1), as "
                    "their z,y,x columns are, having no z_um,y_um,x_um columns to place them by"], said
