"""A volume thinner than its particles along z (2 slices of spheres 5 slices deep, z sized from the voxel size) is
refused with what helps: read its slices as 2D frames, or check its axes and the voxel size. It was told to "give a
larger volume or the diameter", and given the diameter it was refused again: the diameter was never what was wrong."""

from __future__ import annotations

import pytest
import torch

from napari_particle_detect.detection.volume_detection import VolumeOptions, detect_volume
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume


@pytest.fixture(scope="module")
def two_slices():
    torch.set_num_threads(1)
    image = synthesize_volume(VolumeConfig(shape=(16, 48, 48), volume_fraction=0.3, diameter=10.0, z_step=2.0),
                              seed=4).image
    return image[7:9]


def refusal(volume, **options) -> str:
    with pytest.raises(ParticleDetectError) as caught:
        detect_volume(volume, options=VolumeOptions(device="cpu", **options), name="two.tif")
    return str(caught.value)


def test_a_two_slice_volume_sized_from_its_voxel_size_is_told_to_be_read_as_frames(two_slices):
    said = refusal(two_slices, voxel_size=(2.0, 1.0, 1.0))
    assert said.endswith("its 2 slices are too thin for particles 4.7 slices deep; detect its slices as 2D frames "
                         "instead (axes TYX), or check its axes and the voxel size"), said


def test_given_the_diameter_it_is_not_asked_for_again(two_slices):
    said = refusal(two_slices, voxel_size=(2.0, 1.0, 1.0), diameter=(10.0,))
    assert said.endswith("give a larger volume, or check that its axes are (z, y, x) and the diameter given"), said
