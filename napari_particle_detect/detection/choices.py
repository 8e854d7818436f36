"""The names a user may pass for the device, number format and inference runtime, and the range of a score
threshold, without importing torch (the command line parses its arguments before it knows whether the
command needs a network)."""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING

from ..errors import ParticleDetectError

if TYPE_CHECKING:
    from ..models.registry import ModelCard

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
PRECISION_CHOICES = ("auto", "float32", "bfloat16", "float16", "int8")  # int8: ONNX Runtime or OpenVINO
RUNTIME_CHOICES = ("auto", "torch", "onnx", "openvino")
# Tile side in pixels: bounds the network's memory. 1536 px tiles cover a 2560 px working frame in 2 x 2
# instead of 3 x 3 of 1024 (14 % of their pixels borrowed as margins instead of 20 %; a 2048 px image
# detected 7 % faster on a CPU, for about 160 MB more at the peak); the runtime's cost per pixel is
# about the same from 384 to 1328 px tiles (OpenVINO bfloat16, 2 threads: 83-91 ns).
DEFAULT_TILE = 1536


def is_number(value: object) -> bool:
    """A real number (Python's or NumPy's), not a bool and not text: "0.5" is refused, not read."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_whole(value: object) -> bool:
    """A whole number (Python's or NumPy's), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_threshold(threshold: float | None) -> None:
    """A score threshold is in [0, 1), as the command line's ``--threshold``; None is the model's own."""
    if threshold is None:
        return
    if not is_number(threshold):
        raise TypeError(f"threshold must be a number in [0, 1) or None (the model's own), got "
                        f"{type(threshold).__name__} {threshold!r:.40}")
    if not 0.0 <= float(threshold) < 1.0:
        raise ParticleDetectError(f"threshold must be a number in [0, 1), got {threshold}")


def check_count(value: object, name: str, unit: str, none: str = "") -> None:
    """``value`` a whole number of at least 1 (``tile``, ``batch_size``): a TypeError naming ``name`` for
    another type, a ParticleDetectError below 1; None is allowed when ``none`` says what it means."""
    if value is None and none:
        return
    allowed = f"a whole number of {unit}, at least 1" + (f", or None ({none})" if none else "")
    if not is_whole(value):
        raise TypeError(f"{name} must be {allowed}, got {type(value).__name__} {value!r:.40}")
    if value < 1:
        raise ParticleDetectError(f"{name} must be {allowed}, got {value}")


POLARITIES = ("auto", "bright", "dark")


def check_polarity(polarity: object) -> None:
    """Refuse a polarity detection does not know, in one line."""
    if polarity not in POLARITIES:
        raise ParticleDetectError(f"polarity must be auto, bright or dark, got {polarity!r}")


def check_names(device: object, precision: object, runtime: object) -> None:
    """The ``device``, ``precision`` and ``runtime`` names detection knows, refused in its own words
    (devices.select_device, runtimes) without torch, so that a run of many files refuses an unknown one before
    any work. Only names: whether this machine has the device is for the machine that runs detection to say."""
    if isinstance(device, str) and not (device.lower() in DEVICE_CHOICES or device.lower().startswith("cuda")):
        raise ParticleDetectError(f"unknown device {device!r}; choose one of {', '.join(DEVICE_CHOICES)}")
    for name, value, choices in (("precision", precision, PRECISION_CHOICES), ("runtime", runtime, RUNTIME_CHOICES)):
        if value is not None and (not isinstance(value, str) or value.lower() not in choices):
            raise ParticleDetectError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")


def check_progress(progress: object) -> None:
    """A progress callback is called as ``progress(done, total)``; checked before any work, not at the
    first frame's end."""
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be a callable taking (done, total) or None, got "
                        f"{type(progress).__name__} {progress!r:.40}")


def applied_threshold(card: ModelCard, threshold: float | None) -> float:
    """The score threshold detection applies: the one given, else the model card's. Here, not beside the
    card (models.registry imports torch), so the volume paths name it without torch."""
    return card.threshold if threshold is None else float(threshold)


def check_diameter(diameter: float) -> None:
    if not is_number(diameter):
        raise TypeError(f"diameter must be a number (px) or None (estimated), got {type(diameter).__name__} "
                        f"{diameter!r:.40}")
    if not diameter > 0 or not math.isfinite(diameter):
        raise ParticleDetectError(f"diameter must be a positive number, got {diameter}")


def check_diameter_fits(diameter: float, shape: tuple[int, ...], name: str = "image", estimated: bool = False) -> None:
    """A diameter no larger than the frames' smaller side (the rule the command line's ``--diameter``
    follows, file_detection.check_diameter_fits): beyond it no particle fits, and detection would find
    nothing while trusting the size it was given. An ``estimated`` one is held to the same rule: one that
    breaks it was read from too few pixels (a 20 px crop once read as 21.8 px particles), so the user's
    diameter is asked for."""
    h, w = int(shape[-2]), int(shape[-1])
    if diameter <= min(h, w):
        return
    if estimated:
        raise ParticleDetectError(f"{name}: the particle diameter estimated ({diameter:.1f} px) is larger than the "
                                  f"image ({h} x {w} px), too small to estimate it in; give diameter= (--diameter) "
                                  "in pixels")
    raise ParticleDetectError(f"{name}: diameter {diameter:g} px is larger than the image ({h} x {w} px); "
                              "give the particles' diameter in pixels")
