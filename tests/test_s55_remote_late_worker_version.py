"""A remote round started while its scheduler has no worker yet is trained by the first worker that joins: one that
runs another napari-particle-detect is refused in one line as one there at the start is, not left to train the
round unsaid, and nothing changes. So is it where the round asks the worker's defaults first (the dock's way): its
defaults task ran on the late worker, and another version's defaults failed in this computer's settings with a
TypeError."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from napari_particle_detect import __version__
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning import remote
from napari_particle_detect.learning.remote import run_round_remote

from helpers import reviewed_project
from remote_setups import empty_scheduler, worker_process

distributed = pytest.importorskip("distributed")
# The worker's install as another version's would be: its version, and defaults naming a field this one lacks.
OLDER = """import napari_particle_detect
napari_particle_detect.__version__ = '0.0.1'
import napari_particle_detect.learning.finetune as finetune
finetune.round_defaults = lambda device='auto': {'steps_per_epoch': 20, 'crops_per_step_old_name': 8}
"""


@pytest.mark.parametrize("worker_defaults", [False, True], ids=["own settings", "worker's defaults"])
def test_a_worker_of_another_version_that_joins_after_the_round_started_is_refused(tmp_path, worker_defaults,
                                                                                    monkeypatch):
    # A `dask worker` process importing torch took over the round's 10 s wait for a worker on a loaded 2-core
    # machine: the round gave up before the late worker joined.
    monkeypatch.setattr(remote, "CONNECT_TIMEOUT_S", 40)
    project, stack = reviewed_project(tmp_path)
    older = tmp_path / "older_version.py"
    older.write_text(OLDER)
    outcome = {}
    with empty_scheduler() as cluster:
        address = cluster.scheduler_address

        def run() -> None:
            try:
                outcome["result"] = run_round_remote(project, stack, address, replace(FINE_TUNE, steps_per_epoch=3),
                                                     device="cpu", worker_defaults=worker_defaults)
            except BaseException as exc:  # noqa: BLE001 - handed to the test
                outcome["error"] = exc

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        time.sleep(0.5)  # the round asked the versions of no worker, and waits for one
        with worker_process(address, "--preload", str(older)):
            thread.join(60)
    assert not thread.is_alive()
    assert isinstance(outcome.get("error"), ParticleDetectError), outcome
    assert str(outcome["error"]).startswith(f"{address}: the dask worker tcp://"), outcome["error"]
    assert str(outcome["error"]).endswith(f" runs napari-particle-detect 0.0.1, this computer {__version__}; "
                                          f"install {__version__} there and start the round again")
    assert not project.leftover_workspaces() and [r.number for r in project.rounds] == [1]
