"""Detection for the kinds beyond spheres: frames -> the model's maps (all heads) -> the kind's table.

Frames are normalised as for spheres, an uneven background subtracted as for spheres, and run through
the network in the same overlapping tiles (:func:`tiling.plan_tiles`), at the pixel scale they come in:
rods of any width, chains whose beads are of a size the model takes (:func:`bead_sizing`; others are
resampled to it). The kind's module decodes each frame's maps. NaN and infinite pixels (a mosaic's gaps) are
missing data, as for spheres: set to the local background, and the objects they cut dropped
(:func:`objects_clear_of_gaps`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
from torch import nn

from .choices import (DEFAULT_TILE, applied_threshold, check_count, check_polarity, check_progress,
                      check_threshold)
from .devices import select_device
from ..errors import ParticleDetectError
from ..files.io import UnreadableFrameError
from ..kinds.chains import count_chains, keep_beads
from ..kinds.registry import get_kind
from ..kinds.rod_axis import measure_axes
from ..kinds.rods import TIP_COLUMNS
from ..kinds.rod_width import measure_widths
from ..kinds.tables import unlike_kind_note
from ..models import DetectorModel, load_model_cached
from ..models.registry import require_kind, warn_unfinished_training
from .networks import prepare_network
from .unreadable import SKIPPED_UNREADABLE, check_any_read, detected_and_unreadable
from .choices import check_diameter, check_diameter_fits
from .runtimes import runtime_record
from .constant_frames import ConstantFrames, next_unblank_frame
from .preprocessing import (
    FLATTEN_BLOCK, BlankFrameError, ConstantFrameError, FrameRecord, GapRecord, as_frames, clear_of_gaps,
    frame_and_gaps, frame_indices, frame_name, normalise, without_spikes,
)
from ..shipped import WEIGHTS_DIR
from .sizing import estimate_size, rescale_centres_back, rescale_frame, scale_for_diameter
from ..synthetic.chains import TRAINING_BEAD_RADIUS
from .stages import laid_out_for
from .steps import own_pixels, scale_to_percentiles_in_place
from .tiling import plan_tiles

log = logging.getLogger(__name__)
TILE_MARGIN = 64  # rods reach further than spheres: more context per tile

# Beads whose size (sizing.estimate_size, in its own units) lies outside BEAD_DIAMETERS are resampled to
# WORKING_BEAD_DIAMETER before detection; others are detected as they come, as ever. The chains model
# learns beads 7-18 px across (TRAINING_BEAD_RADIUS), which the estimate reads 0.8 (fluorescent), 0.93
# (opaque) and 1.05 (bright-field) times as large. On the benchmark's chains (area fraction 0.3, two images
# per look and size), as they come: bond F1 0.24-0.39 for 5 px beads (read 4.5-5.8), 0.95-0.99 for 7-18 px
# (read 5.8-18.8), 0.49 for fluorescent 22 px ones (read 17.4) and 0.77-0.81 for bright-field 20 px and
# opaque 22 px ones (read 21.0, 20.5), down to 0 for 23-30 px beads; resampled to 12 px beads, 0.96-0.99
# at every size from 5 to 30 px (10 or 15 px alike). So beads read outside 7-16 px are resampled.
BEAD_DIAMETERS = (2 * TRAINING_BEAD_RADIUS[0], 16.0)
WORKING_BEAD_DIAMETER = 12.0


def shipped_model_path(kind: str):
    """The shipped weights for a kind (``weights/rods.pt``, ``weights/chains.pt``)."""
    path = WEIGHTS_DIR / f"{kind}.pt"
    if not path.exists():
        raise ParticleDetectError(f"no shipped weights for kind {kind!r} in {WEIGHTS_DIR}")
    return path


def predict_maps(network: nn.Module, frame: np.ndarray, device: torch.device | str = "cpu",
                 tile: int = DEFAULT_TILE, margin: int = TILE_MARGIN) -> np.ndarray:
    """All output maps (C, H, W) of one normalised frame, in overlapping tiles."""
    device = torch.device(device)
    frame = np.ascontiguousarray(frame, dtype=np.float32)
    stride = getattr(network, "stride", 8)
    plan = plan_tiles(tuple(frame.shape), stride, tile, margin)
    out = None
    for t in plan.tiles:
        part = frame[t.y : t.y + plan.window[0], t.x : t.x + plan.window[1]]
        short = (plan.window[0] - part.shape[0], plan.window[1] - part.shape[1])
        if short != (0, 0):
            part = np.pad(part, ((0, short[0]), (0, short[1])), mode="reflect" if plan.pad_mode == "reflect" else "edge")
        batch = laid_out_for(network, torch.from_numpy(np.ascontiguousarray(part))[None, None].to(device))
        with torch.inference_mode():
            maps = network(batch)[0].float().cpu().numpy()
        if out is None:
            out = np.zeros((maps.shape[0],) + plan.shape, np.float32)
        out[(slice(None),) + t.dest] = maps[(slice(None),) + t.keep]
    return out


def model_for(kind: str, model: DetectorModel | str | None, device: torch.device) -> DetectorModel:
    if not isinstance(model, DetectorModel):
        model = load_model_cached(model if model is not None else shipped_model_path(kind), device)
    found = model.card.kind
    require_kind(model, kind, model.path or "the model", f"give a {kind} model, or kind={found!r} (--kind {found})",
                 spatial_dims=2)
    return model


def detect_kind(
    image: np.ndarray,
    kind: str,
    model: DetectorModel | str | None = None,
    device: str | torch.device = "auto",
    threshold: float | None = None,
    polarity: str = "auto",
    frames: list[int] | None = None,
    tile: int = DEFAULT_TILE,
    name: str = "image",
    progress: Callable[[int, int], None] | None = None,
    runtime: str = "auto",
    precision: str = "auto",
    diameter: float | None = None,
) -> pd.DataFrame:
    """The kind's table (rods.COLUMNS or chains.COLUMNS) for every frame of a 2D image or a stack.

    ``runtime`` and ``precision`` as for spheres (runtimes.resolve_runtime): on a CPU, ONNX Runtime
    float32 by default. ``frames`` and ``progress`` as prediction.detect's: the indices of the frames to
    detect (negative ones from the end, each once), and ``progress(done, total)`` over them. ``diameter``:
    of chains, the beads' diameter (px) where it is known, taken instead of the estimate (:func:`bead_sizing`);
    rods are detected at any width as they come. A stack of nothing but constant frames is refused, as for spheres
    (constant_frames.next_unblank_frame); a few among others are said in one line at its end (constant_frames.ConstantFrames)."""
    check_polarity(polarity)
    check_threshold(threshold)
    check_count(tile, "tile", "pixels")
    check_progress(progress)
    spec = get_kind(kind)
    if diameter is not None:
        check_bead_diameter(diameter, kind)
    stack = as_frames(image, name)
    if diameter is not None:
        check_diameter_fits(diameter, stack.shape, name)  # as spheres: beads larger than the image find nothing
    indices = frame_indices(frames, stack.shape[0], name)
    device = select_device(device)
    model = model_for(kind, model, device)
    warn_unfinished_training(model.card, str(model.path) if model.path else "the model")
    if stack.shape[0] > 1 and len(indices) == stack.shape[0]:
        # As spheres (prediction.resolve_sizing): not an empty table and a line per frame; only where the whole stack
        # is detected, or the dock's one-frame Detect read the stack from frame 0 at every click.
        next_unblank_frame(stack, name, unreadable_ends=True)

    # As for spheres: batch norm folded into the convolutions, on the runtime made for the device.
    network = prepare_network(model, device, precision, runtime=runtime)
    thr = applied_threshold(model.card, threshold)
    parts, unreadable = [], UnreadableFrames(stack.shape[0], len(indices))
    scale, bead_diameter, flattened, gaps = None, None, FrameRecord(), GapRecord()
    constant = ConstantFrames(name, len(indices), nothing="nothing found")
    # Said in a finally, as spheres do (prediction.iter_detect): a Ctrl-C or a failed frame after a constant one
    # would otherwise lose its line.
    try:
        for count, index in enumerate(indices, start=1):
            raw = unreadable.read(stack, index)
            if raw is None:
                if progress is not None:
                    progress(count, len(indices))
                continue
            try:
                # Gaps read in blocks of the working scale's FLATTEN_BLOCK, as for spheres (stages.prepare_frame).
                frame, missing = frame_and_gaps(raw, frame_name(name, stack, index),
                                                 block=FLATTEN_BLOCK / (scale or 1.0))
            except BlankFrameError as exc:
                # As for spheres (stages.prepare_frame): a dropped frame, or one (almost) all NaN, found only when
                # reached, would otherwise throw away every frame detected before it.
                if stack.shape[0] == 1:
                    raise
                if isinstance(exc, ConstantFrameError):  # said once for the stack, as spheres' are
                    constant.add_held(index, f"{name} frame {index}: {exc.held}")
                else:
                    # The dock detects one frame of a stack: "the rest of the stack" is said only where there is a rest.
                    rest = "; the rest of the stack is detected" if len(indices) > 1 else ""
                    log.warning("%s frame %d: %s (a blank frame): nothing found%s", name, index, exc.held, rest)
            else:
                if scale is None:  # from the stack's first frame with something in it, for the whole stack
                    scale, bead_diameter = (stack_bead_sizing(stack, index, frame, name, diameter) if kind == "chains"
                                            else (1.0, None))
                    if missing is not None and scale != 1.0:  # its gaps filled before the scale was known
                        frame, missing = frame_and_gaps(raw, frame_name(name, stack, index),
                                                         block=FLATTEN_BLOCK / scale)
                gaps.add(missing)
                prepared, factors = network_frame(frame, scale, polarity == "dark", flattened, missing)
                maps = predict_maps(network, prepared, device, tile)
                found = in_image_pixels(spec.decode(maps, thr, model.card.min_distance, frame=index), factors)
                # The heads read rods along the rows about 5 degrees off and widths pulled toward 8 px: both are
                # measured in the frame as it came (its look told by its polarity, so never the inverted or
                # flattened network input), the axis first so that the width is measured across it.
                found = measure_widths(measure_axes(found, frame, maps), frame) if kind == "rods" else found
                bead_radius = (bead_diameter or WORKING_BEAD_DIAMETER / scale) / 2
                parts.append(objects_clear_of_gaps(found, missing, kind, bead_radius))
            if progress is not None:
                progress(count, len(indices))
    finally:
        constant.warn()
    if flattened.first is not None:
        # As for spheres (prediction.iter_detect): a ramp subtracted unsaid would pass for the objects' own look.
        log.warning("%s: uneven illumination, %s: subtracted before normalising in %d frame%s", name,
                    flattened.first.describe(), flattened.frames, "s" if flattened.frames != 1 else "")
    if gaps.frames:
        log.warning("%s: %s", name, gaps.describe())
    check_any_read(unreadable.frames, len(indices), name, why=unreadable.first)
    parts = [p for p in parts if len(p)]
    table = pd.concat(parts, ignore_index=True) if parts else spec.decode(np.zeros((len(spec.heads), 8, 8), np.float32), 1.0)
    table.attrs.update({"kind": kind, "threshold": thr})
    if unreadable.frames:
        table.attrs["unreadable_frames"] = unreadable.frames
    if kind == "chains":  # how the beads were sized, as a sphere table records its diameter
        table.attrs.update({"diameter": bead_diameter, "scale": scale,
                            "diameter_source": "given" if diameter is not None else "estimated"})
    return table


class UnreadableFrames:
    """The frames of a stack that cannot be read (a garbled page or chunk: io.UnreadableFrameError), skipped with a
    warning each, as a blank frame is: failing there threw away every frame detected before it, and a rerun failed
    at the same frame. Only where other frames are asked for: an image of one frame, or the one frame asked for,
    that cannot be read is refused."""

    def __init__(self, count: int, asked: int) -> None:
        self.count, self.asked = count, asked  # the stack's frames, and how many of them are detected
        self.frames: list[int] = []
        self.first = ""  # the first one's error, said where none could be read

    def read(self, stack, index: int) -> np.ndarray | None:
        """Frame ``index`` of ``stack``; None where it cannot be read (said, and kept in ``frames``)."""
        try:
            return np.asarray(stack[index])
        except UnreadableFrameError as exc:
            if self.count == 1 or self.asked == 1:
                raise
            log.warning("%s: %s", exc, SKIPPED_UNREADABLE)
            self.first = self.first or str(exc)
            self.frames.append(exc.frame)
            return None


def objects_clear_of_gaps(table: pd.DataFrame, missing: np.ndarray | None, kind: str,
                          bead_radius: float) -> pd.DataFrame:
    """One frame's ``table`` less the objects its ``missing`` pixels (a mosaic's gaps) cut, as for spheres
    (preprocessing.clear_of_gaps): chains' beads within preprocessing.GAP_REACH of ``bead_radius`` px of a gap, their chains cut
    there (chains.keep_beads); rods whose axis, tip to tip, comes within GAP_REACH of their half width of one, or
    whose tip comes within their half width: the network ends a rod at a gap's filled edge, so a tip there may be
    the gap's and not the rod's, and its length is what the gap left of it."""
    if missing is None or not len(table):
        return table
    if kind == "chains":
        return keep_beads(table, clear_of_gaps(table[["y", "x"]].to_numpy(float), missing, (bead_radius, bead_radius)))
    keep = np.ones(len(table), bool)
    for row, (tips, half_width) in enumerate(zip(table[list(TIP_COLUMNS)].to_numpy(float).reshape(-1, 2, 2),
                                                 table["width"].to_numpy(float) / 2)):
        axis = np.linspace(*tips, int(np.ceil(np.hypot(*(tips[1] - tips[0])))) + 1)  # a point every pixel or less
        keep[row] = (clear_of_gaps(axis, missing, (half_width, half_width)).all()
                     and clear_of_gaps(tips, missing, (half_width,) * 2, reach=1.0).all())
    return table[keep].reset_index(drop=True)


def network_frame(frame: np.ndarray, scale: float, invert: bool, flattened: FrameRecord,
                  missing: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A checked ``frame`` as a kind's network reads it, and the per-axis factors it was resampled by
    (``scale``): normalised as for spheres, an uneven background subtracted first where there is one
    (preprocessing.FLATTEN_RATIO; recorded in ``flattened``). ``missing``: the frame's gaps (filled already),
    whose fill takes no part in the spike check nor in the percentile range, as for spheres (steps.own_pixels):
    half a frame filled with its background pulled the top of the other half's range 4-10 % down.

    The kinds work at the scale spheres are brought to (objects 4-18 px across), so the spheres' block serves:
    larger blocks, for long rods, make a 2 x 2 grid of a 256 px frame that cannot see a vignette (the benchmark's
    rods under one of 8.5 times their contrast, one image a cell: F1 0.37 in 128 px blocks, 0.87 in 64, 0.88 evenly
    lit), while no evenly lit frame came near the rule's 0.95 in 64 px blocks (the background's variation over the
    objects' contrast: at most 0.29 on the benchmark's rods, 0.19 on long dense ones, 0.77 on 600 training
    draws of rods and chains)."""
    resampled, factors = resampled_for_network(frame, scale, missing)
    if missing is None:  # bit for bit the input rounds and training have always fed the network
        return normalise(resampled, invert, flatten_block=FLATTEN_BLOCK, flattened=flattened), factors
    if np.may_share_memory(resampled, frame):
        resampled = np.array(resampled, dtype=np.float32)  # normalised in place below: never the caller's image
    own = own_pixels(missing, scale)
    # A frame with gaps has no earlier input to keep (gaps were refused): normalised as a sphere frame is
    # (steps.HostSteps.prepare), its spikes checked at the working scale too, as normalise checks them.
    resampled, _ = without_spikes(resampled, in_place=True, where=own)
    return scale_to_percentiles_in_place(resampled, invert, flattened, own), factors


