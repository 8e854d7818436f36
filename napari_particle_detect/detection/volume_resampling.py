"""Bringing a volume to the 3D model's working grid, where particles are about the same number of
voxels across along every axis, and centres back to the volume's voxels."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .percentiles import selected
from .preprocessing import PERCENTILES, Spikes, find_spikes, percentile_scaling, without_spikes


def working_factors(diameter_voxels: tuple[float, float, float], working_diameter: float) -> np.ndarray:
    """Per-axis zoom factors that make particles of ``diameter_voxels`` (z, y, x) ``working_diameter``
    voxels across."""
    return working_diameter / np.asarray(diameter_voxels, dtype=float)


def refilled_slices(volume: np.ndarray, missing: np.ndarray | None = None) -> tuple[np.ndarray, list[int]]:
    """``volume`` (Z, Y, X) with each constant slice between two others (one value in every voxel: a slice the
    microscope dropped, blank or saturated) replaced by the slices beside it, interpolated linearly, as a float32
    copy, and those slices (none: the volume itself). No real slice is constant, its noise differs voxel for voxel;
    left as it was, a blank slice read as a dark plane through the spheres it crossed (F1 0.955 against 1.000 once
    filled, a 24-slice generator volume), and a saturated one as a bright plane. Constant slices at a face are
    left as they are: padding, whose copies of the face would draw its spheres longer. ``missing``: the volume's
    gaps, a slice missing whole (NaN throughout) refilled as a constant one is (:func:`refilled_gaps`)."""
    volume, _, slices = refilled_gaps(volume, missing)
    return volume, slices


def refilled_gaps(volume: np.ndarray, missing: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None, list[int]]:
    """:func:`refilled_slices`' volume and slices, and ``missing`` less those slices (None where no gap is left; a
    refilled slice keeps the gaps of the slices it was filled from). A slice missing whole between others is a
    dropped slice too: left a gap, filled with the background, it read as a dark plane and every centre within
    half a radius of it was dropped (recall 0.73 of the spheres it crossed, a 20-slice generator volume)."""
    holes = None if missing is None else np.asarray(missing, dtype=bool)
    gone = _constant_slices(np.asarray(volume), holes)
    kept = np.flatnonzero(~gone)
    dead = np.flatnonzero(gone)
    dead = dead[(dead > kept[0]) & (dead < kept[-1])] if len(kept) else dead[:0]
    if not len(dead):
        return volume, missing, []
    out = np.array(volume, dtype=np.float32)
    left = None if holes is None else holes.copy()
    for z in dead:
        hi = kept[np.searchsorted(kept, z)]
        lo = kept[np.searchsorted(kept, z) - 1]
        weight = (z - lo) / (hi - lo)
        out[z] = (1 - weight) * out[lo] + weight * out[hi]
        if left is not None:
            left[z] = left[lo] | left[hi]
    return out, None if left is None or not left.any() else left, dead.tolist()


# A slice whose top stands this many times further above the background of the slices around it than theirs does was
# over-exposed (a laser or gain jump, a saturated slab), not a brighter part of the sample: none of 40 varied generator
# volumes (depth loss to 0.3, sparse and dense) nor a layer of spheres between empty slices has one. Left as it was,
# three such slices through a 40-slice volume read its spheres 0.2 voxels deep and the rest of it too dim (F1
# 0.14-0.22 against 1.000).
BRIGHT_SLICE_RATIO = 3.0
# The slices around must hold particles, their contrast this many times their pixel noise (pure noise stands 3.6
# times its noise from its 10th to its 99th percentile): a layer of particles between empty slices is the sample.
HELD_PARTICLES_NOISE = 6.0
# Slices on each side read as the ones around a slice: a slab of up to this many slices is outvoted by them.
SLICES_AROUND = 8
# Wider readings, once the one before finds nothing: a slab of more than SLICES_AROUND slices held half of its edge
# slices' neighbours, their median stood among it, and nothing was levelled (F1 0.41-0.52 with slabs of 10-20 slices
# through a 48-slice volume). Still medians (a low percentile took a few dim slices for the volume's own level).
WIDER_AROUND = (16, 32)
# Read that wide, a slice must also be this many times noisier than the slices around it (a gain jump raises the noise
# with the signal): medians of a thick layer of particles and the empty slices beside it stood its edge slices 3.1.
WIDER_NOISE_RATIO = 1.5
# Readings at most: each levels a slab's slices from its edges inwards.
LEVELLING_PASSES = 16
# Voxels per slice its levels are read from (a subsample of a larger slice).
LEVEL_SAMPLE = 65536


def levelled_slices(volume: np.ndarray, missing: np.ndarray | None = None) -> tuple[np.ndarray, list[int], float]:
    """``volume`` (Z, Y, X) with its over-exposed slices (BRIGHT_SLICE_RATIO) scaled so that their background and top
    match those of the slices around them, as a float32 copy; those slices and how many times brighter the worst
    stood (none: the volume itself, [] and 1.0). ``missing``: its gaps, left out of every level. Read again after
    each levelling, until none is left: a slab's outer slices stand among its inner ones, outvoting the slices beside."""
    own = None if missing is None else ~np.asarray(missing, dtype=bool)
    out, levelled, worst = volume, set(), 1.0
    widths = iter((SLICES_AROUND, *WIDER_AROUND))
    width = next(widths)
    levels = _slice_levels(out, own)
    for _ in range(LEVELLING_PASSES):
        background, top, noise = (_around(levels[:, i], width) for i in range(3))
        contrast = top - background
        stands = (levels[:, 1] - background) / np.where(contrast > 0, contrast, np.inf)
        bright = (stands > BRIGHT_SLICE_RATIO) & (contrast > HELD_PARTICLES_NOISE * noise)
        if width != SLICES_AROUND:
            bright &= levels[:, 2] > WIDER_NOISE_RATIO * noise
        bright = np.flatnonzero(bright)
        if not len(bright):
            width = next(widths, None)
            if width is None:
                break
            continue
        out = np.array(out, dtype=np.float32, copy=out is volume)
        for z in bright:
            own_background, own_top = levels[z, :2]
            out[z] = background[z] + (out[z] - own_background) * contrast[z] / max(own_top - own_background, 1e-12)
        levelled.update(bright.tolist())
        worst = max(worst, float(stands[bright].max()))
        levels = _slice_levels(out, own)
    return out, sorted(levelled), worst


