"""Rods' axes measured in the image they were found in, and their lengths re-read along them.

The rods model's orientation maps are biased in the network's own frame: a rod lying along the rows
reads about 5 degrees off (the shipped model: -5.8 at 0 degrees, +1.6 at 90, +3.6 at 45 at the true
centre; the four checkpoints before it in weights/history: -2.7 to -7.6 at 0 degrees). Flipping the
image flips the error with it, so it is learnt, not drawn: the training's flips and rotations turn the
(cos 2θ, sin 2θ) targets correctly (its tips move with the image and the angle is rebuilt from them).
Decoding inherits it (4-5 degrees at 0 and 178 degrees, 1.5 at 45, on isolated 80-110 px rods), and the
tip walk along that axis misses tips 40 px out, so the length falls back on the regressed one (6-11 %
short).

The image says better, as it does for widths (:mod:`rod_width`): across the axis, at AXIS_LINES points
along the rod, the middle between the two points where the profile falls halfway to the background is
where the axis really lies; a line through those middles, fitted again without the points more than
OUTLIER_PX off it (a crossing rod, a neighbour against it), turns the axis. The tip map is then walked
again along the turned axis for the length (:func:`rods.refine_with_tips`).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import ndimage

from . import rods
from .rod_width import (frame_look, half_level_distances, line_positions, lopsided, median_over_lines,
                        sampled_profiles)
from ..synthetic.rods import rod_columns

# Measured on 18 benchmark-like images (benchmark_rod_config, 3 looks x area fractions 0.15 / 0.30,
# seeds 470000+, apart from the benchmark's own), against the head's angle (mean over the 6 cells:
# median error 1.15 degrees, 90th percentile 5.41):
# * lines over 0.45 of the straight part either side of the centre (AXIS_SHARE): median 0.49 / p90 4.99
#   with 11 lines; over 0.35 the lever is shorter (0.60 / 5.41);
# * 15 lines (AXIS_LINES), of which at least 7 (MIN_AXIS_LINES) left after the outliers, a slope whose
#   standard error is at most MAX_SLOPE_ERROR and points more than 0.5 px off the fit (OUTLIER_PX) left
#   out: 0.43 / 4.58 (0.75 px, 11 lines, 5 left, no standard error: 0.49 / 4.99);
# * turns beyond MAX_TURN are a neighbour's pull, not the bias (6 degrees: 0.49 / 5.16; 8: 0.49 / 5.10).
AXIS_LINES = 15
AXIS_SHARE = 0.45
MIN_AXIS_LINES = 7
OUTLIER_PX = 0.5
MAX_SLOPE_ERROR = 1.0  # degrees
MAX_TURN = 10.0  # degrees
# The profile's peak is looked for this share of the frame's median width either side of the decoded axis:
# 5 degrees off, the axis of an 80 px rod lies 3 px from its ends' lines (the widths' PEAK_REACH is 1 px).
PEAK_REACH_SHARE = 0.5
# A lopsided line (rod_width.lopsided) whose width lies this near the object's median one is the object's own,
# seen from an axis off its middle, not a neighbour's pull (which widens the far side by a width).
WIDTH_AGREEMENT_PX = 1.5
# ... looked for on rods whose outermost lines lie this far from the centre or more (a straight part of 44 px): the
# heads' bias of about 5 degrees lies 1.75 px off there, where lopsided starts to leave out a 7 px rod's own lines.
LONG_LEVER_PX = 20.0
# The frame's look (rod_width.frame_look) is read on the median of the middle TYPICAL_LINES lines only: a long rod
# read 5 degrees off lies 6 px off the axis at its outermost lines, and the median over all of them smeared a
# bright-field rod's dark rims over its bright core, so that a frame of few rods was read as one of dark rods (every
# line then one-sided: no turn, lone 120-160 px rods along the rows left 3.5-5.4 degrees off and up to 6 % off in
# length). The half levels stay read on every line: read on the middle ones too, the tuning seeds' orientation p90
# rose in 10 of 24 cells; the look alone read there changed none.
TYPICAL_LINES = 7
# The tip walk reaches 1.2 x the regressed length + 12 px, and the length head saturates at about 60-100 px: the
# tips of a 200 px rod lie beyond it, and a faint tip response all along its body (0.25-0.32 against 0.8 at
# its tips) took their place (the rod read 54 px long), or none was found (a bright-field rod split in two
# pieces without tips, listed twice). The centre map's ridge runs out to near the tips: where it runs beyond an
# object's length (its tips' or else the regressed one) by more than RIDGE_MARGIN widths, its tips are looked
# for again along the ridge's length (_tips_along_ridges), for rods of aspect RIDGE_MIN_ASPECT or more whose tips
# were not found or are fainter than RIDGE_FAINT. On the tuning seeds (950000-980000, 24 cells) the median
# length error fell in 8 cells (by up to 0.0027) and F1 rose in 3, no cell worse; without the aspect a 14 px
# rod whose ridge ran into a neighbour's was read 69 px long (980000 opaque 0.30 length error 0.0605 -> 0.0639),
# and a margin of 3 or 4 widths left that cell worse too.
RIDGE_MARGIN = 2.0
RIDGE_FAINT = 0.5
RIDGE_MIN_ASPECT = 3.0
RIDGE_REACH = 3.0  # ridges are followed up to this many times the longest object's regressed length either way
# Pieces without tips are merged (_loose_pieces_merged) only this near in angle: two pieces of one rod, each
# measured to within MAX_SLOPE_ERROR, agree to within twice that (the long rods' pieces lay 0.1-0.3 degrees
# apart). At merge_pieces' 8 degrees it joined pieces cut by the frame's edge that were two rods 3-8 degrees
# apart (tuning seeds 950000-980000, 32 images a cell: 6 rods lost, F1 below stop 54's at bright-field 0.30);
# at 2-3 degrees no tuning image changed against no merge at all, and the long-rod sweeps changed no row.
LOOSE_MAX_ANGLE = 2.0 * MAX_SLOPE_ERROR  # degrees


def measure_axes(table: pd.DataFrame, image: np.ndarray, maps: np.ndarray) -> pd.DataFrame:
    """``table`` (rods.COLUMNS, one frame, in the pixels of ``maps``, the model's maps of ``image``) with each
    object's angle measured in ``image`` (2D, as read) where its profiles tell it (:func:`axis_turns`), and its
    length (and so its tips) read again from the tip map along that axis. Objects whose profiles tell no
    axis (too near the frame's edge, buried among others, short) keep their angle. A long rod read as two
    peaks of its flat centre ridge (one sharing its tips, or a piece between them: rods.sharing_tips,
    rods.inside_tips, rods.pieces_sharing_a_tip; or two pieces without tips of their own:
    :func:`_loose_pieces_merged`) is one row,
    centred between its tips."""
    if not len(table):
        return table
    y, x, angle, length, width = (table[c].to_numpy(float) for c in ("y", "x", "angle", "length", "width"))
    centres = np.stack([y, x], axis=1)
    angle = angle + np.nan_to_num(axis_turns(np.asarray(image, np.float32), centres, angle, length, width))
    # A scores-less table (drawn by hand, or a truth): its rows are then equals, the first kept.
    scores = table["score"].to_numpy(float) if "score" in table else np.ones(len(table))
    # The angle stays the image's: averaged with the tips' direction as decode does, the median error rose
    # 0.48 -> 0.77 degrees (the 18 images above), the p90 4.92 -> 5.55. The length is the tips' distance,
    # as rods.refine_with_tips reads it.
    ends = rods.tip_ends(maps[rods.HEADS.index("tips")], centres, angle, length, width)
    kept, centres, length, ends = _loose_pieces_merged(maps, ends, centres, scores, angle, length, width)
    table, scores, angle, width = table[kept].reset_index(drop=True), scores[kept], angle[kept], width[kept]
    ends = _tips_along_ridges(maps, ends, centres, scores, angle, length, width)
    y, x = centres[:, 0], centres[:, 1]
    tip_length = np.hypot(*(ends[:, 1] - ends[:, 0]).T)
    length = np.where(np.isfinite(tip_length), tip_length, length)
    drop, doubled = rods.sharing_tips(ends, scores, width)
    centre_map = maps[rods.HEADS.index("centre")]
    pieces, holding = rods.inside_tips(ends, centre_map, centres, scores, angle, length, width,
                                       tips=maps[rods.HEADS.index("tips")])
    tipped_pieces, tipped_holding = rods.pieces_sharing_a_tip(
        ends, maps[rods.HEADS.index("tips")], centre_map, centres, scores, angle, width, drop)
    drop = drop | pieces | tipped_pieces
    doubled = (doubled | holding | tipped_holding) & ~drop
    # Two peaks on one rod: the centre map cannot tell where its middle is, and its tips can.
    y, x = np.where(doubled, ends[:, :, 0].mean(axis=1), y), np.where(doubled, ends[:, :, 1].mean(axis=1), x)
    columns = rod_columns(y, x, angle, np.maximum(length, width), width)
    measured = table.assign(**{c: columns[c] for c in ("y", "x", "angle", "length", "y1", "x1", "y2", "x2")})
    return measured[~drop].reset_index(drop=True)


def _tips_along_ridges(maps: np.ndarray, ends: np.ndarray, centres: np.ndarray, scores: np.ndarray,
                       angle: np.ndarray, length: np.ndarray, width: np.ndarray) -> np.ndarray:
    """``ends`` (rods.tip_ends) with the tips of long objects whose centre ridge (:func:`ridge_lengths`) runs
    RIDGE_MARGIN widths beyond their length and whose tips were not found or are faint (see RIDGE_MARGIN) looked
    for again with the ridge's length, where found so."""
    tips = maps[rods.HEADS.index("tips")]
    found = np.isfinite(ends).all(axis=(1, 2))
    strength = ndimage.map_coordinates(tips, np.nan_to_num(ends).reshape(-1, 2).T, order=1, mode="nearest")
    faint = strength.reshape(-1, 2).min(axis=1) < RIDGE_FAINT
    doubtful = np.flatnonzero((~found | faint) & (length >= RIDGE_MIN_ASPECT * width))
    reach = np.where(found, np.hypot(*(ends[:, 1] - ends[:, 0]).T), length)[doubtful]
    ridge = ridge_lengths(maps[rods.HEADS.index("centre")], centres[doubtful], scores[doubtful], angle[doubtful],
                          length[doubtful])
    beyond = ridge > reach + RIDGE_MARGIN * width[doubtful]
    again, ridge = doubtful[beyond], ridge[beyond]
    if not len(again):
        return ends
    retried = rods.tip_ends(tips, centres[again], angle[again], ridge, width[again])
    ends = ends.copy()
    ends[again] = np.where(np.isfinite(retried).all(axis=(1, 2))[:, None, None], retried, ends[again])
    return ends


def ridge_lengths(centre_map: np.ndarray, centres: np.ndarray, scores: np.ndarray, angle: np.ndarray,
                  length: np.ndarray) -> np.ndarray:
    """Per object, the length (px) of its centre map's ridge along its axis: from its centre both ways to where the
    map first falls below rods.TIP_BACKGROUND of its score (or the frame ends), followed up to RIDGE_REACH x its
    ``length`` either way."""
    theta = np.radians(angle)
    u = np.stack([np.sin(theta), np.cos(theta)], axis=1)
    steps = np.arange(0.0, RIDGE_REACH * float(np.max(length, initial=0.0)) + 1.0)
    beyond_reach = steps[None, :] > RIDGE_REACH * length[:, None]
    total = np.zeros(len(centres))
    for sign in (-1.0, 1.0):
        points = centres[:, None, :] + sign * steps[None, :, None] * u[:, None, :]
        values = ndimage.map_coordinates(centre_map, points.reshape(-1, 2).T, order=1, mode="constant")
        below = (values.reshape(len(centres), len(steps)) < rods.TIP_BACKGROUND * scores[:, None]) | beyond_reach
        total += np.where(below.any(axis=1), np.argmax(below, axis=1), len(steps))
    return total


def _loose_pieces_merged(maps: np.ndarray, ends: np.ndarray, centres: np.ndarray, scores: np.ndarray,
                         angle: np.ndarray, length: np.ndarray,
                         width: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(kept, centres, lengths, ends) of the objects kept once the pieces without tips of their own (NaN in
    ``ends``, rods.tip_ends) are merged along their measured axes (rods.merged_pieces), the merged ones' tips
    looked for again. Two peaks of a long rod's flat centre ridge, each read as a piece of it along the heads'
    biased axis, lie a width apart across it 90 px away, so decoding kept them apart: a 200 px rod listed twice.
    Merging every object again (not only those without tips) raised the orientation p90 in crowded frames."""
    kept = np.ones(len(centres), bool)
    loose = np.flatnonzero(~np.isfinite(ends).all(axis=(1, 2)))
    if len(loose) < 2:
        return kept, centres, length, ends
    centres, length, ends = centres.copy(), length.copy(), ends.copy()
    alive, centres[loose], length[loose], _ = rods.merged_pieces(
        maps[rods.HEADS.index("centre")], centres[loose], scores[loose], angle[loose], length[loose], width[loose],
        maps[rods.HEADS.index("tips")], LOOSE_MAX_ANGLE)
    kept[loose[~alive]] = False
    merged = loose[alive]
    ends[merged] = rods.tip_ends(maps[rods.HEADS.index("tips")], centres[merged], angle[merged], length[merged],
                                 width[merged])
    return kept, centres[kept], length[kept], ends[kept]


def axis_turns(image: np.ndarray, centres: np.ndarray, angle: np.ndarray, length: np.ndarray,
               width: np.ndarray) -> np.ndarray:
    """Per object, the turn (degrees) that brings its decoded axis onto the one its profiles across show;
    NaN where they show none clearly (fewer than MIN_AXIS_LINES middles on a line, a slope less sure than
    MAX_SLOPE_ERROR, or a turn beyond MAX_TURN)."""
    profiles = sampled_profiles(image, centres, angle, length, width, AXIS_LINES, AXIS_SHARE)
    typical = median_over_lines(profiles)
    middle = slice((AXIS_LINES - TYPICAL_LINES) // 2, (AXIS_LINES + TYPICAL_LINES) // 2)
    sign, _ = frame_look(median_over_lines(profiles[:, middle]))
    distance = half_level_distances(sign * profiles, sign * typical, PEAK_REACH_SHARE * float(np.median(width)))
    along = line_positions(length, width, AXIS_LINES, AXIS_SHARE)
    turn = _clear_turns(along, distance, lopsided(distance))
    # Only long rods whose lopsided lines left no turn (neighbour_against): taking their own-width lines everywhere
    # raised the orientation p90 (tuning seeds 950000 / 960000 at 0.30: 5.88 -> 5.93 degrees), and for short
    # rods too, where no bias lies a line lopsided, it turned 16-20 px rods 7-9 degrees off (5.88 -> 5.96).
    long_lever = np.abs(along).max(axis=1, initial=0.0) >= LONG_LEVER_PX
    fallback = np.isnan(turn) & long_lever
    if fallback.any():
        turn[fallback] = _clear_turns(along[fallback], distance[:, fallback], neighbour_against(distance[:, fallback]))
    return turn


def _clear_turns(along: np.ndarray, distance: np.ndarray, left_out: np.ndarray) -> np.ndarray:
    """:func:`axis_turns` from the lines' positions along the axis and their half-level ``distance`` either side,
    without the lines ``left_out``."""
    # Positive offsets lie along (-cos, sin) of the angle: an axis turned by t lies -s sin(t) off at s along.
    middles = np.where(left_out, np.nan, 0.5 * (distance[1] - distance[0]))
    slope, slope_error = robust_slopes(along, middles)
    turn = -np.degrees(np.arctan(slope))
    clear = (np.abs(turn) <= MAX_TURN) & (np.degrees(slope_error) <= MAX_SLOPE_ERROR)
    return np.where(clear, turn, np.nan)


def neighbour_against(distance: np.ndarray) -> np.ndarray:
    """Per line (:func:`rod_width.half_level_distances`, side x objects x lines), whether a neighbour lying against
    the object pulls its middle: one side not found, or :func:`rod_width.lopsided` with a width (both sides'
    sum) more than WIDTH_AGREEMENT_PX off the median of the object's lines. An axis off by the heads' bias
    leaves the rod's far lines lopsided about it at their own width: 5 degrees lies 4 px off 50 px out, and
    leaving out every lopsided line left long rods (120 px and more) too few lines to be turned at all, read
    5 degrees off and, their tips missed along that axis, 10 % too long."""
    sides = distance[0] + distance[1]  # NaN where either side is missing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an object with no line found on both sides
        typical = np.nanmedian(sides, axis=1, keepdims=True)
    own_width = np.abs(sides - typical) <= WIDTH_AGREEMENT_PX
    return lopsided(distance) & ~own_width


def robust_slopes(along: np.ndarray, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the slope of the least-squares line through (``along``, ``offset``) (NaN offsets left out),
    fitted again without the points more than OUTLIER_PX off the first fit and then the second, and its
    standard error; NaN where fewer than MIN_AXIS_LINES points are left."""
    kept = np.isfinite(offset)
    for _ in range(2):
        slope, intercept, count = _line_fit(along, offset, kept)
        kept &= np.abs(offset - (intercept[:, None] + slope[:, None] * along)) <= OUTLIER_PX
    slope, intercept, count = _line_fit(along, offset, kept)
    residual = np.where(kept, offset - (intercept[:, None] + slope[:, None] * along), 0.0)
    spread = _centred(along, kept, count)
    with np.errstate(invalid="ignore", divide="ignore"):
        error = np.sqrt((residual**2).sum(axis=1) / np.maximum(count - 2, 1) / (spread**2).sum(axis=1))
    enough = count >= MIN_AXIS_LINES
    return np.where(enough, slope, np.nan), np.where(enough, error, np.nan)


def _line_fit(along: np.ndarray, offset: np.ndarray, kept: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(slope, intercept, points) of each row's least-squares line through its ``kept`` points."""
    count = kept.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_along = np.where(kept, along, 0.0).sum(axis=1) / count
        mean_offset = np.where(kept, offset, 0.0).sum(axis=1) / count
        d_along = _centred(along, kept, count)
        d_offset = np.where(kept, offset - mean_offset[:, None], 0.0)
        slope = (d_along * d_offset).sum(axis=1) / (d_along**2).sum(axis=1)
    return slope, mean_offset - slope * mean_along, count


def _centred(along: np.ndarray, kept: np.ndarray, count: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_along = np.where(kept, along, 0.0).sum(axis=1) / count
    return np.where(kept, along - mean_along[:, None], 0.0)
