"""Two guards of a project's files: every writer of a frame refuses a row whose source is none of
files.tables.SOURCES before anything is written (such a file is no longer read back), and a dock's round
that waits for a project held by another program says so and ends at once on Cancel, changing nothing."""

import threading
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from filelock import FileLock

from napari_particle_detect._napari.round_progress import describe, train_round
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.training import TrainingCancelled
from napari_particle_detect.projects.kinds_project import (
    accept_kind_frame, accept_kind_region, load_kind_frame, open_kind_project, save_kind_frame,
)
from napari_particle_detect.projects.project import Project

from helpers import reviewed_project

BAD = "typed by hand"
TINY_ROUND = replace(FINE_TUNE, steps_per_epoch=2, batch_size=1, crop=32, threads=1)


def centres(source: str) -> pd.DataFrame:
    return pd.DataFrame({"y": [5.0, 9.0], "x": [6.0, 9.0], "score": [0.9, np.nan], "source": ["model", source]})


def rods(source: str) -> pd.DataFrame:
    return centres(source).assign(angle=[10.0, 20.0], length=[8.0, 9.0])


SPHERE_WRITERS = {
    "save_frame": lambda p, t: p.save_frame(1, t),
    "save_frame_merging": lambda p, t: p.save_frame_merging(1, t, p.frame_snapshot(1)),
    "accept_frame": lambda p, t: p.accept_frame(1, t),
    "accept_frame_merging": lambda p, t: p.accept_frame_merging(1, t, None),
    "accept_region": lambda p, t: p.accept_region(1, (0, 0, 20, 20), t),
    "accept_region_merging": lambda p, t: p.accept_region_merging(1, (0, 0, 20, 20), t, None),
}
KIND_WRITERS = {
    "save_kind_frame": lambda p, t: save_kind_frame(p, 1, t),
    "accept_kind_frame": lambda p, t: accept_kind_frame(p, 1, t),
    "accept_kind_region": lambda p, t: accept_kind_region(p, 1, (0, 0, 20, 20), t),
}


def assert_refused_and_nothing_written(project: Project, write, table: pd.DataFrame, reopen) -> None:
    files = {p: p.read_bytes() for p in project.folder.rglob("*") if p.is_file() and p.name != ".lock"}
    with pytest.raises(ParticleDetectError) as refused:
        write(project, table)
    said = str(refused.value)
    assert "\n" not in said
    assert said.startswith(f"{project.folder}: frame 1: unknown source '{BAD}' (expected model, added, accepted)")
    assert said.endswith("nothing was written"), said
    after = {p: p.read_bytes() for p in project.folder.rglob("*") if p.is_file() and p.name != ".lock"}
    assert after == files
    reopened = reopen()
    assert reopened.problems == [] and reopened.saved_frames() == [0] and reopened.reviewed_frames == [0]


@pytest.mark.parametrize("writer", list(SPHERE_WRITERS))
def test_every_sphere_writer_refuses_an_unknown_source_and_the_project_opens_with_what_it_held(tmp_path, writer):
    project = Project.open(tmp_path / "cells.tif", n_frames=3, frame_shape=(32, 32))
    project.accept_frame(0, centres("added"))
    before = project.load_all()
    assert_refused_and_nothing_written(project, SPHERE_WRITERS[writer], centres(BAD),
                                       lambda: Project.open(tmp_path / "cells.tif"))
    pd.testing.assert_frame_equal(Project.open(tmp_path / "cells.tif").load_all(), before)


@pytest.mark.parametrize("writer", list(KIND_WRITERS))
def test_every_kind_writer_refuses_an_unknown_source_and_the_project_opens_with_what_it_held(tmp_path, writer):
    image = tmp_path / "rods.tif"
    project = open_kind_project("rods", image_path=image)
    accept_kind_frame(project, 0, rods("added"))
    before = load_kind_frame(project, 0)
    assert_refused_and_nothing_written(project, KIND_WRITERS[writer], rods(BAD),
                                       lambda: open_kind_project("rods", image_path=image))
    pd.testing.assert_frame_equal(load_kind_frame(open_kind_project("rods", image_path=image), 0), before)


