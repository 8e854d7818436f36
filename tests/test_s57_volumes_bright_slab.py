"""A few over-exposed slices (a laser or gain jump) through a volume: before, they read as the volume's only
structure along z, sized its spheres a fraction of a voxel deep, and squashed every other slice's spheres into the
bottom of the intensity range (F1 0.14-0.22 on a 40-slice generator volume). Now they are scaled to the slices
around them, with a warning naming them."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from napari_particle_detect.detection.volume_detection import VolumeOptions, detect_volume
from napari_particle_detect.detection.volume_resampling import levelled_slices
from napari_particle_detect.kinds.evaluation3d import score_nd
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

CONFIG = VolumeConfig(shape=(24, 64, 64), volume_fraction=0.4, z_step=2.0)


@pytest.fixture(scope="module")
def sample():
    return synthesize_volume(CONFIG, seed=8)


def _f1(centres: np.ndarray, sample) -> float:
    margin = tuple(0.5 * d for d in CONFIG.diameter_voxels)
    return score_nd(centres, sample.centres, 0.5 * CONFIG.diameter, CONFIG.voxel_size, sample.image.shape, margin).f1


def _over_exposed(image: np.ndarray, gain: float) -> np.ndarray:
    volume = np.asarray(image, dtype=np.float32).copy()
    offset = float(volume.min())
    volume[11:14] = offset + (volume[11:14] - offset) * gain
    return volume


def test_over_exposed_slices_are_levelled_sized_right_and_said(sample, caplog):
    options = VolumeOptions(runtime="torch")
    clean, _, clean_sizing = detect_volume(sample.image, options=options)
    with caplog.at_level(logging.WARNING):
        centres, _, sizing = detect_volume(_over_exposed(sample.image, 6.0), options=options, name="flash.tif")
    assert sizing.diameter[0] == pytest.approx(clean_sizing.diameter[0], rel=0.15)
    assert _f1(centres, sample) >= _f1(clean, sample) - 0.03 > 0.9
    said = [r.getMessage() for r in caplog.records if "over-exposed" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("flash.tif: slices 11, 12, 13 over-exposed")


def test_a_volume_without_over_exposure_is_left_as_it_is(sample):
    volume, slices, _ = levelled_slices(sample.image)
    assert slices == [] and volume is sample.image
    dim = _over_exposed(sample.image, 0.3)  # a dim slab is read as it is: lifting it would lift its noise too
    assert levelled_slices(dim)[1] == []


def test_a_slab_of_several_slices_is_levelled_whole(sample):
    volume = np.asarray(sample.image, dtype=np.float32).copy()
    offset = float(volume.min())
    volume[8:14] = offset + (volume[8:14] - offset) * 6.0  # its outer slices stand among its inner ones
    levelled, slices, stands = levelled_slices(volume)
    assert slices == list(range(8, 14)) and stands > 5
    assert np.percentile(levelled[8:14], 99) < 1.5 * np.percentile(volume[[6, 7, 14, 15]], 99)
