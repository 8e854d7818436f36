"""A TIFF stack whose middle frame, the one napari shows first, is damaged (its compressed data overwritten) did not
open in napari: drawing that frame raised. It opens now with that frame drawn blank and named once, however often
it is shown again, while a dock reading the frame (to detect it) still learns that it cannot be read."""

import numpy as np
import pytest

from helpers import damaged_acquisition, notification_count, notifications_since, small_stack
from napari_particle_detect.cli.gui import open_images
from napari_particle_detect.files.io import UnreadableFrameError


def test_a_stack_whose_middle_frame_is_damaged_opens_with_it_blank_and_named_once(tmp_path, make_napari_viewer,
                                                                                  qtbot):
    frames = (small_stack(5, 48) * 1000).astype(np.uint16)
    path = tmp_path / "movie.tif"
    damaged_acquisition(path, frames, damaged=(2,))

    viewer = make_napari_viewer()
    seen = notification_count()
    [layer] = open_images(viewer, [path])
    assert viewer.dims.current_step[0] == 2
    assert not np.asarray(layer._slice.image.raw).any()  # drawn blank
    for step in (1, 2, 3, 2):
        viewer.dims.set_current_step(0, step)
    assert not np.asarray(layer._slice.image.raw).any()  # back on it: blank again, not the frame before it
    qtbot.waitUntil(lambda: any("cannot read frame 2" in m for m in notifications_since(seen)), timeout=5000)
    said = [m for m in notifications_since(seen) if "cannot read frame" in m]
    assert len(said) == 1 and said[0].endswith(": shown blank"), said
    viewer.dims.set_current_step(0, 3)
    assert np.array_equal(np.asarray(layer._slice.image.raw), frames[3])
    with pytest.raises(UnreadableFrameError, match="cannot read frame 2"):
        np.asarray(layer.data[2])  # as a dock's detection reads it: skipped there, and said so
