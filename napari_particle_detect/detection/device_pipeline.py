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

from ..kinds.heatmap import one_per_plateau, outside_as_nan, stencil_indices
from .preprocessing import (
    FLATTEN_BLOCK, FLATTEN_SAMPLES, PERCENTILES, Background, FrameRecord, Spikes, block_grid,
    flatten_step, interpolated_rows, interpolation, measured_background, percentile_scaling, screened, spike_apart,
    spike_counts,
)
from .sizing import resample_bilinear, resampled_shape, shrink_blur


def percentiles(values: torch.Tensor, qs: tuple[float, ...], where: torch.Tensor | None = None) -> list[float]:
    """NumPy's default (linear) percentiles of all elements; ``torch.quantile`` refuses large inputs. ``where`` as
    percentiles.percentiles's: a mask of the elements to read (none selected: all)."""
    ordered = torch.sort(selected(values, where)).values
    last = ordered.numel() - 1
    positions = [last * q / 100.0 for q in qs]
    lows = [int(math.floor(p)) for p in positions]
    index = torch.tensor([i for lo in lows for i in (lo, min(lo + 1, last))], device=ordered.device)
    picked = ordered[index].cpu().double().tolist()  # float64 on the host: MPS has none
    return [a + (b - a) * (p - lo) for a, b, p, lo in zip(picked[0::2], picked[1::2], positions, lows)]


def selected(values: torch.Tensor, where: torch.Tensor | None) -> torch.Tensor:
    """``percentiles.selected`` of a tensor: ``values`` flat, those at ``where`` (none selected: all)."""
    return values[where] if where is not None and bool(where.any()) else values.reshape(-1)


def own_pixels(missing: torch.Tensor | None, scale: float) -> torch.Tensor | None:
    """``steps.own_pixels`` of a gaps' mask on the device, the same pixels: those of the frame resampled by
    ``scale`` that no ``missing`` pixel reached; None where there are no gaps. The blur before a shrink reaches
    every pixel within its kernel's radius of a missing one, so it is taken as the maximum over that square, not
    as a convolution, whose float sums on a GPU (FFT, Winograd) may leave 1e-7 where the host's blur leaves 0."""
    if missing is None:
        return None
    reached = missing.to(torch.float32)
    if scale < 1.0:
        radius = kernel_radius(shrink_blur(scale))
        reached = F.max_pool2d(reached[None, None], 2 * radius + 1, stride=1, padding=radius)[0, 0]
    if scale != 1.0:
        reached = resample_bilinear(reached, resampled_shape(tuple(missing.shape), scale)[0])
    return reached == 0


def find_spikes(frame: torch.Tensor) -> Spikes | None:
    """``preprocessing.find_spikes`` on a tensor: the same decision on the same values; in the usual case
    (no spike) four numbers come back from the device."""
    extremes = torch.stack(torch.aminmax(frame))
    counts = torch.stack([(frame == extremes[0]).sum(), (frame == extremes[1]).sum()])
    (darkest, brightest), (below, above) = extremes.tolist(), counts.tolist()
    if not darkest < brightest:
        return None
    top, bottom = spike_counts(above, frame.numel(), True), spike_counts(below, frame.numel(), False)
    if not (top or bottom):
        return None
    high = _max_below(frame, brightest, darkest) if top else brightest
    low = _min_above(frame, darkest, brightest) if bottom else darkest
    if not low < high:
        return None
    span = high - low
    top = top and spike_apart(brightest - high, span, high - _max_below(frame, high, low))
    bottom = bottom and spike_apart(low - darkest, span, _min_above(frame, low, high) - low)
    if not (top or bottom):
        return None
    return Spikes(darkest, brightest, low, high, below if bottom else 0, above if top else 0)


def _max_below(frame: torch.Tensor, value: float, initial: float) -> float:
    """The largest element below ``value``, or ``initial`` (NumPy's max with where= and initial=)."""
    return float(torch.where(frame < value, frame, initial).max())


def _min_above(frame: torch.Tensor, value: float, initial: float) -> float:
    """The smallest element above ``value``, or ``initial``."""
    return float(torch.where(frame > value, frame, initial).min())


