"""A rods/chains training interrupted before frames were named by file (its resume state names them "annotated
frame i", a name and one digest each) still resumes on the same files, matched by place as the spheres' old states
are by name; a frame more or fewer is still refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.kinds_training import NamedFrame, _named_digests
from napari_particle_detect.learning.training import check_same_data, data_record, frames_digest

IMAGE = np.random.default_rng(0).random((64, 64)).astype(np.float32)
TABLE = pd.DataFrame({"y": [10.0], "x": [10.0], "angle": [0.0], "length": [8.0], "width": [2.0]})
# The digests such states hold: of each frame at scale 1 (rods' always), as today's record takes them.
OLD_STATE = {"data": {"training": [["annotated frame 0", frames_digest(IMAGE, TABLE)],
                                   ["annotated frame 1", frames_digest(IMAGE, TABLE)]],
                      "validation": [["validation frame 0", frames_digest(IMAGE, TABLE)]]}}


def record(count: int) -> dict:
    frames = [NamedFrame(IMAGE, TABLE, f"rods.tif[{i}]") for i in range(count)]
    held_out = [NamedFrame(IMAGE, TABLE, "held.tif[0]")]
    return data_record(_named_digests(frames, [1.0] * count, "annotated frame"),
                       _named_digests(held_out, [1.0], "validation frame"))


def test_an_old_kinds_state_resumes_on_as_many_frames():
    check_same_data(Path("rods-model.resume.pt"), OLD_STATE, record(2))


def test_an_old_kinds_state_refuses_a_frame_more():
    with pytest.raises(ParticleDetectError, match="other training data"):
        check_same_data(Path("rods-model.resume.pt"), OLD_STATE, record(3))
