"""Particle size: estimate it from the image, and rescale frames so particles match the model.

Rescaling uses the pixel-area convention (pixel i covers [i - 0.5, i + 0.5]), so a centre maps as
``y' = (y + 0.5) * f - 0.5`` and back exactly.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
from scipy import ndimage

from .preprocessing import normalise

# Scale-normalised LoG of a disc of radius r peaks near sigma = r / sqrt(2).
DISC_SIGMA_TO_DIAMETER = 2.0 * np.sqrt(2.0)
# Optics blur adds to the apparent size: d_apparent^2 ~ d^2 + 8 psf_sigma^2; assume psf_sigma ~ 0.7 px.
TYPICAL_PSF_SIGMA = 0.7
# The estimate reads a central crop this big: hundreds of particles, bounded time on huge frames.
ESTIMATE_CROP = 384
# Scales tried between the smallest and largest diameter; the peak is refined between them.
BLOB_SCALES = 14


@dataclass(frozen=True)
class SizeEstimate:
    diameter: float  # px
    ringed: bool  # bright-field look: a core inside an opposite-signed ring


def estimate_size(
    frame: np.ndarray, min_diameter: float = 3.0, max_diameter: float = 60.0, scales: int = BLOB_SCALES
) -> SizeEstimate:
    """Typical particle diameter in pixels: the blob scale, widened to the rim for ringed particles.

    Bright, dark and ringed particles all give a blob response, since its magnitude ignores the
    sign. A bright-field particle's blob is only its core; when the mean profile around the
    strongest blobs shows an opposite-signed ring that fades back to background, the ring's
    extremum marks the particle's edge (as it does in the generator's bright-field look).
    """
    image = normalise(_central_crop(np.asarray(frame), ESTIMATE_CROP))
    blob = blob_diameter(image, min_diameter, max_diameter, scales)
    ring = ring_diameter(image, blob)
    return SizeEstimate(blob, False) if ring is None else SizeEstimate(ring, True)


def estimate_diameter(frame: np.ndarray, min_diameter: float = 3.0, max_diameter: float = 60.0) -> float:
    """Typical particle diameter in pixels (see :func:`estimate_size`)."""
    return estimate_size(frame, min_diameter, max_diameter).diameter


def blob_diameter(
    image: np.ndarray, min_diameter: float = 3.0, max_diameter: float = 60.0, scales: int = BLOB_SCALES
) -> float:
    """Diameter from the scale of the strongest scale-normalised Laplacian-of-Gaussian response.

    Summarised per scale by a high percentile (particles, not background, dominate it); the best
    scale is refined by a parabola in log-sigma and corrected for typical optical blur.
    """
    sigmas = np.geomspace(min_diameter, max_diameter, scales) / DISC_SIGMA_TO_DIAMETER
    # SciPy's filters release the GIL, so the scales run side by side on the host's cores.
    with ThreadPoolExecutor(max_workers=max(1, min(len(sigmas), _usable_cores()))) as pool:
        strengths = np.asarray(list(pool.map(partial(_blob_strength, image), sigmas)))
    best = int(np.argmax(strengths))
    log_s = np.log(sigmas)
    if 0 < best < len(sigmas) - 1:
        shift = _parabola_vertex(*strengths[best - 1 : best + 2])
        sigma = float(np.exp(log_s[best] + shift * (log_s[1] - log_s[0])))
    else:
        sigma = float(sigmas[best])
    apparent = sigma * DISC_SIGMA_TO_DIAMETER
    return float(np.sqrt(max(apparent**2 - 8 * TYPICAL_PSF_SIGMA**2, (0.75 * apparent) ** 2)))


def _usable_cores() -> int:
    """Cores this process may run on (affinity and container limits included where the OS says)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _blob_strength(image: np.ndarray, sigma: float) -> float:
    """High percentile of the scale-normalised |LoG| response at ``sigma``."""
    # Work on a reduced copy for big particles: same answer, far less time.
    factor = max(1, int(sigma // 3))
    small = image[::factor, ::factor] if factor > 1 else image
    response = np.abs(ndimage.gaussian_laplace(small, sigma / factor)) * (sigma / factor) ** 2
    return float(np.percentile(response, 99.0))


def ring_diameter(image: np.ndarray, blob: float) -> float | None:
    """Twice the radius of an opposite-signed ring around the blobs' cores, or None if there is none.

    A ring counts when it is at least RING_MIN_CONTRAST of the core's contrast, lies within
    RING_MAX_REACH blob radii, fades to RING_FADE of its depth further out, is among the image's
    extreme values (within RING_EXTREME of the 5-95 % range from its end) and lies beyond the
    background (RING_BEYOND_BACKGROUND). Between crowded plain discs the gaps make an
    opposite-signed lobe too, but one diluted toward mid-grey, or at most background.
    """
    centres = _strongest_blobs(image, blob, 60)
    if len(centres) == 0:
        return None
    reach = int(np.ceil(RING_MAX_REACH * blob)) + 2
    profile = radial_profile(image, centres, reach)
    median = np.median(image)
    # The core's sign against its own surroundings: in crowded bright-field the core can sit on
    # the image's median while still standing out from the ring around it.
    sign = np.sign(profile[0] - np.mean(profile[-3:]))
    opposite = -sign * (profile - median)
    k = int(np.argmax(opposite[: int(RING_MAX_REACH * blob / 2) + 1]))
    depth = opposite[k]
    low, high = np.percentile(image, [5, 95])
    extreme = profile[k] <= low + RING_EXTREME * (high - low) if sign > 0 else profile[k] >= high - RING_EXTREME * (high - low)
    beyond = -sign * (profile[k] - background_level(image, low, high)) >= RING_BEYOND_BACKGROUND * (high - low)
    if (k == 0 or depth < RING_MIN_CONTRAST * abs(opposite[0]) or not extreme or not beyond
            or not np.any(opposite[k:] <= RING_FADE * depth)):
        return None
    shift = _parabola_vertex(*opposite[k - 1 : k + 2]) if k + 1 < reach else 0.0
    return float(2 * (k + 0.5 + shift))  # ring k covers radii [k, k + 1)


# A bright-field ring is about half as deep as its core or deeper; noise lobes are far weaker.
RING_MIN_CONTRAST = 0.4
# Blob scale reads a ringed particle's core, at most about half its true diameter.
RING_MAX_REACH = 2.2
# A particle's own ring gives way to background; lobes from crowding neighbours persist.
RING_FADE = 0.4
# A bright-field rim is among the darkest (or brightest) things in the image; the gaps between
# crowded plain discs average background with discs, so they sit nearer mid-grey.
RING_EXTREME = 0.3
# A rim crosses the background to the other side of the core; the gaps between crowded plain
# discs only reach the background. In p5-p95 units: the generator's rims lie 0.36 or more beyond it,
# the real bright-field set's 3.8.
RING_BEYOND_BACKGROUND = 0.2
# The four thresholds above were chosen together on 240 random bright-field images with rims and
# 300 random plain ones (the training generator's spread): 124 of the rimmed read as ringed
# (the earlier rules: 111), and none of the plain ones. On 240 + 300 held-out images: 118 (98),
# and 2 plain ones (2). benchmarks/sizing.py prints both.


def background_level(image: np.ndarray, low: float, high: float) -> float:
    """The most common grey level (lightly smoothed), taken as the background's."""
    span = high - low
    counts, edges = np.histogram(ndimage.gaussian_filter(image, 1.0), bins=64,
                                 range=(low - 0.2 * span, high + 0.2 * span))
    peak = int(np.argmax(counts))
    return float(0.5 * (edges[peak] + edges[peak + 1]))


def _parabola_vertex(a: float, b: float, c: float) -> float:
    """Offset of the vertex of the parabola through (-1, a), (0, b), (1, c), clipped to [-0.5, 0.5]."""
    denom = a - 2 * b + c
    return float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5)) if denom != 0 else 0.0


