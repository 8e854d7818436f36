"""A round whose model file was deleted by hand or damaged was listed by ``rounds`` and the Rods and chains dock
with no word of it; centres saved beyond the frame counted as misses (a held-out rods/chains tile on that edge) or
drew training crops to the edge (a fine-tune round's mistakes), as mask_at takes an outside point's edge pixel."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.cli import main as cli
from napari_particle_detect.kinds.registry import get_kind
from napari_particle_detect.learning.finetune import Candidates, Split, _mistakes
from napari_particle_detect.learning.kinds_rounds import kind_score
from napari_particle_detect.learning.training import Example
from napari_particle_detect.projects.kinds_project import ensure_kind_round
from napari_particle_detect.projects.project import Project, RoundInfo
from napari_particle_detect.synthetic.rods import rod_table

pytestmark = pytest.mark.usefixtures("project_home")
SHAPE = (64, 64)


def _listed_row(project: Project, capsys, number: int = 1) -> str:
    assert cli.main(["-q", "rounds", str(project.folder)]) == 0
    out = capsys.readouterr().out
    return next(line for line in out.splitlines() if line.startswith(f"{number:03d} "))


def test_rounds_lists_a_round_whose_model_file_is_damaged_or_gone_as_such(tmp_path: Path, capsys) -> None:
    project = Project.open(tmp_path / "movie.particle-detect", n_frames=2, frame_shape=SHAPE)
    project.ensure_initial_round()
    assert "model file" not in _listed_row(project, capsys)

    project.round_path(1).write_bytes(b"\x01\x02 not a model")
    assert _listed_row(project, capsys).endswith("(in use)  model file damaged")
    shutil.rmtree(project.folder / "rounds")
    assert _listed_row(project, capsys).endswith("(in use)  model file missing")


def _fine_tuned_copy_of_round_1(project: Project) -> RoundInfo:
    workspace = project.new_workspace()
    for suffix in (".pt", ".json"):
        shutil.copyfile(project.round_path(1).with_suffix(suffix), workspace / f"model{suffix}")
    info = RoundInfo(0, "fine-tuned", parent=1, held_out=3, f1=0.9, parent_f1=0.8, improved=True)
    return project.commit_round(workspace, info, make_current=False)


def test_the_rods_dock_says_a_rounds_model_file_is_damaged_or_missing(make_napari_viewer) -> None:
    from helpers import kinds_dock

    viewer = make_napari_viewer()
    viewer.add_image(np.zeros(SHAPE, np.float32), name="img")
    widget = kinds_dock(viewer, "rods", "img")
    project = widget.session.project
    ensure_kind_round(project)  # round-001, the shipped model, as Detect makes it
    tuned = _fine_tuned_copy_of_round_1(project)
    project.round_path(tuned.number).write_bytes(b"garbage")
    widget.rounds.refresh()

    table = widget.rounds.table
    result = table.columnCount() - 1
    assert table.item(0, result).text() == "in use, shipped"
    assert table.item(1, result).text() == "kept; model file damaged"
    assert table.item(1, 0).toolTip().endswith("; model file damaged")
    shutil.rmtree(project.folder / "rounds")
    widget.rounds.refresh()
    assert table.item(0, result).text() == "in use, shipped; model file missing"
    assert table.item(1, result).text() == "kept; model file missing"
    assert table.item(0, 0).toolTip() == "round-001: shipped; model file missing"


def _split(train: np.ndarray, held: np.ndarray, centres: np.ndarray) -> Split:
    return Split(Example(np.zeros(SHAPE, np.float32), centres), train, held, 3.0)


def test_a_rod_saved_beyond_the_frame_is_no_miss_on_a_held_out_tile_at_that_edge() -> None:
    kind = get_kind("rods")
    inside = rod_table([40.0], [30.0], [0.0], [16.0], [4.0])
    table = pd.concat([inside, rod_table([500.0], [30.0], [0.0], [16.0], [4.0])], ignore_index=True)
    held = np.zeros(SHAPE, bool)
    held[32:, :] = True  # the tile reaches the bottom edge
    maps, _ = kind.encode(inside, SHAPE)  # a model that finds the one rod in the frame

    scored = kind_score(kind, [_split(~held, held, np.zeros((0, 2)))], [table], [maps])
    assert scored.counts.fn == 0 and scored.f1 == 1.0


def test_a_centre_saved_beyond_the_frame_is_no_mistake_to_train_on() -> None:
    train = np.zeros(SHAPE, bool)
    train[32:, :] = True  # the training area reaches the bottom edge
    centres = np.array([[40.0, 30.0], [500.0, 10.0]])
    found = Candidates(np.array([[40.0, 30.0]]), np.array([0.9]))

    mistakes = _mistakes(_split(train, ~train, centres), found, 0.5)
    assert mistakes.shape == (0, 2)


def test_the_registry_says_why_a_file_is_no_torch_file_by_a_public_name(tmp_path: Path) -> None:
    from napari_particle_detect.models.registry import not_torch_file

    garbled = tmp_path / "model.pt"
    garbled.write_bytes(b"\x01\x02 not a model")
    assert not_torch_file(garbled) == "not a PyTorch archive"
    garbled.write_bytes(b"")
    assert not_torch_file(garbled) == "empty"
