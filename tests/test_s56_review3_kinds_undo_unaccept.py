"""The Rods and chains dock's Undo of an Un-accept brings the project's record of the frame's edits back too: the
region accepted again holds them, so a round learns them and the next Detect does not treat the frame as edited."""

from helpers import kinds_dock, kinds_dock_detected, rod_deleted_in_an_accepted_region, small_rods_image


def test_undo_of_a_region_unaccept_marks_the_frame_edited_inside_again(make_napari_viewer, qtbot, project_home):
    viewer = make_napari_viewer()
    rod_deleted_in_an_accepted_region(viewer, kinds_dock_detected(viewer, qtbot, small_rods_image(), "rods"))

    widget = kinds_dock(viewer, "rods", "img")  # its table as detected is gone: the project's record alone says
    review, project = widget.review, widget.session.project
    assert project.edited_frames == [] and project.edited_inside_frames == [0]
    review.unaccept_button.click()
    assert project.edited_frames == [0] and project.edited_inside_frames == []
    review.undo()
    assert len(project.regions(0)) == 1
    assert project.edited_frames == [] and project.edited_inside_frames == [0]
