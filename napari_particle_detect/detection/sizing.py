"""Particle size: estimate it from the image, and rescale frames so particles match the model.

Rescaling uses the pixel-area convention (pixel i covers [i - 0.5, i + 0.5]), so a centre maps as
``y' = (y + 0.5) * f - 0.5`` and back exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
import torch.nn.functional as F
from scipy import ndimage

from ..kinds.heatmap import local_maxima
from .blobs import (DISC_SIGMA_TO_DIAMETER, Blobs, ScaleSpace, noise_responses, parabola_vertex, parabola_vertices,
                    pixel_noise_level)
from ..files.calibration import SQUARE_PIXELS_ADVICE
from .percentiles import percentiles
from .preprocessing import normalise

# Optics blur adds to the apparent size: d_apparent^2 ~ d^2 + 8 psf_sigma^2; assume psf_sigma ~ 0.7 px.
TYPICAL_PSF_SIGMA = 0.7
# The estimate reads a central crop this big: hundreds of particles, bounded time on huge frames;
# one this big when the first holds too few particles.
ESTIMATE_CROP = 384
SPARSE_ESTIMATE_CROP = 1024
# Scales tried between the smallest and largest diameter; the peak is refined between them.
BLOB_SCALES = 14
# A blob scale within this share of a step of the largest searched cannot tell the particles from larger
# ones (no scale above it to refine the peak against).
LARGEST_MARGIN_STEPS = 0.25
# Where the estimate reaches the largest size (60 px), it looks again, in the same steps up to this
# diameter (151 px, the last step below it), on a copy reduced this many times.
WIDEST_DIAMETER = 160.0
WIDE_REDUCTION = 2
# The second look's size is taken from this many times the largest (80 px) up: the detector takes
# particles a quarter off their size about alike (70 px ones detected as 60 px: F1 as at 70), while
# crowded 40-50 px spots, which reach 60 px, read 53-72 px there. On the generator's five looks at
# 70-150 px (40 images): mean F1 0.57 at 60 px, 0.87 with the second look, 0.93 at the true size; on
# 51 images of 30-50 px that reach 60 px, 0.694 and 0.695.
LARGER_BY = 4 / 3

# An uneven background as strong as the particles' contrast misleads the size estimate more than detection:
# blobs of the wrong size and rings that are not there (generator bright-field under background_gradient 4:
# 6.4 px, not ringed, for 12.8 px ringed; the seed demo under a ramp of its grey range: 22 px ringed for
# 15.5 px). Its crops are flattened first (preprocessing.normalise's flatten_block) where the background
# varies by at least SIZE_FLATTEN_RATIO times the particles' contrast, read in blocks SIZE_FLATTEN_BLOCK wide.
SIZE_FLATTEN_BLOCK = 64
SIZE_FLATTEN_RATIO = 0.5


def _normalised(crop: np.ndarray) -> np.ndarray:
    """A crop normalised for the estimate: flattened where its background is that uneven."""
    return normalise(crop, flatten_block=SIZE_FLATTEN_BLOCK, flatten_ratio=SIZE_FLATTEN_RATIO)


# The advice a crowded field's reason ends with (:func:`estimate_size`): a reason is said with other
# advice only where it has none of its own (:func:`with_advice`).
DIAMETER_ADVICE = "give the diameter if it is known"


# Said instead of DIAMETER_ADVICE of a doubtful size that detection does not depend on (span_matters).
SAME_DETECTION = "either size gives the same centres (both are enlarged the most the model does)"


def with_advice(reason: str, advice: str) -> str:
    """``reason``, then "; ``advice``" unless the reason already says what to do of the diameter."""
    own = (DIAMETER_ADVICE, SAME_DETECTION, SQUARE_PIXELS_ADVICE)
    return reason if any(words in reason for words in own) else f"{reason}; {advice}"


@dataclass(frozen=True)
class SizeEstimate:
    diameter: float  # px
    ringed: bool  # bright-field look: a core inside an opposite-signed ring
    confident: bool = True  # enough particle-like blobs of about this size stand out of the noise
    reason: str = ""  # why not, when not confident
    blobs: int = 0  # particle-like blobs found (scale-space maxima well above the noise)
    # Where two readings of the size disagree: the smaller and larger diameter they give (px), so a
    # model that works on both alike can tell the doubt changes nothing for it (span_matters).
    span: tuple[float, ...] = ()
    # The particles' mean shape, its extent along y over its extent along x (:func:`elongation`).
    elongation: float = 1.0


def estimate_size(
    frame: np.ndarray, min_diameter: float = 3.0, max_diameter: float = 60.0, scales: int = BLOB_SCALES,
) -> SizeEstimate:
    """Typical particle diameter in pixels: the blob scale, widened to the rim for ringed particles.

    Particles are found as blobs: maxima over position and scale of the scale-normalised
    Laplacian-of-Gaussian magnitude that are round (not a ridge) and stand BLOB_MIN_CONTRAST times
    above the response the image's own pixel noise gives at that scale. Where they are few and
    apart (a sparse field), their own scales give the size, so neither noise nor the fine structure
    of a few particles can outvote them. Where they crowd, each one's response is disturbed by its
    neighbours, and the scale whose response is strongest over the image (a high percentile) reads
    the size better. Either way, fewer than MIN_CONVINCING_BLOBS blobs near the chosen size make
    the estimate a guess, and it says so (``confident`` False, with the ``reason``).

    Sizes are searched from ``min_diameter`` to ``max_diameter``. One at the largest may be any
    larger: a second look reaches to about 150 px where the frame is large enough
    (:func:`_estimate_larger`): unless it confidently puts the particles within the sizes searched
    first, an estimate of or beyond the largest is never confident.

    Particles of COARSE_SIZES are read on a copy of the crop reduced COARSE_REDUCTION times (half the
    time), the others at full resolution (:func:`_read_crop`).

    Bright, dark and ringed particles all give a blob response, since its magnitude ignores the
    sign. A bright-field particle's blob is only its core; when the mean profile around the
    strongest blobs shows an opposite-signed ring that fades back to background, the ring's
    extremum marks the particle's edge (as it does in the generator's bright-field look).
    """
    frame = np.asarray(frame)
    sigmas = np.geomspace(min_diameter, max_diameter, scales) / DISC_SIGMA_TO_DIAMETER
    reading = _read_crop(_normalised(_central_crop(frame, ESTIMATE_CROP)), sigmas)
    if not reading.estimate.confident and max(frame.shape) > ESTIMATE_CROP:
        # Few particles in the centre: look further out before giving up.
        reading = _read_crop(_normalised(_central_crop(frame, SPARSE_ESTIMATE_CROP)), sigmas)
    if len(sigmas) > 1 and _at_largest(reading.sigma, sigmas):
        return _estimate_larger(frame, sigmas, reading.estimate)
    return reading.estimate


def _estimate_larger(frame: np.ndarray, sigmas: np.ndarray, estimate: SizeEstimate) -> SizeEstimate:
    """Where ``estimate`` reached the largest of ``sigmas``, the particles may be larger still: a
    second look in the same steps up to WIDEST_DIAMETER, on a copy of the larger crop reduced
    WIDE_REDUCTION times (particles that large need neither its pixels nor its time). Its reading
    replaces the first only from LARGER_BY times the largest, read from enough particles, and is
    flagged, as the first is where the particles may still be larger than it."""
    largest = float(sigmas[-1] * DISC_SIGMA_TO_DIAMETER)
    capped = _beyond(estimate, _may_be_larger(largest))
    crop = _central_crop(frame, SPARSE_ESTIMATE_CROP)
    wide = _wide_scales(sigmas, min(crop.shape))
    widest = float(wide[-1] * WIDE_REDUCTION * DISC_SIGMA_TO_DIAMETER)
    if widest < LARGER_BY * largest:  # too small a frame to hold a few such particles
        return capped
    reduced = rescale_frame(np.asarray(crop, dtype=np.float32), 1.0 / WIDE_REDUCTION)[0]
    reading = _estimate_in(normalise(reduced), wide, WIDE_REDUCTION)  # particles this large are no background
    if reading.estimate.confident and not _at_largest(reading.sigma, sigmas):
        return estimate  # the second look puts them within the sizes searched first
    if reading.estimate.diameter < LARGER_BY * largest or reading.near < MIN_CONVINCING_BLOBS:
        return capped
    if _at_largest(reading.sigma, wide * WIDE_REDUCTION):
        return _beyond(reading.estimate, _may_be_larger(widest))
    return _beyond(reading.estimate, f"the particles read as larger than {largest:.0f} px, beyond the sizes "
                                     "the estimate is tuned for")


def _wide_scales(sigmas: np.ndarray, side: int) -> np.ndarray:
    """Scales for the reduced copy: ``sigmas``' steps from its smallest up to WIDEST_DIAMETER, or to a
    third of the crop's smaller ``side`` (a few particles across) where that is less."""
    widest = min(WIDEST_DIAMETER, side / 3) / DISC_SIGMA_TO_DIAMETER / WIDE_REDUCTION
    step = sigmas[1] / sigmas[0]
    return sigmas[0] * step ** np.arange(max(int(np.log(widest / sigmas[0]) / np.log(step)), 1) + 1)


