"""A file whose channels are copies of each other (a Fiji TCYX hyperstack of a channel saved twice), its channels
opened by napari as layers of their own (channel_axis): each channel was told by comparing its pixels with the file's,
so every one of them was channel 0, and opened channel 0's project: a point added on the second channel showed on the
first. Each is told now by which part of the file's array napari's layer shows."""

import numpy as np
import pytest
import tifffile

from napari_particle_detect._napari.image_views import source_path

from helpers import make_widget, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def pick(widget, layer) -> None:
    widget.image_combo.setCurrentIndex(widget.image_combo.findData(id(layer)))


def test_channels_of_the_same_pixels_each_have_their_own_project(make_napari_viewer, tmp_path):
    frames = small_stack(2, 32)
    path = tmp_path / "copies.tif"
    tifffile.imwrite(path, np.stack([frames, frames, frames], axis=1), imagej=True, metadata={"axes": "TCYX"})
    viewer = make_napari_viewer()
    layers = viewer.open(path, plugin="napari", channel_axis=1)
    assert [source_path(layer).name for layer in layers] == [
        f"copies-frames0-at1_{channel}.tif" for channel in range(3)]

    widget = make_widget(viewer, None)
    pick(widget, layers[1])
    widget.annotation.ensure_points_layer().add([[0, 10.0, 10.0]])
    widget.annotation.flush()
    pick(widget, layers[0])
    assert widget.annotation.image is layers[0]
    assert len(widget.annotation.ensure_points_layer().data) == 0  # the second channel's point stays its own
    assert widget.annotation.project.folder == tmp_path / "copies-frames0-at1_0.particle-detect"


def test_a_copy_of_the_second_of_channels_alike_has_that_channels_project(make_napari_viewer, tmp_path):
    from napari.layers._layer_actions import _duplicate_layer

    frames = small_stack(2, 32)
    path = tmp_path / "copies.tif"
    tifffile.imwrite(path, np.stack([frames, frames], axis=1), imagej=True, metadata={"axes": "TCYX"})
    viewer = make_napari_viewer()
    first, second = viewer.open(path, plugin="napari", channel_axis=1)
    viewer.layers.selection = {second}
    _duplicate_layer(viewer.layers)  # napari's Duplicate Layer
    copy = viewer.layers[-1]
    assert copy.name == f"{second.name} copy" and copy.data.base is None  # its own pixels
    assert source_path(copy).name == "copies-frames0-at1_1.tif"
