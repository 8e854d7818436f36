"""A hot row of the sensor through every slice of a volume without a voxel size: the z size is estimated from how
far the image stays alike along z, and the row, the same in every slice, read as one structure the volume's depth
long: spheres of 9 px were sized 92 voxels deep and the volume refused as too thin for them."""

from __future__ import annotations

import numpy as np

from napari_particle_detect.detection.volume_detection import detect_volume
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume


def test_a_hot_line_through_every_slice_leaves_the_z_size_and_the_spheres_found():
    sample = synthesize_volume(VolumeConfig(shape=(16, 40, 40), volume_fraction=0.3), seed=1)
    volume = np.round(sample.image / sample.image.max() * 3000 + 100).astype(np.uint16)
    clean, _, sized = detect_volume(volume)
    volume[:, 20, :] = 65535
    centres, _, sizing = detect_volume(volume, name="hot.tif")
    assert sizing.confident, sizing.reason
    np.testing.assert_allclose(sizing.diameter, sized.diameter, rtol=0.1)
    assert len(clean) >= 10 and abs(len(centres) - len(clean)) <= 0.1 * len(clean)
