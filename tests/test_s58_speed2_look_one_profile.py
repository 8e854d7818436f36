"""The look reads one radial profile, to the core's reach, for both of its ring tests (issue 18: the same 200 peaks'
profile was read twice). Its first rings are the shorter profile bit for bit, so the look tells what reading each
test's own profile told: ringed or plain, and a core's ring where the diameter given was the cores'."""

import numpy as np
import pytest

from napari_particle_detect.detection.look import CORE_GIVEN, StackLook, _strongest_peaks
from napari_particle_detect.detection.sizing import GreyLevels, radial_profile, ring_diameter, ring_reach
from napari_particle_detect.synthetic import spheres as synthetic


def sample(look: str, diameter: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    image = synthetic.synthesize(synthetic.benchmark_config(look, 0.3, shape=(192, 192), radius=diameter / 2), seed=seed)
    peaks = np.rint(image.centres).astype(int)
    return image.image.astype(np.float32), peaks, np.ones(len(peaks))


def read_apart(image: np.ndarray, peaks: np.ndarray, scores: np.ndarray, diameter: float) -> tuple:
    """(ringed, core_ring) as the look read them before: each test its own profile."""
    crop, centres = _strongest_peaks(image, peaks, scores, diameter)
    levels = GreyLevels.of(crop[::2, ::2])
    if ring_diameter(crop, 0.5 * diameter, centres, levels) is not None:
        return True, None
    core = ring_diameter(crop, CORE_GIVEN * diameter, centres, levels)
    return core is not None, core


@pytest.mark.parametrize("look, diameter, given, told", [
    ("brightfield", 12, 12, (True, False)), ("brightfield", 16, 8, (True, True)), ("brightfield", 12, 6, (True, True)),
    ("fluorescent", 12, 12, (False, False)), ("opaque", 12, 12, (False, False)),
])
def test_the_look_tells_what_two_profiles_told(look, diameter, given, told):
    image, peaks, scores = sample(look, diameter, seed=3)
    stack = StackLook(given)
    assert stack(image, peaks, scores) is told[0]
    assert (stack.core_ring is not None) is told[1]
    assert (stack.ringed, stack.core_ring) == read_apart(image, peaks, scores, given)


def test_a_longer_profiles_first_rings_are_the_shorter_one():
    rng = np.random.default_rng(1858)
    for dtype in (np.float32, np.float64, np.uint16):
        image = (rng.random((90, 110)) * 1000).astype(dtype)
        centres = np.stack([rng.integers(0, 90, 150), rng.integers(0, 110, 150)], axis=1)
        longest = radial_profile(image, centres, 40)
        for reach in (2, 5, 13, 29):
            assert np.array_equal(longest[:reach], radial_profile(image, centres, reach))


def test_ring_diameter_reads_its_own_reach_of_a_longer_profile():
    for look, diameter in (("brightfield", 16), ("fluorescent", 12)):
        image, peaks, _ = sample(look, diameter, seed=1)
        levels = GreyLevels.of(image)
        for blob in (0.5 * diameter, diameter):
            longer = radial_profile(image, peaks, ring_reach(blob) + 9)
            expected = ring_diameter(image, blob, peaks, levels)
            assert ring_diameter(image, blob, peaks, levels, longer) == expected
            # Rings past its reach are not read: far rings of any value leave the answer alone.
            for far in (-1e6, 1e6):
                longer[ring_reach(blob) :] = far
                assert ring_diameter(image, blob, peaks, levels, longer) == expected
