"""The Rods and chains dock in a laptop's window: it had no scroll area, so in a 1024 x 700 window its labels were
squeezed cut and the window grew past the screen's foot; and its rounds table sized 'result' to a long model file's
name, pushing the column (and the verdict) out of the dock behind a sideways scroll."""

import shutil

import pytest
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QDockWidget, QScrollArea

from napari_particle_detect._napari.labels import WholeLabel
from napari_particle_detect.models.registry import default_model_path

from helpers import small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def rods_dock_with_an_added_model(make_napari_viewer, qtbot, folder, width: int, height: int):
    """The dock in a shown window of ``width`` x ``height``, a model added from a long file name as round 2 (its
    status line takes three lines)."""
    viewer = make_napari_viewer(show=True)
    window = viewer.window._qt_window
    window.resize(width, height)
    viewer.add_image(small_stack(1, 64)[0], name="cells")
    _, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Rods and chains")
    dock = next(d for d in window.findChildren(QDockWidget) if "Rods and chains" in d.windowTitle())
    qtbot.waitExposed(dock)
    model = folder / "rods_finetuned_on_experiment_2026_12_01_large_field_of_view.pt"
    for suffix in (".pt", ".json"):
        shutil.copy(default_model_path("rods").with_suffix(suffix), model.with_suffix(suffix))
    widget.rounds.add_model_file(str(model))
    assert widget.rounds.table.rowCount() == 2
    qtbot.wait(50)
    return window, widget, dock


def test_the_whole_dock_is_reachable_in_a_small_window_with_its_labels_whole(make_napari_viewer, qtbot, tmp_path):
    window, widget, _ = rods_dock_with_an_added_model(make_napari_viewer, qtbot, tmp_path, 1024, 700)
    assert window.height() == 700  # the dock's least height no longer pushes the window past the screen
    labels = [label for label in widget.findChildren(WholeLabel) if label.isVisible() and label.text()]
    assert labels
    for label in labels:  # none squeezed through its words
        assert label.height() >= label._text_height(), label.text()
    scroll = widget.findChild(QScrollArea)
    assert scroll is not None
    table = widget.rounds.table
    scroll.ensureWidgetVisible(table)
    qtbot.wait(20)
    assert not table.visibleRegion().isEmpty()  # the lowest control scrolled into view
    assert not scroll.horizontalScrollBar().isVisible()


def test_the_rounds_result_column_fits_the_narrowest_dock(make_napari_viewer, qtbot, tmp_path):
    window, widget, dock = rods_dock_with_an_added_model(make_napari_viewer, qtbot, tmp_path, 1280, 720)
    table = widget.rounds.table
    window.resizeDocks([dock], [1], Qt.Orientation.Horizontal)  # as narrow as it goes
    qtbot.waitUntil(lambda: dock.width() <= 440)
    qtbot.wait(50)
    header = table.horizontalHeader()
    last = table.columnCount() - 1
    assert not table.horizontalScrollBar().isVisible()
    assert header.sectionViewportPosition(last) + header.sectionSize(last) <= table.viewport().width()
    # Its cell keeps what matters, elided in its middle: in use, and which file.
    rect = table.visualItemRect(table.item(1, last))
    shown = table.fontMetrics().elidedText(table.item(1, last).text(), Qt.TextElideMode.ElideMiddle, rect.width())
    assert shown.startswith("in use") and shown.endswith(".pt")
