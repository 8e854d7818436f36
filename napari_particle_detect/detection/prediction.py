"""From frames to heatmaps to centres: tiling, batching, stacks, on the chosen device.

The work runs in the stages of :mod:`stages` (prepare frames on a host thread, network on batches
of tiles from several frames, decode per frame) with the array steps of one backend (:mod:`steps`):
NumPy/SciPy on a CPU, torch on a GPU. This module is the public face: :func:`detect`,
:func:`iter_detect`, :func:`detect_frame`, and the network prepared for inference.
"""

from __future__ import annotations

import inspect
import logging

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch
from torch import nn

from .choices import (
    DEFAULT_TILE, applied_threshold, check_count, check_diameter, check_diameter_fits, check_polarity, check_progress,
    check_threshold,
)
from .devices import select_device
from ..errors import ParticleDetectError
from ..files.io import UnreadableFrameError
from ..kinds.heatmap import RESIDUAL, decode_peaks
from ..models import DetectorModel, load_model_cached
from ..models.registry import require_kind, saved_card, warn_unfinished_training
from .look import StackLook
from .measurements import reaching_gaps
from .networks import prepare_network
from .preprocessing import (
    ConstantFrameError, NonFiniteFrameError, as_frames, check_frame, frame_indices, frame_name,
)
from .rescoring import candidate_features
from .sizing import (
    DIAMETER_ADVICE, ELONGATED, MIN_CONVINCING_BLOBS, SAME_DETECTION, elongation, estimate_size, rescale_centres_back,
    scale_for_diameter, span_matters, stretched, with_advice,
)
from .stages import (
    PreparedFrame,
    decoded_heatmaps,
    prefetch_depth,
    prefetched,
    prepare_frame,
    run_network,
)
from .steps import DeviceSteps, HostSteps
from .tiling import BandDecoder, plan_tiles
from .constant_frames import ConstantFrames, next_unblank_frame
from .unreadable import SKIPPED_UNREADABLE, check_any_read

log = logging.getLogger(__name__)
COLUMNS = ["frame", "y", "x", "score"]
# Context each tile borrows from its neighbours; must cover half the network's receptive field.
TILE_MARGIN = 48
# Ringed particles' dark rims draw weak responses about a radius out: drop a peak scoring below
# SHADOW_RATIO of a neighbour closer than SHADOW_REACH diameters. Overlapping pairs score alike.
SHADOW_RATIO = 0.5
SHADOW_REACH = 0.65


# Whether particles are ringed, from the image the network read, its peaks and their scores.
Look = Callable[[np.ndarray | torch.Tensor, np.ndarray, np.ndarray], bool]


@dataclass
class FrameResult:
    centres: np.ndarray
    scores: np.ndarray
    raw_heatmap: np.ndarray | torch.Tensor | None  # a GPU's stays there until read; None when not kept
    scale: float
    dropped_at_gaps: int = 0  # centres dropped within preprocessing.GAP_REACH radii of the frame's gaps
    unreadable: bool = False  # the frame could not be read from its file: skipped, its (no) centres not a finding
    constant: str = ""  # a constant frame of a stack: what it holds (``NAME frame I: every pixel is 7``), else ""

    @property
    def heatmap(self) -> np.ndarray | None:
        """The heatmap, in the (possibly rescaled) grid the network saw (None when not kept)."""
        if isinstance(self.raw_heatmap, torch.Tensor):
            self.raw_heatmap = self.raw_heatmap.cpu().numpy()
        return self.raw_heatmap


@dataclass(frozen=True)
class Sizing:
    diameter: float  # px in the original image
    scale: float  # resampling factor to the model's working size
    ringed: bool  # bright-field look: the rims' weak responses are dropped
    source: str  # "given" or "estimated"
    confidence: str = "high"  # "low": too few particle-like blobs to trust the estimate; give a diameter
    reason: str = ""  # why the confidence is low


def steps_for(device: torch.device) -> HostSteps | DeviceSteps:
    """The backend for the array work around the network on ``device``."""
    return DeviceSteps(device) if steps_on_device(device) else HostSteps(device)


