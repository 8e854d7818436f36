"""Tracks linked before an edit of the centres: the Tracks layer on the canvas keeps drawing them, and the panel's line
saying they are out of date lies below the fold of the dock: a notification says so, once a Link, naming the layer,
and Export tracks refuses them until linked again."""

import pytest

from helpers import make_widget, notification_count, notifications_since, pick, small_stack

pytestmark = pytest.mark.usefixtures("project_home")

SHOWS_OLD = "shows the tracks of the centres as they were linked"


def link(widget, qtbot) -> None:
    widget.tracks.link()
    qtbot.waitUntil(lambda: not widget.tracks.running(), timeout=30_000)


def test_an_edit_after_link_says_once_where_the_user_looks_that_the_tracks_layer_is_stale(
        make_napari_viewer, qtbot, tmp_path):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(3, 48), name="movie")
    viewer.add_image(small_stack(3, 48), name="other")
    widget = make_widget(viewer, None)
    pick(widget, "movie")
    points = widget.annotation.ensure_points_layer()
    points.add([[frame, 10 + frame, 12] for frame in range(3)] + [[frame, 30, 30 - frame] for frame in range(3)])
    link(widget, qtbot)
    assert "movie tracks" in viewer.layers and widget.tracks.export_button.isEnabled()

    seen = notification_count()
    points.selected_data = {0}
    points.remove_selected()
    points.add([[2, 40, 40]])  # a second edit: said once a Link, not at every edit
    said = [line for line in notifications_since(seen) if SHOWS_OLD in line]
    assert len(said) == 1 and said[0].startswith("'movie tracks'") and "Link again" in said[0]
    assert widget.tracks.export(tmp_path / "stale.csv") is None and not (tmp_path / "stale.csv").exists()

    link(widget, qtbot)
    seen = notification_count()
    pick(widget, "other")
    points.add([[1, 20, 20]])  # edited while another image is picked: said when it is picked again
    pick(widget, "movie")
    said = [line for line in notifications_since(seen) if SHOWS_OLD in line]
    assert len(said) == 1 and said[0].startswith("'movie tracks'")
