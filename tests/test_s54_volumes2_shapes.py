"""Volumes as a scientist's arrays come: one volume's few channels (z, c, y, x) too short for the shape rule alone,
5D arrays with length-1 axes (TCZYX of one channel), and a diameter given on voxels whose y and x sizes differ."""

import logging

import numpy as np
import pytest
import tifffile

from napari_particle_detect import ParticleDetectError, detect_volumes
from napari_particle_detect.detection.volume_detection import VolumeOptions, detect_volume_file
from napari_particle_detect.files.axes import Axes
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

SHAPE = (12, 40, 40)
CHANNELS_SAID = "channels (z, c, y, x)"


@pytest.fixture(scope="module")
def volume() -> np.ndarray:
    config = VolumeConfig(shape=SHAPE, volume_fraction=0.3, diameter=10, z_step=2.0)
    return synthesize_volume(config, seed=5).image


def _channel_hints(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if CHANNELS_SAID in r.getMessage()]


def _two_channels(volume: np.ndarray) -> np.ndarray:
    """Six slices of two channels (z, c, y, x): the second one another image, as real channels are."""
    return np.stack([volume[3:9], volume[3:9, ::-1]], axis=1)


def test_a_few_slices_of_two_channels_read_as_a_series_is_said(volume, caplog):
    with caplog.at_level(logging.WARNING):
        table = detect_volumes(_two_channels(volume), runtime="torch", frames=[0])
    assert set(table["frame"]) <= {0}  # detected as asked
    assert _channel_hints(caplog) == [
        "volume: shape 6x2x40x40 is read as 6 volumes of 2 slices (t, z, y, x), too thin to measure the particles' "
        "z size on; if it is one volume of 2 channels (z, c, y, x), pick one channel: array[:, c]"]


def test_volumes_thinner_than_the_particles_given_are_said(volume, caplog):
    with caplog.at_level(logging.WARNING):
        detect_volumes(np.stack([volume[:3]] * 2 + [volume[3:6]] * 2 + [volume[6:9]]), diameter=10,
                       voxel_size=(2, 1, 1), runtime="torch", frames=[0])
    [said] = _channel_hints(caplog)
    assert "5 volumes of 3 slices (t, z, y, x), thinner than the particles (5.0 slices across)" in said


def test_a_real_series_of_short_volumes_says_nothing_of_channels(volume, caplog):
    thin = np.stack([volume[:4], volume[4:8], volume[8:12]])
    deep = np.stack([volume, volume[::-1]])
    with caplog.at_level(logging.WARNING):
        detect_volumes(thin, diameter=(3.0, 10.0, 10.0), runtime="torch", frames=[0])
        detect_volumes(deep, runtime="torch", frames=[0])
    assert _channel_hints(caplog) == []


def test_a_file_read_with_axes_tzyx_names_the_channel_option_its_metadata_axes_nothing(volume, tmp_path, caplog):
    plain, hyperstack = tmp_path / "zcyx.tif", tmp_path / "tzyx.tif"
    tifffile.imwrite(plain, _two_channels(volume), photometric="minisblack")
    tifffile.imwrite(hyperstack, _two_channels(volume), imagej=True, metadata={"axes": "TZYX"})
    options = VolumeOptions(runtime="torch", frames="0")
    with caplog.at_level(logging.WARNING):
        detect_volume_file(plain, Axes("TZYX", "--axes"), options)
        [said] = _channel_hints(caplog)
        assert said.startswith(f"{plain}: shape 6x2x40x40") and said.endswith("--channel N (channel=N)")
        detect_volume_file(hyperstack, Axes("TZYX", "metadata"), options)
    assert len(_channel_hints(caplog)) == 1


@pytest.mark.parametrize("shape", [(1, 1) + SHAPE, (1,) + SHAPE[:1] + (1,) + SHAPE[1:], (1, 1, 1) + SHAPE])
def test_length_1_axes_of_a_5d_array_are_dropped_as_a_files_are(volume, shape):
    expected = detect_volumes(volume, diameter=10, voxel_size=(2, 1, 1), runtime="torch")
    found = detect_volumes(volume.reshape(shape), diameter=10, voxel_size=(2, 1, 1), runtime="torch")
    assert len(found) > 0
    np.testing.assert_allclose(found[["frame", "z", "y", "x"]].to_numpy(),
                               expected[["frame", "z", "y", "x"]].to_numpy())


def test_a_one_channel_series_in_5d_keeps_its_time_points(volume):
    series = np.stack([volume, volume[:, ::-1]])[:, None]  # (t, c=1, z, y, x)
    found = detect_volumes(series, diameter=10, voxel_size=(2, 1, 1), runtime="torch")
    assert sorted(set(found["frame"])) == [0, 1]


def test_a_movie_of_2d_frames_in_5d_is_not_read_as_one_volume(volume):
    movie = volume[:, None, None]  # (t, c=1, z=1, y, x): 12 frames of 2D images
    with pytest.raises(ParticleDetectError, match="a volume needs at least 2 slices along z, this one has 1"):
        detect_volumes(movie)


def test_one_diameter_on_unequal_y_and_x_voxels_is_along_y(volume):
    found = detect_volumes(volume, diameter=6, voxel_size=(1.0, 0.5, 0.25), runtime="torch")
    assert found.attrs["diameter"] == (3.0, 6.0, 12.0)  # y voxels; x's are half as wide, z's twice as deep


def test_a_voxel_size_in_mixed_units_is_refused_before_the_volume_is_enlarged(volume):
    # z in nm, y and x in µm: z would be 0.005 voxels, enlarged 1200 times into thousands of centres from noise.
    with pytest.raises(ParticleDetectError) as refused:
        detect_volumes(volume, voxel_size=(200, 0.1, 0.1), runtime="torch")
    message = str(refused.value)
    assert message.startswith("volume: particles of 0.00")
    assert message.endswith("are under 0.5 voxel across along z, too small to find in 3D; check the voxel size "
                            "(200 x 0.1 x 0.1: z, y, x in one unit)")
    with pytest.raises(ParticleDetectError, match=r"along x, too small to find in 3D; check the diameter$"):
        detect_volumes(volume, diameter=(5.0, 10.0, 0.25), runtime="torch")
