"""Widths of rods and ellipsoids measured in the image they were found in.

The rods model's ``log_width`` head is taught with a small weight and regresses toward WIDTH_UNIT (8 px):
on held-out generator images it read 12-14 px wide objects as 0.62-0.82 of their width and 4-6 px ones as
1.15-1.60 (median aspect errors of 19-28 %). The image itself says better: across the object's axis, at LINES
points along the middle half of its straight part (where decoding reads the maps), the distance between
the two points where the profile falls halfway from the object's peak to the background beside it (in
bright-field, to its dark rim); the median over the points, so that a rod crossing at one of them does
not count. That raw width depends on the look and the optics' blur (a fluorescent rod's rounded profile
falls to half inside its outline, blur widens thin objects, a bright-field core is narrower than its
rim): CALIBRATION maps it to the true width, the same measurement made on noise-free rods that the
generator draws with its default optics (:func:`calibration_raw_widths`).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import ndimage

from .rods import median_of_agreeing
from ..synthetic.rods import render_rods, rod_columns, rod_table
from ..synthetic.spheres import SynthConfig

LINES = 7  # profiles across the axis, spread over the middle half of the straight part
STEP = 0.75  # px between samples of a profile
# A profile reaches SPAN_FACTOR x the regressed width + SPAN_MARGIN px either side of the axis: past the
# edge of objects that the head reads as little as 0.55 of their width (ellipsoids 20 px wide), with room
# for the background or rim. Longer profiles, more of them (9) or samples closer together (0.5 px) cost
# 2-3 times as much and measured no better.
SPAN_FACTOR, SPAN_MARGIN = 1.0, 4.0
PEAK_REACH = 1.0  # px: the object's peak is looked for this near the decoded axis
# Walking out from the peak, a rise of RISE x the contrast so far (peak to lowest value, at least
# RISE_FLOOR of the whole walk's, so that noise on the object's top stops nothing) above the lowest value
# is a neighbour: the background (or bright-field rim) is what came before it.
RISE, RISE_FLOOR = 0.25, 0.5
# A side whose half-contrast point lies more than LOPSIDED x the other side's distance from the axis
# (plus LOPSIDED_PX) is a neighbour lying against the object without a dip between them: the width is
# then twice the near side's distance.
LOPSIDED, LOPSIDED_PX = 2.0, 2.0
MIN_LINES = 3  # profiles that must give a width, else the head's width stays
# A profile that dips beyond the edge below the background by more than RIM_UNDERSHOOT of the object's
# contrast (the median over a frame's objects) is bright-field: measured 0.92-1.54 on held-out generator
# images, 0.01-0.11 for fluorescent and opaque ones.
RIM_UNDERSHOOT = 0.5

# The true widths (px) at which the generator's rods were measured, and per look the raw width that
# :func:`raw_widths` gives them (:func:`calibration_raw_widths`, SynthConfig's default optics: blur sigma
# 1 px, fluorescent profile exponent 0.5, bright-field core 0.8 and rim -1.0 of width 0.25).
CALIBRATION_WIDTHS = (3.0, 3.5, 4.0, 4.5, 5.0, 6.0, 7.0, 8.0, 10.0, 12.0, 14.0, 17.0, 20.0, 24.0,
                      30.0, 40.0, 50.0)
CALIBRATION: dict[str, tuple[float, ...]] = {
    "fluorescent": (3.450, 3.654, 3.888, 4.144, 4.437, 5.118, 5.833, 6.606, 8.210, 9.863, 11.557, 14.126,
                    16.737, 20.206, 25.503, 34.257, 42.995),
    "opaque": (3.678, 3.941, 4.250, 4.628, 5.033, 5.895, 6.831, 7.807, 9.752, 11.714, 13.704, 16.672, 19.648,
               23.605, 29.574, 39.553, 49.543),
    "brightfield": (2.166, 2.300, 2.416, 2.645, 2.879, 3.355, 3.910, 4.509, 5.765, 7.041, 8.366, 10.363, 12.342,
                    14.970, 18.875, 25.392, 31.857),
}


def measure_widths(table: pd.DataFrame, image: np.ndarray) -> pd.DataFrame:
    """``table`` (rods.COLUMNS, one frame) with each object's width measured in ``image`` (2D, the frame
    as read, not inverted: dark objects are measured as opaque ones), and its length raised to its width
    where it is shorter (so its tips too). An object whose profiles give no width (too near the frame's
    edge, buried among others) keeps the width it had. Detection measures the axes first
    (rod_axis.measure_axes), so that the widths are measured across the axis the image shows."""
    if not len(table):
        return table
    y, x, angle, length, width = (table[c].to_numpy(float) for c in ("y", "x", "angle", "length", "width"))
    centres = np.stack([y, x], axis=1)
    profiles = sampled_profiles(np.asarray(image, np.float32), centres, angle, length, width)
    typical = median_over_lines(profiles)
    sign, look = frame_look(typical)
    measured = calibrated(raw_widths(sign * profiles, sign * typical), look)
    width = np.where(np.isfinite(measured), measured, width)
    table = table.assign(width=width)
    if (width > length).any():
        columns = rod_columns(y, x, angle, np.maximum(length, width), width)
        table = table.assign(**{c: columns[c] for c in ("length", "y1", "x1", "y2", "x2")})
    return table


def sampled_profiles(image: np.ndarray, centres: np.ndarray, angle: np.ndarray, length: np.ndarray,
                     guess: np.ndarray, lines: int = LINES, along_share: float = 0.25) -> np.ndarray:
    """Profiles across each object's axis (objects x ``lines`` x samples, STEP px apart, the middle sample on
    the axis), lightly smoothed; NaN outside the frame and beyond each object's own reach (SPAN_FACTOR x
    ``guess`` + SPAN_MARGIN). The lines lie evenly within ``along_share`` x the straight part (length -
    ``guess``) either side of the centre (:func:`line_positions`): 0.25, the middle half of it."""
    h, w = image.shape
    theta = np.radians(angle)
    span = SPAN_FACTOR * guess + SPAN_MARGIN
    half = int(np.ceil(span.max(initial=0.0) / STEP))
    across = STEP * np.arange(-half, half + 1, dtype=float)
    along = line_positions(length, guess, lines, along_share)
    # (y, x) = centre + along x (sin, cos) + across x (-cos, sin), per object, line and sample.
    ys = (centres[:, 0, None] + along * np.sin(theta)[:, None])[:, :, None] - across * np.cos(theta)[:, None, None]
    xs = (centres[:, 1, None] + along * np.cos(theta)[:, None])[:, :, None] + across * np.sin(theta)[:, None, None]
    values = ndimage.map_coordinates(image, [ys.ravel(), xs.ravel()], order=1, mode="nearest").reshape(ys.shape)
    padded = np.pad(values, ((0, 0), (0, 0), (1, 1)), mode="edge")
    values = 0.25 * padded[..., :-2] + 0.5 * padded[..., 1:-1] + 0.25 * padded[..., 2:]  # noise, not shape
    beyond = (ys < 0) | (ys > h - 1) | (xs < 0) | (xs > w - 1) | (np.abs(across) > span[:, None, None])
    values[beyond] = np.nan
    return values


def line_positions(length: np.ndarray, guess: np.ndarray, lines: int = LINES, along_share: float = 0.25) -> np.ndarray:
    """Where along each object's axis (px from its centre, objects x ``lines``) :func:`sampled_profiles` lays
    its lines."""
    reach = along_share * np.maximum(length - guess, 0.0)
    return np.linspace(-1.0, 1.0, lines)[None, :] * reach[:, None]


def median_over_lines(profiles: np.ndarray) -> np.ndarray:
    """Each object's median profile (objects x samples) over its lines, NaN where no line has a sample:
    the highest and lowest samples of one noisy profile lie beyond its peak and background (levels read
    on single profiles widened 4-5 px rods by 4-7 % at the generator's default 500 photons, against 2-3 %),
    and a crossing rod is on a few lines only."""
    n, lines, samples = profiles.shape
    rows = np.moveaxis(profiles, 1, 2).reshape(-1, lines)
    return median_of_agreeing(rows, np.isfinite(rows)).reshape(n, samples)


def frame_look(typical: np.ndarray) -> tuple[float, str]:
    """(1 for bright objects or -1 for dark ones, the look whose calibration measures them) from a frame's
    median profiles (:func:`median_over_lines`): dark ones are opaque, bright ones fluorescent, either
    with a dark rim beyond the edge bright-field."""
    offset = STEP * np.abs(np.arange(typical.shape[1]) - typical.shape[1] // 2)
    inside = np.isfinite(typical)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # objects with no sample in the frame
        reach = np.max(np.where(inside, offset, 0.0), axis=1, keepdims=True)
        centre = np.nanmean(np.where(offset <= PEAK_REACH, typical, np.nan), axis=1)
        outer = np.nanmean(np.where(offset >= 0.75 * reach, typical, np.nan), axis=1)
        sign = -1.0 if np.nanmedian(centre - outer) < 0 else 1.0
        lowest = np.nanmin(np.where(offset < 0.75 * reach, sign * typical, np.nan), axis=1)
        undershoot = (sign * outer - lowest) / np.maximum(sign * (centre - outer), 1e-12)
        rim = np.nanmedian(undershoot) > RIM_UNDERSHOOT
    return sign, ("brightfield" if rim else "fluorescent" if sign > 0 else "opaque")


def raw_widths(profiles: np.ndarray, typical: np.ndarray) -> np.ndarray:
    """Per object, the median over its profiles (objects x lines x samples, its objects bright) of the
    distance between the points either side of the axis where the profile falls halfway from the
    object's peak to the background (px), both levels read on its median profile ``typical``; NaN where
    fewer than MIN_LINES profiles give one."""
    distance = half_level_distances(profiles, typical)
    near_side = np.fmin(distance[0], distance[1])
    widths = np.where(lopsided(distance), 2.0 * near_side, distance[0] + distance[1])
    counted = np.isfinite(widths)
    return np.where(counted.sum(axis=1) >= MIN_LINES, median_of_agreeing(widths, counted), np.nan)


def half_level_distances(profiles: np.ndarray, typical: np.ndarray, peak_reach: float = PEAK_REACH) -> np.ndarray:
    """Per side of the axis (side x objects x lines: the side of negative offsets first), the distance (px)
    from the decoded axis to where each profile (its objects bright) falls halfway from the object's peak
    (looked for within ``peak_reach`` px of the axis) to the background, both levels read on its median
    profile ``typical``; NaN where a neighbour or the profile's end comes first."""
    peak, walks, ahead = _walks_out(typical[:, None, :], peak_reach)
    valley = np.where(ahead, np.minimum.accumulate(walks, axis=-1), np.inf).min(axis=-1).min(axis=0)
    level = (0.5 * (peak + valley))[..., None]  # the background's side, not a neighbour's
    _, walks, ahead = _walks_out(profiles, peak_reach)
    below = ahead & (walks < level)
    first = np.argmax(below, axis=-1)[..., None]
    found = below.any(axis=-1) & (first[..., 0] > 0)
    before = np.take_along_axis(walks, np.maximum(first - 1, 0), axis=-1)
    after = np.take_along_axis(walks, first, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        crossing = (first - 1 + np.clip((before - level) / (before - after), 0.0, 1.0))[..., 0]
    return np.where(found, STEP * crossing, np.nan)  # from the decoded axis, each side


def lopsided(distance: np.ndarray) -> np.ndarray:
    """Where a profile's far side (:func:`half_level_distances`) lies beyond LOPSIDED x its near side's
    distance + LOPSIDED_PX, or only one side was found: a neighbour against the object on the far side."""
    near_side, far_side = np.fmin(distance[0], distance[1]), np.fmax(distance[0], distance[1])
    return (far_side > LOPSIDED * near_side + LOPSIDED_PX) | (np.isnan(distance[0]) != np.isnan(distance[1]))


def _walks_out(profiles: np.ndarray, peak_reach: float = PEAK_REACH) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The peak of each profile (its highest sample within ``peak_reach`` px of the axis), the walks out from
    the axis to either side (side x ... x step, the first at the axis; -inf where the profile ends, the
    peak's value up to the peak on its own side), and which of their steps come before a neighbour or
    the profile's end stops them."""
    middle = profiles.shape[-1] // 2
    reach = int(peak_reach / STEP)
    near = profiles[..., middle - reach : middle + reach + 1]
    peak_at = np.argmax(np.where(np.isfinite(near), near, -np.inf), axis=-1)[..., None] - reach
    peak = np.take_along_axis(near, peak_at + reach, axis=-1)
    walks = np.stack([profiles[..., middle::-1], profiles[..., middle:]])
    steps = np.arange(middle + 1)
    walks = np.where(steps < np.stack([-peak_at, peak_at]), peak, walks)  # not lower than the peak before it
    walks[np.isnan(walks)] = -np.inf
    lowest = np.minimum.accumulate(np.where(np.isinf(walks), np.inf, walks), axis=-1)
    contrast = np.maximum(peak - lowest, RISE_FLOOR * (peak - lowest[..., -1:]))
    stopped = np.isinf(walks) | (walks - lowest > RISE * contrast)
    ahead = np.cumsum(stopped, axis=-1) == 0
    return peak[..., 0], walks, ahead


def calibrated(raw: np.ndarray, look: str) -> np.ndarray:
    """True widths (px) for ``raw`` widths of objects in ``look``; NaN outside the calibrated range."""
    measured = np.asarray(CALIBRATION[look], float)
    inside = (raw >= measured[0]) & (raw <= measured[-1])
    return np.where(inside, np.interp(raw, measured, CALIBRATION_WIDTHS), np.nan)


def calibration_raw_widths(look: str, rods_per_width: int = 8) -> np.ndarray:
    """The raw width (:func:`raw_widths`) of noise-free rods of each of CALIBRATION_WIDTHS that the
    generator draws in ``look`` with its default optics: the mean over ``rods_per_width`` rods at angles
    and pixel phases spread over their range (pixel sampling moves a thin rod's edges)."""
    angles = (np.arange(rods_per_width) + 0.5) * 180.0 / rods_per_width
    phases = np.linspace(0.0, 1.0, rods_per_width, endpoint=False)
    raw = []
    for width in CALIBRATION_WIDTHS:
        length = width + 16.0
        cell = int(np.ceil(length + 2 * width + 20))
        ys = cell / 2 + phases
        xs = cell / 2 + cell * np.arange(rods_per_width) + phases[::-1]
        optics = SynthConfig(shape=(cell, cell * rods_per_width), look=look, brightness_spread=0.0)
        rods = rod_table(ys, xs, angles, np.full(rods_per_width, length), np.full(rods_per_width, width))
        signal = render_rods(optics, rods, "rods", np.random.default_rng(0))  # opaque: darkness, so bright
        centres = np.stack([ys, xs], axis=1)
        guess = np.full(rods_per_width, width)
        profiles = sampled_profiles(signal.astype(np.float32), centres, angles, np.full(rods_per_width, length), guess)
        raw.append(float(np.mean(raw_widths(profiles, median_over_lines(profiles)))))
    return np.array(raw)
