"""A teacher share just under 1 of a round of few steps (0.96 of 10 rounds to 10) still reaches a step: the
unreviewed frames offered are labelled, and the card says so."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from napari_particle_detect.learning.finetune import FINE_TUNE, fine_tune
from napari_particle_detect.learning.training import Example
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import tiny_model_file


@pytest.mark.parametrize("at, steps", [(0.96, 10), (0.99, 2)])
def test_a_share_just_under_1_labels_the_unreviewed_frames(tmp_path, at, steps):
    torch.set_num_threads(1)
    samples = [synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=s) for s in (3, 4)]
    examples = [Example(samples[0].image, samples[0].centres, 1.0, "frame 0")]
    unlabelled = [Example(samples[1].image, np.zeros((0, 2)), 1.0, "frame 1")]
    config = replace(FINE_TUNE, steps_per_epoch=steps, batch_size=2, crop=32, threads=1, unlabelled_frames=1,
                     learn_criterion=False, pseudo_teacher_at=at)
    events = []
    result = fine_tune(tiny_model_file(tmp_path), examples, config, "cpu", progress=events.append,
                       unlabelled=unlabelled)
    phases = [e["phase"] for e in events]
    assert "teacher" in phases
    # The teacher comes before the last step: that step trains on what it labelled.
    last = max(i for i, e in enumerate(events) if e["phase"] == "training")
    assert phases.index("teacher") < last and events[last]["step"] == steps
    tuned = result.model.card.training["fine_tuned"]
    # Labelled: learned from, or labelled unsure all over (the tiny model's lot); either way not left unread.
    assert tuned["pseudo_labelled_frames"] + tuned["pseudo_unsure"] == 1
    assert tuned["unlabelled_asked"] == 1 and tuned["config"]["pseudo_teacher_at"] == at
