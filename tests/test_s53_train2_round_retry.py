"""Fine-tuning again from the same round (after one that was not better, nothing new reviewed) draws anew: it drew
the crops of the last and came out the same model, byte for byte, a round's wait spent on a copy."""

import json
from dataclasses import replace

import pandas as pd
import torch

from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.rounds import commit, run_round
from napari_particle_detect.learning.volume_finetune import VolumeRoundConfig
from napari_particle_detect.learning.volume_rounds import (
    VolumeSettings, ensure_volume_round, open_volume_project, remember_settings, train_volume_round,
)
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

from helpers import reviewed_project


def weights(project, number: int) -> dict:
    return torch.load(project.round_path(number), map_location="cpu", weights_only=True)


def seeds(project, numbers) -> list[int]:
    cards = (json.loads(project.round_path(n).with_suffix(".json").read_text()) for n in numbers)
    return [card["training"]["fine_tuned"]["config"]["seed"] for card in cards]


def differ(a: dict, b: dict) -> bool:
    return any(not torch.equal(a[k], b[k]) for k in a if a[k].is_floating_point())


def test_a_round_asked_again_from_the_same_parent_draws_anew(tmp_path):
    torch.set_num_threads(1)
    project, stack = reviewed_project(tmp_path)
    config = replace(FINE_TUNE, steps_per_epoch=3, batch_size=2, crop=32, threads=1, learn_criterion=False)
    for _ in range(2):
        commit(project, run_round(project, stack, config, "cpu"))
    assert [r.parent for r in project.rounds] == [None, 1, 1]  # round 2 is not better than the barely trained round 1
    assert seeds(project, (2, 3)) == [0, 1] and differ(weights(project, 2), weights(project, 3))


def test_a_volume_round_asked_again_from_the_same_parent_draws_anew(tmp_path):
    torch.set_num_threads(1)
    sample = synthesize_volume(VolumeConfig(shape=(16, 48, 48), volume_fraction=0.3), seed=3)
    project = open_volume_project(tmp_path / "v.tif", sample.image)
    ensure_volume_round(project)
    remember_settings(project, VolumeSettings((5.0, 10.0, 10.0), None, sample.image.shape))
    c = sample.centres
    project.accept_frame(0, pd.DataFrame({"z": c[:, 0], "y": c[:, 1], "x": c[:, 2], "score": 0.9, "source": "model"}))
    config = VolumeRoundConfig(steps=2, batch_size=1, crop=16, threads=1)
    for _ in range(2):
        train_volume_round(project, sample.image, config, "cpu")
    assert [r.parent for r in project.rounds] == [None, 1, 1]  # round 2 is not better than the shipped model
    assert seeds(project, (2, 3)) == [0, 1] and differ(weights(project, 2), weights(project, 3))
