"""Detect over a frame whose only edits lie inside its accepted regions keeps the project's record of them: it
was dropped, so un-accepting the region afterwards (in this session or after a reopen) missed the points deleted
there, and a round went on counting the frame as holding no edits."""

import numpy as np
import pytest

from helpers import make_widget, run_detect, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def test_a_point_deleted_inside_a_region_is_an_edit_again_when_the_region_goes_after_detect(
        make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(1, 64)[0], name="cells")
    widget = make_widget(viewer, light_model)
    run_detect(widget, qtbot, scope=0)
    annotation = widget.annotation
    project = annotation.project
    points = annotation.points
    y, x = np.asarray(points.data)[0][-2:]
    points.selected_data = {0}
    points.remove_selected()  # a network point deleted: an edit the box accepted next holds
    box = (y - 8.0, x - 8.0, y + 8.0, x + 8.0)
    region, _ = annotation.accept_region(0, box)
    assert project.edited_frames == []  # learned inside the region
    run_detect(widget, qtbot, scope=0)  # the region's inside stays as accepted
    annotation.unaccept_region(project.regions(0)[0])
    assert project.edited_frames == [0]  # the deletion is no longer learned: an edit again
