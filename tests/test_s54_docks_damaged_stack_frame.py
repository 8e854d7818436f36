"""A TIFF stack with one damaged frame (its compressed data overwritten): the Particle detection dock's Detect all
stopped at that frame, every later frame left undetected, and the next Detect all stopped there again. The frame
is now skipped and named once, the others detected."""

import numpy as np
import pytest

from helpers import damaged_acquisition, make_widget, notification_count, notifications_since, run_detect, small_stack
from napari_particle_detect.cli.gui import open_images

pytestmark = pytest.mark.usefixtures("project_home")


def test_detect_all_skips_a_damaged_frame_names_it_and_detects_the_rest(tmp_path, make_napari_viewer, qtbot,
                                                                        light_model):
    frames = (small_stack(5, 64) * 1000).astype(np.uint16)
    path = tmp_path / "movie.tif"
    damaged_acquisition(path, frames, damaged=(1,))

    viewer = make_napari_viewer()
    open_images(viewer, [path])  # shown at its middle frame, 2: readable
    widget = make_widget(viewer, light_model)
    seen = notification_count()
    run_detect(widget, qtbot)
    assert widget.annotation.project.saved_frames() == [0, 2, 3, 4]
    said = [m for m in notifications_since(seen) if "cannot read frame" in m]
    assert len(said) == 1 and "frame 1 skipped" in said[0], said
