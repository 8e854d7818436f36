"""An image layer read from a file whose pixels were replaced by others of the same size (layer.data = ..., from the
console or another plugin): Detect found the new pixels' centres and wrote them into the file's project, and Accept
kept the old pixels' centres as reviewed for them, training data of pixels that are not the file's. Both are refused
in one line saying what to do; the project keeps what it had."""

import numpy as np
import pytest
import tifffile

from helpers import make_widget, notification_count, notifications_since, run_detect, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def test_other_pixels_of_the_same_size_are_neither_detected_nor_accepted(make_napari_viewer, qtbot, tmp_path,
                                                                         light_model):
    path = tmp_path / "cells.tif"
    tifffile.imwrite(path, small_stack(2, 64))
    viewer = make_napari_viewer()
    [image] = viewer.open(path, plugin="napari")
    widget = make_widget(viewer, light_model)
    run_detect(widget, qtbot, scope=1)
    project = widget.annotation.project
    kept = project.load_all().copy()

    image.data = np.ascontiguousarray(image.data[:, ::-1, ::-1])  # the console: other pixels, the same size
    start = notification_count()
    widget.detect.scope_combo.setCurrentIndex(1)
    widget.detect.run_button.click()
    qtbot.waitUntil(lambda: not widget.detect.running(), timeout=60_000)
    widget.review.accept_button.click()
    said = notifications_since(start)
    refusals = [line for line in said if "'cells' now holds other pixels of the same size (2 x 64 x 64)" in line
                and "add the new pixels as an image layer of their own" in line and str(project.folder) in line]
    assert len(refusals) == 2, said
    assert not project.reviewed_frames
    assert project.load_all()[["frame", "y", "x"]].equals(kept[["frame", "y", "x"]])


def test_the_same_pixels_put_back_in_a_new_array_are_still_detected(make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer()
    image = viewer.add_image(small_stack(1, 64)[0], name="cells")
    widget = make_widget(viewer, light_model)
    image.data = image.data.astype(np.float64)  # another array, the same pixels: nothing to refuse
    assert widget.annotation.pixels_replaced() is None
    run_detect(widget, qtbot, scope=0)
    assert len(viewer.layers["cells centres"].data)
