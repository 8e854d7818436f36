"""The Rods and chains dock reads what an image's file says of its axes, as the Particle detection dock does: a
file's channels napari opens as one layer (a TCYX OME-TIFF as 4D, an ImageJ CYX hyperstack as 3D) are named and
chosen by the user, never read as frames. The dock took a CYX's channels as 2 frames (and made a project of them),
and refused a TCYX only at Detect, as "expected a 2D image or a 3D T/Z stack", naming no axis nor channel."""

import numpy as np
import pytest
import tifffile

from helpers import notification_count, notifications_since, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def listed(combo) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def rods_dock(viewer):
    _, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Rods and chains")
    return widget


def test_a_files_channels_are_named_and_chosen_never_read_as_frames(make_napari_viewer, tmp_path):
    particles = small_stack(3, 32)
    noise = np.random.default_rng(0).normal(1000, 30, particles.shape).astype(particles.dtype)
    tcyx = np.stack([noise, particles], axis=1)
    tifffile.imwrite(tmp_path / "movie.ome.tif", tcyx, metadata={"axes": "TCYX"}, photometric="minisblack")
    tifffile.imwrite(tmp_path / "snapshot.tif", tcyx[0], imagej=True, metadata={"axes": "CYX"})
    viewer = make_napari_viewer()
    [movie] = viewer.open(tmp_path / "movie.ome.tif", plugin="napari")
    [snapshot] = viewer.open(tmp_path / "snapshot.tif", plugin="napari")
    assert (movie.data.shape, snapshot.data.shape) == ((3, 2, 32, 32), (2, 32, 32))
    widget = rods_dock(viewer)
    assert listed(widget.image_combo) == ["movie.ome (2 channels)", "snapshot (2 channels)"]

    widget.image_combo.setCurrentText("snapshot (2 channels)")
    assert widget.session is None  # no project of its channels as frames
    assert ("snapshot holds 2 channels (CYX, 2 x 32 x 32), not frames: detection reads one channel"
            in widget.image_note.text())
    assert listed(widget.view_combo) == ["channel 0", "channel 1"] and widget.view_combo.currentIndex() == -1

    widget.image_combo.setCurrentText("movie.ome (2 channels)")
    assert widget.session is None and "(TCYX, 3 x 2 x 32 x 32)" in widget.image_note.text()
    assert listed(widget.view_combo) == ["frames along T (3), channel 0", "frames along T (3), channel 1"]
    assert widget.view_combo.currentIndex() == -1  # napari's slider picked no channel for the user
    start = notification_count()
    widget.detect()
    assert widget.use_view() is None  # before a channel is chosen
    said = notifications_since(start)
    assert any("movie.ome holds 2 channels" in line and "choose which in the list below and press Use" in line
               for line in said), said
    assert any("choose which of its channels to detect" in line for line in said), said
    assert widget.worker is None and not list(tmp_path.glob("*.particle-detect"))

    widget.view_combo.setCurrentIndex(1)
    made = widget.use_view()
    assert made.name == "movie.ome (T frames, channel 1)" and widget.image_combo.currentText() == made.name
    np.testing.assert_array_equal(made.data, tcyx[:, 1])
    assert widget.session.image is made and widget.session.stack and not widget.image_note.isVisibleTo(widget)
    assert not movie.visible  # the view lies over it
    layers = len(viewer.layers)
    widget.image_combo.setCurrentText("movie.ome (2 channels)")
    widget.view_combo.setCurrentIndex(1)
    assert widget.use_view() is made and len(viewer.layers) == layers  # Use again: the view made before, its project

    widget.image_combo.setCurrentText("snapshot (2 channels)")
    widget.view_combo.setCurrentIndex(0)
    made = widget.use_view()
    np.testing.assert_array_equal(made.data, tcyx[0, 0])
    assert widget.session.image is made and not widget.session.stack  # one 2D image, not 2 frames


def test_channels_napari_opened_as_layers_of_their_own_are_stacks_as_they_are(make_napari_viewer, tmp_path):
    tcyx = np.stack([small_stack(3, 32)] * 2, axis=1)
    tifffile.imwrite(tmp_path / "hyper.tif", tcyx, imagej=True, metadata={"axes": "TCYX"})
    viewer = make_napari_viewer()
    viewer.open(tmp_path / "hyper.tif", plugin="napari", channel_axis=1, name=["green", "red"])
    widget = rods_dock(viewer)
    assert listed(widget.image_combo) == ["green", "red"]
    widget.image_combo.setCurrentText("red")
    assert widget.session.image.name == "red" and widget.session.stack and not widget._view_row.isVisibleTo(widget)
