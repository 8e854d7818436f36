"""A series of volumes two of whose time points are identical voxel for voxel: most likely one volume's channels
(identical ones, or one saved twice) read as time points. Detected as asked, but said, with how to pick a channel; and
a volume too thin for the diameter given is not told to give the diameter."""

import logging

import numpy as np
import pytest
import tifffile

from napari_particle_detect import ParticleDetectError, detect_volumes
from napari_particle_detect.detection.volume_detection import VolumeOptions, detect_volume_file
from napari_particle_detect.files.axes import Axes
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

SHAPE = (12, 40, 40)


@pytest.fixture(scope="module")
def volumes() -> tuple[np.ndarray, np.ndarray]:
    config = VolumeConfig(shape=SHAPE, volume_fraction=0.3, diameter=10, z_step=2.0)
    return synthesize_volume(config, seed=5).image, synthesize_volume(config, seed=6).image


def _twin_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "identical voxel for voxel" in r.getMessage()]


def test_two_identical_channels_read_as_time_points_are_said(volumes, caplog):
    first, _ = volumes
    with caplog.at_level(logging.WARNING):
        table = detect_volumes(np.stack([first, first]), diameter=10, voxel_size=(2, 1, 1), runtime="torch")
    assert sorted(set(table["frame"])) == [0, 1]  # detected as asked
    assert _twin_warnings(caplog) == [
        "volume: volumes 0 and 1 are identical voxel for voxel, so are their centres; if the series' first axis "
        "holds channels of one volume (c, z, y, x), pick one channel: array[c]"]


def test_a_series_of_different_volumes_says_nothing_of_twins(volumes, caplog):
    with caplog.at_level(logging.WARNING):
        detect_volumes(np.stack(volumes), diameter=10, voxel_size=(2, 1, 1), runtime="torch")
    assert _twin_warnings(caplog) == []


def test_a_file_of_identical_channels_read_as_tzyx_names_the_channel_option(volumes, tmp_path, caplog):
    first, _ = volumes
    path = tmp_path / "channels.tif"
    tifffile.imwrite(path, np.stack([first, first]), photometric="minisblack")
    with caplog.at_level(logging.WARNING):
        detect_volume_file(path, Axes("TZYX", "--axes"), VolumeOptions(diameter=10, runtime="torch"))
    [said] = _twin_warnings(caplog)
    assert said.startswith(f"{path}: volumes 0 and 1 are identical") and said.endswith("--channel N (channel=N)")


def test_a_volume_repeated_later_in_a_series_is_said(volumes, caplog):
    first, second = volumes
    with caplog.at_level(logging.WARNING):
        detect_volumes(np.stack([first, second, first]), diameter=10, voxel_size=(2, 1, 1), runtime="torch")
    [said] = _twin_warnings(caplog)
    assert said.startswith("volume: volumes 0 and 2 are identical voxel for voxel")


def test_a_volume_too_thin_for_the_diameter_given_does_not_ask_for_the_diameter(volumes):
    first, _ = volumes
    # One volume's two channels as (z, c, y, x): read as volumes of 2 slices, too thin for spheres 5 slices deep.
    with pytest.raises(ParticleDetectError) as refused:
        detect_volumes(np.stack([first[:5], first[:5]], axis=1), diameter=10, voxel_size=(2, 1, 1))
    assert str(refused.value).endswith("give a larger volume, or check that its axes are (z, y, x) and the "
                                       "diameter given")


def test_a_file_whose_metadata_says_time_asks_about_a_volume_saved_twice(volumes, tmp_path, caplog):
    first, second = volumes
    path = tmp_path / "series.tif"
    # Two time points of two channels each: channel 1 picked, its two time points the same.
    tifffile.imwrite(path, np.stack([np.stack([first, second], axis=1)] * 2), imagej=True,
                     metadata={"axes": "TZCYX"})
    with caplog.at_level(logging.WARNING):
        detect_volume_file(path, Axes("TZYX", "metadata", channel=1), VolumeOptions(diameter=10, runtime="torch"))
    assert _twin_warnings(caplog) == [f"{path}: volumes 0 and 1 are identical voxel for voxel, so are their centres; "
                                      "its metadata names that axis time (T): was a volume saved twice?"]
