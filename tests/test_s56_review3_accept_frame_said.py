"""The Rods and chains dock's Accept frame said "frame N accepted with K rods" in the status line alone, which the
next refresh (any edit, a frame turned) wrote over before it was read: said as the spheres dock says it."""

from dataclasses import replace

import pytest

from helpers import notification_count, notifications_since
from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods

PLUGIN = "napari-particle-detect"
pytestmark = pytest.mark.usefixtures("project_home")


def test_accept_frame_says_what_it_kept_where_a_refresh_leaves_it(make_napari_viewer, qtbot):
    config = benchmark_rod_config("fluorescent", 0.15)
    image = synthesize_rods(replace(config, optics=replace(config.optics, shape=(96, 96))), seed=97).image
    viewer = make_napari_viewer()
    viewer.add_image(image, name="img")
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    widget.kind_combo.setCurrentText("rods")
    widget.detect()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    rods = len(viewer.layers["img rods"].data)
    start = notification_count()
    widget.review.buttons["Accept frame"].click()
    widget.review.refresh()  # as the next edit in the layer does

    assert f"frame 0 accepted with {rods} rods" in " ".join(notifications_since(start))
    assert widget.review.status.text().startswith("frame 0: reviewed")
