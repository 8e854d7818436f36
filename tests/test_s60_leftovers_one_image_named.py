"""A single image's refusal names the image, not "frame 0" of it (as the command line names a single image file):
the library's detect of one 2D array (spheres, given a diameter or not, and rods) and the Volume dock's one volume.
A stack's lines keep their frame."""

from __future__ import annotations

import numpy as np
import pytest
from napari.components import ViewerModel

from napari_particle_detect import ParticleDetectError, detect


def test_one_2d_image_refused_as_blank_is_named_without_a_frame():
    nan = np.full((96, 96), np.nan, np.float32)
    for options in ({}, {"diameter": 8.0}, {"kind": "rods"}):
        with pytest.raises(ParticleDetectError, match=r"^one\.tif: every pixel is NaN or infinite; nothing to "
                                                      r"detect$"):
            detect(nan, device="cpu", name="one.tif", **options)
    with pytest.raises(ParticleDetectError, match=r"^image: image is constant \(every pixel is 0\); nothing"):
        detect(np.zeros((96, 96), np.float32), device="cpu", kind="chains")
    # A stack all blank keeps its frames' numbers: there are frames to tell apart.
    with pytest.raises(ParticleDetectError, match=r"frame"):
        detect(np.stack([nan, nan]), device="cpu", diameter=8.0, name="two.tif")


def test_the_volume_docks_one_nan_volume_is_named_as_the_image(qtbot, project_home):
    from napari_particle_detect._napari.volume_panel import VolumeDetectWidget

    viewer = ViewerModel()
    viewer.add_image(np.full((8, 32, 32), np.nan, np.float32), name="nan")
    dock = VolumeDetectWidget(viewer)
    qtbot.addWidget(dock)
    dock.button.click()
    qtbot.waitUntil(lambda: dock.button.isEnabled() and dock.worker is None, timeout=30_000)
    assert dock.status.text() == "error: nan: every voxel is NaN or infinite; nothing to detect"
