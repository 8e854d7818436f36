"""A remote round started against a scheduler that stopped answering (its process stopped or swapping, its
connection still open): asking it for the round's progress Queue and its workers waited for ever, deaf to Cancel,
before the round's wait (which has its own time limits) began. It says so within seconds, and Cancel is obeyed."""

import os
import signal
import threading
import time

import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning import remote
from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.remote import run_round_remote
from napari_particle_detect.learning.training import TrainingCancelled

from helpers import reviewed_project
from test_s56_fix3_remote_stalled_scheduler_stop import scheduler_process

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.usefixtures("project_home")
WOKEN_AFTER_S = 10  # the old code's wait is let go on that long before the scheduler is woken, for the test to end


@pytest.fixture(scope="module")
def scheduler():
    """One scheduler process for the file's tests (each stalls it a while), started while the first project's model
    trains."""
    with scheduler_process() as started:
        yield started


@pytest.fixture(scope="module")
def reviewed(scheduler, tmp_path_factory):
    """One project for the file's tests: a round on a stalled scheduler changes nothing in it."""
    return reviewed_project(tmp_path_factory.mktemp("stalled"))


def _round_on_a_stalled_scheduler(scheduler, reviewed, cancel=None) -> tuple[BaseException, float]:
    """The round's error and how long after its start it came, its scheduler stopped before it starts."""
    (address, process), (project, stack) = scheduler, reviewed
    with distributed.Client(address, timeout="30s", set_as_default=False) as client:
        os.kill(process.pid, signal.SIGSTOP)
        waking = threading.Timer(WOKEN_AFTER_S, os.kill, (process.pid, signal.SIGCONT))
        waking.start()
        started = time.monotonic()
        try:
            with pytest.raises(BaseException) as raised:
                run_round_remote(project, stack, client, FINE_TUNE, device="cpu", cancel=cancel)
            return raised.value, time.monotonic() - started
        finally:
            waking.cancel()
            os.kill(process.pid, signal.SIGCONT)


def test_a_round_on_a_stalled_scheduler_says_so_within_seconds(scheduler, reviewed, monkeypatch):
    monkeypatch.setattr(remote, "CONNECT_TIMEOUT_S", 1)
    error, after_s = _round_on_a_stalled_scheduler(scheduler, reviewed)
    assert after_s < 4, f"the round ended {after_s:.1f} s after it started"
    message = str(error)
    assert type(error) is ParticleDetectError and "\n" not in message, repr(error)
    assert message.endswith(": the dask scheduler stopped answering (its process stopped or overloaded?) in 1 s; "
                            "nothing was changed: start the round again"), message
    project = reviewed[0]
    assert not project.leftover_workspaces() and [r.number for r in project.rounds] == [1]


def test_cancel_while_a_stalled_scheduler_is_asked_is_obeyed_at_once(scheduler, reviewed):
    project = reviewed[0]
    asked = time.monotonic()
    error, after_s = _round_on_a_stalled_scheduler(scheduler, reviewed, cancel=lambda: time.monotonic() - asked > 0.5)
    assert isinstance(error, TrainingCancelled) and after_s < 2.5, (error, after_s)
    assert not project.leftover_workspaces() and [r.number for r in project.rounds] == [1]
