"""A fine-tuning round sent to a dask worker: progress comes back, Cancel works, the round commits
like a local one."""

from dataclasses import replace

import pytest
import torch

from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.models import load_model
from napari_particle_detect.learning.remote import run_round_remote
from napari_particle_detect.learning.rounds import commit
from napari_particle_detect.learning.training import TrainingCancelled

from helpers import reviewed_project
from remote_setups import scheduler_with_worker_thread

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    # The worker in a thread of this process, its tasks still sent over TCP and pickled: a worker process imported
    # torch and this package for the first round, about 4 s, and no test here kills or stops it.
    with scheduler_with_worker_thread() as (_, client, _):
        yield client


@pytest.fixture
def project(tmp_path):
    torch.set_num_threads(1)
    return reviewed_project(tmp_path)


def test_a_remote_round_streams_progress_and_commits_like_a_local_one(client, project):
    project, stack = project
    events = []
    config = replace(FINE_TUNE, steps_per_epoch=10, batch_size=2, crop=32, threads=1)
    outcome = run_round_remote(project, stack, client, config, device="cpu", progress=events.append)
    phases = [e["phase"] for e in events]
    assert "training" in phases and phases[-1] == "done"
    assert max(e["step"] for e in events if e["phase"] == "training") == 10
    info = commit(project, outcome)
    assert [r.number for r in project.rounds] == [1, 2] and info.parent == 1 and info.held_out >= 1
    model = load_model(project.round_path(2))
    assert model.card.training["fine_tuned"]["examples"] == 2


def test_cancelling_a_remote_round_stops_it_and_leaves_nothing(client, project):
    project, stack = project
    seen = []
    config = replace(FINE_TUNE, steps_per_epoch=100_000, batch_size=2, crop=32, threads=1)
    with pytest.raises(TrainingCancelled):
        run_round_remote(project, stack, client, config, device="cpu", progress=seen.append,
                         cancel=lambda: any(e["phase"] == "training" for e in seen))
    assert not project.leftover_workspaces() and [r.number for r in project.rounds] == [1]
    # The worker stopped too: it is free for the next task at once.
    assert client.submit(lambda: 1 + 1, pure=False).result(timeout=30) == 2


def _in_a_worker_s_task() -> bool:
    """Whether this runs as a task of a dask worker (not the test's own calls)."""
    try:
        distributed.get_worker()
    except ValueError:
        return False
    return True


def _pretend_gpu_defaults(on: bool) -> None:
    """On the worker: round defaults as if it trained on a GPU (12 steps, 1 frame: short for a test). The worker runs
    in this process (a thread), so only its tasks see a GPU: the test's own side still has this computer's CPU
    defaults, and a round that took those instead of the worker's is told apart."""
    from napari_particle_detect.learning import finetune

    if on:
        finetune._saved_defaults = (finetune._on_gpu, finetune.GPU_ROUND_STEPS, finetune.GPU_ROUND_BATCH,
                                    finetune.GPU_ROUND_UNLABELLED)
        on_cpu = finetune._on_gpu
        finetune._on_gpu, finetune.GPU_ROUND_STEPS, finetune.GPU_ROUND_BATCH, finetune.GPU_ROUND_UNLABELLED = (
            (lambda device: _in_a_worker_s_task() or on_cpu(device)), 12, 2, 1)
    else:
        (finetune._on_gpu, finetune.GPU_ROUND_STEPS, finetune.GPU_ROUND_BATCH,
         finetune.GPU_ROUND_UNLABELLED) = finetune._saved_defaults


def test_a_remote_round_at_the_dock_s_defaults_trains_as_many_steps_as_the_worker_takes(client, project):
    project, stack = project
    client.run(_pretend_gpu_defaults, True)
    try:
        events = []
        config = replace(FINE_TUNE, steps_per_epoch=10, batch_size=2, crop=32, threads=1)
        run_round_remote(project, stack, client, config, device="cpu", progress=events.append, worker_defaults=True)
        assert max(e["step"] for e in events if e["phase"] == "training") == 12
        assert any(e["phase"] == "preparing" and e.get("steps") == 12 and e.get("unlabelled_frames") == 1
                   for e in events)
        events.clear()
        run_round_remote(project, stack, client, config, device="cpu", progress=events.append)
        assert max(e["step"] for e in events if e["phase"] == "training") == 10  # the user's own count
    finally:
        client.run(_pretend_gpu_defaults, False)


def _in_thread(call, limit_s: float):
    """``call()``'s result or exception, or "hung" if it has not returned within ``limit_s``."""
    import threading

    outcome = {}

    def run():
        try:
            outcome["result"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit_s)
    return "hung" if thread.is_alive() else outcome.get("error", outcome.get("result"))


def test_a_round_at_the_worker_s_defaults_without_a_worker_obeys_cancel_and_then_says_so(project, monkeypatch):
    import time

    from napari_particle_detect.errors import ParticleDetectError
    from napari_particle_detect.learning import remote

    project, stack = project
    monkeypatch.setattr(remote, "CONNECT_TIMEOUT_S", 1, raising=False)  # a short wait for the test
    cluster = distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None,
                                       scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})  # 8787 may be taken
    try:
        with distributed.Client(cluster) as empty:
            config = replace(FINE_TUNE, steps_per_epoch=10, batch_size=2, crop=32, threads=1)
            start = time.monotonic()
            # The dock's call while its boxes hold the defaults: the worker is asked for its own first.
            cancelled = _in_thread(lambda: run_round_remote(
                project, stack, empty, config, device="cpu", worker_defaults=True,
                cancel=lambda: time.monotonic() - start > 0.5), 20)
            assert isinstance(cancelled, TrainingCancelled), cancelled
            failed = _in_thread(lambda: run_round_remote(project, stack, empty, config, device="cpu",
                                                         worker_defaults=True), 20)
            assert isinstance(failed, ParticleDetectError), failed
            assert "no dask worker has joined this scheduler in 1 s" in str(failed)
            assert str(cluster.scheduler_address) in str(failed)
    finally:
        cluster.close()
    assert not project.leftover_workspaces() and [r.number for r in project.rounds] == [1]


@pytest.mark.parametrize("address", ["localhost", "http://127.0.0.1:8786", "tcp://127.0.0.1:abc"])
def test_a_malformed_scheduler_address_is_one_clear_error(project, address):
    from napari_particle_detect.errors import ParticleDetectError

    project, stack = project
    with pytest.raises(ParticleDetectError, match=f"^{address}: not a scheduler address \\(.*\\); give tcp://HOST:PORT$"):
        run_round_remote(project, stack, address, replace(FINE_TUNE, steps_per_epoch=1), device="cpu")
