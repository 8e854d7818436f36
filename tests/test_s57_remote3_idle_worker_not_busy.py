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


def queued_lines(project, stack, client) -> list[str]:
    events = []
    run_round_remote(project, stack, client, TINY, device="cpu", progress=events.append)
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
        other = client.submit(time.sleep, SLOW_START_S + 1, pure=False)  # another user's work on the only worker
        while not client.processing().get(worker):
            time.sleep(0.05)
        said = queued_lines(project, stack, client)
        assert len(said) == 1 and "busy with other work" in said[0], said
        other.result()
