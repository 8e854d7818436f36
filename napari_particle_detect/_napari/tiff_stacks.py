"""TIFFs opened into napari as ``particle-detect detect`` reads them: a stack of one page per frame a frame at
a time (files.io.LazyTiffStack behind a dask array), so a stack larger than memory opens at once. napari's own
reader reads the whole file first: a 1.26 GB stack froze the window 21 s and took as much memory again.

The layer is the one napari's reader makes (named after the file, at scale 1 in pixels, the file as its source),
so the docks find its project, calibration and axes in the file as before. Not registered as a napari reader:
napari asks which plugin to use for every file that two plugins claim (see the README's known limits).

A stack's file stays open while its layer lives, and is closed when the viewer's window closes: the layer kept
it open past viewer.close() (a notebook's variable, a dock's reference to the image), which on Windows blocks
replacing or deleting the file, and on any OS leaks one handle per stack in a session that closes viewers.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ParticleDetectError
from ..files.io import LazyTiffStack, UnreadableFrameError, read_image

if TYPE_CHECKING:
    import dask.array
    from dask.utils import SerializableLock
    from napari.layers import Image

TIFF_SUFFIXES = (".tif", ".tiff")


def _read_tiff(path: str | Path) -> np.ndarray | LazyTiffStack | None:
    """The TIFF's image or stack for a napari layer, before a stack is put behind dask (:func:`_one_frame_per_chunk`):
    a stack of one page per frame as the stack itself, whose file its layer's viewer closes; any other TIFF read
    whole. None for a file that is no TIFF, or one files.io refuses (channels to choose, a damaged file): napari's
    reader opens those as it did, except a stack cut short, refused here in files.io's line."""
    path = Path(path)
    if path.suffix.lower() not in TIFF_SUFFIXES:
        return None
    try:
        return read_image(path, lazy=True)
    except ParticleDetectError:
        _refuse_cut_short(path)
        return None


def _refuse_cut_short(path: Path) -> None:
    """files.io's ParticleDetectError for a TIFF cut short (a copy or write that stopped). napari's reader reads
    what is left without a word: a stack of pages appended one by one, cut in its eleventh frame, opened as its
    first frame alone, where detect refuses it ("only 10 frame(s) readable")."""
    import tifffile

    from ..files.io import _quiet_tifffile, check_tiff_complete

    try:
        with _quiet_tifffile(), tifffile.TiffFile(path) as tif:
            check_tiff_complete(path, tif)
    except ParticleDetectError:
        raise
    except Exception:  # not even a TIFF tifffile opens: napari's reader, then _cannot_open, say so
        return


def tiff_refusal(path: str | Path) -> str | None:
    """files.io's one line on why it cannot read the TIFF at ``path`` ("not a TIFF file", "corrupt or truncated"),
    for a file napari's reader could not open either: napari's own says "pip install imageio[pyav]" for a file
    that is no TIFF. None where files.io reads it, or for a file that is no TIFF by its name."""
    if Path(path).suffix.lower() not in TIFF_SUFFIXES:
        return None
    try:
        read = read_image(Path(path), lazy=True)
    except ParticleDetectError as exc:
        return str(exc)
    if isinstance(read, LazyTiffStack):
        read.close()
    return None


# The frames of each open stack already said to be shown blank (named once, not at every redraw).
_SAID_BLANK: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _drawing() -> bool:
    """Whether the read is napari's, drawing a layer: napari turns dask's task fusion off while it slices a dask
    layer (napari.utils._dask_utils.configure_dask), and only then."""
    import dask

    return dask.config.get("optimization.fuse.active", None) is False


def _frame_or_blank(stack: LazyTiffStack, key: tuple, asarray: bool = True, lock=None) -> np.ndarray:
    """dask's read of a chunk of ``stack``, a frame that cannot be read (files.io.UnreadableFrameError, a garbled
    page) given as zeros where napari draws it, and named once: napari's drawing of a damaged frame raised, so a
    stack whose middle frame (the one shown first) was damaged did not open at all, and going to another one was
    an error each time. Read otherwise, it raises (the docks read another array, :func:`pixels_to_read`)."""
    from dask.array.core import getter

    try:
        return getter(stack, key, asarray=asarray, lock=lock)
    except UnreadableFrameError as exc:
        if not _drawing():
            raise
        said = _SAID_BLANK.setdefault(stack, set())
        if exc.frame not in said:
            said.add(exc.frame)
            _say_shown_blank(f"{exc}: shown blank")
        # One zero viewed as the whole stack, indexed: the chunk's shape without a stack of zeros.
        zeros = np.lib.stride_tricks.as_strided(np.zeros(1, stack.dtype), stack.shape, (0,) * stack.ndim)
        return np.array(zeros[key])


