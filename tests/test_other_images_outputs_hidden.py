"""An image picked in a dock shows its own centres, boxes and outlines alone: those the dock made for another image
are hidden whatever the layer order and blending. A file's channels split into layers (napari gives the second one
additive blending) showed channel 0's centres through channel 1 once channel 1 was picked: the dock hid only the
layers lying over the picked image, so the user took channel 0's centres for channel 1's."""

import numpy as np
import pandas as pd
import pytest
import tifffile

from helpers import kinds_dock, make_widget, pick, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def split_channels(viewer, folder):
    """A 2-channel TCYX file opened with its channels as the layers 'green' and 'red' (napari's channel_axis)."""
    stack = (small_stack(2, 48) * 4000).astype(np.uint16)
    tifffile.imwrite(folder / "hyper.tif", np.stack([stack, stack[:, ::-1].copy()], axis=1), imagej=True,
                     metadata={"axes": "TCYX"})
    green, red = viewer.open(folder / "hyper.tif", plugin="napari", channel_axis=1, name=["green", "red"])
    assert red.blending == "additive" and viewer.layers.index(red) > viewer.layers.index(green)
    return green, red


def shown(viewer) -> dict[str, bool]:
    return {layer.name: layer.visible for layer in viewer.layers}


def test_picking_a_channel_hides_the_other_channels_centres_and_boxes(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    split_channels(viewer, tmp_path)
    widget = make_widget(viewer, None)
    pick(widget, "green")
    widget.annotation.ensure_points_layer().add([[0, 10, 10]])
    widget.annotation.regions.propose(0, (0.5, 0.5, 20.5, 20.5))
    pick(widget, "red")
    widget.annotation.ensure_points_layer().add([[0, 30, 30]])
    notes = viewer.add_points([[0, 5, 5]], name="my notes")  # the user's own layer: never the dock's to hide

    visible = shown(viewer)
    assert visible["red"] and visible["red centres"]
    assert not visible["green centres"] and not visible["green review box"]
    assert visible["green"] and notes.visible  # the user's overlay of the channels stays as they set it

    # Picked back, green's layers come back and red's go, also red's centres the user moved under green.
    viewer.layers.move(viewer.layers.index("red centres"), 0)
    pick(widget, "green")
    visible = shown(viewer)
    assert visible["green centres"] and visible["green review box"] and not visible["red centres"]
    assert notes.visible


def test_the_rods_dock_puts_away_the_other_channels_rods(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    split_channels(viewer, tmp_path)
    widget = kinds_dock(viewer, "rods", "green")
    rod = pd.DataFrame({"frame": [0], "y": [20.0], "x": [20.0], "angle": [0.3], "length": [12.0], "width": [3.0],
                        "score": [0.9]})
    widget.session.set_detections(rod, [0])
    widget.session.regions.propose(0, (0.5, 0.5, 20.5, 20.5))

    widget.image_combo.setCurrentText("red")
    visible = shown(viewer)
    assert "green rods" not in visible and "green rods review box" not in visible and visible["red"]
    widget.image_combo.setCurrentText("green")
    assert shown(viewer)["green rods"]
