"""A dask worker that leaves the scheduler between being listed and being asked its napari-particle-detect version
is passed over, not refused as one that cannot import the package (it runs no part of the round)."""

from __future__ import annotations

import dask
import pytest

from napari_particle_detect.learning.remote import refuse_other_versions

distributed = pytest.importorskip("distributed")


class _WorkerLeavesOnceListed:
    """A client of the real scheduler that stops one of its workers right after listing them, as a worker shut
    down in that moment does."""

    def __init__(self, client, cluster) -> None:
        self._client, self._cluster, self._left = client, cluster, False

    def nthreads(self):
        listed = self._client.nthreads()
        if not self._left:
            self._left = True
            worker = next(w for w in self._cluster.workers.values() if w.address == max(listed))
            self._client.sync(worker.close)
            self._client.sync(self._client.scheduler.remove_worker, address=worker.address, stimulus_id="test")
        return listed

    def __getattr__(self, name):
        return getattr(self._client, name)


def test_a_worker_that_left_after_being_listed_is_passed_over():
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                     dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        refuse_other_versions(_WorkerLeavesOnceListed(client, cluster), timeout=10)
