"""The Rods and chains dock's Detect over a frame whose only edits lie inside its accepted regions keeps the
project's record of them (as the spheres dock does): it was dropped, so deleting the region's outline afterwards
in a dock opened again (which no longer knows the frame's table as detected) left the rod deleted there unmarked,
an edit no round learns."""

import numpy as np

from helpers import kinds_dock_detected, small_rods_image

PLUGIN = "napari-particle-detect"


def test_a_rod_deleted_inside_a_region_is_an_edit_again_when_its_outline_goes_after_detect(
        make_napari_viewer, qtbot, project_home):
    viewer = make_napari_viewer()
    widget = kinds_dock_detected(viewer, qtbot, small_rods_image(), "rods")
    session, layer = widget.session, viewer.layers["img rods"]
    project = session.project
    y, x = np.asarray(layer.data[0]).mean(axis=0)
    layer.selected_data = {0}
    layer.remove_selected()
    session.regions.propose(0, (y - 12.0, x - 12.0, y + 12.0, x + 12.0))
    widget.review.accept_region()
    assert project.edited_frames == []  # learned inside the region
    widget.detect()  # the region's inside stays as accepted
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    viewer.window.remove_dock_widget(widget)
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    widget.kind_combo.setCurrentText("rods")
    session = widget.session
    assert session.project.folder == project.folder
    outlines = session.regions.accepted
    outlines.selected_data = set(range(len(outlines.data)))
    outlines.remove_selected()
    assert project.regions(0) == [] and project.edited_frames == [0]