def without_spikes(frame: torch.Tensor, where: torch.Tensor | None = None) -> tuple[torch.Tensor, Spikes | None]:
    """``preprocessing.without_spikes`` on a tensor (never in place: it may share the caller's memory); ``where``:
    the frame's own pixels (:func:`own_pixels`), judged alone."""
    own = selected(frame, where)
    spikes = find_spikes(own)
    if spikes is None:
        return frame, None
    others = torch.ones_like(own, dtype=torch.bool)
    if spikes.below:
        others &= own != spikes.darkest
    if spikes.above:
        others &= own != spikes.brightest
    low, high = (torch.tensor(end, dtype=frame.dtype, device=frame.device)
                 for end in percentiles(own[others], PERCENTILES))
    if spikes.below:
        frame = torch.where(frame == spikes.darkest, low, frame)
    if spikes.above:
        frame = torch.where(frame == spikes.brightest, high, frame)
    return frame, spikes


def normalise(frame: torch.Tensor, invert: bool = False) -> torch.Tensor:
    """``preprocessing.normalise`` on a tensor."""
    return scale_to_percentiles(without_spikes(frame)[0], invert)


def scale_to_percentiles(frame: torch.Tensor, invert: bool = False, flattened: FrameRecord | None = None,
                         where: torch.Tensor | None = None) -> torch.Tensor:
    """:func:`normalise` of a frame whose spikes are already left out (or that has none); ``flattened`` as
    ``steps.scale_to_percentiles_in_place``'s. ``where``: the pixels the percentile range is read from (a frame's
    own, not a mosaic's gaps filled with the local background: preprocessing.filled_gaps); default all."""
    lo, hi = percentiles(frame, PERCENTILES, where)
    if flattened is not None:
        background = uneven_background(frame, lo, hi)
        flattened.add(background)
        if background is not None:
            frame = subtract_background(frame, background)
            lo, hi = percentiles(frame, PERCENTILES, where)
    lo, divisor, in_float64 = percentile_scaling(frame, lo, hi, float)
    if in_float64:  # on the host, as MPS has no float64
        scaled = ((frame.cpu().double() - lo) / float(divisor)).to(frame)
    else:
        scaled = (frame - lo) / divisor
    return 1.0 - scaled if invert else scaled


def block_means(frame: torch.Tensor, step: int, per_block: int) -> np.ndarray:
    """``preprocessing.block_means`` of a tensor; only the means come back to the host."""
    ny, by, nx, bx = block_grid(tuple(frame.shape), step, per_block)
    rows = frame[: ny * by * step : step].reshape(ny, by, -1).sum(dim=1)
    means = rows[:, : nx * bx * step : step].reshape(ny, nx, bx).sum(dim=2) / (by * bx)
    return means.cpu().numpy()


