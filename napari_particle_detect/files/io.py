"""Reading images and centre tables, writing centre tables atomically."""

from __future__ import annotations

import glob
import logging
import os
import re
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from ..errors import ParticleDetectError

TIFF_SUFFIXES = (".tif", ".tiff")
PICTURE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}  # read through Pillow
ZARR_SUFFIX = ".zarr"  # a folder (a zarr store without it is read too, by its metadata)
IMAGE_FORMATS = {**dict.fromkeys(TIFF_SUFFIXES, "TIFF"), **PICTURE_FORMATS, ZARR_SUFFIX: "zarr folder"}
IMAGE_SUFFIXES = tuple(IMAGE_FORMATS)
ALPHA_MODES = ("LA", "RGBA")  # the picture modes whose last channel is opacity


class UnreadableFrameError(ParticleDetectError):
    """One frame of a lazily read stack cannot be read (a garbled page or chunk), its ``frame`` number kept: the
    stack's other frames may still be read, so a caller can name this one and go on with them."""

    def __init__(self, path: Path, frame: int, failure: BaseException | str) -> None:
        reason = failure if isinstance(failure, str) else f"{type(failure).__name__}: {failure}"
        super().__init__(f"{path}: cannot read frame {frame} ({reason})")
        self.frame = frame


def is_index_integer(part: object) -> bool:
    """An integer index; not a bool, which numpy reads as a mask (True: a new axis of one). Both lazy stacks read
    one frame for it."""
    return isinstance(part, (int, np.integer)) and not isinstance(part, bool)


class LazyTiffStack:
    """A multi-page TIFF stack read one frame at a time, so long stacks need one frame of memory.

    It holds the file open until :meth:`close` (or the end of a ``with`` block, or until it is garbage
    collected): ``with read_image(path, lazy=True) as stack: ...``."""

    _tif = None  # set first thing in __init__; here too, so __del__ of a half-made stack closes nothing

    def __init__(self, path: Path, tif, n_frames: int, frame_shape: tuple[int, int], dtype: np.dtype,
                 pages: list[int] | None = None, sample: tuple | None = None, cut: CutShort | None = None) -> None:
        self.path = path
        self._tif = tif
        self.cut = cut  # a file cut short: the frames past its readable ones are UnreadableFrameErrors
        self.shape = (n_frames, *frame_shape)
        self.ndim = 3
        self.dtype = dtype
        # One channel of a multichannel file: the page each frame is (channels as pages), or the part of
        # every page it is (channels as a page's samples). None: frame i is page i, whole.
        self._pages = pages
        self._sample = sample

    @property
    def closed(self) -> bool:
        return self._tif is None

    def close(self) -> None:
        """Close the file (again: nothing); reading a frame after is a ValueError."""
        tif, self._tif = self._tif, None
        if tif is not None:
            tif.close()

    def __enter__(self) -> LazyTiffStack:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - at interpreter exit the file object may be half torn down
            pass

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: object) -> np.ndarray:
        """Frame ``key``, or for any other key (a slice, list or array of frames, a tuple of those and the other
        axes' indices, Ellipsis, None) what numpy's indexing of the whole stack gives, reading only the pages its
        first axis picks: napari and dask index with tuples and slices, and each such key read the whole file."""
        if is_index_integer(key):
            return self._frame(key)
        parts = key if isinstance(key, tuple) else (key,)
        where = self._first_axis_part(parts)
        first = parts[where] if where is not None else None
        if where is None or self._axes_indexed(first) > 1:  # every frame: an Ellipsis over them, a mask of several axes
            return np.asarray(self)[key]
        if is_index_integer(first):
            # Kept an integer, not a one-frame array: beside other arrays numpy places and drops axes by that.
            frames, first = [self._frame_number(first)], 0
        elif isinstance(first, slice):
            frames, first = range(len(self))[first], slice(None)
        else:
            chosen = np.arange(len(self))[first]  # numpy's own checks: bounds, a mask's length, a float's refusal
            frames = np.unique(chosen)
            first = np.searchsorted(frames, chosen)  # each chosen frame's place among those read
        return self._frames(frames)[parts[:where] + (first,) + parts[where + 1:]]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        data = self._frames(range(len(self)))
        return data.astype(dtype) if dtype is not None else data

    def _first_axis_part(self, parts: tuple) -> int | None:
        """Which of a key's ``parts`` indexes the frames; None where an Ellipsis spans them or none does."""
        for position, part in enumerate(parts):
            if part is Ellipsis:
                spanned = self.ndim - sum(self._axes_indexed(other) for other in parts if other is not Ellipsis)
                if spanned > 0:
                    return None
            elif self._axes_indexed(part):
                return position
        return None

    def _frame_number(self, index) -> int:
        """``index`` (negative from the end) as a frame number; IndexError as numpy's beyond the stack, so that
        iterating over the stack ends."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of bounds for axis 0 with size {len(self)}")
        return int(index) % len(self)

    def _frames(self, frames) -> np.ndarray:
        """The ``frames`` (numbers) read one page each, in their order, into one array."""
        data = np.empty((len(frames), *self.shape[1:]), dtype=self.dtype)
        for place, frame in enumerate(frames):
            data[place] = self._frame(frame)
        return data

    def _frame(self, index) -> np.ndarray:
        if self._tif is None:
            raise ValueError(f"{self.path}: the stack is closed; read it again with read_image(path, lazy=True)")
        index = self._frame_number(index)
        if self.cut is not None and index >= self.cut.readable:
            raise UnreadableFrameError(self.path, index, self.cut.words)
        try:
            page = self._pages[index] if self._pages is not None else index
            pixels = self._tif.pages[page].asarray()
            return pixels[self._sample] if self._sample is not None else pixels
        except Exception as exc:
            raise UnreadableFrameError(self.path, index, exc) from None

    @staticmethod
    def _axes_indexed(part) -> int:
        """How many axes a part of a numpy index takes: none for None, Ellipsis and a bool (numpy adds an axis for
        those), a boolean mask's dimensions, one for anything else."""
        if part is None or part is Ellipsis or isinstance(part, (bool, np.bool_)):
            return 0
        if isinstance(part, (list, np.ndarray)) and np.asarray(part).dtype == bool:
            return np.ndim(part)
        return 1


@contextmanager
def _quiet_tifffile() -> Iterator[None]:
    """tifffile logs its own complaints about a corrupt file; ours is the one line the user sees."""
    tifffile_log = logging.getLogger("tifffile")
    level = tifffile_log.level
    tifffile_log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        tifffile_log.setLevel(level)


