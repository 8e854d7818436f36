"""A rods stack stopped (Ctrl-C) after a constant frame still says that frame, as a spheres stack does."""
import logging

import numpy as np
import pytest

from napari_particle_detect.detection.kinds_prediction import detect_kind


def test_a_constant_frame_before_a_stop_is_still_said(caplog):
    stack = np.random.default_rng(0).normal(100, 5, (5, 48, 48)).astype(np.float32)
    stack[1] = 0

    def progress(done, total):
        if done == 3:
            raise KeyboardInterrupt

    with caplog.at_level(logging.WARNING), pytest.raises(KeyboardInterrupt):
        detect_kind(stack, "rods", device="cpu", name="s.tif", progress=progress)
    said = [r.getMessage() for r in caplog.records if "frame 1" in r.getMessage()]
    assert said == ["s.tif frame 1: every pixel is 0 (a blank frame): nothing found; the rest of the stack is detected"]
