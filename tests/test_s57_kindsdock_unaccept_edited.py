"""The Rods and chains dock's Un-accept on a frame edited outside its accepted region: reading the frame's edit record
raised a TypeError (a list called), so nothing was un-accepted and the button did nothing but print a traceback; and
Undo of an un-accept puts the record back as it was, an 'edits outside' mark gained since included."""

import numpy as np

from helpers import kinds_dock_detected, small_rods_image


def test_unaccept_and_undo_on_a_frame_edited_outside_its_region(make_napari_viewer, qtbot, project_home):
    viewer = make_napari_viewer()
    widget = kinds_dock_detected(viewer, qtbot, small_rods_image(), "rods")
    layer, project, review = viewer.layers["img rods"], widget.session.project, widget.review
    centres = np.array([np.asarray(v).mean(axis=0) for v in layer.data])
    layer.selected_data = {int(np.argmax(np.hypot(*(centres - centres[0]).T)))}  # the rod farthest from the box
    layer.remove_selected()
    y, x = centres[0]
    widget.session.regions.propose(0, (y - 8.0, x - 8.0, y + 8.0, x + 8.0))
    review.accept_region()
    assert project.edited_frames == [0] and project.edited_where_unknown == []  # its edit lies outside the box

    review.unaccept_button.click()
    assert project.regions(0) == [] and project.edited_frames == [0]
    review.undo_button.click()
    assert len(project.regions(0)) == 1
    assert project.edited_frames == [0] and project.edited_where_unknown == []


def test_undo_of_an_unaccept_takes_back_an_outside_mark_gained_since(make_napari_viewer, qtbot, project_home):
    viewer = make_napari_viewer()
    widget = kinds_dock_detected(viewer, qtbot, small_rods_image(), "rods")
    project = widget.session.project
    widget.review.accept_frame()
    project.mark_edited(0)  # edits of an earlier session: where they lie is not known
    assert project.edited_where_unknown == [0]

    widget.review.unaccept_button.click()
    project.mark_edited(0, outside=True)  # a dock that compared the frame with its detection found them outside
    widget.review.undo_button.click()

    assert project.is_reviewed(0)
    assert project.edited_frames == [0] and project.edited_where_unknown == [0]  # as before the Un-accept
