"""A dropped slice (constant, or NaN throughout, between others) is refilled wherever a volume is read: in a 3D
training round before the spheres are sized (sized on the raw volume, a blank slice read them 0.6 voxels deep and
stretched the working grid 14 times along z, silently), in a volume that also has gaps (judged after its gaps were
filled, a blank slice was no longer constant), and said for the volume a series is sized on though it is not among
the frames detected. The refill reads each slice without copying a view of a larger array."""

from __future__ import annotations

import logging
import tracemalloc

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect.detection.volume_detection import detect_volume, detect_volumes
from napari_particle_detect.detection.volume_resampling import refilled_gaps
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume


@pytest.fixture(scope="module")
def sample():
    return synthesize_volume(VolumeConfig(shape=(20, 48, 48), volume_fraction=0.3), seed=3)


def test_training_sizes_a_volume_with_a_blank_slice_as_detect_does_and_says_the_refill(tmp_path, sample, caplog):
    from napari_particle_detect.cli.volumes import load_volume_examples

    volume = sample.image.astype(np.float32)
    volume[10] = 0
    tifffile.imwrite(tmp_path / "vol.tif", volume)
    c = sample.centres
    pd.DataFrame({"frame": 0, "z": c[:, 0], "y": c[:, 1], "x": c[:, 2]}).to_csv(tmp_path / "vol.csv", index=False)
    detected = detect_volume(volume)[2].diameter
    with caplog.at_level(logging.INFO):
        examples = load_volume_examples([tmp_path], "ZYX", 8.0, None, None)
    said = [r.getMessage() for r in caplog.records]
    sized = [m for m in said if "diameter z" in m]
    assert len(sized) == 1 and f"diameter z {detected[0]:.1f}, y {detected[1]:.1f}" in sized[0], sized
    assert examples[0].image.shape[0] < 3 * volume.shape[0]  # 283 working slices of 20 when sized on the raw one
    assert any("slice 10 constant" in m and "filled from the slices beside it" in m for m in said), said


def test_a_blank_slice_is_refilled_in_a_volume_with_gaps_through_every_slice():
    volume = np.random.default_rng(0).random((6, 16, 16), dtype=np.float32) + 1
    missing = np.zeros(volume.shape, dtype=bool)
    missing[:, :4, :4] = True  # a mosaic's corner, filled with the background before the refill reads it
    volume[missing] = 1.5
    volume[3] = 0
    volume[3, :4, :4] = 1.5
    out, left, slices = refilled_gaps(volume, missing)
    assert slices == [3]
    np.testing.assert_allclose(out[3], (volume[2] + volume[4]) / 2, rtol=1e-6)
    assert left is not None and left[3, :4, :4].all() and left.sum() == missing.sum()


def test_an_integer_volume_with_gaps_is_judged_slice_by_slice():
    volume = np.random.default_rng(1).integers(100, 4000, (5, 8, 8)).astype(np.uint16)
    volume[2] = 7
    missing = np.zeros(volume.shape, dtype=bool)
    missing[:, 0, 0] = True
    assert refilled_gaps(volume, missing)[2] == [2]
    assert refilled_gaps(volume[[0, 1, 3, 4]], missing[:4])[2] == []


def test_the_refill_does_not_copy_a_view_of_a_larger_array():
    whole = np.random.default_rng(2).random((16, 2, 128, 128), dtype=np.float32)
    view = whole[:, 0, :, 8:-8]  # one channel, cropped: no reshape of it is a view
    tracemalloc.start()
    try:
        out, _, slices = refilled_gaps(view, None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert slices == [] and out is view
    assert peak < view.nbytes / 10, peak


def test_the_refill_of_the_volume_a_series_is_sized_on_is_said_though_it_is_not_detected(caplog):
    volumes = np.stack([synthesize_volume(VolumeConfig(shape=(16, 40, 40), volume_fraction=0.3), seed=s).image
                        for s in (4, 5)]).astype(np.float32)
    volumes[0, 8] = 0
    with caplog.at_level(logging.WARNING):
        detect_volumes(volumes, name="ser", frames=[1])
    said = [r.getMessage() for r in caplog.records if "slice 8 constant" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("ser volume 0 (the series is sized on it, not detected)"), said
