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


def test_a_round_waiting_for_a_busy_worker_says_so_then_trains(tmp_path, monkeypatch):
    # Said after 0.3 s of waiting, not 2 s: the other work then needs to last only a little longer than the
    # round's preparation (a second or so on a loaded machine) and that.
    monkeypatch.setattr(remote, "QUEUED_AFTER_S", 0.3, raising=False)  # absent before the round said it
    project, stack = reviewed_project(tmp_path)
    events = []
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        busy = client.submit(time.sleep, 2.5, pure=False)  # another user's work on the one worker
        config = replace(FINE_TUNE, steps_per_epoch=5, batch_size=2, crop=32, threads=1)
        run_round_remote(project, stack, client, config, device="cpu", progress=events.append)
        assert busy.done()
    phases = [event["phase"] for event in events]
    # The dock showed "preparing the reviewed frames and regions…" until the worker was free.
    assert "queued" in phases and phases.index("queued") < phases.index("training"), phases
    said = describe(next(event for event in events if event["phase"] == "queued")).text
    assert said == f"waiting for a free dask worker on {cluster.scheduler_address} (busy with other work)…"
    assert phases[-1] == "done"
