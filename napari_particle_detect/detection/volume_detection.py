"""Centres of particles in volumes (Z, Y, X): resample to the 3D model's working grid, run the
network tile by tile, decode 3D peaks, map centres back to the volume's voxels.

The particle size per axis comes from ``--diameter`` (one value: xy, z from the voxel size; three:
z, y, x in voxels), or is estimated: xy by the 2D estimator on the sharpest middle slices, z from
the voxel size when known, else from how far the image stays alike along z against along y.
"""

from __future__ import annotations

import hashlib
import logging
import math
import numbers
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..files.axes import Axes, ConstantVolumeError, read_volumes, refuse_gaps, volume_and_gaps
from ..files.calibration import Calibration, file_calibration
from ..files.frame_ranges import checked_frames, frames_in_range
from ..files.tables import VoxelSize, same_voxel_size
from ..errors import ParticleDetectError
from ..kinds.heatmap3d import decode3d
from .volume_resampling import (despiked_volume, from_working, levelled_slices, normalise_volume, own_voxels,
                                refilled_gaps, resample_volume, working_factors)
from .preprocessing import (FrameRecord, GapRecord, clear_of_gaps, find_spikes, frame_indices, refuse_file_name,
                            refuse_masked)
from .choices import DEVICE_CHOICES, RUNTIME_CHOICES, applied_threshold, check_count, check_progress, check_threshold
from .threads import keeps_torch_threads

if TYPE_CHECKING:
    import torch

    from ..models import DetectorModel

log = logging.getLogger(__name__)

VOLUME_COLUMNS = ["frame", "z", "y", "x", "score"]
DEFAULT_VOLUME_MODEL = "unet3d"
# Apparent z size over the physical one in the autocorrelation, for the confocal PSFs the model was
# trained for (2-4x longer in z): measured on the generator (benchmarks/volumes.py prints the check).
APPARENT_Z_WIDENING = 1.65
# A slice cuts most spheres off their equator, so the 2D estimate on one slice reads small: 0.84 of
# the diameter (median over 30 generator volumes of varied optics and density).
SECTION_FACTOR = 0.84
# Estimated xy diameters are kept within the 3D model's training range (7-14 px), widened a little.
ESTIMATE_RANGE = (5.0, 20.0)
# Slices read under that range are read again smoothed by a Gaussian this many pixels wide: on dim, noisy volumes the
# 2D estimate reads noise grains (2.3 px on most slices of 10 px shells at 60 photons, clamped to 5 px: F1 0.25-0.28
# against 0.83-0.88 with the diameter given); smoothed, the same slices read 7.5-11 px.
NOISY_SECTION_SMOOTHING = 1.0
# Hollow-looking particles (the generator's dye shells, membrane stains) are rings on a slice: the 2D estimate reads
# their wall (16 px shells read 5-9 px, F1 0.08-0.31 against 1.0 with the diameter given). Slices are read again with
# their dark ring-enclosed centres filled (grey-level hole filling after a Gaussian of so many pixels); that reading
# wins where it is so many times the plain one or more. On the generator, walls read 1.9-4.8 times smaller than the
# filled rings, while filled spheres read at most 1.6 times larger filled (6 px ones packed at 0.45: their gaps
# close). Where the slices read noise, a second, smoother look (at 15 photons one Gaussian pixel leaves the rings
# broken) must read larger still: smoothed that much, packed 6 px shells merge, 1.8 times larger.
RING_READINGS = ((1.0, 1.75), (2.0, 2.0))  # (smoothing, pixels; times the plain reading), the second on noisy slices
RING_FILL_LEVELS = 64
# Under this plain reading (slice pixels) the rings are not read at all: 5-5.5 px solid spheres packed at 0.45 read
# 4.0-4.9 px, and their dark gaps, enclosed by the spheres around them, filled read twice that (10 px; F1 0.92 ->
# 0.05); the shells the filling is for read 5.2 px and more (their walls).
RING_MIN_READING = 5.0
RINGS_NOTE = "the slices read as rings"  # how a sizing's reason begins where the rings' reading was used
Z_DOUBT = "z: "  # how the z size's doubt begins in a sizing's reason (:func:`_z_doubt`)
# The z autocorrelation is read over the volume's own slices, fewer pairs at each longer lag, so a shallow
# volume reads z small: under 5 half-widths deep by a quarter or more, against about 15 % at 10 half-widths
# (generator, z steps 1 and 2.5 px). Shallower, the estimate is said to be of low confidence.
SLICES_PER_Z_HALF_WIDTH = 5.0
# A series (t, z, y, x) whose second axis is this long while its first is this many times longer looks like
# one volume of channels (z, c, y, x), as microscopes export them.
CHANNEL_COUNTS = (2, 3, 4)
CHANNELS_BEHIND_SLICES = 4
# Particles this many voxels across along an axis or more are detected: under it a slice (or pixel) is twice as deep as
# they are, and the working grid enlarges that axis 12 times or more (generator volumes: 3.3 z voxels at fewest).
MIN_DIAMETER_VOXELS = 0.5
# The sizing sources whose z diameter is the autocorrelation's along z (:func:`volume_sizing`): no measure at all
# on a volume of a few slices.
Z_ESTIMATED = ("estimated", "given xy, z estimated")


@dataclass(frozen=True)
class VolumeOptions:
    """How volumes are detected (checked by :func:`check_volume_options` when detection starts).

    ``threshold``: the score in [0, 1) a centre needs (None: the model's own). ``diameter``: the particles'
    size, one number (xy: along y, in y voxels; x from it by ``voxel_size`` where y and x voxels differ, z from
    ``voxel_size`` or estimated) or three (z, y, x voxels); None: estimated. ``voxel_size``: z, y, x in one unit
    (their ratios size z and x from y). ``device``: auto (a CUDA GPU where there is one, else the CPU), cpu, cuda
    or mps. ``window``: working voxels per tile side.
    ``threads``: torch's CPU threads (None: as they are). ``runtime``: auto, torch, onnx or openvino.
    ``frames``: the time points of a file's series to detect (:func:`detect_volume_file`), as ``--frames`` gives
    them ("0:10", "3,7,9": frame_ranges.frame_range); None: every one.
    """

    threshold: float | None = None
    diameter: float | tuple[float, ...] | None = None  # xy, (xy,) or (z, y, x), voxels
    voxel_size: tuple[float, float, float] | None = None  # z, y, x: their ratios size z from xy (any one unit)
    device: str = "auto"
    window: int = 96
    threads: int | None = None
    runtime: str = "auto"  # "auto": ONNX Runtime float32 on a CPU (about 1.5x torch on a 96^3 tile), torch on a GPU
    frames: str | None = None


@dataclass
class VolumeSizing:
    diameter: tuple[float, float, float]  # z, y, x voxels
    source: str  # "given", "voxel size", "estimated"
    confident: bool = True
    reason: str = ""
    extra: dict = field(default_factory=dict)


