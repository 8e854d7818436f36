"""The faster paths of detection's host work give the former paths' results bit for bit (issue 18's CPU target).

Each former implementation is kept here as the reference it replaced: the radial profile's clipped index arrays,
the strongest blobs' maximum filter over the whole image, the eager background level, the blob pruning over NumPy
rows; and a single frame is prepared on the calling thread, not handed to the reader thread."""

import numpy as np
import pytest
import torch
from scipy import ndimage

from napari_particle_detect import detect, load_model
from napari_particle_detect.detection import prediction
from napari_particle_detect.detection.blobs import Blobs, _prune
from napari_particle_detect.detection.percentiles import percentiles
from napari_particle_detect.detection.preprocessing import normalise
from napari_particle_detect.detection.sizing import (
    GreyLevels, _strongest_blobs, background_level, radial_profile, ring_diameter,
)
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize


def former_radial_profile(image, centres, reach):
    image = np.asarray(image)
    centres = np.rint(np.asarray(centres, dtype=float)).astype(int).reshape(-1, 2)
    dy, dx = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    r = np.hypot(dy, dx)
    near = r < reach
    dy, dx, ring = dy[near], dx[near], r[near].astype(int)
    ys, xs = centres[:, :1] + dy, centres[:, 1:] + dx
    h, w = image.shape
    valid = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
    values = np.ravel(image).take(np.clip(ys, 0, h - 1) * w + np.clip(xs, 0, w - 1))
    total = np.bincount(ring, weights=np.where(valid, values, 0.0).sum(axis=0, dtype=float), minlength=reach)
    count = np.bincount(ring, weights=valid.sum(axis=0), minlength=reach)
    return total / np.maximum(count, 1)


def former_strongest_blobs(laplacian, diameter, count):
    magnitude = np.abs(laplacian)
    local_max = ndimage.maximum_filter(magnitude, size=2 * int(diameter / 2) + 1)
    peaks = np.argwhere((magnitude == local_max) & (magnitude > percentiles(magnitude, (99.0,))[0]))
    return peaks[np.argsort(-magnitude[peaks[:, 0], peaks[:, 1]])[:count]]


def former_prune(blobs):
    if len(blobs) < 2:
        return blobs
    radius = blobs.sigma * 2.0 * np.sqrt(2.0) / 2
    centres = blobs.centres()
    from scipy.spatial import cKDTree

    pairs = cKDTree(centres).query_pairs(float(radius.max()), output_type="ndarray")
    if len(pairs):
        d = np.linalg.norm(centres[pairs[:, 0]] - centres[pairs[:, 1]], axis=1)
        pairs = pairs[d < np.maximum(radius[pairs[:, 0]], radius[pairs[:, 1]])]
    weaker = [[] for _ in range(len(blobs))]
    for a, b in np.sort(pairs, axis=1):
        weaker[a].append(b)
    gone = np.zeros(len(blobs), bool)
    for i in range(len(blobs)):
        if not gone[i] and weaker[i]:
            gone[weaker[i]] = True
    return blobs[~gone]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint16, np.uint8])
def test_radial_profile_is_the_former_one_bit_for_bit(dtype):
    rng = np.random.default_rng(53)
    for _ in range(40):
        h, w = (int(n) for n in rng.integers(1, 160, 2))
        image = (rng.random((h, w)) * 200).astype(dtype)
        count = int(rng.integers(0, 120))
        # Centres inside, on the border, and outside the image, some so far out that their windows miss it.
        centres = np.stack([rng.uniform(-50, h + 50, count), rng.uniform(-50, w + 50, count)], axis=1)
        reach = int(rng.integers(1, 36))
        np.testing.assert_array_equal(radial_profile(image, centres, reach),
                                      former_radial_profile(image, centres, reach))


def test_strongest_blobs_are_the_former_maximum_filters_bit_for_bit():
    rng = np.random.default_rng(54)
    for trial in range(40):
        h, w = (int(n) for n in rng.integers(3, 200, 2))
        image = ndimage.gaussian_filter(rng.random((h, w)), rng.uniform(0.5, 4))
        if trial % 3 == 0:
            image = np.round(image * 40) / 40  # plateaus: equal neighbours
        laplacian = ndimage.gaussian_laplace(image, rng.uniform(1, 6)).astype([np.float32, np.float64][trial % 2])
        diameter = float(rng.uniform(0.5, 40))  # below 2 px the window is the pixel alone
        np.testing.assert_array_equal(_strongest_blobs(laplacian, diameter, 60),
                                      former_strongest_blobs(laplacian, diameter, 60))


def test_grey_levels_read_the_background_only_when_asked_and_as_before():
    image = normalise(synthesize(benchmark_config("fluorescent", 0.5, shape=(128, 128)), seed=5).image)
    levels = GreyLevels.of(image)
    assert "background" not in vars(levels)  # not read yet
    low, median, high = percentiles(image, (5.0, 50.0, 95.0))
    assert (levels.low, levels.median, levels.high) == (low, median, high)
    # The ends as percentiles gave them (NumPy floats): Python floats there make np.histogram's edges float32 for a
    # float32 image, and move the background (here from 0.04533090342 to 0.04533090442).
    assert levels.background == background_level(image, low, high)
    big = np.tile(image, (3, 3))  # percentiles chunked
    low, _, high = percentiles(big, (5.0, 50.0, 95.0))
    assert GreyLevels.of(big).background == background_level(big, low, high)


@pytest.mark.parametrize("look, ringed", [("brightfield", True), ("fluorescent", False), ("opaque", False)])
def test_ring_diameter_reads_the_background_only_for_a_profile_that_passed_its_other_tests(look, ringed):
    sample = synthesize(benchmark_config(look, 0.4, shape=(192, 192), radius=6.0), seed=11)
    image = normalise(sample.image)
    levels = GreyLevels.of(image)
    ring = ring_diameter(image, 6.0, np.rint(sample.centres).astype(int), levels)
    assert (ring is not None) is ringed
    # Plain discs fail before the background is asked for; a ring is judged against it.
    assert ("background" in vars(levels)) is ringed


def test_pruning_blobs_keeps_what_the_former_loop_kept():
    rng = np.random.default_rng(55)
    for _ in range(30):
        count, side = int(rng.integers(0, 600)), float(rng.uniform(20, 300))
        blobs = Blobs(rng.uniform(0, side, count), rng.uniform(0, side, count), rng.uniform(0.8, 8, count),
                      rng.random(count))
        blobs = blobs[np.argsort(-blobs.response, kind="stable")]
        kept, former = _prune(blobs), former_prune(blobs)
        for column in ("y", "x", "sigma", "response"):
            np.testing.assert_array_equal(getattr(kept, column), getattr(former, column))


@pytest.fixture(scope="module")
def model():
    torch.set_num_threads(2)
    return load_model()


def test_a_single_frame_is_prepared_without_the_reader_thread_and_detected_as_in_a_stack(model, monkeypatch):
    image = synthesize(benchmark_config("fluorescent", 0.4, shape=(96, 96), radius=5.0), seed=3).image
    handed = []
    former = prediction.prefetched
    monkeypatch.setattr(prediction, "prefetched", lambda *args: handed.append(args[2]) or former(*args))
    alone = detect(image, model=model, device="cpu", diameter=10.0)
    assert handed == []
    stack = detect(np.stack([image, image]), model=model, device="cpu", diameter=10.0)
    assert handed == [[0, 1]]  # frames of a stack still go through the reader
    first = stack[stack.frame == 0].reset_index(drop=True)
    assert len(alone) > 10
    assert alone.equals(first)
