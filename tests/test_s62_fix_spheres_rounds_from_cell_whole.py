"""The rounds table at the dock's usual width read "sh…ed" in round-001's 'from' cell (its tooltip said "shipped"):
'trained' took the room first and left 'from' its header's width. A word there (not a file name) stays whole."""

from dataclasses import replace

import pytest
from qtpy.QtCore import Qt
from qtpy.QtGui import QFontMetrics
from qtpy.QtWidgets import QStyle

from napari_particle_detect._napari.finetune_panel import FROM_COLUMN, FULL_ROLE, TRAINED_COLUMN
from napari_particle_detect.learning.finetune import FINE_TUNE

from helpers import answer_questions, run_detect, shown_plugin_dock

pytestmark = pytest.mark.usefixtures("project_home")
QUICK_TUNE = replace(FINE_TUNE, steps_per_epoch=5, batch_size=2, crop=32, threads=1, learn_criterion=False)


def shown_whole(table, row: int, col: int) -> bool:
    """Whether the cell's text fits its column uncut, as the item delegate lays it out (a margin each side)."""
    margin = table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, table) + 1
    room = table.horizontalHeader().sectionSize(col) - 2 * margin - (1 if table.showGrid() else 0)
    return QFontMetrics(table.font()).horizontalAdvance(table.item(row, col).text()) <= room


def test_shipped_stays_whole_in_the_rounds_table_at_the_docks_usual_width(make_napari_viewer, qtbot, light_model):
    viewer, widget, dock = shown_plugin_dock(make_napari_viewer, qtbot)
    answer_questions(widget)
    widget.detect.device_combo.setCurrentText("cpu")
    widget.detect.add_model_file(str(light_model))  # round 2: quick to detect and to fine-tune
    run_detect(widget, qtbot, scope=1)
    viewer.dims.set_current_step(0, 0)
    widget.review.accept_and_next()
    widget.annotation.regions.propose(1, (0.5, 0.5, 30.5, 30.5))
    widget.review.accept_region()
    panel = widget.finetune
    panel.run(QUICK_TUNE)
    qtbot.waitUntil(lambda: not panel.running(), timeout=60_000)
    table = panel.table
    assert table.item(0, FROM_COLUMN).text() == "shipped"
    # The long 'trained' cell that left 'from' no room: where its words would be cut ("1 fram…region") it says them
    # short, as the table says a round that learned from unreviewed frames.
    assert table.item(2, TRAINED_COLUMN).data(FULL_ROLE) == "1 frame, 1 region"
    assert table.item(2, TRAINED_COLUMN).text() in ("1 frame, 1 region", "1f 1r")
    qtbot.waitUntil(lambda: table.horizontalHeader().length() <= table.viewport().width(), timeout=3000)
    assert shown_whole(table, 0, FROM_COLUMN), [table.horizontalHeader().sectionSize(c) for c in range(7)]
    assert shown_whole(table, 2, TRAINED_COLUMN), (table.item(2, TRAINED_COLUMN).text(),
                                                   [table.horizontalHeader().sectionSize(c) for c in range(7)])
    # Room for it again, it is said in full.
    viewer.window._qt_window.resizeDocks([dock], [dock.width() + 200], Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: table.item(2, TRAINED_COLUMN).text() == "1 frame, 1 region", timeout=3000)
    assert shown_whole(table, 2, TRAINED_COLUMN)