def predict_heatmap(
    network: nn.Module,
    frame: np.ndarray | torch.Tensor,
    device: torch.device | str = "cpu",
    tile: int = DEFAULT_TILE,
    batch_size: int = 2,
    margin: int = TILE_MARGIN,
) -> np.ndarray | torch.Tensor:
    """Heatmap of one normalised frame, computed in overlapping tiles of at most ``tile`` pixels.

    The image border is left as it is in training (the network's own zero padding), so particles
    cut by the border look as they did in training. Inside, every tile starts on a multiple of the
    network's stride and keeps only its centre, ``margin`` away from cuts, so it sees the context
    and pooling grid a whole-image pass would: tiled and untiled agree to float precision.
    A NumPy frame gives a NumPy heatmap; a tensor (already on ``device``) gives a tensor there.
    """
    device = torch.device(device)
    if isinstance(frame, np.ndarray):
        steps: HostSteps | DeviceSteps = HostSteps(device)
        frame = np.ascontiguousarray(frame, dtype=np.float32)
    else:
        steps = DeviceSteps(device)
    plan = plan_tiles(tuple(frame.shape), getattr(network, "stride", 8), tile, margin)
    out = steps.empty(plan.shape)
    for i in range(0, len(plan.tiles), max(1, int(batch_size))):
        chunk = plan.tiles[i : i + max(1, int(batch_size))]
        windows = [steps.window(frame, t.y, t.x, plan.window, plan.pad_mode) for t in chunk]
        heat = steps.outputs(run_network(network, steps.batch(windows), device))
        for t, h in zip(chunk, heat):
            out[t.dest] = h[t.keep]
    return out


def detect_frame(
    model: DetectorModel,
    frame: np.ndarray,
    device: torch.device | str = "cpu",
    threshold: float | None = None,
    scale: float = 1.0,
    invert: bool = False,
    tile: int = DEFAULT_TILE,
    batch_size: int | None = None,
    name: str = "image",
    ringed: bool | Look = False,
    network: nn.Module | None = None,
    heatmap: bool = True,
    split_close: bool = False,
) -> FrameResult:
    """Centres (y, x, original pixel grid) and scores of one 2D frame.

    ``ringed`` drops the weak responses ringed particles draw on their rims (a callable, such as a
    look.StackLook, is asked with the image the network read, the peaks and their scores);
    ``network`` is the model's :func:`prepare_network` output,
    made here when not given; ``heatmap`` keeps the whole heatmap in the result; ``split_close`` as
    :func:`iter_detect`'s.
    """
    device = torch.device(device)
    network = prepare_network(model, device) if network is None else network
    steps = steps_for(device)
    ready = prepare_frame(np.asarray(frame)[None], 0, steps, scale, invert, name, frame_named=True)
    thr = applied_threshold(model.card, threshold)
    for prepared, decoder in decoded_heatmaps([ready], network, steps, tile, TILE_MARGIN, batch_size,
                                              candidate_floor(model, thr), model.card.min_distance, heatmap,
                                              RESIDUAL if split_close else None, model.card.sigma):
        return frame_result(model, prepared, decoder, scale, ringed, thr)
    raise AssertionError("a frame went in and none came out")


def candidate_floor(model: DetectorModel, threshold: float) -> float:
    """Heatmap score down to which peaks are decoded: the threshold itself, or with a criterion
    (whose probability is then the score) the model's candidate floor."""
    return min(threshold, model.card.candidate_floor) if model.criterion is not None else threshold


