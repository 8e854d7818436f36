"""U (Un-accept) on a frame not accepted takes back the frame Enter just accepted, only while the user is still on
the frame Enter moved on to: after Next (or the slider, or Review next) it jumped back to the frame accepted before
and un-accepted it, a frame the user was no longer looking at."""

import pytest

from helpers import make_widget, notification_count, notifications_since, press, run_detect, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def test_unaccept_takes_back_enters_frame_only_where_enter_left_the_user(make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(3, 48), name="movie")
    widget = make_widget(viewer, light_model)
    run_detect(widget, qtbot, scope=1)
    annotation, review = widget.annotation, widget.review
    annotation.go_to_frame(0)
    review.accept_button.click()
    assert annotation.current_frame() == 1
    review.unaccept()  # right after Enter: the frame just accepted
    assert annotation.project.reviewed_frames == [] and annotation.current_frame() == 0

    review.accept_button.click()
    review.next_button.click()  # on to frame 2: Enter's frame is behind the user now
    assert annotation.current_frame() == 2
    assert not review.unaccept_button.isEnabled()
    start = notification_count()
    press(viewer, "u")
    assert "frame 2 is not accepted" in notifications_since(start)[-1]
    assert annotation.project.reviewed_frames == [0] and annotation.current_frame() == 2
