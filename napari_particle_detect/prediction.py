"""From frames to heatmaps to centres: tiling, batching, stacks, on the chosen device."""

from __future__ import annotations

import copy
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.fx.experimental.optimization import fuse

from . import device_pipeline as on_device
from .devices import select_device, select_precision
from .errors import ParticleDetectError
from .heatmap import decode_peaks, find_peaks, stencil_values
from .models import DetectorModel, load_model_cached
from .preprocessing import check_frame, normalise
from .sizing import estimate_size, rescale_centres_back, rescale_frame, scale_for_diameter

COLUMNS = ["frame", "y", "x", "score"]
# Context each tile borrows from its neighbours; must cover half the network's receptive field.
TILE_MARGIN = 48
# 1024 px tiles waste little on the margins (~20 %) and need a few hundred MB; smaller ones pay more overlap.
DEFAULT_TILE = 1024
# Ringed particles' dark rims draw weak responses about a radius out: drop a peak scoring below
# SHADOW_RATIO of a neighbour closer than SHADOW_REACH diameters. Overlapping pairs score alike.
SHADOW_RATIO = 0.5
SHADOW_REACH = 0.65
# Devices whose convolutions run faster on channels-last tensors.
CHANNELS_LAST_DEVICES = ("cpu", "cuda")


@dataclass
class FrameResult:
    centres: np.ndarray
    scores: np.ndarray
    raw_heatmap: np.ndarray | torch.Tensor  # a GPU's stays there until read through .heatmap
    scale: float

    @property
    def heatmap(self) -> np.ndarray:
        """The heatmap, in the (possibly rescaled) grid the network saw."""
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


def _tile_starts(length: int, window: int, step: int) -> list[int]:
    if length <= window:
        return [0]
    starts = list(range(0, length - window, step))
    starts.append(length - window)
    return starts


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
    as_numpy = isinstance(frame, np.ndarray)
    source = torch.from_numpy(np.ascontiguousarray(frame, dtype=np.float32)) if as_numpy else frame
    stride = getattr(network, "stride", 8)
    h, w = source.shape
    ph, pw = int(np.ceil(h / stride) * stride), int(np.ceil(w / stride) * stride)
    pad_mode = "reflect" if min(h, w) > stride else "replicate"
    padded = torch.nn.functional.pad(source[None, None], (0, pw - w, 0, ph - h), mode=pad_mode)[0, 0]
    tile = max(int(np.ceil(tile / stride) * stride), 2 * margin + stride)
    win_h, win_w = min(tile, ph), min(tile, pw)
    core = tile - 2 * margin
    core -= core % stride
    ys = _tile_starts(ph, win_h, core)
    xs = _tile_starts(pw, win_w, core)
    out = torch.zeros((ph, pw), dtype=torch.float32, device=device)
    filled = torch.zeros((ph, pw), dtype=torch.bool, device=device)
    boxes = [(y, x) for y in ys for x in xs]
    use_channels_last = device.type in CHANNELS_LAST_DEVICES
    with torch.inference_mode():
        for i in range(0, len(boxes), batch_size):
            chunk = boxes[i : i + batch_size]
            tensor = torch.stack([padded[y : y + win_h, x : x + win_w] for y, x in chunk])[:, None].to(device)
            if use_channels_last:
                tensor = tensor.contiguous(memory_format=torch.channels_last)
            pred = network(tensor)[:, 0].float()
            for (y, x), p in zip(chunk, pred):
                # Keep the tile's interior; tiles on the image border keep their outer side too.
                y0 = 0 if y == 0 else margin
                x0 = 0 if x == 0 else margin
                y1 = win_h if y + win_h >= ph else win_h - margin
                x1 = win_w if x + win_w >= pw else win_w - margin
                region = (slice(y + y0, y + y1), slice(x + x0, x + x1))
                # Where tiles' interiors overlap, the first tile's value stays.
                out[region] = torch.where(filled[region], out[region], p[y0:y1, x0:x1])
                filled[region] = True
    heat = out[:h, :w]
    return heat.cpu().numpy() if as_numpy else heat


class InferenceNetwork(nn.Module):
    """A model's network ready for inference: batch norm folded into the convolutions, channels-last
    on CPU, and run under autocast when a lower precision is chosen."""

    def __init__(self, network: nn.Module, stride: int, device: torch.device, dtype: torch.dtype) -> None:
        super().__init__()
        self.network, self.stride, self.device_type, self.dtype = network, stride, device.type, dtype

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.dtype == torch.float32:
            return self.network(x)
        with torch.autocast(self.device_type, dtype=self.dtype):
            return self.network(x).float()


# Prepared networks per model, so detecting image after image does not fold the network again.
_prepared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def prepare_network(model: DetectorModel, device: torch.device, precision: str = "auto") -> InferenceNetwork:
    """The model's network ready for inference on ``device`` (cached while its weights are unchanged)."""
    dtype = select_precision(precision, device)
    # In-place training bumps the parameters' version counters, which retires a cached copy.
    key = (str(device), dtype, tuple(p._version for p in model.network.parameters()))
    cached = _prepared.get(model)
    if cached is not None and cached[0] == key:
        return cached[1]
    network = _inference_network(model, device, dtype)
    _prepared[model] = (key, network)
    return network


