"""The Particle detection dock reads what an image's file says of it, as the command line does: the axes of a
file of several channels (napari opens a TCYX OME-TIFF as a 4D layer, and the dock offered its channels as
frames), and the pixel size of a calibrated TIFF napari opens at scale 1 (Export wrote no micrometres). Its lines
for images it cannot take point at what it offers, and a view it makes lies over its own image."""

import numpy as np
import pandas as pd
import pytest
import tifffile

from helpers import make_widget, notification_count, notifications_since, run_detect, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def tcyx_file(folder, frames: int = 3):
    """An OME-TIFF of 2 channels: noise in channel 0, particles in channel 1 (a bright-field beside fluorescence)."""
    particles = small_stack(frames, 64)
    noise = np.random.default_rng(0).normal(1000, 30, particles.shape).astype(particles.dtype)
    data = np.stack([noise, particles], axis=1)
    path = folder / "two_channels.ome.tif"
    tifffile.imwrite(path, data, metadata={"axes": "TCYX"}, photometric="minisblack")
    return path, data


def offered(widget) -> list[str]:
    return [widget.view_combo.itemText(i) for i in range(widget.view_combo.count())]


def test_a_files_channels_are_chosen_by_the_user_never_read_as_frames(make_napari_viewer, tmp_path, light_model):
    path, data = tcyx_file(tmp_path)
    viewer = make_napari_viewer()
    [layer] = viewer.open(path, plugin="napari")
    assert layer.data.shape == (3, 2, 64, 64)
    viewer.dims.set_current_step(1, 0)  # napari's slider on the noise channel: no channel is taken from it
    widget = make_widget(viewer, light_model)
    assert widget.image_combo.currentText() == "two_channels.ome (2 channels)" and widget.annotation is None
    note = widget.image_note.text()
    assert "holds 2 channels (TCYX, 3 x 2 x 64 x 64), not frames" in note and "the T frames of one channel" in note
    assert offered(widget) == ["frames along T (3), channel 0", "frames along T (3), channel 1"]
    assert widget.view_combo.currentIndex() == -1

    start = notification_count()
    assert widget.use_view() is None  # Use before a channel is chosen
    assert any("choose which of its channels to detect" in line for line in notifications_since(start))
    assert len(viewer.layers) == 1

    widget.view_combo.setCurrentIndex(1)
    made = widget.use_view()
    assert made.name == "two_channels.ome (T frames, channel 1)"
    np.testing.assert_array_equal(made.data, data[:, 1])
    assert widget.annotation.image is made and widget.annotation.n_frames == 3


def test_a_cyx_file_offers_each_channel_and_a_tzyx_file_names_its_axes(make_napari_viewer, tmp_path, light_model):
    cyx = np.stack([small_stack(1, 64)[0]] * 2)
    tifffile.imwrite(tmp_path / "snapshot.tif", cyx, imagej=True, metadata={"axes": "CYX"})
    tzyx = np.random.default_rng(1).random((2, 4, 32, 32)).astype(np.float32)
    tifffile.imwrite(tmp_path / "series.ome.tif", tzyx, metadata={"axes": "TZYX"}, photometric="minisblack")
    viewer = make_napari_viewer()
    [snapshot] = viewer.open(tmp_path / "snapshot.tif", plugin="napari")
    assert snapshot.data.shape == (2, 64, 64)  # a 3D layer the dock took as 2 frames
    viewer.open(tmp_path / "series.ome.tif", plugin="napari")
    widget = make_widget(viewer, light_model)

    widget.image_combo.setCurrentIndex(0)
    assert widget.image_combo.currentText() == "snapshot (2 channels)" and widget.annotation is None
    assert offered(widget) == ["channel 0", "channel 1"]
    widget.view_combo.setCurrentIndex(1)
    made = widget.use_view()
    np.testing.assert_array_equal(made.data, cyx[1])
    assert widget.annotation.image is made and widget.annotation.n_frames == 1

    widget.image_combo.setCurrentIndex(widget.image_combo.findText("series.ome (4D)"))
    assert "(TZYX, 2 x 4 x 32 x 32)" in widget.image_note.text()
    assert offered(widget) == ["frames along T (2), Z = 0", "frames along Z (4), T = 0"]
    assert widget.view_combo.currentIndex() == 0  # no channel to choose: its first view, as ever


