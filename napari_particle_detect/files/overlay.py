"""A PNG of a frame with detected centres drawn as rings, for reports and the README; the marks by which the
pictures particle-detect draws (these overlays, evaluate's plots) are told from any other file."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .io import save_figure
from ..detection.preprocessing import missing_pixels, mostly_missing, normalise
from ..errors import ParticleDetectError

# Where the frame has no value (NaN or infinite pixels, a mosaic's gaps): a colour no grey pixel takes.
MISSING_COLOUR = "#3050c0"
# Written into the picture, where its format has room for text, so that a detect run over the folder it went into
# passes it over (:func:`is_overlay`): read as an input, the colour picture failed, and the same command run again
# was refused for an overlay that would replace an input. By it too, --overlay replaces no picture it did not draw
# (:func:`check_replaceable`).
MARK = "napari-particle-detect overlay"
# evaluate's --plot, marked alike: a real image given as --plot was replaced without a word, while a rerun of the
# same command must still replace its own plot. Neither mark holds the other, so each picture is told by its own.
PLOT_MARK = "napari-particle-detect plot"
# Whose picture a mark says, and the option that names another file, for a refusal to replace a picture.
DRAWN_BY = {MARK: ("an overlay detect drew", "--overlay"), PLOT_MARK: ("a plot evaluate drew", "--plot")}
# Where each format has room for the mark: matplotlib's savefig keyword and the field in it.
_MARK_FIELDS = {"png": ("metadata", "Software"), "jpg": ("pil_kwargs", "comment"),
                "jpeg": ("pil_kwargs", "comment"), "tif": ("pil_kwargs", "description"),
                "tiff": ("pil_kwargs", "description"), "pdf": ("metadata", "Creator"), "svg": ("metadata", "Creator")}
# Where a PDF's or SVG's text holds the mark: matplotlib writes a PDF's Info dictionary last, an SVG's metadata
# first; only that end is read, as only the header of the pictures Pillow reads is.
_TEXT_MARK_AT = {"pdf": "end", "svg": "start"}
_TEXT_MARK_SPAN = 65536


def save_overlay(frame: np.ndarray, centres: np.ndarray, path: str | Path, diameter: float | None = None,
                 title: str | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = np.asarray(frame, dtype=np.float32)
    h, w = frame.shape
    shown = _shown_grey(frame)
    dpi = 100
    fig = plt.figure(figsize=(w / dpi * 1.5, h / dpi * 1.5), dpi=dpi)
    ax = fig.add_axes([0, 0, 1, 1])
    grey = plt.get_cmap("gray").with_extremes(bad=MISSING_COLOUR)
    ax.imshow(shown, cmap=grey, vmin=0, vmax=1, interpolation="nearest")
    # Rings drawn at the diameter used, so a wrong size estimate shows at a glance.
    size = (diameter if diameter and np.isfinite(diameter) else 10.0) * 1.5 * 72 / dpi
    ax.scatter(centres[:, 1], centres[:, 0], s=size**2, facecolors="none", edgecolors="#ff3030",
               linewidths=0.7)
    ax.plot(centres[:, 1], centres[:, 0], "+", color="#00e0ff", ms=3, mew=0.7)
    if title:
        ax.text(4, 12, title, color="yellow", fontsize=9, va="top")
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.axis("off")
    try:
        return save_figure(fig, path, dpi=dpi, **marked(path))
    finally:
        plt.close(fig)


def marked(path: str | Path, mark: str = MARK) -> dict:
    """The keyword arguments of files.io.save_figure that write ``mark`` into the picture at ``path``, by its
    suffix (none for a format without room for it)."""
    field = _MARK_FIELDS.get(Path(path).suffix.lower().lstrip("."))
    return {} if field is None else {field[0]: {field[1]: mark}}


def is_overlay(path: str | Path) -> bool:
    """Whether ``path`` is a picture :func:`save_overlay` wrote, by its mark (pictures of other formats, and those
    written before the mark, are not recognised). Only the file's header is read, never its pixels: detect asks
    this of every file of a folder it is given, and a mosaic TIFF too large for Pillow stopped the run before any
    work (Pillow refuses to open one over its pixel limit, whatever is read of it)."""
    return has_mark(path, MARK)


def is_drawn(path: str | Path) -> bool:
    """Whether ``path`` is any picture particle-detect drew (an overlay, an evaluate plot), by its mark: no image
    of the data, which a detect run over its folder passes over (a plot read as an input failed as a colour image)."""
    return any(has_mark(path, mark) for mark in DRAWN_BY)


def has_mark(path: str | Path, mark: str) -> bool:
    """Whether ``path`` is a picture written with ``mark`` (:func:`marked`), read as :func:`is_overlay` reads it."""
    kind = Path(path).suffix.lower().lstrip(".")
    if kind not in _MARK_FIELDS:  # no other format carries a mark
        return False
    if kind in _TEXT_MARK_AT:
        return _text_holds_mark(path, _TEXT_MARK_AT[kind], mark)
    text = _tiff_description(path) if kind in ("tif", "tiff") else _picture_text(path)
    return text in (mark, mark.encode())


def check_replaceable(path: str | Path, mark: str = MARK) -> None:
    """Refuse, before any work, an ``--overlay`` (or, ``mark`` PLOT_MARK, evaluate's ``--plot``) over a file that
    command did not draw: a picture of the user's, or an image of the data not among the inputs, was replaced
    without a word (the CSV beside an overlay is refused alike)."""
    path = Path(path)
    if path.is_file() and not has_mark(path, mark):
        drawn, option = DRAWN_BY[mark]
        if _drawn_by_matplotlib(path) and not is_drawn(path):
            # Ours drawn before the marks were, or a figure of the user's: which one, only the user can tell.
            raise ParticleDetectError(f"{path}: exists, a matplotlib picture without the mark of {drawn} (one drawn "
                                      f"before such marks, or a figure of yours); delete or move it to draw there, or "
                                      f"give {option} another name")
        raise ParticleDetectError(f"{path}: exists and is not {drawn}; move it or give {option} another name")


def _drawn_by_matplotlib(path: Path) -> bool:
    """Whether matplotlib wrote the picture at ``path``, by the name it writes into a PNG, PDF or SVG."""
    kind = path.suffix.lower().lstrip(".")
    if kind in _TEXT_MARK_AT:
        return _text_holds_mark(path, _TEXT_MARK_AT[kind], "atplotlib")
    text = _picture_text(path) if kind == "png" else None
    return isinstance(text, str) and text.startswith("Matplotlib")


def _text_holds_mark(path: str | Path, where: str, mark: str) -> bool:
    """Whether the first or last (``where``: "start", "end") _TEXT_MARK_SPAN bytes of ``path`` hold ``mark``."""
    try:
        with open(path, "rb") as handle:
            if where == "end":
                handle.seek(max(handle.seek(0, os.SEEK_END) - _TEXT_MARK_SPAN, 0))
            return mark.encode() in handle.read(_TEXT_MARK_SPAN)
    except OSError:
        return False


def _tiff_description(path: str | Path) -> str | bytes | None:
    import tifffile

    from .io import _quiet_tifffile

    try:  # quietly: a damaged input is said once, by its own reading, not by tifffile's log here too
        with _quiet_tifffile(), tifffile.TiffFile(path) as tif:
            tag = tif.pages.first.tags.get(270)
            return None if tag is None else tag.value
    except (OSError, ValueError, IndexError):  # tifffile.TiffFileError is a ValueError
        return None


def _picture_text(path: str | Path) -> str | bytes | None:
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        # A picture over Pillow's pixel limit warns (or, at twice the limit, is refused) on open alone; it is
        # still no overlay of a size detect reads back, and is left to the reader that detects it.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as picture:
                return picture.info.get("Software") or picture.info.get("comment")
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        return None


def _shown_grey(frame: np.ndarray) -> np.ma.MaskedArray:
    """``frame`` scaled to 0..1 as detection scales it, its NaN and infinite pixels masked: scaled with them, every
    pixel came out NaN and the overlay was blank. The grey range is read from the frame's own pixels alone: a
    large gap filled with the background (as detection fills it) outnumbered the particles, lowered the range's
    top and drew them saturated on a washed-out background."""
    missing = missing_pixels(frame)
    if missing is None:
        return np.ma.masked_array(np.clip(normalise(frame), 0, 1))
    shown = np.zeros_like(frame)
    if not mostly_missing(missing):
        shown[~missing] = np.clip(normalise(frame[~missing]), 0, 1)
    return np.ma.masked_array(shown, mask=missing)
