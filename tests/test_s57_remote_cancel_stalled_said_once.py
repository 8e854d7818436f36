"""The dock's Cancel while its remote round's scheduler is stalled (its process stopped: the round's task cannot be
told to stop): the round ends within seconds, told as a cancel with its one caveat (the task may train on until the
scheduler answers), not as "failed (...)" in an error, and said once: a log warning said the caveat again."""

import logging
import os
import signal
import threading
import time

import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning import remote
from napari_particle_detect.learning.training import TrainingCancelled

import test_napari_finetune
from helpers import notification_count, notifications_since
from test_napari_finetune import TINY_TUNE, start_round
from test_s56_fix3_remote_stalled_scheduler_stop import scheduler_process

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.usefixtures("project_home")
reviewed = test_napari_finetune.reviewed  # the dock with two frames accepted
CAVEAT = "its task may run on its worker until the scheduler answers"


@pytest.fixture
def scheduler():
    """A scheduler process without workers, started before the dock is built (its start overlaps the detection)."""
    with scheduler_process() as started:
        yield started


def test_cancel_on_a_stalled_scheduler_is_told_as_a_cancel_once(scheduler, reviewed, qtbot, monkeypatch, caplog):
    monkeypatch.setattr(remote, "STOP_WAIT_S", 1.0)
    monkeypatch.setattr(remote, "ANSWER_S", 0.5)
    monkeypatch.setattr(remote, "QUEUED_AFTER_S", 0.3)
    viewer, widget = reviewed
    panel = widget.finetune
    errors = []
    address, scheduler = scheduler
    with caplog.at_level(logging.WARNING, logger=remote.__name__):
        panel.where_edit.setText(address)
        seen = notification_count()
        start_round(widget, TINY_TUNE)
        panel.worker.errored.connect(errors.append)
        qtbot.waitUntil(lambda: "queued" in panel.phases, timeout=30_000)  # no worker: the task waits
        os.kill(scheduler.pid, signal.SIGSTOP)
        waking = threading.Timer(10, os.kill, (scheduler.pid, signal.SIGCONT))
        waking.start()
        try:
            pressed = time.monotonic()
            panel.cancel_button.click()
            qtbot.waitUntil(lambda: not panel.running(), timeout=8_000)
            after_s = time.monotonic() - pressed
        finally:
            waking.cancel()
            os.kill(scheduler.pid, signal.SIGCONT)
    assert after_s < 5, f"the round ended {after_s:.1f} s after Cancel"
    (error,) = errors
    assert isinstance(error, TrainingCancelled) and isinstance(error, ParticleDetectError), repr(error)
    status = panel.status.text()
    assert status.startswith(f"cancelled; still using round-001 ({address}: the dask scheduler stopped answering"), \
        status
    said = notifications_since(seen)
    assert [text for text in said if CAVEAT in text] == [f"fine-tuning {status}"], said
    assert "not told to stop" not in caplog.text  # the warning that said it a second time
    assert [r.number for r in widget.annotation.project.rounds] == [1]
