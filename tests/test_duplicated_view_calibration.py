"""A copy made with napari's Duplicate Layer finds the calibration its original finds: a copy of a channel napari
opened as a layer of its own took the name of that channel's project for its file (no file), and a channel view
made of a copied hyperstack had no file at all, so the Tracks panel, Export and the Volume dock found no pixel size
or frame interval (a view of the copy also opened a new, empty project under the projects home)."""

import numpy as np
import pytest
import tifffile
from napari.layers._layer_actions import _duplicate_layer  # what Layers > Duplicate Layer runs

from napari_particle_detect._napari.export_panel import export_placement
from napari_particle_detect._napari.volume_panel import layer_voxel_size

from helpers import make_widget, small_stack

pytestmark = pytest.mark.usefixtures("project_home")

CALIBRATION = {"resolution": (4.0, 4.0), "metadata": {"unit": "um", "finterval": 0.5}}  # 0.25 µm/px, 0.5 s
FROM_FILE = ("0.25", "0.5 s", "from hyper.tif's metadata: 0.25 µm/px, frames 0.5 s apart")


def duplicate(viewer, layer):
    viewer.layers.selection = {layer}
    _duplicate_layer(viewer.layers)
    return viewer.layers[f"{layer.name} copy"]


def pick(widget, layer) -> None:
    widget.image_combo.setCurrentIndex(widget.image_combo.findData(id(layer)))
    assert widget.annotation is not None and widget.annotation.image is layer, widget.project_label.text()


def found(widget) -> tuple:
    """What the Tracks panel filled in, where Export places the centres, and the project opened."""
    tracks = widget.tracks
    placed, read_from = export_placement(widget.annotation)
    return (tracks.mpp_spin.text(), tracks.interval_spin.text(), tracks.calibration_note.text(), placed.scale,
            read_from.name if read_from else None, widget.annotation.project.folder.name)


def test_copies_of_a_channel_layer_and_views_of_a_copied_hyperstack_find_the_files_calibration(make_napari_viewer,
                                                                                               tmp_path):
    particles = (small_stack(2, 32) * 4000).astype(np.uint16)
    path = tmp_path / "hyper.tif"
    tifffile.imwrite(path, np.stack([particles, particles[:, ::-1].copy()], axis=1), imagej=True,
                     resolution=CALIBRATION["resolution"], metadata={"axes": "TCYX", **CALIBRATION["metadata"]})
    viewer = make_napari_viewer()
    [whole] = viewer.open(path, plugin="napari")
    _, red = viewer.open(path, plugin="napari", channel_axis=1, name=["green", "red"])
    widget = make_widget(viewer, None)
    expected = (*FROM_FILE, (0.25, 0.25), "hyper.tif", "hyper-frames0-at1_1.particle-detect")

    pick(widget, red)
    assert found(widget) == expected
    red_copy = duplicate(viewer, red)
    pick(widget, red_copy)
    assert found(widget) == expected  # the copy: the file's calibration, the channel's own project

    whole_copy = duplicate(viewer, whole)
    viewer.layers.remove(whole)  # closed before its copy is used: the copy still knows the file
    widget.image_combo.setCurrentIndex(widget.image_combo.findData(id(whole_copy)))
    widget.view_combo.setCurrentIndex(1)
    view = widget.use_view()
    assert view.name == "hyper copy (T frames, channel 1)"
    assert found(widget) == expected


def test_a_copy_of_a_volume_channel_keeps_its_files_voxel_size(make_napari_viewer, tmp_path):
    path = tmp_path / "cells.tif"
    zcyx = np.random.default_rng(0).integers(0, 4000, (3, 2, 16, 16), dtype=np.uint16)
    tifffile.imwrite(path, zcyx, imagej=True, resolution=(4.0, 4.0), metadata={"axes": "ZCYX", "spacing": 1.5,
                                                                                 "unit": "um"})
    viewer = make_napari_viewer()
    channel, _ = viewer.open(path, plugin="napari", channel_axis=1)
    assert layer_voxel_size(channel) == ((1.5, 0.25, 0.25), "µm")
    assert layer_voxel_size(duplicate(viewer, channel)) == layer_voxel_size(channel)
