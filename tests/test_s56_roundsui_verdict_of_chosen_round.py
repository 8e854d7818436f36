"""A round left out of use and chosen by hand since: its verdict, told again by a dock opened again (or napari),
said "so still using round-002 (double-click round-002 in the table to use it anyway)" of the very round the
table marked in use; and "so still using round-001" of a round whose parent was another, as if its verdict
had chosen round-001."""

from dataclasses import replace

import pytest
import tifffile

from napari_particle_detect._napari.round_progress import verdict
from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.rounds import run_round
from napari_particle_detect.projects.project import RoundInfo

from helpers import make_widget, reviewed_project

TINY_TUNE = replace(FINE_TUNE, steps_per_epoch=2, batch_size=2, crop=32, threads=1, learn_criterion=False)
PARENT = RoundInfo(number=3, origin="fine-tuned", parent=1)
WORSE = RoundInfo(number=4, origin="fine-tuned", parent=3, held_out=5, f1=0.946, parent_f1=0.959, improved=False)
UNSCORED = RoundInfo(number=4, origin="fine-tuned", parent=3, held_out=0)

pytestmark = pytest.mark.usefixtures("project_home")


@pytest.mark.parametrize("info", [WORSE, UNSCORED])
def test_a_round_not_switched_in_names_the_round_chosen_since(info):
    assert verdict(info, PARENT).endswith("still using round-003 (double-click round-004 in the table to use it anyway)")
    chosen = verdict(info, info)
    assert chosen.endswith("not switched in; chosen since, in use") and "still using" not in chosen
    assert "double-click" not in chosen and "not used" not in chosen
    other = verdict(info, RoundInfo(number=1, origin="shipped"))
    assert other.endswith("not switched in; round-001 chosen since (double-click round-004 in the table to use it "
                          "anyway)") and "still using" not in other


def test_a_reopened_dock_tells_a_round_chosen_by_hand_as_in_use(make_napari_viewer, tmp_path):
    project, stack = reviewed_project(tmp_path)
    tifffile.imwrite(tmp_path / "img.tif", stack, photometric="minisblack")
    outcome = run_round(project, stack, TINY_TUNE, "cpu")
    # Scored worse than its parent, whatever two steps gave: kept, not switched in; then chosen in the table.
    worse = replace(outcome.info, held_out=4, f1=0.90, parent_f1=0.95, improved=False)
    project.commit_round(outcome.workspace, worse, make_current=False)
    project.set_current_round(2)
    viewer = make_napari_viewer()
    viewer.open(str(tmp_path / "img.tif"))
    widget = make_widget(viewer, None)
    panel = widget.finetune
    assert panel.table.item(1, 0).text() == "002 ◀"
    said = panel.status.text()
    assert said.startswith("round-002: held-out F1 0.900 vs 0.950 for round-001 on 4 held-out tiles")
    assert "still using" not in said and "double-click round-002" not in said and said.endswith("chosen since, in use")


def test_rounds_are_neither_switched_nor_deleted_while_detect_runs(make_napari_viewer, qtbot, tmp_path):
    # Detect goes on with the round it started with (the Detect panel's Model list is disabled meanwhile): a round
    # double-clicked then was said to be "in use from now on" while the frames left were detected with the other,
    # and the round Detect was reading could be deleted from under it.
    project, stack = reviewed_project(tmp_path)
    tifffile.imwrite(tmp_path / "img.tif", stack, photometric="minisblack")
    outcome = run_round(project, stack, TINY_TUNE, "cpu")
    project.commit_round(outcome.workspace, outcome.info, make_current=False)
    project.unaccept_frame(1)  # a frame for Detect to detect
    viewer = make_napari_viewer()
    viewer.open(str(tmp_path / "img.tif"))
    widget = make_widget(viewer, None)
    panel, actions = widget.finetune, widget.finetune.round_actions
    panel.table.selectRow(1)
    assert actions.delete_button.isEnabled()
    widget.detect.scope_combo.setCurrentIndex(1)
    widget.detect.run_button.click()
    assert widget.detect.running()
    assert not actions.delete_button.isEnabled() and "Detect is running" in actions.delete_button.toolTip()
    assert not actions.delete(confirm=False)
    panel._use_row(1)
    assert project.current_round.number == 1 and [info.number for info in project.rounds] == [1, 2]
    assert "round-002 in use" not in panel.status.text()
    qtbot.waitUntil(lambda: not widget.detect.running(), timeout=60_000)
    assert actions.delete_button.isEnabled()
    panel._use_row(1)
    assert project.current_round.number == 2 and panel.status.text() == "round-002 in use from now on (chosen in the table)"
