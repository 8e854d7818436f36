"""Detection for the kinds beyond spheres: frames -> the model's maps (all heads) -> the kind's table.

Frames are normalised as for spheres and run through the network in the same overlapping tiles
(:func:`tiling.plan_tiles`), at the pixel scale they come in (rods and chains models are trained on
widths and bead sizes of 4-18 px, so no resampling). The kind's module decodes each frame's maps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
from torch import nn

from .choices import DEFAULT_TILE, check_count, check_progress, check_threshold
from .devices import select_device
from ..errors import ParticleDetectError
from ..kinds.chains import count_chains
from ..kinds.registry import get_kind
from ..models import DetectorModel, load_model_cached
from ..models.registry import require_kind
from .networks import prepare_network
from .runtimes import runtime_record
from .preprocessing import ConstantFrameError, NonFiniteFrameError, as_frames, check_frame, frame_indices, normalise
from ..shipped import WEIGHTS_DIR
from .stages import laid_out_for
from .tiling import plan_tiles

log = logging.getLogger(__name__)
TILE_MARGIN = 64  # rods reach further than spheres: more context per tile


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
) -> pd.DataFrame:
    """The kind's table (rods.COLUMNS or chains.COLUMNS) for every frame of a 2D image or a stack.

    ``runtime`` and ``precision`` as for spheres (runtimes.resolve_runtime): on a CPU, ONNX Runtime
    float32 by default. ``frames`` and ``progress`` as prediction.detect's: the indices of the frames to
    detect (negative ones from the end, each once), and ``progress(done, total)`` over them."""
    if polarity not in ("auto", "bright", "dark"):
        raise ParticleDetectError(f"polarity must be auto, bright or dark, got {polarity!r}")
    check_threshold(threshold)
    check_count(tile, "tile", "pixels")
    check_progress(progress)
    spec = get_kind(kind)
    stack = as_frames(image, name)
    indices = frame_indices(frames, stack.shape[0], name)
    device = select_device(device)
    model = model_for(kind, model, device)

    # As for spheres: batch norm folded into the convolutions, on the runtime made for the device.
    network = prepare_network(model, device, precision, runtime=runtime)
    thr = model.card.threshold if threshold is None else float(threshold)
    parts = []
    for count, index in enumerate(indices, start=1):
        raw = np.asarray(stack[index])
        try:
            frame = check_frame(raw, f"{name} frame {index}")
        except (ConstantFrameError, NonFiniteFrameError) as exc:
            # As for spheres (stages.prepare_frame): a dropped frame, or one with NaN pixels, found only
            # when reached, would otherwise throw away every frame detected before it.
            if stack.shape[0] == 1:
                raise
            constant = isinstance(exc, ConstantFrameError)
            why = f"every pixel is {raw.flat[0]:g}" if constant else "NaN or infinite pixels"
            log.warning("%s frame %d: %s (a blank frame): nothing found; the rest of the stack is detected",
                        name, index, why)
        else:
            maps = predict_maps(network, normalise(frame, invert=polarity == "dark"), device, tile)
            parts.append(spec.decode(maps, thr, model.card.min_distance, frame=index))
        if progress is not None:
            progress(count, len(indices))
    parts = [p for p in parts if len(p)]
    table = pd.concat(parts, ignore_index=True) if parts else spec.decode(np.zeros((len(spec.heads), 8, 8), np.float32), 1.0)
    table.attrs.update({"kind": kind, "threshold": thr})
    return table


def detect_kind_file(path, options, model_path, device: torch.device,
                     progress: Callable[[int, int], None] | None = None) -> tuple[pd.DataFrame, dict, dict]:
    """(table, record, metadata) of one image file for ``options.kind`` (file_detection.detect_file's
    other branch)."""
    from ..files.io import read_image

    model = model_for(options.kind, model_path, device)
    image = read_image(path, lazy=True, channel=options.channel, axes=options.axes)
    n_frames = 1 if image.ndim == 2 else image.shape[0]
    table = detect_kind(image, options.kind, model, device, options.threshold, options.polarity,
                        tile=options.tile, name=str(path), progress=progress, runtime=options.runtime,
                        precision=options.precision)
    count = count_chains(table) if options.kind == "chains" else len(table)
    record = {"file": str(path), "frames": n_frames, "kind": options.kind, "objects": count, "rows": len(table),
              **({"channel": options.channel} if options.channel is not None else {})}
    runtime, precision = runtime_record(options.runtime, options.precision, device, model=model)
    meta = {"model": str(model.path), "kind": options.kind, "threshold": table.attrs["threshold"],
            "polarity": options.polarity, "device": str(device), "runtime": runtime, "precision": precision,
            "inputs": [record]}
    return table, record, meta
