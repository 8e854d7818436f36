"""The Rods and chains dock's Accept frame said "frame N accepted with K rods" in the status line alone, which the
next refresh (any edit, a frame turned) wrote over before it was read: said as the spheres dock says it."""

import pytest

from helpers import kinds_dock_detected, notification_count, notifications_since, small_rods_image

pytestmark = pytest.mark.usefixtures("project_home")


def test_accept_frame_says_what_it_kept_where_a_refresh_leaves_it(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    widget = kinds_dock_detected(viewer, qtbot, small_rods_image(), "rods")
    rods = len(viewer.layers["img rods"].data)
    start = notification_count()
    widget.review.buttons["Accept frame"].click()
    widget.review.refresh()  # as the next edit in the layer does

    assert f"frame 0 accepted with {rods} rods" in " ".join(notifications_since(start))
    assert widget.review.status.text().startswith("frame 0: reviewed")
