"""A detect CSV opened over the dock's own centres of the same image drew a second set of yellow rings, the same as
the dock's: a table opened from a file is drawn in squares (coloured by source as the docks' rings are); a volume
table too, apart from the Volume dock's rings."""

from __future__ import annotations

import numpy as np
import pandas as pd

from napari_particle_detect._napari.layers import points_layer_kwargs
from napari_particle_detect.files.centre_csv import write_centres


def test_an_opened_centre_table_is_drawn_unlike_the_docks_centres(tmp_path, make_napari_viewer):
    flat = pd.DataFrame({"frame": [0, 0], "y": [10.0, 20.0], "x": [12.0, 22.0], "score": [0.9, 0.8],
                         "source": ["model", "model"]})
    write_centres(flat, tmp_path / "img.csv")
    write_centres(flat.assign(z=[3.0, 4.0])[["frame", "z", "y", "x", "score", "source"]], tmp_path / "vol.csv")
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((32, 32), np.float32), name="img")
    docks = viewer.add_points(flat[["y", "x"]].to_numpy(float, copy=True),
                              **points_layer_kwargs(flat, "img centres", size=8.0))  # as the dock draws its own
    for path in (tmp_path / "img.csv", tmp_path / "vol.csv"):
        [opened] = viewer.open(str(path), plugin="napari-particle-detect")
        assert set(opened.symbol) != set(docks.symbol), path
        # The colours still say whose each point is, as the dock's do.
        np.testing.assert_array_equal(opened.border_color, docks.border_color)
