"""A folder run's worker is sent each input by its absolute name: detection's own lines (a stack's constant frames,
a lone image's "frame 0" refusal) named it so, where every other line of the run names the input as the user
gave it (in/constant.tif)."""

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import tifffile

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.distributed import failure_line
from napari_particle_detect.files.file_detection import DetectOptions, detect_file
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import tiny_model_file


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return tiny_model_file(tmp_path_factory.mktemp("worker-names-model"))


OPTIONS = DetectOptions(diameter=10.0, device="cpu", threads=1)


def test_a_constant_image_sent_by_its_absolute_name_fails_naming_it_as_given(tmp_path, tiny_model):
    sent = tmp_path / "in" / "constant.tif"
    sent.parent.mkdir()
    tifffile.imwrite(sent, np.full((64, 64), 7, np.uint8))
    given = Path("in/constant.tif")
    with pytest.raises(ParticleDetectError) as refused:
        detect_file(sent, OPTIONS, tiny_model, tmp_path / "out" / "constant.csv", name=given)
    line = failure_line(given, refused.value, sent)
    assert line == "in/constant.tif: image is constant (every pixel is 7); nothing to detect"  # one image: no frame 0
    with pytest.raises(ParticleDetectError) as refused:  # so is a rods run's
        detect_file(sent, replace(OPTIONS, kind="rods", diameter=None), None, tmp_path / "out" / "constant-rods.csv")
    assert str(refused.value) == f"{sent}: image is constant (every pixel is 7); nothing to detect"


def test_a_stacks_constant_frames_are_said_by_the_name_given(tmp_path, tiny_model, caplog):
    stack = np.stack([synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=s).image for s in range(3)])
    stack[1] = 0
    sent = tmp_path / "shutter.tif"
    tifffile.imwrite(sent, stack, photometric="minisblack")
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        detect_file(sent, OPTIONS, tiny_model, name="in/shutter.tif")
    said = [record.getMessage() for record in caplog.records if "blank frame" in record.getMessage()]
    assert said == ["in/shutter.tif frame 1: every pixel is 0 (a blank frame): no centres; the rest of the stack is "
                    "detected"], caplog.text
