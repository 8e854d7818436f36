"""The array work around the network, in one of two backends with the same methods.

``HostSteps`` uses NumPy/SciPy, the faster choice on a CPU. ``DeviceSteps`` keeps frames,
heatmaps and peak finding on a GPU in torch (``device_pipeline``), so only peaks come back. The
prediction pipeline calls these methods and never asks which backend it has.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from . import device_pipeline as on_device
from ..kinds.heatmap import local_maxima, residual_maxima, stencil_values
from .percentiles import percentiles
from .preprocessing import (
    PERCENTILES, FrameRecord, GapRecord, percentile_scaling, subtract_background,
    uneven_background, without_spikes,
)
from .sizing import rescale_frame


def normalise_in_place(frame: np.ndarray, invert: bool = False) -> np.ndarray:
    """``preprocessing.normalise`` without copies, in float32 arithmetic as on a GPU (the same values to
    float rounding; the arithmetic 0.05 ms on a 640 px frame against 0.3 ms through float64 rows)."""
    frame = np.require(frame, dtype=np.float32, requirements=("C", "W"))
    frame, _ = without_spikes(frame, in_place=True)
    return scale_to_percentiles_in_place(frame, invert)


def own_pixels(missing: np.ndarray | None, scale: float) -> np.ndarray | None:
    """The pixels of a frame resampled by ``scale`` that none of its ``missing`` pixels (its gaps, filled with the
    local background) reached; None where it has no gaps. The percentile range is read from them alone: with a
    quarter of a frame missing, the fill moved the range's ends by 0.2 % and 4 %."""
    if missing is None:
        return None
    return rescale_frame(np.asarray(missing, dtype=np.float32), scale)[0] == 0


def scale_to_percentiles_in_place(frame: np.ndarray, invert: bool = False,
                                  flattened: FrameRecord | None = None, where: np.ndarray | None = None) -> np.ndarray:
    """:func:`normalise_in_place` of a frame whose spikes are already left out (or that has none). With
    ``flattened`` (a frame at the model's working scale), an uneven background is subtracted first where
    it varies by much more than the particles' contrast (preprocessing.FLATTEN_RATIO) and recorded there.
    ``where``: the frame's own pixels (:func:`own_pixels`), the range read from them alone where it has gaps."""
    frame = np.require(frame, dtype=np.float32, requirements=("C", "W"))
    lo, hi = percentiles(frame, PERCENTILES, where=where)
    if flattened is not None:
        background = uneven_background(frame, lo, hi)
        flattened.add(background)
        if background is not None:
            lo, hi = percentiles(subtract_background(frame, background), PERCENTILES, where=where)
    lo, divisor, _ = percentile_scaling(frame, lo, hi, np.float32)
    np.subtract(frame, np.float32(lo), out=frame)
    np.divide(frame, divisor, out=frame, casting="same_kind")
    if invert:
        np.subtract(np.float32(1.0), frame, out=frame)
    return frame


