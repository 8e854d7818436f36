"""Test set-ups of remote rounds and cluster runs: a dask scheduler on this machine whose workers are `dask worker`
processes of their own, to be killed, stopped or started late as a GPU node's are, or workers in a thread of the
test's process where a test needs no process."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path

DASK = Path(sys.executable).with_name("dask")
# Test clusters' schedulers serve HTTP on any free port: on dask's 8787, taken by a cluster of a test running beside
# (pytest-xdist), each warned "Port 8787 is already in use".
DASHBOARD = ":0"


@contextmanager
def empty_scheduler() -> Iterator[object]:
    """A LocalCluster without workers (its scheduler in this process, on a TCP port of 127.0.0.1)."""
    import distributed

    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp", host="127.0.0.1",
                                  dashboard_address=DASHBOARD) as cluster:
        yield cluster


@contextmanager
def worker_process(address: str, *options: str) -> Iterator[subprocess.Popen]:
    """A `dask worker` process of one thread without a nanny (killed, it stays dead) joining ``address``; killed when
    the block ends."""
    worker = subprocess.Popen([str(DASK), "worker", address, "--no-nanny", "--nthreads", "1", "--no-dashboard",
                               *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield worker
    finally:
        worker.kill()
        worker.wait()


@contextmanager
def scheduler_with_worker_process() -> Iterator[tuple[object, object, subprocess.Popen]]:
    """(cluster, a client of it, its one worker process), the worker joined; the worker is killed before the client
    and the scheduler close."""
    import distributed

    with empty_scheduler() as cluster, distributed.Client(cluster) as client, \
            worker_process(cluster.scheduler_address) as worker:
        client.wait_for_workers(1, timeout=30)
        yield cluster, client, worker


@contextmanager
def worker_in_thread(address: str) -> Iterator[str]:
    """A dask worker of one thread in this process (its own event loop in a thread) joining ``address``, its address
    yielded once it joined: a `dask worker` process imports torch and this package for the round's first task, seconds
    on a loaded machine, where this process has both already."""
    import distributed

    joined: Future = Future()

    async def serve() -> None:
        try:
            async with distributed.Worker(address, nthreads=1, dashboard=False) as worker:
                closing = asyncio.Event()
                joined.set_result((worker.address, asyncio.get_running_loop(), closing))
                await closing.wait()
        except BaseException as exc:  # noqa: BLE001 - raised in the test's thread
            if not joined.done():
                joined.set_exception(exc)

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    worker, loop, closing = joined.result(timeout=30)
    try:
        yield worker
    finally:
        loop.call_soon_threadsafe(closing.set)
        thread.join(10)


@contextmanager
def scheduler_with_worker_thread() -> Iterator[tuple[object, object, str]]:
    """(cluster, a client of it, its one worker's address) as scheduler_with_worker_process, the worker in a thread of
    this process (worker_in_thread): for a test that neither kills nor stops the worker. Its tasks still reach it over
    TCP, pickled as a remote node's are."""
    import distributed

    with empty_scheduler() as cluster, distributed.Client(cluster) as client, \
            worker_in_thread(cluster.scheduler_address) as worker:
        client.wait_for_workers(1, timeout=30)
        yield cluster, client, worker
