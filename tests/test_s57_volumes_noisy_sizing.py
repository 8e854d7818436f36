"""A dim, noisy volume sized without a diameter: the 2D estimate read its slices' noise grains as particles (2-4 px
for 10 px shells at 60 photons), clamped to 5 px, and detection found a fraction of the spheres (F1 0.25 against 0.83
with the diameter given). Slices that read under the 3D model's range are read again smoothed; the estimate stays of
low confidence, and says so."""

from __future__ import annotations

import numpy as np
import pytest

from napari_particle_detect.detection.volume_detection import VolumeOptions, detect_volume, volume_sizing
from napari_particle_detect.kinds.evaluation3d import score_nd
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

HARD = VolumeConfig(shape=(24, 64, 64), dye="shell", photons=60.0, psf_sigma_xy=1.5, psf_z_ratio=3.5, depth_decay=0.3)


@pytest.fixture(scope="module")
def sample():
    return synthesize_volume(HARD, seed=2)


def test_noisy_slices_are_sized_near_the_spheres_not_their_noise(sample):
    sizing = volume_sizing(sample.image.astype(np.float32), None, HARD.voxel_size)
    assert sizing.diameter[1] == pytest.approx(HARD.diameter, rel=0.3)
    assert not sizing.confident and "smoothed" in sizing.reason


def test_noisy_volume_detected_without_a_diameter_nearly_as_with_it(sample):
    def f1(options: VolumeOptions) -> float:
        centres, _, _ = detect_volume(sample.image, options=options)
        margin = tuple(0.5 * d for d in HARD.diameter_voxels)
        return score_nd(centres, sample.centres, 0.5 * HARD.diameter, HARD.voxel_size, sample.image.shape, margin).f1

    given = f1(VolumeOptions(diameter=HARD.diameter_voxels, runtime="torch"))
    assert f1(VolumeOptions(voxel_size=HARD.voxel_size, runtime="torch")) >= given - 0.1


def test_a_clean_volume_is_sized_as_before():
    clean = synthesize_volume(VolumeConfig(shape=(24, 64, 64)), seed=1)
    sizing = volume_sizing(clean.image.astype(np.float32), None, (2.0, 1.0, 1.0))
    assert sizing.confident and "smoothed" not in sizing.reason
    assert sizing.diameter[1] == pytest.approx(10.0, rel=0.2)