def _page_per_frame(tif) -> tuple[int, tuple[int, int], np.dtype] | None:
    """(frames, frame shape, dtype) when each page of the file is one 2D frame of a stack, else None: one
    series of frames (tifffile, ImageJ, OME), or pages appended one by one (tifffile's ``append=True``,
    one series each) that all agree in shape and dtype."""
    series = list(tif.series)
    if not series:
        return None
    first = series[0]
    if len(series) == 1 and len(first.shape) == 3:
        frames, frame_shape = first.shape[0], tuple(first.shape[1:])
    elif len(series) > 1 and len(first.shape) == 2 and all(
            tuple(s.shape) == tuple(first.shape) and s.dtype == first.dtype for s in series):
        frames, frame_shape = len(series), tuple(first.shape)
    else:
        return None
    if len(tif.pages) != frames or tuple(tif.pages[0].shape) != frame_shape:
        return None  # frames that are not pages (several samples, a contiguous series with one page)
    return frames, frame_shape, first.dtype


def _open_lazy_tiff(path: Path, tif) -> LazyTiffStack | None:
    """A LazyTiffStack over the open file when each page is one frame of a stack, else None."""
    layout = _page_per_frame(tif)
    if layout is None:
        return None
    frames, frame_shape, dtype = layout
    return LazyTiffStack(path, tif, frames, frame_shape, dtype)


# A last axis this short, after two of image size, with no axes in the metadata: channels (a frame 2 to 4
# pixels wide would be refused as too small anyway).
GUESSED_CHANNELS = (2, 3, 4)
# The axes an image file may have once one channel is chosen (files.axes reads which a file has).
AXES_CHOICES = ("YX", "TYX", "ZYX", "TZYX")


def channel_option(value: object) -> str:
    """The channel choice as read_image's keyword and the command line's option both spell it: its refusals
    reach Python callers and the command line alike."""
    return f"channel={value} (--channel {value})"


def choose_channel(count: int) -> str:
    """How to pick one of ``count`` channels, said where a file of several is refused."""
    return f"give {channel_option('N')}, N from 0 to {count - 1}, to detect one"


@dataclass(frozen=True)
class ChannelAxis:
    """The channels of an image file: its axes without the length-1 ones (as its metadata names them;
    "" when it names none and the last axis is taken for channels), their sizes, and which is the channel axis."""

    axes: str
    shape: tuple[int, ...]
    index: int
    own_index: int  # the channel axis among the file's own axes, length-1 ones included
    alpha: bool = False  # its last sample is opacity (a TIFF's extrasamples say so): no channel to choose

    @property
    def count(self) -> int:
        return self.shape[self.index] - self.alpha

    @property
    def alpha_note(self) -> str:
        """Said where a channel is refused, as a PNG's alpha is (_picture_channel); "" without alpha."""
        return " (RGBA: its alpha channel, the opacity, is no part of the image)" if self.alpha else ""

    @property
    def other_axes(self) -> str:
        """The axes left once one channel is chosen ("" for unnamed ones)."""
        return self.axes[:self.index] + self.axes[self.index + 1:]

    def refusal(self, path: Path) -> str:
        """Why ``path`` is not read without a channel chosen, and how to choose one (one line)."""
        choose = choose_channel(self.count)
        size = "x".join(map(str, self.shape))
        if not self.axes:
            return (f"{path}: shape {size} looks like {self.count} channels on its last axis (its metadata names no "
                    f"axes); {choose}")
        if self.axes[self.index] == "S":  # the samples of a colour pixel: as the RGB(A) arrays are refused
            # Another program's RGB planes (tifffile's own are read as frames: _planes_are_frames) may be frames
            # too: --axes naming every axis reads them so.
            planes, every = "", self.shape[self.index]  # as frames or slices, alpha's plane is one of them
            if self.axes == "SYX":
                planes = f", or --axes TYX if its {every} planes are frames"
            elif len(self.axes) == 4 and self.axes.endswith("SYX"):  # a page sequence (I, Q) of them
                planes = f", or --axes TZYX if its planes are volumes of {every} slices"
            samples = (f"{self.count} colours and alpha per pixel" if self.alpha
                       else f"{self.count} samples per pixel")
            return (f"{path}: looks like an {'RGBA' if self.alpha else 'RGB(A)'} image (axes {self.axes}, shape "
                    f"{size}: {samples}); convert it to greyscale first, or {choose}{planes}")
        return (f"{path}: its metadata names axes {self.axes} (shape {size}): {self.count} channels, and detection "
                f"reads one; {choose}")

    def named_by(self, axes: str | None) -> bool:
        """Whether ``axes`` (``--axes``) name every axis of the file, its channel axis among them: the file is
        then read as they say (a planar RGB TIFF's planes as frames), not one channel at a time."""
        return axes is not None and len(axes) == len(self.shape)

    def checked(self, path: Path, channel: int | None) -> int:
        """``channel`` as an index along the channel axis, or one ParticleDetectError: none chosen, or out of range."""
        if channel is None:
            raise ParticleDetectError(self.refusal(path))
        if not 0 <= channel < self.count:
            raise ParticleDetectError(f"{path}: {channel_option(channel)}, but it has {self.count} channels "
                                      f"(0-{self.count - 1}){self.alpha_note}")
        return int(channel)


def check_channel_number(channel: object) -> int | None:
    """``channel`` as given (None: none chosen), or a TypeError where it is no whole number."""
    if channel is None:
        return None
    if isinstance(channel, bool) or not isinstance(channel, (int, np.integer)):
        raise TypeError(f"channel must be a whole number (0 for the first) or None, got {type(channel).__name__} "
                        f"{channel!r:.40}")
    return int(channel)


def no_pixel_data(path: Path) -> ParticleDetectError:
    """The refusal of a file that holds no image (a corrupt TIFF's pages cannot be found)."""
    return ParticleDetectError(f"{path}: cannot read image (no pixel data)")


def no_channels(path: Path, channel: int, shape: tuple[int, ...]) -> ParticleDetectError:
    """The refusal of ``--channel`` for a file with one channel."""
    # "it": the choice named just before in both spellings, so a Python caller and the command line each read
    # their own (it said "leave out channel= (--channel)", a keyword no call spells).
    return ParticleDetectError(f"{path}: {channel_option(channel)}, but it has no channels (shape "
                               f"{'x'.join(map(str, shape))}); leave it out")


def chosen_channel(path: Path, channels: ChannelAxis | None, channel: int | None, axes: str | None,
                   shape: tuple[int, ...]) -> tuple[ChannelAxis | None, int | None]:
    """The channel axis of a file (``channels``, of ``shape``) to read and the index along it: (None, None) for a
    file of one channel, or one whose every axis ``axes`` (``--axes``) name (read as they say: ChannelAxis.named_by).
    One ParticleDetectError where no ``channel`` is chosen of several, it is out of range, or the file has one."""
    if channels is not None and channel is None and channels.named_by(axes):
        return None, None
    if channels is None:
        if channel is not None:
            raise no_channels(path, channel, tuple(n for n in shape if n != 1))
        return None, None
    return channels, channels.checked(path, channel)


