"""The names a user may pass for the device, number format and inference runtime, and the range of a score
threshold, without importing torch (the command line parses its arguments before it knows whether the
command needs a network)."""

from ..errors import ParticleDetectError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
PRECISION_CHOICES = ("auto", "float32", "bfloat16", "float16", "int8")  # int8: ONNX Runtime or OpenVINO
RUNTIME_CHOICES = ("auto", "torch", "onnx", "openvino")
# Tile side in pixels: bounds the network's memory. 1536 px tiles cover a 2560 px working frame in 2 x 2
# instead of 3 x 3 of 1024 (14 % of their pixels borrowed as margins instead of 20 %; a 2048 px image
# detected 7 % faster on a CPU, for about 160 MB more at the peak); the runtime's cost per pixel is
# about the same from 384 to 1328 px tiles (OpenVINO bfloat16, 2 threads: 83-91 ns).
DEFAULT_TILE = 1536


def check_threshold(threshold: float | None) -> None:
    """A score threshold is in [0, 1), as the command line's ``--threshold``; None is the model's own."""
    if threshold is not None and not 0.0 <= float(threshold) < 1.0:
        raise ParticleDetectError(f"threshold must be a number in [0, 1), got {threshold}")
