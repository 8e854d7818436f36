"""Rods and ellipsoids as one encoding: table -> maps for training, maps -> table for decoding,
their table's columns and checks, and their matching metric.

Maps (the model card's ``heads``, in this order):

* ``centre``: a Gaussian at every object's centre, combined by maximum (as :mod:`heatmap`);
* ``cos2``, ``sin2``: the doubled angle, so 0 and 180 degrees are one value and nothing wraps;
* ``log_length``, ``log_width``: log of length / LENGTH_UNIT and width / WIDTH_UNIT (the width head is a
  first guess that regresses toward WIDTH_UNIT: detection measures widths in the image, :mod:`rod_width`);
* ``tips``: a Gaussian at both tips, which a network sees locally even for rods longer than its reach.

The orientation and size maps are taught only near centres (REGRESSION_RADIUS), where decoding reads them.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import ndimage
from scipy.spatial import cKDTree

from ..errors import ParticleDetectError
from ..files.tables import first_bad_row
from .border_band import ImageShape, checked_kind_tables, kept_within_border, left_out
from .evaluation import Counts, match
from .heatmap import find_peaks, refine, stencil_values
from .tables import numeric_columns
from .columns import KIND_COLUMNS
from ..synthetic.rods import ROD_COLUMNS, rod_columns, rod_table

log = logging.getLogger(__name__)

HEADS = ("centre", "cos2", "sin2", "log_length", "log_width", "tips")
COLUMNS = list(KIND_COLUMNS["rods"])
CENTRE_SIGMA = 2.0
TIP_SIGMA = 1.5
REGRESSION_RADIUS = 3.0
LENGTH_UNIT = 24.0
WIDTH_UNIT = 8.0


def gaussians(points: np.ndarray, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Max-combined unit Gaussians at (y, x) points."""
    heat = np.zeros(shape, np.float32)
    reach = int(np.ceil(3.5 * sigma))
    for y, x in np.asarray(points, float).reshape(-1, 2):
        iy, ix = int(round(y)), int(round(x))
        y0, y1, x0, x1 = max(iy - reach, 0), min(iy + reach + 1, shape[0]), max(ix - reach, 0), min(ix + reach + 1, shape[1])
        if y0 >= y1 or x0 >= x1:
            continue
        blob = np.exp(-((np.arange(y0, y1)[:, None] - y) ** 2 + (np.arange(x0, x1)[None] - x) ** 2) / (2 * sigma**2))
        np.maximum(heat[y0:y1, x0:x1], blob.astype(np.float32), out=heat[y0:y1, x0:x1])
    return heat


def encode(table: pd.DataFrame, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(maps (6, H, W), regression mask (H, W)) for a rods table (ROD_COLUMNS) in this frame's pixels.

    The centre map is a Gaussian stretched along each object (sigma L/8 along, w/4 across, at least
    CENTRE_SIGMA and 1.5 px): every pixel of a rod says how near its middle it is, a target a network
    learns far faster than a small spot it must place from both far ends. The orientation and size
    maps are taught over each object's body (the object whose axis is nearest where bodies overlap).
    """
    maps = np.zeros((len(HEADS),) + tuple(shape), np.float32)
    mask = np.zeros(shape, np.float32)
    nearest = np.full(shape, np.inf, np.float32)
    tip_points = np.concatenate([table[["y1", "x1"]].to_numpy(float), table[["y2", "x2"]].to_numpy(float)])
    maps[5] = gaussians(tip_points, shape, TIP_SIGMA)
    for row in table.itertuples(index=False):
        half = 0.5 * row.length + 2
        y0, y1 = max(int(np.floor(row.y - half)), 0), min(int(np.ceil(row.y + half)) + 1, shape[0])
        x0, x1 = max(int(np.floor(row.x - half)), 0), min(int(np.ceil(row.x + half)) + 1, shape[1])
        if y0 >= y1 or x0 >= x1:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        theta = np.radians(row.angle)
        along = (yy - row.y) * np.sin(theta) + (xx - row.x) * np.cos(theta)
        across = -(yy - row.y) * np.cos(theta) + (xx - row.x) * np.sin(theta)
        s_along, s_across = max(CENTRE_SIGMA, row.length / 8), max(1.5, row.width / 4)
        blob = np.exp(-0.5 * ((along / s_along) ** 2 + (across / s_across) ** 2)).astype(np.float32)
        window = (slice(y0, y1), slice(x0, x1))
        np.maximum(maps[0][window], blob, out=maps[0][window])
        radius = 0.5 * row.width
        axis_dist = np.hypot(np.clip(np.abs(along) - max(0.5 * row.length - radius, 0), 0, None), across)
        body = (axis_dist <= max(radius, REGRESSION_RADIUS)) & (axis_dist < nearest[window])
        nearest[window][body] = axis_dist[body]
        for k, value in ((1, np.cos(2 * theta)), (2, np.sin(2 * theta)), (3, np.log(row.length / LENGTH_UNIT)),
                         (4, np.log(row.width / WIDTH_UNIT))):
            maps[k][window][body] = value
        mask[window][body] = 1.0
    return maps, mask


def _read(maps: np.ndarray, heads: slice, peaks: np.ndarray) -> np.ndarray:
    """The ``heads``' values at each peak (heads x peaks), each the mean over the peak's 3x3 neighbourhood
    (clipped to the frame)."""
    h, w = maps.shape[1:]
    chosen = maps[heads]
    total = np.zeros((len(chosen), len(peaks)))
    for dy in (-1, 0, 1):
        ys = np.clip(peaks[:, 0] + dy, 0, h - 1)
        for dx in (-1, 0, 1):
            total += chosen[:, ys, np.clip(peaks[:, 1] + dx, 0, w - 1)]
    return total / 9.0


# A long rod whose middle lies outside the frame draws a centre map that rises up to the edge, so its
# peak sits on the edge; the table lists objects whose centre is in the image (as the generator's
# truth and trackpy's tables do). Measured on tuning images (seeds 950000+ and 960000+, the rods
# model shipped on 2026-12-03): 19 % of detections within 2 px of the edge were right against 53 % at
# 2-3 px and 89 % further in. Leaving out those within 2 px raised the rods' mean F1 0.874 -> 0.880
# (1 px: 0.875, 3 px: 0.878, 5 px: 0.867) but lowered the ellipsoids' 0.919 -> 0.917, short objects
# whose centres near the edge are mostly right; only objects of aspect 3 or more are left out
# (rods 0.880, ellipsoids 0.918; aspect 4: 0.878 / 0.919).
EDGE_MARGIN = 2.0
EDGE_MIN_ASPECT = 3.0


def decode(maps: np.ndarray, threshold: float = 0.4, min_distance: int = 2, frame: int = 0,
           use_tips: bool = True, merge: bool = True, along_axis: bool = True,
           drop_fragments: bool = True, merge_by_tips: bool = True, tips_move: bool = False,
           edge_margin: float = EDGE_MARGIN) -> pd.DataFrame:
    """One row per object (COLUMNS) from a model's maps (6, H, W) of one frame. The tips give the
    length and, with ``tips_move``, also the centre (their middle) and the angle (their direction).
    The centre stays at the centre map's peak by default: a tip pair that belongs partly to a
    touching or crossing rod moves a right centre off its rod. With the rods model shipped on
    2026-12-03 (and the one before it), keeping the centres gained 0.010-0.019 mean F1 on tuning
    images (seeds 950000+ and 960000+) and 0.006 on the benchmark's test images, with a better
    orientation p90 on average (results/anisotropic_tips.txt); with the first model it gained only
    0.003 on the test images, so the move was the default until then.

    The tips measure the objects that are left once pieces, duplicates and fragments are settled with
    the length the maps regress. Settling them with the tips' lengths (as before 2026-12-04 night: a tip
    pair that belongs partly to a crossing rod makes a piece look whole, or a whole rod look like a
    piece) gave 0.003 lower mean F1 on 96 tuning images (seeds 950000+ to 980000+; this order better in
    15 of 24 cells, worse in 7) at the same length and orientation errors (results/anisotropic_tips.txt).

    Objects of aspect EDGE_MIN_ASPECT or more whose centre lies within ``edge_margin`` px of the frame's
    edge are left out (see EDGE_MARGIN).

    Widths are the width head's, pulled toward WIDTH_UNIT (12 px objects read as about 10, 5 px ones as
    about 7); given the frame, :func:`rod_width.measure_widths` measures them in it."""
    peaks = find_peaks(maps[0], threshold, min_distance)
    if len(peaks) == 0:
        return empty_table()
    values = stencil_values(maps[0], peaks)
    centres, scores = refine(peaks, values), values[0].astype(float)
    cos2, sin2, log_length, log_width = _read(maps, slice(1, 5), peaks)
    angle = np.degrees(0.5 * np.arctan2(sin2, cos2))
    length = LENGTH_UNIT * np.exp(log_length)
    width = WIDTH_UNIT * np.exp(log_width)
    if along_axis:
        angle, length, width = read_along_axis(maps, centres, angle, length, width)
    length = np.maximum(length, width)
    objects = _select(~duplicates(centres, scores, angle, length, width), centres, scores, angle, length, width)
    if merge:
        objects = merge_pieces(maps[0], *objects, maps[5] if merge_by_tips else None)
    centres, scores, angle, length, width = objects
    if drop_fragments:
        objects = _select(~fragments(centres, angle, length, width), *objects)
        centres, scores, angle, length, width = objects
    centres, scores, angle, length, width = _select(~long_at_edge(centres, length, width, maps.shape[1:], edge_margin),
                                                    *objects)
    if use_tips:
        length, angle = refine_with_tips(maps[5], centres, angle, length, width, tips_move)
        length = np.maximum(length, width)
    columns = rod_columns(centres[:, 0], centres[:, 1], angle, length, width)
    return pd.DataFrame({"frame": np.full(len(scores), int(frame), dtype=np.int64), **columns, "score": scores},
                        columns=COLUMNS)


def _select(keep: np.ndarray, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    return tuple(a[keep] for a in arrays)


def long_at_edge(centres: np.ndarray, length: np.ndarray, width: np.ndarray, shape: tuple[int, int],
                 margin: float = EDGE_MARGIN) -> np.ndarray:
    """Mask of objects of aspect EDGE_MIN_ASPECT or more whose centre lies within ``margin`` px of the frame's edge."""
    h, w = shape
    edge = np.minimum.reduce([centres[:, 0], centres[:, 1], h - 1 - centres[:, 0], w - 1 - centres[:, 1]])
    return (edge < margin) & (length >= EDGE_MIN_ASPECT * width)