def _slice_levels(volume: np.ndarray, own: np.ndarray | None) -> np.ndarray:
    """Per slice (Z, 3): its background (10th percentile), top (99th) and pixel noise (from neighbouring pixels'
    differences, robustly), read from its own voxels less those at the volume's extremes (a hot line, a saturated
    patch); NaN where too few are left."""
    low, high = _ends(volume, own, None)
    levels = np.full((volume.shape[0], 3), np.nan)
    step = max(1, int(np.ceil(np.sqrt(volume[0].size / LEVEL_SAMPLE))))
    for z in range(volume.shape[0]):
        plane = np.asarray(volume[z, ::step, ::step], dtype=np.float64)
        keep = (plane != low) & (plane != high)
        if own is not None:
            keep &= own[z, ::step, ::step]
        if keep.sum() < 16:
            continue
        rows = np.asarray(volume[z, ::step], dtype=np.float64)
        steps = np.diff(rows, axis=1)[(rows[:, 1:] != high) & (rows[:, :-1] != high)]
        noise = 1.4826 * float(np.median(np.abs(steps))) / np.sqrt(2) if steps.size else 0.0
        levels[z] = (*np.percentile(plane[keep], (10, 99)), noise)
    return levels


def _around(values: np.ndarray, width: int = SLICES_AROUND) -> np.ndarray:
    """Per slice, the median of ``values`` over the ``width`` slices on each side of it (itself left out, and
    NaNs): what the slices around it read."""
    out = np.full(len(values), np.nan)
    for z in range(len(values)):
        near = np.r_[values[max(0, z - width): z], values[z + 1: z + 1 + width]]
        near = near[~np.isnan(near)]
        if near.size:
            out[z] = np.median(near)
    return out


def _constant_slices(volume: np.ndarray, holes: np.ndarray | None) -> np.ndarray:
    """Per slice of ``volume`` (Z, Y, X): whether its own voxels (those not in ``holes``, its gaps) are one value
    or none at all, the volume's outlying spikes (:func:`despiked_volume`'s) left out. Judged on its own voxels: its
    gaps were filled with the local background first, so a blank slice through a volume with a gap anywhere was no
    longer constant, and was left a dark plane; and a sensor's hot row runs through a dropped slice too, which then
    read as a real one, a dark plane with a bright line. Reduced over axes (1, 2), not a reshape: that copied a whole
    non-contiguous volume (one channel of a file) every detect."""
    own = None if holes is None else ~holes
    lo, hi = _ends(volume, own, (1, 2))
    constant = lo >= hi  # one value, or none (the ends start past each other)
    if constant.all() or not _may_be_constant_but_spikes(volume, own, lo, hi, constant):
        return constant
    spikes = find_spikes(selected(volume, own))
    if spikes is None:
        return constant
    kept = np.ones(volume.shape, dtype=bool) if own is None else own.copy()
    if spikes.above:
        kept &= volume != volume.dtype.type(spikes.brightest)
    if spikes.below:
        kept &= volume != volume.dtype.type(spikes.darkest)
    lo, hi = _ends(volume, kept, (1, 2))
    return constant | (lo >= hi)


