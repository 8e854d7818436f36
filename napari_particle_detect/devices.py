"""Which torch device to run on: CUDA, then Apple MPS, then CPU, unless the user says otherwise."""

from __future__ import annotations

import torch

from .errors import ParticleDetectError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


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
