"""A project made by an earlier version holds, as round-001, the model that version shipped. After an upgrade that
ships another model the lists called that copy "shipped", so old projects kept detecting and fine-tuning from the
old network without a word: they now say which model it is, and the dock offers the one this version ships."""

import json

import numpy as np
import pytest
import tifffile
import torch

from helpers import make_widget, notification_count, notifications_since, run_detect, small_stack
from napari_particle_detect.cli import main as cli
from napari_particle_detect.models import load_model, save_model
from napari_particle_detect.models.registry import copy_model, default_model_path
from napari_particle_detect.projects.project import Project, RoundInfo
from napari_particle_detect.projects.shipped_rounds import (
    THIS_VERSION, add_this_versions_model, origin_label, other_version_copies, same_saved_model, shipped_weights,
)

pytestmark = pytest.mark.usefixtures("project_home")

COPIED = "2026-11-27 10:00:00"
OLD_LABEL = "shipped as of 2026-11-27; this version ships another"


@pytest.fixture(scope="module")
def older_shipped_model(tmp_path_factory):
    """The model an earlier version shipped: today's with other weights and another tuned threshold."""
    model = load_model(default_model_path(), "cpu")
    with torch.no_grad():
        next(model.network.parameters()).add_(0.01)
    model.card.threshold = 0.35
    return save_model(model, tmp_path_factory.mktemp("older-install") / "unet.pt")


def upgraded_project(folder, older_model) -> tuple[Project, "np.ndarray"]:
    """An image beside the project an earlier version made of it: its round-001 a copy of that version's shipped
    model, recorded as that version recorded it (origin 'shipped', the day it was copied)."""
    stack = small_stack(2, 48)
    tifffile.imwrite(folder / "movie.tif", stack)
    project = Project.open(folder / "movie.tif", n_frames=2, frame_shape=(48, 48))
    workspace = project.new_workspace()
    copy_model(older_model, workspace / "model.pt")
    project.commit_round(workspace, RoundInfo(number=0, origin="shipped", created=COPIED))
    return project, stack


def test_a_copy_of_an_older_shipped_model_is_labelled_so_and_todays_can_be_added(tmp_path, older_shipped_model,
                                                                                capsys):
    project, _ = upgraded_project(tmp_path, older_shipped_model)
    old = project.round(1)
    assert origin_label(project, old) == OLD_LABEL and other_version_copies(project) == [old]
    assert cli.main(["rounds", str(project.folder)]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[1].startswith("001    shipped*")
    assert listing[2] == (f"* round-001: {OLD_LABEL} ({default_model_path()}; the dock's Model list offers it as "
                          f"'{THIS_VERSION}')")

    today = add_this_versions_model(project)
    assert (today.number, today.origin, project.current_round.number) == (2, "shipped", 2)
    assert same_saved_model(project.round_path(2), default_model_path())
    assert origin_label(project, today) == "shipped" and other_version_copies(project) == []
    assert cli.main(["rounds", str(project.folder)]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[3] == f"* round-001: {OLD_LABEL}"  # starred still; today's model is in: no way to it to say

    # A project this version makes holds today's model: "shipped", as before.
    fresh = Project.open(tmp_path / "fresh.tif", n_frames=1, frame_shape=(48, 48))
    assert origin_label(fresh, fresh.ensure_initial_round()) == "shipped" and other_version_copies(fresh) == []
    # The shipped model a round copies: its kind's, or the one its origin names (a volume project's).
    rods = Project.open(tmp_path / "rods.tif", n_frames=1, frame_shape=(48, 48), kind="rods")
    assert shipped_weights(rods, RoundInfo(1, "shipped")).name == "rods.pt"
    assert shipped_weights(project, RoundInfo(1, "shipped unet3d")).name == "unet3d.pt"
    assert shipped_weights(project, RoundInfo(1, "fine-tuned", parent=1)) is None


def test_the_dock_says_so_once_and_detects_with_this_versions_model_when_chosen(make_napari_viewer, tmp_path, qtbot,
                                                                              older_shipped_model):
    project, _ = upgraded_project(tmp_path, older_shipped_model)
    viewer = make_napari_viewer()
    viewer.open(tmp_path / "movie.tif", plugin="napari")
    start = notification_count()
    widget = make_widget(viewer, None)
    panel = widget.detect
    said = [line for line in notifications_since(start) if "this version ships another" in line]
    assert said == [f"{project.folder}: round-001: {OLD_LABEL} ({default_model_path()}); choose '{THIS_VERSION}' "
                    "in the Model list to detect and fine-tune with it"]
    labels = [panel.model_combo.itemText(i) for i in range(panel.model_combo.count())]
    assert labels == [f"round-001 ({OLD_LABEL})", THIS_VERSION]
    assert widget.finetune.table.item(0, 1).text() == "shipped*"

    index = panel.model_combo.findText(THIS_VERSION)
    panel.model_combo.setCurrentIndex(index)
    panel.model_combo.activated.emit(index)  # as the user's choice
    assert project.current_round.number == 2 and same_saved_model(project.round_path(2), default_model_path())
    shipped_threshold = json.loads(default_model_path().with_suffix(".json").read_text())["threshold"]
    assert widget.state.threshold == pytest.approx(shipped_threshold)  # today's model's, not the older one's 0.35
    labels = [panel.model_combo.itemText(i) for i in range(panel.model_combo.count())]
    assert labels == [f"round-001 ({OLD_LABEL})", "round-002 (shipped)"] and panel.model_combo.currentIndex() == 1

    run_detect(widget, qtbot, scope=0)
    assert project.detected_by == {0: 2}  # Fine-tune starts from the round in use too: today's model
    assert len(widget.annotation.points.data) > 0