def test_lines_for_what_the_dock_cannot_take_point_at_what_it_offers(make_napari_viewer, tmp_path, light_model):
    tzcyx = np.zeros((2, 3, 2, 16, 16), np.uint16)
    tifffile.imwrite(tmp_path / "hyper.ome.tif", tzcyx, metadata={"axes": "TZCYX"}, photometric="minisblack")
    viewer = make_napari_viewer()
    viewer.open(tmp_path / "hyper.ome.tif", plugin="napari")
    viewer.add_image(np.zeros((16, 16, 3), np.uint8), name="photo", rgb=True)
    widget = make_widget(viewer, light_model)

    widget.image_combo.setCurrentText("hyper.ome (not supported)")
    note = widget.image_note.text()
    assert "a 5D image (TZCYX, 2 x 3 x 2 x 16 x 16) is not supported here" in note
    assert "channel_axis=2" in note and "Volume detection (3D) dock" in note

    widget.image_combo.setCurrentText("photo (colour)")
    assert widget.image_note.text().endswith("pick greyscale or a channel in the list below and press Use")
    assert widget._view_row.isVisibleTo(widget) and widget.view_button.text() == "Use"


def test_a_view_lies_just_over_its_own_image(make_napari_viewer, light_model):
    viewer = make_napari_viewer()
    viewer.add_image(np.random.default_rng(0).random((2, 2, 32, 32)).astype(np.float32), name="series")
    viewer.add_image(np.stack([small_stack(1, 64)[0]] * 3, axis=-1).astype(np.uint8), name="photo", rgb=True)
    viewer.add_image(small_stack(1, 64)[0], name="opened since")
    widget = make_widget(viewer, light_model)

    for source, suffix in (("series", "4D"), ("photo", "colour")):
        widget.image_combo.setCurrentText(f"{source} ({suffix})")
        widget.view_combo.setCurrentIndex(0)
        made = widget.use_view()
        names = [layer.name for layer in viewer.layers]
        assert names.index(made.name) == names.index(source) + 1 < names.index("opened since"), names
        assert widget.annotation.image is made and widget.image_combo.currentText() == made.name
        assert not viewer.layers["opened since"].visible  # hidden, as a pick in the list hides what lies over it
        viewer.layers["opened since"].visible = True


def test_export_gives_micrometres_from_the_file_of_a_layer_at_scale_1(make_napari_viewer, qtbot, tmp_path,
                                                                       light_model):
    path = tmp_path / "movie.tif"
    tifffile.imwrite(path, small_stack(2, 64), imagej=True, resolution=(4.0, 4.0),
                     metadata={"axes": "TYX", "unit": "um", "finterval": 0.5})
    viewer = make_napari_viewer()
    [layer] = viewer.open(path, plugin="napari")
    assert tuple(layer.scale) == (1.0, 1.0, 1.0)  # napari's reader leaves the calibration out
    widget = make_widget(viewer, light_model)
    run_detect(widget, qtbot, scope=1)

    written = widget.export.export(tmp_path / "movie_centres.csv")
    table = pd.read_csv(written)
    assert len(table) and list(table.columns[-2:]) == ["y_um", "x_um"]
    np.testing.assert_allclose(table["y_um"], table["y"] * 0.25, atol=1e-3)  # both as written, rounded
    np.testing.assert_allclose(table["x_um"], table["x"] * 0.25, atol=1e-3)
    assert "y_um, x_um at 0.25 µm per pixel, from movie.tif's metadata" in widget.export.summary.text()

    layer.scale = (1.0, 0.5, 0.5)  # a scale the user set wins over the file's
    written = widget.export.export(tmp_path / "movie_rescaled.csv")
    table = pd.read_csv(written)
    np.testing.assert_allclose(table["x_scaled"], table["x"] * 0.5, atol=1e-3)
    assert "x_um" not in table.columns and "metadata" not in widget.export.summary.text()
