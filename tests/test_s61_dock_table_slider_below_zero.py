"""A volume table opened alone whose lowest centre lies a little below z = 0 (a fit at z = -0.4) counts its z slider
from 0, as over its volume: napari started the slider at -0.4, so slice '5' showed z = 4.6 and a point added there
landed between two voxels."""

import pandas as pd

PLUGIN = "napari-particle-detect"


def _open_table(viewer, path, lowest_z: float):
    pd.DataFrame({"z": [lowest_z, 5.0, 12.0], "y": [20.0, 40.0, 20.0], "x": [20.0, 40.0, 20.0],
                  "score": [0.9, 0.8, 0.9]}).to_csv(path, index=False)
    points, = viewer.open(path, plugin=PLUGIN)
    return points


def test_a_table_alone_from_just_below_z_0_counts_its_slices_from_0(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    points = _open_table(viewer, tmp_path / "vol_3d_centres.csv", -0.4)
    assert viewer.dims.range[0].start == 0.0
    assert float(viewer.dims.point[0]).is_integer()  # opened on a slice, not 0.4 off it
    viewer.dims.set_current_step(0, 5)
    assert viewer.dims.point[0] == 5.0
    points.add([viewer.dims.point[0], 30.0, 30.0])  # as napari's add mode places a click on this slice
    assert points.data[-1][0] == 5.0 and viewer.dims.range[0].start == 0.0


def test_a_centre_half_a_slice_or_more_below_0_keeps_a_slice_of_its_own(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    _open_table(viewer, tmp_path / "dragged_centres.csv", -0.6)
    assert viewer.dims.range[0].start == -1.0  # reachable, and every slice still on a whole voxel
    viewer.dims.set_current_step(0, 6)
    assert viewer.dims.point[0] == 5.0
