"""A network's batch-norm statistics taken again from the user's own frames (AdaBN).

Each BatchNorm layer normalises with the running mean and variance of its training images. On
optics the network never saw, those are not the activations' own, and re-estimating them from the
user's frames (no labels needed: the frames alone) lifts the shipped rods model by 0.012-0.015 F1 on
unseen frames of such optics with no training at all (benchmarks/results/batch_norm_adaptation.txt);
a rods round's trained model, whose statistics mix the user's crops with the generator's, gains too.
It is not safe everywhere: the sphere UNet, trained on batches mixing sparse, empty and crowded crops,
falls apart on one stack's statistics. So a kinds round offers it only as a second candidate that the
held-out verdict has to pick (learning/kinds_rounds.py), and sphere rounds do not use it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable

import numpy as np
import torch
from torch import nn

from ..detection.sizing import central_corner
from .training import TrainingCancelled

# Each frame adds its central crop at most this big: enough activations for the statistics, and a
# bounded forward pass in training mode (which keeps every layer's activations) on large frames.
ADAPTATION_SIDE = 512


def with_frame_statistics(network: nn.Module, frames: Iterable[np.ndarray], device: torch.device | str = "cpu",
                          cancel: Callable[[], bool] | None = None) -> nn.Module | None:
    """A copy of ``network`` (in eval mode, on ``device``) whose batch-norm running means and variances
    are those of its activations over ``frames`` (normalised 2D images as the network reads them,
    one batch each, averaged over the frames; read one at a time); None when the network has no
    batch norm or no frame is large enough to pass through it. ``network`` itself is left as it was.
    Raises TrainingCancelled before a frame once ``cancel()`` says so."""
    adapted = copy.deepcopy(network).to(device)
    norms = [m for m in adapted.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return None
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average: every frame counts alike
    stride = int(getattr(network, "stride", 8))
    adapted.train()
    seen = 0
    with torch.no_grad():
        for frame in frames:
            if cancel is not None and cancel():
                raise TrainingCancelled("fine-tuning cancelled")
            part = _central(np.asarray(frame, dtype=np.float32), ADAPTATION_SIDE, stride)
            if part is None:
                continue
            adapted(torch.from_numpy(np.ascontiguousarray(part))[None, None].to(device))
            seen += 1
    adapted.eval()
    return adapted if seen else None


def _central(frame: np.ndarray, side: int, stride: int) -> np.ndarray | None:
    """The central part of ``frame`` at most ``side`` square, cut to multiples of ``stride``."""
    h, w = (min(n, side) // stride * stride for n in frame.shape)
    if h < stride or w < stride:
        return None
    y0, x0 = central_corner(frame.shape, (h, w))
    return frame[y0 : y0 + h, x0 : x0 + w]
