"""A scheduler that does not answer for a while as the round's task is sent (a loaded laptop's client, a stall): the
round counted its silence from the start as time with no worker, and after CONNECT_TIMEOUT_S said "every dask worker
left this scheduler before the round started" of the worker it had just asked its version. The round waits for it."""

import os
import signal
import threading
from dataclasses import replace

import pytest

from napari_particle_detect.learning import remote
from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.remote import run_round_remote
from napari_particle_detect.learning.training import TrainingCancelled

from helpers import reviewed_project
from remote_setups import worker_in_thread
from test_s56_fix3_remote_stalled_scheduler_stop import scheduler_process

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.usefixtures("project_home")
STALL_S = 2.5  # longer than the (shortened) CONNECT_TIMEOUT_S: a second is margin enough; each second more, waited


def test_a_scheduler_silent_as_the_task_is_sent_is_no_worker_gone(tmp_path, monkeypatch):
    monkeypatch.setattr(remote, "ANSWER_S", 0.2)
    monkeypatch.setattr(remote, "CONNECT_TIMEOUT_S", 1.5)
    events, timers = [], []
    with scheduler_process() as (address, scheduler):
        project, stack = reviewed_project(tmp_path)

        def stall_as_the_task_is_sent(event: dict) -> None:
            events.append(event)
            if event.get("phase") == "preparing" and "steps" in event and not timers:  # just before the submit
                os.kill(scheduler.pid, signal.SIGSTOP)
                timers.append(threading.Timer(STALL_S, os.kill, (scheduler.pid, signal.SIGCONT)))
                timers[0].start()

        def trained() -> bool:  # the task ran on its worker: no need to train the round to its end
            return any(event.get("phase") == "training" for event in events)

        try:
            with worker_in_thread(address), pytest.raises(TrainingCancelled):
                run_round_remote(project, stack, address, replace(FINE_TUNE, steps_per_epoch=10, batch_size=1,
                                                                  crop=32, unlabelled_frames=0),
                                 device="cpu", progress=stall_as_the_task_is_sent, cancel=trained)
        finally:
            for timer in timers:
                timer.join()
    assert timers and trained()
    assert not project.rounds or project.rounds[-1].parent is None  # cancelled: nothing added
