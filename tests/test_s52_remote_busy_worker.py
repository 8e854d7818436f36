"""A remote round queued behind other work on the scheduler's only worker says it waits for a worker."""

import time
from dataclasses import replace

import pytest

from napari_particle_detect._napari.round_progress import describe
from napari_particle_detect.learning import remote
from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.remote import run_round_remote

from helpers import reviewed_project

distributed = pytest.importorskip("distributed")
OTHER_WORK_S = 10  # at most: the other work ends as soon as the round says it waits for it


def other_work(done: str) -> bool:
    """Another user's work on the one worker, until the dask Event ``done`` is set (or OTHER_WORK_S passed)."""
    return distributed.Event(done).wait(OTHER_WORK_S)


def test_a_round_waiting_for_a_busy_worker_says_so_then_trains(tmp_path, monkeypatch):
    # Said after 0.3 s of waiting, not 2 s. The other work lasts until the round said it waits (a fixed 2.5 s
    # was the round's preparation, a second or so on a loaded machine, and that, with room to spare).
    monkeypatch.setattr(remote, "QUEUED_AFTER_S", 0.3, raising=False)  # absent before the round said it
    project, stack = reviewed_project(tmp_path)
    events = []
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        done = distributed.Event("other-work-done", client=client)
        busy = client.submit(other_work, "other-work-done", pure=False)
        while not client.processing().get(next(iter(client.scheduler_info()["workers"]))):
            time.sleep(0.01)  # the worker busy before the round is sent

        def progress(event: dict) -> None:
            events.append(event)
            if event["phase"] == "queued":
                done.set()

        config = replace(FINE_TUNE, steps_per_epoch=5, batch_size=2, crop=32, threads=1)
        run_round_remote(project, stack, client, config, device="cpu", progress=progress)
        assert busy.done() and busy.result() is True  # ended by the round's word, not by its own time-out
    phases = [event["phase"] for event in events]
    # The dock showed "preparing the reviewed frames and regions…" until the worker was free.
    assert "queued" in phases and phases.index("queued") < phases.index("training"), phases
    said = describe(next(event for event in events if event["phase"] == "queued")).text
    assert said == f"waiting for a free dask worker on {cluster.scheduler_address} (busy with other work)…"
    assert phases[-1] == "done"
