"""Cancel while a remote round still connects to its scheduler: obeyed at once, told as a cancel."""

import socket
import threading
import time
from dataclasses import replace

import pytest

from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.remote import run_round_remote
from napari_particle_detect.learning.training import TrainingCancelled

from helpers import reviewed_project

pytest.importorskip("distributed")


def _closed_port() -> int:
    """A local port nothing listens on: dask retries it for the whole connect timeout (10 s)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cancel_while_connecting_to_an_unreachable_scheduler_stops_the_round_at_once(tmp_path):
    project, stack = reviewed_project(tmp_path)
    address = f"tcp://127.0.0.1:{_closed_port()}"
    outcome = {}
    start = time.monotonic()

    def run() -> None:
        try:
            run_round_remote(project, stack, address, replace(FINE_TUNE, steps_per_epoch=5), device="cpu",
                             cancel=lambda: time.monotonic() - start > 0.5)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc
            outcome["after_s"] = time.monotonic() - start

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(15)
    assert not thread.is_alive()
    # The dock's Cancel waited out the connect timeout, then said the round failed.
    assert isinstance(outcome["error"], TrainingCancelled), outcome["error"]
    assert outcome["after_s"] < 3, outcome["after_s"]
    assert not project.leftover_workspaces() and [r.number for r in project.rounds] == [1]
