"""An image picked in any dock hides the layers every dock made for other images, not only its own: the Rods and chains
dock's rods of one image stayed shown over another picked in the Particle detection dock (and the Volume dock's
centres, and the other way round), read as the picked image's. Picked again, an image's layers come back; the
user's own layers are never touched."""

import pandas as pd
import pytest

from helpers import kinds_dock, make_widget, pick, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def shown(viewer) -> dict[str, bool]:
    return {layer.name: layer.visible for layer in viewer.layers}


def user_pick(combo, name: str) -> None:
    """Choose ``name`` in a dock's Image list as a user does (the list's 'activated', sent after the choice)."""
    index = combo.findText(name)
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def test_an_image_picked_in_one_dock_hides_the_other_docks_layers_of_other_images(make_napari_viewer):
    viewer = make_napari_viewer()
    for name in ("left", "right"):
        viewer.add_image(small_stack(2, 48), name=name)
    rods = kinds_dock(viewer, "rods", "left")
    rods.session.set_detections(pd.DataFrame({"frame": [0], "y": [20.0], "x": [20.0], "angle": [0.3],
                                              "length": [12.0], "width": [3.0], "score": [0.9]}), [0])
    rods.session.regions.propose(0, (0.5, 0.5, 20.5, 20.5))
    _, volumes = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Volume detection (3D)")
    volumes.layer_combo.setCurrentText("left")
    centre = pd.DataFrame({"frame": [0], "z": [1.0], "y": [10.0], "x": [10.0], "score": [0.9], "source": ["model"]})
    volumes.show_points(viewer.layers["left"], centre, 6.0)
    spheres = make_widget(viewer, None)
    notes = viewer.add_points([[0, 5, 5]], name="my notes")  # the user's own layer: never a dock's to hide

    pick(spheres, "right")
    visible = shown(viewer)
    assert not visible["left rods"] and not visible["left rods review box"] and not visible["left 3D centres"]
    assert visible["right"] and notes.visible

    spheres.annotation.ensure_points_layer().add([[0, 30, 30]])
    user_pick(rods.image_combo, "left")  # back to the image the Rods and chains dock works on
    visible = shown(viewer)
    assert visible["left rods"] and visible["left rods review box"] and visible["left 3D centres"]
    assert not visible["right centres"] and notes.visible

    user_pick(volumes.layer_combo, "right")  # the Volume dock's own layers of 'left' are put away there
    visible = shown(viewer)
    assert visible["right centres"] and not visible["left rods"] and not visible["left rods review box"]
