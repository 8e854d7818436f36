"""A layer under the name the Rods and chains dock gives its own, of the image's dimensions but another layer type (a
points layer named 'IMAGE chains'), is renamed aside: the message named its dimensions, the same on both sides
("'img chains' (2D) cannot show the chains of 'img' (2D)"), never the layer type that differed."""

import numpy as np
import pytest

from helpers import notification_count, notifications_since

PLUGIN = "napari-particle-detect"
pytestmark = pytest.mark.usefixtures("project_home")


def test_a_layer_of_another_type_set_aside_is_said_to_be_of_that_type(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((80, 80), np.float32), name="img")
    points = viewer.add_points(np.array([[10.0, 10.0]]), name="img chains")
    start = notification_count()
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    widget.kind_combo.setCurrentText("chains")
    widget.session.redraw()

    assert points.name == "img chains [1]" and points in viewer.layers
    said = " ".join(notifications_since(start))
    assert "'img chains' is a points layer" in said and "shapes" in said, said
    assert "(2D) cannot show" not in said