def network_input(frame: np.ndarray, scale: float, invert: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``frame`` (checked) as detection on the host gives it to the network, and the per-axis factors it was
    resampled by: outlying spikes left out before resampling by ``scale``, an uneven background subtracted
    at the working scale, percentile-scaled. Rounds prepare their examples so, to learn from frames, and
    measure candidates in them, as detection shows them."""
    return HostSteps(torch.device("cpu")).prepare([np.array(frame, dtype=np.float32)], scale, invert, owned=True)


class HostSteps:
    """NumPy/SciPy on the host; the network runs on ``device`` (the CPU) with tensors sharing memory."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.spikes = FrameRecord()
        self.flattened = FrameRecord()
        self.gaps = GapRecord()

    def prepare(self, held: list, scale: float, invert: bool, owned: bool = False,
                missing: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The checked float32 frame in ``held`` (a one-item list, emptied here so the frame can be
        let go as soon as it is resampled) resampled by ``scale`` and normalised: what the network
        reads. An ``owned`` frame (nobody else holds it) is normalised in place when not resampled.
        Outlying spikes are left out before resampling, which would smear them into their neighbours; an
        uneven background is subtracted after it, where the particles' size is the model's. ``missing``: the
        frame's gaps (filled already), whose fill takes no part in the percentile range."""
        frame = held.pop()
        kept, spikes = without_spikes(frame, in_place=owned and frame.flags.writeable, where=own_pixels(missing, 1.0))
        self.spikes.add(spikes)
        owned = owned or kept is not frame
        frame = kept
        scaled, factors = rescale_frame(frame, scale)
        if scaled is frame and not owned:
            scaled = scaled.copy()  # never overwrite the caller's image
        del frame, kept
        return scale_to_percentiles_in_place(scaled, invert, self.flattened, own_pixels(missing, scale)), factors

    def window(self, image: np.ndarray, y: int, x: int, size: tuple[int, int], pad_mode: str) -> np.ndarray:
        part = image[y : y + size[0], x : x + size[1]]
        short = (size[0] - part.shape[0], size[1] - part.shape[1])
        if short == (0, 0):
            return part
        return np.pad(part, ((0, short[0]), (0, short[1])), mode="reflect" if pad_mode == "reflect" else "edge")

    def batch(self, windows: list) -> torch.Tensor:
        return torch.from_numpy(np.stack(windows)[:, None])

    def outputs(self, heat: torch.Tensor) -> np.ndarray:
        return heat.numpy()

    def empty(self, shape: tuple[int, int]) -> np.ndarray:
        return np.zeros(shape, dtype=np.float32)

    def maxima_and_stencils(self, heat: np.ndarray, threshold: float, min_distance: int,
                            rows: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Local maxima whose row is in ``rows`` [start, stop), and their stencil values."""
        found = local_maxima(heat, threshold, min_distance)
        found = found[(found[:, 0] >= rows[0]) & (found[:, 0] < rows[1])]
        return found, stencil_values(heat, found)

    def residual_maxima(self, heat: np.ndarray, centres: np.ndarray, heights: np.ndarray, sigma: float,
                        level: float, min_distance: int, rows: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Local maxima above ``level`` of ``heat`` less the peaks at ``centres`` drawn (heatmap.residual_maxima)."""
        return residual_maxima(heat, centres, heights, sigma, level, min_distance, rows)


class DeviceSteps:
    """torch on ``device``: frames are copied there once (through pinned memory on CUDA) and stay."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.spikes = FrameRecord()
        self.flattened = FrameRecord()
        self.gaps = GapRecord()

    def prepare(self, held: list, scale: float, invert: bool, owned: bool = False,
                missing: np.ndarray | None = None) -> tuple[torch.Tensor, np.ndarray]:
        # torch takes neither negative strides (flipped views) nor read-only memory (memory-mapped files).
        host = torch.from_numpy(np.require(held.pop(), dtype=np.float32, requirements=("C", "W")))
        if self.device.type == "cuda":
            host = host.pin_memory()
        tensor = host.to(self.device, non_blocking=True)
        # The gaps' mask goes to the device once, a byte a pixel, and is resampled there as the frame is.
        gaps = None if missing is None else torch.from_numpy(missing).to(self.device, non_blocking=True)
        # Spikes out before resampling smears them, as HostSteps does.
        tensor, spikes = on_device.without_spikes(tensor, on_device.own_pixels(gaps, 1.0))
        self.spikes.add(spikes)
        scaled, factors = on_device.rescale_frame(tensor, scale)
        where = on_device.own_pixels(gaps, scale)
        return on_device.scale_to_percentiles(scaled, invert=invert, flattened=self.flattened, where=where), factors

    def window(self, image: torch.Tensor, y: int, x: int, size: tuple[int, int], pad_mode: str) -> torch.Tensor:
        part = image[y : y + size[0], x : x + size[1]]
        short = (size[0] - part.shape[0], size[1] - part.shape[1])
        if short == (0, 0):
            return part
        return F.pad(part[None, None], (0, short[1], 0, short[0]), mode=pad_mode)[0, 0]

    def batch(self, windows: list) -> torch.Tensor:
        return torch.stack(windows)[:, None]

    def outputs(self, heat: torch.Tensor) -> torch.Tensor:
        return heat

    def empty(self, shape: tuple[int, int]) -> torch.Tensor:
        return torch.zeros(shape, dtype=torch.float32, device=self.device)

    def maxima_and_stencils(self, heat: torch.Tensor, threshold: float, min_distance: int,
                            rows: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        return on_device.maxima_and_stencils(heat, threshold, min_distance, rows)

    def residual_maxima(self, heat: torch.Tensor, centres: np.ndarray, heights: np.ndarray, sigma: float,
                        level: float, min_distance: int, rows: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        drawing = on_device.draw_peaks(tuple(heat.shape), centres, heights, sigma, self.device)
        return on_device.maxima_and_stencils(heat - drawing, level, min_distance, rows)
