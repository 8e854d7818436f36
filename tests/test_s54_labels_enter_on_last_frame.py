"""Enter (accept and next) on a stack's last frame accepted it again at every press and said only "frame 2 accepted",
as if it had moved on: it now also says the frame is the stack's last, and how many frames are still not accepted."""

import numpy as np
import pytest

from helpers import make_widget, notification_count, notifications_since, run_detect, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def test_enter_on_the_last_frame_says_it_is_the_last(make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(3, 64), name="cells")
    widget = make_widget(viewer, light_model)
    run_detect(widget, qtbot, scope=1)
    viewer.dims.set_current_step(0, 2)
    start = notification_count()
    widget.review.accept_and_next()
    said = notifications_since(start)
    assert widget.annotation.current_frame() == 2
    assert [line for line in said if line.startswith("frame 2 accepted")], said
    assert "frame 2 is the last frame of 3: 2 frames not accepted yet" in said, said

    viewer.dims.set_current_step(0, 0)
    start = notification_count()
    widget.review.accept_and_next()
    widget.review.accept_and_next()
    assert widget.annotation.current_frame() == 2
    assert not [line for line in notifications_since(start) if "last frame" in line]
    start = notification_count()
    widget.review.accept_and_next()
    said = notifications_since(start)
    assert "frame 2 is the last frame of 3: every frame is accepted" in said, said


def test_a_single_image_says_nothing_of_a_last_frame(make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer()
    viewer.add_image(np.asarray(small_stack(1, 64)[0]), name="one")
    widget = make_widget(viewer, light_model)
    run_detect(widget, qtbot, scope=0)
    start = notification_count()
    widget.review.accept_and_next()
    said = notifications_since(start)
    assert [line for line in said if line.startswith("frame 0 accepted")] and not [
        line for line in said if "last frame" in line], said