def _say_shown_blank(text: str) -> None:
    """``text`` as a napari warning, from the main thread (dask reads chunks on its own threads)."""
    from .notify import show_warning
    from superqt.utils import ensure_main_thread

    ensure_main_thread(show_warning)(text)


def _one_frame_per_chunk(stack: LazyTiffStack) -> tuple[dask.array.Array, dask.array.Array, SerializableLock]:
    """The stack as dask arrays of one frame per chunk: the one napari draws, a damaged frame drawn blank
    (:func:`_frame_or_blank`), the one the docks read (:func:`pixels_to_read`), where it raises; and the lock their
    reads take."""
    import dask.array as da
    from dask.utils import SerializableLock

    # One file handle: a lock keeps the canvas's reads and a detection's (another thread) from interleaving
    # their seeks, and the file from being closed in the middle of a read.
    lock = SerializableLock()
    chunks = (1, *stack.shape[1:])
    return (da.from_array(stack, chunks=chunks, lock=lock, getitem=_frame_or_blank),
            da.from_array(stack, chunks=chunks, lock=lock), lock)


# Each stack layer opened here: the array it was given (napari draws it) and the one its pixels are read from.
_READ_APART: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def pixels_to_read(layer: Image) -> dask.array.Array | np.ndarray:
    """``layer``'s pixels as a dock reads them: a stack opened here from a twin of the array napari draws, whose damaged
    frames always raise. Read from the drawn one, a detection running while napari drew (its sign that it draws,
    dask's configuration, is global, seen by every thread) was given the blank drawn for a damaged frame, or napari's
    cached copy of it, and took that frame for an empty one. The layer's own data where it was replaced since."""
    kept = _READ_APART.get(layer)
    return kept[1] if kept is not None and kept[0] is layer.data else layer.data


def grey_range(pixels: dask.array.Array | np.ndarray) -> tuple[float, float]:
    """The contrast slider's range: napari's over the grey levels of the stack (its first, middle and last frames
    where it is large), as napari sets it for an image in memory; for another array it spans the whole type,
    0-65535 squeezing a 16-bit stack's levels into its left end. A damaged frame among those read (a page whose
    compressed pixels are garbled) is passed over, so that the other frames still open, as detect reads them;
    napari's default range (the whole type's for integers) where none of them reads."""
    from napari.layers.utils.layer_utils import calc_data_range

    try:
        return calc_data_range(pixels)
    except ParticleDetectError:
        pass
    ranges = []
    for frame in sorted({0, len(pixels) // 2, len(pixels) - 1}):
        try:
            ranges.append(calc_data_range(np.asarray(pixels[frame])))
        except ParticleDetectError:
            continue
    if ranges:
        return min(low for low, _ in ranges), max(high for _, high in ranges)
    if np.issubdtype(pixels.dtype, np.integer):
        return float(np.iinfo(pixels.dtype).min), float(np.iinfo(pixels.dtype).max)
    return 0.0, 1.0


def close_with_window(viewer, stack: LazyTiffStack, lock: SerializableLock) -> None:
    """Close ``stack``'s file once ``viewer``'s window is gone (napari deletes it once its closing is accepted,
    a Cancel in napari's "close?" question leaving the image readable), after the docks stopped their work on it.
    Held weakly: a layer removed before still lets its stack go (and close) with it."""
    window = viewer.window.main_menu.window()  # napari's main window; the menu bar is its public way to it
    held = weakref.ref(stack)

    def close(*_) -> None:
        still_open = held()
        if still_open is not None:
            with lock:
                still_open.close()

    window.destroyed.connect(close)


def open_tiff(viewer, path: str | Path, plugin: str) -> list[Image] | None:
    """Add the TIFF at ``path`` to ``viewer`` as :func:`_read_tiff` reads it (a stack as a dask array of one frame
    per chunk, read when shown or detected), with ``path`` as its source and ``plugin`` as its reader, as napari's
    readers leave them; None (nothing added) where that gives none.
    A stack's file is closed with the viewer's window (:func:`close_with_window`)."""
    read = _read_tiff(path)
    if read is None:
        return None
    stack = read if isinstance(read, LazyTiffStack) else None
    pixels, to_read, lock = _one_frame_per_chunk(stack) if stack is not None else (read, read, None)
    # napari's only way to give a new layer its file (what its readers use); the docks look the file up there.
    from napari.layers._source import layer_source

    with layer_source(path=os.fspath(path), reader_plugin=plugin):
        layer = viewer.add_image(pixels, name=Path(path).stem, contrast_limits=grey_range(pixels))
    if stack is not None:
        _READ_APART[layer] = (pixels, to_read)
        close_with_window(viewer, stack, lock)
    return [layer]
