"""A remote round asked to learn from N unreviewed frames learns from N where the stack has more, as a local round
does: the worker gets spares with the frames it labels first, and another unreviewed frame takes the place of one
its teacher was unsure all over (it was sent exactly N, and learned from fewer)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.remote import run_round_remote
from napari_particle_detect.learning.rounds import commit, unreviewed_text
from napari_particle_detect.models import load_model
from napari_particle_detect.models.registry import WEIGHTS_DIR
from napari_particle_detect.projects.project import Project
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from remote_setups import scheduler_with_worker_thread

distributed = pytest.importorskip("distributed")
# As tests/test_s55_rounds_unsure_frames_replaced.py: the parent teaches, and with pseudo_low 0.01 it is unsure all
# over a fine checkerboard, and sure of the synthetic frames.
ROUND = replace(FINE_TUNE, steps_per_epoch=4, batch_size=2, crop=32, threads=1, learn_criterion=False,
                pseudo_teacher_at=0.0, pseudo_low=0.01, unlabelled_frames=2)
CHECKER = (np.indices((64, 64)).sum(0) % 2 * 100).astype(np.float32)


def images(n: int, seed: int) -> list:
    return [synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=seed + i) for i in range(n)]


def test_a_remote_round_takes_another_frame_in_place_of_one_its_teacher_was_unsure_all_over(tmp_path):
    truth = images(2, seed=820)
    stack = np.stack([s.image for s in truth] + [CHECKER] + [s.image for s in images(3, seed=830)])
    project = Project.open(tmp_path / "img.tif", n_frames=6, frame_shape=(64, 64))
    project.ensure_initial_round(WEIGHTS_DIR / "unet.pt")
    # Frames at the model's own size, as made.
    project.remember_detection(load_model(WEIGHTS_DIR / "unet.pt").card.canonical_diameter, "auto")
    for frame, sample in enumerate(truth):
        project.accept_frame(frame, pd.DataFrame({"y": sample.centres[:, 0], "x": sample.centres[:, 1]}))
    with scheduler_with_worker_thread() as (_, client, _):
        outcome = run_round_remote(project, stack, client, ROUND, device="cpu")
    info = commit(project, outcome)
    # Frames 2 (the checkerboard) and 5 first, as a local round; frame 3, a spare, takes frame 2's place.
    assert (info.unreviewed_frames, info.unreviewed_asked, info.unreviewed_unsure) == ([3, 5], 2, 1)  # was [5]
    assert unreviewed_text(info) == ("also learned from 2 unreviewed frames (frame 3, frame 5), of 2 asked, other "
                                     "frames taken in place of 1 frame the teacher was unsure all over")
