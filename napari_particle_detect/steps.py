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
from .heatmap import local_maxima, stencil_values
from .preprocessing import PERCENTILES
from .sizing import rescale_frame

# Rows normalised at a time: bounds the float64 intermediate to a few MB on any frame size.
NORMALISE_ROWS = 256


def normalise_in_place(frame: np.ndarray, invert: bool = False) -> np.ndarray:
    """``preprocessing.normalise`` without its whole-frame float64 copies (same values, bit for bit)."""
    frame = np.require(frame, dtype=np.float32, requirements=("C", "W"))
    lo, hi = np.percentile(frame, PERCENTILES)
    if hi <= lo:
        lo, hi = float(frame.min()), float(frame.max())
    span = max(hi - lo, 1e-12)
    for start in range(0, frame.shape[0], NORMALISE_ROWS):
        rows = frame[start : start + NORMALISE_ROWS]
        scaled = (rows - lo) / span
        rows[...] = 1.0 - scaled if invert else scaled
    return frame


class HostSteps:
    """NumPy/SciPy on the host; the network runs on ``device`` (the CPU) with tensors sharing memory."""

    def __init__(self, device: torch.device) -> None:
        self.device = device

    def prepare(self, frame: np.ndarray, scale: float, invert: bool, owned: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """A checked float32 frame resampled by ``scale`` and normalised: what the network reads.
        An ``owned`` frame (nobody else holds it) is normalised in place when not resampled."""
        scaled, factors = rescale_frame(frame, scale)
        if scaled is frame and not owned:
            scaled = scaled.copy()  # never overwrite the caller's image
        return normalise_in_place(scaled, invert), factors

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

    def local_maxima(self, heat: np.ndarray, threshold: float, min_distance: int) -> np.ndarray:
        return local_maxima(heat, threshold, min_distance)

    def stencil_values(self, heat: np.ndarray, peaks: np.ndarray) -> np.ndarray:
        return stencil_values(heat, peaks)


class DeviceSteps:
    """torch on ``device``: frames are copied there once (through pinned memory on CUDA) and stay."""

    def __init__(self, device: torch.device) -> None:
        self.device = device

    def prepare(self, frame: np.ndarray, scale: float, invert: bool, owned: bool = False) -> tuple[torch.Tensor, np.ndarray]:
        # torch takes neither negative strides (flipped views) nor read-only memory (memory-mapped files).
        host = torch.from_numpy(np.require(frame, dtype=np.float32, requirements=("C", "W")))
        if self.device.type == "cuda":
            host = host.pin_memory()
        tensor = host.to(self.device, non_blocking=True)
        scaled, factors = on_device.rescale_frame(tensor, scale)
        return on_device.normalise(scaled, invert=invert), factors

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

    def local_maxima(self, heat: torch.Tensor, threshold: float, min_distance: int) -> np.ndarray:
        return on_device.local_maxima(heat, threshold, min_distance)

    def stencil_values(self, heat: torch.Tensor, peaks: np.ndarray) -> np.ndarray:
        return on_device.stencil_values(heat, peaks)
