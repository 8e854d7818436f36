"""Reading images and centre tables, writing centre tables atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from .errors import ParticleDetectError

IMAGE_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg")
# Column names other tools use, mapped to ours (napari's Points CSV, trackpy).
COLUMN_ALIASES = {"axis-0": "frame", "axis-1": "y", "axis-2": "x", "mass": "score", "t": "frame", "z": "frame"}


def read_image(path: str | Path) -> np.ndarray:
    """A 2D image or a T/Z stack as a numpy array; every failure is one clear ParticleDetectError."""
    path = Path(path)
    if not path.exists():
        raise ParticleDetectError(f"{path}: file not found")
    if path.is_dir():
        raise ParticleDetectError(f"{path}: is a folder, not an image")
    suffix = path.suffix.lower()
    try:
        if suffix in (".tif", ".tiff"):
            import tifffile

            data = tifffile.imread(path)
        elif suffix in (".png", ".jpg", ".jpeg"):
            import imageio.v3 as iio

            data = iio.imread(path)
        else:
            raise ParticleDetectError(f"{path}: unsupported file type {suffix!r}; use TIFF or PNG")
    except ParticleDetectError:
        raise
    except Exception as exc:  # tifffile/imageio raise many types on corrupt files
        raise ParticleDetectError(f"{path}: cannot read image ({type(exc).__name__}: {exc})") from None
    data = np.asarray(data)
    if data.size == 0:
        raise ParticleDetectError(f"{path}: cannot read image (no pixel data)")
    data = np.squeeze(data) if data.ndim > 2 else data
    if data.ndim == 3 and data.shape[-1] in (3, 4) and suffix in (".png", ".jpg", ".jpeg"):
        raise ParticleDetectError(f"{path}: colour (RGB) image; convert it to greyscale first")
    if data.ndim not in (2, 3):
        raise ParticleDetectError(f"{path}: expected a 2D image or a 3D stack, got shape {data.shape}")
    return data


def read_centres(path: str | Path) -> pd.DataFrame:
    """A centre table with columns ``y, x`` and, where present, ``frame`` and ``score``."""
    path = Path(path)
    if not path.exists():
        raise ParticleDetectError(f"{path}: file not found")
    try:
        table = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ParticleDetectError(f"{path}: empty file (expected a header with y,x columns)") from None
    except Exception as exc:
        raise ParticleDetectError(f"{path}: cannot read CSV ({type(exc).__name__}: {exc})") from None
    table = table.rename(columns={c: c.strip() for c in table.columns})
    if not {"y", "x"} <= set(table.columns):
        renamed = table.rename(columns=COLUMN_ALIASES)
        if {"y", "x"} <= set(renamed.columns):
            table = renamed
        elif {"axis-0", "axis-1"} <= set(table.columns):
            # A 2D napari Points CSV: axis-0 is y, axis-1 is x.
            table = table.rename(columns={"axis-0": "y", "axis-1": "x"})
        else:
            raise ParticleDetectError(f"{path}: needs columns y and x (got {', '.join(map(str, table.columns))})")
    for column in ("y", "x"):
        table[column] = pd.to_numeric(table[column], errors="coerce")
    if table[["y", "x"]].isna().any().any():
        raise ParticleDetectError(f"{path}: y/x columns contain non-numeric or missing values")
    if "frame" in table.columns:
        table["frame"] = pd.to_numeric(table["frame"], errors="coerce")
        if table["frame"].isna().any():
            raise ParticleDetectError(f"{path}: frame column contains non-numeric values")
        table["frame"] = table["frame"].astype(int)
    return table


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, writer: Callable[[BinaryIO], object]) -> Path:
    """Let ``writer`` fill a temporary file beside ``path``, then rename it over: all or nothing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            writer(handle)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes owner-only files; give the result the permissions a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) atomically: readers see the old file or the new one, never a part."""
    data = text.encode("utf-8")
    return atomic_write_bytes(path, lambda handle: handle.write(data))


def write_centres(table: pd.DataFrame, path: str | Path, float_format: str = "%.3f") -> Path:
    """Write a centre table as CSV atomically (columns ``frame,y,x,score`` first, extras after)."""
    first = [c for c in ("frame", "y", "x", "score") if c in table.columns]
    ordered = table[first + [c for c in table.columns if c not in first]]
    return atomic_write_text(path, ordered.to_csv(index=False, float_format=float_format))
