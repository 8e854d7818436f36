"""The volume dock across closing and opening again, and the sliders of a file's channels taken as volumes: the image
it last worked on is picked again with its centres, and the z slider is named z, not napari's '-3'."""

import numpy as np
import pandas as pd
import tifffile

DOCK = ("napari-particle-detect", "Volume detection (3D)")


def _split_channels(viewer, tmp_path):
    path = tmp_path / "zcyx.tif"
    rng = np.random.default_rng(5)
    tifffile.imwrite(path, rng.integers(0, 255, (12, 2, 40, 40), dtype=np.uint8), imagej=True,
                     metadata={"axes": "ZCYX"})
    return viewer.open(str(path), plugin="napari", channel_axis=1)


def test_a_reopened_dock_picks_the_channel_it_worked_on_and_its_centres_come_back(make_napari_viewer, project_home,
                                                                                  tmp_path):
    # Closing said the centres put away "come back when the dock is opened again"; the dock opened on the first
    # channel, and the second's came back only once the user found and picked it.
    viewer = make_napari_viewer()
    _, second = _split_channels(viewer, tmp_path)
    _, dock = viewer.window.add_plugin_dock_widget(*DOCK)
    dock.layer_combo.setCurrentText(second.name)
    centres = pd.DataFrame({"frame": 0, "z": [3.0, 7.0], "y": [10.0, 30.0], "x": [12.0, 28.0], "score": np.nan,
                            "source": "added"})
    dock.review.save_edits(0, centres)
    dock.reload_points()
    viewer.window.remove_dock_widget(dock)
    assert [layer.name for layer in viewer.layers] == ["zcyx", "zcyx [1]"]  # put away

    _, dock = viewer.window.add_plugin_dock_widget(*DOCK)
    assert dock.layer() is second
    assert dock.points is not None and dock.points in viewer.layers
    np.testing.assert_allclose(np.asarray(dock.points.data), centres[["z", "y", "x"]].to_numpy())


def test_a_dock_opened_afresh_still_starts_on_the_first_image(make_napari_viewer, project_home, tmp_path):
    viewer = make_napari_viewer()
    first, _ = _split_channels(viewer, tmp_path)
    _, dock = viewer.window.add_plugin_dock_widget(*DOCK)
    assert dock.layer() is first


def test_a_channel_taken_as_a_volume_names_its_z_slider(make_napari_viewer, project_home, tmp_path):
    viewer = make_napari_viewer()
    _split_channels(viewer, tmp_path)
    assert viewer.dims.axis_labels[0] == "-3"  # napari's number for the axis left of the channels
    _, dock = viewer.window.add_plugin_dock_widget(*DOCK)
    assert dock.review is not None
    assert viewer.dims.axis_labels == ("z", "y", "x")


def test_labels_given_to_the_sliders_stay(make_napari_viewer, project_home):
    viewer = make_napari_viewer()
    rng = np.random.default_rng(6)
    viewer.add_image(rng.random((10, 32, 32)).astype(np.float32), name="stack")
    viewer.dims.axis_labels = ("depth", "0", "1")
    _, dock = viewer.window.add_plugin_dock_widget(*DOCK)
    assert dock.review is not None
    assert viewer.dims.axis_labels == ("depth", "y", "x")  # the user's own name kept


def test_a_time_series_of_volumes_names_t_and_z(make_napari_viewer, project_home):
    viewer = make_napari_viewer()
    rng = np.random.default_rng(7)
    viewer.add_image(rng.random((3, 8, 24, 24)).astype(np.float32), name="series")
    _, dock = viewer.window.add_plugin_dock_widget(*DOCK)
    assert dock.review is not None
    assert viewer.dims.axis_labels == ("t", "z", "y", "x")
