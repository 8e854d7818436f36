"""The Rods and chains dock's Un-accept takes back a region too: a region accepted before the dock was reopened was
reached by no button (Un-accept stayed greyed on a frame not accepted whole, Undo stops at the session), only by
deleting its outline in the layer list, which nothing said."""

from helpers import kinds_dock, kinds_dock_detected, rod_deleted_in_an_accepted_region, small_rods_image


def test_un_accept_takes_back_a_region_accepted_before_the_dock_was_reopened(make_napari_viewer, qtbot,
                                                                              project_home):
    viewer = make_napari_viewer()
    rod_deleted_in_an_accepted_region(viewer, kinds_dock_detected(viewer, qtbot, small_rods_image(), "rods"))

    widget = kinds_dock(viewer, "rods", "img")
    review, project = widget.review, widget.session.project
    assert len(project.regions(0)) == 1 and project.edited_frames == []
    assert review.unaccept_button.isEnabled()
    review.unaccept_button.click()
    assert project.regions(0) == [] and project.edited_frames == [0]  # the deletion is no longer learned
    assert len(widget.session.regions.accepted.data) == 0 and not review.unaccept_button.isEnabled()
    review.undo()  # accepted again
    assert len(project.regions(0)) == 1 and len(widget.session.regions.accepted.data) == 1
    assert review.unaccept_button.isEnabled()
