"""The 3D dock says a series' refilled slices and hot line once a Detect press, in the window: each volume said them
in lines of its own, and only in the terminal (the notifications showed the gaps alone)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from helpers import notification_count, notifications_since

from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume


def _defective(seed: int) -> np.ndarray:
    image = synthesize_volume(VolumeConfig(shape=(12, 32, 32), volume_fraction=0.3), seed=seed).image
    volume = np.round(image / image.max() * 3000 + 100).astype(np.float32)
    volume[:, 16, :] = 65535  # a hot row of the sensor
    volume[4] = 0  # a dropped slice
    volume[7] = np.nan  # another, NaN throughout
    return volume


@pytest.mark.usefixtures("project_home")
def test_the_volume_dock_says_a_series_refilled_slices_and_hot_line_once(make_napari_viewer, qtbot, caplog):
    viewer = make_napari_viewer()
    viewer.add_image(np.stack([_defective(1), _defective(2)]), name="worn")
    dock = VolumeDetectWidget(viewer)
    for box, value in zip(dock.voxel, (2.0, 1.0, 1.0)):
        box.setValue(value)
    before = notification_count()
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        dock.button.click()
        qtbot.waitUntil(lambda: "worn 3D centres" in viewer.layers and dock.button.isEnabled(), timeout=60_000)
    refilled = ("worn volume 0: slice 4; worn volume 1: slice 4 constant (blank or saturated: dropped by the "
                "microscope?); worn volume 0: slice 7; worn volume 1: slice 7 NaN or infinite throughout "
                "(dropped by the microscope?), each filled from the slices beside it")
    spikes = ("worn: 384 voxels at 65535 (the other voxels at most 3100) left out of the intensity range in 2 "
              "volumes (a hot line, a saturated patch or zero padding?)")
    logged = [r.getMessage() for r in caplog.records]
    assert [m for m in logged if "microscope" in m or "intensity range" in m] == [refilled, spikes]
    shown = notifications_since(before)
    assert [m for m in shown if "microscope" in m or "intensity range" in m] == [refilled, spikes]
    assert not [m for m in shown if "read as missing" in m]  # the NaN slice refilled, no gap left
