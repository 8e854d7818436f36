"""Turning whatever the user loaded into the float image the network expects."""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ParticleDetectError
from .percentiles import percentiles, selected

if TYPE_CHECKING:
    import torch

PERCENTILES = (1.0, 99.8)
# A spike of pixels at exactly a frame's largest (or smallest) value, set well apart from every other
# value, is no part of the scene but a hot column, a saturated patch or the zero padding registration
# leaves. Holding more pixels than PERCENTILES leave out, it would decide the range and squeeze the
# particles into a sliver of it; fewer, it would still stand many times the range away. So it is left
# out of the range and its pixels are set to the range's end. A spike is one of at least
# SPIKE_MIN_PIXELS pixels (a frame's single brightest pixel, the peak of one bright particle, is
# not) or one deciding a percentile, whose gap to the nearest other value is at least SPIKE_GAP times
# the range of the other values and SPIKE_SPACING times their own spacing there: a dim image's zeros
# next to its ones and twos, or cores saturating at 255 above 254, are neighbouring levels, not a spike.
SPIKE_MIN_PIXELS = 64
SPIKE_GAP = 0.5
SPIKE_SPACING = 4.0

# Uneven illumination (a lamp's ramp, a vignette) that varies across the frame by more than the particles'
# own contrast squeezes them into a sliver of the percentile range and sets them on very different levels
# from one side to the other, which the network never saw in training: it misses the particles on the
# bright or the dark side (generator, fluorescent, diameter given: recall 0.99 flat, 0.86 under a ramp
# of background_gradient 4, 0.32 under 8). So where the frame's slowly varying background varies by at
# least FLATTEN_RATIO times the particles' contrast, it is subtracted before the percentile range is
# taken (flattening). The background: the mean of each block of a grid FLATTEN_BLOCK px wide at the
# model's working scale (about four particle diameters there, so that it follows no one particle),
# read from every (FLATTEN_BLOCK / FLATTEN_SAMPLES)-th pixel and interpolated between the blocks'
# centres (extrapolated linearly beyond the outer ones); its variation: the block means' range; the
# particles' contrast: the range of that sample less its background. A mean, not a median: in a block
# that dense discs half cover, the median jumps between the discs' level and the background's (the seed
# demo's blocks: medians apart by 0.46 of the frame's range, means 0.27). The whole range, not the
# normalising percentiles: a sparse field's percentiles are its noise, and flattened, that noise fills
# the range (training draws of 3-40 particles under their gradient: F1 down by up to 0.5, the false
# positives their evenly lit twins show); dense fields gain from ratio 0.5 up. The rule sits above every
# real frame of the shared data (at most 0.27), the generator's looks at area fractions 0.1-0.9 (0.30),
# and all but 3 of 2,800 draws of its training mix (background_gradient up to 1, out-of-focus blobs),
# which are fields of faint bright-field particles: two near-empty ones (1.6, 2.3: F1 1.0 to 0.75 and
# 0.8, two and three false positives) and a crowded one (1.02: F1 0.03 to 0.16). Above it:
# background_gradient 4 (0.8-2.3; bright-field 0.8-1.4), 8 (1.5-3.1), a ramp of twice the grey range
# over the real images (1.3-2.5).
FLATTEN_BLOCK = 64
FLATTEN_SAMPLES = 16
FLATTEN_RATIO = 0.95
# A cheap screen decides the usual case first: the means of the blocks, read from every second pixel of
# the sample, vary by less than FLATTEN_SCREEN * r / (1 + r) of the frame's percentile range, for a rule
# of r times the contrast. A background of variation V under particles of contrast C spans about V + C,
# so one at the rule varies by about r / (1 + r) of the frame's range (every frame above the rule
# measured: at least 1.06 times that). The screen costs about 15 us on a 512 px frame (1 % of preparing
# it); a frame past it, well below the rule, pays 0.25-0.5 ms more (real bulk water, whose background
# varies by 0.49 of its range: its particles' whole contrast is 4 times that).
FLATTEN_SCREEN = 0.8
# The narrowest intensity range float32 divides by without losing digits (its smallest normal number); a
# narrower one, between subnormal float32 pixels, is divided in float64.
FLOAT32_TINY = float(np.finfo(np.float32).tiny)
# The smallest frame side detected in: a narrower frame holds no particle the network and the size estimate
# can tell from its edge.
MIN_FRAME_SIDE = 8


