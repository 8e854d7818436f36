"""A scheduler address whose scheduler has stalled (its process stopped or swapping: the kernel still takes the
connection, nothing answers) was refused as "not a dask scheduler (...its dashboard's port?...)", sending the user off
to look for another address. It says the scheduler may have stopped answering; an HTTP server's port (a dashboard's)
is still told as such."""

import http.server
import os
import signal
import threading

import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files import distributed

from test_s56_fix3_remote_stalled_scheduler_stop import scheduler_process

pytest.importorskip("distributed")


def _refusal(address: str) -> str:
    with pytest.raises(ParticleDetectError) as raised:
        distributed.scheduler_client(address, timeout="1s")
    line = str(raised.value)
    assert "\n" not in line
    return line


def test_a_stalled_scheduler_is_said_to_maybe_have_stopped_answering(monkeypatch):
    monkeypatch.setattr(distributed, "HANDSHAKE_S", 0.5)
    # Asked whether an HTTP server answers there, a stopped process never does: the probe's whole wait, shortened.
    monkeypatch.setattr(distributed, "HTTP_PROBE_S", 0.5, raising=False)  # absent before the probe
    with scheduler_process() as (address, scheduler):
        distributed.scheduler_client(address, timeout="30s").close()  # up and answering
        os.kill(scheduler.pid, signal.SIGSTOP)
        line = _refusal(address)
    assert line.startswith(f"{address}: something answers there, but not a dask scheduler that answers its "
                           "handshake (none in 1.5 s): a dask scheduler that stopped answering (its process stopped "
                           "or overloaded? try again once it answers)"), line
    assert "dashboard" not in line


def test_an_http_servers_port_is_still_said_to_be_one(monkeypatch):
    monkeypatch.setattr(distributed, "HANDSHAKE_S", 0.5)
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        line = _refusal(f"tcp://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
    assert "but not a dask scheduler (an HTTP server; its dashboard's port?" in line, line
