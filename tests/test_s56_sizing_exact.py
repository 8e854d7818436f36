"""The size estimate's blob test reads each reduction's image mirrored once (issue 18): the same blobs, bit for bit."""

import numpy as np
import pytest

from napari_particle_detect.detection.blobs import (
    Blobs, ScaleSpace, _blob_like, _hessian_radius, _prune, parabola_vertices,
)
from napari_particle_detect.detection.sizing import BLOB_MIN_CONTRAST, _central_crop, _normalised
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize


def test_blob_likeness_from_a_wider_mirror_is_the_same_bit_for_bit():
    rng = np.random.default_rng(56)
    for _ in range(60):
        h, w = (int(n) for n in rng.integers(2, 70, 2))
        image = rng.normal(size=(h, w)).astype(np.float32)
        sigma = float(rng.uniform(0.8, 12.0))  # kernels reaching past a small image's far edge too
        wider = _hessian_radius(sigma) + int(rng.integers(0, 30))
        ys, xs = rng.integers(0, h, 50), rng.integers(0, w, 50)
        mirrored = (np.pad(image, wider, mode="symmetric"), wider)
        assert np.array_equal(_blob_like(image, sigma, ys, xs, mirrored), _blob_like(image, sigma, ys, xs))


def former_blobs(space: ScaleSpace):
    """ScaleSpace.blobs' candidates as the loop before the once-mirrored images computed them."""
    parts = []
    for i, f in enumerate(space.factors):
        ys, xs = space.peaks[i].T
        if len(ys) == 0:
            continue
        full_y, full_x = ys * f, xs * f
        values = np.abs(space.unnormalised[i][ys, xs] * space.normalisers[i])
        keep = np.ones(len(ys), bool)
        for j in (i - 1, i + 1):
            if 0 <= j < len(space.factors):
                keep &= values >= space._sample(space.neighbourhoods, j, full_y, full_x)
        keep[keep] = _blob_like(space.image[::f, ::f], space.sigmas[i] / f, ys[keep], xs[keep])
        full_y, full_x, values = full_y[keep], full_x[keep], values[keep]
        shift = np.zeros(len(values))
        if 0 < i < len(space.factors) - 1:
            lower = np.abs(space._sample(space.unnormalised, i - 1, full_y, full_x))
            upper = np.abs(space._sample(space.unnormalised, i + 1, full_y, full_x))
            shift = parabola_vertices(lower, values, upper)
        parts.append((full_y, full_x, space._refined(i, shift), values))
    found = Blobs(*(np.concatenate(column).astype(float) for column in zip(*parts)))
    return _prune(found[np.argsort(-found.response, kind="stable")])


@pytest.mark.parametrize("look, area_fraction, radius", [("fluorescent", 0.5, 6.0), ("brightfield", 0.2, 12.0),
                                                         ("gaussian", 0.05, 3.0)])
def test_the_scale_space_finds_the_former_blobs_bit_for_bit(look, area_fraction, radius):
    image = synthesize(benchmark_config(look, area_fraction, shape=(320, 320), radius=radius), seed=56).image
    sigmas = np.geomspace(3.0, 60.0, 14) / (2 * np.sqrt(2))
    space = ScaleSpace.of(_normalised(_central_crop(image, 384)), sigmas, BLOB_MIN_CONTRAST)
    found, former = space.blobs(), former_blobs(space)
    assert len(found) > 10
    for column in ("y", "x", "sigma", "response"):
        assert np.array_equal(getattr(found, column), getattr(former, column))
