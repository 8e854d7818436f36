"""A remote round whose workers said their version, then all left before its task started (killed, retired), says
they left, not that no worker ever joined: the user who just saw one there was told to start one as if none had."""

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


def test_workers_that_passed_the_version_check_and_left_are_said_to_have_left(tmp_path, monkeypatch):
    project, stack = reviewed_project(tmp_path)
    monkeypatch.setattr(remote, "CONNECT_TIMEOUT_S", 1)  # how long the round waits with no worker
    outcome = {}
    with scheduler_with_worker_process() as (cluster, client, worker):
        address = cluster.scheduler_address

        def gone_once_asked(event: dict) -> None:
            # Its version asked and the round preparing: the only worker killed before the round's task is sent.
            if event["phase"] == "preparing" and worker.poll() is None:
                worker.kill()
                worker.wait()
                deadline = time.monotonic() + 10
                while client.nthreads() and time.monotonic() < deadline:
                    time.sleep(0.05)

        def run() -> None:
            try:
                run_round_remote(project, stack, address, replace(FINE_TUNE, steps_per_epoch=3), device="cpu",
                                 progress=gone_once_asked)
            except BaseException as exc:  # noqa: BLE001 - handed to the test
                outcome["error"] = exc

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.join(30)
    assert not thread.is_alive()
    assert isinstance(outcome.get("error"), ParticleDetectError), outcome
    assert str(outcome["error"]) == (f"{address}: every dask worker left this scheduler before the round started "
                                     f"(none for 1 s); nothing was changed: start one (dask worker {address}) and "
                                     "start the round again")
    assert not project.leftover_workspaces() and [r.number for r in project.rounds] == [1]
