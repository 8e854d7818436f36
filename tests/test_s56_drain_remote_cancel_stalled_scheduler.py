"""Cancel while a remote round waits on a stalled scheduler (its process stopped: its connection stays open and it
never answers): the wait for progress put its time-out on the scheduler's side, so the wait never ended and the
dock's Cancel was never looked at. The round ends within seconds, in one line saying the scheduler stopped answering,
and nothing changed in the project."""

import os
import signal
import threading
import time

import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning import remote
from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.remote import run_round_remote

from helpers import reviewed_project
from test_s56_fix3_remote_stalled_scheduler_stop import scheduler_process

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.usefixtures("project_home")
# How long the old code's wait is let go on before the scheduler is woken, for the test to end.
WOKEN_AFTER_S = 12


def test_cancel_while_the_scheduler_is_stalled_ends_the_round_within_seconds(tmp_path, monkeypatch):
    monkeypatch.setattr(remote, "STOP_WAIT_S", 1.0)
    monkeypatch.setattr(remote, "ANSWER_S", 1.0)
    monkeypatch.setattr(remote, "QUEUED_AFTER_S", 0.3)  # the round without a worker says it waits for one sooner
    project, stack = reviewed_project(tmp_path)
    with scheduler_process() as (address, scheduler), \
            distributed.Client(address, timeout="30s", set_as_default=False) as client:
        pressed = []

        def stall_then_cancel(event: dict) -> None:
            if event.get("phase") == "queued" and not pressed:  # the task waits for a worker (there is none)
                os.kill(scheduler.pid, signal.SIGSTOP)
                pressed.append(time.monotonic())

        waking = threading.Timer(WOKEN_AFTER_S, os.kill, (scheduler.pid, signal.SIGCONT))
        waking.start()
        try:
            with pytest.raises(ParticleDetectError) as raised:
                run_round_remote(project, stack, client, FINE_TUNE, device="cpu", progress=stall_then_cancel,
                                 cancel=lambda: bool(pressed))
            waited = time.monotonic() - pressed[0]
        finally:
            waking.cancel()
        os.kill(scheduler.pid, signal.SIGCONT)
    assert waited < 9, f"the round ended {waited:.1f} s after Cancel"  # ~5 s idle; the old code waited for the wake
    message = str(raised.value)
    assert message.startswith(f"{address}: the dask scheduler stopped answering") and "\n" not in message
    assert "nothing was changed" in message
    assert not project.leftover_workspaces() and [r.number for r in project.rounds] == [1]
