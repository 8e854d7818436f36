"""A size read with the slices' rings filled (hollow-looking particles: the plain reading was their wall) says so in its
reason: the size, twice what the user sees in a slice's rings and often of low confidence, came with only the filled
slices' doubts, or none."""

from __future__ import annotations

from napari_particle_detect.detection.volume_detection import volume_sizing
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

SHELLS = VolumeConfig(shape=(48, 96, 96), volume_fraction=0.35, diameter=16.0, dye="shell", photons=200.0, z_step=2.0)


def test_a_size_read_from_filled_rings_says_so():
    sizing = volume_sizing(synthesize_volume(SHELLS, seed=21).image, None, None)
    assert sizing.diameter[1] > 13.0  # the sphere's, not its wall's
    assert "rings" in sizing.reason and "centres filled" in sizing.reason, sizing.reason


def test_filled_spheres_say_nothing_of_rings():
    volume = synthesize_volume(VolumeConfig(shape=(32, 64, 64), volume_fraction=0.3, diameter=10.0, z_step=2.0),
                               seed=3).image
    assert "rings" not in volume_sizing(volume, None, (2.0, 1.0, 1.0)).reason
