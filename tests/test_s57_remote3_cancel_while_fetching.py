"""Cancel as a remote round's trained model is to come back, while its scheduler does not answer (the laptop's network
gone as the round ended): the round waited in dask for the model, deaf to Cancel (and the dock's closing, which
waits for the round), until the scheduler answered again. Cancel ends it at once, nothing changed."""

import os
import signal
import threading
import time
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
SILENT_S = 6.0  # the scheduler's longest silence: the round waited all of it


def test_cancel_while_the_model_is_fetched_from_a_silent_scheduler_ends_the_round_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr(remote, "ANSWER_S", 0.5)  # the round's last look at its progress waits that long
    project, stack = reviewed_project(tmp_path)
    stopped, timers = [], []
    with scheduler_process() as (address, scheduler):

        def silence_once_done(event: dict) -> None:
            if event.get("phase") == "done":
                time.sleep(1.0)  # the task's result in the worker's memory, the scheduler told
                os.kill(scheduler.pid, signal.SIGSTOP)
                stopped.append(time.monotonic())
                timers.append(threading.Timer(SILENT_S, os.kill, (scheduler.pid, signal.SIGCONT)))
                timers[0].start()

        try:
            with worker_in_thread(address), pytest.raises(TrainingCancelled):
                run_round_remote(project, stack, address, replace(FINE_TUNE, steps_per_epoch=5, batch_size=1, crop=32,
                                                                  unlabelled_frames=0),
                                 device="cpu", progress=silence_once_done, cancel=lambda: bool(stopped))
            cancelled_after = time.monotonic() - stopped[0]
        finally:
            for timer in timers:  # the scheduler answers again at once: its silence outlasted the round
                timer.cancel()
                os.kill(scheduler.pid, signal.SIGCONT)
    assert cancelled_after < SILENT_S / 2, cancelled_after
    assert [info.number for info in project.rounds] == [1]
    assert not [path for path in (project.folder / "rounds").iterdir() if path.name.startswith(".building-")]
