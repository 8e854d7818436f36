"""The network on OpenVINO, Intel's inference runtime for CPUs, from the same exported ONNX files.

On a CPU with native bfloat16 (AVX-512 BF16 or AMX: recent Xeon, AMD Zen 4 and later) OpenVINO runs
the network in bfloat16 about twice as fast as ONNX Runtime in float32, and its int8 form (the
calibrated QDQ file of :mod:`runtimes`) faster again with VNNI; elsewhere its float32 is about ONNX
Runtime's (benchmarks/results/runtimes_openvino.txt). It is optional (``pip install openvino``): without it,
nothing changes.
"""

from __future__ import annotations

import importlib.util
import sys
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
    return ov.Core().compile_model(str(path), "CPU", config)
