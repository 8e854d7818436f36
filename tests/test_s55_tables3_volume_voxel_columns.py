"""A volume's centres table (frame,z,y,x,score,z_um,y_um,x_um,source) opened over its image drawn at scale 1 in
pixels (as napari's own reader opens a TIFF) is drawn in voxels, its micrometre columns kept as features; File >
Save dropped them, the layer's scale (1, in pixels) giving no voxel size to write them from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.projects.volume_review import export_volume_table

PLUGIN = "napari-particle-detect"


def _volume_csv(path) -> pd.DataFrame:
    table = pd.DataFrame({"frame": 0, "z": [3.0, 5.5, 8.25, 2.0], "y": [10.0, 20.5, 30.0, 40.0],
                          "x": [12.0, 22.0, 32.5, 44.0], "score": [0.9, 0.8, 0.7, 0.6], "source": "model"})
    # A crop placed at its stage position: origin (1, 2, 3) voxels of (2, 0.5, 0.5) um.
    export_volume_table(table, path, (2.0, 0.5, 0.5), (1.0, 2.0, 3.0), pd.DataFrame({"area": [1.5, 2.5, 3.5, 4.5]}))
    return pd.read_csv(path)


def test_a_volume_table_drawn_in_voxels_keeps_its_micrometre_columns_through_save(make_napari_viewer, tmp_path):
    before = _volume_csv(tmp_path / "vol.csv")
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((12, 50, 50), np.float32), name="vol")
    [points] = viewer.open(str(tmp_path / "vol.csv"), plugin=PLUGIN)
    assert tuple(points.scale) == (1.0, 1.0, 1.0)  # drawn in voxels, over the image
    points.save(str(tmp_path / "same.csv"), plugin=PLUGIN)
    assert (tmp_path / "same.csv").read_text() == (tmp_path / "vol.csv").read_text()
    moved = points.data.copy()
    moved[0] += [1.0, 2.0, 4.0]  # the first centre (z 2, y 40, x 44) moved
    points.data = moved
    saved = pd.read_csv(points.save(str(tmp_path / "saved.csv"), plugin=PLUGIN)[0])
    assert list(saved.columns) == list(before.columns)
    row = saved[(saved["y"] == 42.0) & (saved["x"] == 48.0)].iloc[0]
    assert (row["z_um"], row["y_um"], row["x_um"]) == pytest.approx(((3 + 1) * 2.0, (42 + 2) * 0.5, (48 + 3) * 0.5))
    still = saved[saved["y"] != 42.0].reset_index(drop=True)
    assert still[["z_um", "y_um", "x_um", "area"]].equals(before.iloc[1:][["z_um", "y_um", "x_um", "area"]]
                                                          .reset_index(drop=True))
