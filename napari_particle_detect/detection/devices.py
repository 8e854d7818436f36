"""Which torch device and number format to run on: CUDA, then Apple MPS, then CPU, unless the user says otherwise."""

from __future__ import annotations

import torch

from ..errors import ParticleDetectError
from .choices import DEVICE_CHOICES, PRECISION_CHOICES


def mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def select_device(requested: str | torch.device | None = "auto") -> torch.device:
    if isinstance(requested, torch.device):
        return requested
    requested = (requested or "auto").lower()
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ParticleDetectError("device 'cuda' requested but no CUDA GPU is available; choose 'auto' or 'cpu'")
        return torch.device(requested)
    if requested == "mps":
        if not mps_available():
            raise ParticleDetectError("device 'mps' requested but Apple MPS is not available; choose 'auto' or 'cpu'")
        return torch.device("mps")
    if requested == "cpu":
        return torch.device("cpu")
    raise ParticleDetectError(f"unknown device {requested!r}; choose one of {', '.join(DEVICE_CHOICES)}")


def select_precision(requested: str | None, device: torch.device) -> torch.dtype:
    """Number format for inference. 'auto' is float32 on every device: a lower precision would be
    kept only where every centre stays within 0.05 px of float32's on the speed benchmark, and on a
    CPU bfloat16 moved 1.6 % of them further (up to 0.46 px), float16 0.3 % (up to 0.14 px).
    benchmarks/speed.py prints this check for each device it runs on (GPUs included)."""
    requested = (requested or "auto").lower()
    if requested in ("auto", "float32"):
        return torch.float32
    if requested == "bfloat16":
        if device.type not in ("cpu", "cuda"):
            raise ParticleDetectError(f"precision 'bfloat16' is not supported on {device.type}; choose 'float32'")
        return torch.bfloat16
    if requested == "float16":
        return torch.float16
    raise ParticleDetectError(f"unknown precision {requested!r}; choose one of {', '.join(PRECISION_CHOICES)}")


TRAINING_PRECISIONS = ("auto", "float32", "bfloat16")


def native_bfloat16_cpu() -> bool:
    """Whether this CPU computes in bfloat16 itself (AVX-512 BF16 or AMX); elsewhere torch emulates it, slower
    than float32."""
    cpu = getattr(torch, "cpu", None)
    return any(bool(getattr(cpu, name, lambda: False)()) for name in ("_is_avx512_bf16_supported",
                                                                       "_is_amx_tile_supported"))


def training_dtype(requested: str | None, device: torch.device) -> torch.dtype:
    """Number format of the forward pass when training (weights, gradients and the loss stay float32).
    'auto': bfloat16 on a CPU that computes in it natively (a step 1.7x faster on AVX-512 BF16), float32
    elsewhere."""
    requested = (requested or "auto").lower()
    if requested not in TRAINING_PRECISIONS:
        raise ParticleDetectError(f"unknown training precision {requested!r}; choose one of "
                                  f"{', '.join(TRAINING_PRECISIONS)}")
    if requested == "auto":
        return torch.bfloat16 if device.type == "cpu" and native_bfloat16_cpu() else torch.float32
    if requested == "bfloat16" and device.type not in ("cpu", "cuda"):
        raise ParticleDetectError(f"training precision 'bfloat16' is not supported on {device.type}; choose 'float32'")
    return torch.bfloat16 if requested == "bfloat16" else torch.float32
