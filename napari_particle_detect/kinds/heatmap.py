"""The two halves of one encoding: centres -> target heatmap, and heatmap -> centres.

Targets are Gaussians of fixed width combined with a *maximum*, not a sum, so two centres closer
than one particle radius still give two separate peaks. Decoding finds local maxima above a
threshold and refines each to subpixel precision with a quadratic fit to the log-heatmap, which is
exact for an isolated Gaussian.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

DEFAULT_SIGMA = 1.5


def encode(centres: np.ndarray, shape: tuple[int, int], sigma: float = DEFAULT_SIGMA,
           heights: np.ndarray | None = None, where: np.ndarray | None = None) -> np.ndarray:
    """Heatmap in [0, 1] with a unit Gaussian peak at every (y, x) centre (of ``heights`` where given),
    drawn only on the pixels ``where`` is true when it is given (0 elsewhere)."""
    heat = np.zeros(shape, dtype=np.float32)
    centres = np.asarray(centres, dtype=np.float64).reshape(-1, 2)
    if not len(centres):
        return heat
    # Every centre's window at once (a loop over centres cost a round 0.9 s of its 13): each Gaussian
    # is separable, and overlapping windows keep the larger value.
    offsets = np.arange(-int(np.ceil(4 * sigma)), int(np.ceil(4 * sigma)) + 1)
    ys = np.rint(centres[:, :1]).astype(int) + offsets
    xs = np.rint(centres[:, 1:]).astype(int) + offsets
    gy = np.exp(-((ys - centres[:, :1]) ** 2) / (2 * sigma**2))
    gx = np.exp(-((xs - centres[:, 1:]) ** 2) / (2 * sigma**2))
    blobs = gy[:, :, None] * gx[:, None, :]
    if heights is not None:
        blobs = blobs * np.asarray(heights, dtype=np.float64).reshape(-1, 1, 1)
    blobs = blobs.astype(np.float32)
    rows = np.broadcast_to(ys[:, :, None], blobs.shape)
    cols = np.broadcast_to(xs[:, None, :], blobs.shape)
    inside = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
    if where is not None:
        inside &= where[np.clip(rows, 0, shape[0] - 1), np.clip(cols, 0, shape[1] - 1)]
    np.maximum.at(heat, (rows[inside], cols[inside]), blobs[inside])
    return heat


@dataclass(frozen=True)
class ResidualRule:
    """More particles from what the peaks found leave unexplained in the heatmap.

    Two particles closer than the network separates (Gaussian spots 2-3 px apart, crowded spheres)
    come out as one peak: the dimmer one is no local maximum (the brighter one's flank is higher
    within ``min_distance`` of it) or the two merge, and the second is left in the peak's shape. Each peak found is
    drawn back as the network draws a lone particle (a Gaussian of ``width`` x the card's sigma, as
    high as the peak), and local maxima of the heatmap minus that drawing above ``level`` and at least
    ``apart`` px from every peak found are particles too; their score is the residual's height.
    Chosen on tuning seeds (benchmarks/residual_peaks.py, 20 images a row): Gaussian spots 300 / 600
    0.966 / 0.926 -> 0.967 / 0.933 with these settings (0.969 / 0.936 with level 0.3, which cost
    opaque 0.3 and 0.9 0.001), no row of the generator's cells or the sparse scenes lower by more
    than 0.0001. Checked once on accuracy.py's test images (``--test-seeds``): spots 300 / 600
    +0.004 / +0.007, fluorescent 0.6 +0.0015, opaque 0.3 +0.001, opaque 0.6 -0.001, the other 19
    rows unchanged; a 2048 px frame's detection up to 13 % slower on this CPU, a 512 px one no slower.
    But on real images it adds a few detections that do not help (benchmarks/real.py: bulk water
    with no parameters 0.644 -> 0.641 against trackpy's result; the seed demo's per-frame counts
    spread further, largest deviation 1.8 -> 2.1 %, over its 2 % target), so detection takes it only
    when asked (``split_close``, ``--split-close``)."""

    level: float = 0.35
    width: float = 1.5
    apart: float = 2.0

    def reach(self, sigma: float) -> int:
        """Rows around a peak its drawing covers (as :func:`encode` draws)."""
        return int(np.ceil(4 * self.width * sigma))


RESIDUAL = ResidualRule()


def residual_maxima(heat: np.ndarray, centres: np.ndarray, heights: np.ndarray, sigma: float, level: float,
                    min_distance: int, rows: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Local maxima above ``level`` (rows in [start, stop)) of ``heat`` less the Gaussians of ``sigma``
    and ``heights`` at ``centres`` (as :func:`encode` draws them), with the residual's stencil values.

    Worked out only where the heatmap is above ``level`` (a drawing is never negative, so only there
    can the residual pass it), and at the few stencil points of the maxima outside that: drawing and
    filtering the whole band took a 2048 px frame's decoding 0.3 s more."""
    above = heat > level
    residual = np.where(above, heat - encode(centres, heat.shape, sigma, heights, above), -np.inf).astype(np.float32)
    found = np.argwhere(residual[rows[0] : rows[1]] > level)
    found[:, 0] += rows[0]
    if len(found):
        reach = np.arange(-int(min_distance), int(min_distance) + 1)
        ys, xs = (np.broadcast_to(found[:, k, None, None] + offsets, (len(found), len(reach), len(reach)))
                  .reshape(len(found), -1) for k, offsets in ((0, reach[:, None]), (1, reach[None, :])))
        inside = (ys >= 0) & (ys < heat.shape[0]) & (xs >= 0) & (xs < heat.shape[1])
        around = np.where(inside, residual[np.clip(ys, 0, heat.shape[0] - 1), np.clip(xs, 0, heat.shape[1] - 1)],
                          -np.inf)
        found = found[residual[found[:, 0], found[:, 1]] >= around.max(axis=1)]
    values = stencil_values(residual, found)
    ys, xs, inside = stencil_indices(heat.shape, found)
    missing = inside & ~above[ys, xs]
    if missing.any():
        # Drawn again at those points alone, from the peaks whose windows reach them.
        at = np.zeros(heat.shape, bool)
        at[ys[missing], xs[missing]] = True
        points = np.stack([ys[missing], xs[missing]], axis=1)
        reach = np.sqrt(2) * np.ceil(4 * sigma)  # encode's square window, by its diagonal
        near = np.unique(np.concatenate([np.asarray(n, int) for n in
                                         cKDTree(np.rint(np.asarray(centres, float).reshape(-1, 2)))
                                         .query_ball_point(points, reach)] + [np.zeros(0, int)]))
        drawing = encode(np.asarray(centres, float).reshape(-1, 2)[near], heat.shape, sigma,
                         np.asarray(heights, float)[near], at)
        values[missing] = heat[ys[missing], xs[missing]] - drawing[ys[missing], xs[missing]]
    return found, values


