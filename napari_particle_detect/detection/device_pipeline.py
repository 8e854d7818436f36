"""The steps around the network, done in torch on the inference device when that is a GPU.

On a GPU the network itself takes milliseconds, while normalising, resampling and peak finding
in NumPy/SciPy on the host take ten times longer and would cap throughput at a few megapixels per
second. Each function here mirrors its NumPy/SciPy counterpart (``preprocessing.normalise``,
``sizing.rescale_frame``, ``heatmap.find_peaks``) to float rounding, so the centres found do not
depend on the device (tests/test_device_pipeline.py). The CPU keeps the NumPy/SciPy steps, which
are the faster ones there.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..kinds.heatmap import STENCIL, one_per_plateau
from .preprocessing import PERCENTILES
from .sizing import resampled_shape, shrink_blur


def percentiles(values: torch.Tensor, qs: tuple[float, ...]) -> list[float]:
    """NumPy's default (linear) percentiles of all elements; ``torch.quantile`` refuses large inputs."""
    return [float(v) for v in percentile_tensor(values, qs).cpu()]


def percentile_tensor(values: torch.Tensor, qs: tuple[float, ...]) -> torch.Tensor:
    """:func:`percentiles` as a float64 tensor on ``values``' device, read without waiting for it
    (MPS has no float64: there they are worked out on the host)."""
    ordered = torch.sort(values.reshape(-1)).values
    last = ordered.numel() - 1
    positions = [last * q / 100.0 for q in qs]
    lows = [int(math.floor(p)) for p in positions]
    index = torch.tensor([i for lo in lows for i in (lo, min(lo + 1, last))]).to(ordered.device, non_blocking=True)
    picked = ordered[index]
    weights = torch.tensor([p - lo for p, lo in zip(positions, lows)], dtype=torch.float64)
    if ordered.device.type == "mps":
        picked = picked.cpu()
    else:
        weights = weights.to(ordered.device, non_blocking=True)
    picked = picked.double()
    return picked[0::2] + (picked[1::2] - picked[0::2]) * weights


def normalise(frame: torch.Tensor, invert: bool = False) -> torch.Tensor:
    """``preprocessing.normalise`` on a tensor, queued on the device with no wait for its result
    (a wait per frame would hold the next frames back until the network's batch is done)."""
    lo, hi = percentile_tensor(frame, PERCENTILES).to(frame.device)
    flat = hi <= lo
    lo = torch.where(flat, frame.min().double(), lo)
    hi = torch.where(flat, frame.max().double(), hi)
    # As a float scalar would: the offset in the frame's precision, the scale worked out in float64.
    scaled = (frame - lo.to(frame.dtype)) / torch.clamp(hi - lo, min=1e-12).to(frame.dtype)
    return 1.0 - scaled if invert else scaled


def gaussian_filter(frame: torch.Tensor, sigma: float, truncate: float = 4.0) -> torch.Tensor:
    """``scipy.ndimage.gaussian_filter`` (mode 'reflect': edge pixels repeated) on a 2D tensor."""
    radius = int(truncate * sigma + 0.5)
    taps = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    kernel = (kernel / kernel.sum()).to(frame)
    out = frame
    for axis in (0, 1):
        length = out.shape[axis]
        # SciPy's 'reflect' repeats with period 2 * length: ... c b a | a b c ... c | c b a ...
        index = torch.arange(-radius, length + radius, device=frame.device) % (2 * length)
        index = torch.where(index >= length, 2 * length - 1 - index, index)
        padded = out.index_select(axis, index)
        weights = kernel.view(1, 1, -1, 1) if axis == 0 else kernel.view(1, 1, 1, -1)
        out = F.conv2d(padded[None, None], weights)[0, 0]
    return out


def rescale_frame(frame: torch.Tensor, factor: float) -> tuple[torch.Tensor, np.ndarray]:
    """``sizing.rescale_frame`` on a tensor: bilinear, pixel-area convention, edge values extended."""
    if factor == 1.0:
        return frame, np.ones(2)
    if factor < 1.0:
        frame = gaussian_filter(frame, shrink_blur(factor))
    out_shape, zoom = resampled_shape(tuple(frame.shape), factor)
    scaled = F.interpolate(frame[None, None], size=out_shape, mode="bilinear", align_corners=False)[0, 0]
    return scaled, zoom


def find_peaks(heat: torch.Tensor, threshold: float, min_distance: int = 2) -> np.ndarray:
    """``heatmap.find_peaks`` on a tensor; only the peaks' positions come back to the host."""
    return one_per_plateau(local_maxima(heat, threshold, min_distance))


def local_maxima(heat: torch.Tensor, threshold: float, min_distance: int = 2) -> np.ndarray:
    """``heatmap.local_maxima`` on a tensor, returned to the host."""
    return _maxima_on_device(heat, threshold, min_distance).cpu().numpy()


def _maxima_on_device(heat: torch.Tensor, threshold: float, min_distance: int) -> torch.Tensor:
    size = 2 * int(min_distance) + 1
    # max_pool2d pads with -inf, as find_peaks' maximum filter does.
    local_max = F.max_pool2d(heat[None, None], size, stride=1, padding=int(min_distance))[0, 0]
    return torch.nonzero((heat == local_max) & (heat > threshold))


def maxima_and_stencils(heat: torch.Tensor, threshold: float, min_distance: int, rows: tuple[int, int]
                        ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`local_maxima` whose row lies in ``rows`` [start, stop) and their :func:`stencil_values`,
    found and read on the device and brought to the host in one copy: one wait for the device
    besides the one finding the peaks takes, instead of four."""
    peaks = _maxima_on_device(heat, threshold, min_distance)
    offsets = torch.tensor(STENCIL).to(heat.device, non_blocking=True)
    ys = peaks[None, :, 0] + offsets[:, None, 0]
    xs = peaks[None, :, 1] + offsets[:, None, 1]
    inside = (ys >= 0) & (ys < heat.shape[0]) & (xs >= 0) & (xs < heat.shape[1])
    picked = heat[ys.clamp(0, heat.shape[0] - 1), xs.clamp(0, heat.shape[1] - 1)]
    picked = torch.where(inside, picked, torch.full_like(picked, float("nan")))
    if heat.device.type == "mps":  # no float64 there
        found, values = peaks.cpu().numpy().astype(np.intp), picked.cpu().numpy().astype(np.float32)
    else:  # positions and values in one float64 block (exact for both)
        both = torch.cat([peaks.T.double(), picked.double()]).cpu().numpy()
        found, values = both[:2].T.astype(np.intp), both[2:].astype(np.float32)
    # Rows chosen here, not there: a mask on the device would wait for it once more.
    own = (found[:, 0] >= rows[0]) & (found[:, 0] < rows[1])
    return found[own], values[:, own]
