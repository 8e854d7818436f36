"""The Rods and chains dock's Detect and the 3D dock's Detect say, once per image, that its pixels are not square in
y and x, in the spheres dock's words (detect_panel.pixels_not_square): they detected stretched pixels as square and
said nothing. The 3D dock says it only where the voxel size it detects with reads y and x alike: given apart, 3D
detection sizes y and x by it, and the warning would be false."""

from __future__ import annotations

import numpy as np
import pytest

from napari_particle_detect._napari.kinds_widget import KindsWidget
from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

from helpers import notification_count, notifications_since

pytestmark = pytest.mark.usefixtures("project_home")


def _not_square_said(since: int) -> list[str]:
    return [message for message in notifications_since(since) if "not square" in message]


def _rods_detected(widget: KindsWidget, qtbot, times: int) -> None:
    for _ in range(times):
        widget.detect()
        qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)


def _image(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(100, 5, (48, 48)).astype(np.float32)


def test_rods_dock_says_once_per_image_that_its_pixels_are_not_square(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.add_image(_image(), name="stretched", scale=(0.5, 0.25))
    widget = KindsWidget(viewer)
    widget.kind_combo.setCurrentText("rods")
    before = notification_count()
    _rods_detected(widget, qtbot, 2)
    said = _not_square_said(before)
    assert len(said) == 1, said
    assert said[0].startswith("'stretched': the layer's scale gives pixels of 0.5 in y and 0.25 in x, not square")
    # Another image is its own: said for it too, once.
    viewer.add_image(_image(1), name="square", scale=(0.3, 0.3))
    viewer.add_image(_image(2), name="also stretched", scale=(1.0, 2.0))
    widget.image_combo.setCurrentIndex(widget.image_combo.findData("square"))
    before = notification_count()
    _rods_detected(widget, qtbot, 1)
    assert _not_square_said(before) == []
    widget.image_combo.setCurrentIndex(widget.image_combo.findData("also stretched"))
    _rods_detected(widget, qtbot, 2)
    said = _not_square_said(before)
    assert len(said) == 1 and said[0].startswith("'also stretched': "), said


@pytest.fixture(scope="module")
def volume() -> np.ndarray:
    return synthesize_volume(VolumeConfig(shape=(8, 32, 32), volume_fraction=0.3, diameter=8.0, z_step=2.0),
                             seed=4).image


def _volume_dock(viewer, qtbot) -> VolumeDetectWidget:
    dock = VolumeDetectWidget(viewer)
    dock.axes_combo.setCurrentIndex(0)
    dock.diameter.setValue(8.0)
    return dock


def _volume_detected(dock: VolumeDetectWidget, qtbot) -> None:
    dock.detect()
    qtbot.waitUntil(lambda: dock.worker is None, timeout=60_000)


def test_3d_dock_says_it_where_its_voxel_size_reads_y_and_x_alike_once(make_napari_viewer, qtbot, volume):
    viewer = make_napari_viewer()
    viewer.add_image(volume, name="vol", scale=(2.0, 0.5, 0.25))
    dock = _volume_dock(viewer, qtbot)
    assert [s.value() for s in dock.voxel] == [2.0, 0.5, 0.25]
    before = notification_count()
    _volume_detected(dock, qtbot)  # the voxel size sizes y and x apart: nothing to warn of
    assert _not_square_said(before) == []
    dock.voxel[2].setValue(0.5)  # typed as square: detection now reads the pixels as square
    _volume_detected(dock, qtbot)
    _volume_detected(dock, qtbot)
    said = _not_square_said(before)
    assert len(said) == 1, said
    assert said[0].startswith("'vol': the layer's scale gives pixels of 0.5 in y and 0.25 in x, not square")
    assert said[0].endswith("give the voxel size (z, y, x) in the dock: 3D detection uses it")
