"""A folder run on a scheduler whose every worker dask paused for want of memory (started with too small a
--memory-limit): no file can start there, and the run used to wait for ever with nothing said, its bar still."""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from napari_particle_detect.files import distributed as files_distributed
from napari_particle_detect.files.distributed import detect_files

from helpers import tiny_model_file
from test_distributed import OPTIONS, write_images

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return tiny_model_file(tmp_path_factory.mktemp("tiny"))


def until(condition, limit_s: float) -> bool:
    end = time.monotonic() + limit_s
    while not condition() and time.monotonic() < end:
        time.sleep(0.02)
    return condition()


def test_a_run_whose_every_worker_is_paused_for_memory_says_so_and_goes_on_once_one_resumes(
        tmp_path, tiny_model, monkeypatch, caplog):
    monkeypatch.setattr(files_distributed, "WORKER_CHECK_S", 0.05)
    monkeypatch.setattr(files_distributed, "PAUSED_CHECK_S", 0.3, raising=False)
    paths = write_images(tmp_path / "in", 2)
    # A real worker with a limit far below this process's memory (torch is loaded): dask's own memory monitor pauses
    # it as it starts. Reached by its address, as a scheduler elsewhere is.
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, memory_limit="50MB",
                                       dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
    worker = next(iter(cluster.workers.values()))
    outcome = {}

    def paused_said() -> list[str]:
        return [r.getMessage() for r in caplog.records if "paused" in r.getMessage()]

    try:
        assert until(lambda: worker.status.name == "paused", 5), worker.status
        with distributed.Client(cluster.scheduler_address) as client, \
                caplog.at_level(logging.WARNING, "napari_particle_detect"):
            run = threading.Thread(target=lambda: outcome.update(
                summary=detect_files(paths, tmp_path / "out", OPTIONS, tiny_model, client)))
            run.start()
            said = until(paused_said, 10)
            untouched = not outcome
            worker.memory_manager.memory_limit = 10**15  # memory enough: dask's monitor resumes the worker
            run.join(60)
    finally:
        cluster.close()
    address = cluster.scheduler_address
    assert said and untouched, "nothing said while every worker was paused"
    line = paused_said()[0]
    assert line.startswith(f"{address}: every dask worker is paused for want of memory, no file can start "
                           f"({worker.address} uses "), line
    assert line.endswith(f"(dask worker {address} --memory-limit 3GiB)"), line
    assert len(paused_said()) == 1  # said once, not at every look
    assert outcome["summary"].ok and len(outcome["summary"].done) == 2
