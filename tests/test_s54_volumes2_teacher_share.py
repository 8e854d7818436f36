"""TrainConfig.pseudo_teacher_at is a share of a round's steps: at 1 or more no step reaches the teacher, so the
unreviewed frames offered were never labelled, said by nothing; it is refused before any work."""

from dataclasses import replace

import numpy as np
import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.finetune import FINE_TUNE, fine_tune
from napari_particle_detect.learning.training import Example, TrainConfig, check_train_config
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import tiny_model_file


@pytest.mark.parametrize("at", [1.0, 1.5, -0.1, float("nan"), True, "0.5"])
def test_a_teacher_share_outside_0_to_1_is_refused_by_name(at):
    with pytest.raises(ParticleDetectError) as refused:
        check_train_config(replace(TrainConfig(), pseudo_teacher_at=at), 8)
    assert str(refused.value).startswith("TrainConfig.pseudo_teacher_at must be a share of the steps from 0")


@pytest.mark.parametrize("at", [0, 0.0, 0.5, 0.99])
def test_a_teacher_share_from_0_to_under_1_is_taken(at):
    check_train_config(replace(TrainConfig(), pseudo_teacher_at=at), 8)


def test_a_round_whose_teacher_would_never_run_is_refused_before_any_work(tmp_path):
    sample = synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=1)
    examples = [Example(sample.image, sample.centres, 1.0, "frame 0")]
    unlabelled = [Example(sample.image[::-1], np.zeros((0, 2)), 1.0, "frame 1")]
    config = replace(FINE_TUNE, steps_per_epoch=2, batch_size=2, crop=32, threads=1, unlabelled_frames=1,
                     learn_criterion=False, pseudo_teacher_at=1.0)
    phases = []
    with pytest.raises(ParticleDetectError, match="pseudo_teacher_at"):
        fine_tune(tiny_model_file(tmp_path), examples, config, "cpu", progress=lambda e: phases.append(e["phase"]),
                  unlabelled=unlabelled)
    assert phases == []
