"""The network on OpenVINO, Intel's inference runtime for CPUs, from the same exported ONNX files.

On a CPU with native bfloat16 (AVX-512 BF16 or AMX: recent Xeon, AMD Zen 4 and later) OpenVINO runs
the network in bfloat16 about twice as fast as ONNX Runtime in float32, and its int8 form (the
calibrated QDQ file of :mod:`runtimes`) faster again with VNNI; elsewhere its float32 is about ONNX
Runtime's (benchmarks/results/runtimes_openvino.txt). It is optional (``pip install openvino``): without it,
nothing changes.
"""

from __future__ import annotations

import ctypes
import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import torch


OPENVINO_PRECISIONS = ("float32", "bfloat16", "int8")
# OpenVINO's name of each precision's inference type; int8 runs the int8 file, its float parts in float32.
_HINTS = {"float32": "f32", "bfloat16": "bf16", "int8": "f32"}


def openvino_available() -> bool:
    return importlib.util.find_spec("openvino") is not None


def import_openvino() -> ModuleType:
    """OpenVINO, imported without its telemetry. ``import openvino`` alone sends a usage event to Google
    Analytics and writes ~/intel unless the user opted out (openvino.tools.ovc); this package runs offline.
    With openvino_telemetry unimportable, OpenVINO falls back to its own stub (openvino.tools.ovc.telemetry_stub)."""
    if "openvino" in sys.modules:  # imported before us (by the user's code, say): theirs to configure
        return sys.modules["openvino"]
    blocked = "openvino_telemetry" not in sys.modules
    if blocked:
        sys.modules["openvino_telemetry"] = None  # type: ignore[assignment] - Python's way to make an import fail
    try:
        import openvino
    finally:
        if blocked and sys.modules.get("openvino_telemetry", ModuleType("absent")) is None:
            del sys.modules["openvino_telemetry"]
    return openvino


def compile_openvino(path: Path, precision: str, threads: int | None = None):
    """The exported ONNX network at ``path`` compiled by OpenVINO to run in ``precision`` on the CPU."""
    ov = import_openvino()

    config = {"INFERENCE_NUM_THREADS": int(threads or torch.get_num_threads()), "PERFORMANCE_HINT": "LATENCY",
              "INFERENCE_PRECISION_HINT": _HINTS[precision]}
    with _signal_stack_kept():
        return ov.Core().compile_model(str(path), "CPU", config)


class _SignalStack(ctypes.Structure):
    """Linux's ``stack_t``: a thread's alternate signal stack."""

    _fields_ = [("ss_sp", ctypes.c_void_p), ("ss_flags", ctypes.c_int), ("ss_size", ctypes.c_size_t)]


@contextmanager
def _signal_stack_kept() -> Iterator[None]:
    """The calling thread's alternate signal stack put back as it was after the block. OpenVINO's CPU plugin gives
    the thread compiling a network a signal stack of its own, and unmaps it when the network is freed, from
    whichever thread frees it: the compiling thread was left pointing at unmapped memory, and the next signal Python
    handled there (Ctrl-C, the command line's SIGTERM; Python's handlers run on that stack) killed the process with
    a segmentation fault instead of stopping the run. Linux only (``stack_t``'s layout differs elsewhere)."""
    if not sys.platform.startswith("linux"):
        yield
        return
    libc = ctypes.CDLL(None, use_errno=True)
    before = _SignalStack()
    if libc.sigaltstack(None, ctypes.byref(before)) != 0:
        yield
        return
    try:
        yield
    finally:
        libc.sigaltstack(ctypes.byref(before), None)