def _numbers(value: object, what: str, counts: tuple[int, ...], meaning: str) -> tuple[float, ...]:
    """``value`` as a tuple of ``counts`` positive finite numbers (one number counts as one), else a
    ParticleDetectError (TypeError for something that is no number at all) saying ``meaning``."""
    given = (value,) if isinstance(value, numbers.Real) else value
    if isinstance(given, (str, bytes)) or not isinstance(given, (Sequence, np.ndarray)):
        raise TypeError(f"{what} must be {meaning}, got {type(value).__name__} {value!r:.40}")
    given = tuple(given)
    if any(not isinstance(v, numbers.Real) or isinstance(v, bool) for v in given):
        raise TypeError(f"{what} must be {meaning}, got {value!r:.60}")
    if len(given) not in counts:
        got = "one number" if len(given) == 1 else f"{len(given)} numbers"
        raise ParticleDetectError(f"{what} must be {meaning}, got {got}: {value!r:.60}{_cubes(what, given, counts)}")
    if not all(math.isfinite(v) and v > 0 for v in given):
        raise ParticleDetectError(f"{what} must be {meaning}, got {value!r:.60}")
    return tuple(float(v) for v in given)


def _cubes(what: str, given: tuple, counts: tuple[int, ...]) -> str:
    """The three numbers to write where one positive number was given for three: cubic voxels are the likely
    meaning, and ``voxel_size=0.5`` names no axis."""
    if len(given) != 1 or 1 in counts or not (math.isfinite(given[0]) and given[0] > 0):
        return ""
    return f" (for cubic voxels: {what}=({given[0]:g}, {given[0]:g}, {given[0]:g}))"


def check_volume_options(options: VolumeOptions) -> VolumeOptions:
    """``options`` checked before any work, one clear error per mistake (a ParticleDetectError for a value
    out of range, a TypeError for something of another type); a diameter given as one number comes back as
    ``(xy,)``, and frames in frame_range's one text per range (so one range has one fingerprint). A device asked
    for that is not there (cuda without a CUDA GPU) is refused here too."""
    if not isinstance(options, VolumeOptions):
        raise TypeError(f"options must be a VolumeOptions, got {type(options).__name__}")
    check_threshold(options.threshold)
    diameter = options.diameter
    if diameter is not None:
        diameter = _numbers(diameter, "diameter", (1, 3), "one positive number (xy, voxels) or three (z, y, x "
                                                          "voxels), or None to estimate it")
    voxel_size = options.voxel_size
    if voxel_size is not None:
        voxel_size = _numbers(voxel_size, "voxel_size", (3,), "three positive numbers, a voxel's size along z, y "
                                                              "and x in micrometres, or None")
    if not isinstance(options.runtime, str) or options.runtime.lower() not in RUNTIME_CHOICES:
        raise ParticleDetectError(f"unknown runtime {options.runtime!r}; choose one of {', '.join(RUNTIME_CHOICES)}")
    check_count(options.window, "window", "voxels")  # and a multiple of the network's stride: check_window
    check_count(options.threads, "threads", "threads", "torch's threads as they are")
    volume_device(options.device)
    return replace(options, diameter=diameter, voxel_size=voxel_size, frames=checked_frames(options.frames))


def volume_device(requested: object = "auto") -> torch.device:
    """The device a volume is detected on: for "auto" a CUDA GPU where there is one, else the CPU (the 3D
    network is not run on MPS unless asked for); a device asked for by name must be there
    (devices.select_device's refusals)."""
    import torch

    from .devices import select_device

    if isinstance(requested, torch.device):
        return select_device(requested)
    if not isinstance(requested, str):
        raise TypeError(f"device must be one of {', '.join(DEVICE_CHOICES)} or a torch.device, got "
                        f"{type(requested).__name__} {requested!r:.40}")
    if requested.lower() == "auto":
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    return select_device(requested)


# How to pick one channel of an array, and of a file (whose channels the command line reads from its axes).
PICK_ARRAY_CHANNEL = "pick one channel: array[:, c]"
PICK_FILE_CHANNEL = "save it with its axes (ImageJ ZCYX, OME-TIFF) and give --channel N (channel=N)"
# What a series with identical volumes may be, and what to do (:class:`_TwinVolumes`).
TWINS_AS_CHANNELS = "if the series' first axis holds channels of one volume (c, z, y, x), {}"
TWINS_IN_TIME = "its metadata names that axis time (T): was a volume saved twice?"


def check_volume_shape(volume: object, name: str = "volume", series: bool = False,
                       pick_channel: str = PICK_ARRAY_CHANNEL) -> None:
    """A volume is 3D (z, y, x) of two slices or more; with ``series``, a series of them (t, z, y, x) too.
    Anything else is a ParticleDetectError saying what to give instead. A series that looks like one volume
    of a few channels (z, c, y, x) is detected as asked, with a warning saying how to pick a channel
    (``pick_channel``)."""
    refuse_masked(volume, name)  # its mask would be dropped unsaid, as of 2D images (preprocessing.as_frames)
    shape = tuple(getattr(volume, "shape", np.shape(volume)))
    dims = (3, 4) if series else (3,)
    text = "x".join(map(str, shape)) or "a scalar"
    _refuse_colour(shape, text, name, pick_channel)
    if len(shape) in dims:
        if shape[-3] < 2:
            raise ParticleDetectError(f"{name}: a volume needs at least 2 slices along z, this one has {shape[-3]} "
                                      f"(shape {text}); detect 2D images with detect()")
        if _many_channel_like_slices(shape):
            log.warning("%s: shape %s is read as %d volumes of %d slices (t, z, y, x); if it is one volume of %d "
                        "channels (z, c, y, x), %s", name, text, shape[0], shape[1], shape[1], pick_channel)
        return
    if len(shape) == 2:
        raise ParticleDetectError(f"{name}: a 2D image ({text}); a volume is 3D (z, y, x): detect 2D images "
                                  "with detect()")
    if len(shape) == 4:
        raise ParticleDetectError(f"{name}: a 4D array ({text}); detect_volume takes one volume (z, y, x): give "
                                  "a series (t, z, y, x) to detect_volumes")
    wanted = "a volume (z, y, x) or a series of volumes (t, z, y, x)" if series else "a volume (z, y, x)"
    raise ParticleDetectError(f"{name}: a {len(shape)}D array ({text}); give {wanted}")


def _many_channel_like_slices(shape: tuple[int, ...]) -> bool:
    """A series (t, z, y, x) of 2-4 slices per volume and many times more volumes: (z, c, y, x) by its shape alone."""
    return len(shape) == 4 and shape[1] in CHANNEL_COUNTS and shape[0] >= CHANNELS_BEHIND_SLICES * shape[1]


def _say_thin_series(shape: tuple[int, ...], sizing: VolumeSizing, name: str, pick_channel: str | None) -> None:
    """The channel hint of :func:`check_volume_shape` for a series of fewer volumes (a 6 x 2 x Y x X (z, c, y, x)
    array) once the series is sized: volumes of 2-4 slices thinner than their particles, or too thin to measure
    the particles' z size on, are more likely the slices of one volume of a few channels. ``pick_channel``: what
    to do (None: the axes are the file's own metadata's, so nothing is to be said)."""
    if pick_channel is None or len(shape) != 4 or shape[0] < 2 or shape[1] not in CHANNEL_COUNTS:
        return
    if _many_channel_like_slices(shape):
        return  # said already, before any work
    depth, z = shape[1], sizing.diameter[0]
    if sizing.source in Z_ESTIMATED:
        why = "too thin to measure the particles' z size on"
    elif depth < z:
        why = f"thinner than the particles ({z:.1f} slices across)"
    else:
        return
    log.warning("%s: shape %s is read as %d volumes of %d slices (t, z, y, x), %s; if it is one volume of %d "
                "channels (z, c, y, x), %s", name, "x".join(map(str, shape)), shape[0], depth, why, depth,
                pick_channel)