def channel_axis(path: Path, axes: str, shape: tuple[int, ...]) -> ChannelAxis | None:
    """The channels of an image whose metadata gives it ``axes`` (one letter per axis of ``shape``; Q where it
    names none): an axis named C (channels) or S (the samples of each pixel: RGB, interleaved or planar, as
    the file's photometric tag says), or, where it names none of its axes, a last axis of 2-4 after two of
    image size; None when it has one channel."""
    own = [i for i, (a, n) in enumerate(zip(axes.upper(), shape)) if n != 1 or a in "YX"]
    axes, shape = "".join(axes.upper()[i] for i in own), tuple(int(shape[i]) for i in own)
    named = [i for i, a in enumerate(axes) if a in "CS"]
    if len(named) > 1:
        raise ParticleDetectError(f"{path}: its axes {axes} hold channels along {len(named)} axes; save one channel "
                                  "per file")
    if named:
        return ChannelAxis(axes, shape, named[0], own[named[0]])
    if axes not in AXES_CHOICES and len(shape) in (3, 4) and shape[-1] in GUESSED_CHANNELS and min(shape[-3:-1]) >= 8:
        return ChannelAxis("", shape, len(shape) - 1, own[-1])
    return None


def tiff_channel_axis(path: Path, tif, channel: int | None = None) -> ChannelAxis | None:
    """The channels of an open TIFF's image (:func:`channel_axis` of tifffile's axis letters, from ImageJ, OME
    or the TIFF tags). Files of several series (pages saved one by one) are frames of one stack. tifffile's
    own RGB planes are channels only when a ``channel`` is chosen (:func:`_planes_are_frames`)."""
    if len(tif.series) != 1:
        return None
    series = tif.series[0]
    found = channel_axis(path, series.axes, tuple(series.shape))
    if found is not None and channel is None and _planes_are_frames(tif, found.axes, found.index):
        return None
    if found is not None and found.count == 4 and _last_sample_is_alpha(tif, found):  # RGBA
        return replace(found, alpha=True)
    return found


def _last_sample_is_alpha(tif, channels: ChannelAxis) -> bool:
    """Whether the ``channels`` of an open TIFF are its pixels' samples (S) and its first page's extrasamples mark
    the last one as opacity (associated or unassociated alpha), as tifffile writes an RGBA image."""
    import tifffile

    if channels.axes[channels.index:channels.index + 1] != "S" or not tif.pages:
        return False
    extra = getattr(tif.pages[0], "extrasamples", ()) or ()
    opacity = (tifffile.EXTRASAMPLE.ASSOCALPHA, tifffile.EXTRASAMPLE.UNASSALPHA)
    return bool(extra) and extra[-1] in opacity


def _planes_are_frames(tif, axes: str, index: int) -> bool:
    """Whether a TIFF's channel axis (at ``index`` of ``axes``) is read as frames, not colours: RGB planes (S,
    not interleaved) of a file tifffile wrote (its shape description), as it writes every stack of 3 or 4
    frames unless told photometric="minisblack" (this package's own sample stacks among them); the two are
    the same bytes. Another program's RGB planes are colours."""
    return axes[index:index + 1] == "S" and index != len(axes) - 1 and bool(tif.is_shaped)


def _open_lazy_channel(path: Path, tif, channels: ChannelAxis, channel: int) -> LazyTiffStack | np.ndarray | None:
    """One channel of the open TIFF read page by page: a LazyTiffStack for a stack, the one frame for a single
    image; None where the pages do not map onto frames (the caller reads the whole file)."""
    series = tif.series[0]
    shape, page_shape = tuple(series.shape), tuple(tif.pages[0].shape)
    paged = len(shape) - len(page_shape)  # the leading axes: one page for each combination of them
    if paged < 0 or shape[paged:] != page_shape or len(tif.pages) != int(np.prod(shape[:paged])):
        return None
    axis = channels.own_index
    others = [i for i in range(paged) if i != axis and shape[i] != 1]
    if len(others) > 1:
        return None  # more than a stack once the channel is chosen: read whole, and refused for its shape
    frames = shape[others[0]] if others else 1
    if axis < paged:  # the channels are pages (ImageJ, OME): frame t is the page of (t, channel)
        pages = [int(np.ravel_multi_index(tuple(channel if i == axis else t if others and i == others[0] else 0
                                                for i in range(paged)), shape[:paged])) for t in range(frames)]
        frame_shape, sample = page_shape, None
    else:  # the channels are each page's samples (RGB): every page is a frame, cut to its channel
        pages = list(range(len(tif.pages)))
        sample = tuple(channel if i == axis - paged else slice(None) for i in range(len(page_shape)))
        frame_shape = tuple(n for i, n in enumerate(page_shape) if i != axis - paged)
    if len(frame_shape) != 2:
        return None
    stack = LazyTiffStack(path, tif, len(pages), frame_shape, series.dtype, pages, sample)
    if len(pages) > 1:
        return stack
    single = stack[0]  # one image: read now, as any 2D image is
    stack.close()
    return single


def _tiff_pixels(path: Path, tif) -> np.ndarray:
    """The TIFF's one image or stack; pages saved one by one (several series) are stacked when they agree."""
    series = list(tif.series)
    if len(series) <= 1:
        return tif.asarray()
    shapes = [tuple(s.shape) for s in series]
    if len(set(shapes)) > 1:
        listed = ", ".join("x".join(map(str, shape)) for shape in shapes[:4]) + (", ..." if len(shapes) > 4 else "")
        raise ParticleDetectError(f"{path}: its {len(shapes)} images differ in shape ({listed}); "
                                  "save the frames as one stack of equal size")
    return np.stack([s.asarray() for s in series])


def check_not_empty(path: Path) -> None:
    """One ParticleDetectError for a file of 0 bytes (a copy or transfer that never started): tifffile
    calls it "not a TIFF file: header=b''", which reads as a file of another format."""
    if path.is_file() and path.stat().st_size == 0:  # a missing one: the reader's "file not found" says so
        raise ParticleDetectError(f"{path}: empty file (0 bytes)")