# NaN and infinite pixels are missing data: the gaps a stitcher leaves between a mosaic's tiles, the border a
# registration leaves. Detection reads around them (check_frame's ``gaps``, stages.prepare_frame): they are set
# to the local background, the median of the other pixels in blocks of about four particle diameters
# (FLATTEN_BLOCK at the working scale) interpolated between the blocks' centres, so that a gap reads as
# background and moves the percentile range normalising takes little (27 % of a frame missing: its ends by 0.2
# and 4 % of the range); the centres of the particles a gap cuts are dropped (GAP_REACH). On the generator
# (256 px, beads 10-16 px: fluorescent at area fraction 0.4, under a ramp of background_gradient 2,
# bright-field, dark; four pixels, 16 px stripes and a band, a grid, a 100 px block) F1 against every particle
# outside the gaps is 0.961 on average; the same gaps set to 0 give 0.884 (down to 0.72: bright-field and dark
# looks read 0 as particle, a ramp a step), and one median for the whole frame put up to 22 centres inside the
# gaps under the ramp. A frame with fewer than MIN_FINITE_SHARE of its pixels finite is blank: a dropped tile,
# not a mosaic with gaps.
MIN_FINITE_SHARE = 0.01
# A block's median is trusted where at least this share of its sampled pixels are finite; a block with fewer
# takes its nearest trusted neighbour's.
GAP_BLOCK_SHARE = 0.25
# A block's median is read from GAP_SAMPLES x GAP_SAMPLES of its pixels: a 2048 px frame's gaps are filled in
# 30-70 ms (blocks of 16 px read from every pixel took 0.4 s).
GAP_SAMPLES = 8
# Centres closer to a gap than this many particle radii are dropped: the gap cuts a quarter of the particle's
# width or more. Half a radius gives the F1 against every particle outside the gaps that dropping only the
# centres inside them gives (0.959 either way: the stripes, grid and block above); a whole radius 0.025 less,
# the particles it drops real ones.
GAP_REACH = 0.5
# Centres tested against the gaps at once (clear_of_gaps).
GAP_TEST_CHUNK = 256


class BlankFrameError(ParticleDetectError):
    """A frame with nothing to detect; ``held`` says what it holds instead, in words (``every pixel is 0``),
    for the line a stack's blank frame is skipped with."""

    def __init__(self, message: str, held: str = "") -> None:
        super().__init__(message)
        self.held = held


class NonFiniteFrameError(BlankFrameError):
    """A frame with NaN or infinite pixels (without ``gaps``, any; with, too few others to detect in): refused
    as an image; of a stack, it gets no centres and the rest is detected (found only when reached, it would
    otherwise throw away every frame before it)."""


class ConstantFrameError(BlankFrameError):
    """A frame with one value in every pixel: nothing to detect (a dropped or shutter frame in a stack)."""


def check_frame(frame: np.ndarray, name: str = "image", convert: bool = True, gaps: bool = False) -> np.ndarray:
    """A finite, non-constant 2D float32 array, or a ParticleDetectError saying what is wrong.

    ``convert=False`` keeps small integer pixels (8 and 16 bit, exact in float32) as they are, so a
    big frame is not copied before it is resampled; anything else is still converted. ``gaps``: NaN and
    infinite pixels are read as missing and set to the local background (:func:`frame_and_gaps`, in blocks of
    FLATTEN_BLOCK px); without, any is refused (training would learn from them)."""
    return frame_and_gaps(frame, name, convert, FLATTEN_BLOCK if gaps else None)[0]


