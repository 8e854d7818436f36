"""A blank frame (one value in every pixel: a dropped or shutter frame) accepted with nothing on it made every rods or
chains round fail ('frame 1: image is constant ...; nothing to detect') until the user thought to un-accept it: it is
passed over with a warning naming it, and the round learns from the rest."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pytest
import torch

from napari_particle_detect.detection.kinds_prediction import shipped_model_path
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.kinds_rounds import Reviewed, fine_tune_kind, round_config
from napari_particle_detect.learning.training import Example
from napari_particle_detect.models import load_model


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def _rods_frame():
    from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods

    config = benchmark_rod_config("fluorescent", 0.15)
    sample = synthesize_rods(replace(config, optics=replace(config.optics, shape=(64, 64))), seed=70)
    table = sample.table.assign(score=1.0, source="accepted", frame=0)
    return Reviewed(Example(sample.image, table[["y", "x"]].to_numpy(float), name="frame 0"), table)


def _blank_frame(shape, name="frame 1"):
    table = _rods_frame().table.iloc[:0]
    return Reviewed(Example(np.full(shape, 1201.0, np.float32), np.zeros((0, 2)), name=name), table)


CONFIG = replace(round_config("rods", steps_per_epoch=1, batch_size=2, crop=64), threads=1)


def test_a_blank_reviewed_frame_is_passed_over_and_the_round_runs(caplog):
    rods = _rods_frame()
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        result = fine_tune_kind(load_model(shipped_model_path("rods"), "cpu"),
                                [rods, _blank_frame(rods.example.image.shape)], CONFIG, "cpu")
    assert result.model is not None
    said = [r.getMessage() for r in caplog.records if "blank frame" in r.getMessage()]
    assert said == ["frame 1: every pixel is 1201 (a blank frame): nothing to learn from it, passed over"], said


def test_only_blank_reviewed_frames_are_one_line():
    with pytest.raises(ParticleDetectError, match="^every reviewed frame is blank"):
        fine_tune_kind(load_model(shipped_model_path("rods"), "cpu"), [_blank_frame((64, 64))], CONFIG, "cpu")
