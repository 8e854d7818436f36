"""Which torch device and number format to run on: CUDA, then Apple MPS, then CPU, unless the user says otherwise."""

from __future__ import annotations

import torch

from .errors import ParticleDetectError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
PRECISION_CHOICES = ("auto", "float32", "bfloat16")


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


def cpu_has_fast_bfloat16() -> bool:
    """True where the CPU computes bfloat16 natively (AVX512-BF16 or AMX); elsewhere it is emulated, slowly."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def select_precision(requested: str | None, device: torch.device) -> torch.dtype:
    """Number format for inference. 'auto' is bfloat16 on CPUs that compute it natively (about twice
    as fast here, same centres: benchmarks/speed.py) and float32 everywhere else."""
    requested = (requested or "auto").lower()
    if requested == "auto":
        return torch.bfloat16 if device.type == "cpu" and cpu_has_fast_bfloat16() else torch.float32
    if requested == "float32":
        return torch.float32
    if requested == "bfloat16":
        if device.type not in ("cpu", "cuda"):
            raise ParticleDetectError(f"precision 'bfloat16' is not supported on {device.type}; choose 'float32'")
        return torch.bfloat16
    raise ParticleDetectError(f"unknown precision {requested!r}; choose one of {', '.join(PRECISION_CHOICES)}")