def frame_result(
    model: DetectorModel, prepared: PreparedFrame, decoder: BandDecoder, scale: float,
    ringed: bool | Look, threshold: float, alone: bool = False,
) -> FrameResult:
    """Centres in the original frame's pixels from its decoded heatmap (the per-frame last stage). ``alone``: the
    one frame the call detects (--frames 3, the dock's one-frame Detect), so a blank one has no rest of the stack to
    speak of."""
    peaks, values = decoder.peaks()
    if prepared.blank:
        constant = "" if prepared.unreadable or _non_finite(prepared.blank) else prepared.blank
        if prepared.unreadable:  # as kinds_prediction.UnreadableFrames says it
            log.warning("%s: %s", prepared.blank, SKIPPED_UNREADABLE)
        elif not constant:  # constant frames are said once per stack, by iter_detect (ConstantFrames)
            rest = "" if alone else "; the rest of the stack is detected"  # as kinds_prediction.detect_kind says it
            log.warning("%s (a blank frame): no centres%s", prepared.blank, rest)
        return FrameResult(centres=np.zeros((0, 2)), scores=np.zeros(0), raw_heatmap=decoder.heatmap, scale=scale,
                           unreadable=prepared.unreadable, constant=constant)
    ringed = ringed(prepared.image, peaks, values[0]) if callable(ringed) else ringed
    shadow_radius = SHADOW_REACH * model.card.canonical_diameter if ringed else None
    centres, scores = decode_peaks(peaks, values, shadow_radius, SHADOW_RATIO)
    if model.criterion is not None:
        image = prepared.image.cpu().numpy() if isinstance(prepared.image, torch.Tensor) else prepared.image
        scores = model.criterion.probabilities(
            candidate_features(image, centres, scores, model.card.canonical_diameter))
        keep = scores > threshold
        centres, scores = centres[keep], scores[keep]
    if scale != 1.0:
        h, w = prepared.shape
        centres = rescale_centres_back(centres, prepared.factors)
        inside = (centres[:, 0] >= -0.5) & (centres[:, 0] <= h - 0.5) & (centres[:, 1] >= -0.5) & (centres[:, 1] <= w - 0.5)
        centres, scores = centres[inside], scores[inside]
    found = len(centres)
    centres, scores = prepared.clear_of_gaps(centres, scores, model.card.canonical_diameter / 2 / scale)
    return FrameResult(centres=centres, scores=scores, raw_heatmap=decoder.heatmap, scale=scale,
                       dropped_at_gaps=found - len(centres))


def _non_finite(blank: str) -> bool:
    """Whether stages.PreparedFrame's ``blank`` (``NAME frame I: HELD``, HELD as preprocessing.frame_and_gaps says
    it) is a frame of (almost) only NaN or infinite pixels rather than a constant one."""
    held = blank.rsplit(": ", 1)[-1]
    return "NaN or infinite" in held and not held.endswith("but the NaN or infinite ones")


def steps_on_device(device: torch.device) -> bool:
    """Whether normalising, resampling and peak finding run on ``device`` (GPUs) or in NumPy (CPU)."""
    return device.type != "cpu"