def _strongest_blobs(image: np.ndarray, diameter: float, count: int) -> np.ndarray:
    """(y, x) of the ``count`` strongest Laplacian-of-Gaussian extrema at least a radius apart."""
    magnitude = np.abs(ndimage.gaussian_laplace(image, diameter / DISC_SIGMA_TO_DIAMETER))
    local_max = ndimage.maximum_filter(magnitude, size=2 * int(diameter / 2) + 1)
    peaks = np.argwhere((magnitude == local_max) & (magnitude > np.percentile(magnitude, 99)))
    return peaks[np.argsort(-magnitude[peaks[:, 0], peaks[:, 1]])[:count]]


def radial_profile(image: np.ndarray, centres: np.ndarray, reach: int) -> np.ndarray:
    """Mean intensity in 1 px rings around the given centres (ring k covers k <= r < k + 1)."""
    image = np.asarray(image, dtype=float)
    total, count = np.zeros(reach), np.zeros(reach)
    for y, x in np.asarray(centres).reshape(-1, 2):
        y0, y1 = max(int(y) - reach, 0), min(int(y) + reach + 1, image.shape[0])
        x0, x1 = max(int(x) - reach, 0), min(int(x) + reach + 1, image.shape[1])
        yy, xx = np.mgrid[y0:y1, x0:x1]
        r = np.hypot(yy - y, xx - x)
        inside = r < reach
        ring = r[inside].astype(int)
        total += np.bincount(ring, weights=image[y0:y1, x0:x1][inside], minlength=reach)
        count += np.bincount(ring, minlength=reach)
    return total / np.maximum(count, 1)


