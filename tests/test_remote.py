"""A fine-tuning round sent to a dask worker: progress comes back, Cancel works, the round commits
like a local one."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.models import load_model
from napari_particle_detect.projects.project import Project
from napari_particle_detect.learning.remote import run_round_remote
from napari_particle_detect.learning.rounds import commit
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize
from napari_particle_detect.learning.training import TrainingCancelled

from helpers import tiny_model_file

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None)
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


@pytest.fixture
def project(tmp_path):
    torch.set_num_threads(1)
    samples = [synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=s) for s in range(2)]
    project = Project.open(tmp_path / "img.tif", n_frames=2, frame_shape=(64, 64))
    project.ensure_initial_round(tiny_model_file(tmp_path))
    project.remember_detection(12.0, "auto")
    for frame, sample in enumerate(samples):
        project.accept_frame(frame, pd.DataFrame({"y": sample.centres[:, 0], "x": sample.centres[:, 1]}))
    return project, np.stack([s.image for s in samples])


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


def _pretend_gpu_defaults(on: bool) -> None:
    """On the worker: round defaults as if it trained on a GPU (12 steps, 1 frame: short for a test)."""
    from napari_particle_detect.learning import finetune

    if on:
        finetune._saved_defaults = (finetune._on_gpu, finetune.GPU_ROUND_STEPS, finetune.GPU_ROUND_BATCH,
                                    finetune.GPU_ROUND_UNLABELLED)
        finetune._on_gpu, finetune.GPU_ROUND_STEPS, finetune.GPU_ROUND_BATCH, finetune.GPU_ROUND_UNLABELLED = (
            (lambda device: True), 12, 2, 1)
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