def _may_be_larger(diameter: float) -> str:
    return f"the particles may be larger than the largest size the estimate looks for ({diameter:.0f} px)"


def _at_largest(sigma: float, sigmas: np.ndarray) -> bool:
    """Whether a blob scale is within LARGEST_MARGIN_STEPS of the largest scale searched: the
    particles could be that size or any larger."""
    return bool(sigma * (sigmas[-1] / sigmas[-2]) ** LARGEST_MARGIN_STEPS >= sigmas[-1])


def _beyond(estimate: SizeEstimate, why: str) -> SizeEstimate:
    """``estimate`` flagged for ``why`` (the particles' size against the sizes searched), before any
    doubt it had already."""
    reason = f"{why}; {estimate.reason}" if not estimate.confident else f"{why}; {DIAMETER_ADVICE}"
    return replace(estimate, confident=False, reason=reason, span=())


def _read_crop(image: np.ndarray, sigmas: np.ndarray) -> _Reading:
    """The estimate in a normalised crop: first on its COARSE_REDUCTION times reduced block means (a quarter of the
    pixels, the scales from COARSE_MIN_SIGMA there), kept where that reads blobs of COARSE_SIZES; elsewhere, or
    where the crop is too small to reduce, at full resolution."""
    kept = sigmas / COARSE_REDUCTION >= COARSE_MIN_SIGMA
    if min(image.shape) >= COARSE_SMALLEST_CROP and kept.sum() >= 3:
        reduced = _block_means(image, COARSE_REDUCTION)
        # The thresholds the full-resolution look sets (white noise's mean over a block is that many times weaker).
        noise = noise_responses(COARSE_REDUCTION * pixel_noise_level(reduced), sigmas[kept])
        coarse = _estimate_in(reduced, sigmas[kept] / COARSE_REDUCTION, COARSE_REDUCTION, image, noise, COARSE_SIZES)
        if coarse is not None:
            return coarse
    return _estimate_in(image, sigmas)


