"""The spheres dock's Fine-tune box: its rounds table fits the dock with a long 'trained' cell; the round already
in use double-clicked changes nothing; a deleted round's verdict gives way to what a reopened dock says; Cancel
is clicked once."""

import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
import tifffile
from qtpy.QtCore import Qt

from napari_particle_detect._napari.finetune_panel import TRAINED_COLUMN
from napari_particle_detect._napari.round_reports import CANCELLING
from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.rounds import run_round

from helpers import answer_questions, make_widget, notification_count, notifications_since, reviewed_project

TINY_TUNE = replace(FINE_TUNE, steps_per_epoch=2, batch_size=2, crop=32, threads=1, learn_criterion=False)

pytestmark = pytest.mark.usefixtures("project_home")


def _add_round(project, stack, make_current: bool = False, **recorded):
    """A tiny round committed with what ``recorded`` says of it (its scores, what it learned from)."""
    outcome = run_round(project, stack, TINY_TUNE, "cpu")
    info = replace(outcome.info, **recorded)
    project.commit_round(outcome.workspace, info, make_current=make_current)
    return info


def _project_image(tmp_path):
    project, stack = reviewed_project(tmp_path)
    tifffile.imwrite(tmp_path / "img.tif", stack, photometric="minisblack")
    return project, stack, str(tmp_path / "img.tif")


@pytest.fixture
def short_path():
    """A folder with a short path: the dock's project line and Model list name it, and a test's long tmp_path
    widened the whole dock past the table's width."""
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="s56") as folder:
        yield Path(folder)


def test_the_rounds_table_fits_a_narrow_dock_with_a_long_trained_cell(short_path, make_napari_viewer, qtbot):
    project, stack, image = _project_image(short_path)
    _add_round(project, stack, trained_frames=[0, 1, 2], held_out=4, f1=0.90, parent_f1=0.95, improved=False,
               unreviewed_asked=4, unreviewed_frames=[3, 4], edited_not_accepted=[5])
    viewer = make_napari_viewer(show=True)
    window = viewer.window._qt_window
    window.resize(1280, 900)
    viewer.open(image)
    dock, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Particle detection")
    answer_questions(widget)
    window.resizeDocks([dock], [490], Qt.Orientation.Horizontal)  # as narrow as the dock goes
    qtbot.waitExposed(widget)
    table = widget.finetune.table
    qtbot.waitUntil(lambda: widget.width() < 600, timeout=2000)  # the dock as narrow as it goes
    header = table.horizontalHeader()
    cell = table.item(1, TRAINED_COLUMN)
    assert cell.text() == "3f + 2u, 1e not learned"
    # 'F1 after' and 'result' were behind a horizontal scrollbar.
    qtbot.waitUntil(lambda: header.length() <= table.viewport().width(), timeout=2000)
    assert header.sectionSize(TRAINED_COLUMN) >= header.sectionSizeHint(TRAINED_COLUMN)  # its header is whole
    tip = cell.toolTip()
    assert "round-002 trained on 3 frames" in tip and "frame 3, frame 4" in tip and "frame 5" in tip
    window.resizeDocks([dock], [900], Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: header.sectionSize(TRAINED_COLUMN) >= table.sizeHintForColumn(TRAINED_COLUMN),
                    timeout=2000)  # room again: the cell whole
    assert header.length() <= table.viewport().width()


def test_double_clicking_the_round_in_use_changes_nothing(make_napari_viewer, qtbot, tmp_path):
    project, stack, image = _project_image(tmp_path)
    _add_round(project, stack, held_out=4, f1=0.90, parent_f1=0.95, improved=False)
    viewer = make_napari_viewer()
    viewer.open(image)
    widget = make_widget(viewer, None)
    panel = widget.finetune
    widget.state.set_threshold(0.77)
    said = panel.status.text()
    assert said.startswith("round-002: ") and panel.table.item(0, 0).text() == "001 ◀"
    start = notification_count()
    # What a double-click on its row gives (QTest's double-click left the mouse pressed for the next test).
    panel.table.cellDoubleClicked.emit(0, 0)
    assert "round-001 is already in use" in notifications_since(start)
    assert panel.status.text() == said  # not "round-001 in use from now on (chosen in the table)"
    assert widget.state.threshold == pytest.approx(0.77)
    assert project.current_round.number == 1


def test_a_deleted_rounds_verdict_gives_way_to_what_a_reopened_dock_says(make_napari_viewer, qtbot, tmp_path):
    project, stack, image = _project_image(tmp_path)
    _add_round(project, stack, make_current=True, held_out=4, f1=0.95, parent_f1=0.90, improved=True)
    _add_round(project, stack, held_out=4, f1=0.90, parent_f1=0.95, improved=False)
    viewer = make_napari_viewer()
    viewer.open(image)
    panel = make_widget(viewer, None).finetune
    assert panel.status.text().startswith("round-003: ")
    panel.table.selectRow(2)
    assert panel.round_actions.delete(confirm=False)
    said = panel.status.text()
    assert said.startswith("round-002: ") and panel.progress.value() == 1  # the line was left blank

    again = make_napari_viewer()
    again.open(image)
    assert make_widget(again, None).finetune.status.text() == said


def test_cancel_is_clicked_once_and_offered_again_for_the_next_round(make_napari_viewer, qtbot, tmp_path):
    _project_image(tmp_path)
    viewer = make_napari_viewer()
    viewer.open(str(tmp_path / "img.tif"))
    panel = make_widget(viewer, None).finetune
    panel.run(TINY_TUNE)
    assert panel.cancel_button.isEnabled()
    panel.cancel_button.click()
    assert panel.status.text() == CANCELLING
    assert not panel.cancel_button.isEnabled()  # a second click did nothing
    qtbot.waitUntil(lambda: not panel.running(), timeout=60_000)
    panel.run(replace(TINY_TUNE, steps_per_epoch=500))
    assert panel.cancel_button.isEnabled()
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: not panel.running(), timeout=60_000)
    assert not panel.cancel_button.isEnabled()
