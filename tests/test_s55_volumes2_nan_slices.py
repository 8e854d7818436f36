"""A slice missing whole (NaN or infinite throughout) between others is a slice the microscope dropped, refilled from
its neighbours as a constant one is: read as a gap, it was filled with the background, every centre near it was
dropped (recall 0.73 of the spheres it crossed) and the size estimate read it as particles of 2.3 px ("low confidence:
slices disagree"). NaN voxels in part of a slice are still gaps."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from scipy.spatial import cKDTree

from napari_particle_detect.detection.volume_detection import VolumeOptions, detect_volume
from napari_particle_detect.detection.volume_resampling import refilled_gaps
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume


@pytest.fixture(scope="module")
def sample():
    return synthesize_volume(VolumeConfig(shape=(20, 48, 48), volume_fraction=0.3), seed=3)


def _camera(image: np.ndarray) -> np.ndarray:
    return (np.round(image / image.max() * 3000 + 100)).astype(np.float32)


def _recall(centres: np.ndarray, truth: np.ndarray) -> float:
    if not len(centres):
        return 0.0
    distances, _ = cKDTree(centres * (2.0, 1.0, 1.0)).query(truth * (2.0, 1.0, 1.0))
    return float(np.mean(distances <= 3.0))


def test_a_nan_slice_is_refilled_and_said_while_a_nan_patch_stays_a_gap(sample, caplog):
    volume = _camera(sample.image)
    options = VolumeOptions(voxel_size=(2.0, 1.0, 1.0))
    clean, _, _ = detect_volume(volume, options=options)
    volume[8] = np.nan  # a slice the microscope dropped
    volume[15, :12, :12] = np.inf  # a mosaic's gap: left a gap
    with caplog.at_level(logging.WARNING):
        centres, _, _ = detect_volume(volume, options=options, name="nan.tif")
    near = np.abs(sample.centres[:, 0] - 8) < 3
    assert near.sum() >= 10
    assert _recall(centres, sample.centres[near]) >= _recall(clean, sample.centres[near]) - 0.05
    said = [r.getMessage() for r in caplog.records]
    assert "nan.tif: slice 8 NaN or infinite throughout (dropped by the microscope?), each filled from the slices " \
           "beside it" in said
    gaps = [m for m in said if "read as missing" in m]
    assert len(gaps) == 1 and gaps[0].startswith("nan.tif: 144 NaN or infinite voxels in 1 volume")


def test_a_nan_slice_is_not_read_by_the_size_estimate(sample):
    volume = _camera(sample.image)
    clean = detect_volume(volume)[2]
    volume[7] = np.nan  # one of the five slices the estimate reads
    sizing = detect_volume(volume)[2]
    assert sizing.confident, sizing.reason
    np.testing.assert_allclose(sizing.diameter, clean.diameter, rtol=0.05)


def test_a_refilled_slice_keeps_its_neighbours_gaps_and_a_nan_face_stays_a_gap():
    rng = np.random.default_rng(0)
    volume = rng.random((6, 8, 8)).astype(np.float32)
    missing = np.zeros(volume.shape, dtype=bool)
    missing[0] = True  # at a face: nothing beyond it to fill from
    missing[3] = True
    missing[2, :2, :2] = True
    out, left, slices = refilled_gaps(volume, missing)
    assert slices == [3]
    np.testing.assert_allclose(out[3], (volume[2] + volume[4]) / 2, rtol=1e-6)
    assert left[0].all() and left[2, :2, :2].all() and left[3, :2, :2].all()
    assert np.count_nonzero(left[3]) == 4 and not left[4].any()
    assert missing[3].all()  # the caller's mask unchanged
    missing[[0, 2]] = False
    assert refilled_gaps(volume, missing)[1] is None  # no gap left
