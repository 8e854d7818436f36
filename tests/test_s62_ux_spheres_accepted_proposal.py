"""On a single image, N proposed a box ('Next: … Shift+Enter to accept it', an orange box) and Enter then accepted
the whole frame: Enter stays on a single image's frame, so the line and the box stayed, asking for a Shift+Enter that
a reviewed frame refuses (Accept box disabled). Accepting the proposed frame takes them away."""

import pytest

from helpers import make_widget, run_detect, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def test_accepting_the_proposed_frame_drops_its_proposal(make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(1, 64)[0], name="still")
    widget = make_widget(viewer, light_model)
    run_detect(widget, qtbot, scope=0)
    annotation = widget.annotation
    widget.review.review_next()
    assert widget.review.suggestion.text().startswith("Next: frame 0")
    assert annotation.regions.draft_box(0) is not None

    widget.review.accept_and_next()

    assert annotation.project.reviewed_frames == [0]
    assert not widget.review.accept_region_button.isEnabled()  # a reviewed frame takes no box
    assert widget.review.suggestion.text() == ""
    assert annotation.regions.draft_box(0) is None


def test_a_single_images_review_line_counts_one_frame(make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(1, 64)[0], name="still")
    widget = make_widget(viewer, light_model)
    run_detect(widget, qtbot, scope=0)
    assert widget.review.status.text().endswith("· 0 of 1 frame reviewed"), widget.review.status.text()
    widget.review.accept_and_next()
    assert widget.review.status.text().endswith("· 1 of 1 frame reviewed"), widget.review.status.text()
