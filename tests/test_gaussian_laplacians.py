"""The scale space's Laplacians of Gaussian from one Fourier transform are SciPy's gaussian_laplace."""

import numpy as np
import pytest
from scipy import ndimage

from napari_particle_detect.detection.gaussian_laplacians import GaussianLaplacians


@pytest.mark.parametrize("shape", [(384, 384), (97, 250), (40, 33), (10, 7)])  # kernels wider than the image too
def test_every_scale_is_scipys_gaussian_laplace_edges_included(shape):
    rng = np.random.default_rng(sum(shape))
    image = (rng.poisson(50, shape) + 400 * (rng.random(shape) > 0.995)).astype(np.float32)
    laplacians = GaussianLaplacians(image, 5.3)
    for sigma in (0.8, 1.06, 2.12, 3.36, 5.3):
        expected = ndimage.gaussian_laplace(image, sigma)
        found = laplacians(sigma)
        assert found.shape == image.shape and found.dtype == np.float32
        np.testing.assert_allclose(found, expected, atol=2e-5 * np.abs(expected).max())


def test_a_strided_view_and_a_scale_beyond_its_margin():
    image = np.random.default_rng(1).random((90, 120)).astype(np.float32)
    reduced = image[::2, ::2]
    laplacians = GaussianLaplacians(reduced, 3.0)
    np.testing.assert_allclose(laplacians(3.0), ndimage.gaussian_laplace(np.ascontiguousarray(reduced), 3.0),
                               atol=1e-5)
    assert laplacians.reaches(3.0) and not laplacians.reaches(4.0)
    with pytest.raises(ValueError, match="further than"):
        laplacians(4.0)