def _read_tiff(path: Path, lazy: bool, channel: int | None = None,
               axes: str | None = None, frames: str | None = None) -> np.ndarray | LazyTiffStack:
    """The TIFF, checked whole first; with ``lazy`` a LazyTiffStack (left open) where pages are frames.
    A file of several channels is read one channel at a time: ``channel``, else one ParticleDetectError
    (unless ``axes`` name every axis of it: ChannelAxis.named_by). A stack cut short is read lazily only where
    the ``frames`` asked for are all whole (:func:`_open_cut_stack`), else refused."""
    import tifffile

    check_not_empty(path)
    tif = tifffile.TiffFile(path)
    try:
        cut = tiff_cut_short(path, tif)
        if cut is not None and not lazy:  # an array holds no frame it cannot read
            raise ParticleDetectError(cut.refusal())
        if cut is not None:
            return _open_cut_stack(tif, cut, frames, channel)
        if not tif.series:  # no image in it (a corrupt file): said so, not as a file without channels
            raise no_pixel_data(path)
        channels, channel = chosen_channel(path, tiff_channel_axis(path, tif, channel), channel, axes,
                                           tuple(tif.series[0].shape))
        if channels is not None:
            stack = _open_lazy_channel(path, tif, channels, channel) if lazy else None
        else:
            stack = _open_lazy_tiff(path, tif) if lazy else None
    except BaseException:
        tif.close()
        raise
    if isinstance(stack, np.ndarray):  # the one frame of a channel: read already
        return stack
    if stack is not None:
        return stack  # reads its frames from the open file
    with tif:
        data = _tiff_pixels(path, tif)
    if channels is None:
        return data
    return np.take(np.asarray(data).reshape(channels.shape), channel, axis=channels.index)


@dataclass(frozen=True)
class CutShort:
    """A TIFF cut short (a copy or a write that stopped): its first ``readable`` frames whole, of the ``said`` ones
    its metadata promises (None where it says nothing)."""

    path: Path
    readable: int
    said: int | None

    @property
    def frames(self) -> int:
        """The stack's length as read: the frames the file says, else one past the readable ones (its chain of
        pages goes on past them: at least one more frame was written)."""
        return self.said if self.said is not None and self.said > self.readable else self.readable + 1

    @property
    def words(self) -> str:
        """Why a frame past the readable ones cannot be read."""
        of = f" of {self.said}" if self.said is not None and self.said > self.readable else ""
        rest = "" if of else ", the rest of the file is missing"
        frames = "frame" if self.readable == 1 and not of else "frames"  # "only 1 of 3 frames", "only 1 frame"
        return f"the file is cut short: only {self.readable}{of} {frames} readable{rest}"

    def refusal(self) -> str:
        said, readable = self.said, self.readable
        if said == 1 and readable == 0:  # "the file says 1 frame, only 0 readable" of a single image
            return f"{self.path}: corrupt or truncated: the file is cut short inside its one image"
        if said is not None and said > readable:
            return (f"{self.path}: corrupt or truncated: the file says {said} frame{'s' * (said > 1)}, only {readable} "
                    "readable")
        return (f"{self.path}: corrupt or truncated: only {readable} frame{'s' * (readable != 1)} readable, the rest "
                "of the file is missing")

    def check_asked(self, frames: str | None) -> None:
        """Nothing where ``frames`` (a --frames range, None for every frame) are all readable; else the refusal,
        naming the frames that can be detected. A whole run is refused: a table of the readable frames alone
        would pass for the whole stack's."""
        from .frame_ranges import frames_in_range

        if frames is not None and self.readable:
            try:
                asked = frames_in_range(frames, self.frames, self.path)
            except ParticleDetectError:
                if self.said is not None:
                    raise
                asked = [self.readable]  # past the frames known: missing, not past the end of a file of unknown length
            if all(frame < self.readable for frame in asked):
                return
        last = self.readable - 1
        readable = "frame 0" if last == 0 else f"frames 0-{last}"
        hint = f"; {readable} can be detected alone (--frames 0:{self.readable})" if self.readable else ""
        raise ParticleDetectError(self.refusal() + hint)


def _open_cut_stack(tif, cut: CutShort, frames: str | None, channel: int | None) -> LazyTiffStack:
    """A LazyTiffStack of the TIFF ``tif`` cut short at its stated length, where ``frames`` (a --frames range) are
    all whole and its pages are frames of one plain stack (:func:`cut_stack_layout`); else its refusal."""
    cut.check_asked(frames)
    layout = cut_stack_layout(tif)
    if layout is None or channel is not None:  # channels or volumes: its metadata may place pages otherwise
        raise ParticleDetectError(cut.refusal())
    frame_shape, dtype = layout
    return LazyTiffStack(cut.path, tif, cut.frames, frame_shape, dtype, cut=cut)


def cut_stack_layout(tif) -> tuple[tuple[int, int], np.dtype] | None:
    """(frame shape, dtype) of a TIFF cut short whose pages are the 2D frames of one plain stack (no channels, no
    volume, by its ImageJ or tifffile metadata; not OME, whose pages may be any axes); else None."""
    first = tif.pages[0]
    if len(first.shape) != 2 or tif.is_ome:
        return None
    if any(tuple(page.shape) != tuple(first.shape) or page.dtype != first.dtype for page in tif.pages):
        return None
    meta = (tif.imagej_metadata or {}) if tif.is_imagej else {}
    if int(meta.get("channels", 1)) > 1 or (int(meta.get("slices", 1)) > 1 and "frames" in meta):
        return None
    described = (tif.shaped_metadata or ()) if tif.is_shaped else ()
    for description in described:
        shape, named = list(description.get("shape", ())), str(description.get("axes", ""))
        if len(shape) > 3 or set(named.upper()) & set("CSZ"):
            return None
    return tuple(first.shape), first.dtype


def check_tiff_complete(path: Path, tif) -> None:
    """One ParticleDetectError when the open TIFF ``tif`` is cut short (:func:`tiff_cut_short`)."""
    cut = tiff_cut_short(path, tif)
    if cut is not None:
        raise ParticleDetectError(cut.refusal())


def tiff_cut_short(path: Path, tif) -> CutShort | None:
    """How the open TIFF ``tif`` is cut short (a copy or a write that stopped): its last page links to a page
    beyond the end of the file, or its pixels run past the end; None for a whole file. tifffile only logs these
    (which we keep quiet) and reads what is left, so a truncated stack would otherwise be read as its first frame
    or few. A valid file of no pixels (a 0x0 image, a stack of 0 frames) is one ParticleDetectError saying so: its
    page's empty pixels start past its end, which reads as a cut file."""
    pages = len(tif.pages)
    if not pages:
        return None  # not even one page: no stack cut short, a broken file (the reader says so)
    if not np.prod(tif.pages[0].shape):
        shape = tif.series[0].shape if tif.series else tif.pages[0].shape
        raise ParticleDetectError(f"{path}: holds no pixels (an empty image of shape {'x'.join(map(str, shape))}); "
                                  "nothing to read")
    size = tif.filehandle.size
    last_cut = _data_end(tif.pages[-1]) > size
    series = tif.series[0] if tif.series else None
    contiguous_cut = (series is not None and series.dataoffset is not None
                      and series.dataoffset + series.nbytes > size)
    if not (_links_past_end(tif, size) or last_cut or contiguous_cut):
        return None
    return CutShort(Path(path), pages - (1 if last_cut else 0), _frames_said(tif))


