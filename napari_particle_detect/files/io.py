"""Reading images and centre tables, writing centre tables atomically."""

from __future__ import annotations

import glob
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from ..errors import ParticleDetectError

IMAGE_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg", ".zarr")
PICTURE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}  # read through Pillow
# Column names other tools use, mapped to ours (napari's Points CSV, trackpy).
COLUMN_ALIASES = {"axis-0": "frame", "axis-1": "y", "axis-2": "x", "mass": "score", "t": "frame", "z": "frame"}


class LazyTiffStack:
    """A multi-page TIFF stack read one frame at a time, so long stacks need one frame of memory.

    It holds the file open until :meth:`close` (or the end of a ``with`` block, or until it is garbage
    collected): ``with read_image(path, lazy=True) as stack: ...``."""

    _tif = None  # set first thing in __init__; here too, so __del__ of a half-made stack closes nothing

    def __init__(self, path: Path, tif, n_frames: int, frame_shape: tuple[int, int], dtype: np.dtype) -> None:
        self.path = path
        self._tif = tif
        self.shape = (n_frames, *frame_shape)
        self.ndim = 3
        self.dtype = dtype

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

    def __getitem__(self, index: int) -> np.ndarray:
        if not isinstance(index, (int, np.integer)):
            return np.stack([self[i] for i in range(len(self))])[index]
        if self._tif is None:
            raise ValueError(f"{self.path}: the stack is closed; read it again with read_image(path, lazy=True)")
        try:
            return self._tif.pages[int(index)].asarray()
        except Exception as exc:
            raise ParticleDetectError(f"{self.path}: cannot read frame {index} ({type(exc).__name__}: {exc})") from None

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        data = np.stack([self[i] for i in range(len(self))])
        return data.astype(dtype) if dtype is not None else data


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


def _read_tiff(path: Path, lazy: bool) -> np.ndarray | LazyTiffStack:
    """The TIFF, checked whole first; with ``lazy`` a LazyTiffStack (left open) where pages are frames."""
    import tifffile

    tif = tifffile.TiffFile(path)
    try:
        check_tiff_complete(path, tif)
        stack = _open_lazy_tiff(path, tif) if lazy else None
    except BaseException:
        tif.close()
        raise
    if stack is not None:
        return stack  # reads its frames from the open file
    with tif:
        return _tiff_pixels(path, tif)


def check_tiff_complete(path: Path, tif) -> None:
    """One ParticleDetectError when the open TIFF ``tif`` is cut short (a copy or a write that stopped):
    its last page links to a page beyond the end of the file, or its pixels run past the end. tifffile
    only logs these (which we keep quiet) and reads what is left, so a truncated stack would otherwise
    be read as its first frame or few."""
    pages = len(tif.pages)
    if not pages:
        return  # not even one page: no stack cut short, a broken file (the reader says so)
    size = tif.filehandle.size
    last_cut = _data_end(tif.pages[-1]) > size
    series = tif.series[0] if tif.series else None
    contiguous_cut = (series is not None and series.dataoffset is not None
                      and series.dataoffset + series.nbytes > size)
    if not (_links_past_end(tif, size) or last_cut or contiguous_cut):
        return
    readable = pages - (1 if last_cut else 0)
    said = _frames_said(tif)
    if said is not None and said > readable:
        raise ParticleDetectError(f"{path}: corrupt or truncated: the file says {said} frame{'s' * (said > 1)}, "
                                  f"only {readable} readable")
    raise ParticleDetectError(f"{path}: corrupt or truncated: only {readable} frame(s) readable, the rest of the "
                              "file is missing")


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


def read_image(path: str | Path, lazy: bool = False) -> np.ndarray | LazyTiffStack | ZarrStack:
    """A 2D image or a T/Z stack; every failure is one clear ParticleDetectError.

    With ``lazy``, a multi-page TIFF stack comes back as a :class:`LazyTiffStack` and a zarr or
    OME-Zarr folder (``.zarr``) as a :class:`ZarrStack`, both reading frames on demand (long stacks
    in bounded memory); everything else is read whole.
    """
    path = Path(path)
    if not path.exists():
        raise ParticleDetectError(f"{path}: file not found")
    if is_zarr(path):
        stack = open_zarr(path)
        return stack if lazy else np.asarray(stack)
    if path.is_dir():
        raise ParticleDetectError(f"{path}: is a folder, not an image")
    suffix = path.suffix.lower()
    try:
        with _quiet_tifffile():
            if suffix in (".tif", ".tiff"):
                data = _read_tiff(path, lazy)
                if isinstance(data, LazyTiffStack):
                    return data
            elif suffix in PICTURE_FORMATS:
                data = _read_picture(path, suffix)
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
    if data.ndim == 3 and data.shape[-1] == 2 and suffix in (".png", ".jpg", ".jpeg"):
        data = data[..., 0]  # grey + alpha (PNG mode LA): the alpha channel is no part of the image
    if data.ndim == 3 and data.shape[-1] in (3, 4) and suffix in (".png", ".jpg", ".jpeg"):
        raise ParticleDetectError(f"{path}: colour (RGB) image; convert it to greyscale first")
    if data.ndim not in (2, 3):
        raise ParticleDetectError(f"{path}: expected a 2D image or a 3D stack, got shape {data.shape}")
    return data


