"""The Rods and chains dock closed while its Detect runs: what it found is saved in the image's project, and said in a
notification (its status line went with the dock: the user was told nothing, and the rods looked lost until the dock
was opened again)."""

from helpers import kinds_dock, notification_count, notifications_since, small_rods_image


def test_a_detection_ending_after_the_dock_closed_is_said(make_napari_viewer, qtbot, project_home):
    viewer = make_napari_viewer()
    viewer.add_image(small_rods_image(), name="img")
    widget = kinds_dock(viewer, "rods", "img")
    widget.detect()
    viewer.window.remove_dock_widget(widget)
    seen = notification_count()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)

    said = [m for m in notifications_since(seen) if "found in 'img'" in m]
    assert len(said) == 1 and "kept in its project" in said[0]
    assert widget.session is None and kinds_dock(viewer, "rods", "img").session.tables[0] is not None
