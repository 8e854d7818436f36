"""A remote round whose task waits behind other work when every worker of the scheduler is lost (killed, say) stops
with one line and changes nothing, instead of waiting for ever while the dock says the workers are busy."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning import remote
from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.remote import run_round_remote

from helpers import reviewed_project
from remote_setups import scheduler_with_worker_process

distributed = pytest.importorskip("distributed")


def test_a_queued_round_whose_every_worker_is_killed_stops_in_one_line(tmp_path, monkeypatch):
    project, stack = reviewed_project(tmp_path)
    # Short waits for the test, in the order the round takes them: the scheduler is first asked for workers
    # (one is there, busy), then the round says it waits for it.
    monkeypatch.setattr(remote, "CONNECT_TIMEOUT_S", 1)
    monkeypatch.setattr(remote, "QUEUED_AFTER_S", 1.5)
    monkeypatch.setattr(remote, "WORKER_CHECK_S", 0.2)
    events, outcome = [], {}
    with scheduler_with_worker_process() as (cluster, client, worker):
        address = cluster.scheduler_address
        client.submit(time.sleep, 60, pure=False)  # another user's work on the only worker

        def run() -> None:
            try:
                run_round_remote(project, stack, address, replace(FINE_TUNE, steps_per_epoch=5), device="cpu",
                                 progress=events.append)
            except BaseException as exc:  # noqa: BLE001 - handed to the test
                outcome["error"] = exc

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not any(event["phase"] == "queued" for event in events) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(event["phase"] == "queued" for event in events), events
        worker.kill()
        thread.join(10)
    assert not thread.is_alive(), "the round still waits for a worker that is gone"
    assert isinstance(outcome.get("error"), ParticleDetectError), outcome
    assert str(outcome["error"]) == (f"{address}: every dask worker left this scheduler before the round started "
                                     f"(none for 1 s); nothing was changed: start one (dask worker {address}) and "
                                     "start the round again")
    assert not project.leftover_workspaces() and [r.number for r in project.rounds] == [1]
