"""Every dock keeps the file of a copy made with napari's Duplicate Layer as the copy comes, not when it first looks
the copy up: a copy knows its original only while that lives, so the Rods and chains and the Volume docks, the
original closed before the copy was picked, gave the copy a new, empty project under the projects home and no
calibration from the file."""

import gc

import numpy as np
import pytest
import tifffile
from napari.layers._layer_actions import _duplicate_layer  # what Layers > Duplicate Layer runs

pytestmark = pytest.mark.usefixtures("project_home")


def copy_and_close_the_original(viewer, path) -> None:
    """``path`` opened, copied, and the original closed and gone (nothing of it left to ask for its file)."""
    [original] = viewer.open(path, plugin="napari")
    viewer.layers.selection = {original}
    _duplicate_layer(viewer.layers)
    viewer.layers.remove(original)
    del original
    gc.collect()


def test_the_rods_dock_finds_the_file_of_a_copy_whose_original_was_closed(make_napari_viewer, tmp_path):
    tifffile.imwrite(tmp_path / "rods.tif", np.random.default_rng(0).integers(0, 4000, (48, 48), dtype=np.uint16))
    viewer = make_napari_viewer()
    _, dock = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Rods and chains")
    viewer.add_image(np.zeros((32, 32)), name="another")  # the image the dock works on meanwhile
    copy_and_close_the_original(viewer, tmp_path / "rods.tif")

    dock.image_combo.setCurrentText("rods copy")
    assert dock.session.image.name == "rods copy"
    assert dock.session.project.folder == tmp_path / "rods.rods.particle-detect"


def test_the_volume_dock_finds_the_file_and_calibration_of_a_copy_whose_original_was_closed(make_napari_viewer,
                                                                                           tmp_path):
    volume = np.random.default_rng(0).integers(0, 4000, (4, 24, 24), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "cells.tif", volume, imagej=True, resolution=(4.0, 4.0),
                     metadata={"axes": "ZYX", "spacing": 1.5, "unit": "um"})
    viewer = make_napari_viewer()
    _, dock = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Volume detection (3D)")
    viewer.add_image(np.zeros((4, 24, 24)), name="another")
    copy_and_close_the_original(viewer, tmp_path / "cells.tif")

    dock.layer_combo.setCurrentText("cells copy")
    assert dock.layer().name == "cells copy"
    assert [spin.value() for spin in dock.voxel] == [1.5, 0.25, 0.25]  # the file's µm, not 'unknown'
    assert dock.axes_note.text() == "3D layer: ZYX, as its file's metadata says"
    assert dock.review.project.folder.parent == tmp_path  # beside the file, not a new one under the projects home
