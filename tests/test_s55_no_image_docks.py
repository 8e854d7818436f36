"""The spheres and Rods and chains docks opened before any image: no empty view list with a Use button under
Image, and the Rods and chains dock's Detect waits for an image saying how to get one (its click did nothing and
said nothing)."""

import numpy as np

PLUGIN = "napari-particle-detect"


def test_the_spheres_dock_with_no_image_shows_no_view_choice(make_napari_viewer):
    viewer = make_napari_viewer(show=True)
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Particle detection")
    assert widget._view_row.isHidden()  # (the window itself is not drawn here: isVisible says nothing)


def test_the_rods_dock_detects_once_an_image_is_open(make_napari_viewer):
    viewer = make_napari_viewer(show=True)
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    assert not widget.detect_button.isEnabled()
    assert "open an image" in widget.status.text()
    viewer.add_image(np.random.default_rng(0).random((64, 64)).astype(np.float32), name="rods")
    assert widget.detect_button.isEnabled()
    viewer.layers.remove("rods")
    assert not widget.detect_button.isEnabled() and "open an image" in widget.status.text()
