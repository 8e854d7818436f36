"""A remote round's progress read from a scheduler that stalls a while (its process stopped, swapping): a read the
round gave up on (to hear Cancel) still took an event off the Queue once the scheduler answered, and that event was
lost: a training step missing from the dock, or the task's RUNNING_ON (then the worker's loss went unnoticed). Every
event comes through."""

import os
import signal
import threading
from dataclasses import replace

import pytest

from napari_particle_detect.learning import remote
from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.remote import run_round_remote

from helpers import reviewed_project
from remote_setups import worker_in_thread
from test_s56_fix3_remote_stalled_scheduler_stop import scheduler_process

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.usefixtures("project_home")
STALL_S = 1.2  # several of the round's reads given up on (ANSWER_S below) before the scheduler answers again


def test_no_progress_event_is_lost_while_the_scheduler_stalls(tmp_path, monkeypatch):
    monkeypatch.setattr(remote, "ANSWER_S", 0.2)
    steps, timers = [], []
    # The scheduler's process starts while the project's model trains.
    with scheduler_process() as (address, scheduler):
        project, stack = reviewed_project(tmp_path)

        def stall_at_the_first_step(event: dict) -> None:
            if event.get("phase") == "training":
                steps.append(event["step"])
                if len(steps) == 1:  # the worker blocks on its next put, the round's reads on the scheduler
                    os.kill(scheduler.pid, signal.SIGSTOP)
                    timers.append(threading.Timer(STALL_S, os.kill, (scheduler.pid, signal.SIGCONT)))
                    timers[0].start()

        try:
            with worker_in_thread(address):
                outcome = run_round_remote(project, stack, address, replace(FINE_TUNE, steps_per_epoch=15,
                                                                            batch_size=1, crop=32, unlabelled_frames=0),
                                           device="cpu", progress=stall_at_the_first_step)
        finally:
            for timer in timers:
                timer.join()
    assert steps == list(range(5, 16, 5)), steps  # one every fifth step: step 10 was lost
    assert outcome.info.parent == 1 and outcome.workspace.is_dir()  # trained, to be committed
