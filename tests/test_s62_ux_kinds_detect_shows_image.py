"""The Rods and chains dock opened over two images chooses the first one, under the other: its Detect drew the rods
under the image lying over it, so the status line counted rods the canvas did not show. Detect shows the image it
searches, as picking it in the list does."""

import numpy as np
import pytest

from helpers import notification_count, notifications_since, small_rods_image

pytestmark = pytest.mark.usefixtures("project_home")


def test_detect_shows_the_chosen_image_over_another_opened_after_it(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.add_image(small_rods_image(), name="rods image")
    viewer.add_image(np.full((96, 96), 0.5, np.float32), name="lying over")  # opaque, over the first
    _, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Rods and chains")
    widget.kind_combo.setCurrentText("rods")
    assert widget.session.image is viewer.layers["rods image"]  # the dock's own choice, not the user's pick
    assert viewer.layers["lying over"].visible
    seen = notification_count()
    widget.detect()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    rods = viewer.layers["rods image rods"]
    assert len(rods.data) > 0 and rods.visible
    assert not viewer.layers["lying over"].visible  # the rods counted are the rods seen
    assert any("hid 'lying over'" in said for said in notifications_since(seen))
    assert [layer.name for layer in viewer.layers][:1] == ["rods image"]  # the layer order stays the user's
