"""The Volume dock: a voxel size typed after Detect sizes the project's z as a Detect with it would (the next round
resampled the reviewed volumes at the depth the old voxel size, or none, gave), and its controls scroll in a small
window instead of being cut off."""

from __future__ import annotations

import pytest

from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect.learning.volume_rounds import read_settings
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume


def test_a_voxel_size_typed_after_detect_sizes_the_projects_z_from_it(make_napari_viewer, qtbot, project_home):
    viewer = make_napari_viewer()
    sample = synthesize_volume(VolumeConfig(shape=(12, 40, 40), volume_fraction=0.3, diameter=10.0, z_step=2.0), seed=5)
    viewer.add_image(sample.image, name="vol")  # no scale: z is estimated at Detect
    dock = VolumeDetectWidget(viewer)
    dock.diameter.setValue(10.0)
    dock.button.click()
    qtbot.waitUntil(lambda: dock.points is not None and dock.button.isEnabled(), timeout=60_000)
    project = dock.review.project
    estimated = read_settings(project).diameter[0]
    for spin, value in zip(dock.voxel, (4.0, 1.0, 1.0)):
        spin.setValue(value)
    dock.save_typed_voxel_size()  # as the typing pausing, or the box being left, writes it
    settings = read_settings(project)
    assert settings.voxel_size == (4.0, 1.0, 1.0)
    assert settings.diameter == pytest.approx((2.5, 10.0, 10.0)) and estimated != pytest.approx(2.5, abs=0.1)
    assert "2.5 voxels deep" in dock.status.text()
    assert dock.options().diameter == (10.0,)  # Detect again sizes z from the voxel size too: the same 2.5


def test_the_volume_docks_controls_scroll_in_a_small_window(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1024, 700)
    viewer.add_image(synthesize_volume(VolumeConfig(shape=(8, 32, 32), volume_fraction=0.2), seed=1).image, name="v")
    _, dock = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Volume detection (3D)")
    qtbot.wait(50)
    # Its whole column asked for more height than the window has, so Qt cut off its lowest rows.
    assert dock.minimumSizeHint().height() < 300
    fine_tune = dock.round_panel
    dock._scroll.ensureWidgetVisible(fine_tune)
    qtbot.wait(50)
    bottom = fine_tune.mapTo(dock, fine_tune.rect().bottomLeft()).y()
    assert fine_tune.isVisible() and bottom <= dock.height() + 1
    assert not dock._scroll.horizontalScrollBar().isVisible()
