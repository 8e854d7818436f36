"""The Laplacian's 2D transfer function is kept per scale and transform size (issue 18, auto diameter: 2-4 % of the
size estimate's CPU), where small, and gives the Laplacians it was built for at every call bit for bit."""

import numpy as np

from napari_particle_detect.detection import gaussian_laplacians
from napari_particle_detect.detection.gaussian_laplacians import GaussianLaplacians

from test_s58_speed_exact_caches import former_view


def test_a_kept_transfer_is_built_once_per_scale_and_size_and_gives_the_former_laplacians():
    rng = np.random.default_rng(59)
    for shape in ((96, 96), (96, 96), (70, 101)):  # a second image of one size reads the first's transfers
        laplacians = GaussianLaplacians(rng.random(shape).astype(np.float32), 3.35)
        for sigma in (0.84, np.float64(1.68), 3.35):
            np.testing.assert_array_equal(laplacians.view(sigma), former_view(laplacians, sigma))
    kept = gaussian_laplacians._transfer(1.68, laplacians.size)
    assert kept is gaussian_laplacians._transfer(1.68, laplacians.size)
    assert not kept.flags.writeable  # one caller cannot spoil the next's


def test_a_large_transform_s_transfer_is_not_kept():
    large = (1024, 1024)  # a 1024 px sparse crop's: MBs a scale, read once
    assert gaussian_laplacians._transfer(2.0, large) is not gaussian_laplacians._transfer(2.0, large)
