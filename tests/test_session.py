"""Fine-tuning a project's current round into a workspace, and publishing it as a round."""

import numpy as np
import pandas as pd
import pytest
import torch

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.models import load_model
from napari_particle_detect.project import Project
from napari_particle_detect.session import FineTuneSettings, fine_tune
from napari_particle_detect.synthetic import benchmark_config, synthesize
from napari_particle_detect.training import TrainingCancelled

from helpers import tiny_model_file

TINY_TUNE = FineTuneSettings(epochs=1, steps_per_epoch=3, batch_size=2, crop=32, validation_images=1,
                             validation_size=48, threads=1)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("model"))


@pytest.fixture
def stack():
    return np.stack([synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=s).image for s in range(3)])


def _table(frame, n, source="model"):
    rng = np.random.default_rng(frame)
    return pd.DataFrame({"frame": frame, "y": rng.uniform(0, 60, n), "x": rng.uniform(0, 60, n),
                         "score": rng.uniform(0.3, 1, n), "source": source})


def test_fine_tune_builds_a_round_in_a_workspace_and_commit_publishes_it(tmp_path, tiny_model, stack):
    torch.set_num_threads(1)
    project = Project.open(tmp_path / "img.tif")
    with pytest.raises(ParticleDetectError, match="Detect first"):
        fine_tune(project, stack, TINY_TUNE, device="cpu")
    project.ensure_initial_round(tiny_model)
    project.remember_detection(10.0, "auto")
    with pytest.raises(ParticleDetectError, match="accept at least one"):
        fine_tune(project, stack, TINY_TUNE, device="cpu")
    truth = [synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=s).centres for s in range(3)]
    for frame in (0, 1):
        project.accept_frame(frame, pd.DataFrame({"y": truth[frame][:, 0], "x": truth[frame][:, 1]}))
    events = []
    outcome = fine_tune(project, stack, TINY_TUNE, device="cpu", progress=events.append)
    assert {e["event"] for e in events} == {"step", "epoch"}
    assert outcome.workspace.exists() and project.current_round.number == 1  # not published yet
    assert outcome.info.trained_frames == [0] and outcome.info.held_out == 1
    assert 0.0 <= outcome.info.f1 <= 1.0 and 0.0 <= outcome.info.parent_f1 <= 1.0
    info = project.commit_round(outcome.workspace, outcome.info)
    assert info.name == "round-002" and project.current_round.number == 2
    assert load_model(project.round_path(2)).card.training["fine_tuned_from"] == "round-001"
    assert not project.leftover_workspaces() and not list(project.folder.rglob("*.state.pt"))


def test_cancelled_fine_tune_leaves_the_project_as_it_was(tmp_path, tiny_model, stack):
    project = Project.open(tmp_path / "img.tif")
    project.ensure_initial_round(tiny_model)
    project.remember_detection(10.0, "auto")
    project.accept_frame(0, _table(0, 20))
    before = (project.folder / "state.json").read_text()
    calls = []
    with pytest.raises(TrainingCancelled):
        fine_tune(project, stack, TINY_TUNE, device="cpu", cancel=lambda: calls.append(1) or len(calls) > 2)
    assert (project.folder / "state.json").read_text() == before
    assert not project.leftover_workspaces()
    assert [r.number for r in project.rounds] == [1]