def _central_crop(frame: np.ndarray, size: int) -> np.ndarray:
    h, w = frame.shape
    y0, x0 = max((h - size) // 2, 0), max((w - size) // 2, 0)
    return frame[y0 : y0 + size, x0 : x0 + size]


def scale_for_diameter(diameter: float, working_diameter: float) -> float:
    """Factor that brings particles of ``diameter`` to the model's working size.

    The working size (a model card's ``canonical_diameter``) is where the model separates crowded
    particles best, measured, not the middle of its training range; within 5 % no resampling is done.
    """
    factor = float(working_diameter / diameter)
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
        frame = ndimage.gaussian_filter(frame, shrink_blur(factor))
    _, zoom = resampled_shape(frame.shape, factor)
    scaled = ndimage.zoom(frame, zoom, order=1, mode="nearest", grid_mode=True).astype(np.float32)
    return scaled, zoom


def shrink_blur(factor: float) -> float:
    """Gaussian sigma (px) that keeps a shrink by ``factor`` < 1 from aliasing."""
    return 0.5 * (1.0 / factor - 1.0) ** 0.5 + 1e-3


def resampled_shape(shape: tuple[int, ...], factor: float) -> tuple[tuple[int, ...], np.ndarray]:
    """Whole-pixel output shape of a resample by ``factor``, and the per-axis factors that gives."""
    out_shape = tuple(max(1, int(round(s * factor))) for s in shape)
    return out_shape, np.array([o / s for o, s in zip(out_shape, shape)])


def rescale_centres(centres: np.ndarray, factors: float | np.ndarray) -> np.ndarray:
    """Map (y, x) centres into a frame rescaled by ``factors`` (scalar or per axis)."""
    return (np.asarray(centres, dtype=float).reshape(-1, 2) + 0.5) * np.asarray(factors, dtype=float) - 0.5


def rescale_centres_back(centres: np.ndarray, factors: float | np.ndarray) -> np.ndarray:
    """Inverse of :func:`rescale_centres`."""
    return (np.asarray(centres, dtype=float).reshape(-1, 2) + 0.5) / np.asarray(factors, dtype=float) - 0.5