def _unit_axes_dropped(volumes):
    """``volumes`` of more than 4 axes (TCZYX, TZCYX with one channel or time point, as readers give them) without
    its length-1 axes before y and x, as a file's are dropped (files.axes.read_volumes), down to 4 axes at fewest:
    the one nearest y goes first, so (t, 1, 1, y, x), a movie of 2D frames, stays (t, 1, y, x), refused as volumes of
    one slice rather than read as one volume of t slices (why not preprocessing.without_unit_axes, which drops them
    all). Anything else is returned as it is."""
    while len(volumes.shape) > 4:
        units = [i for i, n in enumerate(volumes.shape[:-2]) if n == 1]
        if not units:
            break
        volumes = volumes[(slice(None),) * units[-1] + (0,)]  # a view of an array or a memory map; lazy in dask
    return volumes


def _refuse_colour(shape: tuple[int, ...], text: str, name: str, pick_channel: str) -> None:
    """A ParticleDetectError for an array whose last axis holds 3 or 4 colour samples (a (Z, Y, X, 3) stack of
    RGB slices, an RGB image): read as x, it made volumes 3 voxels wide, refused as "too few voxels"."""
    if len(shape) >= 3 and shape[-1] in (3, 4) and shape[-2] > shape[-1]:
        pick = "pick one channel: array[..., c]" if pick_channel == PICK_ARRAY_CHANNEL else pick_channel
        raise ParticleDetectError(f"{name}: shape {text} ends in an axis of {shape[-1]}, colour (RGB) samples rather "
                                  f"than x voxels; {pick}, or convert it to greyscale")


def numeric_voxels(volumes, name: str):
    """``volumes`` with voxels detection reads: a bool mask (``volume > t``) as 0 and 1, as detect reads a bool
    image; voxels that are no numbers are refused before any work, not at the volume that holds them."""
    dtype = np.dtype(getattr(volumes, "dtype", np.float32))
    if dtype == bool:
        return volumes.astype(np.uint8) if hasattr(volumes, "astype") else np.asarray(volumes, dtype=np.uint8)
    if not np.issubdtype(dtype, np.number) or np.issubdtype(dtype, np.complexfloating):
        raise ParticleDetectError(f"{name}: unsupported voxel type {dtype}; give numbers (integers, floats or bools)")
    return volumes


