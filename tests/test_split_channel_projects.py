"""A file's channels napari opens as layers of their own (viewer.open(path, channel_axis=1)) all have the file as
their source: both docks opened the file's one project for every channel, so a point added on channel 0 showed on
channel 1, and a channel of other pixels was refused as "not the image this project was made for". Each channel
now has the project of the dock's own view of that channel, and Export and Tracks still read the file's
calibration."""

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect._napari.export_panel import default_export_path, export_placement
from napari_particle_detect.projects.project import Project

from helpers import make_widget, notification_count, notifications_since, small_stack

pytestmark = pytest.mark.usefixtures("project_home")

CALIBRATION = {"resolution": (4.0, 4.0), "metadata": {"unit": "um", "finterval": 0.5}}  # 0.25 µm/px, 0.5 s


def two_channel_movie(tmp_path):
    """A Fiji TCYX hyperstack of 3 frames whose 2 channels differ, and its pixels."""
    particles = (small_stack(3, 32) * 4000).astype(np.uint16)
    tcyx = np.stack([particles, particles[:, ::-1].copy()], axis=1)
    path = tmp_path / "hyper.tif"
    tifffile.imwrite(path, tcyx, imagej=True, resolution=CALIBRATION["resolution"],
                     metadata={"axes": "TCYX", **CALIBRATION["metadata"]})
    return path, tcyx


def pick(widget, layer) -> None:
    widget.image_combo.setCurrentIndex(widget.image_combo.findData(id(layer)))


def test_each_channel_opened_as_a_layer_has_the_project_of_the_docks_view_of_it(make_napari_viewer, tmp_path):
    path, tcyx = two_channel_movie(tmp_path)
    viewer = make_napari_viewer()
    first, second = viewer.open(path, plugin="napari", channel_axis=1)
    whole = viewer.open(path, plugin="napari")[0]  # the same file as one layer, for the dock's own views
    widget = make_widget(viewer, None)
    _, rods = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Rods and chains")

    pick(widget, first)
    on_first = widget.annotation
    on_first.ensure_points_layer().add([[0, 10.0, 10.0]])
    on_first.flush()
    pick(widget, second)
    on_second = widget.annotation
    # Not refused as "not the image this project was made for" (channel 0's first frame).
    assert on_second is not None and on_second.image is second, widget.project_label.text()
    assert len(on_second.ensure_points_layer().data) == 0  # channel 0's point is channel 0's
    assert len(on_second.project.load_all()) == 0 and len(on_first.project.load_frame(0)) == 1
    assert on_first.project.folder == tmp_path / "hyper-frames0-at1_0.particle-detect"
    assert on_second.project.folder == tmp_path / "hyper-frames0-at1_1.particle-detect"
    assert not (tmp_path / "hyper.particle-detect").exists()
    assert default_export_path(on_second) == tmp_path / "hyper-frames0-at1_1_centres.csv"  # not channel 0's CSV
    placed, read_from = export_placement(on_second)
    assert placed.scale == pytest.approx((0.25, 0.25)) and read_from == path  # the file's calibration
    assert widget.tracks.mpp_spin.text() == "0.25" and widget.tracks.interval_spin.text() == "0.5 s"

    pick(widget, whole)  # the dock's view of channel 1 is the layer of channel 1: one project
    widget.view_combo.setCurrentIndex(1)
    view = widget.use_view()
    np.testing.assert_array_equal(view.data, tcyx[:, 1])
    assert widget.annotation.project.folder == on_second.project.folder

    rods.image_combo.setCurrentText(first.name)
    assert rods.session.project.folder == tmp_path / "hyper-frames0-at1_0.rods.particle-detect"
    rods.image_combo.setCurrentText(second.name)
    assert rods.session.image is second
    assert rods.session.project.folder == tmp_path / "hyper-frames0-at1_1.rods.particle-detect"
    rods.image_combo.setCurrentText(view.name)
    assert rods.session.project.folder == tmp_path / "hyper-frames0-at1_1.rods.particle-detect"


def test_the_files_project_a_channel_made_before_is_named_not_lost(make_napari_viewer, tmp_path):
    path, tcyx = two_channel_movie(tmp_path)
    # What a channel opened as a layer saved before each channel had a project of its own: the file's.
    shared = Project.open(tmp_path / "hyper.particle-detect", image=str(path), n_frames=3, frame_shape=(32, 32),
                          first_frame=tcyx[0, 1])
    shared.save_frame(0, pd.DataFrame({"frame": [0], "y": [5.0], "x": [6.0], "score": [np.nan], "source": ["added"]}))
    viewer = make_napari_viewer()
    first, second = viewer.open(path, plugin="napari", channel_axis=1)
    widget = make_widget(viewer, None)
    start = notification_count()
    pick(widget, second)
    said = [line for line in notifications_since(start) if "found a project made for this image" in line]
    assert len(said) == 1 and str(shared.folder) in said[0] and said[0].endswith("Folder… to use it"), said
    assert str(shared.folder) in widget.project_label.text()
    pick(widget, first)  # made for channel 1's pixels: not named for channel 0
    assert [line for line in notifications_since(start) if "found a project" in line] == said
    assert str(shared.folder) not in widget.project_label.text()
    pick(widget, second)
    widget.choose_project_folder(shared.folder)
    assert widget.annotation.project.folder == shared.folder and len(widget.annotation.points.data) == 1
