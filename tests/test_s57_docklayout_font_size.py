"""A larger napari font (Preferences > Appearance > Font size) keeps every control of the Particle detection dock inside
it: the dock's width was fitted once, as it was first shown, and with the font raised its rows grew past it, a
sideways scrollbar hiding "Folder…", "Add…", the Polarity list and "Next ▶" at its right edge. The dock fits its rows
again when napari's style changes."""

import pytest
from napari.settings import get_settings
from qtpy.QtCore import Qt

from helpers import shown_plugin_dock
from test_s57_docklayout_estimate_wraps import cut_controls, settle

pytestmark = pytest.mark.usefixtures("project_home")


def test_a_larger_napari_font_leaves_no_control_cut_at_the_dock_s_right_edge(make_napari_viewer, qtbot):
    viewer, widget, dock = shown_plugin_dock(make_napari_viewer, qtbot)
    viewer.window._qt_window.resizeDocks([dock], [0], Qt.Orientation.Horizontal)  # as narrow as the dock goes
    settle()
    narrowest = dock.width()
    assert not cut_controls(widget)

    settings = get_settings()
    font_size, saving = settings.appearance.font_size, settings._save_on_change
    # As Preferences sets it, but kept off the settings file that napari shares with every other session.
    settings._save_on_change = False
    try:
        settings.appearance.font_size = font_size + 5
        settle()
        _assert_fitted(widget, dock, narrowest)
    finally:
        settings.appearance.font_size = font_size
        settings._save_on_change = saving


def _assert_fitted(widget, dock, narrowest: int) -> None:
    """The dock widened to its rows: no sideways scroll, no control past its right edge."""
    scroll = widget._scroll
    assert dock.width() > narrowest  # the rows' new width, not a scroll through them
    assert scroll.widget().minimumSizeHint().width() <= scroll.viewport().width()
    assert not scroll.horizontalScrollBar().isVisible()
    assert not cut_controls(widget)
