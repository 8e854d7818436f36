"""The Volume dock's last image closed: its voxel size stayed in the Voxel boxes ('2.000 pixel', ...) under an empty
Image list, read as the size of an image still open."""

import numpy as np

from napari_particle_detect._napari.volume_panel import VolumeDetectWidget


def test_closing_the_last_image_empties_the_voxel_size(make_napari_viewer, project_home):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((8, 32, 32), np.float32), name="vol", scale=(2.0, 0.5, 0.5), units="um")
    dock = VolumeDetectWidget(viewer)
    assert [spin.value() for spin in dock.voxel] == [2.0, 0.5, 0.5]

    viewer.layers.remove("vol")

    assert [spin.text() for spin in dock.voxel] == ["unknown"] * 3


def test_the_next_image_opened_shows_its_own(make_napari_viewer, project_home):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((8, 32, 32), np.float32), name="vol", scale=(2.0, 0.5, 0.5), units="um")
    dock = VolumeDetectWidget(viewer)
    viewer.layers.remove("vol")

    viewer.add_image(np.zeros((8, 32, 32), np.float32), name="other", scale=(3.0, 1.0, 1.0), units="um")

    assert [spin.value() for spin in dock.voxel] == [3.0, 1.0, 1.0]