def resampled_for_network(frame: np.ndarray, scale: float,
                          missing: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``frame`` resampled by ``scale`` as :func:`network_frame` resamples it before normalising, and the per-axis
    factors (float32 and ones at scale 1): what training and rounds bring their frames to, so they cannot drift
    from detection. ``missing``: the frame's gaps (filled already), left out of the spike check."""
    if scale != 1.0:
        # As for spheres (steps.HostSteps.prepare): spikes out first, which resampling would smear.
        frame = without_spikes(frame, where=own_pixels(missing, 1.0))[0]
    return rescale_frame(frame, scale)


def bead_sizing(frame: np.ndarray, name: str = "image", diameter: float | None = None) -> tuple[float, float | None]:
    """(scale, diameter): the beads' diameter (px; given, or estimated where the estimate can size them, else
    None) and the factor that brings the beads of a chains ``frame`` to WORKING_BEAD_DIAMETER where they read
    outside BEAD_DIAMETERS (said in one line), else 1: detected as they come. So is a frame whose beads
    the estimate cannot size: too few stand out, or it reads them at the largest size it looks for, as it
    does under a vignette of 8.5 times the beads' contrast (60 px for 12 px beads; flattened, they are
    found as evenly lit). Two readings that disagree (crowded opaque beads) are both of the beads, and the
    estimate's choice between them brings beads of 20-30 px to the working size (bond F1 0.99).

    A ``diameter`` given is the beads' true size, so it is held to the sizes the model learnt
    (TRAINING_BEAD_RADIUS) rather than to the estimate's readings of them, and is not estimated."""
    if diameter is not None:
        low, high = (2 * r for r in TRAINING_BEAD_RADIUS)
        return (1.0 if low <= diameter <= high else scale_for_diameter(diameter, WORKING_BEAD_DIAMETER)), diameter
    estimate = estimate_size(frame)
    low, high = BEAD_DIAMETERS
    # A size larger than the frame was read from too few pixels (prediction.check_diameter_fits).
    sized = (estimate.confident or len(estimate.span) == 2) and estimate.diameter <= min(frame.shape)
    if not sized:
        return 1.0, None
    if low <= estimate.diameter <= high:
        return 1.0, estimate.diameter
    scale = scale_for_diameter(estimate.diameter, WORKING_BEAD_DIAMETER)
    trained = "-".join(f"{2 * r:g}" for r in TRAINING_BEAD_RADIUS)
    # One decimal: 16.07 px read as "16" beside "outside the 7-16 px" said the contrary.
    log.warning("%s: the beads read about %.1f px across, outside the %g-%g px the chains model detects as they come "
                "(it learnt %s px beads): each frame is resampled by %.2f to %g px beads for it, the table given in "
                "the image's own pixels; if that size is wrong, resize the image so that the beads are %g-%g px "
                "across", name, estimate.diameter, low, high, trained, scale, WORKING_BEAD_DIAMETER, low, high)
    return scale, estimate.diameter


def stack_bead_sizing(stack, index: int, frame: np.ndarray, name: str = "image",
                      diameter: float | None = None) -> tuple[float, float | None]:
    """:func:`bead_sizing` of the stack's first frame with something in it, from frame 0 on, whichever frames are
    detected: sized on the first frame detected instead, ``frames=[5]`` gave other beads than frame 5's rows of the
    whole stack's table, and the tables of several ranges did not join into the whole stack's (as spheres' do).
    ``frame``: frame ``index`` (the first detected with something in it), already read, its gaps filled."""
    if diameter is None:
        for earlier in range(index):
            try:
                # Its gaps filled as the loop fills a first frame's, before any scale is known.
                frame, _ = frame_and_gaps(np.asarray(stack[earlier]), f"{name} frame {earlier}")
            except (BlankFrameError, UnreadableFrameError):
                continue  # said, if at all, where that frame is detected; a whole run skips it too
            break
    return bead_sizing(frame, name, diameter)


def check_bead_diameter(diameter: object, kind: str) -> None:
    """A ``diameter`` is the beads' size, so only chains take one, and it is a positive number."""
    if kind != "chains":
        raise ParticleDetectError(f"diameter is the size of spheres and of chains' beads; kind={kind!r} works at "
                                  "the image's own pixel scale (widths of about 4-18 px)")
    check_diameter(diameter)


def in_image_pixels(table: pd.DataFrame, factors: np.ndarray) -> pd.DataFrame:
    """A chains ``table`` decoded from a frame resampled by ``factors`` with its beads back in the image's
    pixels (rods are never resampled)."""
    if len(table) == 0 or np.all(factors == 1.0):
        return table
    centres = rescale_centres_back(table[["y", "x"]].to_numpy(float), factors)
    return table.assign(y=centres[:, 0], x=centres[:, 1])


# A chains table's sizing attrs (named as a sphere table's) by the names a sphere input's record gives them: one
# name for one thing in every detect .json (chains' records said diameter and scale before).
SIZING_RECORD_NAMES = {"diameter": "diameter_px", "diameter_source": "diameter_source", "scale": "rescale_factor"}


def detect_kind_file(path, options, model_path, device: torch.device,
                     progress: Callable[[int, int], None] | None = None) -> tuple[pd.DataFrame, dict, dict]:
    """(table, record, metadata) of one image file for ``options.kind`` (file_detection.detect_file's
    other branch): of every frame, or of those ``options.frames`` names (``frames_detected`` in the record), rows
    keeping the stack's frame numbers, as for spheres."""
    from ..files.frame_ranges import frames_to_detect
    from ..files.io import read_image

    model = model_for(options.kind, model_path, device)
    # The frames asked for, as the spheres' read: a stack cut short is read where all of them are whole.
    image = read_image(path, lazy=True, channel=options.channel, axes=options.axes, frames=options.frames)
    n_frames = 1 if image.ndim == 2 else image.shape[0]
    frames = frames_to_detect(path, image, options.frames)
    table = detect_kind(image, options.kind, model, device, options.threshold, options.polarity, frames=frames,
                        tile=options.tile, name=str(path), progress=progress, runtime=options.runtime,
                        precision=options.precision, diameter=options.diameter)
    if note := unlike_kind_note(table, options.kind):
        log.warning("%s: %s", path, note)
    count = count_chains(table) if options.kind == "chains" else len(table)
    sizing = {SIZING_RECORD_NAMES[key]: table.attrs[key] for key in SIZING_RECORD_NAMES if key in table.attrs}
    record = {"file": str(path), "frames": n_frames, "kind": options.kind, "objects": count, "rows": len(table),
              **sizing, **({"channel": options.channel} if options.channel is not None else {}),
              **detected_and_unreadable(frames, options.frames is not None, table.attrs.get("unreadable_frames", []))}
    runtime, precision = runtime_record(options.runtime, options.precision, device, model=model)
    meta = {"model": str(model.path), "kind": options.kind, "threshold": table.attrs["threshold"],
            "polarity": options.polarity, "device": str(device), "runtime": runtime, "precision": precision,
            "inputs": [record]}
    return table, record, meta

