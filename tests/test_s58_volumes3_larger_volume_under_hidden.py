"""Picking a smaller volume opened after a larger one left the larger one showing all around it: its particles, outside
the picked volume, read as the picked one's, missed by its detection. Images the dock lists that lie under the picked
one and reach beyond it are hidden now, as those lying over it were; one of the same extent under it stays."""

from __future__ import annotations

import numpy as np
import pytest

from napari_particle_detect._napari.volume_panel import VolumeDetectWidget

pytestmark = pytest.mark.usefixtures("project_home")


def pick(dock, name: str) -> None:
    """Choose ``name`` in the dock's image list as a user does (napari's 'activated', not only the current text)."""
    index = dock.layer_combo.findText(name)
    dock.layer_combo.setCurrentIndex(index)
    dock.layer_combo.activated.emit(index)


def _volume(shape, seed):
    return np.random.default_rng(seed).random(shape).astype(np.float32)


def test_a_larger_volume_under_the_picked_one_is_hidden(make_napari_viewer):
    viewer = make_napari_viewer()
    big = viewer.add_image(_volume((12, 80, 80), 1), name="big")
    small = viewer.add_image(_volume((10, 64, 64), 2), name="small", scale=(2.0, 1.0, 1.0))  # deeper voxels
    dock = VolumeDetectWidget(viewer)
    pick(dock, "small")
    assert small.visible and not big.visible
    pick(dock, "big")  # lying over it, the small one is hidden as before
    assert big.visible and not small.visible


def test_a_volume_of_the_same_ground_under_the_picked_one_stays(make_napari_viewer):
    viewer = make_napari_viewer()
    coarse = viewer.add_image(_volume((6, 32, 32), 3), name="coarse", scale=(2.0, 1.0, 1.0))
    fine = viewer.add_image(_volume((12, 32, 32), 4), name="fine")  # the same ground: half a slice short at most
    dock = VolumeDetectWidget(viewer)
    pick(dock, "fine")
    assert fine.visible and coarse.visible
