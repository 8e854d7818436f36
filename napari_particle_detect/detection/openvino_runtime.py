"""The network on OpenVINO, Intel's inference runtime for CPUs, from the same exported ONNX files.

On a CPU with native bfloat16 (AVX-512 BF16 or AMX: recent Xeon, AMD Zen 4 and later) OpenVINO runs
the network in bfloat16 about twice as fast as ONNX Runtime in float32, and its int8 form (the
calibrated QDQ file of :mod:`runtimes`) faster again with VNNI; elsewhere its float32 is about ONNX
Runtime's (benchmarks/results/runtimes_openvino.txt). It is optional (``pip install openvino``): without it,
nothing changes.
"""

from __future__ import annotations

import functools
import importlib.util
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn


OPENVINO_PRECISIONS = ("float32", "bfloat16", "int8")
# OpenVINO's name of each precision's inference type; int8 runs the int8 file, its float parts in float32.
_HINTS = {"float32": "f32", "bfloat16": "bf16", "int8": "f32"}


def openvino_available() -> bool:
    return importlib.util.find_spec("openvino") is not None


@functools.lru_cache(maxsize=1)
def native_bfloat16() -> bool:
    """Whether this CPU computes in bfloat16 itself (else OpenVINO would emulate it: no faster)."""
    if not openvino_available():
        return False
    import openvino as ov

    return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


class OpenVinoNetwork(nn.Module):
    """A model's network compiled by OpenVINO, called like the torch network it came from."""

    def __init__(self, compiled, stride: int, precision: str, path: Path) -> None:
        super().__init__()
        self.compiled, self.stride, self.precision, self.path = compiled, stride, precision, path
        self.warmup_seconds: float | None = None
        self.channels_last = False  # OpenVINO reads plain NCHW arrays

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        array = np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32)
        start = time.perf_counter() if self.warmup_seconds is None else None
        out = np.array(self.compiled(array)[0], dtype=np.float32)  # a copy: the request reuses its buffer
        if start is not None:
            self.warmup_seconds = time.perf_counter() - start
        return torch.from_numpy(out)


def compile_openvino(path: Path, precision: str, stride: int, threads: int | None = None) -> OpenVinoNetwork:
    """The exported ONNX network at ``path`` compiled by OpenVINO to run in ``precision`` on the CPU."""
    import openvino as ov

    config = {"INFERENCE_NUM_THREADS": int(threads or torch.get_num_threads()), "PERFORMANCE_HINT": "LATENCY",
              "INFERENCE_PRECISION_HINT": _HINTS[precision]}
    return OpenVinoNetwork(ov.Core().compile_model(str(path), "CPU", config), stride, precision, path)
