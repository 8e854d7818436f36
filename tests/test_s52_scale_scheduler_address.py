"""--scheduler given an address where something other than a dask scheduler answers: one line, soon."""
from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files import distributed


@contextlib.contextmanager
def listening(answer: bytes | None) -> Iterator[str]:
    """A local TCP port that takes connections and sends ``answer`` (None: nothing, as a dashboard's HTTP
    server waiting for a request does), its address as tcp://HOST:PORT."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                peer, _ = server.accept()
                held.append(peer)  # kept open: an answer that never comes, not a closed connection
                if answer is not None:
                    peer.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for peer in held:
            peer.close()
        server.close()


def refusal_within(address: str, limit_s: float) -> str:
    """scheduler_client's error for ``address`` (a one-second connect deadline), failing the test rather than
    hanging it when none comes within ``limit_s``."""
    outcome: list[BaseException | object] = []

    def connect() -> None:
        try:
            outcome.append(distributed.scheduler_client(address, timeout="1s"))
        except BaseException as exc:  # noqa: BLE001 - whatever it was, the test says it
            outcome.append(exc)

    thread = threading.Thread(target=connect, daemon=True)
    start = time.monotonic()
    thread.start()
    thread.join(limit_s)
    assert outcome, f"{address}: no answer after {time.monotonic() - start:.0f} s"
    assert isinstance(outcome[0], ParticleDetectError), repr(outcome[0])
    return str(outcome[0])


def test_a_port_that_never_answers_the_handshake_is_refused_soon(monkeypatch):
    monkeypatch.setattr(distributed, "HANDSHAKE_S", 1, raising=False)
    # Asked whether an HTTP server answers there, this port never does: the probe's whole wait, shortened.
    monkeypatch.setattr(distributed, "HTTP_PROBE_S", 0.5, raising=False)
    with listening(None) as address:
        line = refusal_within(address, 15)
    assert line.startswith(f"{address}: something answers there, but not a dask scheduler")


def test_a_port_that_answers_other_bytes_is_refused_in_one_line():
    with listening(b"\xff" * 64) as address:
        line = refusal_within(address, 15)
    assert line.startswith(f"{address}: something answers there, but not a dask scheduler")


def test_a_workers_address_is_refused_naming_what_answers_and_the_schedulers_works():
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                      dashboard_address=":0") as cluster:
        worker = next(iter(cluster.scheduler_info["workers"]))
        line = refusal_within(worker, 15)
        assert line.startswith(f"{worker}: a dask Worker answers there, not its scheduler")
        client = distributed.scheduler_client(cluster.scheduler_address, timeout="5s")
        try:
            assert client.scheduler_info()["workers"]
        finally:
            client.close()


@pytest.mark.parametrize("nobody", ["tcp://127.0.0.1:1"])
def test_nobody_listening_is_still_cannot_reach(nobody):
    assert refusal_within(nobody, 15).startswith(f"{nobody}: cannot reach the dask scheduler")
