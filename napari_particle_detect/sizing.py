"""Particle size: estimate it from the image, and rescale frames so particles match the model.

Rescaling uses the pixel-area convention (pixel i covers [i - 0.5, i + 0.5]), so a centre maps as
``y' = (y + 0.5) * f - 0.5`` and back exactly.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .preprocessing import normalise

# Scale-normalised LoG of a disc of radius r peaks near sigma = r / sqrt(2).
DISC_SIGMA_TO_DIAMETER = 2.0 * np.sqrt(2.0)
# Optics blur adds to the apparent size: d_apparent^2 ~ d^2 + 8 psf_sigma^2; assume psf_sigma ~ 0.7 px.
TYPICAL_PSF_SIGMA = 0.7
# The estimate reads a central crop this big: hundreds of particles, bounded time on huge frames.
ESTIMATE_CROP = 512


def estimate_diameter(frame: np.ndarray, min_diameter: float = 3.0, max_diameter: float = 60.0) -> float:
    """Typical particle diameter in pixels from the scale of the strongest blob response.

    Scale-normalised Laplacian-of-Gaussian magnitude, summarised per scale by a high percentile
    (particles, not background, dominate it); the best scale is refined by a parabola in log-sigma.
    Bright, dark and ringed particles all respond, since the magnitude ignores the sign.
    """
    image = normalise(_central_crop(np.asarray(frame), ESTIMATE_CROP))
    # Work on a reduced copy for big particles: same answer, far less time.
    sigmas = np.geomspace(min_diameter, max_diameter, 24) / DISC_SIGMA_TO_DIAMETER
    strengths = []
    for sigma in sigmas:
        factor = max(1, int(sigma // 3))
        small = image[::factor, ::factor] if factor > 1 else image
        response = np.abs(ndimage.gaussian_laplace(small, sigma / factor)) * (sigma / factor) ** 2
        strengths.append(np.percentile(response, 99.0))
    strengths = np.asarray(strengths)
    best = int(np.argmax(strengths))
    log_s = np.log(sigmas)
    if 0 < best < len(sigmas) - 1:
        a, b, c = strengths[best - 1 : best + 2]
        denom = a - 2 * b + c
        shift = 0.5 * (a - c) / denom if denom < 0 else 0.0
        step = log_s[1] - log_s[0]
        sigma = float(np.exp(log_s[best] + np.clip(shift, -0.5, 0.5) * step))
    else:
        sigma = float(sigmas[best])
    apparent = sigma * DISC_SIGMA_TO_DIAMETER
    return float(np.sqrt(max(apparent**2 - 8 * TYPICAL_PSF_SIGMA**2, (0.75 * apparent) ** 2)))


def _central_crop(frame: np.ndarray, size: int) -> np.ndarray:
    h, w = frame.shape
    y0, x0 = max((h - size) // 2, 0), max((w - size) // 2, 0)
    return frame[y0 : y0 + size, x0 : x0 + size]


def scale_for_diameter(diameter: float, card) -> float:
    """Factor that brings particles of ``diameter`` to the model's working size.

    The working size (``card.canonical_diameter``) is where the model separates crowded particles
    best, measured, not the middle of its training range; within 5 % no resampling is done.
    """
    factor = float(card.canonical_diameter / diameter)
    return 1.0 if abs(factor - 1.0) < 0.05 else factor


def rescale_frame(frame: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """Resample by ``factor`` (>1 enlarges), pixel-area convention; Gaussian pre-filter on shrink.

    Returns the image and the per-axis factors actually applied (output sizes are whole pixels),
    which are what centres must be mapped with.
    """
    frame = np.asarray(frame, dtype=np.float32)
    if factor == 1.0:
        return frame, np.ones(2)
    if factor < 1.0:
        frame = ndimage.gaussian_filter(frame, 0.5 * (1.0 / factor - 1.0) ** 0.5 + 1e-3)
    out_shape = tuple(max(1, int(round(s * factor))) for s in frame.shape)
    zoom = np.array([o / s for o, s in zip(out_shape, frame.shape)])
    scaled = ndimage.zoom(frame, zoom, order=1, mode="nearest", grid_mode=True).astype(np.float32)
    return scaled, zoom


def rescale_centres(centres: np.ndarray, factors: float | np.ndarray) -> np.ndarray:
    """Map (y, x) centres into a frame rescaled by ``factors`` (scalar or per axis)."""
    return (np.asarray(centres, dtype=float).reshape(-1, 2) + 0.5) * np.asarray(factors, dtype=float) - 0.5


def rescale_centres_back(centres: np.ndarray, factors: float | np.ndarray) -> np.ndarray:
    """Inverse of :func:`rescale_centres`."""
    return (np.asarray(centres, dtype=float).reshape(-1, 2) + 0.5) / np.asarray(factors, dtype=float) - 0.5