def _data_end(page) -> int:
    """Where a page's pixels end in the file (0 for a page without any)."""
    return max((o + n for o, n in zip(page.dataoffsets, page.databytecounts)), default=0)


def _links_past_end(tif, size: int) -> bool:
    """Whether the last page tifffile found points on to another (a complete file ends its chain with 0):
    tifffile stops at a link beyond the end of the file, or at a page it cannot parse."""
    import struct

    where = tif.pages.next_page_offset
    if where is None:
        return False
    handle, width = tif.filehandle, tif.tiff.offsetsize
    if where + width > size:
        return True
    handle.seek(where)
    return struct.unpack(tif.tiff.offsetformat, handle.read(width))[0] != 0


def _frames_said(tif) -> int | None:
    """The frames the file's own metadata promises (ImageJ's image count, or the shape tifffile wrote
    for its one series); None when it says nothing."""
    if tif.is_imagej and tif.imagej_metadata and tif.imagej_metadata.get("images"):
        return int(tif.imagej_metadata["images"])
    described = tif.shaped_metadata if tif.is_shaped else None
    if described and len(described) == 1 and described[0].get("shape") and tif.pages:
        shape = [int(n) for n in described[0]["shape"]]
        page = int(np.prod(tif.pages[0].shape))
        return int(np.prod(shape)) // page if page else None
    return None


def _picture_channel(path: Path, data: np.ndarray, channel: int | None) -> np.ndarray:
    """A PNG's or JPEG's grey pixels: its ``channel`` (a colour one's refused without one), or grey + alpha's
    grey (PNG mode LA). An alpha channel is no part of the image: it is never a channel to choose."""
    data = np.asarray(data)
    mode = _picture_mode(path, data)
    if mode in ALPHA_MODES:
        data = data[..., :-1]  # LA keeps its grey as channel 0: --channel 0 read it, as it reads RGBA's red
    colour = data.ndim == 3 and data.shape[-1] in (2, 3, 4)
    if channel is not None:
        alpha = f" ({mode}: its alpha channel, the opacity, is no part of the image)" if mode in ALPHA_MODES else ""
        if data.ndim != 3:
            raise ParticleDetectError(f"{no_channels(path, channel, data.shape)}{alpha}")
        count = data.shape[-1]
        if not 0 <= channel < count:
            raise ParticleDetectError(f"{path}: {channel_option(channel)}, but it has {count} "
                                      f"channel{'s' * (count > 1)} (0-{count - 1}){alpha}")
        return data[..., channel]
    if mode == "LA":
        return data[..., 0]
    if colour:
        raise ParticleDetectError(f"{path}: colour ({mode}) image; convert it to greyscale first, or "
                                  f"{choose_channel(data.shape[-1])}")
    return data


def _picture_mode(path: Path, data: np.ndarray) -> str:
    """The colour mode of a picture read as ``data``, as the user knows it: LA or RGBA where its last channel is
    alpha, CMYK (four colours: a print JPEG's), else RGB for colour (a palette PNG is read as RGB) and L for grey."""
    channels = data.shape[-1] if data.ndim == 3 else 1
    if channels == 2:
        return "LA"
    if channels == 4:
        from PIL import Image

        with Image.open(path) as image:
            return "CMYK" if image.mode == "CMYK" else "RGBA"
    return "RGB" if channels == 3 else "L"


def _read_picture(path: Path, suffix: str) -> np.ndarray:
    """A PNG or JPEG (through imageio's Pillow plugin); a file it cannot read is one line naming the format
    its suffix promises (imageio's own message, when no plugin claims the file, suggests installing video
    readers)."""
    import imageio.v3 as iio

    try:
        return iio.imread(path, plugin="pillow")
    except Exception as exc:  # noqa: BLE001 - broken files raise many types
        raise ParticleDetectError(f"{path}: not a readable {PICTURE_FORMATS[suffix]} file "
                                  f"({_picture_problem(path, suffix, exc)})") from None


def _picture_problem(path: Path, suffix: str, failure: Exception) -> str:
    """What is wrong with a picture file, as Pillow says it (imageio's wrapper says only that it failed)."""
    from PIL import Image, UnidentifiedImageError

    if path.stat().st_size == 0:
        return "empty file"
    try:
        with Image.open(path) as image:
            image.load()
    except UnidentifiedImageError:
        return f"its contents are not {PICTURE_FORMATS[suffix]} data"
    except Exception as exc:  # noqa: BLE001 - Pillow's reason, whatever its type
        failure = exc
    text = " ".join(str(failure).split())[:200]
    return f"{type(failure).__name__}{': ' + text if text else ''}"


def accepted_formats() -> str:
    """The image files read_image reads, each with its suffixes: 'TIFF (.tif, .tiff), PNG (.png), ...'."""
    suffixes: dict[str, list[str]] = {}
    for suffix, name in IMAGE_FORMATS.items():
        suffixes.setdefault(name, []).append(suffix)
    named = [f"{name} ({', '.join(found)})" for name, found in suffixes.items()]
    return ", ".join(named[:-1]) + f" or {named[-1]}"


def read_image(path: str | Path, lazy: bool = False, channel: int | None = None,
               axes: str | None = None, frames: str | None = None) -> np.ndarray | LazyTiffStack | ZarrStack:
    """A 2D image or a T/Z stack; every failure is one clear ParticleDetectError.

    With ``lazy``, a multi-page TIFF stack comes back as a :class:`LazyTiffStack` and a zarr or
    OME-Zarr folder (``.zarr``) as a :class:`ZarrStack`, both reading frames on demand (long stacks
    in bounded memory); everything else is read whole.

    A file of several channels (a C axis in its ImageJ, OME or OME-Zarr metadata, RGB samples, interleaved
    or planar, a last axis of 2-4 in a TIFF or zarr whose metadata names no axes, a colour PNG) is read one
    channel at a time: ``channel`` (0 for the first), else one ParticleDetectError naming its axes and
    channels; never as frames, unless ``axes`` (``--axes``, "TYX") name as many axes as the file has, its
    channel axis among them. tifffile's own RGB planes are frames unless a ``channel`` is chosen (it writes a
    stack of 3 or 4 frames so unless told photometric="minisblack"). ``channel`` for a file of one channel is
    refused too.

    A TIFF stack cut short (a copy or a write that stopped) is refused, but read lazily where ``frames`` (a
    --frames range: those to be detected) are all whole: a LazyTiffStack of the frames the file says it holds (one
    past the readable ones where it says nothing), each missing one an :class:`UnreadableFrameError`.
    """
    path = Path(path)
    channel = check_channel_number(channel)
    if not path.exists():
        raise ParticleDetectError(f"{path}: file not found")
    if is_zarr(path):
        stack = open_zarr(path, channel, axes)
        return stack if lazy else np.asarray(stack)
    if path.is_dir():
        if path.suffix.lower() == ZARR_SUFFIX:
            raise ParticleDetectError(f"{path}: a .zarr folder with no zarr metadata ({', '.join(ZARR_STORE_FILES)}): "
                                      "an empty or unfinished zarr store")
        raise ParticleDetectError(f"{path}: is a folder, not an image")
    suffix = path.suffix.lower()
    try:
        with _quiet_tifffile():
            if suffix in TIFF_SUFFIXES:
                data = _read_tiff(path, lazy, channel, axes, frames)
                if isinstance(data, LazyTiffStack):
                    return data
            elif suffix in PICTURE_FORMATS:
                data = _picture_channel(path, _read_picture(path, suffix), channel)
            else:
                raise ParticleDetectError(f"{path}: unsupported file type {suffix!r}; use {accepted_formats()}")
    except ParticleDetectError:
        raise
    except Exception as exc:  # tifffile/imageio raise many types on corrupt files
        raise ParticleDetectError(f"{path}: cannot read image ({type(exc).__name__}: {exc})") from None
    data = np.asarray(data)
    if data.size == 0:
        raise no_pixel_data(path)
    if data.ndim > 2:
        # Never below 2D: a (1, 1, 128) file is the (1, 128) image a (1, 128) file is, and is refused alike
        # (too small) where it is detected, not as "no image".
        squeezed = np.squeeze(data)
        data = squeezed if squeezed.ndim >= 2 else squeezed.reshape((1,) * (2 - squeezed.ndim) + squeezed.shape)
    if data.ndim not in (2, 3):
        raise ParticleDetectError(f"{path}: expected a 2D image or a 3D stack, got shape {data.shape}")
    return data


