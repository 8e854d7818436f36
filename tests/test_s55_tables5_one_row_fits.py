"""A table of one row opened with the plugin's reader: one position fits a scale to any pair of y_*, x_* columns
(y_err, x_err), and by them its point was drawn at (y_err, x_err), in the corner of an image drawn in µm, the errors
dropped from the table, and the info line said it was drawn (or not) by its y_err,x_err columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import notification_count, notifications_since

from napari_particle_detect.files.centre_csv import write_centres

PLUGIN = "napari-particle-detect"


def _one_row(path, **columns) -> None:
    write_centres(pd.DataFrame({"frame": [0], "y": [40.0], "x": [60.0], "score": [0.9], "source": "model",
                                **columns}), path)


def _open_over(viewer, path, **image) -> tuple:
    viewer.add_image(np.zeros((1, 100, 100), np.float32), name="one", **image)
    seen = notification_count()
    [points] = viewer.open(str(path), plugin=PLUGIN)
    return points, [m for m in notifications_since(seen) if m.startswith("one.csv")]


@pytest.mark.parametrize("image", [{"scale": (1, 0.2, 0.2), "units": ("pixel", "um", "um")}, {}], ids=["um", "px"])
def test_a_one_row_tables_error_columns_neither_place_it_nor_are_said_to(make_napari_viewer, tmp_path, image):
    _one_row(tmp_path / "one.csv", y_err=[0.05], x_err=[0.04])
    points, said = _open_over(make_napari_viewer(), tmp_path / "one.csv", **image)
    # Drawn in the image's pixels, at its scale (a table with no columns to place it by: tables6), never by y_err.
    np.testing.assert_allclose(points.scale, image.get("scale", 1.0))
    assert list(points.features[["y_err", "x_err"]].iloc[0]) == [0.05, 0.04]
    assert not [m for m in said if "y_err" in m], said
    saved = open(points.save(str(tmp_path / "saved.csv"), plugin=PLUGIN)[0]).read().splitlines()
    # Saved as Export writes a layer drawn in um: its pixels, and their micrometres after the table's own columns.
    assert saved[1:] == (["0,40.000,60.000,0.900,model,0.05,0.04,8.0,12.0"] if image
                         else ["0,40.000,60.000,0.900,model,0.05,0.04"])


def test_a_one_row_table_in_micrometres_is_still_drawn_by_them(make_napari_viewer, tmp_path):
    _one_row(tmp_path / "one.csv", y_um=[8.0], x_um=[12.0])
    points, said = _open_over(make_napari_viewer(), tmp_path / "one.csv", scale=(1, 0.2, 0.2),
                              units=("pixel", "um", "um"))
    np.testing.assert_allclose(points.scale[-2:], 0.2)
    assert said == ["one.csv: drawn by its y_um,x_um columns, as 'one' is drawn in micrometer"]
