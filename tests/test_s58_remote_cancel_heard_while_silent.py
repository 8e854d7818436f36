"""Cancel while a remote round's scheduler has gone silent mid-round (its process stopped, the laptop's network
gone): the progress read under way was waited for ANSWER_S, deaf to Cancel, and the stop then for STOP_WAIT_S from a
scheduler known not to answer: the dock said "cancelling…" for over 5 s. The round ends within about a second of
Cancel, cancelled, nothing changed."""

import os
import signal
import time
from dataclasses import replace

import pytest

from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.remote import CancelledUnconfirmed, run_round_remote

from helpers import reviewed_project
from test_s56_fix3_remote_stalled_scheduler_stop import scheduler_process
from test_s57_remote_progress_not_lost import worker_in_thread

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.usefixtures("project_home")
SILENT_BEFORE_CANCEL_S = 0.5


def test_cancel_during_a_silent_scheduler_ends_the_round_within_about_a_second(tmp_path):
    stalled, pressed = [], []
    with scheduler_process() as (address, scheduler):
        project, stack = reviewed_project(tmp_path)

        def stall_at_the_first_step(event: dict) -> None:
            if event.get("phase") == "training" and not stalled:
                os.kill(scheduler.pid, signal.SIGSTOP)
                stalled.append(time.monotonic())

        def cancel() -> bool:
            if stalled and time.monotonic() - stalled[0] >= SILENT_BEFORE_CANCEL_S:
                pressed[:] = pressed or [time.monotonic()]
                return True
            return False

        try:
            with worker_in_thread(address), pytest.raises(CancelledUnconfirmed) as raised:
                run_round_remote(project, stack, address, replace(FINE_TUNE, steps_per_epoch=40, batch_size=1,
                                                                  crop=32, unlabelled_frames=0),
                                 device="cpu", progress=stall_at_the_first_step, cancel=cancel)
            waited = time.monotonic() - pressed[0]
        finally:
            os.kill(scheduler.pid, signal.SIGCONT)
    assert waited < 2.0, f"the round ended {waited:.1f} s after Cancel"
    assert "nothing was changed" in str(raised.value)
    assert not project.leftover_workspaces() and [r.number for r in project.rounds] == [1]
