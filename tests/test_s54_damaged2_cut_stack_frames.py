"""A TIFF stack cut short (a copy or a write that stopped) is detected at the frames asked for where they are all
whole, its missing frames refused as they are read; a run asking for a missing frame, or for every frame, is refused in
one line naming the frames that can be detected."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.io import UnreadableFrameError, read_image

from helpers import tiny_model_file

FRAMES = (np.random.default_rng(3).random((8, 64, 64)) * 4000).astype(np.uint16)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("model"))


def _cut(path, how: str):
    """``FRAMES`` written page by page (no frame count said) or zlib-compressed (8 frames said), cut in frame 6."""
    if how == "appended":
        with tifffile.TiffWriter(path) as tif:
            for frame in FRAMES:
                tif.write(frame, contiguous=False)
    else:
        tifffile.imwrite(path, FRAMES, compression="zlib", photometric="minisblack")
    with tifffile.TiffFile(path) as tif:
        cut_at = tif.pages[6].dataoffsets[0] + 100
    path.write_bytes(path.read_bytes()[:cut_at])
    return path


@pytest.mark.parametrize("how, length", [("appended", 7), ("zlib", 8)])
def test_the_readable_frames_of_a_stack_cut_short_are_read_lazily_when_only_they_are_asked_for(tmp_path, how, length):
    path = _cut(tmp_path / "cut.tif", how)
    with read_image(path, lazy=True, frames="0:3") as stack:
        assert stack.shape == (length, 64, 64)
        np.testing.assert_array_equal(stack[5], FRAMES[5])
        with pytest.raises(UnreadableFrameError, match="cannot read frame 6 .the file is cut short: only 6"):
            stack[6]
    for frames in (None, "4:7", "7"):  # every frame, or a missing one among them
        with pytest.raises(ParticleDetectError, match="corrupt or truncated.*; frames 0-5 can be detected alone "
                                                      r"\(--frames 0:6\)$"):
            read_image(path, lazy=True, frames=frames)
    with pytest.raises(ParticleDetectError, match="corrupt or truncated"):
        read_image(path, frames="0:3")  # an array holds no frame it cannot read


def test_detect_runs_on_the_frames_asked_for_of_a_stack_cut_short(tmp_path, capsys, tiny_model):
    path = _cut(tmp_path / "cut.tif", "appended")
    out = tmp_path / "t.csv"
    assert main(["-q", "detect", str(path), "--frames", "0:3", "-o", str(out), "--model", str(tiny_model),
                 "--diameter", "7"]) == 0
    record = json.loads(out.with_suffix(".json").read_text())["inputs"][0]
    assert record["frames_detected"] == [0, 1, 2] and "unreadable_frames" not in record
    # A frame past those known of a file that says not how many it holds is missing, not past its end.
    assert main(["-q", "detect", str(path), "--frames", "6:8", "-o", str(tmp_path / "m.csv"), "--model",
                 str(tiny_model)]) == 2
    assert "only 6 frames readable, the rest of the file is missing; frames 0-5 can be detected alone" in \
        capsys.readouterr().err
