"""A round's detection of its examples (finetune.propose) named each by its file's name alone: two folders'
img.tif[0] were said alike, so a refusal of one could be read as of the other. It names the path the user gave."""

from __future__ import annotations

import numpy as np
import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.finetune import fine_tune
from napari_particle_detect.learning.training import Example
from helpers import tiny_model_file


def test_a_round_names_the_example_it_cannot_detect_by_its_given_path(tmp_path):
    rng = np.random.default_rng(0)
    centres = rng.uniform(10, 86, (8, 2))
    read = Example(rng.random((96, 96)).astype(np.float32), centres, scale=1.0, name="img.tif[0]",
                   given_as="a/img.tif[0]")
    constant = Example(np.full((96, 96), 3.0, np.float32), centres, scale=1.0, name="img.tif[0]",
                       given_as="b/img.tif[0]")
    with pytest.raises(ParticleDetectError, match=r"^b/img\.tif\[0\].*constant"):
        fine_tune(str(tiny_model_file(tmp_path)), [read, constant])
