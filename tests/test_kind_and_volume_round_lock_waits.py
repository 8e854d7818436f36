"""The rods/chains and volume docks' rounds, as the spheres' (test_frame_sources_and_cancelled_lock_waits.py):
one that waits for a project held by another program says so, and Cancel ends it at once with the usual
cancelled verdict, a finished round waiting to be added is dropped, and nothing in the project changes."""

import threading
from pathlib import Path

import pandas as pd
import pytest
import torch
from filelock import FileLock

from napari_particle_detect._napari.round_progress import describe
from napari_particle_detect.learning.kinds_rounds import train_kind_round
from napari_particle_detect.learning.training import TrainingCancelled
from napari_particle_detect.learning.volume_finetune import VolumeRoundConfig
from napari_particle_detect.learning.volume_rounds import (
    VolumeSettings, ensure_volume_round, open_volume_project, remember_settings, train_volume_round,
)
from napari_particle_detect.projects.kinds_project import accept_kind_frame, kind_model_path, open_kind_project
from napari_particle_detect.projects.project import Project
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

from test_frame_sources_and_cancelled_lock_waits import DockRound
from test_kinds_rounds import TINY as TINY_KIND_ROUND, rod_stack

TINY_VOLUME_ROUND = VolumeRoundConfig(steps=2, batch_size=1, crop=16, threads=1)
WAITING = "waiting for the project, held by another window or program…"


def project_files(project: Project) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in project.folder.rglob("*") if p.is_file() and p.name != ".lock"}


def assert_cancelled_at_once_and_unchanged(run: DockRound, project: Project, before: dict[Path, bytes]) -> None:
    """Cancel pressed while the round waits for the project held elsewhere: it ends within a poll of the lock,
    as cancelled, and leaves the project's files as they were (no workspace, no round)."""
    run.wait_for("waiting")
    assert describe(run.events[-1]).text == WAITING
    took = run.cancel_and_time()
    print(f"the round ended {took:.2f} s after Cancel")
    assert took < 1.0
    assert isinstance(run.outcome, TrainingCancelled), run.outcome
    assert project_files(project) == before
    reopened = Project.open(project.folder, kind=project.state().kind)
    assert [r.number for r in reopened.rounds] == [1] and reopened.current_round.number == 1
    assert not list((project.folder / "rounds").glob(".building-*")) and reopened.problems == []


def test_a_rods_round_waiting_for_a_project_held_elsewhere_says_so_and_cancel_ends_it_at_once(project_home):
    stack, tables = rod_stack(1)
    project = open_kind_project("rods", name="held", data=stack)
    accept_kind_frame(project, 0, tables[0])
    kind_model_path(project)  # round 1, made before the round starts as the dock does
    before = project_files(project)
    with FileLock(str(project.folder / ".lock")):  # another window or a command-line run
        # Trained, the round waits for the project to make the workspace it saves the new round in.
        run = DockRound(lambda report, cancel: train_kind_round(project, stack, TINY_KIND_ROUND, "cpu",
                                                                progress=report, cancel=cancel))
        assert_cancelled_at_once_and_unchanged(run, project, before)


@pytest.fixture
def volume_project(tmp_path):
    """A volume project with round 1, its particle size known and its one volume accepted."""
    torch.set_num_threads(1)
    sample = synthesize_volume(VolumeConfig(shape=(16, 48, 48), volume_fraction=0.3), seed=3)
    project = open_volume_project(tmp_path / "v.tif", sample.image)
    ensure_volume_round(project)
    remember_settings(project, VolumeSettings((5.0, 10.0, 10.0), None, sample.image.shape))
    c = sample.centres
    project.accept_frame(0, pd.DataFrame({"z": c[:, 0], "y": c[:, 1], "x": c[:, 2], "score": 0.9, "source": "model"}))
    return project, sample.image


def volume_round(project: Project, volumes, on_event=lambda event: None) -> DockRound:
    return DockRound(lambda report, cancel: train_volume_round(project, volumes, TINY_VOLUME_ROUND,
                                                               progress=report, cancel=cancel), on_event)


def test_a_volume_round_waiting_for_a_project_held_elsewhere_says_so_and_cancel_ends_it_at_once(volume_project):
    project, volumes = volume_project
    before = project_files(project)
    with FileLock(str(project.folder / ".lock")):
        # The round waits for the project to make its workspace, before it trains.
        assert_cancelled_at_once_and_unchanged(volume_round(project, volumes), project, before)


def test_a_finished_volume_round_waiting_to_be_added_is_dropped_at_once_on_cancel(volume_project):
    project, volumes = volume_project
    before = project_files(project)
    elsewhere = FileLock(str(project.folder / ".lock"), thread_local=False)
    trained, held = threading.Event(), threading.Event()

    def hold_the_project_once_trained(event: dict) -> None:
        if event["phase"] == "done":  # trained in its workspace: saved next, then added to the project
            trained.set()
            assert held.wait(10.0)

    run = volume_round(project, volumes, hold_the_project_once_trained)
    assert trained.wait(60.0), (run.phases(), run.outcome)
    assert list((project.folder / "rounds").glob(".building-*/"))  # the workspace the cancel must throw away
    with elsewhere:
        held.set()
        assert_cancelled_at_once_and_unchanged(run, project, before)
