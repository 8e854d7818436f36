"""Workers started with too small a --memory-limit: dask's nanny kills each one that loads the model, every file
alike, and each file's line said only 'out of memory, or a crash', nothing of the limit that was the cause."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest

from napari_particle_detect.files.distributed import detect_files

from helpers import tiny_model_file
from test_distributed import OPTIONS, write_images

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return tiny_model_file(tmp_path_factory.mktemp("tiny"))


def test_a_file_whose_worker_a_small_memory_limit_kills_names_that_limit(tmp_path, tiny_model):
    paths = write_images(tmp_path / "in", 1)
    # One death, not dask's four, to keep the test short; a real worker process whose nanny holds it to 200 MB.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, memory_limit="200MB",
                                           dashboard_address=None, silence_logs=logging.CRITICAL,
                                           scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
        try:
            with distributed.Client(cluster.scheduler_address) as client:
                summary = detect_files(paths, tmp_path / "out", OPTIONS, tiny_model, client)
        finally:
            cluster.close()
    limit = 200_000_000 / 2**20
    assert summary.failed == {paths[0]: (
        f"{paths[0]}: the dask worker detecting it died 1 time (out of memory, or a crash; its memory limit, "
        f"{limit:.0f} MiB, is below the 3GiB a worker needs: give the workers more with dask worker ... --memory-limit "
        "3GiB); not detected")}, summary.failed
