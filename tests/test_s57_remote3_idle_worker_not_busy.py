"""A remote round given to an idle worker that takes a while to start it (a worker's first task loads torch and this
package, a GPU node's CUDA too): the dock said "waiting for a free dask worker ... (busy with other work)" of a node
that had no other work. It says the round is starting on that worker; a worker busy with other work is still said
busy."""

import time
from dataclasses import replace

import pytest

from napari_particle_detect.learning import remote
from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.remote import run_round_remote
from napari_particle_detect._napari.round_progress import describe

from helpers import reviewed_project
from remote_setups import empty_scheduler, worker_in_thread

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.usefixtures("project_home")
TINY = replace(FINE_TUNE, steps_per_epoch=5, batch_size=1, crop=32, unlabelled_frames=0)
SLOW_START_S = 0.9  # three times QUEUED_AFTER_S below: the round is still starting when its queued line is due


OTHER_WORK_S = 10  # at most: the other work ends as soon as the round says it waits


def other_work(done: str) -> bool:
    """Another user's work on the only worker, until the dask Event ``done`` is set (or OTHER_WORK_S passed)."""
    return distributed.Event(done).wait(OTHER_WORK_S)


def queued_lines(project, stack, client, said_queued=lambda: None) -> list[str]:
    events = []

    def progress(event: dict) -> None:
        events.append(event)
        if event["phase"] == "queued":
            said_queued()

    run_round_remote(project, stack, client, TINY, device="cpu", progress=progress)
    return [describe(event).text for event in events if event["phase"] == "queued"]


def test_a_round_starting_on_an_idle_worker_is_not_said_to_wait_for_a_busy_one(tmp_path, monkeypatch):
    monkeypatch.setattr(remote, "QUEUED_AFTER_S", 0.3)
    loaded = remote.remote_fine_tune
    started = []

    def slow_to_start(*args, **kwargs) -> dict:
        if not started:  # as a worker loading torch (and CUDA) for its first task; its later tasks start at once
            time.sleep(SLOW_START_S)
        started.append(True)
        return loaded(*args, **kwargs)

    monkeypatch.setattr(remote, "remote_fine_tune", slow_to_start)
    project, stack = reviewed_project(tmp_path)
    with empty_scheduler() as cluster, distributed.Client(cluster) as client, \
            worker_in_thread(cluster.scheduler_address) as worker:
        said = queued_lines(project, stack, client)
        assert said == [f"starting the round on the dask worker {worker}…"], said
        done = distributed.Event("other-work-done", client=client)
        other = client.submit(other_work, "other-work-done", pure=False)
        while not client.processing().get(worker):
            time.sleep(0.05)
        said = queued_lines(project, stack, client, said_queued=done.set)
        assert len(said) == 1 and "busy with other work" in said[0], said
        assert other.result() is True  # ended by the round's word, not by its own time-out
