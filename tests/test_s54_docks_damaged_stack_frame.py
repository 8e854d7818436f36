"""A TIFF stack with one damaged frame (its compressed data overwritten): the Particle detection dock's Detect all
stopped at that frame, every later frame left undetected, and the next Detect all stopped there again. The frame
is now skipped and named once, the others detected."""

import numpy as np
import pytest
import tifffile

from helpers import make_widget, notification_count, notifications_since, run_detect, small_stack
from napari_particle_detect.cli.gui import open_images

pytestmark = pytest.mark.usefixtures("project_home")


def test_detect_all_skips_a_damaged_frame_names_it_and_detects_the_rest(tmp_path, make_napari_viewer, qtbot,
                                                                        light_model):
    frames = (small_stack(5, 64) * 1000).astype(np.uint16)
    path = tmp_path / "movie.tif"
    with tifffile.TiffWriter(path) as tif:  # pages appended one by one, as an acquisition writes them
        for frame in frames:
            tif.write(frame, contiguous=False, compression="zlib")
    with tifffile.TiffFile(path) as tif:
        where = tif.pages[1].dataoffsets[0]
    data = bytearray(path.read_bytes())
    data[where + 2: where + 202] = b"\xff" * 200
    path.write_bytes(bytes(data))

    viewer = make_napari_viewer()
    open_images(viewer, [path])  # shown at its middle frame, 2: readable
    widget = make_widget(viewer, light_model)
    seen = notification_count()
    run_detect(widget, qtbot)
    assert widget.annotation.project.saved_frames() == [0, 2, 3, 4]
    said = [m for m in notifications_since(seen) if "cannot read frame" in m]
    assert len(said) == 1 and "frame 1 skipped" in said[0], said