def read_csv_table(path: str | Path, expected: str) -> pd.DataFrame:
    """A CSV as a table, or one ParticleDetectError naming the file (``expected``: the header it should have)."""
    path = Path(path)
    if not path.exists():
        raise ParticleDetectError(f"{path}: file not found")
    if path.is_dir():  # most often the folder of per-file tables that detect on a folder writes
        raise ParticleDetectError(f"{path}: a folder; give one CSV (detect FILES -o ONE.csv writes one table of "
                                  "several files)")
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ParticleDetectError(f"{path}: empty file (expected a header with {expected})") from None
    except UnicodeDecodeError:
        # Not read as Latin-1 instead: any bytes pass as Latin-1, so a file column's names in another code page
        # would be read wrong and pair with no image or truth, unsaid.
        raise ParticleDetectError(f"{path}: not UTF-8 text{_first_non_utf8(path)}; save it as UTF-8 (CSV UTF-8 in "
                                  "Excel)") from None
    except Exception as exc:  # noqa: BLE001 - any parser failure is one line about this file
        # pandas' parser messages span lines ("Error tokenizing data. C error: ...\n"); ours is one line.
        text = " ".join(str(exc).split())[:200]
        raise ParticleDetectError(f"{path}: cannot read CSV ({type(exc).__name__}: {text})") from None


