"""A remote round from the dock: its first seconds (up to VERSION_TIMEOUT_S) go to reaching the scheduler and asking
every worker which napari-particle-detect it runs, and the dock said "preparing the reviewed frames and regions…"
meanwhile. Its first line names the scheduler and what is asked."""

import socket

import pytest

from napari_particle_detect.learning.training import TrainingCancelled
from napari_particle_detect._napari.round_progress import describe, train_round

from helpers import reviewed_project

pytest.importorskip("distributed")
pytestmark = pytest.mark.usefixtures("project_home")


def test_a_remote_rounds_first_line_says_it_asks_the_workers_version(tmp_path):
    project, stack = reviewed_project(tmp_path)
    with socket.socket() as probe:  # a port nothing listens on: Cancel is heard while the connection is tried
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    events = []
    with pytest.raises(TrainingCancelled):
        train_round(project, stack, device="cpu", progress=events.append, cancel=lambda: bool(events),
                    scheduler=address)
    first = describe(events[0]).text
    assert address in first and "which version they run" in first, first
    assert [r.number for r in project.rounds] == [1]


def test_a_local_rounds_first_line_is_unchanged():
    assert describe({"phase": "preparing"}).text == "preparing the reviewed frames and regions…"