def frame_and_gaps(frame: np.ndarray, name: str = "image", convert: bool = True,
                   block: float | None = FLATTEN_BLOCK) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`check_frame`'s frame, its NaN and infinite pixels (a mosaic's gaps: MIN_FINITE_SHARE) set to the
    local background read in blocks of ``block`` px (:func:`filled_gaps`; None: any is refused), and the mask
    of those pixels (None where there are none). A frame with too few other pixels is refused as blank
    (NonFiniteFrameError), as is one whose other pixels are all one value (ConstantFrameError)."""
    frame = np.asarray(frame)
    if frame.ndim != 2:
        raise ParticleDetectError(f"{name}: expected a 2D frame, got shape {frame.shape}")
    check_frame_size(frame.shape, frame.shape, name)
    if not (np.issubdtype(frame.dtype, np.number) or frame.dtype == bool) or np.iscomplexobj(frame):
        raise ParticleDetectError(f"{name}: unsupported pixel type {frame.dtype}")
    missing = missing_pixels(frame)
    if missing is not None:
        if block is None:
            raise NonFiniteFrameError(f"{name}: image contains NaN or infinite values", "NaN or infinite pixels")
        if mostly_missing(missing):
            held = non_finite_note(int(np.count_nonzero(missing)), missing.size)
            raise NonFiniteFrameError(f"{name}: {held}; nothing to detect", held)
        frame = filled_gaps(frame, missing, block)
    lo, hi = frame.min(), frame.max()
    if lo == hi:  # in the frame's own type: 1 + 1e-12 * image is not constant
        held = f"every pixel is {float(lo):g}" + (" but the NaN or infinite ones" if missing is not None else "")
        raise ConstantFrameError(f"{name}: image is constant ({held}); nothing to detect", held)
    if frame.dtype.itemsize > 4 or frame.dtype in (np.int32, np.uint32):
        return to_float32(frame, float(lo), float(hi)), missing
    if convert or not (np.issubdtype(frame.dtype, np.integer) and frame.dtype.itemsize <= 2):
        frame = frame.astype(np.float32, copy=False)
    return frame, missing


def missing_pixels(image: np.ndarray) -> np.ndarray | None:
    """The mask of ``image``'s NaN and infinite pixels (or voxels), or None where it has none (as an integer
    image never has)."""
    if not np.issubdtype(image.dtype, np.inexact):
        return None
    finite = np.isfinite(image)
    return None if finite.all() else np.logical_not(finite, out=finite)


def mostly_missing(missing: np.ndarray) -> bool:
    """Whether fewer than MIN_FINITE_SHARE of the pixels are left beside the ``missing`` ones: a blank frame."""
    return missing.size - np.count_nonzero(missing) < MIN_FINITE_SHARE * missing.size


def filled_gaps(image: np.ndarray, missing: np.ndarray, block: float) -> np.ndarray:
    """A copy of ``image`` (a frame or a volume) with its ``missing`` pixels set to the local background: the
    median of the other pixels in blocks about ``block`` px wide along each axis (read from every
    (block / GAP_SAMPLES)-th pixel), interpolated linearly between the blocks' centres and held beyond
    the outer ones; a block with few others (GAP_BLOCK_SHARE) takes its nearest neighbour's."""
    from scipy import ndimage  # here: preprocessing is imported where SciPy is not needed

    step = max(1, int(block) // GAP_SAMPLES)
    per_block = [max(1, min(int(np.ceil(n / step)), int(block) // step)) for n in image.shape]
    sampled = (slice(None, None, step),) * image.ndim
    sample = np.where(missing[sampled], np.nan, image[sampled].astype(np.float64))
    counts = [max(1, n // b) for n, b in zip(sample.shape, per_block)]
    sizes = [n // c for n, c in zip(sample.shape, counts)]  # samples past the last whole block are left out
    blocks = sample[tuple(slice(0, c * s) for c, s in zip(counts, sizes))]
    blocks = blocks.reshape([v for c, s in zip(counts, sizes) for v in (c, s)])
    blocks = blocks.transpose(*range(0, 2 * image.ndim, 2), *range(1, 2 * image.ndim, 2)).reshape(*counts, -1)
    finite = np.count_nonzero(np.isfinite(blocks), axis=-1)
    trusted = finite >= max(1.0, GAP_BLOCK_SHARE * blocks.shape[-1])
    if trusted.any():
        # Medians of the finite samples, sorted ahead of the NaNs: np.nanmedian goes block by block in Python.
        ordered, finite = np.sort(blocks[trusted], axis=-1), finite[trusted]
        rows = np.arange(len(ordered))
        levels = np.zeros(counts)
        levels[trusted] = (ordered[rows, (finite - 1) // 2] + ordered[rows, finite // 2]) / 2
        nearest = ndimage.distance_transform_edt(~trusted, return_distances=False, return_indices=True)
        levels = levels[tuple(nearest)]
    else:  # the finite pixels scattered thin: one level, theirs
        levels = np.full([1] * image.ndim, np.median(image[~missing]))
    # Each missing pixel's place on the grid of block centres ((k + (size - 1) / 2) * step in pixels).
    where = [(axis / step - (size - 1) / 2) / size for axis, size in zip(np.nonzero(missing), sizes)]
    filled = image.astype(np.promote_types(image.dtype, np.float32), copy=True)
    filled[missing] = ndimage.map_coordinates(levels, where, order=1, mode="nearest")
    return filled


def is_blank(frame: np.ndarray) -> bool:
    """Whether detection skips ``frame`` as blank (stages.prepare_frame): one value in every pixel, or in every
    one but the NaN and infinite ones, or fewer than MIN_FINITE_SHARE of its pixels finite."""
    missing = missing_pixels(frame)
    if missing is None:
        return frame.min() == frame.max()
    if mostly_missing(missing):
        return True
    finite = frame[~missing]
    return finite.min() == finite.max()


def non_finite_note(missing: int, pixels: int, unit: str = "pixel") -> str:
    """How many of a frame's ``pixels`` are NaN or infinite (``missing``), in words (of voxels: ``unit``)."""
    if missing == pixels:
        return f"every {unit} is NaN or infinite"
    return f"{non_finite_share(missing, pixels)} of its {unit}s are NaN or infinite"


def non_finite_share(missing: int, pixels: int) -> str:
    """``missing`` of ``pixels`` as a percentage, with the digits a few pixels of a big frame need."""
    share = f"{100 * missing / pixels:.3g}"
    return "nearly 100 %" if share == "100" and missing < pixels else f"{share} %"


def clear_of_gaps(centres: np.ndarray, missing: np.ndarray | None, radii: tuple[float, ...],
                  reach: float = GAP_REACH) -> np.ndarray:
    """Which ``centres`` (N, ndim, in pixels of the ``missing`` mask) lie farther than ``reach`` times the
    particles' ``radii`` (px, per axis) from every missing pixel: a particle the gap cuts that much is no
    particle to count, and the gap's filled edge draws none that is (``reach`` 1: the whole particle)."""
    centres = np.asarray(centres, dtype=float).reshape(-1, len(radii))
    if missing is None or not len(centres):
        return np.ones(len(centres), bool)
    radii = tuple(reach * r for r in radii)
    reach = [np.arange(-int(r), int(r) + 1) for r in radii]
    offsets = np.stack([axis.ravel() for axis in np.meshgrid(*reach, indexing="ij")], axis=1)
    offsets = offsets[(np.square(offsets / np.maximum(radii, 1e-9)).sum(axis=1)) <= 1.0]
    clear = np.ones(len(centres), bool)
    # Some hundred centres at a time: all of a crowded frame's against a big particle's ellipse would take
    # gigabytes.
    for start in range(0, len(centres), GAP_TEST_CHUNK):
        around = np.rint(centres[start : start + GAP_TEST_CHUNK]).astype(int)[:, None, :] + offsets[None]
        inside = np.all((around >= 0) & (around < missing.shape), axis=-1)
        around = np.clip(around, 0, np.array(missing.shape) - 1)
        clear[start : start + GAP_TEST_CHUNK] = ~np.any(missing[tuple(np.moveaxis(around, -1, 0))] & inside, axis=1)
    return clear


def check_frame_size(frame_shape: tuple[int, ...], given: tuple[int, ...], name: str = "image") -> None:
    """One ParticleDetectError where frames of ``frame_shape`` are smaller than 8x8 pixels, naming ``given``,
    the shape the caller passed (a (1, 128) image is refused as that, not as the frames made of it)."""
    if 0 in frame_shape or min(frame_shape) < MIN_FRAME_SIDE:
        raise ParticleDetectError(f"{name}: image is too small ({tuple(given)}); need at least "
                                  f"{MIN_FRAME_SIDE}x{MIN_FRAME_SIDE} pixels")


def to_float32(frame: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """A frame of a wider type (float64, 32 and 64 bit integers) in float32 for the network, mapped to
    [0, 1] first where float32 would lose it: values beyond its range (1e300 overflows to inf), below
    its smallest normal number, or a range too narrow for its 24 bit mantissa against the values'
    magnitude (1 + 1e-12 * image would turn constant). Frames are normalised by percentiles later,
    which a linear map does not change. ``lo`` and ``hi``: the frame's smallest and largest values."""
    size = max(abs(lo), abs(hi))
    if 1e-30 < hi - lo and size < 1e30 and hi - lo > 1e-3 * size:
        return frame.astype(np.float32)
    if np.issubdtype(frame.dtype, np.integer):
        # Exact in integers first: 2**60 + k in float64 would round the k away. The difference wraps
        # modulo 2**64 in the frame's type, so read as unsigned it is exact.
        shifted = (frame - frame.min()).astype(np.uint64)
        span = float(shifted.max()) or 1.0
        return (shifted.astype(np.float64) / span).astype(np.float32)
    scaled = frame.astype(np.float64)
    scaled /= size  # first, so that hi - lo of 1e308 and -1e308 does not overflow
    low, span = lo / size, hi / size - lo / size
    scaled -= low
    scaled /= span if span > 0 else 1.0
    return scaled.astype(np.float32)


@dataclass(frozen=True)
class Spikes:
    """A frame's outlying spikes (see SPIKE_MIN_PIXELS): ``below`` pixels at ``darkest`` under the other
    pixels' smallest value ``low``, ``above`` pixels at ``brightest`` over their largest ``high``."""

    darkest: float
    brightest: float
    low: float
    high: float
    below: int = 0
    above: int = 0

    def describe(self) -> str:
        """What was left out of the intensity range, in words (for a warning)."""
        parts = [f"{count} px at {value:g} (the other pixels {side} {bound:g})" for count, value, side, bound in (
            (self.above, self.brightest, "at most", self.high), (self.below, self.darkest, "at least", self.low))
            if count]
        return " and ".join(parts)


def spike_counts(count: int, size: int, top: bool) -> bool:
    """Whether ``count`` pixels at a frame's largest (``top``) or smallest value are enough to be a spike:
    SPIKE_MIN_PIXELS, or enough to reach the percentile normalising takes there, which NumPy reads at
    virtual index q / 100 * (size - 1)."""
    q = PERCENTILES[1] if top else PERCENTILES[0]
    virtual = q / 100 * (size - 1)
    return count >= SPIKE_MIN_PIXELS or (count > (size - 1) - virtual if top else count > virtual)


def spike_apart(gap: float, span: float, spacing: float) -> bool:
    """A gap to the nearest other value wide against their range and against their spacing there."""
    return gap >= SPIKE_GAP * span and gap >= SPIKE_SPACING * spacing


def find_spikes(frame: np.ndarray) -> Spikes | None:
    """The outlying spikes at ``frame``'s extremes (see SPIKE_MIN_PIXELS), or None: the usual case, found
    in four passes over the frame (its extremes and how many pixels hold them)."""
    flat = np.ravel(frame)
    darkest, brightest = flat.min(), flat.max()
    if not darkest < brightest:  # constant, or NaN
        return None
    below, above = int(np.count_nonzero(flat == darkest)), int(np.count_nonzero(flat == brightest))
    top, bottom = spike_counts(above, flat.size, True), spike_counts(below, flat.size, False)
    if not (top or bottom):
        return None
    # The other values' extremes, and the spacing of their values next to each.
    high = flat.max(where=flat < brightest, initial=darkest) if top else brightest
    low = flat.min(where=flat > darkest, initial=brightest) if bottom else darkest
    if not low < high:  # nothing else, or one other value: no range to judge a gap by
        return None
    span = float(high) - float(low)
    if top:
        spacing = float(high) - float(flat.max(where=flat < high, initial=low))
        top = spike_apart(float(brightest) - float(high), span, spacing)
    if bottom:
        spacing = float(flat.min(where=flat > low, initial=high)) - float(low)
        bottom = spike_apart(float(low) - float(darkest), span, spacing)
    if not (top or bottom):
        return None
    return Spikes(float(darkest), float(brightest), float(low), float(high), below if bottom else 0,
                  above if top else 0)


def without_spikes(frame: np.ndarray, in_place: bool = False,
                   where: np.ndarray | None = None) -> tuple[np.ndarray, Spikes | None]:
    """``frame`` with its outlying spikes' pixels set to the ends of the other pixels' percentile range
    (float32: a copy unless ``in_place`` and float32 already), so that its percentiles, before or after
    resampling, are about the other pixels' own; and the spikes. The frame itself and None where it has
    none. ``where``: the frame's own pixels (steps.own_pixels; none selected: all), judged alone as the percentile
    range is read: a large gap's fill counted with them would outnumber a spike that decides their percentile."""
    own = selected(frame, where)
    spikes = find_spikes(own)
    if spikes is None:
        return frame, None
    others = np.ones(own.shape, bool)
    if spikes.below:
        others &= own != spikes.darkest
    if spikes.above:
        others &= own != spikes.brightest
    low, high = percentiles(own[others], PERCENTILES)
    out = frame if in_place and frame.dtype == np.float32 else frame.astype(np.float32)
    if spikes.below:
        np.putmask(out, out == np.float32(spikes.darkest), np.float32(low))
    if spikes.above:
        np.putmask(out, out == np.float32(spikes.brightest), np.float32(high))
    return out, spikes


@dataclass(frozen=True)
class Background:
    """A frame's slowly varying background (see FLATTEN_RATIO): the mean of each block of a grid
    (``levels``), whose centres lie at ``rows`` and ``columns`` (frame pixels); its range across the frame
    is ``ratio`` times the particles' contrast."""

    levels: np.ndarray
    rows: np.ndarray
    columns: np.ndarray
    ratio: float

    def describe(self) -> str:
        """What was subtracted, in words (for a warning)."""
        return f"a background varying {self.ratio:.1f} times the particles' contrast across the frame"


def block_grid(shape: tuple[int, ...], step: int, per_block: int) -> tuple[int, int, int, int]:
    """(rows of blocks, rows per block, columns of blocks, columns per block) of a grid of blocks of at
    least ``per_block`` samples (one block where an axis holds fewer) over every ``step``-th pixel of a
    frame of ``shape``; the samples past its last block are left out."""
    rows, columns = (-(-n // step) for n in shape[:2])
    ny, nx = max(1, rows // per_block), max(1, columns // per_block)
    return ny, rows // ny, nx, columns // nx


def block_means(frame: np.ndarray, step: int, per_block: int) -> np.ndarray:
    """The mean of each block of :func:`block_grid` over every ``step``-th pixel of ``frame`` (rows by
    columns): whole sampled rows summed first, in the frame's own type, the quickest way through NumPy
    (12 us on a 640 px frame at a step of 8, against 26 us summing in float64)."""
    ny, by, nx, bx = block_grid(frame.shape, step, per_block)
    rows = frame[: ny * by * step : step].reshape(ny, by, -1).sum(axis=1)
    return rows[:, : nx * bx * step : step].reshape(ny, nx, bx).sum(axis=2) / (by * bx)


def block_centres(shape: tuple[int, ...], step: int, per_block: int) -> tuple[np.ndarray, np.ndarray]:
    """The centres (frame pixels) of :func:`block_grid`'s blocks."""
    ny, by, nx, bx = block_grid(shape, step, per_block)
    return ((np.arange(ny) * by + (by - 1) / 2) * step, (np.arange(nx) * bx + (bx - 1) / 2) * step)


def flatten_step(block: int) -> int:
    """The sampling step of a flattening grid of ``block`` px blocks (FLATTEN_SAMPLES samples a side)."""
    return max(1, block // FLATTEN_SAMPLES)


def screened(levels: np.ndarray, low: float, high: float, ratio: float | None = None) -> bool:
    """Whether the screen's block means vary enough against the frame's percentile range (``low`` to
    ``high``) to measure the background against a rule of ``ratio`` (default FLATTEN_RATIO; see
    FLATTEN_SCREEN)."""
    ratio = FLATTEN_RATIO if ratio is None else ratio
    return bool(high > low and levels.max() - levels.min() >= FLATTEN_SCREEN * ratio / (1 + ratio) * (high - low))


def uneven_background(frame: np.ndarray, low: float, high: float, block: int = FLATTEN_BLOCK,
                      ratio: float | None = None) -> Background | None:
    """The background of ``frame`` read in blocks of ``block`` px where it varies across the frame by at
    least ``ratio`` (default FLATTEN_RATIO) times the particles' contrast, else None: the usual case, decided
    from one pixel in (2 * step)**2 (FLATTEN_SCREEN). ``low``, ``high``: the frame's percentiles
    (PERCENTILES)."""
    step = flatten_step(block)
    if not screened(block_means(frame, 2 * step, FLATTEN_SAMPLES // 2), low, high, ratio):
        return None
    return measured_background(np.asarray(frame[::step, ::step], dtype=np.float32), step, ratio)


def measured_background(sample: np.ndarray, step: int, ratio: float | None = None) -> Background | None:
    """:func:`uneven_background` from ``sample``, every ``step``-th pixel of the frame, past the screen."""
    ratio = FLATTEN_RATIO if ratio is None else ratio
    levels = block_means(sample, 1, FLATTEN_SAMPLES)
    rows, columns = block_centres(sample.shape, 1, FLATTEN_SAMPLES)
    residual = sample - interpolated(levels, rows, columns, (0, sample.shape[0]), sample.shape[1])
    low, high = float(residual.min()), float(residual.max())
    variation = float(levels.max() - levels.min())
    if not high > low or variation < ratio * (high - low):
        return None
    rows, columns = (centres * step for centres in (rows, columns))
    return Background(levels, rows, columns, variation / float(high - low))


def interpolation(centres: np.ndarray, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """For pixels ``start`` to ``stop`` - 1, the grid point before each (the last but one beyond the last)
    and the weight of the one after it: linear between the ``centres`` (evenly spaced), linear beyond."""
    pixels = np.arange(start, stop, dtype=np.float64)
    if len(centres) < 2:
        return np.zeros(len(pixels), int), np.zeros(len(pixels))
    spacing = centres[1] - centres[0]
    before = np.clip(np.floor((pixels - centres[0]) / spacing).astype(int), 0, len(centres) - 2)
    return before, (pixels - centres[before]) / spacing


def interpolated_rows(levels: np.ndarray, columns: np.ndarray, width: int) -> np.ndarray:
    """The grid's rows (``levels``) interpolated along each row to ``width`` pixels."""
    levels = levels if levels.shape[1] > 1 else np.repeat(levels, 2, axis=1)
    before, weight = interpolation(columns, 0, width)
    weight = weight.astype(levels.dtype)
    return levels[:, before] * (1 - weight) + levels[:, before + 1] * weight


def interpolated(levels: np.ndarray, rows: np.ndarray, columns: np.ndarray, span: tuple[int, int],
                 width: int, along: np.ndarray | None = None) -> np.ndarray:
    """The background of frame rows ``span`` (start, stop), ``width`` pixels wide, in the type of
    ``levels``; ``along``: :func:`interpolated_rows` where already worked out."""
    along = interpolated_rows(levels, columns, width) if along is None else along
    along = along if along.shape[0] > 1 else np.repeat(along, 2, axis=0)
    before, weight = interpolation(rows, *span)
    weight = weight.astype(along.dtype)[:, None]
    return along[before] * (1 - weight) + along[before + 1] * weight


# Rows of the background worked out at once where it is subtracted: a big frame needs no second copy.
FLATTEN_CHUNK_ROWS = 256


def subtract_background(frame: np.ndarray, background: Background) -> np.ndarray:
    """``frame`` (float32, writeable) less ``background``, in place."""
    height, width = frame.shape
    along = interpolated_rows(background.levels, background.columns, width)
    for start in range(0, height, FLATTEN_CHUNK_ROWS):
        stop = min(start + FLATTEN_CHUNK_ROWS, height)
        frame[start:stop] -= interpolated(background.levels, background.rows, background.columns, (start, stop),
                                          width, along).astype(np.float32)
    return frame


def normalise(frame: np.ndarray, invert: bool = False, flatten_block: int | None = None,
              flatten_ratio: float | None = None, flattened: FrameRecord | None = None) -> np.ndarray:
    """Robust percentile scaling to about [0, 1], so 8-bit, 16-bit and float images look alike; an outlying
    spike at the frame's extremes (a hot column, a saturated patch, zero padding: see SPIKE_MIN_PIXELS) is
    left out of the range and its pixels set to the range's end. With ``flatten_block`` (px, several
    particle diameters), an uneven background that varies by at least ``flatten_ratio`` (default
    FLATTEN_RATIO) times the particles' contrast is subtracted first, read in blocks that wide (and recorded
    in ``flattened``)."""
    frame, _ = without_spikes(np.asarray(frame, dtype=np.float32))
    lo, hi = percentiles(frame, PERCENTILES)
    background = uneven_background(frame, lo, hi, flatten_block, flatten_ratio) if flatten_block else None
    if flattened is not None:
        flattened.add(background)
    if background is not None:
        frame = subtract_background(np.array(frame, dtype=np.float32), background)  # a copy: never the caller's
        lo, hi = percentiles(frame, PERCENTILES)
    lo, divisor, _ = percentile_scaling(frame, lo, hi)
    scaled = (frame - lo) / divisor
    return (1.0 - scaled if invert else scaled).astype(np.float32)


def percentile_span(lo: float, hi: float) -> float:
    """What normalising divides a frame less ``lo`` by to map ``lo``..``hi`` onto 0..1: their difference
    (in their type) however small, so that detection does not depend on the image's scale (a photocurrent's
    range of 1e-20 A is as good as 8 bits' 255; a floor of 1e-12 here squashed such frames to 0 and nothing
    was found), or 1 where they meet (a frame left constant reads 0). Below FLOAT32_TINY it is divided by in float64
    (:func:`percentile_scaling`, which every normalising path calls)."""
    return hi - lo if hi > lo else 1.0


def percentile_scaling(values: np.ndarray | torch.Tensor, lo: float, hi: float,
                       divisor_type: Callable[[float], float] = lambda span: span) -> tuple[float, float, bool]:
    """(lo, divisor, in_float64) that normalising ``values`` subtracts and divides by to map its percentiles
    ``lo``..``hi`` onto 0..1: the one rule of every path (host, device, volumes). Where the percentiles meet,
    the values' extremes instead: a frame that is mostly one value still shows its few particles. The divisor
    is :func:`percentile_span`'s in ``divisor_type`` (np.float32 where the division is in place in float32),
    except below FLOAT32_TINY, which float32 cannot hold: a np.float64 then, and ``in_float64`` says to divide
    in float64."""
    if hi <= lo:
        lo, hi = float(values.min()), float(values.max())
    span = percentile_span(lo, hi)
    in_float64 = span < FLOAT32_TINY
    return lo, (np.float64(span) if in_float64 else divisor_type(span)), in_float64


def frame_name(name: str, stack, index: int) -> str:
    """Frame ``index`` of ``stack`` (as_frames') as messages name it: ``name`` alone where the stack is one image,
    as the command line names a single image file; "image frame 0" sent the user looking for frames in an image
    that has none."""
    return name if stack.shape[0] == 1 else f"{name} frame {index}"


def as_frames(image: np.ndarray, name: str = "image") -> np.ndarray:
    """A (T, Y, X) view of a 2D image or a T/Z stack; anything else is a clear error.

    Array-likes with ``ndim``/``shape`` (dask arrays, lazy TIFF stacks) stay lazy: frames are
    read one at a time.
    """
    refuse_file_name(image, name)
    refuse_masked(image, name)  # first: NumPy drops a mask on reading a list of masked frames too
    if not hasattr(image, "shape") or not hasattr(image, "ndim"):
        image = frames_of_sequence(image, name)
    # Refusals name the shape given: detect passes this function's (1, 1, 128) of a (1, 128) on to itself.
    given = tuple(image.shape)
    if image.ndim > 2 and 1 in image.shape[1:] or image.ndim > 3 and 1 in image.shape:
        image = without_unit_axes(image, name)  # (Y, X, 1), (1, 1, Y, X): as the file readers squeeze them
    if image.ndim < 2 and len(given) >= 2:
        # One row or column of pixels once its length-1 axes are left out: too small, as a (1, 128) image is.
        check_frame_size(given[-2:], given, name)
    if image.ndim < 2:
        raise ParticleDetectError(f"{name}: expected a 2D image or a 3D T/Z stack, got shape {image.shape}")
    if image.ndim == 2:
        check_frame_size(image.shape, given, name)
        return np.asarray(image)[None]
    if image.shape[0] == 0:
        raise ParticleDetectError(f"{name}: no frames (shape {given}); nothing to detect")
    if image.ndim == 3:
        if image.shape[-1] in (3, 4) and image.shape[0] > 4:
            raise ParticleDetectError(
                f"{name}: looks like an RGB(A) image (shape {given}); convert it to greyscale first"
            )
        check_frame_size(image.shape[1:], given, name)
        return image
    if image.ndim == 4 and image.shape[-1] in (3, 4):
        raise ParticleDetectError(f"{name}: RGB(A) stacks are not supported (shape {given}); convert to greyscale")
    raise ParticleDetectError(f"{name}: expected a 2D image or a 3D T/Z stack, got {len(given)}D shape {given}")


def refuse_file_name(image: object, name: str, caller: str = "detect", what: str = "an image") -> None:
    """One ParticleDetectError for a path given where an array is taken: NumPy reads a string as a 0D array, which
    was refused as "a scalar", naming nothing of the file."""
    if isinstance(image, (str, bytes, os.PathLike)):
        raise ParticleDetectError(f"{name}: {caller} takes {what} array, not a file name ({os.fsdecode(image)!r}); "
                                  "read it first (napari_particle_detect.files.io.read_image) or run detect_files on "
                                  "paths")


def refuse_masked(image: object, name: str) -> None:
    """One ParticleDetectError for a NumPy masked array with masked pixels (or a list of frames holding one):
    reading it as an array drops the mask, and they were detected as if valid. Not honoured as NaN, which
    would leave each frame with one masked pixel without centres, nor filled, whose edge would read as
    particle rims: the caller knows what the masked pixels are worth."""
    frames = image if isinstance(image, (list, tuple)) else [image]
    masked = sum(int(np.ma.count_masked(frame)) for frame in frames if np.ma.is_masked(frame))
    if masked:
        pixels, them = (f"{masked} masked pixel", "it") if masked == 1 else (f"{masked} masked pixels", "them")
        raise ParticleDetectError(f"{name}: a masked array with {pixels}, which detection would read as valid; fill "
                                  f"{them} (image.filled(value)) or crop {them} away first")


def frames_of_sequence(image: object, name: str) -> np.ndarray:
    """A list (or other sequence) of frames as one array; frames of different shapes are refused by name,
    not with NumPy's "inhomogeneous shape"."""
    try:
        array = np.asarray(image)
    except ValueError:
        array = None
    if array is None or array.dtype == object:
        try:
            shapes = [np.shape(frame) for frame in image]
        except TypeError:
            shapes = []
        differ = sorted(set(shapes), key=shapes.index)
        if len(differ) > 1:
            raise ParticleDetectError(f"{name}: its frames differ in shape ({differ[0]} and {differ[1]}); a stack's "
                                      "frames share one shape: detect them one at a time")
        if array is None:
            raise ParticleDetectError(f"{name}: not an image array (a {type(image).__name__} NumPy cannot read "
                                      "as one)")
    return array


def without_unit_axes(image: object, name: str) -> object:
    """``image`` with its length-1 axes left out (kept lazy where the array can squeeze itself)."""
    axes = tuple(i for i, n in enumerate(image.shape) if n == 1)
    if isinstance(image, np.ndarray):
        return np.squeeze(image, axis=axes)
    if callable(getattr(image, "squeeze", None)):
        return image.squeeze(axis=axes)
    if image.ndim == 3:  # (1, Y, X) is a stack of one frame as it is; a lazy (Y, X, 1) is read as one frame
        return np.asarray(image[..., 0]) if image.shape[-1] == 1 else image
    raise ParticleDetectError(f"{name}: expected a 2D image or a 3D T/Z stack, got {image.ndim}D shape "
                              f"{image.shape}; leave out its length-1 axes")


def frame_indices(frames: object, count: int, name: str = "image") -> list[int]:
    """The indices of the frames to detect in a stack of ``count``: every frame for None; else whole
    numbers in the order given, each in range, a negative one counted from the end as Python counts
    (-1 is the last frame; kept as its index, count - 1), and each frame at most once: a frame named
    twice (0 and 0, or 0 and -count) is refused, not detected twice."""
    if frames is None:
        return list(range(count))
    if isinstance(frames, (str, bytes)) or not isinstance(frames, Iterable) or getattr(frames, "ndim", 1) != 1:
        one = "; for one frame give frames=[N]" if isinstance(frames, numbers.Integral) else ""
        raise TypeError(f"frames must be a list of frame indices or None (every frame), got "
                        f"{type(frames).__name__} {frames!r:.40}{one}")
    given = list(frames)
    if not given:
        raise ParticleDetectError(f"{name}: frames is empty; give the frames to detect, or frames=None for every one")
    indices: dict[int, object] = {}
    for frame in given:
        if not isinstance(frame, numbers.Integral) or isinstance(frame, bool):
            raise TypeError(f"frames must hold whole numbers (frame indices), got {type(frame).__name__} {frame!r:.40}")
        if not -count <= frame < count:
            raise ParticleDetectError(f"{name}: frame {frame} is out of range: {count} frame{'s' if count != 1 else ''}, "
                                      f"so 0 to {count - 1} (or -{count} to -1 from the end)")
        index = int(frame) + count if frame < 0 else int(frame)
        if index in indices:
            twice = (f"frame {frame} is given twice in frames" if indices[index] == frame
                     else f"frames {indices[index]} and {frame} are the same frame ({index})")
            raise ParticleDetectError(f"{name}: {twice}; each frame is detected once")
        indices[index] = frame
    return list(indices)


class FrameRecord:
    """The frames a backend prepared with something done to them (outlying spikes left out of their range,
    preprocessing.SPIKE_MIN_PIXELS; an uneven background subtracted, preprocessing.FLATTEN_RATIO): how
    many, and the first one's finding, so a caller can say so once per file."""

    def __init__(self) -> None:
        self.frames = 0
        self.first: Spikes | Background | None = None

    def add(self, found: Spikes | Background | None) -> None:
        if found is not None:
            self.frames += 1
            self.first = self.first or found


class GapRecord:
    """The frames a backend prepared with NaN or infinite pixels read as missing (MIN_FINITE_SHARE): how many,
    and how many of their pixels, so a caller can say so once per run."""

    def __init__(self) -> None:
        self.frames = 0
        self.missing = 0
        self.pixels = 0
        # Of sphere centres (the other kinds count none): those dropped within GAP_REACH radii of a gap, and those
        # kept whose measurements a gap leaves NaN (measurements.reaching_gaps), said so that the rows a table lacks,
        # or has without numbers, are explained.
        self.dropped = 0
        self.unmeasured = 0

    def add(self, missing: np.ndarray | None) -> None:
        if missing is not None:
            self.frames += 1
            self.missing += int(np.count_nonzero(missing))
            self.pixels += missing.size

    def add_centres(self, dropped: int, unmeasured: int) -> None:
        """A frame's centres ``dropped`` beside its gaps, and those kept ``unmeasured`` beside them."""
        self.dropped += dropped
        self.unmeasured += unmeasured

    def describe(self, unit: str = "pixel", item: str = "frame") -> str:
        """What was read as missing, in words (for a warning); of volumes, ``unit`` "voxel" and ``item`` "volume"."""
        share = non_finite_share(self.missing, self.pixels)
        counts = [f"{self.dropped} dropped"] if self.dropped else []
        if self.unmeasured:
            counts.append(f"{self.unmeasured} kept within a whole radius, where trackpy's measurements are NaN")
        centres = f" ({'; '.join(counts)})" if counts else ""
        units = f"{self.missing} NaN or infinite {unit}{'s' if self.missing != 1 else ''}"
        items = f"{self.frames} {item}{'s' if self.frames != 1 else ''}"
        return (f"{units} in {items}, {share} of their {unit}s (a "
                "mosaic's gaps?), read as missing: detected around them, and no centre kept within half a particle "
                f"radius{centres}")
