"""TIFFs opened into napari as ``particle-detect detect`` reads them: a stack of one page per frame a frame at
a time (files.io.LazyTiffStack behind a dask array), so a stack larger than memory opens at once. napari's own
reader reads the whole file first: a 1.26 GB stack froze the window 21 s and took as much memory again.

The layer is the one napari's reader makes (named after the file, at scale 1 in pixels, the file as its source),
so the docks find its project, calibration and axes in the file as before. Not registered as a napari reader:
napari asks which plugin to use for every file that two plugins claim (see the README's known limits).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ParticleDetectError
from ..files.io import LazyTiffStack, read_image

if TYPE_CHECKING:
    import dask.array
    import numpy as np
    from napari.layers import Image

TIFF_SUFFIXES = (".tif", ".tiff")


def tiff_pixels(path: str | Path) -> np.ndarray | dask.array.Array | None:
    """The TIFF's image or stack for a napari layer: a stack of one page per frame as a dask array of one frame
    per chunk, read when shown or detected; any other TIFF read whole. None for a file that is no TIFF, or one
    files.io refuses (channels to choose, a damaged file): napari's reader opens those as it did."""
    path = Path(path)
    if path.suffix.lower() not in TIFF_SUFFIXES:
        return None
    try:
        pixels = read_image(path, lazy=True)
    except ParticleDetectError:
        return None
    if not isinstance(pixels, LazyTiffStack):
        return pixels
    import dask.array as da

    # One file handle: a lock keeps the canvas's reads and a detection's (another thread) from interleaving
    # their seeks.
    return da.from_array(pixels, chunks=(1, *pixels.shape[1:]), lock=True)


def open_tiff(viewer, path: str | Path, plugin: str) -> list[Image] | None:
    """Add the TIFF at ``path`` to ``viewer`` as :func:`tiff_pixels` reads it, with ``path`` as its source
    and ``plugin`` as its reader, as napari's readers leave them; None (nothing added) where that gives none."""
    pixels = tiff_pixels(path)
    if pixels is None:
        return None
    # napari's only way to give a new layer its file (what its readers use); the docks look the file up there.
    from napari.layers._source import layer_source
    from napari.layers.utils.layer_utils import calc_data_range

    # The contrast slider over the grey levels of the first, middle and last frames, as napari sets it for an
    # image in memory; for another array it spans the whole type, 0-65535 squeezing a 16-bit stack's levels
    # into its left end.
    with layer_source(path=os.fspath(path), reader_plugin=plugin):
        return [viewer.add_image(pixels, name=Path(path).stem, contrast_limits=calc_data_range(pixels))]
