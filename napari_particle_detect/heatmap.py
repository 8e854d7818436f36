"""The two halves of one encoding: centres -> target heatmap, and heatmap -> centres.

Targets are Gaussians of fixed width combined with a *maximum*, not a sum, so two centres closer
than one particle radius still give two separate peaks. Decoding finds local maxima above a
threshold and refines each to subpixel precision with a quadratic fit to the log-heatmap, which is
exact for an isolated Gaussian.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

DEFAULT_SIGMA = 1.5


def encode(centres: np.ndarray, shape: tuple[int, int], sigma: float = DEFAULT_SIGMA) -> np.ndarray:
    """Heatmap in [0, 1] with a unit Gaussian peak at every (y, x) centre."""
    heat = np.zeros(shape, dtype=np.float32)
    reach = int(np.ceil(4 * sigma))
    for y, x in np.asarray(centres, dtype=np.float64).reshape(-1, 2):
        iy, ix = int(round(y)), int(round(x))
        y0, y1 = max(iy - reach, 0), min(iy + reach + 1, shape[0])
        x0, x1 = max(ix - reach, 0), min(ix + reach + 1, shape[1])
        if y0 >= y1 or x0 >= x1:
            continue
        yy = np.arange(y0, y1)[:, None] - y
        xx = np.arange(x0, x1)[None, :] - x
        blob = np.exp(-(yy**2 + xx**2) / (2 * sigma**2)).astype(np.float32)
        np.maximum(heat[y0:y1, x0:x1], blob, out=heat[y0:y1, x0:x1])
    return heat


def find_peaks(heat: np.ndarray, threshold: float, min_distance: int = 2) -> np.ndarray:
    """Integer (y, x) positions of local maxima above ``threshold``, at least ``min_distance`` apart."""
    size = 2 * int(min_distance) + 1
    local_max = ndimage.maximum_filter(heat, size=size, mode="constant", cval=-np.inf)
    return one_per_plateau(np.argwhere((heat == local_max) & (heat > threshold)))


def one_per_plateau(coords: np.ndarray) -> np.ndarray:
    """The first (in raster order) of each group of touching maxima, from raster-ordered ``coords``.

    Two 8-connected local maxima are necessarily equal, so each connected group is one plateau
    of a saturated heatmap; grouping the few peaks, not labelling the whole image, keeps this cheap.
    """
    coords = np.asarray(coords, dtype=np.intp).reshape(-1, 2)
    if len(coords) < 2:
        return coords
    pairs = cKDTree(coords).query_pairs(1.5, output_type="ndarray")
    if len(pairs) == 0:
        return coords
    links = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(coords), len(coords)))
    _, plateau = connected_components(links, directed=False)
    _, first = np.unique(plateau, return_index=True)
    return coords[np.sort(first)]


def refine(heat: np.ndarray, peaks: np.ndarray) -> np.ndarray:
    """Subpixel (y, x): per-axis parabola through the log-heatmap at the peak and its neighbours."""
    peaks = np.asarray(peaks, dtype=np.intp).reshape(-1, 2)
    if len(peaks) == 0:
        return np.zeros((0, 2))
    py, px = peaks[:, 0], peaks[:, 1]
    centre = _log_at(heat, py, px)
    offsets = []
    for dy, dx in ((1, 0), (0, 1)):
        minus = _log_at(heat, py - dy, px - dx)
        plus = _log_at(heat, py + dy, px + dx)
        curvature = minus - 2 * centre + plus
        with np.errstate(divide="ignore", invalid="ignore"):
            shift = np.where(curvature < 0, 0.5 * (minus - plus) / curvature, 0.0)
        shift = np.nan_to_num(shift, nan=0.0)
        offsets.append(np.clip(shift, -0.5, 0.5))
    return peaks + np.stack(offsets, axis=1)


def _log_at(heat: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """log(heat) at (y, x); NaN outside the image, so a border peak keeps its integer position on that axis."""
    inside = (y >= 0) & (y < heat.shape[0]) & (x >= 0) & (x < heat.shape[1])
    values = np.full(len(y), np.nan, dtype=heat.dtype)
    values[inside] = np.log(np.clip(heat[y[inside], x[inside]], 1e-6, None))
    return values


def decode(
    heat: np.ndarray,
    threshold: float = 0.4,
    min_distance: int = 2,
    shadow_radius: float | None = None,
    shadow_ratio: float = 0.5,
    peaks: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Centres (N, 2) y, x with subpixel precision and their scores (heatmap value at the peak).

    With ``shadow_radius``, peaks scoring below ``shadow_ratio`` of a neighbour that close go.
    ``peaks`` are :func:`find_peaks`'s output when it was computed elsewhere (on a GPU).
    """
    if peaks is None:
        peaks = find_peaks(heat, threshold, min_distance)
    scores = heat[peaks[:, 0], peaks[:, 1]] if len(peaks) else np.zeros(0, dtype=heat.dtype)
    centres, scores = refine(heat, peaks), scores.astype(np.float64)
    if shadow_radius is not None:
        keep = ~shadows(centres, scores, shadow_radius, shadow_ratio)
        centres, scores = centres[keep], scores[keep]
    return centres, scores


def shadows(centres: np.ndarray, scores: np.ndarray, radius: float, ratio: float) -> np.ndarray:
    """Mask of peaks scoring below ``ratio`` times a neighbour closer than ``radius``."""
    mask = np.zeros(len(centres), dtype=bool)
    if len(centres) < 2:
        return mask
    pairs = cKDTree(centres).query_pairs(radius, output_type="ndarray")
    if len(pairs):
        a, b = scores[pairs[:, 0]], scores[pairs[:, 1]]
        mask[pairs[:, 0][a < ratio * b]] = True
        mask[pairs[:, 1][b < ratio * a]] = True
    return mask
