"""A remote round given up otherwise than by Cancel (Ctrl-C in a notebook or script, the caller's progress callback
failing) stops its task on the worker: the worker trained the abandoned round to its last step (a GPU node's 500),
and the next round, or anyone else's work, queued behind it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.remote import run_round_remote

from helpers import reviewed_project
from remote_setups import scheduler_with_worker_thread

pytest.importorskip("distributed")
LONG = replace(FINE_TUNE, steps_per_epoch=3000, batch_size=2, crop=32, threads=1)


def ctrl_c_once_training(event: dict) -> None:
    if event.get("phase") == "training":
        raise KeyboardInterrupt


def test_a_remote_round_interrupted_while_it_trains_frees_its_worker(tmp_path):
    project, stack = reviewed_project(tmp_path)
    with scheduler_with_worker_thread() as (_, client, _):
        with pytest.raises(KeyboardInterrupt):
            run_round_remote(project, stack, client, LONG, device="cpu", progress=ctrl_c_once_training)
        # The worker takes other work within seconds (was: busy with the round's 3000 steps for minutes).
        assert client.submit(sum, [1, 2], pure=False).result(timeout=15) == 3
    assert not project.leftover_workspaces() and [r.number for r in project.rounds] == [1]
