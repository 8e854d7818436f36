"""Laplacians of Gaussian of one image at many scales, from one Fourier transform.

The values are SciPy's ``ndimage.gaussian_laplace`` (edges mirrored, mode 'reflect'; kernels cut at
four sigma) to float rounding: the image is mirrored out by the widest kernel's reach, so the
transform's wrap-around never reaches a pixel that is kept. On a 384 px image, eight scales of
1-5 px take 6 ms on one core against 37 ms by direct convolution, whose cost grows with the kernel.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import fft

# SciPy's gaussian filters cut their kernels at this many sigma.
TRUNCATE = 4.0


def kernel_radius(sigma: float) -> int:
    return int(TRUNCATE * float(sigma) + 0.5)


def gaussian_kernels(sigma: float, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """SciPy's 1D Gaussian kernel and its second derivative's (``ndimage._gaussian_kernel1d`` orders 0
    and 2) on offsets -radius..radius."""
    x = np.arange(-radius, radius + 1, dtype=float)
    gaussian = np.exp(-0.5 / (sigma * sigma) * x**2)
    gaussian /= gaussian.sum()
    return gaussian, (x**2 / sigma**4 - 1.0 / sigma**2) * gaussian


class GaussianLaplacians:
    """``ndimage.gaussian_laplace(image, sigma)`` for any ``sigma`` up to ``largest_sigma``, as float32."""

    def __init__(self, image: np.ndarray, largest_sigma: float) -> None:
        self.shape = image.shape
        self.reach = kernel_radius(largest_sigma)
        padded = np.pad(np.asarray(image, dtype=np.float32), self.reach, mode="symmetric")
        self.size = tuple(fft.next_fast_len(n, real=True) for n in padded.shape)
        self.spectrum = fft.rfft2(padded, s=self.size)

    def reaches(self, sigma: float) -> bool:
        return kernel_radius(sigma) <= self.reach

    def __call__(self, sigma: float) -> np.ndarray:
        return np.ascontiguousarray(self.view(sigma))

    def view(self, sigma: float) -> np.ndarray:
        """As calling it, but a view into the inverse transform's output, not a copy: the caller keeps the whole padded
        output alive while it holds the view (the size estimate's scale space does, for its few scales of a crop)."""
        if not self.reaches(sigma):
            raise ValueError(f"sigma {sigma} reaches further than the image was mirrored for ({self.reach} px)")
        full = fft.irfft2(self.spectrum * _transfer(float(sigma), self.size), s=self.size)
        h, w = self.shape
        return full[self.reach : self.reach + h, self.reach : self.reach + w]


# Transforms up to this many values have their 2D transfer kept (:func:`_transfer`): the size estimate's crops
# (384 px and their reduced copies) are, at half a MB each or less; a 1024 px sparse crop's (2.4 MB a scale) is not.
KEPT_TRANSFER_VALUES = 512 * 512


def _transfer(sigma: float, size: tuple[int, int]) -> np.ndarray:
    """The Laplacian of Gaussian's transfer function at ``sigma`` on a transform of ``size`` (float32): kept per scale
    and size where small (the estimate reads the same scales on crops of the same size in every frame, and building
    it cost as much as scaling the spectrum by it)."""
    if size[0] * size[1] <= KEPT_TRANSFER_VALUES:
        return _kept_transfer(sigma, size)
    return _transfer_of(sigma, size)


@lru_cache(maxsize=32)
def _kept_transfer(sigma: float, size: tuple[int, int]) -> np.ndarray:
    transfer = _transfer_of(sigma, size)
    transfer.flags.writeable = False  # shared by every image read at this scale and size
    return transfer


def _transfer_of(sigma: float, size: tuple[int, int]) -> np.ndarray:
    rows, columns = _kernel_spectra(sigma, size)
    # d2/dy2 of the Gaussian along rows, smoothed along columns, plus the same the other way round.
    transfer = np.outer(rows[1], columns[0])
    transfer += np.outer(rows[0], columns[1])
    return transfer


@lru_cache(maxsize=256)
def _kernel_spectra(sigma: float, size: tuple[int, int]) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """The transforms of the Gaussian and its second derivative at ``sigma`` along the rows and along the columns of a
    transform of ``size``: made once per scale and size, a few kB each (the size estimate reads the same scales on
    crops of the same size in every frame; these four transforms cost a third of each scale's Laplacian)."""
    kernels = gaussian_kernels(sigma, kernel_radius(sigma))
    rows = tuple(_kernel_spectrum(k, size[0], fft.fft) for k in kernels)
    columns = tuple(_kernel_spectrum(k, size[1], fft.rfft) for k in kernels)
    for spectrum in rows + columns:
        spectrum.flags.writeable = False  # shared by every image read at this scale and size
    return rows, columns


def _kernel_spectrum(kernel: np.ndarray, size: int, transform) -> np.ndarray:
    """The transform of a centred symmetric kernel laid out for circular convolution (offset 0 at index 0):
    real, so it scales the image's spectrum in float32 without complex products."""
    radius = len(kernel) // 2
    line = np.zeros(size)
    line[: radius + 1] = kernel[radius:]
    line[size - radius :] = kernel[:radius]
    return transform(line).real.astype(np.float32)
