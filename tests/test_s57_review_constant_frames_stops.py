"""A stack's constant frames, said once at the end of a call, are said also when the caller stops early (the dock's
Stop, Ctrl-C, a break closed the generator before the one line); and a call for some frames of a stack with the
diameter given does not read the stack from frame 0 to refuse an all-constant one (napari's one-frame Detect read
every leading dark frame at each click)."""

from __future__ import annotations

import logging

import numpy as np

from helpers import small_stack
from napari_particle_detect.detection.prediction import iter_detect


class CountedFrames:
    """A lazy stack that counts the frames read from it, as a TIFF or zarr stack reads them one by one."""

    def __init__(self, frames: np.ndarray) -> None:
        self.frames, self.read = frames, []
        self.shape, self.ndim, self.dtype = frames.shape, frames.ndim, frames.dtype

    def __getitem__(self, key):
        self.read.append(key)
        return self.frames[key]


def test_constant_frames_met_before_a_stop_are_said(light_model, caplog):
    stack = small_stack(4, 64)
    stack[1] = 7
    with caplog.at_level(logging.WARNING):
        for index, _, _ in iter_detect(stack, model=light_model, device="cpu", diameter=6.0, name="stack.tif"):
            if index == 2:
                break
    assert any("stack.tif frame 1" in r.getMessage() and "every pixel is 7" in r.getMessage() for r in caplog.records)


def test_one_frame_asked_for_with_a_diameter_reads_not_the_frames_before_it(light_model):
    frames = small_stack(8, 64)
    frames[:6] = 0  # a dark start: the shutter opened late
    stack = CountedFrames(frames)
    found = list(iter_detect(stack, model=light_model, device="cpu", diameter=6.0, frames=[7]))
    assert [index for index, _, _ in found] == [7]
    assert all(key in (7, -1) or not isinstance(key, int) for key in stack.read), stack.read


def test_one_rods_frame_asked_for_reads_not_the_frames_before_it():
    from napari_particle_detect.detection.kinds_prediction import detect_kind

    frames = small_stack(8, 64)
    frames[:6] = 0
    stack = CountedFrames(frames)
    detect_kind(stack, "rods", device="cpu", frames=[7])
    assert all(key in (7, -1) or not isinstance(key, int) for key in stack.read), stack.read
