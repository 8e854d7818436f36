"""The size estimate's faster pieces give the values the straightforward computations give, bit for bit."""

import numpy as np
import pytest
from scipy import ndimage

from napari_particle_detect.detection.blobs import (
    ScaleSpace, _second_difference, _white_noise_gain, maximum_3x3, pixel_noise_level, reduction_factor,
)
from napari_particle_detect.detection.gaussian_laplacians import GaussianLaplacians
from napari_particle_detect.detection.percentiles import percentiles


def _same(found, expected):
    return len(found) == len(expected) and all(
        type(a) is type(b) and (a == b or (np.isnan(a) and np.isnan(b))) for a, b in zip(found, expected))


@pytest.mark.parametrize("chunked_above", [1 << 20, 1000], ids=["copy", "chunked"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8, np.uint16])
def test_percentiles_are_numpys_in_value_and_type(chunked_above, dtype):
    rng = np.random.default_rng(11)
    for n in (1, 2, 7, 3025, 36864, 147456):
        for values in (rng.gamma(2.0, 40.0, n), rng.integers(0, 30, n)):  # ties too
            values = np.clip(values, 0, 250).astype(dtype)
            for qs in ((99.0,), (50.0,), (5.0, 50.0, 95.0), (0.0, 100.0), (1.0, 99.8)):
                assert _same(percentiles(values, qs, chunked_above), list(np.percentile(values, qs)))


@pytest.mark.parametrize("chunked_above", [1 << 20, 1000], ids=["copy", "chunked"])
def test_percentiles_of_a_product_are_read_without_making_it(chunked_above):
    rng = np.random.default_rng(12)
    for n in (1, 5, 36864, 147456):
        values = np.abs(rng.normal(size=n)).astype(np.float32)
        for scale in (np.float64(1.0), np.float64(1.1249999999999998), np.float64(27.9)):
            for qs in ((99.0,), (50.0,), (0.0, 100.0)):
                expected = list(np.percentile(values * scale, qs))
                assert _same(percentiles(values, qs, chunked_above, scale=scale), expected)


def test_a_nan_gives_numpys_answer():
    values = np.random.default_rng(13).normal(size=500).astype(np.float32)
    values[7] = np.nan
    assert _same(percentiles(values, (5.0, 50.0)), list(np.percentile(values, (5.0, 50.0))))


@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (6, 1), (2, 3), (61, 47), (384, 384)])
def test_second_differences_are_scipys_bit_for_bit(shape):
    rng = np.random.default_rng(sum(shape))
    for values in (rng.normal(size=shape) * 10.0 ** rng.uniform(-20, 20, shape), rng.integers(0, 255, shape)):
        values = values.astype(np.float32)
        for axis in (0, 1):
            expected = ndimage.correlate1d(values, [1.0, -2.0, 1.0], axis, mode="reflect")
            found = _second_difference(values, axis)
            assert found.dtype == np.float32 and np.array_equal(found.view(np.int32), expected.view(np.int32))


def _float64_scale_space(image, sigmas, min_contrast):
    """Each scale as the straightforward computation has it: the float64 response and what is read from it."""
    second = np.array([1.0, -2.0, 1.0])
    noise_image = ndimage.correlate1d(ndimage.correlate1d(image, second, 0, mode="reflect"), second, 1, mode="reflect")
    pixel_noise = float(np.percentile(np.abs(noise_image), (50.0,))[0] / (0.6745 * 6.0))
    reductions = [reduction_factor(s) for s in sigmas]
    laplacians = {f: GaussianLaplacians(image[::f, ::f], max(s / f for s, g in zip(sigmas, reductions) if g == f))
                  for f in set(reductions)}
    scales = []
    for sigma, f in zip(sigmas, reductions):
        s = sigma / f
        response = laplacians[f](s) * (s * s)
        magnitude = np.abs(response)
        neighbourhood = ndimage.maximum_filter(magnitude, size=3)
        noise = pixel_noise * _white_noise_gain(s)
        found = np.flatnonzero((magnitude == neighbourhood) & (magnitude >= min_contrast * noise))
        scales.append((response, neighbourhood, np.stack(np.divmod(found, magnitude.shape[1]), axis=1), noise,
                       np.percentile(magnitude, (99.0,))[0]))
    return pixel_noise, scales


def test_the_scale_space_reads_what_the_float64_responses_give():
    rng = np.random.default_rng(14)
    yy, xx = np.mgrid[:200, :200]
    image = rng.normal(0.0, 0.02, (200, 200))
    for y, x in rng.uniform(10, 190, (60, 2)):
        image += np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * 3.0**2))
    image = image.astype(np.float32)
    sigmas = np.geomspace(3, 60, 14) / (2 * np.sqrt(2))
    space = ScaleSpace.of(image, sigmas, 10.0)
    pixel_noise, scales = _float64_scale_space(image, sigmas, 10.0)
    assert pixel_noise_level(image) == pixel_noise
    for i, (response, neighbourhood, peaks, noise, strength) in enumerate(scales):
        assert np.array_equal(space.response(i), response) and space.response(i).dtype == np.float64
        assert np.array_equal(space.neighbourhoods[i] * space.normalisers[i], neighbourhood)
        assert np.array_equal(space.peaks[i], peaks) and space.noise[i] == noise and space.strengths[i] == strength
    assert len(space.blobs()) > 30


def test_the_float32_neighbourhood_maximum_is_scipys():
    values = np.abs(np.random.default_rng(15).normal(size=(97, 64))).astype(np.float32)
    assert np.array_equal(maximum_3x3(values), ndimage.maximum_filter(values, size=3))
