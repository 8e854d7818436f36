"""A model's network made ready for inference: batch norm folded into the convolutions,
channels-last where that is faster, autocast to a lower precision, optionally compiled, or handed
to ONNX Runtime; cached per model while its weights are unchanged."""

from __future__ import annotations

import copy
import time
import weakref

import torch
from torch import nn
from torch.fx.experimental.optimization import fuse

from .devices import select_precision
from ..models import DetectorModel
from .runtimes import ExportedNetwork, onnx_network, openvino_network, resolve_runtime
from .stages import CHANNELS_LAST_DEVICES


class InferenceNetwork(nn.Module):
    """A model's network ready for inference: batch norm folded into the convolutions, channels-last
    on CPU and CUDA, run under autocast when a lower precision is chosen, optionally compiled.

    ``warmup_seconds`` is the time of the first call (torch.compile compiles then), ``None`` before.
    """

    def __init__(self, network: nn.Module, stride: int, device: torch.device, dtype: torch.dtype,
                 compiled: bool = False) -> None:
        super().__init__()
        self.network, self.stride, self.device_type, self.dtype = network, stride, device.type, dtype
        self.compiled = compiled
        self.warmup_seconds: float | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.warmup_seconds is None:
            start = time.perf_counter()
            out = self._forward(x)
            if self.device_type == "cuda":
                torch.cuda.synchronize()
            self.warmup_seconds = time.perf_counter() - start
            return out
        return self._forward(x)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.dtype == torch.float32:
            return self.network(x)
        with torch.autocast(self.device_type, dtype=self.dtype):
            return self.network(x).float()


# Prepared networks per model, so detecting image after image does not fold the network again.
_prepared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def prepare_network(
    model: DetectorModel, device: torch.device, precision: str = "auto", compile: bool = False,
    runtime: str = "torch",
) -> InferenceNetwork | ExportedNetwork:
    """The model's network ready for inference on ``device`` (cached while its weights are unchanged).

    ``runtime`` "torch" (the default here: training and scoring rounds use it), "onnx" (ONNX
    Runtime, CPU only, float32 or int8), "openvino" (CPU only, float32, bfloat16 or int8) or "auto"
    (what detection uses: see runtimes.resolve_runtime). ``compile`` runs torch's network through ``torch.compile`` (needs a C++ compiler
    on CPUs; the first call of each batch shape compiles, which takes seconds to a minute:
    ``warmup_seconds``).
    """
    device = torch.device(device)
    runtime, precision = resolve_runtime(runtime, precision, device, compile, model)
    dtype = None if runtime in ("onnx", "openvino") else select_precision(precision, device)
    # In-place training bumps the parameters' version counters, which retires a cached copy.
    key = (str(device), runtime, precision, dtype, bool(compile), torch.get_num_threads(),
           tuple(p._version for p in model.network.parameters()))
    cached = _prepared.get(model)
    if cached is not None and cached[0] == key:
        return cached[1]
    if runtime == "onnx":
        network = onnx_network(model, precision)
    elif runtime == "openvino":
        network = openvino_network(model, precision)
    else:
        network = _inference_network(model, device, dtype, compile)
    _prepared[model] = (key, network)
    return network


# torch.compile's mode per device: autotuned kernels on CUDA (CUDA graphs off: batch shapes vary).
COMPILE_MODES = {"cuda": "max-autotune-no-cudagraphs"}


def _inference_network(model: DetectorModel, device: torch.device, dtype: torch.dtype,
                       compile: bool = False) -> InferenceNetwork:
    network = copy.deepcopy(model.network).to(device).eval()
    try:
        network = fuse(network)
    except Exception:  # noqa: BLE001 - a network fx cannot trace still runs, just unfolded
        pass
    if device.type in CHANNELS_LAST_DEVICES:
        network = network.to(memory_format=torch.channels_last)
    if compile:
        network = torch.compile(network, mode=COMPILE_MODES.get(device.type), dynamic=False)
    stride = getattr(model.network, "stride", 8)
    return InferenceNetwork(network, stride, device, dtype, compiled=compile)
