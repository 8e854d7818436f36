"""A table with micrometre columns read over an image drawn in pixels keeps them as features; File > Save after a
point is moved or added writes that point's micrometres from where it now is, not its old ones (or those of the
point selected before it was added), and leaves every other row's as they were."""

from __future__ import annotations

import numpy as np
import pandas as pd

from napari_particle_detect.files.centre_csv import write_centres
from napari_particle_detect.files.tables import with_physical

PLUGIN = "napari-particle-detect"
SCALE, TRANSLATE = (0.13, 0.13), (5.0, 2.5)


def _table_with_micrometres(path) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"frame": 0, "y": rng.uniform(5, 90, 12), "x": rng.uniform(5, 90, 12), "score": 0.9,
                          "source": "model", "mass": np.arange(12.0)})
    write_centres(with_physical(table, SCALE, TRANSLATE, "um"), path)
    return pd.read_csv(path)


def test_saved_micrometres_follow_points_moved_and_added_over_an_image_in_pixels(make_napari_viewer, tmp_path):
    written = _table_with_micrometres(tmp_path / "img.csv")
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((100, 100)), name="img")
    [points] = viewer.open(str(tmp_path / "img.csv"), plugin=PLUGIN)
    assert {"y_um", "x_um"} <= set(points.features.columns)  # drawn in pixels: the columns are features
    data = points.data.copy()
    data[1, -2:] += (2.0, -3.0)
    points.data = data
    points.selected_data = {0}
    points.add([0.0, 50.0, 60.0])
    viewer.layers.selection = {points}
    [saved] = viewer.layers.save(str(tmp_path / "edited.csv"), selected=True, plugin=PLUGIN)

    back = pd.read_csv(saved)
    assert len(back) == len(written) + 1
    for axis, size, offset in zip("yx", SCALE, TRANSLATE):
        np.testing.assert_allclose(back[f"{axis}_um"], back[axis] * size + offset, atol=1e-3)
    untouched = back.merge(written, on=["y", "x"], suffixes=("", "_read"))
    assert len(untouched) == len(written) - 1
    assert (untouched[["y_um", "x_um"]].to_numpy() == untouched[["y_um_read", "x_um_read"]].to_numpy()).all()
