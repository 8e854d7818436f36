"""The Volume dock: a voxel size typed after Detect redraws the centres at the new z depth (their slab stayed the
old one until the next Detect or reopen), and the Axes note stops asking once the axes are chosen."""

from __future__ import annotations

import pytest

from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume


def test_a_typed_voxel_size_redraws_the_centres_slab_at_the_new_depth(make_napari_viewer, qtbot, project_home):
    viewer = make_napari_viewer()
    sample = synthesize_volume(VolumeConfig(shape=(12, 40, 40), volume_fraction=0.3, diameter=10.0, z_step=2.0), seed=5)
    viewer.add_image(sample.image, name="vol")  # no scale: z is estimated at Detect
    dock = VolumeDetectWidget(viewer)
    dock.diameter.setValue(10.0)
    dock.button.click()
    qtbot.waitUntil(lambda: dock.points is not None and dock.button.isEnabled(), timeout=60_000)
    z_axis = viewer.dims.ndim - 3
    assert viewer.dims.thickness[z_axis] != pytest.approx(2.5, abs=0.1)
    for spin, value in zip(dock.voxel, (4.0, 1.0, 1.0)):
        spin.setValue(value)
    dock.voxel[0].editingFinished.emit()  # the box left: the size is written
    assert viewer.dims.thickness[z_axis] == pytest.approx(2.5)  # 10 px across, 4 times deeper voxels
    assert dock.points is not None and dock.points in viewer.layers and len(dock.points.data)


def test_the_axes_note_stops_asking_once_the_axes_are_chosen(make_napari_viewer, qtbot, project_home):
    viewer = make_napari_viewer()
    viewer.add_image(synthesize_volume(VolumeConfig(shape=(8, 32, 32), volume_fraction=0.2), seed=1).image, name="v")
    dock = VolumeDetectWidget(viewer)
    assert "choose" in dock.axes_note.text()
    dock.axes_combo.activated.emit(0)  # the user picks the first choice, already shown: ZYX
    assert "choose" not in dock.axes_note.text() and "ZYX" in dock.axes_note.text()
    dock.axes_combo.setCurrentIndex(1)
    dock.axes_combo.activated.emit(1)
    assert "TYX" in dock.axes_note.text() and "choose" not in dock.axes_note.text()


def test_a_reopened_dock_does_not_ask_again_of_a_volume_with_saved_centres(make_napari_viewer, qtbot, project_home):
    viewer = make_napari_viewer()
    sample = synthesize_volume(VolumeConfig(shape=(12, 40, 40), volume_fraction=0.3, diameter=10.0, z_step=2.0), seed=5)
    image = viewer.add_image(sample.image, name="vol")
    dock = VolumeDetectWidget(viewer)
    dock.axes_combo.activated.emit(0)
    dock.show_points(image, dock.review.project.load_all(), 10.0, 5.0)
    dock.points.add([[6.0, 20.0, 20.0]])  # a centre placed by hand: saved in the project at once
    assert dock.review.project.saved_frames()
    dock.shut_down(put_layers_away=True)
    again = VolumeDetectWidget(viewer)
    assert again.points is not None and len(again.points.data) == 1
    assert "choose" not in again.axes_note.text() and "ZYX" in again.axes_note.text()
