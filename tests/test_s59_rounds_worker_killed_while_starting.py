"""A remote round's worker killed while it starts the round (a GPU node's worker loading torch and CUDA for its first
task): the line stayed on "starting the round on the dask worker X…" until the round gave up on every worker, 10 s
later. It says at once that the round waits for a worker to join."""

import threading
import time
from dataclasses import replace

import pytest

from napari_particle_detect._napari.round_progress import describe
from napari_particle_detect.learning import remote
from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.remote import run_round_remote
from napari_particle_detect.learning.training import TrainingCancelled

from helpers import reviewed_project
from remote_setups import empty_scheduler, worker_in_thread

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.usefixtures("project_home")
TINY = replace(FINE_TUNE, steps_per_epoch=5, batch_size=1, crop=32, unlabelled_frames=0)
# A few of the round's checks for its worker (WORKER_CHECK_S, shortened below), on a loaded 2-core machine.
PROMPT_S = 2.0
# Module-level: the round's task travels pickled (by reference, to this process's worker thread).
STARTED, RELEASED = threading.Event(), threading.Event()


def never_starts(*args, **kwargs) -> dict:
    """The round's task, still starting when its worker is killed (it puts no "running_on"); let go at the end, into
    a worker the scheduler no longer has."""
    STARTED.set()
    RELEASED.wait(30)
    raise RuntimeError("the worker was killed while it started the round")


def test_a_worker_killed_while_it_starts_the_round_is_said_gone_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr(remote, "QUEUED_AFTER_S", 0.2)
    monkeypatch.setattr(remote, "WORKER_CHECK_S", 0.3)
    monkeypatch.setattr(remote, "CONNECT_TIMEOUT_S", PROMPT_S + 1)  # the time the line stayed on "starting…"
    STARTED.clear()
    RELEASED.clear()
    monkeypatch.setattr(remote, "remote_fine_tune", never_starts)
    tell_queued = remote._tell_queued

    def once_started(*args, **kwargs) -> bool:
        STARTED.wait(30)  # the task on its worker before the round looks, however loaded the machine
        return tell_queued(*args, **kwargs)

    monkeypatch.setattr(remote, "_tell_queued", once_started)
    project, stack = reviewed_project(tmp_path)
    lines: list[tuple[float, str]] = []
    with empty_scheduler() as cluster, distributed.Client(cluster) as client, \
            worker_in_thread(cluster.scheduler_address) as worker:
        scheduler = cluster.scheduler

        def said(event: dict) -> None:
            lines.append((time.monotonic(), describe(event).text))
            if event.get("starting_on") == worker:  # as a kill -9 of the worker: the scheduler loses it
                cluster.loop.add_callback(scheduler.remove_worker, worker, stimulus_id="killed", close=False)

        def heard_gone() -> bool:
            return any(text.startswith("waiting for a dask worker to join") for _, text in lines)

        try:
            with pytest.raises(TrainingCancelled):
                run_round_remote(project, stack, client, TINY, device="cpu", progress=said, cancel=heard_gone)
        finally:
            RELEASED.set()
    texts = [text for _, text in lines]
    starting = next(i for i, text in enumerate(texts) if text == f"starting the round on the dask worker {worker}…")
    gone = next(i for i, text in enumerate(texts) if text.startswith("waiting for a dask worker to join"))
    assert STARTED.is_set() and gone == starting + 1, texts
    assert lines[gone][0] - lines[starting][0] < PROMPT_S, lines
    assert not project.rounds or project.rounds[-1].parent is None  # cancelled: nothing added
