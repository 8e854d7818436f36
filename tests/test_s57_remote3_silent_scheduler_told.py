"""A remote round whose scheduler goes silent mid-round (the laptop's network gone, the scheduler's process stopped):
the line stayed on the last training step, its time left running out, for as long as the silence lasted. The round
says once that it waits for the scheduler, and once it answers goes on where it was, to a round committed."""

import os
import signal
import threading
from dataclasses import replace

import pytest

from napari_particle_detect.learning import remote
from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.remote import run_round_remote
from napari_particle_detect._napari.round_progress import describe

from helpers import reviewed_project
from remote_setups import worker_in_thread
from test_s56_fix3_remote_stalled_scheduler_stop import scheduler_process

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.usefixtures("project_home")
SILENT_S = 3.0  # at most, past the (shortened) time after which the round tells the silence; it ends once told


def test_a_silent_scheduler_is_told_once_and_the_round_goes_on(tmp_path, monkeypatch):
    monkeypatch.setattr(remote, "ANSWER_S", 0.2)
    monkeypatch.setattr(remote, "SILENT_TOLD_S", 1.2, raising=False)  # absent before the silence was told
    events, timers = [], []
    with scheduler_process() as (address, scheduler):
        project, stack = reviewed_project(tmp_path)

        def silence_after_the_first_step(event: dict) -> None:
            events.append(event)
            if event.get("phase") == "training" and not timers:
                os.kill(scheduler.pid, signal.SIGSTOP)
                timers.append(threading.Timer(SILENT_S, os.kill, (scheduler.pid, signal.SIGCONT)))
                timers[0].start()
            elif event.get("phase") == "unanswered" and timers:  # the silence told: it may end now
                timers[0].cancel()
                os.kill(scheduler.pid, signal.SIGCONT)

        try:
            with worker_in_thread(address):
                outcome = run_round_remote(project, stack, address, replace(FINE_TUNE, steps_per_epoch=10,
                                                                            batch_size=1, crop=32, unlabelled_frames=0),
                                           device="cpu", progress=silence_after_the_first_step)
        finally:
            for timer in timers:
                timer.join()
    # From the silence on (a loaded machine's scheduler may answer a shortened ANSWER_S late before it).
    events = events[[event["phase"] for event in events].index("training"):]
    phases = [event["phase"] for event in events]
    assert phases.count("unanswered") == 1, phases
    told = events[phases.index("unanswered")]
    line = describe(told).text
    assert address in line and "no answer from the dask scheduler" in line and "Cancel" in line, line
    # Once the scheduler answers, the round's line is its steps again.
    assert events[phases.index("unanswered") + 1]["phase"] == "training", phases
    assert phases[-1] == "done" and outcome.info.parent == 1 and outcome.workspace.is_dir()


def test_the_line_a_silence_replaced_is_told_again_once_the_scheduler_answers():
    said = []
    silence = remote._Silence(said.append, "tcp://gpu-node:8786")
    step = {"phase": "training", "step": 5, "steps": 10, "loss": 0.25}
    silence.passed(step)
    silence.check(remote.SILENT_TOLD_S - 0.1)
    assert said == [step]  # a slow answer is no silence
    silence.check(remote.SILENT_TOLD_S)
    silence.check(remote.SILENT_TOLD_S + 10)
    assert [event["phase"] for event in said] == ["training", "unanswered"]  # told once
    silence.check(0.0)  # answered, no newer event: the step is the line again, marked as no new point of the curve
    assert said[-1] == {**step, "again": True}
    silence.check(0.0)
    assert len(said) == 3
