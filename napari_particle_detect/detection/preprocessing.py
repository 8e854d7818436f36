"""Turning whatever the user loaded into the float image the network expects."""

from __future__ import annotations

import os

import numpy as np

from ..errors import ParticleDetectError
from .percentiles import percentiles

PERCENTILES = (1.0, 99.8)


class ConstantFrameError(ParticleDetectError):
    """A frame with one value in every pixel: nothing to detect (a dropped or shutter frame in a stack)."""


def check_frame(frame: np.ndarray, name: str = "image", convert: bool = True) -> np.ndarray:
    """A finite, non-constant 2D float32 array, or a ParticleDetectError saying what is wrong.

    ``convert=False`` keeps small integer pixels (8 and 16 bit, exact in float32) as they are, so a
    big frame is not copied before it is resampled; anything else is still converted."""
    frame = np.asarray(frame)
    if frame.ndim != 2:
        raise ParticleDetectError(f"{name}: expected a 2D frame, got shape {frame.shape}")
    if frame.size == 0 or min(frame.shape) < 8:
        raise ParticleDetectError(f"{name}: image is too small ({frame.shape}); need at least 8x8 pixels")
    if not (np.issubdtype(frame.dtype, np.number) or frame.dtype == bool) or np.iscomplexobj(frame):
        raise ParticleDetectError(f"{name}: unsupported pixel type {frame.dtype}")
    floating = np.issubdtype(frame.dtype, np.floating)
    if convert or not (np.issubdtype(frame.dtype, np.integer) and frame.dtype.itemsize <= 2):
        frame = frame.astype(np.float32, copy=False)
    if floating and not np.all(np.isfinite(frame)):
        raise ParticleDetectError(f"{name}: image contains NaN or infinite values")
    if float(frame.max()) == float(frame.min()):
        raise ConstantFrameError(f"{name}: image is constant (every pixel is {frame.flat[0]:g}); nothing to detect")
    return frame


def normalise(frame: np.ndarray, invert: bool = False) -> np.ndarray:
    """Robust percentile scaling to about [0, 1], so 8-bit, 16-bit and float images look alike."""
    frame = np.asarray(frame, dtype=np.float32)
    lo, hi = percentiles(frame, PERCENTILES)
    if hi <= lo:
        lo, hi = float(frame.min()), float(frame.max())
    scaled = (frame - lo) / max(hi - lo, 1e-12)
    return (1.0 - scaled if invert else scaled).astype(np.float32)


def as_frames(image: np.ndarray, name: str = "image") -> np.ndarray:
    """A (T, Y, X) view of a 2D image or a T/Z stack; anything else is a clear error.

    Array-likes with ``ndim``/``shape`` (dask arrays, lazy TIFF stacks) stay lazy: frames are
    read one at a time.
    """
    if isinstance(image, (str, os.PathLike)):
        raise ParticleDetectError(f"{name}: detect takes an image array, not a file name ({str(image)!r}); read it "
                                  "first (napari_particle_detect.files.io.read_image) or run detect_files on paths")
    if not hasattr(image, "shape") or not hasattr(image, "ndim"):
        image = np.asarray(image)
    if image.ndim == 2:
        return np.asarray(image)[None]
    if image.ndim == 3:
        if image.shape[-1] in (3, 4) and image.shape[0] > 4:
            raise ParticleDetectError(
                f"{name}: looks like an RGB(A) image (shape {image.shape}); convert it to greyscale first"
            )
        return image
    if image.ndim == 4 and image.shape[-1] in (3, 4):
        raise ParticleDetectError(f"{name}: RGB(A) stacks are not supported (shape {image.shape}); convert to greyscale")
    raise ParticleDetectError(f"{name}: expected a 2D image or a 3D T/Z stack, got {image.ndim}D shape {image.shape}")
