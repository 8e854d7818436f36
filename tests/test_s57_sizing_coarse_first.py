"""The size estimate reads particles of 9-30 px on a 2x reduced copy of its crop first (issue 18): the benchmark's
image in half the time, the same sizes; smaller particles still at full resolution."""

import multiprocessing

import numpy as np
import pytest
import tifffile

from napari_particle_detect.detection import sizing
from napari_particle_detect.detection.preprocessing import block_means
from napari_particle_detect.shipped import SAMPLE_DATA_DIR
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

SIGMAS = np.geomspace(3.0, 60.0, sizing.BLOB_SCALES) / sizing.DISC_SIGMA_TO_DIAMETER


def crop_of(image: np.ndarray) -> np.ndarray:
    return sizing._normalised(sizing._central_crop(image, sizing.ESTIMATE_CROP))


def full_resolution(image: np.ndarray) -> sizing.SizeEstimate:
    return sizing._estimate_in(crop_of(image), SIGMAS).estimate


@pytest.mark.parametrize("look, area_fraction, diameter, shape, seed, low, high", [
    # benchmarks/speed.py's image at 512 px (its spheres' profile reads 4-5 % small: 11.5 px)
    ("fluorescent", 0.5, 12.0, (512, 512), 50_000 + 90_512, 11.0, 12.2),
    ("opaque", 0.2, 18.0, (384, 384), 57, 16.5, 19.0),
    ("brightfield", 0.4, 18.0, (384, 384), 57, 17.0, 19.5),  # ringed: rims read around centres found on the copy
])
def test_particles_of_9_to_30_px_are_read_on_the_reduced_copy(look, area_fraction, diameter, shape, seed, low, high):
    image = synthesize(benchmark_config(look, area_fraction, shape=shape, radius=diameter / 2), seed=seed).image
    estimate = sizing.estimate_size(image)
    assert estimate.confident and low <= estimate.diameter <= high
    assert estimate.ringed == (look == "brightfield")
    # The full-resolution look reads about the same size, but not the same number: the reading came from the copy.
    full = full_resolution(image)
    assert full.ringed == estimate.ringed and abs(np.log(full.diameter / estimate.diameter)) < np.log(1.06)
    assert full.diameter != estimate.diameter


@pytest.mark.parametrize("look, diameter", [("opaque", 4.0), ("gaussian", 6.0), ("brightfield", 6.0)])
def test_smaller_particles_are_read_at_full_resolution_as_before(look, diameter):
    image = synthesize(benchmark_config(look, 0.2, shape=(384, 384), radius=diameter / 2), seed=57).image
    assert sizing.estimate_size(image) == full_resolution(image)


def test_real_bright_field_rims_are_read_around_centres_refined_between_blocks():
    # The shipped trackpy frame whose ring a centre rounded to its block's corner missed (a 10 px core read as
    # the diameter): 17.3 px rims at full resolution.
    frame = tifffile.imread(SAMPLE_DATA_DIR / "trackpy_brightfield_3.tif")[2]
    estimate = sizing.estimate_size(frame)
    assert estimate.ringed and estimate.confident
    assert abs(estimate.diameter - 17.3) < 0.5


def test_block_means_are_the_preprocessing_ones_bit_for_bit():
    rng = np.random.default_rng(57)
    for shape in ((384, 384), (383, 385), (64, 97)):
        image = rng.normal(size=shape).astype(np.float32)
        assert np.array_equal(sizing._block_means(image, 2), block_means(image, 1, 2))


def _estimate_in_child(image, queue):
    queue.put(sizing.estimate_size(image).diameter)


def test_a_forked_process_estimates_on_its_own_threads():
    image = synthesize(benchmark_config("fluorescent", 0.3, shape=(256, 256), radius=6.0), seed=57).image
    parent = sizing.estimate_size(image).diameter  # the scale spaces' threads started here first
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_estimate_in_child, args=(image, queue))
    child.start()
    child.join(60)
    hung = child.is_alive()
    if hung:
        child.kill()
    assert not hung and child.exitcode == 0
    assert queue.get(timeout=5) == parent
