"""detect_volumes from a notebook: a thresholded (bool) volume, a stack of colour slices, a voxel size given as one
number, and synthesize_volume's default config."""

import numpy as np
import pytest

from napari_particle_detect import ParticleDetectError, detect_volumes
from napari_particle_detect.detection.volume_detection import VolumeOptions, detect_volume
from napari_particle_detect.synthetic import volumes
from napari_particle_detect.synthetic.volumes import VolumeConfig, VolumeSample, synthesize_volume


@pytest.fixture(scope="module")
def sample() -> VolumeSample:
    return synthesize_volume(VolumeConfig(shape=(20, 64, 64), volume_fraction=0.3, diameter=10, z_step=2.0), seed=3)


def test_a_bool_volume_is_detected_as_zeros_and_ones(sample):
    mask = sample.image > np.percentile(sample.image, 70)
    found = detect_volumes(mask, diameter=(5.0, 10.0, 10.0))
    as_numbers = detect_volumes(mask.astype(np.uint8), diameter=(5.0, 10.0, 10.0))
    assert len(found) > 0
    np.testing.assert_allclose(found[["z", "y", "x"]].to_numpy(), as_numbers[["z", "y", "x"]].to_numpy())
    centres, _, _ = detect_volume(mask, options=VolumeOptions(diameter=(5.0, 10.0, 10.0)))
    assert len(centres) == len(found)


def test_voxels_that_are_no_numbers_are_refused_by_name(sample):
    with pytest.raises(ParticleDetectError, match="unsupported voxel type <U1; give numbers"):
        detect_volumes(np.full((4, 32, 32), "a"))


@pytest.mark.parametrize("samples", [3, 4])
def test_a_stack_of_colour_slices_is_refused_as_colour(sample, samples):
    colour = np.repeat(sample.image[..., None], samples, axis=-1)
    with pytest.raises(ParticleDetectError) as refused:
        detect_volumes(colour)
    assert str(refused.value) == (f"volume: shape 20x64x64x{samples} ends in an axis of {samples}, colour (RGB) "
                                  "samples rather than x voxels; pick one channel: array[..., c], or convert it to "
                                  "greyscale")


def test_one_voxel_size_number_says_which_three_are_wanted(sample):
    with pytest.raises(ParticleDetectError) as refused:
        detect_volumes(sample.image, voxel_size=0.5)
    message = str(refused.value)
    assert "got one number: 0.5" in message and "1 numbers" not in message
    assert "along z, y and x in micrometres" in message
    assert message.endswith("(for cubic voxels: voxel_size=(0.5, 0.5, 0.5))")


def test_synthesize_volume_takes_the_default_config_as_the_2d_generators_do(monkeypatch):
    # Which config is used is what is checked: the default volume's packing (thousands of spheres, 3 s) is one
    # sphere here, asked for with the default's fraction and sizes.
    asked = []

    def one_sphere(box, fraction, diameter, polydispersity, rng):
        asked.append((fraction, diameter, polydispersity))
        return np.array([box]) / 2, np.array([diameter]), fraction

    monkeypatch.setattr(volumes, "pack_spheres", one_sphere)
    sample = synthesize_volume(seed=1)
    default = VolumeConfig()
    assert sample.config == default and sample.image.shape == default.shape
    assert asked == [(default.volume_fraction, default.diameter, default.polydispersity)] and len(sample.centres) == 1


def test_time_points_of_a_series_keep_their_numbers_and_the_whole_series_sizing():
    series = np.stack([synthesize_volume(VolumeConfig(shape=(16, 64, 64), volume_fraction=0.3, diameter=d), seed=s).image
                       for s, d in [(1, 8.0), (2, 12.0), (3, 10.0)]])
    whole = detect_volumes(series)
    part = detect_volumes(series, frames=[-1, 1])
    assert part.attrs["diameter"] == whole.attrs["diameter"]
    assert part["frame"].unique().tolist() == [2, 1]
    for t in (1, 2):
        np.testing.assert_allclose(part[part.frame == t][["z", "y", "x"]].to_numpy(),
                                   whole[whole.frame == t][["z", "y", "x"]].to_numpy())
    with pytest.raises(ParticleDetectError, match="volume: frame 3 is out of range: 3 frame"):
        detect_volumes(series, frames=[3])