def check_window(window: int, stride: int) -> None:
    """A tile side the 3D network can read: a multiple of its ``stride``, wider than the context kept on
    both sides."""
    from .volume_inference import DEFAULT_MARGIN

    if window % stride or window <= 2 * DEFAULT_MARGIN:
        low = (2 * DEFAULT_MARGIN // stride + 1) * stride
        raise ParticleDetectError(f"window must be a multiple of {stride} voxels (the 3D network's stride), at "
                                  f"least {low}, got {window}")


def volume_sizing(volume: np.ndarray, diameter: tuple[float, ...] | None,
                  voxel_size: tuple[float, float, float] | None) -> VolumeSizing:
    """The particle diameter per axis in voxels, and how it was found. One diameter (given or estimated) is
    along y, in y voxels; the voxel size gives z and x from it (x = y where it is unknown)."""
    if diameter is not None and len(diameter) == 3:
        return VolumeSizing(tuple(float(d) for d in diameter), "given")
    confident, reason = True, ""
    if diameter is not None:
        xy, source = float(diameter[0]), "given"
    else:
        (xy, confident, reason), source = _estimated_xy(volume, voxel_size), "estimated"
    if voxel_size is not None:
        return VolumeSizing(diameter_by_voxel_size(xy, voxel_size),
                            source if diameter is not None else "estimated xy, z from voxel size", confident, reason)
    ratio, z_half_width = _apparent_anisotropy(volume)
    z = xy * ratio / APPARENT_Z_WIDENING
    doubt = _z_doubt(z_half_width, volume.shape[0])
    if doubt:
        confident, reason = False, "; ".join(filter(None, (reason, doubt)))
    return VolumeSizing((z, xy, xy), "estimated" if diameter is None else "given xy, z estimated", confident, reason,
                        {"apparent_z_over_y": round(ratio, 3)})


def diameter_by_voxel_size(xy: float, voxel_size: tuple[float, float, float]) -> tuple[float, float, float]:
    """The diameter (z, y, x voxels) of a particle ``xy`` y voxels across, where voxels are ``voxel_size`` (z, y, x in
    one unit): a voxel size typed after Detect sizes a project's z as a Detect with it would."""
    vz, vy, vx = voxel_size
    return xy * vy / vz, xy, xy * vy / vx


def _estimated_xy(volume: np.ndarray, voxel_size: tuple[float, float, float] | None) -> tuple[float, bool, str]:
    """The xy diameter (y voxels) the 2D estimate reads on ``volume``'s slices, whether it is confident, and why not."""
    confident, reason = True, ""
    estimates = _section_estimates(volume, voxel_size)
    raw = float(np.median([e.diameter for e in estimates]))
    smoothed = raw / SECTION_FACTOR < ESTIMATE_RANGE[0]
    if smoothed:
        estimates = _section_estimates(volume, voxel_size, NOISY_SECTION_SMOOTHING)
    ringed, rings = _ring_estimates(volume, voxel_size, estimates, smoothed), ""
    if ringed is not None:
        rings = _rings_note(estimates, ringed)
        estimates, smoothed = ringed, False  # the plain reading was the rings' wall, or noise
    sizes = [e.diameter for e in estimates]
    xy = float(np.median(sizes)) / SECTION_FACTOR
    doubtful = [e for e in estimates if not e.confident]
    if 2 * len(doubtful) > len(estimates):
        # Each slice cuts only some of the particles: one slice's reading ("only 1 blob stands out") said of three
        # clean spheres read as the volume's.
        confident, reason = False, (f"{len(doubtful)} of the {len(estimates)} slices read are doubtful, the first: "
                                    f"{doubtful[0].reason}")
    elif max(sizes) > 1.3 * min(sizes):
        confident, reason = False, "slices disagree: " + ", ".join(f"{d:.1f}" for d in sizes) + " px"
    if not ESTIMATE_RANGE[0] <= xy <= ESTIMATE_RANGE[1]:
        # On dim, noisy volumes the 2D estimate can read noise grains as particles (2.7 px for 10 px
        # shells at 60 photons): enlarged to the working size, they cost minutes and gigabytes.
        clamped = float(np.clip(xy, *ESTIMATE_RANGE))
        confident, reason = False, (f"estimated {xy:.1f} px, outside what the 3D model knows; used "
                                    f"{clamped:.1f} px")
        xy = clamped
    elif smoothed:  # never confident: the smoothing's own width is in what it reads
        confident, reason = False, "; ".join(filter(None, (
            f"the slices read {raw:.1f} px as they are (their noise?), {xy * SECTION_FACTOR:.1f} px smoothed", reason)))
    if voxel_size is not None:
        xy *= min(voxel_size[1:]) / voxel_size[1]  # the estimate was in units of the finer of y and x
    return xy, confident, "; ".join(filter(None, (rings, reason)))


def _rings_note(plain: list, ringed: list) -> str:
    """Why a size is some times larger than the slices read: without it, a low-confidence size twice what the user
    sees in a slice's rings came with only the filled slices' doubts."""
    as_read, filled = (float(np.median([e.diameter for e in read])) for read in (plain, ringed))
    return (f"{RINGS_NOTE} (hollow particles?): {as_read:.1f} px their wall, {filled:.1f} px with their "
            "centres filled, used")


def _ring_estimates(volume: np.ndarray, voxel_size: tuple[float, float, float] | None, plain: list,
                    noisy: bool) -> list | None:
    """The slices' estimates read with their ring-enclosed centres filled where that reads the particles as rings
    (RING_READINGS: enough larger than the ``plain`` reading; ``noisy``: it read noise, and a smoother look is
    tried too), else None."""
    reading = float(np.median([e.diameter for e in plain]))
    if reading < RING_MIN_READING:
        return None
    for smoothing, times in RING_READINGS[: 2 if noisy else 1]:
        ringed = _ringed_reading(volume, voxel_size, smoothing, times * reading)
        if ringed is not None:
            return ringed
    return None


def _ringed_reading(volume: np.ndarray, voxel_size: tuple[float, float, float] | None, smoothing: float,
                    needed: float) -> list | None:
    """The estimates of :func:`_section_estimates`'s slices with their rings filled where their median reads
    ``needed`` or more, else None. Filled spheres (most volumes) stop as soon as most slices read under it, as
    their median cannot reach it then: read whole, the filled rings doubled every volume's sizing time."""
    from .sizing import ESTIMATE_CROP, estimate_size

    picks = _slice_picks(volume.shape[0])
    estimates, under = [], 0
    for i in picks:
        estimates.append(estimate_size(_rings_filled(_centre(_section(volume, i, voxel_size, smoothing),
                                                             ESTIMATE_CROP))))
        under += estimates[-1].diameter < needed
        if 2 * under > len(picks):  # more than half under: so is the median
            return None
    return estimates if np.median([e.diameter for e in estimates]) >= needed else None


def _section_estimates(volume: np.ndarray, voxel_size: tuple[float, float, float] | None, smoothing: float = 0.0):
    """The 2D size estimates (sizing.estimate_size) of five slices through the middle half of ``volume`` (least depth
    loss; their median is the size: one slice alone can read twice it, measured on the generator at volume fraction
    0.45), each as :func:`_section` prepares it."""
    from .sizing import estimate_size

    return [estimate_size(_section(volume, i, voxel_size, smoothing)) for i in _slice_picks(volume.shape[0])]


def _slice_picks(nz: int) -> np.ndarray:
    return np.unique(np.linspace(0.25 * (nz - 1), 0.75 * (nz - 1), 5).round().astype(int))


def _section(volume: np.ndarray, i: int, voxel_size: tuple[float, float, float] | None,
             smoothing: float) -> np.ndarray:
    """Slice ``i`` of ``volume`` in square pixels, smoothed first by a Gaussian of ``smoothing`` pixels where that is
    not 0."""
    from scipy import ndimage

    section = _square_pixels(volume[i], voxel_size)
    return ndimage.gaussian_filter(section, smoothing) if smoothing else section


def _centre(section: np.ndarray, size: int) -> np.ndarray:
    y0, x0 = (max(0, (n - size) // 2) for n in section.shape)
    return section[y0:y0 + size, x0:x0 + size]


def _rings_filled(section: np.ndarray) -> np.ndarray:
    """``section`` with every dark region that brighter pixels enclose (a ring's centre) raised to the level that
    encloses it: grey-level hole filling, on RING_FILL_LEVELS levels of its range. Without scikit-image (not a
    dependency): at each level, the darker regions that touch no edge are holes."""
    from scipy import ndimage

    # Levels rise: the last that finds a pixel in a hole is the highest, the one it is raised to (as raising it at
    # each level was, without reading and writing every hole's pixels 63 times).
    raised = np.full(section.shape, -np.inf, dtype=section.dtype)
    labels = np.empty(section.shape, dtype=np.int32)
    below = np.empty(section.shape, dtype=bool)  # each level's mask, then its holes: no new arrays per level
    for level in np.linspace(*np.percentile(section, (1.0, 99.9)), RING_FILL_LEVELS)[1:]:
        np.less(section, level, out=below)
        count = ndimage.label(below, output=labels)
        enclosed = np.ones(count + 1, dtype=bool)
        enclosed[0] = False
        for edge in (labels[0], labels[-1], labels[:, 0], labels[:, -1]):
            enclosed[edge] = False
        if enclosed.any():  # a level whose regions all reach an edge (a third of them on the generator) raises nothing
            np.take(enclosed, labels, out=below)
            raised[below] = level
    return np.maximum(section, raised)


def _square_pixels(section: np.ndarray, voxel_size: tuple[float, float, float] | None) -> np.ndarray:
    """A slice as float32, its coarser axis of y and x stretched to the finer one's pixel where they differ: the
    2D estimator reads round particles, and stretching keeps every pixel the finer axis resolves."""
    section = np.asarray(section, dtype=np.float32)
    if voxel_size is None or voxel_size[1] == voxel_size[2]:
        return section
    from scipy import ndimage

    finer = min(voxel_size[1:])
    return ndimage.zoom(section, (voxel_size[1] / finer, voxel_size[2] / finer), order=1, mode="nearest",
                        grid_mode=True).astype(np.float32)


def xy_doubt(reason: str) -> str:
    """A sizing's ``reason`` without its z part (:func:`_z_doubt`, said last): for a size whose z a voxel size
    gives since."""
    cut = 0 if reason.startswith(Z_DOUBT) else reason.find("; " + Z_DOUBT)
    return reason if cut < 0 else reason[:cut]


def _z_doubt(z_half_width: float, depth: int) -> str:
    """Why the z size the autocorrelation gives is not to be trusted ('' when it is): a volume too shallow to
    read it on (the measure, short of pairs at long lags, reads small), or the image alike over less than one
    slice along z (no z extent to measure: slices far apart, or of something else, channels say)."""
    needed = math.ceil(SLICES_PER_Z_HALF_WIDTH * max(z_half_width, 1.0))
    if depth < needed:
        return (f"{Z_DOUBT}{depth} slices, too few to measure the z size on (the image stays alike over "
                f"{z_half_width:.1f} slices; {needed} or more are needed)")
    if z_half_width < 1.0:
        return (f"{Z_DOUBT}the image changes from each slice to the next (alike over {z_half_width:.2f} slice), no z "
                "size to measure: are the slices far apart, or channels?")
    return ""


def _apparent_anisotropy(volume: np.ndarray) -> tuple[float, float]:
    """How many times longer (in voxels) structures look along z than along y, and how long along z (the z
    half-width, slices): the lags where the intensity autocorrelation of a central block falls to one half,
    z over y, and z's."""
    nz, ny, nx = volume.shape
    block = np.asarray(volume[:, ny // 2 - min(ny, 128) // 2: ny // 2 + min(ny, 128) // 2,
                              nx // 2 - min(nx, 128) // 2: nx // 2 + min(nx, 128) // 2], dtype=np.float32)
    block = _spikes_levelled(block)
    block = block - block.mean()
    spectrum = np.abs(np.fft.rfftn(block, s=[2 * n for n in block.shape], axes=(0, 1, 2))) ** 2
    corr = np.fft.irfftn(spectrum)[: block.shape[0], : block.shape[1], : block.shape[2]]
    corr /= corr[0, 0, 0]

    def half(profile: np.ndarray) -> float:
        below = np.nonzero(profile < 0.5)[0]
        if not len(below):
            return float(len(profile))
        i = below[0]
        return float(i - 1 + (profile[i - 1] - 0.5) / max(profile[i - 1] - profile[i], 1e-9))

    z_half_width = half(corr[:, 0, 0])
    return z_half_width / max(half(corr[0, :, 0]), 1e-6), z_half_width


def _spikes_levelled(block: np.ndarray) -> np.ndarray:
    """``block`` with its outlying spikes (preprocessing.find_spikes) set to its other voxels' mean, so that they
    correlate with nothing: a hot row of the sensor through every slice is one structure the volume's depth long,
    and read as such it sized spheres of 9 px 92 voxels deep (then refused: too few voxels for them)."""
    spikes = find_spikes(block)
    if spikes is None:
        return block
    hit = np.zeros(block.shape, dtype=bool)
    if spikes.above:
        hit |= block == np.float32(spikes.brightest)
    if spikes.below:
        hit |= block == np.float32(spikes.darkest)
    return np.where(hit, block[~hit].mean(), block).astype(np.float32)


def volume_network(model, device, runtime: str = "auto", threads: int | None = None):
    """The 3D network on the runtime asked for: ONNX Runtime float32 on a CPU under "auto"."""
    from .runtimes import onnx_network, openvino_network, resolve_runtime

    chosen, precision = resolve_runtime(runtime, "float32", device)
    if chosen == "onnx":
        return onnx_network(model, precision, threads=threads)
    if chosen == "openvino":
        return openvino_network(model, precision, threads=threads)
    return model.network.to(device)


def detect_volume(volume: np.ndarray, model: DetectorModel | str | Path | None = None,
                  options: VolumeOptions | None = None, name: str = "volume",
                  sizing: VolumeSizing | None = None) -> tuple[np.ndarray, np.ndarray, VolumeSizing]:
    """Centres (N, 3) z, y, x in voxels of one volume (Z, Y, X), their scores, and the sizing used.

    ``model``: a 3D DetectorModel, a model file's path or a shipped model's name (None: the shipped
    unet3d). ``options``: :class:`VolumeOptions` (None: the defaults), checked first
    (:func:`check_volume_options`). ``sizing``: a sizing found before (a series' first volume), used as it
    is. Every mistake in the input (a 2D or 4D array, a diameter of zero, a threshold of 2, cuda without a
    GPU, a 2D model) is a ParticleDetectError (a TypeError for a value of another type) before any work.
    NaN or infinite voxels are read as missing, a constant slice or one missing whole between others (dropped by the
    microscope) is refilled from the slices beside it and outlying spikes (a hot line) are left out of the range, each
    said in a warning (:class:`VolumeNotes`; gathered for the caller by :func:`notes_gathered`).
    :func:`detect_volumes` gives a table of one volume or a series.
    """
    options = check_volume_options(VolumeOptions() if options is None else options)
    check_volume_shape(volume, name)
    volume = numeric_voxels(volume, name)
    gathered = _GATHERED_NOTES.get()
    notes = VolumeNotes() if gathered is None else gathered
    try:
        return _detect_filled(volume_and_gaps(volume, name), model, options, name, sizing, notes)
    finally:
        if gathered is None:
            notes.say(name)


# The record of :func:`notes_gathered` in force, on this thread.
_GATHERED_NOTES: ContextVar[VolumeNotes | None] = ContextVar("gathered_notes", default=None)


@contextmanager
def notes_gathered() -> Iterator[VolumeNotes]:
    """A record of what :func:`detect_volume` finds to say of every volume it detects meanwhile on this thread (its
    missing voxels, slices refilled, spikes), which then says none of it: a caller detecting a series a volume at a
    time (the 3D dock) says it once (:meth:`VolumeNotes.say`), as a file's is, not a line per volume."""
    notes = VolumeNotes()
    token = _GATHERED_NOTES.set(notes)
    try:
        yield notes
    finally:
        _GATHERED_NOTES.reset(token)


def _detect_filled(filled: tuple[np.ndarray, np.ndarray | None], model: DetectorModel | str | Path | None,
                   options: VolumeOptions, name: str, sizing: VolumeSizing | None,
                   notes: VolumeNotes, refilled: bool = False) -> tuple[np.ndarray, np.ndarray, VolumeSizing]:
    """:func:`detect_volume` of a volume whose gaps are filled (``filled``: files.axes.volume_and_gaps'), its
    options checked; its missing voxels and what was done to it before resampling are added to ``notes``, for the
    caller to say once. ``refilled``: its dropped slices are refilled already (and added to ``notes``)."""
    from .volume_inference import predict_heatmap3d

    volume, missing = filled
    del filled  # the volume's only holder is ``volume``, deleted once it is resampled
    model = load_volume_model(model)
    stride = 2 ** (len(model.card.channels) - 1)
    check_window(options.window, stride)
    device = volume_device(options.device)
    if not refilled:
        volume, missing = notes.prepared.refill(name, volume, missing)
    sizing = sizing or volume_sizing(volume, options.diameter, options.voxel_size)
    volume = notes.prepared.despike(volume, missing)
    refuse_subvoxel(sizing, options.voxel_size, name)
    factors = working_factors(sizing.diameter, model.card.canonical_diameter)
    working, applied = resample_volume(volume, factors)
    depth = volume.shape[0]
    del volume
    if min(working.shape) < 4:
        raise ParticleDetectError(_too_few_voxels(name, sizing, working.shape, depth))
    working = normalise_volume(working, own_voxels(missing, factors))
    network = volume_network(model, device, options.runtime, options.threads)
    heat = predict_heatmap3d(network, working, stride=stride, window=options.window, device=device)
    del working
    threshold = applied_threshold(model.card, options.threshold)
    centres, scores = decode3d(heat, threshold, model.card.min_distance, sigma=model.card.sigma)
    centres = from_working(centres, applied)
    # Spheres cut by a face whose centre lies outside the volume are not this volume's particles.
    shape = np.array(heat.shape) / applied
    inside = np.all((centres >= -0.5) & (centres <= shape - 0.5), axis=1)
    notes.gaps.add(missing)
    inside &= clear_of_gaps(centres, missing, tuple(d / 2 for d in sizing.diameter))
    return centres[inside], scores[inside], sizing


def refuse_subvoxel(sizing: VolumeSizing, voxel_size: tuple[float, float, float] | None, name: str) -> None:
    """A ParticleDetectError for particles under MIN_DIAMETER_VOXELS along an axis, before the volume is resampled:
    a voxel size in mixed units (z in nm, y and x in µm) made z 0.005 voxels, enlarged 1200 times, which read
    22252 centres in a 12 x 40 x 40 volume of 30 spheres, and runs out of memory on a volume of real size."""
    # Sizes read from the image alone are left as they are: their doubt is said as low confidence.
    asked = {"estimated": "", "given xy, z estimated": "yx"}.get(sizing.source, "zyx")
    small = [(axis, d) for axis, d in zip("zyx", sizing.diameter) if d < MIN_DIAMETER_VOXELS and axis in asked]
    if not small:
        return
    size = " x ".join(f"{d:.3g}" for d in sizing.diameter)
    given = sizing.source.startswith("given")
    check = "check the diameter" if voxel_size is None else (
        f"check the voxel size ({' x '.join(f'{v:g}' for v in voxel_size)}: z, y, x in one unit)"
        + (" and the diameter" if given else ""))
    raise ParticleDetectError(f"{name}: particles of {size} voxels (z, y, x, {sizing.source}) are under "
                              f"{MIN_DIAMETER_VOXELS:g} voxel across along {small[0][0]}, too small to find in 3D; "
                              f"{check}")


def _too_few_voxels(name: str, sizing: VolumeSizing, working_shape: tuple[int, ...], depth: int) -> str:
    """Why a volume too small for its particles is refused, and what to give. A diameter given already is not
    asked for again: the volume's axes (a (z, c, y, x) array read as volumes of a few slices) or that diameter are
    then what is wrong; nor is one where z was sized from the voxel size and the volume (``depth`` slices) is too
    thin along z alone: a 2-slice volume was told to give the diameter, and given it, was refused again."""
    size = " x ".join(f"{d:.1f}" for d in sizing.diameter)
    if sizing.source.startswith("given"):
        remedy = "give a larger volume, or check that its axes are (z, y, x) and the diameter given"
    elif sizing.source not in Z_ESTIMATED and working_shape[0] < 4 <= min(working_shape[1:]):
        remedy = (f"its {depth} slices are too thin for particles {sizing.diameter[0]:.1f} slices deep; detect its "
                  "slices as 2D frames instead (axes TYX), or check its axes and the voxel size")
    else:
        remedy = "give a larger volume or the diameter"
    return (f"{name}: too few voxels for particles of {size} voxels (z, y, x; working grid "
            f"{'x'.join(map(str, working_shape))}): {remedy}")


class Prepared:
    """What was done to volumes before resampling (:func:`~.volume_resampling.refilled_slices`,
    :func:`~.volume_resampling.despiked_volume`), said once per file: done silently, a sensor's defect would look
    like no defect at all."""

    def __init__(self) -> None:
        self.spikes = FrameRecord()
        # (volume's name, its constant slices refilled, its slices missing whole refilled)
        self.refilled: list[tuple[str, list[int], list[int]]] = []
        # (volume's name, its over-exposed slices levelled, how many times brighter the worst stood)
        self.levelled: list[tuple[str, list[int], float]] = []

    def refill(self, name: str, volume: np.ndarray, missing: np.ndarray | None,
               ) -> tuple[np.ndarray, np.ndarray | None]:
        """``volume`` (named ``name``) with its constant slices and those missing whole refilled, its over-exposed
        slices levelled with the slices around them, and its gaps left (:func:`~.volume_resampling.refilled_gaps`,
        :func:`~.volume_resampling.levelled_slices`)."""
        out, left, slices = refilled_gaps(volume, missing)
        if slices:
            lost = [] if missing is None else [z for z in slices if np.asarray(missing[z]).all()]
            self.refilled.append((name, [z for z in slices if z not in lost], lost))
        out, bright, stands = levelled_slices(out, left)
        if bright:
            self.levelled.append((name, bright, stands))
        return out, left

    def training_volume(self, name: str, volume: np.ndarray) -> np.ndarray:
        """``volume`` (named ``name``) as a round learns from it, before sizing and :meth:`despike`: a float32 volume
        whose dropped slices (constant, or NaN throughout, between others) are refilled as detection refills them.
        NaN or infinite voxels left after that are refused (files.axes.refuse_gaps): a gap filled with the background
        would teach background where particles may lie. A slice dropped as NaN was refused whole before, though
        detect read the volume, and a blank one was refilled and learnt from."""
        filled, missing = volume_and_gaps(volume, name)
        filled, left = self.refill(name, filled, missing)
        if left is not None:
            refuse_gaps(volume, name)
        return filled

    def despike(self, volume: np.ndarray, missing: np.ndarray | None) -> np.ndarray:
        """``volume`` with its spikes left out of its range (after sizing: the 2D size estimate has its own rule,
        and read a hot line set to the top of the range as particles of 2 px)."""
        volume, found = despiked_volume(volume, missing)
        self.spikes.add(found)
        return volume

    def say(self, name: str) -> None:
        if self.refilled:
            log.warning("%s, each filled from the slices beside it", "; ".join(filter(None, (
                _refilled_words(self.refilled, 1, "constant (blank or saturated: dropped by the microscope?)"),
                _refilled_words(self.refilled, 2, "NaN or infinite throughout (dropped by the microscope?)")))))
        if self.levelled:
            stands = max(entry[2] for entry in self.levelled)
            log.warning("%s over-exposed (standing up to %.0f times as far above the background as the slices around "
                        "them: a laser or gain jump?), each scaled to the slices around it",
                        _refilled_words(self.levelled, 1, "").rstrip(), stands)
        if self.spikes.first is not None:
            found = self.spikes.first.describe().replace(" px at ", " voxels at ").replace("other pixels",
                                                                                            "other voxels")
            log.warning("%s: %s left out of the intensity range in %d volume%s (a hot line, a saturated patch or "
                        "zero padding?)", name, found, self.spikes.frames, "s" if self.spikes.frames != 1 else "")


def _refilled_words(refilled: list[tuple[str, list[int], list[int]]], kind: int, words: str) -> str:
    """The volumes of ``refilled`` (:class:`Prepared`) with slices of ``kind`` (1: constant, 2: missing whole)
    refilled, the first three named, in words; "" where none has."""
    hit = [(entry[0], entry[kind]) for entry in refilled if entry[kind]]
    if not hit:
        return ""
    shown = "; ".join(f"{label}: slice{'s' if len(slices) != 1 else ''} {', '.join(map(str, slices))}"
                      for label, slices in hit[:3])
    more = f"; ... ({len(hit)} volumes in all)" if len(hit) > 3 else ""
    return f"{shown}{more} {words}"


@dataclass
class VolumeNotes:
    """What detecting the volumes of one image found to say: their missing voxels and what was done to them before
    resampling, said once for the image."""

    gaps: GapRecord = field(default_factory=GapRecord)
    prepared: Prepared = field(default_factory=Prepared)

    def say(self, name: str) -> None:
        say_gaps(name, self.gaps)
        self.prepared.say(name)


def say_gaps(name: str, gaps: GapRecord) -> None:
    """The NaN or infinite voxels read as missing in the volumes of ``name``, said once (as a 2D stack's are)."""
    if gaps.frames:
        log.warning("%s: %s", name, gaps.describe("voxel", "volume"))


def load_volume_model(model_path: DetectorModel | str | Path | None = None, device: str = "cpu") -> DetectorModel:
    """The 3D model (default: the shipped unet3d) from a path or a shipped model's name, or ``model_path``
    itself when it is a DetectorModel; a 2D model is refused by name."""
    from ..models import DetectorModel, load_model_cached
    from ..models.registry import default_model_path

    if isinstance(model_path, DetectorModel):
        model = model_path
    else:
        path = model_path if model_path is not None else default_model_path(DEFAULT_VOLUME_MODEL)
        model = load_model_cached(path, "cpu")
    if model.card.spatial_dims != 3:
        raise ParticleDetectError(f"{model.path or 'the model'}: a 2D model; volumes need a 3D model (the shipped "
                                  f"{DEFAULT_VOLUME_MODEL}, or one trained for volumes)")
    return model


def volume_table(frame: int, centres: np.ndarray, scores: np.ndarray,
                 microns: tuple[float, float, float] | None) -> pd.DataFrame:
    """``frame,z,y,x,score`` (voxels), and ``z_um,y_um,x_um`` when ``microns`` (the voxel size in
    micrometres) is known: a size in another unit, or none, labels nothing as micrometres."""
    table = pd.DataFrame({"frame": frame, "z": centres[:, 0], "y": centres[:, 1], "x": centres[:, 2],
                          "score": scores})
    if microns is not None:
        for axis, size in zip("zyx", microns):
            table[f"{axis}_um"] = table[axis] * size
    return table


def blank_volume(volumes: np.ndarray, t: int, exc: ConstantVolumeError) -> str:
    """What to say of a constant volume ``t`` of a series, skipped so the rest is detected; a single
    volume's (nothing else to detect) is raised again."""
    if volumes.shape[0] == 1:
        raise exc
    return f"{exc} (volume {t} skipped; the rest of the series is detected)"


def _detect_series(data, model: DetectorModel, options: VolumeOptions, name: str,
                   microns: tuple[float, float, float] | None, progress: Callable[[int, int], None] | None,
                   time_points: list[int] | None = None,
                   ready: dict[int, tuple[np.ndarray, np.ndarray | None]] | None = None,
                   twin_hint: str = TWINS_AS_CHANNELS.format("pick one channel: array[c]"),
                   pick_channel: str | None = PICK_ARRAY_CHANNEL,
                   ) -> tuple[pd.DataFrame, VolumeSizing, list[int]]:
    """The ``frame,z,y,x,score`` table of the volumes of ``data`` (T, Z, Y, X) at ``time_points`` (None: every
    one), rows keeping the series' numbers, the sizing found on the series' first volume that is not constant
    (and used for every volume detected) and the constant volumes skipped (a series goes on without them, said
    with a warning once a volume is detected; a single volume's, or all, are an error). ``ready``: volumes whose
    gaps are filled already (files.axes.volume_and_gaps'), by time point, taken out as each is detected: not
    filled again, and not held after. The voxels read as missing are said once, and so are volumes identical to
    one detected before them (``twin_hint`` says what they may be and what to do), and volumes that look like
    channels by their size (:func:`_say_thin_series`; ``pick_channel`` says how to pick one, None: not said)."""
    time_points = list(range(data.shape[0])) if time_points is None else time_points
    ready = {} if ready is None else ready
    # Sized as a run of every time point is: the tables of ranges then join into its table, as a 2D stack's do.
    notes = VolumeNotes()
    refilled: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}
    sizing = _series_sizing(data, options, name, time_points, ready, refilled, notes)
    if sizing is not None:
        _say_thin_series(tuple(data.shape), sizing, name, pick_channel)
    parts, skipped, pending = [], [], []
    twins = _TwinVolumes()
    for t in time_points:
        label = volume_name(name, data, t)
        try:
            filled = ready.pop(t, None) or volume_and_gaps(np.asarray(data[t]), label)
            twins.add(t, filled[0])  # as read: a refilled copy's digest would differ from its twin's
            done = t in refilled
            filled = refilled.pop(t, filled)
            # Passed on, not named here: _detect_filled lets go of the volume once it is resampled.
            centres, scores, sizing = _detect_filled(filled, model, options, label, sizing, notes, done)
        except ConstantVolumeError as exc:
            pending.append(blank_volume(data, t, exc))
            skipped.append(t)
            continue
        for note in pending:  # said once a volume is detected: a series all blank is one error line
            log.warning("%s", note)
        pending = []
        parts.append(volume_table(t, centres, scores, microns))
        if progress is not None:
            progress(len(parts) + len(skipped), len(time_points))
    notes.say(name)
    twins.say(name, twin_hint)
    if not parts:
        raise ParticleDetectError(f"{name}: every volume is constant; nothing to detect")
    for note in pending:  # blank volumes after the last detected one
        log.warning("%s", note)
    return pd.concat(parts, ignore_index=True), sizing, skipped


class _TwinVolumes:
    """The time points of a series whose volume is identical, voxel for voxel, to one detected before it. Real
    time points never are (their noise differs): such a series is most likely one volume's channels read as time
    points (identical channels, a channel saved twice), or one volume repeated; detected as given, their centres
    are the same, and linking them gives particles that never move. Digests only, so no volume is held longer."""

    def __init__(self) -> None:
        self.pairs: list[tuple[int, int]] = []
        self._seen: dict[bytes, int] = {}

    def add(self, t: int, volume: np.ndarray) -> None:
        digest = hashlib.blake2b(np.ascontiguousarray(volume).data, digest_size=16).digest()
        first = self._seen.setdefault(digest, t)
        if first != t:
            self.pairs.append((first, t))

    def say(self, name: str, hint: str) -> None:
        if not self.pairs:
            return
        shown = ", ".join(f"{a} and {b}" for a, b in self.pairs[:3]) + (", ..." if len(self.pairs) > 3 else "")
        log.warning("%s: volumes %s are identical voxel for voxel, so are their centres; %s", name, shown, hint)


def volume_name(name: str, data, t: int) -> str:
    """Volume ``t`` of ``name`` as messages name it: the file alone where it holds one volume; an array given
    no name (the default, "volume") is "volume 3", not "volume volume 3"."""
    if data.shape[0] == 1:
        return name
    return f"volume {t}" if name == "volume" else f"{name} volume {t}"


def _series_sizing(data, options: VolumeOptions, name: str, time_points: list[int],
                   ready: dict[int, tuple[np.ndarray, np.ndarray | None]],
                   refilled: dict[int, tuple[np.ndarray, np.ndarray | None]], notes: VolumeNotes) -> VolumeSizing | None:
    """The sizing a run of every volume of ``data`` finds, on the first that is not constant (None: none is). A
    volume filled for it that is among ``time_points`` is kept in ``ready``, not filled again when detected, and
    with its dropped slices refilled in ``refilled`` where it has any: refilled once, not again for detection. Its
    refilled slices are added to ``notes``, as one not detected is named so."""
    for t in range(data.shape[0]):
        label = volume_name(name, data, t)
        try:
            filled = ready.get(t) or volume_and_gaps(np.asarray(data[t]), label)
        except ConstantVolumeError:
            continue  # said in its turn where it is among the time points detected
        detected = t in time_points
        said = label if detected else f"{label} (the series is sized on it, not detected)"
        prepared = notes.prepared.refill(said, *filled)
        if detected:
            ready[t] = filled
            if prepared[0] is not filled[0]:
                refilled[t] = prepared
        volume = prepared[0]
        # Sized as a single volume is, its constant slices refilled.
        return volume_sizing(volume, options.diameter, options.voxel_size)
    return None


@keeps_torch_threads
def detect_volumes(
    volumes: np.ndarray,
    model: DetectorModel | str | Path | None = None,
    threshold: float | None = None,
    diameter: float | Sequence[float] | None = None,
    voxel_size: Sequence[float] | None = None,
    device: str = "auto",
    runtime: str = "auto",
    window: int = 96,
    threads: int | None = None,
    name: str = "volume",
    progress: Callable[[int, int], None] | None = None,
    frames: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Centres of the particles in one volume (Z, Y, X) or a series of them (T, Z, Y, X) as a
    ``frame,z,y,x,score`` table in voxels (a single volume is frame 0). Length-1 axes of an array of more axes (a
    TCZYX of one channel) are dropped (:func:`_unit_axes_dropped`).

    ``model``: a 3D DetectorModel, a model file's path or a shipped model's name (None: the shipped
    unet3d). ``threshold``: the score in [0, 1) a centre needs (None: the model's own). ``diameter``: one
    number (xy, voxels; z from ``voxel_size``, else estimated) or three (z, y, x voxels); None: estimated on
    the first volume and used for the whole series. ``voxel_size``: z, y, x in micrometres: sizes z and x
    from the one diameter (taken along y) and adds ``z_um, y_um, x_um`` columns. ``device``: auto (a CUDA
    GPU where there is one, else the CPU), cpu, cuda or mps; ``runtime``: auto (ONNX Runtime float32 on a
    CPU), torch, onnx or openvino. ``window``: working voxels per tile side (a multiple of the network's
    stride). ``threads``: torch's CPU threads for this call. ``progress(done, total)`` is called after each
    volume. ``frames``: the time points to detect, as detect's ``frames`` (indices in the order given, negative
    ones from the end; None: every one): rows keep the series' numbers and the series is sized as a whole, so
    the tables of parts join into the whole series' table (``--frames`` on the command line).

    A constant volume of a series is skipped with a warning, and a volume of one slice refused; a series
    shaped like one volume of channels (z, c, y, x) is detected as asked, with a warning. A z size estimated
    on too few slices is of low confidence. ``table.attrs`` holds the sizing used
    (``diameter`` z, y, x voxels, ``diameter_source``, ``diameter_confidence`` "high" or "low" with
    ``diameter_reason``), ``threshold``, ``model`` and ``skipped_volumes``. Every mistake in the input is
    a ParticleDetectError (a TypeError for a value of another type) before any work.
    """
    import torch

    options = check_volume_options(VolumeOptions(threshold, diameter, voxel_size, device, window, threads, runtime))
    check_progress(progress)
    refuse_file_name(volumes, name, "detect_volumes", "a volume")
    if not hasattr(volumes, "shape"):  # a list of volumes or of slices
        volumes = np.asarray(volumes)
    volumes = _unit_axes_dropped(volumes)
    check_volume_shape(volumes, name, series=True)
    volumes = numeric_voxels(volumes, name)
    time_points = frame_indices(frames, volumes.shape[0] if len(volumes.shape) == 4 else 1, name)
    model = load_volume_model(model)
    check_window(options.window, 2 ** (len(model.card.channels) - 1))
    if options.threads:
        torch.set_num_threads(int(options.threads))
    data = volumes if len(volumes.shape) == 4 else np.asarray(volumes)[None]
    table, sizing, skipped = _detect_series(data, model, options, name, options.voxel_size, progress, time_points)
    threshold = applied_threshold(model.card, options.threshold)
    table.attrs.update({"diameter": sizing.diameter, "diameter_source": sizing.source,
                        "diameter_confidence": "high" if sizing.confident else "low",
                        "diameter_reason": sizing.reason, "threshold": threshold,
                        "model": str(model.path) if model.path else "(a model in memory)",
                        "skipped_volumes": skipped})
    return table


@keeps_torch_threads
def detect_volume_file(path: str | Path, axes: Axes, options: VolumeOptions, model_path: str | Path | None = None,
                       progress=None) -> tuple[pd.DataFrame, dict]:
    """Centres of every volume of one ZYX or TZYX file, or of the time points ``options.frames`` names (rows keep
    the series' numbers; ``frames_detected`` in the record), as ``frame,z,y,x,score`` (+ ``*_um`` when the
    voxel size is known in micrometres: ``options.voxel_size``, taken as micrometres, or the file's in a
    length unit), and a record of what was used. A constant volume of a series is skipped with a warning."""
    import torch

    start = time.perf_counter()
    options = check_volume_options(options)
    if options.threads:
        torch.set_num_threads(int(options.threads))
    path = Path(path)
    data = read_volumes(path, axes)
    check_volume_shape(data, f"{path}", series=True, pick_channel=PICK_FILE_CHANNEL)  # as detect_volumes says it
    time_points = volumes_to_detect(path, data, options.frames)
    ready = {}
    try:
        # Bad voxels named before the model loads; the gaps filled here are the ones detected (filled once).
        ready[time_points[0]] = volume_and_gaps(np.asarray(data[time_points[0]]), f"{path}")
    except ConstantVolumeError as exc:
        blank_volume(data, time_points[0], exc)  # a series goes on: its other volumes are checked as they come
    model = load_volume_model(model_path)
    read = axes.voxel_size
    if read is not None and not all(np.isfinite(v) and v > 0 for v in read):
        # A file's own metadata (ImageJ's spacing 0, say), not an option the user gave: said, then estimated.
        log.warning("%s: its metadata gives the voxel size %s, not three positive numbers: ignored (give "
                    "--voxel-size Z Y X)", path, read)
        axes = replace(axes, voxel_size=None, voxel_unit=None)
    if options.voxel_size and axes.voxel_size and not same_voxel_size(options.voxel_size, axes.voxel_size,
                                                                         proportions=axes.voxel_um is None):
        # Used all the same: the user may be correcting metadata a microscope wrote wrong.
        log.warning("%s: --voxel-size %s µm (Z Y X) is used, not its metadata's %s %s (Z Y X)", path,
                    VoxelSize(options.voxel_size).describe(), VoxelSize(axes.voxel_size).describe(),
                    axes.voxel_unit or "(no unit)")
    voxel = options.voxel_size or axes.voxel_size
    unit = "µm" if options.voxel_size else axes.voxel_unit
    microns = options.voxel_size or axes.voxel_um
    table, sizing, skipped = _detect_series(data, model, replace(options, voxel_size=voxel), f"{path}", microns,
                                            progress, time_points, ready, _file_twin_hint(axes),
                                            None if axes.source == "metadata" else PICK_FILE_CHANNEL)
    record = {"file": str(path), "axes": axes.axes, "axes_source": axes.source,
              **({"channel": axes.channel} if axes.channel is not None else {}),  # as a 2D file's record says it
              "volumes": int(data.shape[0]),
              **({"frames_detected": time_points} if options.frames is not None else {}),  # as a 2D file's record
              "centres": len(table), "diameter_voxels_zyx": [round(d, 3) for d in sizing.diameter],
              "diameter_source": sizing.source, "diameter_confidence": "high" if sizing.confident else "low",
              "diameter_reason": sizing.reason, "voxel_size_zyx": list(voxel) if voxel else None,
              "voxel_unit": unit if voxel else None, "skipped_volumes": skipped,
              "model": str(model.path), "threshold": applied_threshold(model.card, options.threshold),
              "seconds": round(time.perf_counter() - start, 2), "shape": [int(n) for n in data.shape],
              **_volume_calibration(path, microns).record(), **sizing.extra}
    return table, record


def _file_twin_hint(axes: Axes) -> str:
    """What identical volumes of a file may be: a time point saved twice where its metadata says the axis is time,
    else channels read as time points (``--axes TZYX`` over a CZYX file)."""
    return TWINS_IN_TIME if axes.source == "metadata" else TWINS_AS_CHANNELS.format(PICK_FILE_CHANNEL)


def volumes_to_detect(path: str | Path, volumes, text: str | None) -> list[int]:
    """The time points of ``volumes`` (a file's series, T first: files.axes.read_volumes') that ``--frames``
    ``text`` names (frame_ranges.frames_in_range, whose refusals name ``path``), every one for None."""
    return frames_in_range(text, int(volumes.shape[0]), path, one="one volume")


def _volume_calibration(path: Path, microns: tuple[float, float, float] | None) -> Calibration:
    """What detect's .json records of a volume file's calibration, as of a 2D image's: its y, x voxel size in
    micrometres (the one used) and the time between its volumes, which link's MSD takes its lag times from."""
    return Calibration(tuple(microns[1:]) if microns else None, file_calibration(path).frame_interval_s)
