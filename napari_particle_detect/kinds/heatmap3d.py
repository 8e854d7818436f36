"""The 3D encoding: (z, y, x) centres -> a heatmap of 3D Gaussians, and a heatmap -> centres.

The same rules as the 2D :mod:`heatmap`: Gaussians combined by their maximum (touching spheres keep
two peaks), local maxima above a threshold, one per plateau, refined per axis by a parabola through
the log-heatmap (exact for an isolated Gaussian).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

DEFAULT_SIGMA_3D = 1.2


def encode3d(centres: np.ndarray, shape: tuple[int, int, int], sigma: float = DEFAULT_SIGMA_3D) -> np.ndarray:
    """Heatmap in [0, 1] with a unit 3D Gaussian peak at every (z, y, x) centre."""
    heat = np.zeros(shape, dtype=np.float32)
    reach = int(np.ceil(3.5 * sigma))
    shape_arr = np.asarray(shape)
    for c in np.asarray(centres, dtype=np.float64).reshape(-1, 3):
        i = np.rint(c).astype(int)
        lo, hi = np.maximum(i - reach, 0), np.minimum(i + reach + 1, shape_arr)
        if np.any(lo >= hi):
            continue
        d = [np.arange(a, b) - x for a, b, x in zip(lo, hi, c)]
        r2 = d[0][:, None, None] ** 2 + d[1][None, :, None] ** 2 + d[2][None, None, :] ** 2
        blob = np.exp(-r2 / (2 * sigma**2)).astype(np.float32)
        region = heat[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
        np.maximum(region, blob, out=region)
    return heat


def find_peaks3d(heat: np.ndarray, threshold: float, min_distance: int = 2) -> np.ndarray:
    """Integer (z, y, x) local maxima above ``threshold`` (the maximum within ``min_distance``), one
    per plateau of equal values."""
    size = 2 * int(min_distance) + 1
    local_max = ndimage.maximum_filter(heat, size=size, mode="constant", cval=-np.inf)
    mask = (heat == local_max) & (heat > threshold)
    coords = np.argwhere(mask)
    if len(coords) < 2:
        return coords
    # Touching maxima are equal (a saturated plateau): keep the first of each connected group.
    origin = coords.min(axis=0)
    small = np.zeros(tuple(coords.max(axis=0) - origin + 1), dtype=bool)
    small[tuple((coords - origin).T)] = True
    labels, _ = ndimage.label(small, structure=np.ones((3, 3, 3)))
    _, first = np.unique(labels[tuple((coords - origin).T)], return_index=True)
    return coords[np.sort(first)]


def refine3d(heat: np.ndarray, peaks: np.ndarray, sigma: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Subpixel (z, y, x) of integer ``peaks`` and their scores.

    A peak on the volume's face has one neighbour along that axis. With the target's ``sigma``
    known, the log-ratio to that neighbour still places the Gaussian's centre, also outside the
    volume (a sphere cut by the face): callers drop those. Without ``sigma`` it stays put there.
    """
    peaks = np.asarray(peaks, dtype=np.intp).reshape(-1, 3)
    if not len(peaks):
        return np.zeros((0, 3)), np.zeros(0)
    centre_values = heat[tuple(peaks.T)].astype(np.float64)
    log_c = np.log(np.clip(centre_values, 1e-6, None))
    out = peaks.astype(np.float64)
    for axis in range(3):
        shift = np.zeros(len(peaks))
        lo = peaks.copy()
        hi = peaks.copy()
        lo[:, axis] -= 1
        hi[:, axis] += 1
        inside = (lo[:, axis] >= 0) & (hi[:, axis] < heat.shape[axis])
        if inside.any():
            minus = np.log(np.clip(heat[tuple(lo[inside].T)], 1e-6, None))
            plus = np.log(np.clip(heat[tuple(hi[inside].T)], 1e-6, None))
            curvature = minus - 2 * log_c[inside] + plus
            with np.errstate(divide="ignore", invalid="ignore"):
                s = np.where(curvature < 0, 0.5 * (minus - plus) / curvature, 0.0)
            shift[inside] = np.clip(np.nan_to_num(s), -0.5, 0.5)
        if sigma is not None and heat.shape[axis] > 1:
            # log h(0) - log h(1) = (1 - 2c) / (2 sigma^2) for a Gaussian centred at c, on either face.
            for face, step in ((0, 1), (heat.shape[axis] - 1, -1)):
                on = peaks[:, axis] == face
                if on.any():
                    nb = peaks[on].copy()
                    nb[:, axis] += step
                    drop = log_c[on] - np.log(np.clip(heat[tuple(nb.T)], 1e-6, None))
                    c = 0.5 - sigma**2 * drop  # distance from the face towards the inside
                    shift[on] = np.clip(c, -3 * sigma, 0.5) * step
        out[:, axis] += shift
    return out, centre_values


def decode3d(heat: np.ndarray, threshold: float = 0.4, min_distance: int = 2,
             sigma: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Centres (N, 3) z, y, x with subpixel precision and their scores (heatmap value at the peak);
    with ``sigma``, peaks on the faces are placed by the known Gaussian width (possibly outside)."""
    return refine3d(heat, find_peaks3d(heat, threshold, min_distance), sigma)
