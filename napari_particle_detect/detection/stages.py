"""Prediction in three stages with one batch seam: prepare frames, run the network, decode per frame.

1. Frames are read, checked, resampled and normalised on a host thread a few frames ahead
   (``prefetched``), so reading a file and the network overlap.
2. Their tiles go to the network in batches that may span several frames (frames of a stack share
   one shape and scale, so their tiles stack into one tensor): the one place where work is batched.
3. Each frame's tiles are stitched band by band and its peaks found (``tiling.BandDecoder``); a
   frame is handed on as soon as its last tile is back, in the order frames went in.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import torch
from torch import nn

from .preprocessing import FLATTEN_BLOCK, BlankFrameError, clear_of_gaps, frame_and_gaps, frame_name
from ..files.io import UnreadableFrameError
from ..kinds.heatmap import DEFAULT_SIGMA, ResidualRule
from .tiling import BandDecoder, TilePlan, plan_tiles

# Input pixels per network call by device type. A CPU gains nothing from batching and loses cache:
# one tile a call (a 704² tile took 0.37 s alone, 0.52 s each in fours; 352²: 0.098 vs 0.119 s in
# eights, AVX2 EPYC, 2 threads). GPUs keep busy only with far bigger batches.
BATCH_PIXELS = {"cpu": 1, "cuda": 16 * 1024 * 1024, "mps": 4 * 1024 * 1024}
# Devices whose convolutions run faster on channels-last tensors.
CHANNELS_LAST_DEVICES = ("cpu", "cuda")
# Frames prepared ahead of the network; big frames one at a time, to bound memory.
PREFETCH_FRAMES = 2
PREFETCH_BIG_FRAMES = 1
BIG_FRAME_PIXELS = 8 * 1024 * 1024

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class PreparedFrame:
    index: int
    shape: tuple[int, int]  # the original frame's
    image: Any  # normalised and resampled, NumPy or a device tensor: what the network reads
    factors: np.ndarray  # per-axis resampling factors applied
    blank: str = ""  # why the frame holds nothing to detect (a constant frame of a stack), else empty
    missing: np.ndarray | None = None  # the original frame's NaN or infinite pixels, read as missing
    unreadable: bool = False  # its file's pixels cannot be read (``blank`` says why): skipped, not found empty

    def clear_of_gaps(self, centres: np.ndarray, scores: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
        """``centres`` (original pixels) and their ``scores`` less those of particles of ``radius`` px a missing
        pixel cuts (preprocessing.GAP_REACH)."""
        keep = clear_of_gaps(centres, self.missing, (radius, radius))
        return centres[keep], scores[keep]


def prepare_frame(stack, index: int, steps, scale: float, invert: bool, name: str,
                  skip_unreadable: bool = False, frame_named: bool = False) -> PreparedFrame:
    """Read frame ``index`` of ``stack`` and make it ready for the network.

    NaN and infinite pixels (a mosaic's gaps) are set to the local background, read in blocks of about four
    particle diameters (see preprocessing.MIN_FINITE_SHARE), and recorded in ``steps.gaps``. A constant frame of
    a stack (a dropped or shutter frame), or one (almost) all NaN or infinite, goes through as zeros and is
    marked ``blank``: it gets no centres, and the rest of the stack is still detected. So does a frame of a stack
    whose file cannot be read there (files.io.UnreadableFrameError, a garbled page or chunk), marked
    ``unreadable`` too, with ``skip_unreadable`` (a caller that tells such frames apart, where other frames are
    asked for): failing there threw away the frames detected before it, and a run gone on from them failed at the
    same frame. ``frame_named``: ``name`` is the frame's own (detect_frame's caller's, such as "PATH[3]"), not its
    stack's: a refusal names it as it is, where "PATH[3] frame 0" named it twice."""
    try:
        raw = np.asarray(stack[index])
    except UnreadableFrameError as exc:
        if stack.shape[0] == 1 or not skip_unreadable:
            raise
        raw, unreadable = np.zeros(stack.shape[-2:], np.float32), str(exc)
    else:
        unreadable = ""
    blank, missing = "", None
    try:
        # 16 bit stays 16 bit until resampled.
        said = name if frame_named else frame_name(name, stack, index)
        frame, missing = frame_and_gaps(raw, said, convert=False, block=FLATTEN_BLOCK / scale)
    except BlankFrameError as exc:
        if stack.shape[0] == 1:
            raise
        frame, blank = np.zeros(raw.shape, np.float32), f"{name} frame {index}: {exc.held}"
    steps.gaps.add(missing)
    # A frame this process made (a copy, or a fresh read) may be normalised in place.
    owned = frame is not raw or (raw.flags.owndata and raw.flags.writeable and not isinstance(stack, np.ndarray))
    shape, held = tuple(frame.shape), [frame]
    del raw, frame  # the backend lets the frame go once resampled: one big copy at a time
    image, factors = steps.prepare(held, scale, invert, owned, missing)
    return PreparedFrame(int(index), shape, image, factors, unreadable or blank, missing, bool(unreadable))


def prefetched(pool: ThreadPoolExecutor, work: Callable[[T], R], items: Iterable[T], depth: int) -> Iterator[R]:
    """``work(item)`` for each item, in order, computed on ``pool`` up to ``depth`` items ahead."""
    pending: deque = deque()
    try:
        for item in items:
            pending.append(pool.submit(work, item))
            if len(pending) > depth:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()


def prefetch_depth(shape: tuple[int, int], scale: float) -> int:
    working = shape[0] * shape[1] * scale * scale
    return PREFETCH_BIG_FRAMES if working > BIG_FRAME_PIXELS else PREFETCH_FRAMES


def auto_batch_size(window: tuple[int, int], device: torch.device) -> int:
    """Tiles per network call: about BATCH_PIXELS of input for the device, at least one tile."""
    budget = BATCH_PIXELS.get(device.type, BATCH_PIXELS["cpu"])
    return max(1, budget // (int(window[0]) * int(window[1])))


def laid_out_for(network: nn.Module, batch: torch.Tensor) -> torch.Tensor:
    """``batch`` (N, C, H, W, on its device) in the memory layout ``network`` reads fastest: channels-last on
    CPUs and CUDA, except for an exported network (ONNX Runtime, OpenVINO), which reads plain arrays."""
    if batch.dim() == 4 and batch.device.type in CHANNELS_LAST_DEVICES and getattr(network, "channels_last", True):
        return batch.contiguous(memory_format=torch.channels_last)
    return batch


def run_network(network: nn.Module, batch: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Heatmaps (N, H, W) of a batch of windows (N, 1, H, W), float32 whatever the network computes in."""
    batch = laid_out_for(network, batch.to(device, non_blocking=True))
    with torch.inference_mode():
        return network(batch)[:, 0].float()


def decoded_heatmaps(
    frames: Iterable[PreparedFrame],
    network: nn.Module,
    steps,
    tile: int,
    margin: int,
    batch_size: int | None,
    threshold: float,
    min_distance: int,
    keep_heatmaps: bool = False,
    residual: ResidualRule | None = None,
    sigma: float = DEFAULT_SIGMA,
) -> Iterator[tuple[PreparedFrame, BandDecoder]]:
    """Each prepared frame with its decoded heatmap (peaks found), in order, the network fed batches
    of ``batch_size`` tiles (default: by device, see BATCH_PIXELS) drawn from consecutive frames;
    ``residual`` and ``sigma`` as BandDecoder's."""
    stride = getattr(network, "stride", 8)
    in_flight: deque[tuple[PreparedFrame, BandDecoder]] = deque()
    pending: list = []  # (decoder, tile, window) waiting for the network
    plans: dict[tuple[int, int], TilePlan] = {}
    window: tuple[int, int] | None = None
    size = batch_size

    def run_pending() -> None:
        heat = steps.outputs(run_network(network, steps.batch([w for _, _, w in pending]), steps.device))
        for (decoder, tile_, _), output in zip(pending, heat):
            decoder.add(tile_, output)
        pending.clear()

    def finished() -> Iterator[tuple[PreparedFrame, BandDecoder]]:
        while in_flight and in_flight[0][1].done:
            yield in_flight.popleft()

    for frame in frames:
        shape = tuple(frame.image.shape)
        plan = plans.get(shape) or plans.setdefault(shape, plan_tiles(shape, stride, tile, margin))
        if pending and plan.window != window:
            run_pending()  # windows of another size cannot share a batch
            yield from finished()
        window = plan.window
        size = batch_size or auto_batch_size(window, steps.device)
        decoder = BandDecoder(steps, plan, threshold, min_distance, keep_heatmaps, residual, sigma)
        in_flight.append((frame, decoder))
        for tile_ in plan.tiles:
            pending.append((decoder, tile_, steps.window(frame.image, tile_.y, tile_.x, plan.window, plan.pad_mode)))
            if len(pending) >= size:
                run_pending()
                yield from finished()
    if pending:
        run_pending()
    yield from finished()
