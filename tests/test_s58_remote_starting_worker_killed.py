"""A remote round whose worker is killed while it starts the round (loading torch and the round's data, before the
task says it runs): the dock said "starting the round on the dask worker X…" of the dead worker until the round gave
up, CONNECT_TIMEOUT_S later. It says at once that the round waits for a worker to join."""

from dataclasses import replace

import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning import remote
from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.remote import run_round_remote
from napari_particle_detect._napari.round_progress import describe

from helpers import reviewed_project
from remote_setups import scheduler_with_worker_process

pytest.importorskip("distributed")
pytestmark = pytest.mark.usefixtures("project_home")


def test_the_starting_workers_loss_is_told_while_the_round_waits(tmp_path, monkeypatch):
    monkeypatch.setattr(remote, "CONNECT_TIMEOUT_S", 3)
    project, stack = reviewed_project(tmp_path)
    lines = []
    with scheduler_with_worker_process() as (cluster, client, worker):
        def kill_while_starting(event: dict) -> None:
            lines.append(describe(event).text)
            if event["phase"] == "queued" and event.get("starting_on") and worker.poll() is None:
                worker.kill()
                worker.wait()

        with pytest.raises(ParticleDetectError, match="every dask worker left"):
            run_round_remote(project, stack, cluster.scheduler_address,
                             replace(FINE_TUNE, steps_per_epoch=30, batch_size=1, crop=32, unlabelled_frames=0),
                             device="cpu", progress=kill_while_starting)
    starting = next(i for i, line in enumerate(lines) if line.startswith("starting the round on the dask worker"))
    assert lines[-1] == f"waiting for a dask worker to join {cluster.scheduler_address}…", lines[starting:]
    assert [r.number for r in project.rounds] == [1] and not project.leftover_workspaces()