def uneven_background(frame: torch.Tensor, low: float, high: float, block: int = FLATTEN_BLOCK
                      ) -> Background | None:
    """``preprocessing.uneven_background`` of a tensor: in the usual case the screen's block means come back
    to the host; past the screen, the sample it measures the background on."""
    step = flatten_step(block)
    if not screened(block_means(frame, 2 * step, FLATTEN_SAMPLES // 2), low, high):
        return None
    return measured_background(frame[::step, ::step].float().cpu().numpy(), step)


def subtract_background(frame: torch.Tensor, background: Background) -> torch.Tensor:
    """``preprocessing.subtract_background`` on a tensor (never in place: it may share the caller's memory)."""
    height, width = frame.shape
    along = interpolated_rows(background.levels, background.columns, width)
    along = torch.from_numpy(along if along.shape[0] > 1 else np.repeat(along, 2, axis=0)).to(frame)
    before, weight = (torch.from_numpy(a).to(frame.device) for a in interpolation(background.rows, 0, height))
    weight = weight.to(frame)[:, None]
    return frame - (along[before] * (1 - weight) + along[before + 1] * weight)


def kernel_radius(sigma: float, truncate: float = 4.0) -> int:
    """How far (px) ``scipy.ndimage.gaussian_filter``'s kernel of ``sigma`` reaches, cut at ``truncate`` sigmas."""
    return int(truncate * sigma + 0.5)


def gaussian_filter(frame: torch.Tensor, sigma: float, truncate: float = 4.0) -> torch.Tensor:
    """``scipy.ndimage.gaussian_filter`` (mode 'reflect': edge pixels repeated) on a 2D tensor."""
    radius = kernel_radius(sigma, truncate)
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
    return resample_bilinear(frame, out_shape), zoom


def find_peaks(heat: torch.Tensor, threshold: float, min_distance: int = 2) -> np.ndarray:
    """``heatmap.find_peaks`` on a tensor; only the peaks' positions come back to the host."""
    return one_per_plateau(local_maxima(heat, threshold, min_distance))


def local_maxima(heat: torch.Tensor, threshold: float, min_distance: int = 2) -> np.ndarray:
    """``heatmap.local_maxima`` on a tensor, returned to the host."""
    size = 2 * int(min_distance) + 1
    # max_pool2d pads with -inf, as find_peaks' maximum filter does.
    local_max = F.max_pool2d(heat[None, None], size, stride=1, padding=int(min_distance))[0, 0]
    return torch.nonzero((heat == local_max) & (heat > threshold)).cpu().numpy()


def draw_peaks(shape: tuple[int, int], centres: np.ndarray, heights: np.ndarray, sigma: float,
               device: torch.device) -> torch.Tensor:
    """``heatmap.encode`` with ``heights`` on ``device``: only the centres and heights go there."""
    out = torch.zeros(shape[0] * shape[1], dtype=torch.float32, device=device)
    if not len(centres):
        return out.reshape(shape)
    c = torch.as_tensor(np.asarray(centres, dtype=np.float64).reshape(-1, 2), device=device)
    offsets = torch.arange(-math.ceil(4 * sigma), math.ceil(4 * sigma) + 1, device=device)
    ys = torch.round(c[:, :1]).long() + offsets
    xs = torch.round(c[:, 1:]).long() + offsets
    gy = torch.exp(-((ys - c[:, :1]) ** 2) / (2 * sigma**2))
    gx = torch.exp(-((xs - c[:, 1:]) ** 2) / (2 * sigma**2))
    height = torch.as_tensor(np.asarray(heights, dtype=np.float64).reshape(-1, 1, 1), device=device)
    blobs = (gy[:, :, None] * gx[:, None, :] * height).float()
    rows, cols = torch.broadcast_tensors(ys[:, :, None], xs[:, None, :])
    inside = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
    out.scatter_reduce_(0, (rows * shape[1] + cols)[inside], blobs[inside], reduce="amax")
    return out.reshape(shape)


def stencil_values(heat: torch.Tensor, peaks: np.ndarray) -> np.ndarray:
    """``heatmap.stencil_values`` on a tensor: only the peaks' neighbourhoods come back to the host."""
    ys, xs, inside = stencil_indices(tuple(heat.shape), np.asarray(peaks, dtype=np.intp).reshape(-1, 2))
    picked = heat[torch.from_numpy(ys).to(heat.device), torch.from_numpy(xs).to(heat.device)].cpu().numpy()
    return outside_as_nan(picked, inside)


def maxima_and_stencils(heat: torch.Tensor, threshold: float, min_distance: int, rows: tuple[int, int]
                        ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`local_maxima` whose row lies in ``rows`` [start, stop) and their :func:`stencil_values`.

    The rows are chosen and the stencil's indices worked out on the host: on an H200 under this
    workplace's sandbox each kernel launch costs ~8 us of host time, and doing it all on the device
    (a dozen more small kernels, one copy back) took 0.81 ms a frame against 0.29 ms this way
    (benchmarks/results/gpu_profile_h200.txt)."""
    found = local_maxima(heat, threshold, min_distance)
    found = found[(found[:, 0] >= rows[0]) & (found[:, 0] < rows[1])]
    return found, stencil_values(heat, found)