def _block_means(image: np.ndarray, size: int) -> np.ndarray:
    """The means of ``image``'s whole ``size`` x ``size`` blocks (a last partial row or column of blocks left out):
    ``preprocessing.block_means``' values from strided sums, 5x faster on a 384 px crop (0.09 ms against 0.48)."""
    h, w = (n // size * size for n in image.shape)
    rows = sum(image[k:h:size, :w] for k in range(size))
    return sum(rows[:, k::size] for k in range(size)) / (size * size)


# The size is read first on a copy of the crop reduced this many times (2 x 2 block means), from the scales at
# least COARSE_MIN_SIGMA px there, and kept where its blob scale reads particles of COARSE_SIZES (px, the blobs'
# diameter: for ringed particles their cores'), with enough of them about that size (MIN_CONVINCING_BLOBS); where
# the image's strongest scale reads particles a step (COARSE_PERCENTILE_MARGIN) below those, the blobs are not even
# sought there. Elsewhere the full-resolution look reads it as before. Particles of 9-30 px need neither the crop's
# pixels nor its smallest scales: the speed benchmark's 512 px frame of 12 px spheres in 0.47-0.48 of the CPU time.
# Tuned on the 172 generator images of benchmarks/results/sizing_speed_s57.txt (five looks, 4-60 px, 5-60 % area):
# the 72 read so have |log(estimate / drawn)| 6.7 % median (full resolution 6.5 %), mean 11.2 % (11.2 %), no
# confidence changed; on 172 held-out ones 6.8 % (6.7 %), mean 11.8 % (12.3 %). Smaller particles read larger
# there (Gaussian and Airy spots of 6 px at 5 % area: 7.1 px for 6.3-6.4), larger ones lose the crowded readings'
# disagreement (opaque 38 px discs at 60 % area read sure at 33 px), and from 1 px of the reduced grid up a
# bright-field particle of 6 px read 12.7 px. Crops smaller than a whole one (frames under ESTIMATE_CROP) keep the
# full-resolution look: on benchmarks/accuracy.py --quick's 256 px images the reduced one moved the UNet's F1 with
# the size estimated by up to 0.004 (opaque discs at 90 % area); on its 512 px ones by at most 0.0014.
COARSE_REDUCTION = 2
COARSE_MIN_SIGMA = 0.8
COARSE_SIZES = (9.0, 30.0)
COARSE_PERCENTILE_MARGIN = 1.26
COARSE_SMALLEST_CROP = ESTIMATE_CROP


@dataclass(frozen=True)
class _Reading:
    estimate: SizeEstimate
    sigma: float  # the blob scale read (the frame's px)
    near: int  # blobs of about that scale


def _estimate_in(image: np.ndarray, sigmas: np.ndarray, pixel: float = 1.0, fine: np.ndarray | None = None,
                 noise: np.ndarray | None = None, wanted: tuple[float, float] | None = None) -> _Reading | None:
    """The estimate in ``image``; ``pixel``: the image's pixel in the frame's (``sigmas`` are the
    image's; sizes come back in the frame's pixels). ``fine``: the frame's pixels ``image`` holds the
    ``pixel`` x ``pixel`` block means of, where rings and shapes are read instead. ``noise``: each scale's
    noise response, where not the image's own. ``wanted``: the blob diameters (px) a reading is wanted for:
    None where it reads others, or too few blobs of its size."""
    # A block mean blurs by a box's variance ((pixel^2 - 1) / 12 px^2), which the scale read holds too.
    blur = (pixel * pixel - 1) / 12 if fine is not None else 0.0

    def diameter_of(s: float) -> float:
        return _scale_diameter(np.sqrt((s * pixel) ** 2 - blur))

    space = ScaleSpace.of(image, sigmas, BLOB_MIN_CONTRAST, noise)
    sigma = percentile = space.percentile_sigma()
    if wanted is not None and diameter_of(percentile) * COARSE_PERCENTILE_MARGIN < wanted[0]:
        return None
    blobs = space.blobs()
    own, crowding, coverage_ramp, busy_ramp = sigma, 1.0, 1.0, 0.0
    if len(blobs):
        # From the blobs' own scales where they are few and apart, to the percentile where they crowd.
        own = _weighted_median(blobs.sigma, blobs.response)
        coverage = blob_coverage(blobs, own, image.shape)
        coverage_ramp = _ramp(coverage, SPARSE_COVERAGE, CROWDED_COVERAGE)
        # Particles covering the crowded share crowd whatever the background: its busyness (two medians over the
        # crop, 0.4 ms) could not change the crowding, so it is read only where it can.
        busy_ramp = _ramp(space.busyness(own), QUIET_BACKGROUND, BUSY_BACKGROUND) if coverage_ramp < 1.0 else 0.0
        crowding = max(coverage_ramp, busy_ramp)
        sigma = float(np.exp((1.0 - crowding) * np.log(own) + crowding * np.log(sigma)))
    blob = diameter_of(sigma)
    near = _near(blobs, sigma)
    if wanted is not None and not (wanted[0] <= blob <= wanted[1] and near >= MIN_CONVINCING_BLOBS):
        return None
    at_blob = space.laplacian(blob / pixel / DISC_SIGMA_TO_DIAMETER) if crowding >= 0.5 or fine is not None else None
    centres = (blobs[:RING_PROFILE_BLOBS].centres() if crowding < 0.5
               else _strongest_blobs(at_blob, blob / pixel, RING_PROFILE_BLOBS))
    confident = near >= MIN_CONVINCING_BLOBS
    detail, detail_pixel = (image, pixel) if fine is None else (fine, 1.0)
    if fine is not None:
        centres = _in_blocks(centres, at_blob, pixel)
    # A fine image's grey levels from every other pixel, as the detected look reads them (look._ring): the same
    # levels in a quarter of the time.
    ring = ring_diameter(detail, blob / detail_pixel, centres, None if fine is None else GreyLevels.of(fine[::2, ::2]))
    diameter, ringed = (blob, False) if ring is None else (ring * detail_pixel, True)
    reason = "" if confident else _too_few(space, blobs, sigma, blob, diameter if ringed else None)
    span: tuple[float, ...] = ()
    if confident and crowding >= 0.5 and abs(np.log(own / percentile)) > np.log(CROWDED_DISAGREEMENT):
        confident = False
        # Which of the two made them read as crowded: many particles of about this size, or a response
        # at their scale everywhere (texture, out-of-focus haze, compression blocks).
        why = ("the particles crowd" if coverage_ramp >= 0.5
               else "the background is busy (texture, haze or compression)")
        reason = (f"{why} and the two readings of their size disagree ({diameter_of(own):.1f} px "
                  f"from their own blob scales, {diameter_of(percentile):.1f} px from the image's strongest "
                  f"scale): the estimate may be 20 % off; {DIAMETER_ADVICE}")
        if not ringed:
            span = tuple(sorted((diameter_of(own), diameter_of(percentile))))
    # Read from particles that stand out only: the mean of noise grains has any shape.
    stretch = elongation(detail, centres, blob / detail_pixel) if near >= MIN_CONVINCING_BLOBS else 1.0
    if abs(np.log(stretch)) > np.log(ELONGATED):
        confident, span = False, ()
        reason = "; ".join(filter(None, (stretched(stretch), reason)))
    estimate = SizeEstimate(diameter, ringed, confident, reason, len(blobs), span, stretch)
    return _Reading(estimate, float(sigma * pixel), near)


def _too_few(space: ScaleSpace, blobs: Blobs, sigma: float, blob: float, rim: float | None) -> str:
    """:func:`too_few_blobs` of ``blobs``, of the particles' polarity only (:func:`_particles_polarity`)."""
    if not len(blobs):
        return too_few_blobs(0, 0, blob, rim)
    particles = _particles_polarity(space, blobs, sigma)
    return too_few_blobs(_near(particles, sigma), len(particles), blob, rim)


def _particles_polarity(space: ScaleSpace, blobs: Blobs, sigma: float) -> Blobs:
    """The ``blobs`` of the sign that most of the response of those about scale ``sigma`` has (of the strongest
    blob's where none is): the dark gap between three bright particles stands out as a blob too, and was counted as
    one more particle-like blob "of any size"."""
    bright = _bright(space, blobs)
    near = _near_mask(blobs, sigma)
    if near.any():
        particles_bright = float(np.sum(np.where(bright[near], 1.0, -1.0) * blobs.response[near])) >= 0
    else:
        particles_bright = bool(bright[0])
    return blobs[bright == particles_bright]


def _bright(space: ScaleSpace, blobs: Blobs) -> np.ndarray:
    """Whether each of ``blobs`` is brighter than its surround: the Laplacian at its centre, on the scale nearest
    its own, is negative (the blob's response is its magnitude alone)."""
    scales = np.argmin(np.abs(np.log(blobs.sigma[:, None] / space.sigmas[None, :])), axis=1)
    bright = np.zeros(len(blobs), bool)
    for i in np.unique(scales):
        at = scales == i
        f, laplacian = space.factors[i], space.unnormalised[i]
        y = np.minimum(blobs.y[at].astype(int) // f, laplacian.shape[0] - 1)
        x = np.minimum(blobs.x[at].astype(int) // f, laplacian.shape[1] - 1)
        bright[at] = laplacian[y, x] < 0
    return bright


def too_few_blobs(near: int, found: int, blob: float, rim: float | None = None) -> str:
    """Why an estimate from ``near`` blobs of about ``blob`` px (``found`` of any size, all of the particles'
    polarity) is a guess, in words that read right for none and for one; ``rim``: a ringed particle's diameter, its
    blob being its core."""
    if found == 0:
        return "no particle-like blobs stand out of the noise"
    if near == 0:
        counted = "no particle-like blobs"
    elif near == 1:
        counted = "only 1 particle-like blob"
    else:
        counted = f"only {near} particle-like blobs"
    # A ringed particle's blob is its core: said so, beside the diameter reported (its rim's).
    cores = "" if rim is None else (f" (its core; its rim {rim:.1f} px)" if near == 1
                                    else f" (their cores; their rims {rim:.1f} px)")
    verb = "stands" if near == 1 else "stand"
    others = f" ({found} of any size)" if found != near else ""
    return f"{counted} of about {blob:.1f} px{cores} {verb} out of the noise{others}"


def _in_blocks(centres: np.ndarray, laplacian: np.ndarray, pixel: float) -> np.ndarray:
    """Whole-block ``centres`` (y, x) in the frame's pixels, each moved to its ``laplacian``'s extremum between
    the blocks around it: a bright-field rim read from a centre a pixel off can be missed."""
    magnitude = np.abs(laplacian)
    h, w = magnitude.shape
    y, x = (np.clip(np.asarray(centres[:, k], dtype=int), 1, n - 2) for k, n in ((0, h), (1, w)))
    dy = parabola_vertices(magnitude[y - 1, x], magnitude[y, x], magnitude[y + 1, x])
    dx = parabola_vertices(magnitude[y, x - 1], magnitude[y, x], magnitude[y, x + 1])
    return (centres + np.stack([dy, dx], axis=1)) * pixel + (pixel - 1) / 2


# Particles whose mean shape reads this many times longer along one axis than along the other are not the round
# ones the sphere model and the size estimate take: most often the pixels are not square (a calibration with
# another pixel size in y than in x). Detection of round particles stretched 2x found 621 centres for 345
# (F1 0.32), with the estimate sure of its size. Round particles read 0.88-1.38 (the generator's five looks at
# area fractions 0.1-0.9, the shared real images, chains; 118 of 120 draws of the training mix up to 1.25, the
# others 2.3, three particles whose estimate read texture as 5 px ones, and 2.5, a busy field in doubt already),
# stretched 1.5x 1.46-1.52, 2x 1.94-2.0.
ELONGATED = 1.6


def elongation(image: np.ndarray, centres: np.ndarray, diameter: float) -> float:
    """The mean shape of the particles at ``centres`` (y, x) of ``image``, about ``diameter`` px across: the
    extent of its central lobe (above half its peak against the window's edge) along y over that along x, from
    second moments; 1 where fewer than MIN_CONVINCING_BLOBS particles lie wholly in the image to read it from."""
    reach = int(np.ceil(diameter))
    h, w = image.shape
    centres = np.rint(np.asarray(centres, dtype=float)).astype(int).reshape(-1, 2)
    centres = centres[np.all((centres >= reach) & (centres < np.array([h, w]) - reach), axis=1)]
    if len(centres) < MIN_CONVINCING_BLOBS:
        return 1.0
    side = 2 * reach + 1
    patch = _windows(image, centres, reach).mean(axis=0, dtype=_window_type(image)).reshape(side, side)
    offsets = np.arange(-reach, reach + 1, dtype=float)
    squared = offsets[:, None] ** 2 + offsets[None, :] ** 2
    core = patch - np.median(patch[squared > (reach - 1) ** 2])
    core *= np.sign(core[reach, reach])  # dark particles as bright ones
    half = 0.5 * core[reach, reach]
    lobes, _ = ndimage.label(core >= half)
    weights = np.where(lobes == lobes[reach, reach], core - half, 0.0)
    along_y, along_x = (weights * offsets[:, None] ** 2).sum(), (weights * offsets[None, :] ** 2).sum()
    return float(np.sqrt(along_y / along_x)) if along_y > 0 and along_x > 0 else 1.0


def stretched(ratio: float) -> str:
    """The doubt of particles whose mean shape reads ``ratio`` (:func:`elongation`) stretched, in words."""
    longer, shorter = ("y", "x") if ratio > 1 else ("x", "y")
    return (f"the particles read {max(ratio, 1 / ratio):.1f} times as long along {longer} as along {shorter}, "
            f"where round ones are expected: if the pixels are not square (a pixel size in y other than in x), "
            f"{SQUARE_PIXELS_ADVICE}; the size and the centres may be off")


def _scale_diameter(sigma: float) -> float:
    return _without_typical_blur(sigma * DISC_SIGMA_TO_DIAMETER)


# A particle's blob response stands at least this many noise levels above the noise's own response
# at its scale (white noise gives maxima of about 4-5 over a whole image).
BLOB_MIN_CONTRAST = 10.0
# Fewer particle-like blobs than this, within BLOB_SIZE_AGREEMENT of the chosen size: a guess.
MIN_CONVINCING_BLOBS = 4
BLOB_SIZE_AGREEMENT = 1.3
# Particles of about the typical size covering up to SPARSE_COVERAGE of the image, on a background
# whose response at their scale is plain noise (at most QUIET_BACKGROUND times white noise's), are
# apart: their own scales give the size. From CROWDED_COVERAGE, or from BUSY_BACKGROUND (particles,
# texture or compression everywhere), they crowd and disturb each other's responses, and the
# percentile, as tuned on crowded and real images, reads the size. In between, the two blend
# (geometrically).
SPARSE_COVERAGE = 0.08
CROWDED_COVERAGE = 0.2
QUIET_BACKGROUND = 2.5
BUSY_BACKGROUND = 4.0
# Where particles crowd, the blobs' own scales and the strongest scale over the image are two readings
# of the size; a ratio beyond 1.18 either way flags the estimate. Measured on benchmarks/_scenes.py
# images (seeds 777000+, not the benchmark's): the estimate was off by 16-20 % (Gaussian spots at
# 300-600 per 256^2, fluorescent spheres at 600) only where the readings differed by a ratio of
# 0.77-0.82; where they agree within 0.89-1.02 it was within 12 %.
CROWDED_DISAGREEMENT = 1.18
# Blobs whose mean radial profile decides whether particles are ringed.
RING_PROFILE_BLOBS = 60


def estimate_diameter(frame: np.ndarray, min_diameter: float = 3.0, max_diameter: float = 60.0) -> float:
    """Typical particle diameter in pixels (see :func:`estimate_size`)."""
    return estimate_size(frame, min_diameter, max_diameter).diameter


def blob_coverage(blobs: Blobs, sigma: float, shape: tuple[int, int]) -> float:
    """Share of the image covered by the blobs of about scale ``sigma``, as discs of that size.

    Blobs of other sizes (a gradient's or a cluster's broad response, specks) do not count: a few
    broad ones would otherwise outweigh many particles."""
    return float(_near(blobs, sigma) * np.pi * (sigma * DISC_SIGMA_TO_DIAMETER / 2) ** 2 / (shape[0] * shape[1]))


def _near(blobs: Blobs, sigma: float) -> int:
    """How many blobs are within BLOB_SIZE_AGREEMENT of scale ``sigma``."""
    return int(np.sum(_near_mask(blobs, sigma)))


def _near_mask(blobs: Blobs, sigma: float) -> np.ndarray:
    return np.abs(np.log(blobs.sigma / sigma)) < np.log(BLOB_SIZE_AGREEMENT)


def _ramp(value: float, low: float, high: float) -> float:
    return float(np.clip((value - low) / (high - low), 0.0, 1.0))


def _without_typical_blur(apparent: float) -> float:
    return float(np.sqrt(max(apparent**2 - 8 * TYPICAL_PSF_SIGMA**2, (0.75 * apparent) ** 2)))


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(np.asarray(weights, dtype=float)[order])
    return float(np.asarray(values)[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])])


@dataclass(frozen=True)
class GreyLevels:
    """An image's grey levels that a ring is judged against."""

    median: float
    low: float  # 5th percentile
    high: float  # 95th percentile
    image: np.ndarray = field(repr=False, compare=False)  # left unchanged while these levels are in use
    # low and high as percentiles gave them (NumPy floats): as Python floats, np.histogram made the background's
    # bin edges float32 for a float32 image, which moved the background level.
    ends: tuple = field(repr=False, compare=False, default=())

    @classmethod
    def of(cls, image: np.ndarray) -> GreyLevels:
        low, median, high = percentiles(image, (5.0, 50.0, 95.0))
        return cls(float(median), float(low), float(high), image, (low, high))

    @cached_property
    def background(self) -> float:
        """:func:`background_level`, read when first asked for: :func:`ring_diameter` asks only of a profile that
        passed its other tests (plain particles' seldom do), and it cost more than the rest of the levels."""
        return background_level(self.image, *(self.ends or (self.low, self.high)))


def ring_diameter(image: np.ndarray, blob: float, centres: np.ndarray | None = None,
                  levels: GreyLevels | None = None, profile: np.ndarray | None = None) -> float | None:
    """Twice the radius of an opposite-signed ring around the blobs' cores, or None if there is none.

    ``centres`` are the cores' (y, x); by default the strongest Laplacian-of-Gaussian extrema at
    the ``blob`` scale. ``levels``: the image's (GreyLevels.of it by default). ``profile``: the
    :func:`radial_profile` of ``centres`` (whole pixels inside ``image``) to ``ring_reach(blob)`` or
    further, where the caller reads it for several blobs; its first rings are that reach's bit for bit.

    A ring counts when it is at least RING_MIN_CONTRAST of the core's contrast, lies within
    RING_MAX_REACH blob radii, fades to RING_FADE of its depth further out, is among the image's
    extreme values (within RING_EXTREME of the 5-95 % range from its end) and lies beyond the
    background (RING_BEYOND_BACKGROUND). Between crowded plain discs the gaps make an
    opposite-signed lobe too, but one diluted toward mid-grey, or at most background.
    """
    if centres is None:
        centres = _strongest_blobs(ndimage.gaussian_laplace(image, blob / DISC_SIGMA_TO_DIAMETER), blob, RING_PROFILE_BLOBS)
    if len(centres) == 0:
        return None
    reach = ring_reach(blob)
    profile = radial_profile(image, centres, reach) if profile is None else profile[:reach]
    levels = GreyLevels.of(image) if levels is None else levels
    median = levels.median
    # The core's sign against its own surroundings: in crowded bright-field the core can sit on
    # the image's median while still standing out from the ring around it.
    sign = np.sign(profile[0] - np.mean(profile[-3:]))
    opposite = -sign * (profile - median)
    k = int(np.argmax(opposite[: int(RING_MAX_REACH * blob / 2) + 1]))
    depth = opposite[k]
    low, high = levels.low, levels.high
    extreme = profile[k] <= low + RING_EXTREME * (high - low) if sign > 0 else profile[k] >= high - RING_EXTREME * (high - low)
    if k == 0 or depth < RING_MIN_CONTRAST * abs(opposite[0]) or not extreme:
        return None
    beyond = -sign * (profile[k] - levels.background) >= RING_BEYOND_BACKGROUND * (high - low)
    if not beyond or not np.any(opposite[k:] <= RING_FADE * depth):
        return None
    shift = parabola_vertex(*opposite[k - 1 : k + 2]) if k + 1 < reach else 0.0
    return float(2 * (k + 0.5 + shift))  # ring k covers radii [k, k + 1)


def ring_reach(blob: float) -> int:
    """Rings of the radial profile :func:`ring_diameter` reads around cores of ``blob`` px."""
    return int(np.ceil(RING_MAX_REACH * blob)) + 2


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


def _strongest_blobs(laplacian: np.ndarray, diameter: float, count: int) -> np.ndarray:
    """(y, x) of the ``count`` strongest extrema of an image's ``laplacian`` of Gaussian (at the scale of
    particles of ``diameter``) at least a radius apart."""
    magnitude = np.abs(laplacian)
    # Only the 1 % above the percentile are tested against their neighbours: the maxima a maximum filter of
    # the whole image finds (its mirrored edges add no value the window lacks), in raster order, 3x faster.
    peaks = local_maxima(magnitude, percentiles(magnitude, (99.0,))[0], int(diameter / 2))
    return peaks[np.argsort(-magnitude[peaks[:, 0], peaks[:, 1]])[:count]]


def radial_profile(image: np.ndarray, centres: np.ndarray, reach: int) -> np.ndarray:
    """Mean intensity in 1 px rings around the given whole-pixel centres (ring k covers k <= r < k + 1)."""
    image = np.asarray(image)
    centres = np.rint(np.asarray(centres, dtype=float)).astype(int).reshape(-1, 2)
    offsets = np.arange(-reach, reach + 1)
    r = np.hypot(offsets[:, None], offsets[None, :])
    near = r < reach
    ring = r[near].astype(int)
    h, w = image.shape
    rows_in = (centres[:, :1] + offsets >= 0) & (centres[:, :1] + offsets < h)
    cols_in = (centres[:, 1:] + offsets >= 0) & (centres[:, 1:] + offsets < w)
    seen = rows_in.any(axis=1) & cols_in.any(axis=1)  # a window wholly outside adds nothing
    centres, rows_in, cols_in = centres[seen], rows_in[seen], cols_in[seen]
    # Windows from a zero-padded copy, not clipped index arrays into the image (4-8x slower on the look's 200
    # centres), summed over the centres in float64 as the clipped values were: NumPy's sum over the first axis adds
    # them in the same order, so the profile is the same bit for bit (tests/test_s53_speed_exact.py). Summed whole
    # before the ring's pixels are picked: no copy of each window's pixels (the look's 200 centres at reach 35:
    # 4 MB). One pixel a window (reach 1) is summed as the clipped values were: pairwise, as a single run.
    sums = (_windows(image, centres, reach).sum(axis=0, dtype=float).reshape(-1)[np.flatnonzero(near)] if reach > 1
            else _window_values(image, centres, reach, np.flatnonzero(near)).sum(axis=0, dtype=float))
    total = np.bincount(ring, weights=sums, minlength=reach)
    # Pixels inside the image per window pixel, over the centres: all of a window wholly inside, of the others
    # those inside along both axes.
    whole = rows_in.all(axis=1) & cols_in.all(axis=1)
    cut = ~whole
    inside = np.einsum("ip,iq->pq", rows_in[cut].astype(np.intp), cols_in[cut].astype(np.intp))[near]
    count = np.bincount(ring, weights=inside + int(whole.sum()), minlength=reach)
    return total / np.maximum(count, 1)


def _window_values(image: np.ndarray, centres: np.ndarray, reach: int, pixels: np.ndarray) -> np.ndarray:
    """(centres, pixels): the image at each of the flat ``pixels`` of a square window of ``reach`` around each centre,
    0 outside the image, C-ordered, in the type ``np.where(inside, values, 0.0)`` gives."""
    side = 2 * reach + 1
    values = _windows(image, centres, reach).reshape(len(centres), side * side).take(pixels, axis=1)
    return np.ascontiguousarray(values, dtype=_window_type(image))


def _windows(image: np.ndarray, centres: np.ndarray, reach: int) -> np.ndarray:
    """(centres, side, side): the square window of ``reach`` around each centre, 0 outside the image, in the image's
    type. Every centre's window reaches the image, so it lies within a margin of twice ``reach``."""
    side, pad = 2 * reach + 1, 2 * reach
    h, w = image.shape
    padded = np.zeros((h + 2 * pad, w + 2 * pad), dtype=image.dtype)
    padded[pad : pad + h, pad : pad + w] = image
    return sliding_window_view(padded, (side, side))[centres[:, 0] + reach, centres[:, 1] + reach]


def _window_type(image: np.ndarray) -> np.dtype:
    """The type the clipped values ``np.where(inside, values, 0.0)`` had: float32 stays, integers become float64."""
    return np.result_type(image.dtype, 0.0)


def central_corner(shape: tuple[int, ...], size: tuple[int, int]) -> tuple[int, int]:
    """(y0, x0) of a window of ``size`` (at most the frame's) centred in a frame of ``shape`` (its last two axes)."""
    h, w = shape[-2:]
    return max((h - size[0]) // 2, 0), max((w - size[1]) // 2, 0)


def _central_crop(frame: np.ndarray, size: int) -> np.ndarray:
    y0, x0 = central_corner(frame.shape, (size, size))
    return frame[y0 : y0 + size, x0 : x0 + size]


def span_matters(estimate: SizeEstimate, working_diameter: float) -> bool:
    """Whether an estimate's doubt can change what a model of ``working_diameter`` sees: False where
    both readings of the size (``span``) bring frames to the same scale (small particles are enlarged
    at most MAX_ENLARGEMENT times whichever they are), so no diameter the user gives would either."""
    if len(estimate.span) != 2:
        return True
    low, high = (scale_for_diameter(d, working_diameter) for d in estimate.span)
    return abs(np.log(low / high)) > np.log(1.05)


def scale_for_diameter(diameter: float, working_diameter: float) -> float:
    """Factor that brings particles of ``diameter`` to the model's working size, enlarging at most
    MAX_ENLARGEMENT times.

    The working size (a model card's ``canonical_diameter``) is where the model separates crowded
    particles best, measured, not the middle of its training range; within 5 % no resampling is done.
    """
    factor = min(float(working_diameter / diameter), MAX_ENLARGEMENT)
    return 1.0 if abs(factor - 1.0) < 0.05 else factor


# Enlarging further turns the camera's pixel noise into soft blobs the size of small particles,
# and the network finds some. Small particles then reach the network smaller than its working
# size, which costs it little: on the generator's sparse images of 4-5 px particles (Gaussian,
# Airy, fluorescent, opaque), F1 0.91-0.99 when enlarged 3-4.2x, 0.99-1.00 at 2x.
MAX_ENLARGEMENT = 2.0


# Pixels above which an 8 or 16 bit frame is resampled without a float32 copy (see rescale_frame).
COPY_FREE_ABOVE = 4096 * 4096


def rescale_frame(frame: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """Resample by ``factor`` (>1 enlarges), pixel-area convention; Gaussian pre-filter on shrink.

    Returns the float32 image and the per-axis factors actually applied (output sizes are whole
    pixels), which are what centres must be mapped with. The bilinear step is torch's on the CPU:
    the values of ``ndimage.zoom(order=1, mode="nearest", grid_mode=True)`` to float rounding
    (its source coordinates are float32: within 1e-4 px at 2560 px) and 15x faster (a 512 px
    frame enlarged to 640 px: 0.3 ms against 4.6). The blur reads 8 and 16 bit frames as they
    are; torch needs a float32 copy, so an 8 or 16 bit frame of more than COPY_FREE_ABOVE pixels
    goes through SciPy's zoom instead, which reads them as they are (a 16384 px 16-bit frame
    enlarged 1.25x: 1.6 GB above the process against 2.6 GB through torch).
    """
    if factor == 1.0:
        return np.asarray(frame, dtype=np.float32), np.ones(2)
    if factor < 1.0:
        frame = ndimage.gaussian_filter(frame, shrink_blur(factor), output=np.float32)
    out_shape, zoom = resampled_shape(frame.shape, factor)
    if frame.size > COPY_FREE_ABOVE and np.issubdtype(frame.dtype, np.integer) and frame.dtype.itemsize <= 2:
        return ndimage.zoom(frame, zoom, order=1, mode="nearest", grid_mode=True, output=np.float32), zoom
    # torch takes neither negative strides nor read-only memory (a memory-mapped file's frame).
    tensor = torch.from_numpy(np.require(frame, dtype=np.float32, requirements=("C", "W")))
    return resample_bilinear(tensor, out_shape).numpy(), zoom


def resample_bilinear(frame: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """A 2D tensor resampled to ``shape``: bilinear, pixel-area convention, edge values extended."""
    return F.interpolate(frame[None, None], size=tuple(shape), mode="bilinear", align_corners=False)[0, 0]


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