def _first_non_utf8(path: Path) -> str:
    """Where ``path``'s first byte that is no UTF-8 lies, as " (byte 0xB5 on line 1)", to find it by; "" where the
    file cannot be read again."""
    try:
        raw = path.read_bytes()
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:  # its start counts from the file's first byte, not from pandas' chunk's
        line = raw.count(b"\n", 0, exc.start) + 1
        return f" (byte 0x{raw[exc.start]:02X} on line {line})"
    except OSError:
        pass
    return ""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, writer: Callable[[BinaryIO], object], sync: bool = True) -> Path:
    """Let ``writer`` fill a temporary file beside ``path``, then rename it over: all or nothing. ``sync``
    (default): on disk before this returns, so the rename survives a power cut (a copy kept only against
    later damage, as a project's state.json.bak, need not wait for the disk)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:  # name the file the user asked for, not our temporary beside it
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            writer(handle)
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        # mkstemp makes owner-only files; give the result the permissions a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename in (tmp, None) and exc.errno is not None:
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None  # the user's name, not tmp's
        raise
    if sync:
        fsync_directory(path.parent)  # the rename itself survives a power cut only once its folder is synced
    return path


# A temporary untouched this long is a killed writer's: a live one was made, written or linked moments ago.
STALE_TEMPORARY_S = 5 * 60


def remove_stale_temporaries(files: Iterable[str | Path]) -> list[Path]:
    """Delete the temporaries that a writer killed mid-write left beside ``files`` (an output, its metadata,
    its side tables), as :func:`atomic_write_bytes` and :func:`atomic_write_texts` name them; the paths
    removed. Only those of exactly these files (``a.csv``'s, not ``a.1.csv``'s) and untouched for
    ``STALE_TEMPORARY_S``: another process writing the same file now has a fresh one."""
    removed = []
    cutoff = time.time() - STALE_TEMPORARY_S
    for path in map(Path, files):
        # mkstemp's random part has no dot, so this is the file's own and no other file's temporary.
        own = re.compile(rf"\.{re.escape(path.name)}\.[^.]+(\.old)?\.tmp")
        for leftover in sorted(path.parent.glob(f".{glob.escape(path.name)}.*.tmp")):
            try:
                status = leftover.lstat()
            except OSError:  # gone meanwhile: its writer finished
                continue
            # ctime, not just mtime: a hard link kept to put an old table back keeps that table's mtime.
            touched = max(status.st_mtime, status.st_ctime)
            if own.fullmatch(leftover.name) and stat.S_ISREG(status.st_mode) and touched < cutoff:
                leftover.unlink(missing_ok=True)
                removed.append(leftover)
    return removed


def fsync_directory(folder: str | Path) -> None:
    """Flush a folder's entries (renames, new files) to disk; a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on folders; the file itself is already synced
    finally:
        os.close(fd)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) atomically: readers see the old file or the new one, never a part."""
    data = text.encode("utf-8")
    return atomic_write_bytes(path, lambda handle: handle.write(data))


def atomic_write_texts(texts: dict[str | Path, str]) -> list[Path]:
    """Write several files (path: UTF-8 text) all or nothing: a table and the tables beside it that are
    made from it (a chains table and its per-chain summary) are never left one new and one old.

    Every file is written in full to a temporary beside its target first; only then are they moved
    over their targets. A failure while writing leaves every target as it was; one while moving (rare:
    the temporaries are beside the targets) puts back the files already replaced from hard links (or
    copies) kept of them, and removes those that did not exist before."""
    written: list[tuple[Path, str]] = []
    try:
        for path, text in texts.items():
            path, data = Path(path), text.encode("utf-8")
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            written.append((path, tmp))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o666 & ~_umask())
        _replace_all(written)
    finally:
        for _, tmp in written:
            if os.path.exists(tmp):
                os.unlink(tmp)
    for folder in dict.fromkeys(path.parent for path, _ in written):
        fsync_directory(folder)
    return [path for path, _ in written]


def _replace_all(written: list[tuple[Path, str]]) -> None:
    """Move each temporary over its target; on a failure, the targets moved already as they were."""
    kept: list[tuple[Path, str | None]] = []  # (target, its old contents' hard link or copy; None: no file)
    try:
        for path, tmp in written:
            old = None
            if path.exists():
                fd, old = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old.tmp")
                os.close(fd)
                os.unlink(old)
                try:
                    os.link(path, old)
                except OSError:  # a filesystem without hard links
                    shutil.copy2(path, old)
            kept.append((path, old))
            os.replace(tmp, path)
    except BaseException:
        for path, old in reversed(kept):
            try:
                if old is not None:
                    os.replace(old, path)
                elif path.exists():
                    path.unlink()
            except OSError:
                pass  # the first failure is the one to report
        raise
    finally:
        for _, old in kept:
            if old is not None and os.path.exists(old):
                os.unlink(old)


def save_figure(fig, path: str | Path, **kwargs) -> Path:
    """Save a matplotlib figure atomically, in the format its suffix names (PNG without one)."""
    path = Path(path)
    kind = path.suffix.lower().lstrip(".") or "png"
    return atomic_write_bytes(path, lambda handle: fig.savefig(handle, format=kind, **kwargs))


@contextmanager
def staged_folder(folder: str | Path) -> Iterator[Path]:
    """Fill a private folder beside ``folder``; when the block ends well its files move into ``folder``
    (made if needed), else nothing is left: no partial file, no empty folder."""
    folder = Path(folder)
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name[:200]}.", suffix=".tmp"))
    try:
        yield staging
        if not folder.exists():
            os.rename(staging, folder)  # all files appear at once
        else:
            for path in sorted(staging.iterdir()):
                os.replace(path, folder / path.name)
        fsync_directory(folder.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for path in missing[1:]:  # parents this call made; the folder itself was never made
            try:
                path.rmdir()
            except OSError:
                break
        raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


# A zarr stack whose chunks hold several frames keeps the frames of the chunk last read, decoded, where they take
# this many bytes or fewer: read a frame at a time, each frame decoded its whole chunk again (64 frames of 512 px
# in chunks of 32: 17 ms a frame, against 1.3 ms each read together). Larger chunks are read frame by frame. Kept
# small, as the README's bounded memory asks: the block lives as long as the stack (a napari layer's data, each
# --workers process's input), and 512 MiB of it each was more than the frames detection holds.
FRAME_BLOCK_BYTES = 64 * 2**20


class ZarrStack:
    """A zarr array read one frame (its chunks only) at a time, with any length-1 axes left out
    (OME-Zarr's t, c, z axes of one plane), so it looks like a 2D image or a T/Z stack. ``channel``: the
    index read along the array's axis ``channel_axis`` (one channel of several), which is left out too.
    A frame that cannot be read (a garbled chunk) is an :class:`UnreadableFrameError`, the others still read."""

    def __init__(self, path: Path, array, channel_axis: int | None = None, channel: int = 0) -> None:
        self.path = path
        self._array = array
        self._fixed = {} if channel_axis is None else {channel_axis: int(channel)}
        free = [i for i in range(len(array.shape)) if i not in self._fixed]
        sized = [i for i in free if array.shape[i] != 1]
        # Never below 2D, as read_image keeps a TIFF: a (1, 1, 128) array is the too small (1, 128) image.
        unit = [i for i in free if i not in sized]
        self._kept = sized[-3:] if len(sized) >= 2 else sorted(sized + unit[len(sized) - 2:])
        if len(self._kept) < 2 or any(array.shape[i] != 1 for i in free if i not in self._kept):
            # Four axes are what a time series of volumes has, as a 4D TIFF's refusal says (axes.axes_hint).
            hint = ": give --axes TZYX if it is a time series of volumes" if len(sized) == 4 else ""
            raise ParticleDetectError(f"{path}: expected a 2D image or a 3D stack, got zarr shape {array.shape}{hint}")
        self.shape = tuple(int(array.shape[i]) for i in self._kept)
        self.ndim = len(self.shape)
        self.dtype = np.dtype(array.dtype)
        self._block_frames = self._frames_per_chunk()
        self._block: tuple[int, np.ndarray] | None = None  # (its first frame, the frames of the chunk last read)
        self._block_lock = threading.Lock()  # napari's canvas and a detection may read frames from two threads

    def _frames_per_chunk(self) -> int:
        """How many frames a chunk of the array holds along the stack's first axis, where they are kept together
        (FRAME_BLOCK_BYTES); 1 otherwise, and for a 2D image."""
        chunks = getattr(self._array, "chunks", None)
        if self.ndim != 3 or not chunks:
            return 1
        frames = min(int(chunks[self._kept[0]]), self.shape[0])
        return frames if frames * int(np.prod(self.shape[1:])) * self.dtype.itemsize <= FRAME_BLOCK_BYTES else 1

    def close(self) -> None:
        """Nothing to close (zarr reads each chunk's file as it needs it), but the frames kept decoded are let go;
        here so that a lazy stack of either kind can be closed, or used in a ``with`` block, alike
        (:class:`LazyTiffStack`)."""
        self._block = None

    def __enter__(self) -> ZarrStack:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __len__(self) -> int:
        return self.shape[0]

    def _full_index(self, index) -> tuple:
        full = [0] * len(self._array.shape)
        for axis, part in (*self._fixed.items(), *zip(self._kept, index)):
            full[axis] = part
        return tuple(full)

    def __getitem__(self, index) -> np.ndarray:
        index = index if isinstance(index, tuple) else (index,)
        index = index + (slice(None),) * (self.ndim - len(index))
        first = index[0]
        frame = self.ndim == 3 and is_index_integer(first) and -len(self) <= first < len(self)
        if frame and self._block_frames > 1:
            return self._frame(int(first) % len(self))[index[1:]]
        try:
            return np.asarray(self._array[self._full_index(index)])
        except Exception as exc:  # codecs and stores raise many types on corrupt chunks
            if frame:
                raise UnreadableFrameError(self.path, int(first) % len(self), exc) from None
            raise ParticleDetectError(f"{self.path}: cannot read zarr data ({type(exc).__name__}: {exc})") from None

    def _frame(self, frame: int) -> np.ndarray:
        """Frame ``frame``, a copy the caller may change, its chunk's frames decoded together once and kept until
        its last frame is read."""
        start = frame - frame % self._block_frames
        with self._block_lock:
            if self._block is None or self._block[0] != start:
                self._block = None  # the last chunk's frames let go before the next are decoded
                frames = slice(start, min(start + self._block_frames, len(self)))
                try:
                    self._block = start, np.asarray(self._array[self._full_index((frames, slice(None), slice(None)))])
                except Exception as exc:  # noqa: BLE001 - codecs and stores raise many types on corrupt chunks
                    raise UnreadableFrameError(self.path, frame, exc) from None
            block = self._block[1]
            if frame - start == len(block) - 1:
                # Frames are read in order (detection, a movie played): past the chunk's last, its frames are not
                # asked for again soon, and kept they held their memory while the stack lived.
                self._block = None
            return np.array(block[frame - start])

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        data = self[(slice(None),) * self.ndim]
        return data.astype(dtype) if dtype is not None else data


# The files that make a folder a zarr array or group (v2 or v3 metadata).
ZARR_STORE_FILES = (".zarray", ".zgroup", "zarr.json")


def is_zarr(path: Path) -> bool:
    """A folder holding a zarr array or group (v2 or v3 metadata)."""
    return path.is_dir() and any((path / name).exists() for name in ZARR_STORE_FILES)


def open_zarr(path: Path, channel: int | None = None, axes: str | None = None) -> ZarrStack:
    """The full-resolution array of a zarr or OME-Zarr folder, read lazily. One of several channels (an
    OME-Zarr c axis: :func:`zarr_channel_axis`) is read at ``channel``, and refused without one (unless
    ``axes`` name every axis: :func:`chosen_channel`)."""
    node, multiscale = zarr_array(path)
    if not np.issubdtype(np.dtype(node.dtype), np.number) or 0 in node.shape:
        raise ParticleDetectError(f"{path}: cannot read image (zarr array of {node.dtype}, shape {node.shape})")
    channels, channel = chosen_channel(path, zarr_channel_axis(path, node, multiscale), channel, axes,
                                       tuple(node.shape))
    if channels is None:
        return ZarrStack(path, node)
    return ZarrStack(path, node, channels.own_index, channel)


def zarr_array(path: Path) -> tuple[object, dict | None]:
    """The full-resolution array of a zarr or OME-Zarr folder (unread) and its OME-Zarr multiscale (None: a
    plain zarr), or one ParticleDetectError."""
    try:
        import zarr

        node = zarr.open(str(path), mode="r")
        multiscale = None
        if isinstance(node, zarr.Group):
            multiscale = ome_multiscale(dict(node.attrs))
            node = node[_zarr_image_path(path, node, multiscale)]
    except ParticleDetectError:
        raise
    except Exception as exc:
        raise ParticleDetectError(f"{path}: cannot read zarr ({_zarr_problem(path, exc)})") from None
    return node, multiscale


def _zarr_problem(path: Path, failure: Exception) -> str:
    """What is wrong with a zarr store zarr could not open, in words: an empty or garbled metadata file (a
    copy or a write that stopped), of the store or of one of its arrays, said by name, where zarr says only
    "Expecting value: line 1 column 1"; a metadata entry missing, by its key."""
    import json

    try:
        folders = [path, *sorted(p for p in path.iterdir() if p.is_dir())]
    except OSError:  # unreadable: zarr's own words are all there is
        folders = []
    for metadata in (folder / name for folder in folders for name in (*ZARR_STORE_FILES, ".zattrs")):
        if not metadata.is_file():
            continue
        name = metadata.relative_to(path)
        if metadata.stat().st_size == 0:
            return f"its metadata {name} is an empty file (0 bytes): the store was not written whole"
        try:
            json.loads(metadata.read_bytes())
        except ValueError:
            return f"its metadata {name} is not valid JSON: the store was not written whole"
    if isinstance(failure, KeyError):
        return f"its metadata has no {failure} entry"
    return f"{type(failure).__name__}: {failure}"


def ome_multiscale(attrs: dict) -> dict | None:
    """The first multiscale of an OME-Zarr group's attributes (0.4: at the top; 0.5: under "ome"); None for a
    plain zarr group."""
    multiscales = attrs.get("multiscales") or (attrs.get("ome") or {}).get("multiscales")
    return multiscales[0] if multiscales else None


def zarr_axes(multiscale: dict | None, ndim: int) -> str:
    """One letter per axis of an OME-Zarr image: C for its channel axis (typed "channel", or named c), else its
    name (T, Z, Y, X); Q (unknown, as tifffile says) for the axes of a plain zarr, or of names that do not fit."""
    axes = (multiscale or {}).get("axes") or []
    letters = ""
    for axis in axes:  # version 0.3 lists the axes as names; 0.4 on as {"name", "type", "unit"}
        name = str(axis.get("name", "") if isinstance(axis, dict) else axis)
        channel = (isinstance(axis, dict) and axis.get("type") == "channel") or name.lower() == "c"
        letters += "C" if channel else name.upper() if len(name) == 1 else "Q"
    return letters if len(letters) == ndim else "Q" * ndim


def zarr_channel_axis(path: Path, node, multiscale: dict | None) -> ChannelAxis | None:
    """The channels of a zarr image (:func:`channel_axis` of its OME-Zarr axes; a plain zarr names none)."""
    return channel_axis(path, zarr_axes(multiscale, len(node.shape)), tuple(node.shape))


def _zarr_image_path(path: Path, group, multiscale: dict | None) -> str:
    """OME-Zarr: the first (full-resolution) dataset of the first multiscale; else the group's only array."""
    if multiscale:
        datasets = multiscale.get("datasets") if isinstance(multiscale, dict) else None
        first = datasets[0] if isinstance(datasets, list) and datasets else None
        if not isinstance(first, dict) or not isinstance(first.get("path"), str):
            raise ParticleDetectError(f"{path}: its OME-Zarr multiscales name no dataset to read (no "
                                      "datasets[0].path)")
        if first["path"] not in group:
            raise ParticleDetectError(f"{path}: its OME-Zarr multiscales name dataset {first['path']!r}, which "
                                      "it does not hold; the store was not written whole")
        return first["path"]
    arrays = sorted(name for name, _ in group.arrays())
    if len(arrays) != 1:
        raise ParticleDetectError(f"{path}: zarr group with {len(arrays)} arrays and no OME-Zarr multiscales; "
                                  "give the array's folder")
    return arrays[0]


# Names this module held before centre tables and the kinds' columns had modules of their own (files/centre_csv.py,
# kinds/columns.py): still importable from here, loaded when asked for (importing them at the top would bring the
# kinds back into this module's imports, which the kinds' modules import in turn).
_MOVED = {**dict.fromkeys(("read_centres", "write_centres", "COLUMN_ALIASES", "CENTRE_COLUMNS", "KNOWN_COLUMNS"),
                          ".centre_csv"),
          **dict.fromkeys(("POSITIONS", "FIXED_PRECISION"), ".fixed_precision"),
          **dict.fromkeys(("KIND_SIGNATURES", "KIND_COLUMNS", "table_kind"), "..kinds.columns"),
          **dict.fromkeys(("TABLE_COLUMNS", "SAVED_INDEX", "without_saved_index"), ".tables")}


def __getattr__(name: str):
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(_MOVED[name], __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