def find_peaks(heat: np.ndarray, threshold: float, min_distance: int = 2) -> np.ndarray:
    """Integer (y, x) positions of local maxima above ``threshold``, at least ``min_distance`` apart."""
    return one_per_plateau(local_maxima(heat, threshold, min_distance))


def local_maxima(heat: np.ndarray, threshold: float, min_distance: int = 2) -> np.ndarray:
    """Every pixel above ``threshold`` that is the maximum within ``min_distance``, in raster order
    (plateaus not yet reduced to one pixel: see :func:`one_per_plateau`)."""
    reach = int(min_distance)
    h, w = heat.shape
    flat = np.ascontiguousarray(heat).reshape(-1)
    index = np.flatnonzero(flat > threshold)  # a 2D nonzero costs 10x more on a 640 px heatmap
    if reach < 1 or len(index) > DENSE_CANDIDATES * heat.size:
        local_max = ndimage.maximum_filter(heat, size=2 * max(reach, 0) + 1, mode="constant", cval=-np.inf)
        return np.argwhere((heat == local_max) & (heat > threshold))
    # A heatmap is mostly background: testing the few pixels above the threshold against their
    # neighbours, nearest first (they reject most), costs a quarter of a maximum filter over the
    # whole image (a 2560 x 904 band: 10 ms against 45). Inside, a neighbour is a flat offset; at the
    # border an index clipped to the image lands on a pixel inside the same window, so the test is
    # the filter's, bit for bit.
    ys, xs = np.divmod(index, w)
    inside = (ys >= reach) & (ys < h - reach) & (xs >= reach) & (xs < w - reach)
    offsets = np.array(_neighbour_offsets(reach))
    centre = index[inside]
    centre = _no_higher_neighbour(centre, flat[centre], offsets @ np.array([w, 1]),
                                  lambda at, steps: flat[at[:, None] + steps], ONE_NEIGHBOUR_AT_A_TIME)
    # The few border pixels (a 640 px heatmap: about 100) are read all at once.
    edge = index[~inside]
    edge = _no_higher_neighbour(edge, flat[edge], offsets, lambda at, near: heat[
        np.minimum(np.maximum(at[:, None] // w + near[:, 0], 0), h - 1),
        np.minimum(np.maximum(at[:, None] % w + near[:, 1], 0), w - 1)], 0)
    found = np.sort(np.concatenate([centre, edge]))
    return np.stack(np.divmod(found, w), axis=1).astype(np.intp)


def _no_higher_neighbour(at: np.ndarray, values: np.ndarray, offsets: np.ndarray,
                         read: Callable[[np.ndarray, np.ndarray], np.ndarray], alone: int) -> np.ndarray:
    """The candidates ``at`` whose ``values`` no neighbour at ``offsets`` (nearest first) passes, as read by
    ``read(at, some offsets)`` (len(at), len(some offsets)). The ``alone`` nearest are read one at a time (the
    four nearest leave about one candidate in 17 of a 640 px heatmap: 19,500 -> 1,160); the others, which reject
    few, in blocks of about NEIGHBOUR_BLOCK_VALUES: a call a block, not a pass a neighbour (a 640 px heatmap
    1.6 -> 1.3 ms of CPU; the size estimate's 61 px windows on a 384 px crop 48 -> 2.3 ms)."""
    start = 0
    while start < len(offsets) and len(at):
        size = 1 if start < alone else max(1, NEIGHBOUR_BLOCK_VALUES // len(at))
        passed = read(at, offsets[start : start + size]) <= values[:, None]
        kept = passed[:, 0] if size == 1 else passed.all(axis=1)
        at, values, start = at[kept], values[kept], start + size
    return at


ONE_NEIGHBOUR_AT_A_TIME = 4
# A few hundred kB of indices and values a block: a wide window's blocks grow as its candidates go.
NEIGHBOUR_BLOCK_VALUES = 65_536

# Above this share of pixels over the threshold, one maximum filter over the image is cheaper.
DENSE_CANDIDATES = 0.2


@functools.lru_cache(maxsize=8)
def _neighbour_offsets(reach: int) -> tuple[tuple[int, int], ...]:
    """(dy, dx) of a square window of ``reach`` less its centre, nearest first."""
    offsets = [(dy, dx) for dy in range(-reach, reach + 1) for dx in range(-reach, reach + 1) if dy or dx]
    return tuple(sorted(offsets, key=lambda o: o[0] ** 2 + o[1] ** 2))


def one_per_plateau(coords: np.ndarray) -> np.ndarray:
    """The first (in raster order) of each group of touching maxima, from raster-ordered ``coords``.

    Two 8-connected local maxima are necessarily equal, so each connected group is one plateau
    of a saturated heatmap; grouping the few peaks, not labelling the whole image, keeps this cheap.
    """
    coords = np.asarray(coords, dtype=np.intp).reshape(-1, 2)
    if len(coords) < 2:
        return coords
    span = coords.max(axis=0) - coords.min(axis=0) + 1
    if len(coords) > PLATEAU_LABEL_ABOVE and len(coords) >= PLATEAU_LABEL_DENSITY * float(np.prod(span)):
        return _first_of_each_plateau_labelled(coords)
    # Peaks as sorted integer keys on a grid one wider than the peaks' span, so neighbours never wrap.
    width = int(coords[:, 1].max()) + 3
    keys = (coords[:, 0] + 1) * width + coords[:, 1] + 1
    pairs = []
    for dy, dx in ((0, 1), (1, -1), (1, 0), (1, 1)):
        target = keys + dy * width + dx
        at = np.minimum(np.searchsorted(keys, target), len(keys) - 1)
        hit = keys[at] == target
        pairs.append(np.stack([np.nonzero(hit)[0], at[hit]], axis=1))
    pairs = np.concatenate(pairs)
    if len(pairs) == 0:
        return coords
    return coords[_first_of_each_group(pairs, len(coords))]


def _first_of_each_group(pairs: np.ndarray, count: int) -> np.ndarray:
    """Sorted indices of the first of each group of ``count`` items that ``pairs`` (i, j) link."""
    first = np.arange(count)
    for _ in range(GROUP_SPREADS if len(pairs) <= SPREAD_LINKS else 0):
        # The lowest index of each group spread along the links, jumping through the index each item holds:
        # a few rounds over the few links a heatmap has (a 640 px one: 16), not a sparse graph (0.15 ms).
        lowest = np.minimum(first[pairs[:, 0]], first[pairs[:, 1]])
        spread = first.copy()
        np.minimum.at(spread, pairs[:, 0], lowest)
        np.minimum.at(spread, pairs[:, 1], lowest)
        spread = spread[spread]
        if np.array_equal(spread, first):
            return np.flatnonzero(first == np.arange(count))
        first = spread
    links = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(count, count))
    _, group = connected_components(links, directed=False)
    _, first = np.unique(group, return_index=True)
    return np.sort(first)


# Rounds of spreading tried before a long plateau's links are handed to a sparse graph; and the most links spread
# (a saturated 2048 px heatmap's 60,000: 9.8 ms against the graph's 10.9; its 490,000: 79 against 50).
GROUP_SPREADS = 8
SPREAD_LINKS = 65_536


# Past this many peaks covering at least this share of their bounding box (a heatmap above threshold
# nearly everywhere), labelling a mask of the box is cheaper than linking them pairwise. Many peaks
# spread thin (a crowded 8192 px frame: 175,000) link pairwise: a mask and labels of the whole frame
# (5 bytes a pixel, 1.3 GB for a 16,000 px working frame) broke the bounded memory of band decoding.
PLATEAU_LABEL_ABOVE = 50_000
PLATEAU_LABEL_DENSITY = 0.05


def _first_of_each_plateau_labelled(coords: np.ndarray) -> np.ndarray:
    origin = coords.min(axis=0)
    mask = np.zeros(tuple(coords.max(axis=0) - origin + 1), dtype=bool)
    mask[tuple((coords - origin).T)] = True
    labels, _ = ndimage.label(mask, structure=np.ones((3, 3)))
    _, first = np.unique(labels[tuple((coords - origin).T)], return_index=True)
    return coords[np.sort(first)]


# A peak and its four neighbours, in the order refine reads them: centre, -y, +y, -x, +x.
STENCIL = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))


