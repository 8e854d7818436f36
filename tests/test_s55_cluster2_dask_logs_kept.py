"""A library user's process after a run on local_client: dask's own warnings still reach its logs. local_client set
the ``distributed`` logger to ERROR for the rest of the process, so a notebook that went on using dask heard none."""
from __future__ import annotations

import logging

import pytest

from napari_particle_detect.files import distributed as files_distributed
from napari_particle_detect.files.distributed import close_local_client, detect_files, local_client

from test_distributed import OPTIONS, tiny_model, write_images  # noqa: F401 - tiny_model: the module's fixture

distributed = pytest.importorskip("distributed")


def test_a_run_on_a_local_cluster_leaves_dasks_log_levels_as_they_were(tmp_path, tiny_model, monkeypatch):  # noqa: F811
    # A Ctrl-C'd command line run earlier in this process keeps them silenced for good, by design: not this case.
    monkeypatch.setattr(files_distributed.quiet_distributed_logs, "_until_exit", False)
    # Its worker in this process: the levels are set and put back around local_client, whichever kind its workers
    # are, and a worker process's start (torch imported again) took seconds.
    threads = distributed.LocalCluster
    monkeypatch.setattr(distributed, "LocalCluster", lambda *args, **kwargs: threads(*args, **{**kwargs,
                                                                                             "processes": False}))
    logger = logging.getLogger("distributed")
    before = logger.level
    logger.setLevel(logging.INFO)  # dask's own default
    try:
        client = local_client(1)
        try:
            summary = detect_files(write_images(tmp_path / "in", 1), tmp_path / "out", OPTIONS, tiny_model, client)
        finally:
            close_local_client(client)
        assert len(summary.done) == 1
        assert logger.level == logging.INFO
        assert logging.getLogger("distributed.scheduler").isEnabledFor(logging.WARNING)
    finally:
        logger.setLevel(before)
