"""A volume's size doubt says it is the slices' (each cuts only some of the particles): three clean spheres were said
to be 'only 1 particle-like blob ... stands out', the first slice's reading given as the volume's."""

import numpy as np

from napari_particle_detect.detection import volume_detection


def test_three_spheres_doubt_is_said_as_the_slices_not_the_volumes():
    z, y, x = np.mgrid[:24, :64, :64]
    volume = np.zeros((24, 64, 64), np.float32)
    for cz, cy, cx in ((7, 20, 20), (12, 40, 44), (17, 22, 46)):
        volume += (((z - cz) ** 2 + (y - cy) ** 2 + (x - cx) ** 2) <= 25).astype(np.float32)
    volume += np.random.default_rng(0).normal(0, 0.05, volume.shape).astype(np.float32)
    diameter, confident, reason = volume_detection._estimated_xy(volume, None)
    assert not confident and 8 < diameter < 13
    assert reason.startswith("5 of the 5 slices read are doubtful, the first: only 1 particle-like blob"), reason