def stencil_indices(shape: tuple[int, int], peaks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row and column of every STENCIL point of every peak (clipped to the image), and which are inside it."""
    offsets = np.array(STENCIL)
    ys = peaks[None, :, 0] + offsets[:, None, 0]
    xs = peaks[None, :, 1] + offsets[:, None, 1]
    inside = (ys >= 0) & (ys < shape[0]) & (xs >= 0) & (xs < shape[1])
    return np.clip(ys, 0, shape[0] - 1), np.clip(xs, 0, shape[1] - 1), inside


def stencil_values(heat: np.ndarray, peaks: np.ndarray) -> np.ndarray:
    """Heatmap at each peak's STENCIL, shape (5, N); NaN outside the image."""
    peaks = np.asarray(peaks, dtype=np.intp).reshape(-1, 2)
    ys, xs, inside = stencil_indices(heat.shape, peaks)
    return outside_as_nan(heat[ys, xs], inside)


def outside_as_nan(values: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Stencil values with the points outside the image set to NaN (a float type kept or made)."""
    return np.where(inside, values, np.nan).astype(np.result_type(values.dtype, np.float32))


def refine(peaks: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Subpixel (y, x): per-axis parabola through the log-heatmap at the peak and its neighbours.

    ``values`` are :func:`stencil_values`; NaN outside the image keeps a border peak at its integer
    position on that axis.
    """
    peaks = np.asarray(peaks, dtype=np.intp).reshape(-1, 2)
    if len(peaks) == 0:
        return np.zeros((0, 2))
    logs = np.log(np.clip(values, 1e-6, None))
    centre = logs[0]
    offsets = []
    for minus, plus in ((logs[1], logs[2]), (logs[3], logs[4])):
        curvature = minus - 2 * centre + plus
        with np.errstate(divide="ignore", invalid="ignore"):
            shift = np.where(curvature < 0, 0.5 * (minus - plus) / curvature, 0.0)
        shift = np.nan_to_num(shift, nan=0.0)
        offsets.append(np.clip(shift, -0.5, 0.5))
    return peaks + np.stack(offsets, axis=1)


def decode(
    heat: np.ndarray,
    threshold: float = 0.4,
    min_distance: int = 2,
    shadow_radius: float | None = None,
    shadow_ratio: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Centres (N, 2) y, x with subpixel precision and their scores (heatmap value at the peak).

    With ``shadow_radius``, peaks scoring below ``shadow_ratio`` of a neighbour that close go.
    """
    peaks = find_peaks(heat, threshold, min_distance)
    return decode_peaks(peaks, stencil_values(heat, peaks), shadow_radius, shadow_ratio)


def decode_peaks(
    peaks: np.ndarray, values: np.ndarray, shadow_radius: float | None = None, shadow_ratio: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`decode` from peaks and their :func:`stencil_values`, wherever those were computed."""
    centres, scores = refine(peaks, values), values[0].astype(np.float64)
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