def test_a_first_save_with_an_unknown_source_leaves_no_project_behind(tmp_path):
    project = Project.open(tmp_path / "cells.tif", n_frames=3)
    with pytest.raises(ParticleDetectError, match="unknown source"):
        project.save_frame(1, centres(BAD))
    assert not project.folder.exists()


@pytest.fixture
def reviewed(tmp_path):
    """A project of two 64 px frames, both accepted, whose round 1 is a barely trained model."""
    return reviewed_project(tmp_path)


class DockRound:
    """A round's job in a worker thread, as the docks start it: ``job(progress, cancel)``."""

    def __init__(self, job, on_event=lambda event: None) -> None:
        self.events: list[dict] = []
        self.cancel, self.ended = threading.Event(), threading.Event()
        self.outcome: object = None

        def report(event: dict) -> None:
            self.events.append(event)
            on_event(event)

        def run() -> None:
            try:
                self.outcome = job(report, self.cancel.is_set)
            except BaseException as exc:  # noqa: BLE001 - handed to the test
                self.outcome = exc
            finally:
                self.ended.set()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def phases(self) -> list[str]:
        return [e["phase"] for e in self.events]

    def wait_for(self, phase: str, count: int = 1, limit_s: float = 30.0) -> None:
        deadline = time.monotonic() + limit_s
        while self.phases().count(phase) < count and not self.ended.is_set():
            assert time.monotonic() < deadline, self.phases()
            time.sleep(0.01)
        assert self.phases().count(phase) >= count, (self.phases(), self.outcome)

    def cancel_and_time(self) -> float:
        pressed = time.monotonic()
        self.cancel.set()
        assert self.ended.wait(5.0)
        return time.monotonic() - pressed


def sphere_round(project: Project, stack: np.ndarray, on_event=lambda event: None) -> DockRound:
    """train_round, as the Fine-tune panel starts it."""
    return DockRound(lambda report, cancel: train_round(project, stack, TINY_ROUND, "cpu", progress=report,
                                                        cancel=cancel), on_event)


def assert_unchanged(project: Project) -> None:
    reopened = Project.open(project.folder)
    assert [r.number for r in reopened.rounds] == [1] and reopened.current_round.number == 1
    assert not list((project.folder / "rounds").glob(".building-*")) and reopened.problems == []


def test_a_round_waiting_for_a_project_held_elsewhere_says_so_and_cancel_ends_it_at_once(reviewed):
    project, stack = reviewed
    elsewhere = FileLock(str(project.folder / ".lock"))  # another window or a command-line run
    with elsewhere:
        run = sphere_round(project, stack)
        run.wait_for("waiting")
        assert describe(run.events[-1]).text == "waiting for the project, held by another window or program…"
        took = run.cancel_and_time()
    print(f"the round ended {took:.2f} s after Cancel")
    assert took < 1.0
    assert isinstance(run.outcome, TrainingCancelled), run.outcome
    assert_unchanged(project)


def test_a_finished_round_waiting_to_be_added_is_dropped_at_once_on_cancel(reviewed):
    project, stack = reviewed
    elsewhere = FileLock(str(project.folder / ".lock"), thread_local=False)
    trained, held = threading.Event(), threading.Event()

    def hold_the_project_once_trained(event: dict) -> None:
        if event["phase"] == "done":  # the round is trained and about to be added to the project
            trained.set()
            assert held.wait(10.0)

    run = sphere_round(project, stack, hold_the_project_once_trained)
    assert trained.wait(60.0), run.phases()
    with elsewhere:
        held.set()
        run.wait_for("waiting")
        took = run.cancel_and_time()
    print(f"the round ended {took:.2f} s after Cancel")
    assert took < 1.0
    assert isinstance(run.outcome, TrainingCancelled), run.outcome
    assert_unchanged(project)
