"""A plain table in pixels (trackpy's frame,y,x,...: no y_um,x_um to place it) opened with the plugin's reader over an
image drawn at a scale (the bulk-water sample, 0.351 µm a pixel): drawn at scale 1, it lay 3x off its particles,
napari warning of inconsistent units and no line saying why. Its y, x are that image's pixels, as a volume table's
z, y, x are its image's voxels: it is drawn at that image's scale and translate, one info line says so, and File >
Save still writes y, x in pixels."""

from __future__ import annotations

import numpy as np
import pandas as pd
from helpers import opened_with_messages

PLUGIN = "napari-particle-detect"
TRACKPY = pd.DataFrame({"frame": [0, 0, 1], "y": [10.0, 30.0, 20.0], "x": [12.0, 40.0, 25.0],
                        "mass": [120.0, 80.0, 95.0], "particle": [0, 1, 0]})


def _world(layer) -> np.ndarray:
    return np.asarray(layer.data)[:, -2:] * layer.scale[-2:] + layer.translate[-2:]


def test_a_pixel_table_lies_on_an_image_drawn_in_micrometres(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    image = viewer.add_image(np.zeros((2, 48, 64), np.uint16), name="water", scale=(1, 0.351, 0.351),
                             translate=(0, 2.0, 3.0), units=("pixel", "um", "um"))
    TRACKPY.to_csv(tmp_path / "water_tp.csv", index=False)
    (points, tracks), said = opened_with_messages(viewer, tmp_path / "water_tp.csv")
    pixels = TRACKPY[["y", "x"]].to_numpy()
    np.testing.assert_allclose(_world(points), pixels * 0.351 + [2.0, 3.0])  # where the image draws those pixels
    np.testing.assert_allclose(tracks.scale, image.scale)  # the tracks go with their points
    assert [str(u) for u in points.units] == ["pixel", "micrometer", "micrometer"]
    assert not [line for line in said if "nconsistent units" in line]
    assert [line for line in said if "water_tp.csv" in line] == [
        "water_tp.csv: drawn in the pixels of 'water' (at scale 0.351 x 0.351), as its y,x columns are, having no "
        "y_um,x_um columns to place it by"]

    saved = pd.read_csv(points.save(str(tmp_path / "saved.csv"), plugin=PLUGIN)[0])
    np.testing.assert_allclose(saved[["y", "x"]].to_numpy(), pixels)  # still pixels, with µm beside them
    np.testing.assert_allclose(saved[["y_um", "x_um"]].to_numpy(), pixels * 0.351 + [2.0, 3.0])


def test_a_pixel_table_without_frames_over_an_image_at_a_scale_in_pixels(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((48, 64), np.uint16), name="cells", scale=(2.0, 2.0))
    TRACKPY.drop(columns=["frame", "particle"]).to_csv(tmp_path / "cells_tp.csv", index=False)
    [points], said = opened_with_messages(viewer, tmp_path / "cells_tp.csv")
    np.testing.assert_allclose(_world(points), TRACKPY[["y", "x"]].to_numpy() * 2.0)
    assert any(line.startswith("cells_tp.csv: drawn in the pixels of 'cells' (at scale 2 x 2)") for line in said)


def test_over_an_image_at_scale_1_a_pixel_table_is_drawn_as_before(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((2, 48, 64), np.uint16), name="plain")
    TRACKPY.to_csv(tmp_path / "plain_tp.csv", index=False)
    (points, _tracks), said = opened_with_messages(viewer, tmp_path / "plain_tp.csv")
    assert tuple(points.scale) == (1.0, 1.0, 1.0) and not [line for line in said if "plain_tp.csv" in line]
