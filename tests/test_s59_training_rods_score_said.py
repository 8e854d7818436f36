"""A rods run's validation score is F1 less its orientation and length errors, below zero in every epoch of a
short run: the log says so in words once, and each epoch's record keeps the rods' F1 a user reads."""

from __future__ import annotations

import logging

import torch

from napari_particle_detect.cli.bars import epoch_line
from napari_particle_detect.learning.kinds_training import KindTrainConfig, train_kind


def test_a_rods_run_says_what_its_validation_score_is_and_keeps_the_f1(tmp_path, caplog):
    torch.set_num_threads(1)
    config = KindTrainConfig(kind="rods", epochs=1, steps_per_epoch=1, batch_size=1, crop=32, validation_images=1,
                             validation_size=64)
    records: list[dict] = []
    with caplog.at_level(logging.INFO):
        model = train_kind(config, tmp_path / "rods", progress=records.append)
    assert ("rods validation score: F1 minus the median orientation error / 20 degrees minus the median relative "
            "length error (1 is perfect; below 0 where those errors outweigh F1") in caplog.text
    assert 0.0 <= records[-1]["rod_f1"] <= 1.0
    assert model.card.training["history"][-1]["rod_f1"] == records[-1]["rod_f1"]
    assert epoch_line({**records[-1], "epochs": 1}).startswith("epoch 1/1: loss ")  # the line reads as it did