def _may_be_constant_but_spikes(volume: np.ndarray, own: np.ndarray | None, lo: np.ndarray, hi: np.ndarray,
                                constant: np.ndarray) -> bool:
    """Whether a slice that is not constant (``lo``, ``hi``: each slice's ends) is one value or none once the
    volume's extremes are left out: spikes sit there, so no other slice can be constant without its spikes. Slice by
    slice, on the slices that reach an extreme: a whole-volume check copied every volume (spikes are rare)."""
    low, high = lo.min(), hi.max()
    for z in np.flatnonzero(~constant & ((lo == low) | (hi == high))):
        plane = volume[z]
        rest = (plane != low) & (plane != high)
        if own is not None:
            rest &= own[z]
        first, last = _ends(plane, rest, None)
        if first >= last:
            return True
    return False


def _ends(values: np.ndarray, where: np.ndarray | None, axis: tuple[int, ...] | None) -> tuple:
    """The smallest and largest of ``values`` at ``where`` (None: all) over ``axis``; where none is selected, the
    smallest is the dtype's largest and the largest its smallest."""
    if where is None:
        return values.min(axis=axis), values.max(axis=axis)
    low, high = _dtype_ends(values.dtype)
    return values.min(axis=axis, where=where, initial=high), values.max(axis=axis, where=where, initial=low)


def _dtype_ends(dtype: np.dtype) -> tuple[float, float]:
    """The lowest and highest values of ``dtype``: the start of a masked min and max, which integers can hold."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return info.min, info.max
    return -np.inf, np.inf


def despiked_volume(volume: np.ndarray, missing: np.ndarray | None = None) -> tuple[np.ndarray, Spikes | None]:
    """``volume`` with its outlying spikes (a hot line, a saturated patch, zero padding) set to the ends of its other
    voxels' range (preprocessing.without_spikes; a float32 copy where it has any, never the caller's array changed),
    and the spikes; ``missing``: its gaps, left out of the judgement. Before resampling: blurred and interpolated
    onto the working grid, a spike no longer sits at one value apart from the rest, so normalising kept it in the
    range, and one saturated row through every slice squashed every sphere of a 24-slice volume to 0 centres."""
    return without_spikes(volume, where=None if missing is None else ~np.asarray(missing, dtype=bool))


def resample_volume(volume: np.ndarray, factors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Linear resampling by per-axis ``factors`` (Gaussian pre-filter on the axes that shrink);
    returns the float32 volume and the factors actually applied (whole voxels)."""
    volume = np.asarray(volume, dtype=np.float32)
    factors = np.asarray(factors, dtype=float)
    shape = np.maximum(1, np.rint(np.array(volume.shape) * factors)).astype(int)
    applied = shape / np.array(volume.shape)
    if np.allclose(applied, 1.0):
        return volume, np.ones(3)
    blur = np.where(applied < 1.0, 0.5 * np.sqrt(np.clip(1.0 / applied - 1.0, 0, None)), 0.0)
    if np.any(blur > 0):
        volume = ndimage.gaussian_filter(volume, blur)
    out = ndimage.zoom(volume, applied, order=1, mode="nearest", grid_mode=True).astype(np.float32)
    return out, applied


def to_working(centres: np.ndarray, factors: np.ndarray) -> np.ndarray:
    return (np.asarray(centres, dtype=float).reshape(-1, 3) + 0.5) * np.asarray(factors, dtype=float) - 0.5


def from_working(centres: np.ndarray, factors: np.ndarray) -> np.ndarray:
    return (np.asarray(centres, dtype=float).reshape(-1, 3) + 0.5) / np.asarray(factors, dtype=float) - 0.5


def own_voxels(missing: np.ndarray | None, factors: np.ndarray) -> np.ndarray | None:
    """The voxels of a volume resampled by ``factors`` (:func:`resample_volume`) that none of its ``missing`` voxels
    (its gaps, filled with the local background) reached; None where it has no gaps: steps.own_pixels of a volume."""
    if missing is None:
        return None
    return resample_volume(np.asarray(missing, dtype=np.float32), factors)[0] == 0


def normalise_volume(volume: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
    """Percentile scaling of the whole volume to about [0, 1] (the 2D rule, over all voxels: an outlying spike
    at its extremes, a hot line or a saturated or zero-padded block, is left out of the range). ``where``: the
    volume's own voxels (:func:`own_voxels`), the spike check and the range read from them alone where it has gaps,
    as a frame's are: half a volume filled with its background pulled the top of the other half's range 2-4 % down."""
    given = volume
    volume = np.asarray(volume, dtype=np.float32)
    # In place only on a copy of ours: asarray of a memmap (an ndarray subclass) is a view of the caller's file.
    volume, _ = without_spikes(volume, in_place=not np.may_share_memory(volume, given) and volume.flags.writeable,
                               where=where)
    step = max(1, volume.size // 2_000_000)  # percentiles of a big volume from a subsample
    sample = selected(volume.ravel()[::step], None if where is None else where.ravel()[::step])
    lo, hi = np.percentile(sample, PERCENTILES)
    lo, divisor, _ = percentile_scaling(volume, lo, hi)  # however small: a volume of 1e-20 A detects as one of 8 bits
    return ((volume - lo) / divisor).astype(np.float32)


