"""An older rods, chains or volume project holds, as round-001, the model an earlier version shipped. After an upgrade
that ships another model its dock kept detecting and fine-tuning with the older one and nothing visible said so: the
rounds table's "in use" hid the starred origin, the note gave way to a fine-tuned round's verdict, and the `rounds`
footnote sent users to a Model list these docks do not have. They now say so always and offer a button."""

import json

import numpy as np
import pytest
import tifffile
import torch

from helpers import kinds_dock, notification_count, notifications_since, small_stack
from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect.cli import main as cli
from napari_particle_detect.detection.kinds_prediction import shipped_model_path
from napari_particle_detect.learning.volume_rounds import open_volume_project
from napari_particle_detect.models import load_model, save_model
from napari_particle_detect.models.registry import copy_model, default_model_path
from napari_particle_detect.projects.kinds_project import open_kind_project
from napari_particle_detect.projects.project import Project, RoundInfo
from napari_particle_detect.projects.shipped_rounds import USE_THIS_VERSION, same_saved_model

pytestmark = pytest.mark.usefixtures("project_home")

COPIED = "2026-11-27 10:00:00"
OLD_LABEL = "shipped as of 2026-11-27; this version ships another"
OFFERED = f"'{USE_THIS_VERSION}' detects and fine-tunes with it"


def older_model(shipped, folder):
    """The model an earlier version shipped: today's with other weights and another tuned threshold."""
    model = load_model(shipped, "cpu")
    with torch.no_grad():
        next(model.network.parameters()).add_(0.01)
    model.card.threshold = 0.35
    return save_model(model, folder / shipped.name)


@pytest.fixture(scope="module")
def older_models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("older-install")
    return {name: older_model(path, folder) for name, path in
            (("rods", shipped_model_path("rods")), ("unet3d", default_model_path("unet3d")))}


def add_round(project: Project, model, info: RoundInfo, make_current: bool = True) -> None:
    workspace = project.new_workspace()
    copy_model(model, workspace / "model.pt")
    project.commit_round(workspace, info, make_current=make_current)


def upgraded_rods_project(folder, older) -> Project:
    """A rods stack whose project an earlier version made: round-001 a copy of that version's rods.pt (recorded as
    it recorded it) and a fine-tuned round-002 that was not better, round-001 still in use (as the audit's)."""
    stack = small_stack(2, 48)
    tifffile.imwrite(folder / "rods.tif", stack)
    project = open_kind_project("rods", folder / "rods.tif", data=stack)
    add_round(project, older, RoundInfo(0, "shipped", created=COPIED))
    add_round(project, older, RoundInfo(0, "fine-tuned", parent=1, held_out=3, f1=0.82, parent_f1=0.95,
                                        improved=False), make_current=False)
    return project


def upgraded_volume_project(folder, older) -> Project:
    volume = np.zeros((8, 24, 24), np.uint16)
    tifffile.imwrite(folder / "vol.tif", volume)
    project = open_volume_project(folder / "vol.tif", volume[None])
    add_round(project, older, RoundInfo(0, "shipped unet3d", created=COPIED))
    return project


def card_threshold(weights) -> float:
    return json.loads(weights.with_suffix(".json").read_text())["threshold"]


def test_the_rods_dock_says_it_detects_with_an_older_model_and_its_button_puts_todays_in_use(
        make_napari_viewer, tmp_path, older_models):
    project = upgraded_rods_project(tmp_path, older_models["rods"])
    viewer = make_napari_viewer()
    viewer.open(tmp_path / "rods.tif", plugin="napari")
    widget = kinds_dock(viewer, "rods", "rods")
    panel = widget.rounds
    cells = lambda row: [panel.table.item(row, col).text() for col in range(panel.table.columnCount())]  # noqa: E731
    assert cells(0) == ["round-001 ✓", "–", "–", "–", "in use, shipped*"]  # the star shows on the round in use
    # The last round's verdict and the note, both.
    assert panel.status.text().startswith("round-002: held-out F1 0.820 vs 0.950")
    assert not panel.this_version.isHidden() and panel.this_version.button.isEnabled()
    assert panel.this_version.note.text() == f"round-001: {OLD_LABEL} (rods.pt); {OFFERED}"
    assert widget.review_threshold() == pytest.approx(0.35)

    start = notification_count()
    panel.this_version.button.click()
    assert project.current_round.number == 3 and same_saved_model(project.round_path(3), shipped_model_path("rods"))
    assert notifications_since(start) == [f"{project.folder}: the model this version ships (rods.pt) is now "
                                          "round-003, used by Detect and Fine-tune"]
    assert panel.status.text() == "round-003 in use from now on (the model this version ships)"
    assert [cells(row)[-1] for row in range(3)] == ["shipped*", "worse", "in use, shipped"]
    assert panel.this_version.isHidden()  # nothing more to offer; the star stays on round-001
    assert widget.session.model_path() == project.round_path(3)
    assert widget.review_threshold() == pytest.approx(card_threshold(shipped_model_path("rods")))


def test_the_volume_dock_says_so_and_its_button_puts_todays_3d_model_in_use(make_napari_viewer, tmp_path,
                                                                             older_models):
    project = upgraded_volume_project(tmp_path, older_models["unet3d"])
    viewer = make_napari_viewer()
    viewer.open(tmp_path / "vol.tif", plugin="napari")
    dock = VolumeDetectWidget(viewer)
    rounds = dock.round_panel
    assert dock.review.project.folder == project.folder
    assert "▶ round-001: shipped unet3d as of 2026-11-27; this version ships another" in rounds.rounds_label.text()
    assert rounds.this_version.note.text() == (f"round-001: shipped unet3d as of 2026-11-27; this version ships "
                                               f"another (unet3d.pt); {OFFERED}")
    assert not rounds.this_version.isHidden()

    rounds.this_version.button.click()
    assert project.current_round.number == 2 and same_saved_model(project.round_path(2), default_model_path("unet3d"))
    assert rounds.status.text() == "round-002 in use from now on (the model this version ships)"
    assert "▶ round-002: shipped unet3d" in rounds.rounds_label.text() and rounds.this_version.isHidden()
    assert dock.review_threshold() == pytest.approx(card_threshold(default_model_path("unet3d")))


def test_the_rounds_footnote_names_the_docks_way_to_todays_model(tmp_path, older_models, capsys):
    rods = upgraded_rods_project(tmp_path, older_models["rods"])
    volumes = upgraded_volume_project(tmp_path, older_models["unet3d"])
    for project, dock, shipped in ((rods, "Rods and chains", shipped_model_path("rods")),
                                   (volumes, "Volume detection (3D)", default_model_path("unet3d"))):
        assert cli.main(["rounds", str(project.folder)]) == 0
        footnote = capsys.readouterr().out.splitlines()[-1]
        assert footnote == (f"* round-001: {project.round(1).origin} as of 2026-11-27; this version ships another "
                            f"({shipped}; the {dock} dock's '{USE_THIS_VERSION}' button puts it in use)")
