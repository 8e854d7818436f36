"""Defects of a sensor in a volume, as a 2D frame's are handled: a saturated slice or a hot line is left out of the
intensity range before the volume is resampled (resampled first, it blurred into the working grid, stayed in the range
and squashed every sphere to nothing: 0 centres, said nowhere), and a slice the microscope dropped is refilled."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from scipy.spatial import cKDTree

from napari_particle_detect.detection.volume_detection import VolumeOptions, detect_volume, detect_volumes
from napari_particle_detect.detection.volume_resampling import refilled_slices
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume


@pytest.fixture(scope="module")
def sample():
    return synthesize_volume(VolumeConfig(shape=(20, 48, 48), volume_fraction=0.3), seed=3)


def _camera(image: np.ndarray) -> np.ndarray:
    """The synthetic volume as a 16-bit camera records it: a saturated voxel reads 65535."""
    return np.round(image / image.max() * 3000 + 100).astype(np.uint16)


def _recall(centres: np.ndarray, truth: np.ndarray) -> float:
    distances, _ = cKDTree(centres * (2.0, 1.0, 1.0)).query(truth * (2.0, 1.0, 1.0)) if len(centres) else ([], [])
    return float(np.mean(np.asarray(distances) <= 3.0)) if len(centres) else 0.0


def test_a_saturated_patch_leaves_the_spheres_found_and_is_said(sample, caplog):
    volume = _camera(sample.image)
    clean, _, _ = detect_volume(volume, options=VolumeOptions(voxel_size=(2.0, 1.0, 1.0)))
    volume[10, :24] = 65535  # a reflection saturating half a slice
    with caplog.at_level(logging.WARNING):
        centres, _, _ = detect_volume(volume, options=VolumeOptions(voxel_size=(2.0, 1.0, 1.0)), name="sat.tif")
    assert _recall(clean, sample.centres) > 0.8
    assert _recall(centres, sample.centres) > 0.8 * _recall(clean, sample.centres)
    said = [r.getMessage() for r in caplog.records if "intensity range" in r.getMessage()]
    assert said == [f"sat.tif: {24 * 48} voxels at 65535 (the other voxels at most {int(volume[volume < 65535].max())})"
                    " left out of the intensity range in 1 volume (a hot line, a saturated patch or zero padding?)"]


def test_a_hot_line_through_a_series_is_said_once(sample, caplog):
    volume = _camera(sample.image)
    volume[:, 20, :] = 65535  # one row of the sensor, saturated in every slice
    with caplog.at_level(logging.WARNING):
        table = detect_volumes(np.stack([volume, volume[:, ::-1]]), voxel_size=(2.0, 1.0, 1.0), name="hot.tif")
    assert _recall(table.loc[table["frame"] == 0, ["z", "y", "x"]].to_numpy(), sample.centres) > 0.8
    said = [r.getMessage() for r in caplog.records if "intensity range" in r.getMessage()]
    assert len(said) == 1 and "in 2 volumes" in said[0]


def test_a_blank_slice_is_filled_from_its_neighbours_and_said(sample, caplog):
    volume = _camera(sample.image)
    options = VolumeOptions(voxel_size=(2.0, 1.0, 1.0))
    clean, _, _ = detect_volume(volume, options=options)
    volume[8] = 0  # a slice the microscope dropped: no real slice is one value throughout
    with caplog.at_level(logging.WARNING):
        centres, _, _ = detect_volume(volume, options=options, name="dead.tif")
    near = np.abs(sample.centres[:, 0] - 8) < 3  # the spheres the blank slice crosses
    assert near.sum() >= 10
    assert _recall(centres, sample.centres[near]) >= _recall(clean, sample.centres[near]) - 0.05
    assert len(centres) <= len(clean) + 2  # no dark plane read as the spheres' edges
    said = [r.getMessage() for r in caplog.records if "constant" in r.getMessage()]
    assert said == ["dead.tif: slice 8 constant (blank or saturated: dropped by the microscope?), each filled from "
                    "the slices beside it"]


def test_only_constant_slices_between_others_are_refilled():
    rng = np.random.default_rng(0)
    volume = rng.random((6, 8, 8)).astype(np.float32)
    volume[0] = 0  # padding at a face: left as it is
    volume[2] = 5
    volume[3] = 5
    out, slices = refilled_slices(volume)
    assert slices == [2, 3]
    np.testing.assert_allclose(out[2], volume[1] + (volume[4] - volume[1]) / 3, rtol=1e-6)
    np.testing.assert_allclose(out[3], volume[1] + 2 * (volume[4] - volume[1]) / 3, rtol=1e-6)
    np.testing.assert_array_equal(out[[0, 1, 4, 5]], volume[[0, 1, 4, 5]])
    assert volume[2, 0, 0] == 5  # the caller's array unchanged
    assert refilled_slices(rng.random((4, 8, 8)))[1] == []
