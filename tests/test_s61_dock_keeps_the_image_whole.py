"""An image fitted to napari's canvas, then a dock opened beside it (from the Plugins menu, or with
``napari IMAGE -w napari-particle-detect``): the dock takes some 450 px of the canvas's width and napari keeps its
zoom, so the image was cut at both sides. Where it lay whole before, it is fitted again; a view zoomed in stays."""

import numpy as np
import pytest

PLUGIN = "napari-particle-detect"


def _camera(viewer):
    return viewer.scene.camera


def _whole_width_shown(viewer, width: int) -> bool:
    """Whether the image's columns (pixels to their edges) lie on the canvas."""
    camera, canvas_width = _camera(viewer), viewer.canvas.size[-1]
    half_view = canvas_width / (2 * camera.zoom)
    return camera.center[-1] - half_view <= -0.5 and camera.center[-1] + half_view >= width - 0.5


def _wide_image_in_a_window(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1400, 800)
    viewer.add_image(np.zeros((60, 400), np.uint8), name="wide")
    qtbot.wait(100)
    viewer.reset_view()  # as napari fitted it to the canvas as it was
    assert _whole_width_shown(viewer, 400)
    return viewer


@pytest.mark.parametrize("dock", ["Particle detection", "Rods and chains", "Volume detection (3D)"])
def test_an_image_shown_whole_stays_whole_as_the_dock_docks(make_napari_viewer, qtbot, monkeypatch, dock):
    monkeypatch.setenv("NAPARI_PARTICLE_DETECT_NO_WARM_UP", "1")
    viewer = _wide_image_in_a_window(make_napari_viewer, qtbot)
    wide = viewer.canvas.size[-1]
    viewer.window.add_plugin_dock_widget(PLUGIN, dock)
    qtbot.waitUntil(lambda: viewer.canvas.size[-1] < wide - 200, timeout=3000)
    assert _whole_width_shown(viewer, 400)


def test_a_view_zoomed_into_the_image_is_left_as_the_user_set_it(make_napari_viewer, qtbot, monkeypatch):
    monkeypatch.setenv("NAPARI_PARTICLE_DETECT_NO_WARM_UP", "1")
    viewer = _wide_image_in_a_window(make_napari_viewer, qtbot)
    _camera(viewer).zoom *= 3
    zoom, wide = _camera(viewer).zoom, viewer.canvas.size[-1]
    viewer.window.add_plugin_dock_widget(PLUGIN, "Particle detection")
    qtbot.waitUntil(lambda: viewer.canvas.size[-1] < wide - 200, timeout=3000)
    assert _camera(viewer).zoom == zoom
