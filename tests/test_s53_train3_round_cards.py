"""A round's card says where it trained (device, CPU threads, version; a remote round its dask worker): a GPU
worker's round and a laptop's CPU one read alike before, for spheres, rods or chains, and volumes."""

from dataclasses import replace
from datetime import datetime

import pandas as pd
import pytest
import torch

from napari_particle_detect import __version__
from napari_particle_detect.detection.kinds_prediction import shipped_model_path
from napari_particle_detect.learning.finetune import FINE_TUNE, fine_tune
from napari_particle_detect.learning.kinds_rounds import Reviewed, fine_tune_kind, round_config
from napari_particle_detect.learning.training import Example
from napari_particle_detect.learning.volume_finetune import VolumeRoundConfig
from napari_particle_detect.learning.volume_rounds import (VolumeSettings, ensure_volume_round, open_volume_project,
                                                           remember_settings, train_volume_round)
from napari_particle_detect.models import load_model
from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

from helpers import reviewed_project, tiny_model_file

TINY_ROUND = replace(FINE_TUNE, steps_per_epoch=2, batch_size=2, crop=32, threads=1, learn_criterion=False)


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def where_trained(record: dict) -> dict:
    return {k: record.get(k) for k in ("device", "threads", "version")}


def assert_trained_here(record: dict) -> None:
    assert where_trained(record) == {"device": "cpu", "threads": 1, "version": __version__}
    datetime.fromisoformat(record["session"])  # when: the round's start


def test_a_sphere_round_says_where_it_trained_and_its_child_keeps_it_in_the_lineage(tmp_path):
    sample = synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=0)
    example = Example(sample.image, sample.centres, scale=1.0, name="frame 0")
    first = fine_tune(load_model(tiny_model_file(tmp_path)), [example], TINY_ROUND, device="cpu")
    assert_trained_here(first.model.card.training["fine_tuned"])
    second = fine_tune(first.model, [example], TINY_ROUND, device="cpu")
    assert second.model.card.training["lineage"][-1]["fine_tuned"]["device"] == "cpu"


def test_a_rods_round_says_where_it_trained():
    config = benchmark_rod_config("fluorescent", 0.15)
    sample = synthesize_rods(replace(config, optics=replace(config.optics, shape=(96, 96))), seed=70)
    table = sample.table.assign(score=1.0, source="accepted", frame=0)
    reviewed = [Reviewed(Example(sample.image, table[["y", "x"]].to_numpy(float), name="frame 0"), table)]
    config = replace(round_config("rods", steps_per_epoch=2, batch_size=2, crop=64), threads=1)
    result = fine_tune_kind(load_model(shipped_model_path("rods"), "cpu"), reviewed, config, "cpu")
    assert_trained_here(result.model.card.training["fine_tuned"])


def test_a_volume_round_says_where_it_trained(tmp_path):
    sample = synthesize_volume(VolumeConfig(shape=(16, 48, 48), volume_fraction=0.3), seed=3)
    project = open_volume_project(tmp_path / "v.tif", sample.image)
    ensure_volume_round(project)
    remember_settings(project, VolumeSettings((5.0, 10.0, 10.0), None, sample.image.shape))
    c = sample.centres
    project.accept_frame(0, pd.DataFrame({"z": c[:, 0], "y": c[:, 1], "x": c[:, 2], "score": 0.9, "source": "model"}))
    info = train_volume_round(project, sample.image, VolumeRoundConfig(steps=2, batch_size=2, crop=16, threads=1))
    card = load_model(project.round_path(info.number)).card
    assert_trained_here(card.training["fine_tuned"])


def test_a_remote_round_names_the_worker_it_trained_on(tmp_path):
    distributed = pytest.importorskip("distributed")
    from napari_particle_detect.learning.remote import run_round_remote

    project, stack = reviewed_project(tmp_path)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        (worker,) = client.scheduler_info()["workers"]
        outcome = run_round_remote(project, stack, client, replace(TINY_ROUND, steps_per_epoch=3), device="cpu")
    record = load_model(outcome.workspace / "model.pt").card.training["fine_tuned"]
    assert record["worker"] == worker and record["device"] == "cpu"
    project.discard_workspace(outcome.workspace)


def test_a_worker_of_another_version_is_refused_before_the_round_in_one_line(tmp_path, monkeypatch):
    # It trained the round with its own code, unsaid: options it does not know ignored, or failed deep in dask.
    distributed = pytest.importorskip("distributed")
    import napari_particle_detect
    from napari_particle_detect.errors import ParticleDetectError
    from napari_particle_detect.learning.remote import run_round_remote

    project, stack = reviewed_project(tmp_path)
    events = []
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        (worker,) = client.scheduler_info()["workers"]
        monkeypatch.setattr(napari_particle_detect, "__version__", "0.1.0")  # what the worker's install says
        with pytest.raises(ParticleDetectError) as refused:
            run_round_remote(project, stack, client, TINY_ROUND, device="cpu", progress=events.append)
    assert str(refused.value) == (f"{cluster.scheduler_address}: the dask worker {worker} runs napari-particle-detect "
                                  f"0.1.0, this computer {__version__}; install {__version__} there and start the "
                                  "round again")
    assert not events and not project.leftover_workspaces() and [r.number for r in project.rounds] == [1]
