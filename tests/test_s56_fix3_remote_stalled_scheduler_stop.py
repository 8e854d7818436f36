"""Ctrl-C (or an error) while a remote round waits told its task to stop with a call the scheduler must answer: a
scheduler stalled with its connection open (its process stopped, swapping) never did, and Ctrl-C waited for ever.
The stop is waited for a few seconds, said in one warning, and the Ctrl-C raised."""

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from napari_particle_detect.learning import remote
from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.remote import run_round_remote

from helpers import reviewed_project

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.usefixtures("project_home")
# How long the old code's wait is let go on before the scheduler is woken, for the test to end.
WOKEN_AFTER_S = 30


@contextmanager
def scheduler_process():
    """A `dask scheduler` process of its own (to be stopped), without workers: (its address, the process)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([str(Path(sys.executable).with_name("dask")), "scheduler", "--host", "127.0.0.1",
                                "--port", str(port), "--dashboard-address", ":0"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield f"tcp://127.0.0.1:{port}", process
    finally:
        os.kill(process.pid, signal.SIGCONT)
        process.kill()
        process.wait()


def test_ctrl_c_while_the_scheduler_is_stalled_is_raised_within_seconds(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(remote, "STOP_WAIT_S", 0.5, raising=False)  # absent before the stop was bounded
    monkeypatch.setattr(remote, "QUEUED_AFTER_S", 0.3)  # the round without a worker says it waits for one sooner
    project, stack = reviewed_project(tmp_path)
    with scheduler_process() as (address, scheduler), \
            distributed.Client(address, timeout="30s", set_as_default=False) as client:
        pressed = []

        def stall_then_ctrl_c(event: dict) -> None:
            if event.get("phase") == "queued":  # the task waits for a worker (there is none)
                os.kill(scheduler.pid, signal.SIGSTOP)
                pressed.append(time.monotonic())
                raise KeyboardInterrupt

        waking = threading.Timer(WOKEN_AFTER_S, os.kill, (scheduler.pid, signal.SIGCONT))
        waking.start()
        try:
            with pytest.raises(KeyboardInterrupt), caplog.at_level(logging.WARNING, logger=remote.__name__):
                run_round_remote(project, stack, client, FINE_TUNE, device="cpu", progress=stall_then_ctrl_c)
            waited = time.monotonic() - pressed[0]
        finally:
            waking.cancel()
        os.kill(scheduler.pid, signal.SIGCONT)
    assert waited < 5, f"Ctrl-C raised {waited:.1f} s after it was pressed"
    assert "the dask scheduler did not answer in 0.5 s: the round's task was not told to stop" in caplog.text
    assert not project.leftover_workspaces() and [r.number for r in project.rounds] == [1]
