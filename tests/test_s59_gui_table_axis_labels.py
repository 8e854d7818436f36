"""A table read into a viewer names the sliders of its frames (t) and of a volume's slices (z), where napari showed
'-3'; a label the user gave an axis stays (a volume's table renamed the user's 'depth' z), while a label a table gave
is named again by the next table. A stack napari's own reader opened is named as its file's metadata names its axes
once a dock lists it."""

import numpy as np
import pandas as pd
import tifffile

from napari_particle_detect._napari.image_views import layer_kind

PLUGIN = "napari-particle-detect"


def _table(path, **columns):
    pd.DataFrame({**columns, "y": [20.0, 21.0], "x": [30.0, 31.0], "score": [0.9, 0.8]}).to_csv(path, index=False)
    return path


def test_tables_name_the_sliders_napari_numbered_and_keep_the_users_names(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    viewer.open(_table(tmp_path / "movie.csv", frame=[0, 2]), plugin=PLUGIN)
    assert viewer.dims.axis_labels == ("t", "y", "x")
    viewer.open(_table(tmp_path / "vol_3d_centres.csv", z=[3.0, 4.0]), plugin=PLUGIN)
    assert viewer.dims.axis_labels == ("z", "y", "x")  # 't' was a table's name for it, not the user's
    viewer.dims.axis_labels = ("depth", "row", "col")
    viewer.open(_table(tmp_path / "more_3d_centres.csv", z=[5.0, 6.0]), plugin=PLUGIN)
    assert viewer.dims.axis_labels == ("depth", "row", "col")
    viewer.open(_table(tmp_path / "frames.csv", frame=[0, 1]), plugin=PLUGIN)
    assert viewer.dims.axis_labels == ("depth", "row", "col")


def test_a_stack_napari_numbered_is_named_as_its_file_once_a_dock_lists_it(make_napari_viewer, tmp_path):
    pixels = np.zeros((3, 64, 64), np.uint8)
    tifffile.imwrite(tmp_path / "movie.tif", pixels, imagej=True, metadata={"axes": "TYX"})
    tifffile.imwrite(tmp_path / "plain.tif", pixels)
    viewer = make_napari_viewer()
    movie, = viewer.open(tmp_path / "movie.tif", plugin="napari")  # napari's own reader numbers its sliders
    plain, = viewer.open(tmp_path / "plain.tif", plugin="napari")
    user, = viewer.open(tmp_path / "movie.tif", plugin="napari", name="user's")
    user.axis_labels = ("time", "row", "col")
    assert movie.axis_labels == ("-3", "-2", "-1")
    for layer in (movie, plain, user):
        layer_kind(layer)  # what a dock asks of each image it lists
    assert movie.axis_labels == ("t", "y", "x")
    assert plain.axis_labels == ("-3", "-2", "-1")  # frames or a volume: nothing says which
    assert user.axis_labels == ("time", "row", "col")
    viewer.layers.remove(user)
    viewer.open(_table(tmp_path / "vol_3d_centres.csv", z=[3.0, 4.0]), plugin=PLUGIN)
    assert viewer.layers["vol_3d_centres"].axis_labels == ("z", "y", "x")  # the movie's 't' is no volume's z


def test_a_bundled_stack_sample_names_its_frame_slider():
    from napari_particle_detect._napari.sample_data import opaque_discs

    (pixels, kwargs, _), = opaque_discs()
    assert pixels.ndim == 3 and kwargs["axis_labels"] == ("t", "y", "x")  # napari's '-3' beside its frames
