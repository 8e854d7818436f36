"""A table opened alone (no image) shows its sliders' positions in pixels (voxels, frames), as over its image:
napari counts a slider from the start of its range, and points alone started it at their lowest position, so
z = 20 of centres from z = 10 on read '10', and frame 5 of a table from frame 5 on read '0'."""

import numpy as np
import pandas as pd

PLUGIN = "napari-particle-detect"


def test_a_table_alone_counts_its_z_and_frame_sliders_as_over_its_image(make_napari_viewer, tmp_path):
    volume = tmp_path / "vol_3d_centres.csv"
    pd.DataFrame({"frame": [0, 0, 1], "z": [10.0, 30.0, 12.0], "y": [20.0, 40.0, 20.0], "x": [20.0, 40.0, 20.0],
                  "score": [0.9, 0.8, 0.9]}).to_csv(volume, index=False)
    viewer = make_napari_viewer()
    points, = viewer.open(volume, plugin=PLUGIN)
    assert viewer.dims.point[1] == 20.0  # opened in the middle of its centres, as napari opens it, not of 0 to 30
    viewer.dims.set_point(1, 20.0)
    assert viewer.dims.current_step[1] == 20  # the slider's number: z in voxels, not 10 steps from z = 10
    assert viewer.dims.range[1].start == 0.0 and viewer.dims.range[1].stop == 30.0
    image = viewer.add_image(np.zeros((2, 40, 64, 64), np.uint8), name="vol")
    assert viewer.dims.current_step[1] == 20  # the same over its volume
    viewer.layers.remove(image)
    assert viewer.dims.current_step[1] == 20 and viewer.dims.range[1].start == 0.0
    viewer.dims.set_point(1, 25.0)
    points.add([1, 25.0, 30.0, 30.0])  # an edit recomputes napari's ranges: still counted from z = 0, and
    assert viewer.dims.range[1].start == 0.0 and viewer.dims.point[1] == 25.0  # the view stays on its slice
    viewer.layers.remove(points)

    # Placed by its z_um, y_um, x_um columns (voxels 2 µm deep): the slider counts voxels, not 2 µm steps from 20 µm.
    placed = tmp_path / "placed.csv"
    pd.DataFrame({"z": [10.0, 14.0], "y": [10.0, 30.0], "x": [12.0, 32.0], "score": [0.9, 0.9], "z_um": [20.0, 28.0],
                  "y_um": [10.0, 30.0], "x_um": [12.0, 32.0]}).to_csv(placed, index=False)
    placed_points, = viewer.open(placed, plugin=PLUGIN)
    assert tuple(placed_points.scale) == (2.0, 1.0, 1.0)
    viewer.dims.set_point(0, 24.0)
    assert viewer.dims.current_step[0] == 12
    viewer.layers.remove(placed_points)

    # A movie's table from frame 5 on: its frame slider reads 5 at frame 5.
    movie = tmp_path / "movie_centres.csv"
    pd.DataFrame({"frame": [5, 6, 7], "y": [10.0, 11.0, 12.0], "x": [10.0, 11.0, 12.0]}).to_csv(movie, index=False)
    viewer.open(movie, plugin=PLUGIN)
    assert viewer.dims.point[0] == 6.0  # on a frame of its centres, not on frame 3, the middle of 0 to 7
    viewer.dims.set_point(0, 5.0)
    assert viewer.dims.current_step[0] == 5


def test_the_users_own_points_alone_keep_napari_ranges(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_points(np.array([[10.0, 20.0, 20.0], [30.0, 40.0, 40.0]]))
    assert viewer.dims.range[0].start == 10.0  # not a table of ours: napari's rule stands
