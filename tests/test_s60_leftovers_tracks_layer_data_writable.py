"""tracks_layer_data handed napari a read-only array where every column of the tracks table is float (pandas 3's
copy-on-write gives one block's to_numpy as a read-only view): the project hands napari writable arrays only, and
one written into must leave the table as it was."""

from __future__ import annotations

import numpy as np
import pandas as pd

from napari_particle_detect.files.tracks import tracks_layer_data


def test_the_tracks_layer_data_of_a_table_all_float_is_writable_and_its_own():
    flat = pd.DataFrame({"particle": [1.0, 0.0, 0.0], "frame": [0.0, 1.0, 0.0], "y": [3.0, 2.0, 1.0],
                         "x": [6.0, 5.0, 4.0]})
    volume = flat.assign(z=[7.0, 8.0, 9.0])[["particle", "frame", "z", "y", "x"]]
    for table in (flat, volume):
        before = table.copy(deep=True)
        data = tracks_layer_data(table)
        assert data.flags.writeable
        np.testing.assert_array_equal(data[:, :2], [[0, 0], [0, 1], [1, 0]])  # by track, then frame
        data[:, 2:] += 10.0  # as napari moves a layer's vertices in place
        pd.testing.assert_frame_equal(table, before)
