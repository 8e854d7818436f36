"""The public ``read_image``: files.io's reading, and the warning detect gives of a file whose pixels are not square.

The package's own readers call :func:`files.io.read_image`, which says nothing of a calibration: detect says it
once per file where it reads the file's calibration (file_detection.said_calibration), and the docks from the
layer's scale. A library caller who reads the pixels and detects them as an array has neither, so the public
function says it itself.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .calibration import file_calibration, warn_if_not_square
from .io import LazyTiffStack, ZarrStack
from .io import read_image as _read_image


def read_image(path: str | Path, lazy: bool = False, channel: int | None = None,
               axes: str | None = None, frames: str | None = None) -> np.ndarray | LazyTiffStack | ZarrStack:
    pixels = _read_image(path, lazy=lazy, channel=channel, axes=axes, frames=frames)
    # After the read: a file it refuses gets its refusal alone, not a warning of its pixels before it.
    warn_if_not_square(path, file_calibration(path))
    return pixels


read_image.__doc__ = f"""{(_read_image.__doc__ or "").rstrip()}

    Where the file's metadata gives pixels that are not square (a y size other than the x size), one warning
    says so, as detect on the file does: detection reads pixels as square, so round particles look stretched.
    """
