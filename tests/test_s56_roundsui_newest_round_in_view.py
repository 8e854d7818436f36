"""The rounds table holds three rows: a fourth round's verdict ("double-click round-005 in the table to use it
anyway") spoke of a row below them, out of sight until the table was scrolled, on the round's end and on opening."""

from dataclasses import replace

import pytest
import tifffile

from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.rounds import run_round

from helpers import make_widget, reviewed_project

TINY_TUNE = replace(FINE_TUNE, steps_per_epoch=2, batch_size=2, crop=32, threads=1, learn_criterion=False)

pytestmark = pytest.mark.usefixtures("project_home")


def row_in_view(table, row: int) -> bool:
    return table.viewport().rect().contains(table.visualItemRect(table.item(row, 0)))


def test_the_newest_round_is_in_view_when_opened_and_when_added(make_napari_viewer, qtbot, tmp_path):
    project, stack = reviewed_project(tmp_path)
    tifffile.imwrite(tmp_path / "img.tif", stack, photometric="minisblack")
    for _ in range(3):
        outcome = run_round(project, stack, TINY_TUNE, "cpu")
        project.commit_round(outcome.workspace, outcome.info, make_current=False)
    viewer = make_napari_viewer(show=True)
    viewer.open(str(tmp_path / "img.tif"))
    widget = make_widget(viewer, None)
    table = widget.finetune.table
    qtbot.waitExposed(table)
    assert table.rowCount() == 4 and row_in_view(table, 3)
    assert not row_in_view(table, 0)  # more rounds than the table shows at once
    table.scrollToTop()
    widget.finetune.run(TINY_TUNE)
    qtbot.waitUntil(lambda: not widget.finetune.running(), timeout=120_000)
    assert table.rowCount() == 5 and "round-005" in widget.finetune.status.text()
    assert row_in_view(table, 4)
    table.scrollToTop()
    table.selectRow(0)
    widget.finetune._use_row(0)  # the rows as they were: no jump away from the row worked on
    assert row_in_view(table, 0)
