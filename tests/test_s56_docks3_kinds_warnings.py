"""The Rods and chains dock's Detect shows the warnings its detection logged (here: the frame detected is blank), as
the spheres and 3D docks show theirs: they reached only a terminal, and the line said '0 rods on frame 1' as if the
frame had been searched and held none."""

from __future__ import annotations

import numpy as np
import pytest

from napari_particle_detect._napari.kinds_widget import KindsWidget

from helpers import notification_count, notifications_since

pytestmark = pytest.mark.usefixtures("project_home")


def test_a_blank_frame_detected_is_said_in_the_window(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    frame = np.random.default_rng(0).normal(100, 5, (48, 48)).astype(np.float32)
    viewer.add_image(np.stack([frame, np.zeros_like(frame)]), name="dropped")
    widget = KindsWidget(viewer)
    widget.kind_combo.setCurrentText("rods")
    viewer.dims.set_current_step(0, 1)
    before = notification_count()
    widget.detect()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    said = [message for message in notifications_since(before) if "blank frame" in message]
    assert len(said) == 1 and said[0].startswith("dropped frame 1: "), notifications_since(before)
    assert "the rest of the stack" not in said[0]  # one frame was asked for: there is no rest to detect
    assert widget.session.tables[1].empty  # still saved as searched, nothing found
