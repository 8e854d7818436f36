"""A remote round whose dask worker is stuck (its process stopped: frozen, swapping) before the round starts: the
version check is refused in one line naming the worker after a deadline, and Cancel (the dock's too) stops it at
once, instead of the round waiting for ever."""

import os
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import replace

import pytest

from napari_particle_detect.learning import remote
from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.remote import run_round_remote
from napari_particle_detect.learning.training import TrainingCancelled

from helpers import reviewed_project
import test_napari_finetune
from test_napari_finetune import TINY_TUNE, start_round

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.usefixtures("project_home")
reviewed = test_napari_finetune.reviewed  # the dock with two frames accepted


@contextmanager
def stuck_worker(clients: list | None = None):
    """A scheduler's address whose one worker process is stopped (SIGSTOP) within the block: it is still
    registered, and never answers; with the worker's address. ``clients``, if given, is filled with a callable
    that counts the clients connected to the scheduler (it runs in this process)."""
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        ((worker, pid),) = client.run(os.getpid).items()
        os.kill(pid, signal.SIGSTOP)
        if clients is not None:
            clients.append(lambda: len(cluster.scheduler.clients))
        try:
            yield cluster.scheduler_address, worker
        finally:
            os.kill(pid, signal.SIGCONT)


def _round_in_thread(project, stack, address, cancel=lambda: False) -> dict:
    outcome = {}
    start = time.monotonic()

    def run() -> None:
        try:
            run_round_remote(project, stack, address, replace(FINE_TUNE, steps_per_epoch=5), device="cpu",
                             cancel=cancel)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc
        outcome["after_s"] = time.monotonic() - start

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(15)
    return outcome


def test_a_worker_that_never_says_its_version_is_refused_in_one_line_naming_it(tmp_path, monkeypatch):
    project, stack = reviewed_project(tmp_path)
    monkeypatch.setattr(remote, "VERSION_TIMEOUT_S", 0.5, raising=False)
    with stuck_worker() as (address, worker):
        outcome = _round_in_thread(project, stack, address)
    assert "after_s" in outcome, "the round still waits for the stuck worker"
    assert str(outcome["error"]) == (f"{address}: the dask worker {worker} did not say which napari-particle-detect "
                                     "it runs in 0.5 s (stuck or overloaded?); restart it, or stop it, and start the "
                                     "round again")
    assert not project.leftover_workspaces() and [r.number for r in project.rounds] == [1]


def test_cancel_while_a_stuck_worker_is_asked_its_version_stops_the_round_at_once(tmp_path):
    project, stack = reviewed_project(tmp_path)
    start = time.monotonic()
    with stuck_worker() as (address, _):
        outcome = _round_in_thread(project, stack, address, cancel=lambda: time.monotonic() - start > 0.5)
    assert "after_s" in outcome, "Cancel was ignored: the round still waits for the stuck worker"
    assert isinstance(outcome["error"], TrainingCancelled) and outcome["after_s"] < 3, outcome
    assert not project.leftover_workspaces() and [r.number for r in project.rounds] == [1]


def test_the_dock_s_cancel_stops_a_round_waiting_for_a_stuck_worker(reviewed, qtbot):
    viewer, widget = reviewed
    panel = widget.finetune
    clients = []
    with stuck_worker(clients) as (address, _):
        panel.where_edit.setText(address)
        before = clients[0]()
        start_round(widget, TINY_TUNE)
        # Connected (the round's client reached the scheduler), then asking the worker its version.
        qtbot.waitUntil(lambda: clients[0]() > before, timeout=10_000)
        qtbot.wait(300)
        assert panel.running()
        panel.cancel_button.click()
        qtbot.waitUntil(lambda: not panel.running(), timeout=5_000)
    assert "cancel" in panel.status.text().lower(), panel.status.text()
    assert [r.number for r in widget.annotation.project.rounds] == [1]
