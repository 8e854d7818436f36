"""The spheres dock's centres layer at the edges of what it follows: a point placed while the slider stood past the
stack's last frame (a longer layer let it go there), and layers copied with napari's Duplicate Layer."""

import numpy as np
import pytest
import tifffile
from napari.layers._layer_actions import _duplicate_layer  # what Layers > Duplicate Layer runs

from napari_particle_detect._napari.annotation import METADATA_KEY

from helpers import (
    make_widget, notification_count, notifications_since, pick, small_stack, spheres_dock_on_a_short_stack,
)

pytestmark = pytest.mark.usefixtures("project_home")


def click_add(layer, viewer, y: float, x: float) -> None:
    """A click of the Points add tool at (y, x) on the canvas: the frame is the slider's, as napari takes it."""
    layer.mode = "add"
    layer.add(layer.world_to_data((viewer.dims.point[0], y, x)))


def duplicate(viewer, layer):
    viewer.layers.selection = {layer}
    _duplicate_layer(viewer.layers)
    return viewer.layers[f"{layer.name} copy"]


def test_a_point_placed_past_the_stacks_last_frame_is_refused_and_later_edits_are_saved(make_napari_viewer):
    # It was kept in the layer, saved nowhere, and every later save failed ("frame 5 is beyond the 2 frames").
    viewer, widget = spheres_dock_on_a_short_stack(make_napari_viewer)
    annotation = widget.annotation
    centres = annotation.ensure_points_layer()
    viewer.dims.set_current_step(0, 1)
    click_add(centres, viewer, 10, 10)
    assert annotation.project.saved_frames() == [1]

    viewer.dims.set_current_step(0, 5)  # the long stack's frame: none of 'short' is drawn
    seen = notification_count()
    click_add(centres, viewer, 20, 20)
    assert centres.data.tolist() == [[1.0, 10.0, 10.0]]  # taken off at once
    assert widget.review.status.text() == ("A point placed at frame index 5 not kept: 'short' has 2 frames "
                                           "(index 0-1) and the slider stood outside them; move it back onto the "
                                           "stack to add centres")
    assert notifications_since(seen) == []  # the status line says it, and no save failed

    viewer.dims.set_current_step(0, 0)
    click_add(centres, viewer, 30, 30)
    assert annotation.project.saved_frames() == [0, 1]  # saved, and frame 1's point kept
    saved = annotation.project.load_all()
    assert saved[["frame", "y", "x"]].values.tolist() == [[0, 30.0, 30.0], [1, 10.0, 10.0]]
    assert notifications_since(seen) == []


def test_a_copied_centres_layer_is_a_scratch_copy_and_a_copied_image_is_the_same_image(make_napari_viewer, tmp_path):
    # The project follows the dock's own centres layer only. A copied image of a file had no file of its own, so it
    # opened a new, empty project under the projects home.
    path = tmp_path / "beads.tif"
    tifffile.imwrite(path, small_stack(2, 48))
    viewer = make_napari_viewer()
    [image] = viewer.open(path)
    widget = make_widget(viewer, None)
    original = widget.annotation
    centres = original.ensure_points_layer()
    click_add(centres, viewer, 10, 10)

    seen = notification_count()
    copy = duplicate(viewer, centres)
    assert METADATA_KEY not in copy.metadata and METADATA_KEY in centres.metadata  # it no longer claims the project
    assert notifications_since(seen) == [
        "'beads centres copy' is a scratch copy of 'beads centres': its edits are not saved in the project (edit "
        "'beads centres' for that; File > Save Selected Layers saves the copy as a CSV)"]
    click_add(copy, viewer, 30, 30)
    copy.remove([0])
    original.flush()
    assert original.project.load_all()[["frame", "y", "x"]].values.tolist() == [[0, 10.0, 10.0]]
    viewer.layers.remove(centres)
    widget.review.accept_and_next()  # brings back the dock's own layer (not the copy) to be looked at first
    assert original.points is not copy and original.points.data.tolist() == [[0.0, 10.0, 10.0]]

    image_copy = duplicate(viewer, image)
    viewer.layers.remove(image)  # closed before its copy is picked: the copy still knows the file
    pick(widget, "beads copy")
    assert widget.annotation.image is image_copy
    assert widget.annotation.project.folder == tmp_path / "beads.particle-detect"
    assert widget.annotation.points is not copy and widget.annotation.points.data.tolist() == [[0.0, 10.0, 10.0]]
