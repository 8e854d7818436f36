"""Last read: a lazy stack's damaged frame does not stop its pixel key; a run that read no frame says the first
frame's own error; a stopped run does not claim the others were detected."""

import numpy as np
import pytest
from test_s54_unreadable_damaged_frames_dock_and_words import _damaged

from helpers import small_stack
from napari_particle_detect._napari.annotation import UNREADABLE_FINGERPRINT, pixels_key
from napari_particle_detect.detection.unreadable import said_once
from napari_particle_detect.files.io import read_image


def test_a_lazy_stacks_damaged_frame_is_marked_in_its_pixel_key(tmp_path):
    path = _damaged(tmp_path / "movie.tif", (small_stack(5, 48) * 1000).astype(np.uint16), damaged=(2, 4))
    shape, prints = pixels_key(read_image(path, lazy=True))
    assert shape == (5, 48, 48) and prints[1:] == (UNREADABLE_FINGERPRINT,) * 2 and prints[0] != UNREADABLE_FINGERPRINT


@pytest.mark.parametrize("whole", [True, False])
def test_skipped_frames_are_said_once_truly(whole):
    line = "m.tif: cannot read frame {} (zlib error): skipped, the rest of the stack is detected"
    said = [line.format(1), line.format(3), "other"]
    told = said_once(said, [1, 3], 5, whole=whole)
    assert told[0] == "other" and told[1].startswith("m.tif: cannot read frame 1 (zlib error): frames 1, 3 skipped")
    assert told[1].endswith("the others detected") == whole
    assert said_once([line.format(0)], [0], 1) == ["m.tif: cannot read frame 0 (zlib error)"]
