"""The time a round has left leaves the teacher's pass out of its training rate: labelling the unreviewed frames
halfway through the steps is no training step, and counted as steps it swelled every estimate after it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from napari_particle_detect.learning.eta import RoundEta
from napari_particle_detect.learning.finetune import FINE_TUNE, fine_tune
from napari_particle_detect.learning.training import Example
from napari_particle_detect.models import load_model
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

STEP_S, TEACHER_FRAME_S, AREA_S = 0.1, 5.0, 1.0  # the clock each kind of work advances


def round_events() -> list[dict]:
    """A real round's progress events: 20 steps, the teacher labelling 3 unreviewed frames after 10."""
    torch.set_num_threads(1)
    samples = [synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=600 + i) for i in range(5)]
    reviewed = [Example(s.image, s.centres, 1.0, f"frame {i}") for i, s in enumerate(samples[:2])]
    unreviewed = [Example(s.image, np.zeros((0, 2)), 1.0, f"frame {i + 2}") for i, s in enumerate(samples[2:])]
    config = replace(FINE_TUNE, steps_per_epoch=20, batch_size=2, crop=32, threads=1, learn_criterion=False,
                     unlabelled_frames=3)
    events: list[dict] = []
    fine_tune(load_model("unet", "cpu"), reviewed, config, "cpu", progress=events.append, unlabelled=unreviewed)
    return events


def test_the_teacher_pass_is_left_out_of_the_training_rate():
    events = round_events()
    assert [e["done"] for e in events if e["phase"] == "teacher"] == [0, 1, 2, 3]
    clock = [0.0]
    eta = RoundEta(lambda: clock[0])
    last_step, after_teacher, parent_areas = 0, [], 0
    for event in events:
        phase = event["phase"]
        if phase == "training":
            clock[0] += (event["step"] - last_step) * STEP_S
            last_step = event["step"]
        elif phase == "teacher" and event["done"]:
            clock[0] += TEACHER_FRAME_S
        elif phase == "scoring" and event["model"] == "parent" and event["done"]:
            clock[0] += AREA_S
            parent_areas = event["total"]
        left = eta.update(event)
        if phase == "training" and any(e["phase"] == "teacher" for e in events[:events.index(event)]):
            after_teacher.append((event["step"], left))
    # Right after the teacher: the steps left at the steps' own pace, then scoring the new round as the parent.
    step, left = after_teacher[0]
    assert left == pytest.approx((20 - step) * STEP_S + parent_areas * AREA_S)
    # Before, it said 10 s where 2.5 s were: the teacher's 15 s read as ten steps' time.