def _inference_network(model: DetectorModel, device: torch.device, dtype: torch.dtype) -> InferenceNetwork:
    network = copy.deepcopy(model.network).to(device).eval()
    try:
        network = fuse(network)
    except Exception:  # noqa: BLE001 - a network fx cannot trace still runs, just unfolded
        pass
    if device.type in CHANNELS_LAST_DEVICES:
        network = network.to(memory_format=torch.channels_last)
    stride = getattr(model.network, "stride", 8)
    return InferenceNetwork(network, stride, device, dtype)


def detect_frame(
    model: DetectorModel,
    frame: np.ndarray,
    device: torch.device | str = "cpu",
    threshold: float | None = None,
    scale: float = 1.0,
    invert: bool = False,
    tile: int = DEFAULT_TILE,
    batch_size: int = 2,
    name: str = "image",
    ringed: bool | Callable[[], bool] = False,
    network: nn.Module | None = None,
) -> FrameResult:
    """Centres (y, x, original pixel grid) and scores of one 2D frame.

    ``ringed`` drops the weak responses ringed particles draw on their rims (a callable is asked
    only once the heatmap is made); ``network`` is the model's :func:`prepare_network` output,
    made here when not given.
    """
    device = torch.device(device)
    frame = check_frame(frame, name)
    network = prepare_network(model, device) if network is None else network
    thr = model.card.threshold if threshold is None else float(threshold)
    if not steps_on_device(device):
        scaled, factors = rescale_frame(frame, scale)
        heat = predict_heatmap(network, normalise(scaled, invert=invert), device, tile=tile, batch_size=batch_size)
        peaks = find_peaks(heat, thr, model.card.min_distance)
        values = stencil_values(heat, peaks)
    else:
        # torch takes neither negative strides (flipped views) nor read-only memory (memory-mapped files).
        host = np.require(frame, dtype=np.float32, requirements=("C", "W"))
        scaled, factors = on_device.rescale_frame(torch.from_numpy(host).to(device), scale)
        heat = predict_heatmap(network, on_device.normalise(scaled, invert=invert), device, tile=tile,
                               batch_size=batch_size)
        peaks = on_device.find_peaks(heat, thr, model.card.min_distance)
        values = on_device.stencil_values(heat, peaks)
    ringed = ringed() if callable(ringed) else ringed
    shadow_radius = SHADOW_REACH * model.card.canonical_diameter if ringed else None
    centres, scores = decode_peaks(peaks, values, shadow_radius, SHADOW_RATIO)
    if scale != 1.0:
        centres = rescale_centres_back(centres, factors)
        inside = (
            (centres[:, 0] >= -0.5) & (centres[:, 0] <= frame.shape[0] - 0.5)
            & (centres[:, 1] >= -0.5) & (centres[:, 1] <= frame.shape[1] - 0.5)
        )
        centres, scores = centres[inside], scores[inside]
    return FrameResult(centres=centres, scores=scores, raw_heatmap=heat, scale=scale)


def steps_on_device(device: torch.device) -> bool:
    """Whether normalising, resampling and peak finding run on ``device`` (GPUs) or in NumPy (CPU)."""
    return device.type != "cpu"


def as_frames(image: np.ndarray, name: str = "image") -> np.ndarray:
    """A (T, Y, X) view of a 2D image or a T/Z stack; anything else is a clear error.

    Array-likes with ``ndim``/``shape`` (dask arrays, lazy TIFF stacks) stay lazy: frames are
    read one at a time.
    """
    if not hasattr(image, "shape") or not hasattr(image, "ndim"):
        image = np.asarray(image)
    if image.ndim == 2:
        return np.asarray(image)[None]
    if image.ndim == 3:
        if image.shape[-1] in (3, 4) and image.shape[0] > 4:
            raise ParticleDetectError(
                f"{name}: looks like an RGB(A) image (shape {image.shape}); convert it to greyscale first"
            )
        return image
    if image.ndim == 4 and image.shape[-1] in (3, 4):
        raise ParticleDetectError(f"{name}: RGB(A) stacks are not supported (shape {image.shape}); convert to greyscale")
    raise ParticleDetectError(f"{name}: expected a 2D image or a 3D T/Z stack, got {image.ndim}D shape {image.shape}")