AXIS_AGREEMENT = 20.0  # degrees: orientation samples further off belong to a crossing rod


def read_along_axis(maps: np.ndarray, centres: np.ndarray, angle: np.ndarray, length: np.ndarray,
                    width: np.ndarray, rounds: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Orientation and sizes read along each object's axis instead of at its peak alone.

    The centre of a rod is where crossing rods most often lie over it, and one pixel there says little
    (measured on the benchmark's rods with the first shipped model: at the true centres the orientation
    map is off by 15-20 degrees at the 90th percentile, the length map by 40 % at the median). Along
    the middle half of the axis, samples that agree with the current estimate within AXIS_AGREEMENT
    degrees are averaged (doubled angles) and their log sizes take the median; twice, as the axis moves."""
    h, w = maps.shape[1:]
    angle, length, width = angle.copy(), length.copy(), width.copy()
    offsets = np.linspace(-1.0, 1.0, 9)
    for _ in range(rounds):
        theta = np.radians(angle)
        u = np.stack([np.sin(theta), np.cos(theta)], axis=1)
        reach = np.maximum(0.25 * (length - width), 0.0)  # the middle half of the straight part
        pts = centres[:, None, :] + (offsets[None, :, None] * reach[:, None, None]) * u[:, None, :]
        ys, xs = np.clip(pts[..., 0], 0, h - 1), np.clip(pts[..., 1], 0, w - 1)
        sample = [ndimage.map_coordinates(maps[k], [ys.ravel(), xs.ravel()], order=1).reshape(ys.shape)
                  for k in (1, 2, 3, 4)]
        doubled = np.degrees(np.arctan2(sample[1], sample[0]))
        agree = np.abs((doubled - 2 * angle[:, None] + 180.0) % 360.0 - 180.0) <= 2 * AXIS_AGREEMENT
        agree[:, len(offsets) // 2] = True  # the centre itself always counts
        c2 = np.where(agree, sample[0], 0.0).sum(axis=1)
        s2 = np.where(agree, sample[1], 0.0).sum(axis=1)
        angle = np.degrees(0.5 * np.arctan2(s2, c2))
        log_length = median_of_agreeing(sample[2], agree)
        log_width = median_of_agreeing(sample[3], agree)
        length, width = LENGTH_UNIT * np.exp(log_length), WIDTH_UNIT * np.exp(log_width)
    return angle, length, width


def median_of_agreeing(values: np.ndarray, agree: np.ndarray) -> np.ndarray:
    """Per row, the median of ``values`` where ``agree`` (at least one per row): NumPy's nanmedian of the
    others set to NaN, bit for bit, without its masked-array path (a tenth of a frame's decoding)."""
    ordered = np.sort(np.where(agree, values, np.nan), axis=1)  # NaN last
    count = agree.sum(axis=1)
    rows = np.arange(len(values))
    low, high = ordered[rows, (count - 1) // 2], ordered[rows, count // 2]
    return np.where(count % 2 == 1, high, (low + high) / 2)


def fragments(centres: np.ndarray, angle: np.ndarray, length: np.ndarray, width: np.ndarray,
              max_angle: float = 15.0) -> np.ndarray:
    """Mask of objects lying wholly inside a longer one along its axis (a piece of it, whatever its score).

    Measured on the benchmark's rods (first shipped model): 50-75 % of false positives were such
    pieces, their centres a quarter of the rod from its middle and half its length, beside a
    correct detection of the whole rod that :func:`duplicates` keeps because the piece scores higher."""
    drop = np.zeros(len(centres), bool)
    if len(centres) < 2:
        return drop
    order = np.argsort(-length)
    # Every object's neighbours in one query (as each one's own would list them): a query per object cost more.
    near = cKDTree(centres).query_ball_point(centres[order], 0.5 * length[order], return_sorted=False)
    for i, neighbours in zip(order.tolist(), near):
        if drop[i]:
            continue
        theta = np.radians(angle[i])
        u = np.array([np.sin(theta), np.cos(theta)])
        for j in neighbours:
            if j == i or drop[j] or length[j] > length[i] or angle_gap(angle[i], angle[j]) > max_angle:
                continue
            d = centres[j] - centres[i]
            along = abs(float(np.dot(d, u)))
            across = abs(float(-d[0] * u[1] + d[1] * u[0]))
            tol = 0.25 * width[i]
            if across <= max(0.5 * width[i], 2.0) and along + 0.5 * length[j] <= 0.5 * length[i] + tol:
                drop[j] = True
    return drop


# Below this share of the weaker piece's score, the centre map between two collinear pieces is background, as
# at every rod's tips (its target there is a Gaussian's tail: exp(-8) for rods of 16 px and more). With tips
# looked for there as well as at the pieces' ends (:func:`_tips_between`), the mean rods F1 of the shipped
# model (rods-long3) on benchmark-like tuning images (8 a cell, seeds 950000+, 990000+ and 1020000+) rose
# 0.8968 -> 0.8985, 0.8950 -> 0.8958 and 0.8942 -> 0.8948, no cell of the 18 lower (0.2: 0.8986, 0.8962,
# 0.8947; 0.5: 0.8982, 0.8949, 0.8951). Looked for there alone, not at the ends, it rose further (0.9008, 0.8967,
# 0.8980) but fell in 4 cells (by up to 0.006: rods lying over each other end to end were merged).
TIP_BACKGROUND = 0.3
# A long rod's flat centre ridge can sag between two of its peaks below the 0.8 of the weaker score that
# inside_tips asks of one rod (to 0.76-0.79 on lone 120-200 px rods), so that the piece stayed a row of its own
# (_sagging_ridge_of_one_rod). Such a piece is the rod's where it lies within PIECE_MAX_ANGLE of it, the ridge
# stays above TIP_BACKGROUND, and the strongest tip response that would end it (a faint one mid-rod: 0.30-0.33
# against the rod's 0.79-0.80) is below PIECE_TIP_SHARE of the rod's fainter tip. On the tuning seeds
# (950000-980000, 24 cells: rods model, detect_kind) that changed no cell; taken at TIP_BACKGROUND alone (as
# suggested), 3 cells lost F1 (up to 0.008: real rods lying against a longer one whose tips spanned both), and a
# share of 0.7 or up to 15 degrees (inside_tips' own) 2 cells (up to 0.004).
PIECE_TIP_SHARE = 0.5
PIECE_MAX_ANGLE = 5.0  # degrees


def _tips_between(tips: np.ndarray, centre_map: np.ndarray, background: float, a: np.ndarray, b: np.ndarray,
                  axis_a: np.ndarray, axis_b: np.ndarray, length_a: float, length_b: float) -> bool:
    """Whether the tip map shows a tip between pieces ``a`` and ``b`` (centres): near either of their facing
    ends as their lengths place them along ``axis_a``, or anywhere the centre map falls below ``background``
    on the way from either centre along its own axis to where the other lies along it.

    The ends hang on the lengths and centre peaks the network reads, and it reads them differently along the
    rows and along the columns: two 70 px bright-field rods 18 px apart tip to tip read 71 and 73 px long
    along the rows but 82 and 81 along the columns, two 100 px ones 78 px along the columns from peaks 20 px
    off their middles. Along the columns their ends fell inside the gap, 7-9 px from the tips, no tip was
    seen there and each pair was merged into one rod; along the rows they were two. The facing tips of two
    rods lie between their centres where the centre map falls to background, wherever the ends are placed;
    the ends still tell rods lying over each other end to end, whose map never falls that low."""
    sign = 1.0 if np.dot(b - a, axis_a) > 0 else -1.0
    ends = np.array([a + sign * 0.5 * length_a * axis_a, b - sign * 0.5 * length_b * axis_a])
    # A few pixels either way along the axis: the pieces' ends are estimates.
    near_ends = (ends[:, None, :] + np.arange(-3.0, 3.5, 1.0)[None, :, None] * axis_a).reshape(-1, 2).T
    walks = []
    for start, other, axis in ((a, b, axis_a), (b, a, axis_b)):
        reach = float(np.dot(other - start, axis))
        walks.append(start + (np.sign(reach) * np.arange(0.0, abs(reach), 0.5))[:, None] * axis)
    walked = np.concatenate(walks).T
    at_background = ndimage.map_coordinates(centre_map, walked, order=1, mode="nearest") < background
    points = np.concatenate([near_ends, walked[:, at_background]], axis=1)
    return bool(ndimage.map_coordinates(tips, points, order=1, mode="nearest").max() >= TIP_FLOOR)


def _crossing_rod(point: np.ndarray, own_angle: float, centres: np.ndarray, angle: np.ndarray, length: np.ndarray,
                  width: np.ndarray, alive: np.ndarray, tree, reach: float, exclude: tuple[int, ...]) -> int | None:
    """A live rod at least 25 degrees off ``own_angle`` whose straight body passes over ``point``, or None."""
    for k in tree.query_ball_point(point, reach):
        if k in exclude or not alive[k] or angle_gap(angle[k], own_angle) < 25:
            continue
        theta = np.radians(angle[k])
        d = point - centres[k]
        along = abs(d[0] * np.sin(theta) + d[1] * np.cos(theta))
        across = abs(-d[0] * np.cos(theta) + d[1] * np.sin(theta))
        if along < 0.5 * (length[k] - width[k]) and across < 0.5 * width[k] + 2.0:
            return int(k)
    return None


def merge_pieces(centre_map: np.ndarray, centres, scores, angle, length, width, tips: np.ndarray | None = None):
    """One rod from collinear pieces end to end along one axis: a long rod can draw a ridge of centre
    peaks, and a rod crossed by another is often cut there into two pieces (measured on the benchmark's
    rods with the first shipped model: most false positives were such halves). Pieces merge when the
    centre map joins them without a dip, when no tips face each other across a dip, or when another
    rod crosses where they meet."""
    alive, centres, length, width = merged_pieces(centre_map, centres, scores, angle, length, width, tips)
    return centres[alive], np.asarray(scores, float)[alive], np.asarray(angle, float)[alive], length[alive], width[alive]


def merged_pieces(centre_map: np.ndarray, centres, scores, angle, length, width, tips: np.ndarray | None = None,
                  max_angle: float = 8.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`merge_pieces` as (kept, centres, lengths, widths) of every object given: the pieces merged into
    another are not kept, the others hold the merged rods' centres and sizes. Pieces more than ``max_angle``
    degrees apart are never merged."""
    centres, scores, angle, length, width = (np.array(v, dtype=float, copy=True) for v in (centres, scores, angle, length, width))
    alive = np.ones(len(centres), bool)
    theta = np.radians(angle)  # merging never turns a piece
    axes = np.stack([np.sin(theta), np.cos(theta)], axis=1)
    changed = True
    while changed:
        changed = False
        ranked = np.argsort(-scores)
        order = ranked[alive[ranked]]
        if len(order) == 0:
            break
        tree = cKDTree(centres)
        reach = 0.5 * float(length.max(initial=0.0)) + float(width.max(initial=0.0))
        # Only pieces whose ends can meet: within half of both lengths and a width, and at most max_angle
        # off. All tested at once (this loop runs thousands of times a frame): an object's centre and length
        # change only in its own turn, after its query.
        near = tree.query_ball_point(centres[order], 0.5 * length[order] + reach, return_sorted=False)
        owner = np.repeat(np.arange(len(order)), [len(n) for n in near])
        flat = np.concatenate([np.asarray(n, dtype=int) for n in near])
        aligned = ~(angle_error(angle[order][owner], angle[flat]) > max_angle)
        candidates = np.split(flat[aligned], np.cumsum(np.bincount(owner[aligned], minlength=len(order)))[:-1])
        for i, partners in zip(order.tolist(), candidates):
            if not alive[i]:
                continue
            u = axes[i]
            for j in partners.tolist():
                if j == i or not alive[j] or not alive[i]:
                    continue
                d = centres[j] - centres[i]
                along = float(np.dot(d, u))
                across = abs(float(-d[0] * u[1] + d[1] * u[0]))
                gap = abs(along) - 0.5 * (length[i] + length[j])
                if across > 0.5 * max(width[i], width[j]) or abs(along) < 1:
                    continue
                sign = 1.0 if along > 0 else -1.0
                junction = 0.5 * (centres[i] + sign * 0.5 * length[i] * u + centres[j] - sign * 0.5 * length[j] * u)
                crossing = _crossing_rod(junction, angle[i], centres, angle, length, width, alive, tree, reach, (i, j))
                if crossing is not None:
                    # A rod crossing there explains both a dip and the gap (its width) between the pieces.
                    if gap > width[crossing] + 0.5 * max(width[i], width[j]):
                        continue
                else:
                    if gap > 0.5 * max(width[i], width[j]):
                        continue
                    steps = np.linspace(0, 1, max(int(abs(along)), 2))
                    pts = centres[i] + steps[:, None] * d
                    ridge = ndimage.map_coordinates(centre_map, pts.T, order=1, mode="nearest")
                    weaker = min(scores[i], scores[j])
                    if ridge.min() < 0.8 * weaker and (tips is None or _tips_between(
                            tips, centre_map, TIP_BACKGROUND * weaker, centres[i], centres[j], u, axes[j], length[i],
                            length[j])):
                        # The centre map dips between them and (where the tip map is given) tips mark the
                        # meeting ends: two rods.
                        continue
                ends = np.concatenate([centres[i] + np.array([-0.5, 0.5])[:, None] * length[i] * u,
                                       centres[j] + np.array([-0.5, 0.5])[:, None] * length[j] * u])
                t = (ends - centres[i]) @ u
                lo, hi = ends[np.argmin(t)], ends[np.argmax(t)]
                centres[i] = 0.5 * (lo + hi)
                length[i] = float(np.hypot(*(hi - lo)))
                width[i] = max(width[i], width[j])
                alive[j] = False
                changed = True
    return alive, centres, length, width


def duplicates(centres: np.ndarray, scores: np.ndarray, angle: np.ndarray, length: np.ndarray,
               width: np.ndarray) -> np.ndarray:
    """Mask of weaker peaks on the same object as a stronger one: inside its body (half its length
    along its axis, half its width across) and within 15 degrees of its angle (crossing rods differ)."""
    drop = np.zeros(len(centres), bool)
    if len(centres) < 2:
        return drop
    order = np.argsort(-scores)
    near = cKDTree(centres).query_ball_point(centres[order], 0.5 * length[order] + 1, return_sorted=False)
    for i, neighbours in zip(order.tolist(), near):
        if drop[i]:
            continue
        theta = np.radians(angle[i])
        for j in neighbours:
            if j == i or drop[j] or scores[j] > scores[i]:
                continue
            d = centres[j] - centres[i]
            along = abs(d[0] * np.sin(theta) + d[1] * np.cos(theta))
            across = abs(-d[0] * np.cos(theta) + d[1] * np.sin(theta))
            # Inside the stronger rod's body (a rod touching it end to end has its centre further out),
            # and either a second peak of the whole rod (about its length) or lying wholly within it: a
            # shorter rod at a slight angle whose body leaves the stronger one's is a rod of its own.
            if along < 0.5 * length[i] and across <= max(0.5 * width[i], 2.0) and angle_gap(angle[i], angle[j]) < 15:
                if length[j] >= 0.7 * length[i] or along + 0.5 * length[j] <= 0.5 * length[i] + 0.25 * width[i]:
                    drop[j] = True
    return drop


TIP_FLOOR = 0.3  # tip map value a tip must reach
TIP_SHARE = 0.5  # ... and this share of the strongest tip response along the walk (faint body responses are not tips)


def refine_with_tips(tips: np.ndarray, centres: np.ndarray, angle: np.ndarray, length: np.ndarray,
                     width: np.ndarray, move: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Length from the tip map (and with ``move``, ``centres`` changed in place to the middle between
    the tips, the angle theirs): from each centre, walk out along the rod's axis both ways and take
    the clear tip peaks on each side (which pair: _tip_pair). Tips are local, so this measures long rods
    as well as short ones; the regressed length bounds the walk and settles which tips where the nearest
    disagree with it."""
    length, angle = length.copy(), angle.copy()
    owners, refined = _agreeing_tips(tips, centres, angle, length, width)
    vec = refined[:, 1] - refined[:, 0]
    tip_length = np.hypot(vec[:, 0], vec[:, 1])
    middle = 0.5 * (refined[:, 0] + refined[:, 1])
    tip_angle = np.degrees(np.arctan2(vec[:, 0], vec[:, 1]))
    a = angle[owners]
    # The rod lies between its tips: a peak off its middle (long rods can draw two) moves there (with
    # ``move``), and two tips a rod length apart tell its angle (alone with ``move``, else with the map).
    length[owners] = tip_length
    turn = tip_length > 2 * width[owners]
    if move:
        centres[owners] = middle
        angle[owners[turn]] = tip_angle[turn]
    else:
        angle[owners[turn]] = _mean_orientation(a[turn], tip_angle[turn])
    return length, angle


def tip_ends(tips: np.ndarray, centres: np.ndarray, angle: np.ndarray, length: np.ndarray,
             width: np.ndarray) -> np.ndarray:
    """(N, 2, 2): each object's two tips (y, x) as :func:`refine_with_tips` finds them on the tip map, where
    they tell its length (NaN where they do not): the rod's own ends, wherever its centre peak lies."""
    owners, refined = _agreeing_tips(tips, centres, angle, length, width)
    ends = np.full((len(centres), 2, 2), np.nan)
    ends[owners] = refined
    return ends


def sharing_tips(ends: np.ndarray, scores: np.ndarray, width: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(drop, doubled): masks of the objects whose two tips (:func:`tip_ends`) are both a stronger object's, each
    within max(2 px, half the wider one's width), and of the stronger ones that had such a twin. A long rod
    draws a flat ridge on the centre map that can hold two peaks far apart, each read as a piece that the tips
    then measure whole: one rod listed twice. Rods lying side by side stay two: their tips are a width apart."""
    drop, doubled = np.zeros(len(ends), bool), np.zeros(len(ends), bool)
    found = np.flatnonzero(np.isfinite(ends).all(axis=(1, 2)))
    found = found[np.argsort(-scores[found], kind="stable")]
    e, w = ends[found], width[found]
    # Twins have a tip each within the widest reach: only those pairs are measured (all pairs at once took
    # 480 MB and seconds on 3,000 rods, a crowded 2048 px frame). The margin keeps pairs that the tree's
    # distance and np.hypot's round apart.
    widest = np.nanmax(w, initial=0.0)
    tree = cKDTree(e.reshape(-1, 2))
    close = tree.query_pairs(max(2.0, 0.5 * widest) * (1 + 1e-9) + 1e-9, output_type="ndarray") // 2
    close = np.unique(np.sort(close, axis=1), axis=0)
    k, m = close[close[:, 0] != close[:, 1]].T  # k before m: k the stronger (rows in falling score)
    same = np.hypot(*(e[k] - e[m]).transpose(2, 0, 1)).max(axis=1)
    flipped = np.hypot(*(e[k, ::-1] - e[m]).transpose(2, 0, 1)).max(axis=1)
    twin = np.minimum(same, flipped) <= np.maximum(2.0, 0.5 * np.maximum(w[k], w[m]))
    k, m = k[twin], m[twin]
    for first, last in zip(*_runs(k)):  # a dropped twin drops no others
        if not drop[found[k[first]]]:
            drop[found[m[first:last]]] = doubled[found[k[first]]] = True
    return drop, doubled


def _runs(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, stops) of the runs of equal values in ``sorted_keys``."""
    if not len(sorted_keys):
        return np.zeros(0, int), np.zeros(0, int)
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    return starts, np.r_[starts[1:], len(sorted_keys)].astype(int)


def inside_tips(ends: np.ndarray, centre_map: np.ndarray, centres: np.ndarray, scores: np.ndarray,
                angle: np.ndarray, length: np.ndarray, width: np.ndarray,
                max_angle: float = 15.0, tips: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(drop, doubled): masks of the objects without tips of their own (NaN in :func:`tip_ends`) that are a piece
    of another object, and of those others. A piece lies between the other's two tips along its axis (as in
    :func:`fragments`, but between the tips found, not about a centre peak that a long rod's flat ridge can place
    far off its middle; three quarters of its regressed length will do) and the centre map joins the two
    without a dip (as :func:`merge_pieces` tells one rod): two rods end to end dip where they meet. Given the
    ``tips`` map, a ridge that sags between them still joins them where :func:`_sagging_ridge_of_one_rod` tells
    one rod (the strongest tip response on the way between their centres as the piece's end)."""
    drop, doubled = np.zeros(len(ends), bool), np.zeros(len(ends), bool)
    tipped = np.flatnonzero(np.isfinite(ends).all(axis=(1, 2)))
    loose = np.setdiff1d(np.arange(len(ends)), tipped)
    loose = loose[np.isfinite(centres[loose]).all(axis=1)]  # a centre that is NaN lies inside nothing
    if len(tipped) == 0 or len(loose) == 0:
        return drop, doubled
    a, b = ends[tipped, 0], ends[tipped, 1]
    span = np.hypot(*(b - a).T)
    u = (b - a) / np.maximum(span, 1e-9)[:, None]
    half, tol = 0.25 * length[loose], 0.25 * width[tipped]
    beside = np.maximum(0.5 * width[tipped], 2.0)
    # Only loose centres near a tipped object's middle can lie between its tips (every pair at once took
    # 120 MB on 3,000 objects): within half its span and the tolerances along it, and ``beside`` across.
    behind = max(0.0, -float(np.nanmin(half, initial=0.0)))
    radius = np.hypot(0.5 * span + tol + behind, beside) * (1 + 1e-9) + 1e-9
    radius = np.where(np.isnan(radius), -1.0, radius)  # a NaN width: nothing lies within it
    near = cKDTree(centres[loose]).query_ball_point(0.5 * (a + b), radius, return_sorted=False)
    k = np.repeat(np.arange(len(tipped)), [len(n) for n in near])
    m = np.concatenate([np.asarray(n, dtype=int) for n in near])
    order = np.lexsort((m, k))  # the pairs in the order the checks below settle them: by tipped, then loose
    k, m = k[order], m[order]
    d = centres[loose[m]] - a[k]
    along = (d * u[k]).sum(axis=1)
    across = np.abs(d[:, 0] * u[k, 1] - d[:, 1] * u[k, 0])
    inside = ((along - half[m] >= -tol[k]) & (along + half[m] <= span[k] + tol[k]) & (across <= beside[k])
              & (angle_error(angle[loose[m]], angle[tipped[k]]) <= max_angle))
    for i, j in zip(tipped[k[inside]].tolist(), loose[m[inside]].tolist()):
        if drop[j]:
            continue
        weaker = min(scores[i], scores[j])
        if _joined(centre_map, centres[i], centres[j], weaker) or (tips is not None and _sagging_ridge_of_one_rod(
                centre_map, centres[i], centres[j], weaker, angle_gap(angle[i], angle[j]),
                _on_line(tips, centres[i], centres[j]).max(), _map_values(tips, ends[i]).min())):
            drop[j] = doubled[i] = True
    return drop, doubled


def _sagging_ridge_of_one_rod(centre_map: np.ndarray, rod: np.ndarray, piece: np.ndarray, weaker: float,
                              turn: float, piece_tip: float, rod_tip: float) -> bool:
    """Whether a piece lying between a rod's tips (centred at ``piece``, ``turn`` degrees off the rod, whose centre
    peak lies at ``rod``) is the rod's own where the centre map may sag between them: within PIECE_MAX_ANGLE of
    its axis, the strongest tip response that would end the piece (``piece_tip``) below PIECE_TIP_SHARE of the
    rod's fainter tip (``rod_tip``), and the centre map above TIP_BACKGROUND of the ``weaker`` score on the way
    (rods lying end to end, or over each other, show tips and background where they meet)."""
    return (turn <= PIECE_MAX_ANGLE and piece_tip < PIECE_TIP_SHARE * rod_tip
            and _joined(centre_map, rod, piece, weaker, TIP_BACKGROUND))


def _map_values(values: np.ndarray, points: np.ndarray) -> np.ndarray:
    """A map's ``values`` (the tip map's, or another's) at ``points`` (N, 2), interpolated."""
    return ndimage.map_coordinates(values, np.asarray(points, float).T, order=1, mode="nearest")


def _on_line(values: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A map's ``values`` about a pixel apart on the straight line from ``a`` to ``b`` (both ends included)."""
    steps = np.linspace(0, 1, max(int(np.hypot(*(b - a))), 2))
    return _map_values(values, a + steps[:, None] * (b - a))


def _joined(centre_map: np.ndarray, a: np.ndarray, b: np.ndarray, weaker: float, level: float = 0.8) -> bool:
    """Whether the centre map runs from ``a`` to ``b`` without falling below ``level`` of ``weaker`` (by default
    merge_pieces' dip)."""
    return bool(_on_line(centre_map, a, b).min() >= level * weaker)


def pieces_sharing_a_tip(ends: np.ndarray, tips: np.ndarray, centre_map: np.ndarray, centres: np.ndarray,
                         scores: np.ndarray, angle: np.ndarray, width: np.ndarray,
                         gone: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(drop, doubled): masks of the objects that are a piece of a longer one, and of those longer ones. A piece's
    tips (:func:`tip_ends`) both lie between the longer one's along its axis (:func:`_between_tips`), one of them
    that object's own (within max(2 px, half the wider one's width), as :func:`sharing_tips` tells a shared tip)
    and the other a faint one as :func:`_sagging_ridge_of_one_rod` tells it, which also settles the angle between
    them and the centre map's ridge. Objects ``gone`` (already dropped) hold nothing and are nobody's piece.

    A long rod's flat ridge can hold a second peak whose walk finds the rod's tip on one side and a faint tip
    response mid-rod on the other (0.33 on a 160 px fluorescent rod, against 0.8 at its tips): a piece with
    tips of its own, listed beside the whole rod. The ridge between the two peaks can sag (to 0.79 of the weaker
    score there, below :func:`inside_tips`' 0.8); two rods lying end to end fall to background where they meet."""
    drop, doubled = gone.copy(), np.zeros(len(ends), bool)
    found = np.flatnonzero(np.isfinite(ends).all(axis=(1, 2)) & ~gone)
    points, w = ends[found].reshape(-1, 2), width[found]  # tip 2k and 2k + 1 are found[k]'s
    span = np.hypot(*(points[1::2] - points[::2]).T)
    reach = max(2.0, 0.5 * float(np.nanmax(w, initial=0.0)))
    pairs = cKDTree(points).query_pairs(reach * (1 + 1e-9) + 1e-9, output_type="ndarray").reshape(-1, 2)
    gap = np.hypot(*(points[pairs[:, 0]] - points[pairs[:, 1]]).T)
    owners = pairs // 2
    pairs = pairs[(owners[:, 0] != owners[:, 1]) & (gap <= np.maximum(2.0, 0.5 * w[owners].max(axis=1)))]
    # The longer of each pair holds the shorter; the longest holders settle theirs first.
    flip = span[pairs[:, 0] // 2] < span[pairs[:, 1] // 2]
    pairs[flip] = pairs[flip, ::-1]
    strength = _map_values(tips, points).reshape(-1, 2)
    for holder_tip, piece_tip in pairs[np.argsort(-span[pairs[:, 0] // 2], kind="stable")].tolist():
        k, m = holder_tip // 2, piece_tip // 2
        i, j = int(found[k]), int(found[m])
        if drop[i] or drop[j] or not _between_tips(ends[i], ends[j], width[i]):
            continue
        if _sagging_ridge_of_one_rod(centre_map, centres[i], centres[j], min(scores[i], scores[j]),
                                     angle_gap(angle[i], angle[j]), strength[m, 1 - piece_tip % 2], strength[k].min()):
            drop[j] = doubled[i] = True
    return drop & ~gone, doubled


def _between_tips(holder: np.ndarray, piece: np.ndarray, width: float) -> bool:
    """Whether both tips of ``piece`` (2, 2) lie between the tips of ``holder`` along its axis, within a quarter
    of ``width`` beyond them and max(half of it, 2 px) beside (as :func:`inside_tips` places a piece)."""
    a, b = holder
    span = float(np.hypot(*(b - a)))
    u = (b - a) / max(span, 1e-9)
    d = piece - a
    along = d @ u
    across = np.abs(d[:, 0] * u[1] - d[:, 1] * u[0])
    tol = 0.25 * width
    return bool(np.all((along >= -tol) & (along <= span + tol) & (across <= max(0.5 * width, 2.0))))


def _agreeing_tips(tips: np.ndarray, centres: np.ndarray, angle: np.ndarray, length: np.ndarray,
                   width: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owners, tips (M, 2, 2)): the objects whose tip pair agrees with them (:func:`refine_with_tips`), and it."""
    # First the rough tip on each side of every rod (a walk each, all sampled at once), then all tips
    # refined at once.
    theta = np.radians(np.asarray(angle, float))
    axes = np.stack([np.sin(theta), np.cos(theta)], axis=1)
    steps, walks = _tip_walks(tips, centres, axes, length, width)
    found_peaks = walks.peaks(TIP_FLOOR, TIP_SHARE)
    owners, reaches = [], []  # the objects with tips found on both sides, and how far out they lie
    index = np.arange(max((len(t) for t in steps), default=0), dtype=float)
    lengths, widths = length.tolist(), width.tolist()
    for i, t in enumerate(steps):
        behind, ahead = found_peaks[2 * i], found_peaks[2 * i + 1]
        if behind and ahead:
            reaches.append(_tip_pair(np.interp(behind, index[: len(t)], t), np.interp(ahead, index[: len(t)], t),
                                     lengths[i], widths[i]))
            owners.append(i)
    owners = np.asarray(owners, dtype=int)
    back, ahead = np.asarray(reaches, dtype=float).reshape(-1, 2).T
    c, u = centres[owners], axes[owners]
    rough = np.stack([c - back[:, None] * u, c + ahead[:, None] * u], axis=1)
    refined = _tip_positions(tips, rough.reshape(-1, 2)).reshape(-1, 2, 2)
    vec = refined[:, 1] - refined[:, 0]
    tip_length = np.hypot(vec[:, 0], vec[:, 1])
    off_middle = 0.5 * (refined[:, 0] + refined[:, 1]) - centres[owners]
    tip_angle = np.degrees(np.arctan2(vec[:, 0], vec[:, 1]))
    agree = ((tip_length > 0.6 * width[owners]) & (np.hypot(off_middle[:, 0], off_middle[:, 1]) < 0.35 * tip_length)
             & (angle_error(tip_angle % 180, angle[owners] % 180) < 10))
    return owners[agree], refined[agree]


TIP_REACH = 6  # samples: a tip peak is the profile's maximum within this many either way


def _tip_walks(tips: np.ndarray, centres: np.ndarray, axes: np.ndarray, length: np.ndarray,
               width: np.ndarray) -> tuple[list[np.ndarray], Profiles]:
    """Per object, the steps (px) of its walk out along its axis ((sin, cos) of its angle, in ``axes``); and
    the tip map's profiles along the walks, behind then ahead of each object (the largest of three samples
    across the axis, 0 outside the frame): every walk's points made and interpolated at once."""
    h, w = tips.shape
    steps = [np.arange(max(0.25 * wd, 1.0), 1.2 * L + 12.0, 0.5) for L, wd in zip(length.tolist(), width.tolist())]
    if not steps:
        return [], Profiles.empty(tips.dtype, TIP_REACH)
    counts = np.array([len(t) for t in steps])
    owner = np.repeat(np.arange(len(steps)), counts)
    t = np.concatenate(steps)
    across = np.array([-1.0, 0.0, 1.0])
    normals = np.stack([-axes[:, 1], axes[:, 0]], axis=1)  # across the axis
    centres = np.asarray(centres, float)
    # Each coordinate (y, then x) of every point: behind, then ahead; per object, per step, 3 across.
    points = np.empty((2, 2, len(t), 3))
    for d in (0, 1):
        along = t * axes[owner, d]
        sideways = across[None, :] * normals[owner, d][:, None]
        np.add((centres[owner, d] - along)[:, None], sideways, out=points[d, 0])
        np.add((centres[owner, d] + along)[:, None], sideways, out=points[d, 1])
    points = points.reshape(2, -1)
    inside = (points[0] > -0.5) & (points[0] < h - 0.5) & (points[1] > -0.5) & (points[1] < w - 0.5)
    values = np.where(inside, ndimage.map_coordinates(tips, points, order=1, mode="nearest"), 0.0)
    behind, ahead = values.reshape(2, -1, 3).max(axis=2)
    return steps, Profiles.laid_out(behind, ahead, counts, TIP_REACH)


@dataclass(frozen=True)
class Profiles:
    """Many profiles laid end to end in one array, each followed by ``reach`` samples of -inf, so that one
    maximum filter over it finds every profile's own peaks (a peak's window never reaches the next one)."""

    flat: np.ndarray
    starts: np.ndarray
    counts: np.ndarray
    reach: int

    @classmethod
    def empty(cls, dtype, reach: int) -> Profiles:
        return cls(np.zeros(0, dtype), np.zeros(0, int), np.zeros(0, int), reach)

    @classmethod
    def laid_out(cls, behind: np.ndarray, ahead: np.ndarray, counts: np.ndarray, reach: int) -> Profiles:
        """Profiles behind and ahead of each object (``counts`` samples each, end to end in ``behind`` and
        ``ahead``) in the order behind 0, ahead 0, behind 1, ..."""
        both = np.repeat(counts, 2)
        starts = _starts(both, reach)
        flat = np.full(int(both.sum()) + reach * len(both), -np.inf, dtype=behind.dtype)
        for side, values in enumerate((behind, ahead)):
            flat[_sample_positions(starts[side::2], counts)] = values
        return cls(flat, starts, both, reach)

    def peaks(self, floor: float, share: float) -> list[list[float]]:
        """Per profile, the indices (subsample, by a parabola) of its values above max(``floor``, ``share`` of
        its largest) that are the maximum within ``reach``, in order."""
        if len(self.counts) == 0:
            return []
        largest = np.maximum.reduceat(self.flat, self.starts).astype(float)
        return self.peaks_above(np.maximum(floor, share * largest))

    def peaks_above(self, floors: np.ndarray) -> list[list[float]]:
        """As :meth:`peaks`, each profile's floor given."""
        if len(self.counts) == 0:
            return []
        flat, starts, counts, reach = self.flat, self.starts, self.counts, self.reach
        # In the profiles' own type: the parabola's arithmetic must be theirs (float32 from the maps).
        floor = np.full(len(flat), np.inf, dtype=flat.dtype)
        floor[_sample_positions(starts, counts)] = np.repeat(np.asarray(floors, dtype=float), counts).astype(flat.dtype)
        top = ndimage.maximum_filter1d(flat, 2 * reach + 1, mode="nearest")
        k = np.flatnonzero((flat > floor) & (flat >= top))
        owner = np.searchsorted(starts, k, side="right") - 1
        local = k - starts[owner]
        inner = (local > 0) & (local < counts[owner] - 1)
        a, b, c = flat[np.maximum(k - 1, 0)], flat[k], flat[k + 1]
        curvature = a - 2 * b + c
        bend = inner & (curvature < 0)
        shift = np.zeros(len(k))
        shift[bend] = 0.5 * (a[bend] - c[bend]) / curvature[bend]
        found = local + shift  # in profile order, as ``k`` is
        return [part.tolist() for part in np.split(found, np.searchsorted(owner, np.arange(1, len(counts))))]


def _starts(counts: np.ndarray, reach: int) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(counts + reach)[:-1]]).astype(int)


def _sample_positions(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Where in the flat array the samples of profiles starting at ``starts`` (``counts`` long) lie, in order."""
    return np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()))


def _mean_orientation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The mean of two orientations in degrees (doubled angles averaged), element by element. The orientation
    map read along the axis and the tips' direction err differently (a crossing rod bends the map; a tip a
    pixel off turns a short pair): on 96 tuning images (seeds 950000+ to 980000+) their mean lowered the median
    orientation error in all six cells (fluorescent 0.30: 1.51 -> 1.33 deg) and the 90th percentile in
    five (fluorescent 0.30: 7.30 -> 6.57; it rose in bright-field 0.30, 8.09 -> 8.54), against the map alone."""
    doubled_a, doubled_b = np.radians(2.0 * np.asarray(a, float)), np.radians(2.0 * np.asarray(b, float))
    return 0.5 * np.degrees(np.arctan2(np.sin(doubled_a) + np.sin(doubled_b), np.cos(doubled_a) + np.cos(doubled_b)))


def _tip_positions(tips: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The tip map's subpixel maximum within 2 px of each point (N, 2), all at once."""
    h, w = tips.shape
    if len(points) == 0:
        return points
    offsets = np.arange(-2, 3)
    ys = np.clip(np.rint(points[:, 0]).astype(int)[:, None, None] + offsets[None, :, None], 0, h - 1)
    xs = np.clip(np.rint(points[:, 1]).astype(int)[:, None, None] + offsets[None, None, :], 0, w - 1)
    ys, xs = np.broadcast_arrays(ys, xs)
    window = tips[ys, xs].reshape(len(points), -1)
    best = np.argmax(window, axis=1)
    peaks = np.stack([ys.reshape(len(points), -1)[np.arange(len(points)), best],
                      xs.reshape(len(points), -1)[np.arange(len(points)), best]], axis=1)
    return refine(peaks, stencil_values(tips, peaks))


# The nearest tip on each side is taken unless the pair is lopsided about the centre peak (by more than
# LOPSIDED_WIDTHS widths and LOPSIDED_SHARE of the length) or its length is more than LENGTH_DISAGREES off
# the regressed one; then the pair of tips found that is most even and closest to that length. The
# nearest tip is often a crossing rod's end or a dip at the crossing: on 96 tuning images (seeds
# 950000+ to 980000+, rods model of 2026-12-04) the median length error at area fraction 0.30 fell from
# 0.080 / 0.066 / 0.095 / 0.094 to 0.059 / 0.048 / 0.056 / 0.054 (fluorescent, per seed set), F1 unchanged
# (results/anisotropic_tips.txt).
LOPSIDED_WIDTHS, LOPSIDED_SHARE, LENGTH_DISAGREES = 0.5, 0.1, 0.3


def _tip_pair(back: np.ndarray, ahead: np.ndarray, length: float, width: float) -> tuple[float, float]:
    """Distances from the centre to the rod's two tips, from the candidate tips found behind and ahead
    (each nearest first) and the regressed ``length``."""
    a, b = back[0], ahead[0]
    even = abs(a - b) <= max(LOPSIDED_WIDTHS * width, LOPSIDED_SHARE * (a + b))
    if even and abs(a + b - length) <= LENGTH_DISAGREES * length:
        return float(a), float(b)
    cost = np.abs(back[:, None] - ahead[None, :]) + np.abs(back[:, None] + ahead[None, :] - length)
    i, j = np.unravel_index(np.argmin(cost), cost.shape)
    return float(back[i]), float(ahead[j])


def empty_table() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=int if c == "frame" else float) for c in COLUMNS})


def columns_read(columns: pd.Index) -> str:
    """What a table's header gave, for a refusal of its missing columns: a header of one column holding ';' or
    tabs is a file separated by them (Excel's CSV where a comma is the decimal mark), which reads as one column."""
    names = [str(c) for c in columns]
    hint = separator_hint(names)
    if hint:
        return hint
    return f" (its columns: {', '.join(names)})" if names else " (it has no columns)"


def separator_hint(names: list[str]) -> str:
    """:func:`columns_read`'s words for a header of one column holding ';' or tabs, else ''."""
    if len(names) == 1 and any(sep in names[0] for sep in (";", "\t")):
        sep = "';'" if ";" in names[0] else "tabs"
        return f" (its header reads as one column, {names[0][:60]!r}: separate its columns with commas, not {sep})"
    return ""


def whole_numbers(table: pd.DataFrame, source: str, columns: tuple[str, ...],
                  signed: tuple[str, ...] = ()) -> pd.DataFrame:
    """``table`` (numbers, as :func:`tables.numeric_columns` checked them) with those of ``columns`` it has
    (frame numbers, chain ids, bead indices) as int64, or one ParticleDetectError naming ``source``, the column
    and the first row holding anything but a whole number from 0 (of any sign in ``signed``): read as they were,
    frame 1.5 was scored as a frame of its own and chain 0.0 named so in messages."""
    present = [c for c in columns if c in table.columns]
    for column in present:
        values = table[column].to_numpy(float)
        bad = ~np.isfinite(values) | (values != np.round(values)) | ((values < 0) & (column not in signed))
        if bad.any():
            what = "whole numbers" if column in signed else "whole numbers from 0"
            raise ParticleDetectError(f"{source}: column {column} holds values that are not {what}"
                                      f"{first_bad_row(table[[column]], pd.DataFrame({column: bad}, table.index))}")
    return table.astype({c: "int64" for c in present}) if present else table


def refuse_infinite(table: pd.DataFrame, source: str, columns: tuple[str, ...]) -> None:
    """One ParticleDetectError naming ``source``, the column and the first row where one of ``columns`` holds an
    infinite number: it passed as a number, then failed later in words about another table or column."""
    for column in (c for c in columns if c in table.columns):
        bad = np.isinf(table[column].to_numpy(float))
        if bad.any():
            raise ParticleDetectError(f"{source}: column {column} holds infinite values"
                                      f"{first_bad_row(table[[column]], pd.DataFrame({column: bad}, table.index))}")


def check_table(table: pd.DataFrame, source: str, from_file: bool = False) -> pd.DataFrame:
    """A rods table with the right columns and values, or one ParticleDetectError naming ``source``, the column or
    row and the problem. An angle of 180 (Fit Ellipse in ImageJ gives [0, 180]) is read as 0, the same orientation;
    angles below 0 or beyond 180 are refused. A table of tips alone (y1, x1, y2, x2) is read with the centre,
    angle and length they give (:func:`from_tips`). ``from_file``: the table was read from the file ``source``
    names; taken for the kinds' one signature (kinds.registry), as no rods refusal differs by it."""
    table = from_tips(table, source)
    missing = [c for c in ("y", "x", "angle", "length") if c not in table.columns]
    if missing:
        hint = " (it looks like a chains table)" if {"chain", "index"} <= set(table.columns) else ""
        raise ParticleDetectError(f"{source}: not a rods table: no {', '.join(missing)} column{hint}"
                                  f"{columns_read(table.columns)}")
    given = [c for c in TIP_COLUMNS if c in table.columns]
    if len(given) == len(TIP_COLUMNS):
        table = _tips_of_rows_without_them(table)
    if 0 < len(given) < len(TIP_COLUMNS):
        # Else the tips given were replaced, without a word, by those of the centre, angle and length.
        raise ParticleDetectError(f"{source}: has tip column{'s' if len(given) > 1 else ''} {', '.join(given)} but no "
                                  f"{', '.join(c for c in TIP_COLUMNS if c not in given)}: give all four tips "
                                  "(y1, x1, y2, x2) or none (then drawn from the centre, angle and length)")
    table = numeric_columns(table, ("frame", "y", "x", "angle", "length", "width", "score") + TIP_COLUMNS, source,
                            gaps_allowed=("width", "score"))
    table = whole_numbers(table, source, ("frame",))
    refuse_infinite(table, source, ("y", "x", "angle", "length", "width") + TIP_COLUMNS)
    angle = table["angle"].to_numpy(float)
    bad = ~((angle >= 0) & (angle <= 180))
    if bad.any():
        row = int(np.argmax(bad))
        raise ParticleDetectError(f"{source}: angle {angle[row]:g} on row {row + 1} is out of range [0, 180) degrees "
                                  "(180 is read as 0); an orientation from -90 to 90 or from 0 to 360 is the same rod "
                                  "at angle % 180")
    for column in ("length", "width"):
        if column in table.columns:
            _refuse_not_positive(table[column].to_numpy(float), column, source)
    tips_given = set(TIP_COLUMNS) <= set(table.columns)
    if tips_given:
        check_tips(table, source)  # before 180 is read as 0: a refusal names the angle as the file gives it
    # Fit Ellipse (ImageJ) and others give [0, 180]: 180 is the orientation of 0.
    table = half_turned(table, angle == 180.0, 0.0).copy()
    if "width" not in table.columns:
        table["width"] = np.nan
    if "frame" not in table.columns:
        table.insert(0, "frame", 0)
    if not tips_given:
        full = rod_table(table["y"], table["x"], table["angle"], table["length"], table["width"])
        for c in TIP_COLUMNS:
            table[c] = full[c].to_numpy()
    return table


def _tips_of_rows_without_them(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with each row that leaves its four tips empty but gives its centre, angle and length given the tips
    these draw, as a table without tip columns is given them: a rod added by hand to a table with tips was refused
    as 'column y1 holds missing values'. Its angle of 180 is read as 0 here, so the tips drawn point along it."""
    measured = table[list(MEASURED_COLUMNS)].apply(pd.to_numeric, errors="coerce")
    rows = (table[list(TIP_COLUMNS)].isna().all(axis=1) & np.isfinite(measured.to_numpy(float)).all(axis=1)).to_numpy()
    if not rows.any():
        return table
    y, x, angle, length = (measured.loc[rows, c].to_numpy(float) for c in MEASURED_COLUMNS)
    angle = np.where(angle == 180.0, 0.0, angle)
    drawn = rod_columns(y, x, angle, length, np.full(len(y), np.nan))
    table = table.copy()
    table.loc[rows, "angle"] = angle  # out of range is refused after, as the row says it
    for column in TIP_COLUMNS:
        table.loc[rows, column] = drawn[column]
    return table


TIP_COLUMNS = ("y1", "x1", "y2", "x2")
# What a rods table gives of each rod besides its tips; a table of tips alone gives them by its tips.
MEASURED_COLUMNS = ("y", "x", "angle", "length")


def from_tips(table: pd.DataFrame, source: str) -> pd.DataFrame:
    """A table of tips alone (all of y1, x1, y2, x2, none of MEASURED_COLUMNS: ImageJ's line selections exported
    as CSV, refused before for want of columns it gives) with the centre at its tips' midpoint, the angle of
    their direction in [0, 180) (tip 2 - tip 1 along it, as every writer gives them) and the length from tip to
    tip (a line selection's length, which is what ``length`` means here); any other table as it is."""
    if not set(TIP_COLUMNS) <= set(table.columns):
        return table
    measured = [c for c in MEASURED_COLUMNS if c in table.columns]
    if measured:
        return _rows_from_tips(table, source, measured)
    table = numeric_columns(table, TIP_COLUMNS, source)
    refuse_infinite(table, source, TIP_COLUMNS)
    y1, x1, y2, x2 = (table[c].to_numpy(float) for c in TIP_COLUMNS)
    length = np.hypot(y2 - y1, x2 - x1)
    if (length == 0).any():
        row = int(np.argmax(length == 0))
        raise ParticleDetectError(f"{source}: the tips on row {row + 1} are one point ({y1[row]:g}, {x1[row]:g}); a "
                                  "rod's two tips lie apart")
    turn = np.degrees(np.arctan2(y2 - y1, x2 - x1))
    table = table.assign(y=0.5 * (y1 + y2), x=0.5 * (x1 + x2), angle=turn, length=length)
    backward = (turn < 0) | (turn >= 180)
    return half_turned(table, backward, np.mod(turn[backward], 180.0))


def _rows_from_tips(table: pd.DataFrame, source: str, measured: list[str]) -> pd.DataFrame:
    """``table`` with each row that gives its tips and leaves every one of ``measured`` (its columns of
    MEASURED_COLUMNS) empty measured from its tips, as :func:`from_tips` measures a table of tips alone: a rod added
    to a table by hand where its two ends were read off the image (a line drawn in ImageJ) was refused as 'column y
    holds missing values'. A row left empty in part is refused by the checks after, as before."""
    tips = table[list(TIP_COLUMNS)].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    rows = table[measured].isna().all(axis=1).to_numpy() & np.isfinite(tips).all(axis=1)
    if not rows.any():
        return table
    y1, x1, y2, x2 = tips[rows].T
    length = np.hypot(y2 - y1, x2 - x1)
    if (length == 0).any():
        row = int(np.flatnonzero(rows)[np.argmax(length == 0)])
        raise ParticleDetectError(f"{source}: the tips on row {row + 1} are one point ({tips[row, 0]:g}, "
                                  f"{tips[row, 1]:g}); a rod's two tips lie apart")
    turn = np.degrees(np.arctan2(y2 - y1, x2 - x1))
    table = table.copy()
    for column, values in zip(TIP_COLUMNS + MEASURED_COLUMNS, (y1, x1, y2, x2, 0.5 * (y1 + y2), 0.5 * (x1 + x2),
                                                               turn, length)):
        if column not in table.columns:
            table[column] = np.nan
        table.loc[rows, column] = values
    backward = rows.copy()
    backward[rows] = (turn < 0) | (turn >= 180)
    return half_turned(table, backward, np.mod(table.loc[backward, "angle"].to_numpy(float), 180.0))


TABLE_FLOAT_FORMAT = "%.3f"  # how rods and chains tables are written (kinds.registry.table_csv)


def as_written(table: pd.DataFrame, float_format: str = TABLE_FLOAT_FORMAT) -> pd.DataFrame:
    """``table`` with every angle that ``float_format`` would write as 180 (179.9995 and up, with three
    decimals; out of [0, 180), so refused when read back) turned to 0, the same rod, its tips swapped so
    that tip 2 - tip 1 still points along the angle. Other rows (and a table without angles) as they are."""
    if "angle" not in table.columns or not len(table):
        return table
    # The writer's own formatting decides (NumPy's rounding can differ from printf's in the last digit).
    written = np.char.mod(float_format, table["angle"].to_numpy(float)).astype(float)
    wraps = written >= 180.0
    return half_turned(table, wraps, written[wraps] % 180.0)


def half_turned(table: pd.DataFrame, rows: np.ndarray, angle: np.ndarray | float) -> pd.DataFrame:
    """``table`` with the rods of ``rows`` (a mask) given ``angle``, their orientation half a turn on (180 as 0),
    their tips swapped so that tip 2 - tip 1 still points along the angle; ``table`` itself where no row is."""
    if not rows.any():
        return table
    table = table.copy()
    table.loc[rows, "angle"] = angle
    if set(TIP_COLUMNS) <= set(table.columns):
        first = table.loc[rows, ["y1", "x1"]].to_numpy(copy=True)  # copies: the rows are overwritten in turn
        second = table.loc[rows, ["y2", "x2"]].to_numpy(copy=True)
        table.loc[rows, ["y1", "x1"]] = second
        table.loc[rows, ["y2", "x2"]] = first
    return table


def _refuse_not_positive(values: np.ndarray, column: str, source: str) -> None:
    """One ParticleDetectError naming the first row whose ``column`` (a rod's length or width) is zero or less
    (a width may be missing: not measured)."""
    bad = ~(values > 0) & ~(np.isnan(values) & (column == "width"))
    if bad.any():
        row = int(np.argmax(bad))
        raise ParticleDetectError(f"{source}: {column} {values[row]:g} on row {row + 1} is not positive")


# Tables are written with three decimals (TABLE_FLOAT_FORMAT): each coordinate is
# off by up to 0.0005 px, so the tips' distance by up to 0.0015 px (two tips, y and x, and the length
# itself) and their direction by up to 0.0015 px over the length. A hundredth of a pixel in length or
# centre, or a twentieth of a degree plus that rounding in direction, is several times the rounding and
# far below any real disagreement: beyond it, the tips are another rod than the centre, angle and length.
TIP_LENGTH_TOLERANCE = 0.01  # px
TIP_ANGLE_TOLERANCE = 0.05  # degrees, beyond the rounding of the tips' direction
TIP_ROUNDING = 0.0015  # px


def check_tips(table: pd.DataFrame, source: str) -> None:
    """One ParticleDetectError naming the first row whose tips (y1, x1, y2, x2) are another rod than its
    centre, angle and length say (tools read one or the other: encode draws the body from the centre and
    angle, the tips map from the tips), beyond the rounding of a table written with three decimals. The
    tips may be given either way round."""
    if not len(table):
        return
    y1, x1, y2, x2 = (table[c].to_numpy(float) for c in TIP_COLUMNS)
    angle, length = table["angle"].to_numpy(float), table["length"].to_numpy(float)
    centre = np.stack([table["y"].to_numpy(float), table["x"].to_numpy(float)], axis=1)
    tip_length = np.hypot(y2 - y1, x2 - x1)
    tip_angle = np.degrees(np.arctan2(y2 - y1, x2 - x1)) % 180.0
    turn_allowed = TIP_ANGLE_TOLERANCE + np.degrees(TIP_ROUNDING / np.maximum(tip_length, TIP_ROUNDING))
    off_centre = np.hypot(*(centre - 0.5 * np.stack([y1 + y2, x1 + x2], axis=1)).T)
    problems = (("length", np.abs(tip_length - length) > TIP_LENGTH_TOLERANCE),
                ("angle", angle_error(tip_angle, angle) > turn_allowed),
                ("centre", off_centre > TIP_LENGTH_TOLERANCE))
    found = [(int(np.argmax(bad)), name) for name, bad in problems if bad.any()]
    if not found:
        return
    row, name = min(found)  # the first row that disagrees
    said = {"length": f"length {tip_length[row]:.3f} px, not {length[row]:g}",
            "angle": f"angle {tip_angle[row]:.3f} degrees, not {angle[row]:g}",
            "centre": f"middle ({0.5 * (y1[row] + y2[row]):.3f}, {0.5 * (x1[row] + x2[row]):.3f}), not "
                      f"({centre[row, 0]:g}, {centre[row, 1]:g})"}[name]
    raise ParticleDetectError(f"{source}: row {row + 1}: its tips y1,x1,y2,x2 give {said}; make them agree "
                              "or leave out the tip columns")


@dataclass
class RodScores:
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    angle_median: float  # degrees, min(|d|, 180 - |d|)
    angle_p90: float
    length_error_median: float  # |predicted - true| / true
    width_error_median: float

    def to_dict(self) -> dict:
        return asdict(self)


def angle_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Orientation difference in degrees, min(|a - b|, 180 - |a - b|), for angles in [0, 180)."""
    d = np.abs(np.mod(np.asarray(a, float), 180.0) - np.mod(np.asarray(b, float), 180.0))
    return np.minimum(d, 180.0 - d)


def angle_gap(a: float, b: float) -> float:
    """:func:`angle_error` of two single angles, in plain floats (the same operations, so the same bits):
    the decoder compares thousands of pairs a frame, and NumPy's per-call cost was a tenth of its time."""
    d = abs(float(a) % 180.0 - float(b) % 180.0)
    return min(d, 180.0 - d)


def match_rods(predicted: pd.DataFrame, truth: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one matching of centres within max(3 px, a quarter of the true length) (pred, truth indices)."""
    p = predicted[["y", "x"]].to_numpy(float).reshape(-1, 2)
    t = truth[["y", "x"]].to_numpy(float).reshape(-1, 2)
    if len(p) == 0 or len(t) == 0:
        return np.zeros(0, int), np.zeros(0, int)
    reach = np.maximum(3.0, truth["length"].to_numpy(float) / 4)
    # Scale each truth's reach to 1: match within a per-object tolerance, nearest first.
    rows, cols = match(p, t, float(reach.max()))
    ok = np.hypot(*(p[rows] - t[cols]).T) <= reach[cols]
    if ok.all():
        return rows, cols
    # Rare: a match beyond its own object's reach; redo with only allowed pairs.
    from scipy.optimize import linear_sum_assignment

    dist = np.hypot(p[:, None, 0] - t[None, :, 0], p[:, None, 1] - t[None, :, 1])
    forbidden = dist > reach[None, :]
    r, c = linear_sum_assignment(np.where(forbidden, 1e6, dist - 1e3))
    keep = ~forbidden[r, c]
    return r[keep], c[keep]


def empty_errors() -> dict:
    """A fresh pool of matches and per-match errors for :func:`add_errors` (and :func:`scores_from`)."""
    return {"angle": [], "length": [], "width": [], "tp": 0, "fp": 0, "fn": 0}


# Angles are degrees in [0, 180). A table whose angles all lie within [0, pi] beside one whose angles pass
# DEGREES_BEYOND may be in radians; it is said to be where reading it so at least halves (RADIANS_GAIN) the
# matched rods' median angle error (near-horizontal rods a few degrees apart are no radians: read so, they err
# more). Scored as degrees, radians give angle errors of tens of degrees with nothing saying why.
DEGREES_BEYOND = 3.2
RADIANS_GAIN = 0.5


def _warn_of_radians(predicted: pd.DataFrame, truth: pd.DataFrame, errors: dict) -> None:
    """A warning (logging) naming the table whose angles look like radians beside the other's degrees, given
    ``errors``, the tables' :func:`_pooled_errors`."""
    if not errors["angle"]:
        return  # no matched rods: nothing to tell radians by
    for name, other in (("truth", "predicted"), ("predicted", "truth")):
        tables = {"predicted": predicted, "truth": truth}
        own, beside = np.abs(tables[name]["angle"].to_numpy(float)), np.abs(tables[other]["angle"].to_numpy(float))
        if own.max() > np.pi or beside.max() <= DEGREES_BEYOND:
            continue
        tables[name] = tables[name].assign(angle=np.degrees(tables[name]["angle"].to_numpy(float)))
        as_radians = _pooled_errors(tables["predicted"], tables["truth"])["angle"]
        if np.median(as_radians) <= RADIANS_GAIN * np.median(errors["angle"]):
            log.warning("%s: its rod angles all lie within [0, pi] (up to %.2f) while %s's reach %.1f: they look "
                        "like radians, and angles are degrees in [0, 180); convert them with numpy.degrees",
                        name, own.max(), other, beside.max())


def _pooled_errors(predicted: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """:func:`add_errors` of every frame of two checked rods tables."""
    errors = empty_errors()
    frames = sorted(set(predicted.get("frame", pd.Series([0]))) | set(truth.get("frame", pd.Series([0]))))
    for f in frames:
        p = predicted[predicted["frame"] == f] if "frame" in predicted else predicted
        t = truth[truth["frame"] == f] if "frame" in truth else truth
        add_errors(errors, p.reset_index(drop=True), t.reset_index(drop=True))
    return errors


def evaluate_rods(predicted: pd.DataFrame, truth: pd.DataFrame, border: float = 0.0,
                  shape: ImageShape | None = None) -> tuple[RodScores, dict]:
    """Pooled scores over frames, and the raw per-match errors (for pooling across images).

    Both are rods tables (``y, x, angle, length``, optionally ``frame``, ``width``; tables with a ``file``
    column scored file by file); a column missing or holding non-numbers is one ParticleDetectError
    naming the table (predicted or truth). Angles are degrees in [0, 180): a table whose angles look like
    radians beside the other's degrees (:func:`_warn_of_radians`) is scored as it is, with a warning (logging).

    ``border`` and ``shape`` as ``kinds.evaluation.evaluate_frames`` takes them: the rods centred within
    ``border`` px of the image edge are left out (synth draws rods centred outside the image, cut by its edge,
    and lists only those centred inside); a matched pair counts where its true rod's centre lies. The raw
    errors then gain ``left_out_truth`` and ``left_out_predicted``. Every frame of the truth is scored: of
    predictions of part of a stack the caller picks the truth's frames, as for ``evaluate_frames``."""
    predicted, truth, labels = checked_kind_tables(predicted, truth, "rods", check_table)
    kept = kept_within_border(predicted, truth, labels, match_rods, border, shape)
    if kept is not None:
        predicted, truth = predicted[kept[0]].reset_index(drop=True), truth[kept[1]].reset_index(drop=True)
    errors = _pooled_errors(predicted, truth)
    _warn_of_radians(predicted, truth, errors)
    if kept is not None:
        errors.update(left_out(kept))
    return scores_from(errors), errors


def cut_by_frame(table: pd.DataFrame, shape: tuple[int, int], margin: float = 1.0) -> np.ndarray:
    """Mask of objects with a tip outside the frame (or within ``margin`` px of its edge)."""
    h, w = shape
    ys, xs = table[["y1", "y2"]].to_numpy(float), table[["x1", "x2"]].to_numpy(float)
    return ((ys < margin) | (ys > h - 1 - margin) | (xs < margin) | (xs > w - 1 - margin)).any(axis=1)


def add_errors(errors: dict, predicted: pd.DataFrame, truth: pd.DataFrame,
               inside: tuple[int, int] | None = None) -> None:
    """Add one frame's matches and errors to ``errors``.

    ``inside``: the frame's shape, to score only objects wholly inside it. A rod cut by the frame edge
    shows only part of itself, so its true centre (off the visible part) cannot be found from the
    image; such rods and the detections matched to them count neither way, nor do unmatched
    detections that themselves reach the edge (as the sphere benchmarks score only centres away from
    the border)."""
    rows, cols = match_rods(predicted, truth)
    if inside is not None:
        cut_truth = cut_by_frame(truth, inside)
        ignored = np.zeros(len(predicted), bool)
        if len(predicted):
            ignored = cut_by_frame(predicted, inside)
            ignored[rows] = False  # a matched detection counts unless its rod is cut (next line)
        ignored[rows[cut_truth[cols]]] = True
        predicted = predicted[~ignored].reset_index(drop=True)
        truth = truth[~cut_truth].reset_index(drop=True)
        rows, cols = match_rods(predicted, truth)
    errors["tp"] += len(rows)
    errors["fp"] += len(predicted) - len(rows)
    errors["fn"] += len(truth) - len(rows)
    errors["angle"] += list(angle_error(predicted["angle"].to_numpy(float)[rows], truth["angle"].to_numpy(float)[cols]))
    tl = truth["length"].to_numpy(float)[cols]
    errors["length"] += list(np.abs(predicted["length"].to_numpy(float)[rows] - tl) / tl)
    if "width" in truth and "width" in predicted:
        tw = truth["width"].to_numpy(float)[cols]
        errors["width"] += list(np.abs(predicted["width"].to_numpy(float)[rows] - tw) / tw)


def scores_from(errors: dict) -> RodScores:
    def stat(values, q):
        values = np.asarray(values, float)
        values = values[np.isfinite(values)]
        return float(np.percentile(values, q)) if len(values) else float("nan")

    found = Counts(errors["tp"], errors["fp"], errors["fn"])
    return RodScores(found.tp, found.fp, found.fn, found.precision, found.recall, found.f1,
                     stat(errors["angle"], 50), stat(errors["angle"], 90), stat(errors["length"], 50),
                     stat(errors["width"], 50))


def truth_columns() -> list[str]:
    return list(ROD_COLUMNS)
