"""Lines that say nothing yet take no room: empty, the Tracks box's calibration note and status, and the Rods and
chains Fine-tune status each kept a blank band between the rows around them (the spheres dock's Review line was
fixed the same way)."""

import pytest
from qtpy.QtWidgets import QApplication

from helpers import make_widget, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def gap(upper, lower) -> int:
    """Pixels between two widgets of one box."""
    QApplication.processEvents()
    return lower.geometry().top() - upper.geometry().bottom()


def test_the_tracks_box_has_no_blank_rows_before_a_link(make_napari_viewer):
    viewer = make_napari_viewer(show=True)
    viewer.add_image(small_stack(2, 48), name="cells")
    tracks = make_widget(viewer, None).tracks
    spacing = max(tracks.layout().verticalSpacing(), 0)
    assert tracks.calibration_note.text() == "" and tracks.status.text() == ""
    assert gap(tracks.interval_spin, tracks.drift_check) <= spacing + 2
    assert gap(tracks.link_button, tracks.plot) <= spacing + 2
    tracks.status.setText("12 tracks")  # said, the line is shown between them
    assert gap(tracks.link_button, tracks.plot) > tracks.status.height() > 0


def test_the_rods_fine_tune_box_has_no_blank_band_before_a_round(make_napari_viewer):
    viewer = make_napari_viewer(show=True)
    viewer.add_image(small_stack(1, 48)[0], name="cells")
    _, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Rods and chains")
    rounds = widget.rounds
    assert rounds.status.text() == "" and rounds.this_version.isHidden()
    spacing = max(rounds.layout().verticalSpacing(), 0)
    assert gap(rounds.progress, rounds.table) <= spacing + 2
