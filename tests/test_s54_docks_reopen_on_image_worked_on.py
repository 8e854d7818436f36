"""Closed with its X, a dock says its layers "come back when the dock is opened again"; the Rods and chains and
Particle detection docks reopened on the first image of the list instead, so the layers of the image they closed on
(the second) stayed away until it was picked by hand. They now reopen on that image (and kind), as the Volume dock
does."""

import numpy as np
import pytest

from helpers import kinds_dock, make_widget, pick
from napari_particle_detect.synthetic.rods import rod_table

pytestmark = pytest.mark.usefixtures("project_home")
PLUGIN = "napari-particle-detect"


def _two_images(viewer) -> None:
    rng = np.random.default_rng(0)
    viewer.add_image(rng.random((48, 48)).astype(np.float32), name="first")
    viewer.add_image(rng.random((48, 48)).astype(np.float32), name="second")


def test_the_rods_and_chains_dock_reopens_on_the_image_and_kind_it_closed_on(make_napari_viewer):
    viewer = make_napari_viewer()
    _two_images(viewer)
    widget = kinds_dock(viewer, "chains", "second")
    widget.kind_combo.setCurrentText("rods")
    widget.session.set_detections(rod_table([20.0], [24.0], [0.0], [20.0], [4.0]).assign(frame=0, score=0.9), [0])
    viewer.window.remove_dock_widget(widget)
    assert "second rods" not in viewer.layers

    _, reopened = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    assert reopened.session.image is viewer.layers["second"] and reopened.session.kind == "rods"
    assert len(viewer.layers["second rods"].data) == 1


def test_the_particle_detection_dock_reopens_on_the_image_it_closed_on(make_napari_viewer):
    viewer = make_napari_viewer()
    _two_images(viewer)
    widget = make_widget(viewer, None)
    pick(widget, "second")
    widget.annotation.ensure_points_layer().add([[20.0, 21.0]])
    viewer.window.remove_dock_widget(widget)
    assert "second centres" not in viewer.layers

    reopened = make_widget(viewer, None)
    assert reopened.selected_image() is viewer.layers["second"]
    assert len(viewer.layers["second centres"].data) == 1