def resolve_sizing(
    model: DetectorModel, frames: np.ndarray, diameter: float | None, name: str = "image", whole_stack: bool = True,
) -> Sizing:
    """The user's diameter, or one estimated from up to three frames and whether particles are ringed
    (with a given diameter, the look is read once the first frame is detected: look.StackLook). A frame of a
    stack that is blank, or cannot be read from its file (files.io.UnreadableFrameError), is passed over; a stack
    with no other frame is refused (:func:`next_unblank_frame`), a diameter given or not, where the call detects the
    ``whole_stack``: a call for some frames (napari's one-frame Detect, --frames, a resumed run's rest) would read the
    stack from frame 0 for it at every call, and its own constant frames are said as detection meets them."""
    if diameter is not None:
        if frames.shape[0] > 1 and whole_stack:  # nothing but constant frames: refused as without a diameter
            next_unblank_frame(frames, name, unreadable_ends=True)
        return given_sizing(model, diameter)
    count = frames.shape[0]
    picks = np.unique(np.linspace(0, count - 1, min(3, count)).astype(int))
    picked = []  # (frame, its estimate); a blank (constant) frame of a stack has none
    for i in picks:
        try:
            frame = check_frame(np.asarray(frames[i]), frame_name(name, frames, i), gaps=True)
            picked.append((i, estimate_size(frame)))
        except (ConstantFrameError, NonFiniteFrameError, UnreadableFrameError):
            if count == 1:
                raise
    if not picked:  # the frames picked were blank: the first that is not
        i = next_unblank_frame(frames, name)
        picked = [(i, estimate_size(check_frame(np.asarray(frames[i]), f"{name} frame {i}", gaps=True)))]
    picks, estimates = [i for i, _ in picked], [e for _, e in picked]
    ringed = 2 * sum(e.ringed for e in estimates) > len(estimates)
    used = float(np.median([e.diameter for e in estimates]))
    doubtful = [(i, e) for i, e in zip(picks, estimates) if not e.confident]
    # A size no given diameter could have: read from too few pixels, it would place centres anywhere.
    check_diameter_fits(used, frames.shape, name, estimated=True)
    reason = ""
    if 2 * len(doubtful) >= len(estimates):
        index, estimate = doubtful[0]
        reason = estimate.reason
        working = model.card.canonical_diameter
        if not span_matters(estimate, working) and not span_matters(replace(estimate, span=(used, estimate.span[0])),
                                                                    working):
            # Both sizes are enlarged the most the model allows: a diameter given would change no centre.
            reason = reason.removesuffix(f"; {DIAMETER_ADVICE}") + f"; {SAME_DETECTION}"
        reason += f" (frame {index})" if count > 1 else ""
    elif len(estimates) > 1 and max(e.diameter for e in estimates) > 1.3 * min(e.diameter for e in estimates):
        reason = "frames disagree: " + ", ".join(f"{e.diameter:.1f}" for e in estimates) + " px"
    return Sizing(used, scale_for_diameter(used, model.card.canonical_diameter), ringed, "estimated",
                  "low" if reason else "high", reason)


def given_sizing(model: DetectorModel, diameter: float) -> Sizing:
    """Sizing for a diameter the user gave; its look (``ringed``) is read around the detections (look.StackLook)."""
    check_diameter(diameter)
    return Sizing(float(diameter), scale_for_diameter(float(diameter), model.card.canonical_diameter), False, "given")


def given_look(model: DetectorModel, diameter: float) -> StackLook:
    """The look of a stack detected at a given ``diameter`` (px), read in the pixels the network reads, before
    any frame tells it."""
    return StackLook(diameter * given_sizing(model, diameter).scale)


