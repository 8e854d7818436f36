"""Ctrl+Z right after Shift+Enter said "nothing to undo on frame 3", no more: accepting is taken back with
Un-accept region (or Un-accept, U, for a whole frame), not Ctrl+Z, and the message now says which."""

import pytest

from helpers import make_widget, notification_count, notifications_since, run_detect, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def undo_said(widget) -> list[str]:
    seen = notification_count()
    widget.review.undo()
    return notifications_since(seen)


def test_ctrl_z_after_accepting_says_what_takes_the_acceptance_back(make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(4, 48), name="cells")
    widget = make_widget(viewer, light_model)
    viewer.dims.set_current_step(0, 3)
    run_detect(widget, qtbot, scope=0)
    widget.annotation.regions.propose(3, (0.5, 0.5, 30.5, 30.5))
    widget.review.accept_region()  # Shift+Enter
    assert undo_said(widget) == ["nothing to undo on frame 3: a region accepted on frame 3 is taken back with "
                                 "Un-accept region, not Ctrl+Z"]

    viewer.dims.set_current_step(0, 1)
    run_detect(widget, qtbot, scope=0)
    widget.review.accept_and_next()  # Enter: on to frame 2
    assert undo_said(widget) == ["nothing to undo on frame 2: accepting frame 1 is taken back with Un-accept (U), "
                                 "not Ctrl+Z"]
    viewer.dims.set_current_step(0, 1)  # the accepted frame itself
    assert undo_said(widget) == ["nothing to undo on frame 1: accepting frame 1 is taken back with Un-accept (U), "
                                 "not Ctrl+Z"]
    viewer.dims.set_current_step(0, 0)  # nothing accepted here: nothing more to say
    assert undo_said(widget) == ["nothing to undo on frame 0"]