def read_csv_table(path: str | Path, expected: str) -> pd.DataFrame:
    """A CSV as a table, or one ParticleDetectError naming the file (``expected``: the header it should have)."""
    path = Path(path)
    if not path.exists():
        raise ParticleDetectError(f"{path}: file not found")
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ParticleDetectError(f"{path}: empty file (expected a header with {expected})") from None
    except Exception as exc:  # noqa: BLE001 - any parser failure is one line about this file
        # pandas' parser messages span lines ("Error tokenizing data. C error: ...\n"); ours is one line.
        text = " ".join(str(exc).split())[:200]
        raise ParticleDetectError(f"{path}: cannot read CSV ({type(exc).__name__}: {text})") from None


# Columns that make a table one of the other kinds' (kinds/rods.py, kinds/chains.py COLUMNS).
KIND_SIGNATURES = {"rods": ("angle", "length"), "chains": ("chain", "index")}


def table_kind(columns) -> str:
    """rods (angle and length columns), chains (chain and index) or spheres, from a table's columns."""
    names = {str(c).strip() for c in columns}
    return next((kind for kind, needed in KIND_SIGNATURES.items() if set(needed) <= names), "spheres")


def read_centres(path: str | Path, spheres_only: bool = False) -> pd.DataFrame:
    """A centre table with columns ``y, x`` and, where present, ``frame`` and ``score``.

    ``spheres_only``: refuse a rods or chains table (its centres are no sphere centres: a rod's centre
    may lie between two particles), where the caller takes sphere centres and nothing else."""
    path = Path(path)
    table = read_csv_table(path, "y,x columns")
    table = table.rename(columns={c: str(c).strip() for c in table.columns})
    kind = table_kind(table.columns)
    if spheres_only and kind != "spheres":
        raise ParticleDetectError(f"{path}: a {kind} table ({', '.join(KIND_SIGNATURES[kind])} columns), read here "
                                  f"as sphere centres; give --kind {kind}")
    if not {"y", "x"} <= set(table.columns):
        renamed = table.rename(columns=COLUMN_ALIASES)
        if {"y", "x"} <= set(renamed.columns):
            table = renamed
        elif {"axis-0", "axis-1"} <= set(table.columns):
            # A 2D napari Points CSV: axis-0 is y, axis-1 is x.
            table = table.rename(columns={"axis-0": "y", "axis-1": "x"})
        else:
            raise ParticleDetectError(f"{path}: needs columns y and x (got {', '.join(map(str, table.columns))})")
    return _centre_values(table, str(path))


def _centre_values(table: pd.DataFrame, source: str) -> pd.DataFrame:
    """The rules every centre table read (:func:`read_centres`) or written (:func:`write_centres`) keeps:
    ``y, x`` numbers, none missing or infinite; a ``frame`` of whole numbers from 0. The table with them as
    numbers (frame int64), or one ParticleDetectError naming ``source``."""
    for column in ("y", "x"):
        table[column] = pd.to_numeric(table[column], errors="coerce")
    if table[["y", "x"]].isna().any().any():
        raise ParticleDetectError(f"{source}: y/x columns contain non-numeric or missing values")
    if not np.isfinite(table[["y", "x"]].to_numpy(float)).all():
        raise ParticleDetectError(f"{source}: y/x columns contain infinite values")
    if "frame" in table.columns:
        frames = pd.to_numeric(table["frame"], errors="coerce")
        if frames.isna().any():
            raise ParticleDetectError(f"{source}: frame column contains non-numeric values")
        bad = frames[(frames < 0) | (frames != np.round(frames)) | ~np.isfinite(frames)]
        if len(bad):
            raise ParticleDetectError(f"{source}: frame numbers must be whole numbers from 0 (got {bad.iloc[0]:g})")
        table["frame"] = frames.astype(np.int64)
    return table


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, writer: Callable[[BinaryIO], object]) -> Path:
    """Let ``writer`` fill a temporary file beside ``path``, then rename it over: all or nothing."""
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
    fsync_directory(path.parent)  # the rename itself survives a power cut only once its folder is synced
    return path


def remove_stale_temporaries(path: str | Path) -> list[Path]:
    """Delete the temporary files :func:`atomic_write_bytes` left beside the outputs named ``path``'s stem
    (``path``, its metadata, a kind's extra tables) when a run was killed mid-write; the paths removed.
    Only for outputs this process is about to write again: another process's live temporary would go too."""
    path = Path(path)
    stale = sorted(path.parent.glob(f".{glob.escape(path.stem)}.*.tmp"))
    for leftover in stale:
        if leftover.is_file():
            leftover.unlink(missing_ok=True)
    return stale


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