# What running out of host or GPU memory raises (torch's CPU allocator raises a RuntimeError, see below).
OUT_OF_MEMORY = (MemoryError, getattr(torch.cuda, "OutOfMemoryError", MemoryError))
# How the runtimes say they ran out of memory: torch ("can't allocate memory", CUDA "out of memory"),
# ONNX Runtime's arena ("Failed to allocate memory for requested buffer"), OpenVINO ("[CPU] ... can't alloc").
OUT_OF_MEMORY_WORDS = ("can't allocate memory", "out of memory", "failed to allocate", "can't alloc")


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` (of torch, ONNX Runtime or OpenVINO) says memory ran out."""
    text = str(exc).lower()
    return any(words in text for words in OUT_OF_MEMORY_WORDS)


def require_spheres(model: DetectorModel) -> None:
    """Sphere detection runs a sphere model: one line naming the kind another model finds, and the way out."""
    found = model.card.kind
    require_kind(model, "spheres", model.path or "the model",
                 f"give a sphere model, or kind={found!r} (--kind {found})", spatial_dims=2)


def iter_detect(
    image: np.ndarray,
    model: DetectorModel | str | None = None,
    device: str | torch.device = "auto",
    threshold: float | None = None,
    diameter: float | None = None,
    polarity: str = "auto",
    frames: list[int] | None = None,
    tile: int = DEFAULT_TILE,
    batch_size: int | None = None,
    name: str = "image",
    precision: str = "auto",
    heatmaps: bool = True,
    compile: bool = False,
    runtime: str = "auto",
    split_close: bool = False,
    stack_look: StackLook | None = None,
    measured: bool = False,
    skip_unreadable: bool = False,
) -> Iterator[tuple[int, FrameResult, Sizing]]:
    """Yield (frame index, result, sizing) per frame, in order, so GUIs and progress bars can follow along.

    Frames are read and prepared a few ahead on a host thread and their tiles batched into network
    calls across frames (``batch_size`` tiles per call; default by device). ``heatmaps=False``
    keeps no whole heatmap (results' ``heatmap`` is None): memory then holds bands of rows only.
    ``compile`` runs the network through ``torch.compile`` (a warm-up on the first batch).
    ``frames``: the indices of the frames to detect, in the order given (default every frame): whole
    numbers, negative ones counted from the end (-1 is the last frame, yielded as its index); a frame
    out of range or named twice is refused (preprocessing.frame_indices).
    ``runtime``: "auto" runs the network on ONNX Runtime on a CPU where it is installed (float32, or
    int8 with ``precision="int8"``), on OpenVINO in bfloat16 where runtimes.resolve_runtime says so,
    on torch otherwise; "torch", "onnx" or "openvino" to choose. ``split_close`` also takes the
    particles the heatmap's peaks leave unexplained (heatmap.ResidualRule: a dimmer particle on a
    brighter one's flank): crowded Gaussian spots gain (300 / 600 per 256 px: +0.004 / +0.007 F1),
    but real images lose a little (bulk water -0.003 F1, the seed demo's counts spread 2.1 % against
    1.8 %) and 2048 px frames take up to 13 % longer, so it is off unless asked for.
    ``stack_look``: with a diameter given, the :func:`given_look` to read the particles' look (ringed or not)
    into, or to go on with: the look that frames detected before, in an earlier call, told or left untold, so
    that detecting a stack in parts decodes each frame as detecting it whole does (default: a fresh one).
    ``measured``: the centres will be measured (``--measure``), so the gap line also counts those trackpy's
    measurements leave NaN beside a gap.
    ``skip_unreadable``: whether a frame of a stack that cannot be read from its file (files.io.
    UnreadableFrameError: a garbled page or chunk) is skipped, said in a warning and yielded without centres
    (``FrameResult.unreadable``), rather than raised there (the default: a caller that does not tell such a frame
    apart would take it for a frame found empty).
    """
    # The arguments are checked before any work: the model is loaded, and frames read, after.
    check_polarity(polarity)
    check_threshold(threshold)
    if diameter is not None:
        check_diameter(diameter)  # here, since the scale is taken from it before the look check ends
    check_count(tile, "tile", "pixels")
    check_count(batch_size, "batch_size", "tiles", "by device")
    stack = as_frames(image, name)
    indices = frame_indices(frames, stack.shape[0], name)
    if diameter is not None:
        check_diameter_fits(diameter, stack.shape, name)
    device = select_device(device)
    if not isinstance(model, DetectorModel):
        model = load_model_cached(model, device)
    require_spheres(model)
    warn_unfinished_training(model.card, str(model.path) if model.path else "the model")
    network = prepare_network(model, device, precision, compile=compile, runtime=runtime)
    steps = steps_for(device)
    thr = applied_threshold(model.card, threshold)
    try:
        sizing = resolve_sizing(model, stack, diameter, name, whole_stack=len(indices) == stack.shape[0])
        scale = sizing.scale
        # A given diameter fixes the scale; the look (ringed or not) is read around the first
        # frame's peaks, in the pixels the network reads.
        look = sizing.ringed if diameter is None else stack_look or given_look(model, diameter)
        # One reader thread: a lazy stack's file is never read from two threads at once.
        with ThreadPoolExecutor(max_workers=1) as reader:
            prepare = lambda index: prepare_frame(stack, index, steps, scale, polarity == "dark", name,
                                                  skip_unreadable)
            depth = prefetch_depth(tuple(stack.shape[-2:]), scale)
            # One frame has nothing to overlap with: handing it to the reader thread and back only cost the wait
            # for both threads to be scheduled (a 512 px image: 9-18 ms of 140-200 on a loaded 2-core CPU).
            ready = prefetched(reader, prepare, indices, depth) if len(indices) > 1 else map(prepare, indices)
            constant = ConstantFrames(name, len(indices))
            # Said in a finally: a caller that stops early (the dock's Stop, Ctrl-C, a break) closes this generator,
            # and the frames met so far were said by none.
            try:
                for prepared, decoder in decoded_heatmaps(ready, network, steps, tile, TILE_MARGIN, batch_size,
                                                          candidate_floor(model, thr),
                                                          model.card.min_distance, heatmaps,
                                                          RESIDUAL if split_close else None, model.card.sigma):
                    result = frame_result(model, prepared, decoder, scale, look, thr, alone=len(indices) == 1)
                    constant.add(prepared.index, result)
                    unmeasured = reaching_gaps(result.centres, prepared.missing, sizing.diameter) if measured else ()
                    steps.gaps.add_centres(result.dropped_at_gaps, int(np.count_nonzero(unmeasured)))
                    if isinstance(look, StackLook):
                        sizing = replace(sizing, ringed=bool(look.ringed))
                    yield prepared.index, result, sizing
            finally:
                constant.warn()
        if isinstance(look, StackLook) and look.core_ring is not None:
            # Rims then read as particles of their own (a second centre on each): the size is the user's to fix.
            log.warning("%s: the particles look ringed, a core inside a rim about %.0f px across: the diameter "
                        "given (%.1f px) reads as their cores; give the rim's outer diameter", name,
                        look.core_ring / scale, diameter)
        if steps.spikes.first is not None:
            # Left out silently, a sensor's defect would look like no defect at all: say it once per call.
            log.warning("%s: %s left out of the intensity range in %d frame%s (a hot column, a saturated patch "
                        "or zero padding?)", name, steps.spikes.first.describe(), steps.spikes.frames,
                        "s" if steps.spikes.frames != 1 else "")
        if steps.flattened.first is not None:
            # Subtracted silently, a ramp in the light would pass for the particles' own look: say it once.
            log.warning("%s: uneven illumination, %s: subtracted before normalising in %d frame%s", name,
                        steps.flattened.first.describe(), steps.flattened.frames,
                        "s" if steps.flattened.frames != 1 else "")
        if steps.gaps.frames:
            log.warning("%s: %s", name, steps.gaps.describe())
    except OUT_OF_MEMORY as exc:
        raise ParticleDetectError(out_of_memory_message(name, stack, device, exc)) from None
    except ParticleDetectError:
        raise  # already one line of its own (a frame that cannot be read says why)
    except Exception as exc:  # noqa: BLE001 - the runtimes' own errors: ONNX Runtime's Fail is no RuntimeError
        if not is_out_of_memory(exc):
            raise
        raise ParticleDetectError(out_of_memory_message(name, stack, device, exc)) from None


# detect's keyword options beyond its named parameters: iter_detect's for spheres (but stack_look: a table is of one
# call; nor skip_unreadable: a table refuses the frames asked for where none is read), fewer for the other kinds.
SPHERE_OPTIONS = frozenset(inspect.signature(iter_detect).parameters) - {
    "image", "model", "device", "threshold", "diameter", "polarity", "stack_look", "skip_unreadable"}
KIND_OPTIONS = frozenset({"frames", "tile", "name", "runtime", "precision"})


def out_of_memory_message(name: str, stack, device: torch.device, exc: BaseException) -> str:
    shape = "x".join(map(str, stack.shape[-2:]))
    where = "GPU" if device.type != "cpu" else "host"
    return (f"{name}: out of {where} memory on a {shape} px frame; free memory, use a smaller --tile or a "
            f"smaller --batch-size, or another device ({type(exc).__name__})")


def detect(
    image: np.ndarray,
    model: DetectorModel | str | None = None,
    device: str | torch.device = "auto",
    threshold: float | None = None,
    diameter: float | None = None,
    polarity: str = "auto",
    progress: Callable[[int, int], None] | None = None,
    kind: str = "spheres",
    **kwargs,
) -> pd.DataFrame:
    """Centres of every frame as a ``frame,y,x,score`` table (trackpy's column names).

    ``image``: a 2D image, or a T/Z stack of 2D frames (an array, a list of equally shaped frames, or a
    lazy array such as a dask array, read a frame at a time); length-1 axes are left out, as the file
    readers leave them out ((Y, X, 1) is one image). ``model``: a DetectorModel, a model's path (NAME.pt
    with its card NAME.json) or a shipped model's name (default: the shipped UNet); a 3D model is
    refused (detect volumes with napari_particle_detect.detect_volumes). ``diameter``: the particles' diameter
    in px (a number no larger than the image), or None to estimate it. ``threshold``: a score in
    [0, 1), or None for the model's own. ``progress``: called as ``progress(done, total)`` after each
    frame, ``total`` the number of frames detected. ``frames`` (a keyword option): the indices of the
    frames to detect, in the order given (default every frame); negative ones count from the end as
    Python's indexing does (-1, the last frame, is its index in the table's ``frame`` column); a frame
    out of range or named twice is refused. The other keyword options are :func:`iter_detect`'s
    (``tile``, ``batch_size``, ``precision``, ``runtime``, ``compile``, ``split_close``, ``name``); a
    table holds no heatmaps, so ``heatmaps=True`` is refused (:func:`iter_detect` yields them).

    ``kind="rods"`` or ``"chains"`` gives those kinds' tables instead (kinds_prediction.detect_kind:
    rods.COLUMNS, chains.COLUMNS), with their shipped models unless ``model`` is given; of the
    keyword options they take ``frames``, ``tile``, ``name``, ``runtime`` and ``precision``.

    ``table.attrs`` holds the sizing used: ``diameter`` (given or estimated), ``scale`` (the factor
    frames were resampled by to reach the model's working size), ``ringed``, and
    ``diameter_confidence`` ("high", or "low" when too few particle-like blobs stood out of the
    noise to trust an estimate: give the diameter) with ``diameter_reason``; and ``threshold``, the
    score threshold applied (the one given, else the model's). A low-confidence estimate is also
    logged as a warning (logger ``napari_particle_detect``), once per call. An estimate larger than
    the image (too few pixels to read a size from) is refused: give the diameter.

    Pixels are read as square (an array carries no pixel size): particles that read stretched along y or x, as they
    do in an image of pixels taller than wide, are a warning, the estimate's low confidence or, with a diameter given,
    one line of its own; resample such an image to square pixels first.

    A stack is sized once: one diameter, the median of the estimates of its first, middle and last
    frames, is used for every frame, so a frame detected alone (sized on its own) may give slightly
    different centres. ``detect(stack, frames=[i])`` gives frame ``i``'s rows of the stack's table
    (the stack is still sized as a whole), as does ``detect(stack[i], diameter=table.attrs["diameter"])``.

    A frame of a lazily read stack that cannot be read from its file (a garbled page or chunk) is skipped with a
    warning, the rest detected, and listed in ``table.attrs["unreadable_frames"]``; the one frame asked for, or
    every one, that cannot be read is refused.
    """
    unknown = sorted(set(kwargs) - SPHERE_OPTIONS)
    if unknown:
        raise TypeError(f"detect() got an unexpected keyword argument {unknown[0]!r}; its options beyond the "
                        f"named ones: {', '.join(sorted(SPHERE_OPTIONS))}")
    check_progress(progress)
    if kwargs.get("heatmaps", False):
        raise ParticleDetectError("heatmaps: detect returns a table, which holds no heatmaps; iter_detect yields "
                                  "each frame's (FrameResult.heatmap)")
    kwargs.pop("heatmaps", None)
    if kind != "spheres":
        from .kinds_prediction import detect_kind

        if kwargs.pop("split_close", False):
            raise ParticleDetectError(f"split_close splits sphere peaks; not with kind={kind!r}")
        spheres_only = sorted(set(kwargs) - KIND_OPTIONS)
        if spheres_only:
            raise ParticleDetectError(f"{spheres_only[0]} is an option of sphere detection; not with kind={kind!r}")
        return detect_kind(image, kind, model, device, threshold, polarity, progress=progress, diameter=diameter,
                           **kwargs)
    parts = []
    name = kwargs.get("name", "image")
    stack = as_frames(image, name)
    if stack.shape[0] > 1 and hasattr(image, "shape"):  # a list is frames by its own making; an array may be a volume
        log.info("%s: read as a stack of %d 2D frames; if it is one volume (z, y, x), detect_volumes finds its "
                 "centres in 3D", name, stack.shape[0])
    kwargs["frames"] = frame_indices(kwargs.get("frames"), stack.shape[0], name)
    total = len(kwargs["frames"])  # the frames detected, not the stack's
    sizing, unreadable = None, []
    # A table needs no heatmaps: memory holds bands of rows only.
    for count, (index, result, sizing) in enumerate(
        # A lone frame asked for that cannot be read is refused, as kinds_prediction.UnreadableFrames does.
        iter_detect(stack, model, device, threshold, diameter, polarity, heatmaps=False,
                    skip_unreadable=total > 1, **kwargs), start=1
    ):
        parts.append((index, result.centres, result.scores))
        unreadable += [index] if result.unreadable else []
        if progress is not None:
            progress(count, total)
    check_any_read(unreadable, total, name)
    if sizing is not None and sizing.confidence == "low":  # the command line says it as its own warning
        log.warning("%s: particle diameter %.1f px (estimated), low confidence: %s", name, sizing.diameter,
                    with_advice(sizing.reason, "give diameter= (px) if it is known"))
    if sizing is not None and sizing.source == "given":
        warn_if_stretched(stack, parts, sizing.diameter, name)
    table = frames_table(parts)
    table.attrs["diameter"] = sizing.diameter if sizing else float("nan")
    table.attrs["scale"] = sizing.scale if sizing else float("nan")
    table.attrs["ringed"] = sizing.ringed if sizing else False
    table.attrs["diameter_confidence"] = sizing.confidence if sizing else "low"
    table.attrs["diameter_reason"] = sizing.reason if sizing else ""
    if threshold is None:  # the model's own: its card (iter_detect loaded the model; the card alone is read here)
        threshold = (model.card if isinstance(model, DetectorModel) else saved_card(model)).threshold
    table.attrs["threshold"] = float(threshold)
    if unreadable:  # as a rods or chains table keeps them (kinds_prediction.detect_kind)
        table.attrs["unreadable_frames"] = unreadable
    return table


def warn_if_stretched(stack, parts: list[tuple[int, np.ndarray, np.ndarray]], diameter: float, name: str) -> None:
    """A warning where the particles found at a ``diameter`` given read stretched along y or x (pixels not square):
    the estimate says so of its own (sizing.stretched), but a diameter given skipped it, and an array carries no pixel
    size, so detect found centres at a size that fits neither axis without a word. Read on the first frame of
    ``parts`` (detect's (index, centres, scores)) that has particles enough to tell."""
    for index, centres, _ in parts:
        if len(centres) >= MIN_CONVINCING_BLOBS:
            with np.errstate(all="ignore"):  # values near float64's limits, NaN pixels: no reading, no warning
                ratio = elongation(np.asarray(stack[index]), centres, diameter)
            if np.isfinite(ratio) and ratio > 0 and abs(np.log(ratio)) > np.log(ELONGATED):
                log.warning("%s: %s", name, stretched(ratio))
            return


def centres_table(frame: int, centres: np.ndarray, scores: np.ndarray) -> pd.DataFrame:
    return frames_table([(frame, centres, scores)])


def frames_table(parts: list[tuple[int, np.ndarray, np.ndarray]]) -> pd.DataFrame:
    """One ``frame,y,x,score`` table from each frame's (index, centres, scores), built once: a table
    per frame costs more than a GPU's work on the frame."""
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    centres = np.concatenate([np.asarray(c, dtype=float).reshape(-1, 2) for _, c, _ in parts])
    return pd.DataFrame({
        "frame": np.concatenate([np.full(len(c), index, dtype=int) for index, c, _ in parts]),
        "y": centres[:, 0], "x": centres[:, 1],
        "score": np.concatenate([np.asarray(s, dtype=float).reshape(-1) for _, _, s in parts]),
    })
