"""``detect --kind rods|chains --frames`` on a TIFF stack cut short (8 pages written, 6 readable): detected at the
frames asked for where they are all whole, as spheres are (test_s54_damaged2_cut_stack_frames.py); refused before.
A missing frame asked for is still refused in one line naming the frames that can be detected."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from napari_particle_detect.cli.main import main

FRAMES = (np.random.default_rng(3).random((8, 64, 64)) * 4000).astype(np.uint16)


def _cut(path):
    """``FRAMES`` written page by page (no frame count said), cut in frame 6."""
    with tifffile.TiffWriter(path) as tif:
        for frame in FRAMES:
            tif.write(frame, contiguous=False)
    with tifffile.TiffFile(path) as tif:
        cut_at = tif.pages[6].dataoffsets[0] + 100
    path.write_bytes(path.read_bytes()[:cut_at])
    return path


@pytest.mark.parametrize("kind", ["rods", "chains"])
def test_the_other_kinds_detect_the_frames_asked_for_of_a_stack_cut_short(tmp_path, capsys, kind):
    path = _cut(tmp_path / "cut.tif")
    out = tmp_path / "t.csv"
    assert main(["-q", "detect", str(path), "--kind", kind, "--frames", "0:3", "-o", str(out), "--device", "cpu"]) == 0
    record = json.loads(out.with_suffix(".json").read_text())["inputs"][0]
    assert record["kind"] == kind and record["frames_detected"] == [0, 1, 2] and "unreadable_frames" not in record
    capsys.readouterr()
    assert main(["-q", "detect", str(path), "--kind", kind, "--frames", "6:8", "-o", str(tmp_path / "m.csv"),
                 "--device", "cpu"]) == 2
    assert "frames 0-5 can be detected alone (--frames 0:6)" in capsys.readouterr().err