# Columns that make a table one of centres, which read_centres must read back (an MSD's lagt,msd,N or
# per-frame counts frame,count,reviewed, also written here, are other tables).
CENTRE_COLUMNS = ("y", "x", "score")


def write_centres(table: pd.DataFrame, path: str | Path, float_format: str | None = "%.3f") -> Path:
    """Write a centre table as CSV atomically (columns ``frame,(z,)y,x,score`` first, extras after);
    ``float_format`` None writes every digit (values read back exactly).

    A table of centres (any of the columns y, x, score) is checked first by :func:`read_centres`' own rules
    (columns y and x of numbers, none missing; whole frame numbers from 0), so no file is written that it
    would refuse: one ParticleDetectError naming ``path`` instead, the file left as it was. Other tables
    (an MSD, per-frame counts) are written as they are."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"write_centres: table must be a pandas DataFrame (frame, y, x, ... columns), got "
                        f"{type(table).__name__}")
    if any(c in table.columns for c in CENTRE_COLUMNS):
        source = f"{path} (not written)"
        if not {"y", "x"} <= set(table.columns):
            raise ParticleDetectError(f"{source}: a centre table needs columns y and x (got "
                                      f"{', '.join(map(str, table.columns))})")
        _centre_values(table[[c for c in ("frame", "y", "x") if c in table.columns]].copy(), source)
    first = [c for c in ("frame", "z", "y", "x", "score") if c in table.columns]
    ordered = table[first + [c for c in table.columns if c not in first]]
    return atomic_write_text(path, ordered.to_csv(index=False, float_format=float_format))


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


class ZarrStack:
    """A zarr array read one frame (its chunks only) at a time, with any length-1 axes left out
    (OME-Zarr's t, c, z axes of one plane), so it looks like a 2D image or a T/Z stack."""

    def __init__(self, path: Path, array) -> None:
        self.path = path
        self._array = array
        self._kept = [i for i, n in enumerate(array.shape) if n != 1][-3:]
        if len(self._kept) < 2 or any(array.shape[i] != 1 for i in range(len(array.shape))
                                      if i not in self._kept):
            raise ParticleDetectError(f"{path}: expected a 2D image or a 3D stack, got zarr shape {array.shape}")
        self.shape = tuple(int(array.shape[i]) for i in self._kept)
        self.ndim = len(self.shape)
        self.dtype = np.dtype(array.dtype)

    def close(self) -> None:
        """Nothing to close (zarr reads each chunk's file as it needs it); here so that a lazy stack of either
        kind can be closed, or used in a ``with`` block, alike (:class:`LazyTiffStack`)."""

    def __enter__(self) -> ZarrStack:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __len__(self) -> int:
        return self.shape[0]

    def _full_index(self, index) -> tuple:
        full = [0] * len(self._array.shape)
        for axis, part in zip(self._kept, index):
            full[axis] = part
        return tuple(full)

    def __getitem__(self, index) -> np.ndarray:
        index = index if isinstance(index, tuple) else (index,)
        index = index + (slice(None),) * (self.ndim - len(index))
        try:
            return np.asarray(self._array[self._full_index(index)])
        except Exception as exc:  # codecs and stores raise many types on corrupt chunks
            raise ParticleDetectError(f"{self.path}: cannot read zarr data ({type(exc).__name__}: {exc})") from None

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        data = self[(slice(None),) * self.ndim]
        return data.astype(dtype) if dtype is not None else data


def is_zarr(path: Path) -> bool:
    """A folder holding a zarr array or group (v2 or v3 metadata)."""
    return path.is_dir() and any((path / name).exists() for name in (".zarray", ".zgroup", "zarr.json"))


def open_zarr(path: Path) -> ZarrStack:
    """The full-resolution array of a zarr or OME-Zarr folder, read lazily."""
    try:
        import zarr

        node = zarr.open(str(path), mode="r")
        if isinstance(node, zarr.Group):
            node = node[_zarr_image_path(path, node)]
    except ParticleDetectError:
        raise
    except Exception as exc:
        raise ParticleDetectError(f"{path}: cannot read zarr ({type(exc).__name__}: {exc})") from None
    if not np.issubdtype(np.dtype(node.dtype), np.number) or 0 in node.shape:
        raise ParticleDetectError(f"{path}: cannot read image (zarr array of {node.dtype}, shape {node.shape})")
    return ZarrStack(path, node)


def _zarr_image_path(path: Path, group) -> str:
    """OME-Zarr: the first (full-resolution) dataset of the first multiscale; else the group's only array."""
    attrs = dict(group.attrs)
    multiscales = attrs.get("multiscales") or attrs.get("ome", {}).get("multiscales")
    if multiscales:
        return multiscales[0]["datasets"][0]["path"]
    arrays = sorted(name for name, _ in group.arrays())
    if len(arrays) != 1:
        raise ParticleDetectError(f"{path}: zarr group with {len(arrays)} arrays and no OME-Zarr multiscales; "
                                  "give the array's folder")
    return arrays[0]