def resolve_sizing(
    model: DetectorModel, frames: np.ndarray, diameter: float | None, name: str = "image"
) -> Sizing:
    """The user's diameter, or one estimated from up to three frames; and whether particles are ringed."""
    if diameter is not None:
        middle = len(frames) // 2
        return given_sizing(model, np.asarray(frames[middle]), diameter, f"{name} frame {middle}")
    picks = np.unique(np.linspace(0, len(frames) - 1, min(3, len(frames))).astype(int))
    estimates = [estimate_size(check_frame(np.asarray(frames[i]), f"{name} frame {i}")) for i in picks]
    ringed = 2 * sum(e.ringed for e in estimates) > len(estimates)
    used = float(np.median([e.diameter for e in estimates]))
    doubtful = [(i, e) for i, e in zip(picks, estimates) if not e.confident]
    reason = ""
    if 2 * len(doubtful) >= len(estimates):
        index, estimate = doubtful[0]
        reason = estimate.reason + (f" (frame {index})" if len(frames) > 1 else "")
    elif len(estimates) > 1 and max(e.diameter for e in estimates) > 1.3 * min(e.diameter for e in estimates):
        reason = "frames disagree: " + ", ".join(f"{e.diameter:.1f}" for e in estimates) + " px"
    return Sizing(used, scale_for_diameter(used, model.card.canonical_diameter), ringed, "estimated",
                  "low" if reason else "high", reason)


def check_diameter(diameter: float) -> None:
    if diameter <= 0:
        raise ParticleDetectError(f"diameter must be positive, got {diameter}")


def given_sizing(model: DetectorModel, frame: np.ndarray, diameter: float, name: str = "image") -> Sizing:
    """Sizing for a diameter the user gave. It still needs the look (ringed or not): read from one
    frame, over only the scales a core or a whole particle of that size can have."""
    check_diameter(diameter)
    look = estimate_size(check_frame(frame, name), 0.4 * diameter, 1.3 * diameter, scales=5)
    return Sizing(float(diameter), scale_for_diameter(float(diameter), model.card.canonical_diameter), look.ringed,
                  "given")


def iter_detect(
    image: np.ndarray,
    model: DetectorModel | str | None = None,
    device: str | torch.device = "auto",
    threshold: float | None = None,
    diameter: float | None = None,
    polarity: str = "auto",
    frames: list[int] | None = None,
    tile: int = DEFAULT_TILE,
    batch_size: int = 2,
    name: str = "image",
    precision: str = "auto",
) -> Iterator[tuple[int, FrameResult, Sizing]]:
    """Yield (frame index, result, sizing) per frame, so GUIs and progress bars can follow along."""
    if polarity not in ("auto", "bright", "dark"):
        raise ParticleDetectError(f"polarity must be auto, bright or dark, got {polarity!r}")
    device = select_device(device)
    if not isinstance(model, DetectorModel):
        model = load_model_cached(model, device)
    if diameter is not None:
        check_diameter(diameter)  # here, since the scale is taken from it before the look check ends
    stack = as_frames(image, name)
    network = prepare_network(model, device, precision)
    with ThreadPoolExecutor(max_workers=1) as pool:
        if diameter is None:
            sizing = pool.submit(resolve_sizing, model, stack, None, name)
            scale = sizing.result().scale
        else:
            # A given diameter fixes the scale; the look (ringed or not) is needed only when
            # decoding, so it is worked out on the host while the first frame is in the network.
            # Its frame is read here: a lazy stack's file must not be read from two threads at once.
            middle = len(stack) // 2
            sizing = pool.submit(given_sizing, model, np.asarray(stack[middle]), diameter, f"{name} frame {middle}")
            scale = scale_for_diameter(diameter, model.card.canonical_diameter)
        for index in range(len(stack)) if frames is None else frames:
            result = detect_frame(
                model, np.asarray(stack[index]), device, threshold, scale, invert=polarity == "dark", tile=tile,
                batch_size=batch_size, name=f"{name} frame {index}", ringed=lambda: sizing.result().ringed,
                network=network,
            )
            yield index, result, sizing.result()


def detect(
    image: np.ndarray,
    model: DetectorModel | str | None = None,
    device: str | torch.device = "auto",
    threshold: float | None = None,
    diameter: float | None = None,
    polarity: str = "auto",
    progress: Callable[[int, int], None] | None = None,
    **kwargs,
) -> pd.DataFrame:
    """Centres of every frame as a ``frame,y,x,score`` table (trackpy's column names).

    ``table.attrs`` holds the sizing used: ``diameter`` (given or estimated), ``scale`` (the factor
    frames were resampled by to reach the model's working size), ``ringed``, and
    ``diameter_confidence`` ("high", or "low" when too few particle-like blobs stood out of the
    noise to trust an estimate: give the diameter) with ``diameter_reason``.
    """
    parts = []
    total = 1 if getattr(image, "ndim", np.ndim(image)) == 2 else len(image)
    sizing = None
    for count, (index, result, sizing) in enumerate(
        iter_detect(image, model, device, threshold, diameter, polarity, **kwargs), start=1
    ):
        parts.append(centres_table(index, result.centres, result.scores))
        if progress is not None:
            progress(count, total)
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)
    table.attrs["diameter"] = sizing.diameter if sizing else float("nan")
    table.attrs["scale"] = sizing.scale if sizing else float("nan")
    table.attrs["ringed"] = sizing.ringed if sizing else False
    table.attrs["diameter_confidence"] = sizing.confidence if sizing else "low"
    table.attrs["diameter_reason"] = sizing.reason if sizing else ""
    return table


def centres_table(frame: int, centres: np.ndarray, scores: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {"frame": np.full(len(centres), frame, dtype=int), "y": centres[:, 0], "x": centres[:, 1], "score": scores}
    )
