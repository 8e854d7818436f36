"""A round asked to learn from N unreviewed frames learns from N where the stack has more: a frame its teacher was
unsure all over (its loss masked everywhere, nothing learned) is made up for by another unreviewed frame, and the
round's note names the frames it learned from and says why others were taken."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from napari_particle_detect.learning.finetune import FINE_TUNE, fine_tune, unreviewed_note
from napari_particle_detect.learning.rounds import commit, run_round, unreviewed_text
from napari_particle_detect.models import load_model
from napari_particle_detect.models.registry import WEIGHTS_DIR
from napari_particle_detect.projects.project import Project
from napari_particle_detect.learning.training import Example
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

# The parent teaches (pseudo_teacher_at 0): on a fine checkerboard the shipped model's heatmap stays between 0.01
# and 0.17 everywhere, so with pseudo_low 0.01 it is unsure all over it, and sure of the synthetic frames.
ROUND = replace(FINE_TUNE, steps_per_epoch=4, batch_size=2, crop=32, threads=1, learn_criterion=False,
                pseudo_teacher_at=0.0, pseudo_low=0.01, unlabelled_frames=2)
CHECKER = (np.indices((64, 64)).sum(0) % 2 * 100).astype(np.float32)


@pytest.fixture(scope="module")
def shipped():
    torch.set_num_threads(1)
    return load_model(WEIGHTS_DIR / "unet.pt")


def images(n: int, seed: int) -> list:
    return [synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=seed + i) for i in range(n)]


def test_another_unreviewed_frame_takes_the_place_of_one_the_teacher_was_unsure_all_over(shipped):
    reviewed = [Example(s.image, s.centres, 1.0, f"frame {i}") for i, s in enumerate(images(2, seed=800))]
    others = [CHECKER] + [s.image for s in images(3, seed=810)]
    unreviewed = [Example(image, np.zeros((0, 2)), 1.0, f"frame {i + 2}") for i, image in enumerate(others)]
    result = fine_tune(shipped, reviewed, ROUND, "cpu", unlabelled=unreviewed)
    record = result.model.card.training["fine_tuned"]
    # Spread over four, the two asked are frames 2 (the checkerboard) and 5; frame 3 takes frame 2's place.
    assert sorted(record["pseudo_labelled"]) == ["frame 3", "frame 5"]  # was ["frame 5"]
    assert (record["unlabelled_asked"], record["pseudo_unsure"], result.pseudo_frames) == (2, 1, 2)
    assert unreviewed_note(record["pseudo_labelled"], 2, record["pseudo_unsure"]) == (
        "also learned from 2 unreviewed frames (frame 5, frame 3), of 2 asked, other frames taken in place of 1 "
        "frame the teacher was unsure all over")


def test_a_project_round_takes_another_frame_of_its_stack(tmp_path, shipped):
    truth = images(2, seed=820)
    stack = np.stack([s.image for s in truth] + [CHECKER] + [s.image for s in images(3, seed=830)])
    project = Project.open(tmp_path / "img.tif", n_frames=6, frame_shape=(64, 64))
    project.ensure_initial_round(WEIGHTS_DIR / "unet.pt")
    project.remember_detection(shipped.card.canonical_diameter, "auto")  # frames at the model's size, as made
    for frame, sample in enumerate(truth):
        project.accept_frame(frame, pd.DataFrame({"y": sample.centres[:, 0], "x": sample.centres[:, 1]}))
    events: list[dict] = []
    info = commit(project, run_round(project, stack, ROUND, "cpu", progress=events.append))
    assert (info.unreviewed_frames, info.unreviewed_asked, info.unreviewed_unsure) == ([4, 5], 2, 1)  # was [5]
    assert unreviewed_text(info) == ("also learned from 2 unreviewed frames (frame 4, frame 5), of 2 asked, other "
                                     "frames taken in place of 1 frame the teacher was unsure all over")
    # The teacher's pass counts on over the frame taken in place: "teacher pass 3 / 3 frames" at its end.
    assert [(e["done"], e["total"]) for e in events if e["phase"] == "teacher"][-1] == (3, 3)
