"""An over-exposed slab thicker than the 8 slices read on each side of a slice: its edge slices had as many bright
neighbours as normal ones, their median stood inside the slab, and nothing was levelled (F1 0.41-0.52 with slabs of
10-20 slices through a 48-slice generator volume, its spheres sized about 1 voxel deep instead of 4.5)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_particle_detect.detection.volume_detection import VolumeOptions, detect_volume
from napari_particle_detect.detection.volume_resampling import levelled_slices
from napari_particle_detect.kinds.evaluation3d import score_nd
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

CONFIG = VolumeConfig(shape=(40, 48, 48), volume_fraction=0.4, z_step=2.0)


@pytest.fixture(scope="module")
def sample():
    return synthesize_volume(CONFIG, seed=8)


def _slab(image: np.ndarray, start: int, stop: int, gain: float = 6.0) -> np.ndarray:
    volume = np.asarray(image, dtype=np.float32).copy()
    offset = float(volume.min())
    volume[start:stop] = offset + (volume[start:stop] - offset) * gain
    return volume


@pytest.mark.parametrize("start, stop", [(10, 20), (8, 28), (0, 12)])  # 10 and 20 slices; 12 from the first slice
def test_a_slab_of_more_than_eight_slices_is_levelled_whole(sample, start, stop):
    volume = _slab(sample.image, start, stop)
    levelled, slices, stands = levelled_slices(volume)
    assert slices == list(range(start, stop)) and stands > 5
    clean = np.percentile(sample.image[start:stop], 99)  # the slab's slices as they were before the flash
    assert 0.7 * clean < np.percentile(levelled[start:stop], 99) < 1.3 * clean


def test_a_thick_slab_no_longer_costs_the_volumes_depth_nor_its_centres(sample):
    centres, _, sizing = detect_volume(_slab(sample.image, 12, 26), options=VolumeOptions(runtime="torch"))
    assert sizing.diameter[0] == pytest.approx(CONFIG.diameter_voxels[0], rel=0.2)
    margin = tuple(0.5 * d for d in CONFIG.diameter_voxels)
    score = score_nd(centres, sample.centres, 0.5 * CONFIG.diameter, CONFIG.voxel_size, sample.image.shape, margin)
    assert score.f1 > 0.9, score
