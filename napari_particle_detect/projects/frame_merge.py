"""Saving one frame when another window (or program) may have saved it since this one read it.

Each window keeps what it last read or wrote of a frame (:class:`FrameSnapshot`: the table and its file's
stamp). A save compares the stamp with the file's under the project lock: unchanged, the window's table is
written as it is (no read: the common case stays as fast as a plain save); changed, the window's own edits
since its snapshot are applied to the file as it is now (:func:`merge_frames`) and that is written, so
neither window's edits are lost. Points are identified by their saved values (``[z,] y, x, score, source``,
exactly, as :func:`..files.tables.same_centres` compares them): a move is a deletion plus an addition.
Nothing here imports Qt or napari.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..files.tables import same_centres

# What tells one version of a frame file from another: (inode, mtime_ns, ctime_ns, size); None: no file.
# Every save replaces the file by a rename, so a stamp still matching means nobody saved it since.
FrameStamp = tuple[int, int, int, int] | None
_KEY_COLUMNS = ("z", "y", "x", "score")


def file_stamp(path: os.PathLike | str) -> FrameStamp:
    """``path``'s stamp now; None when it does not exist."""
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return stat_stamp(info)


def stat_stamp(info: os.stat_result) -> tuple[int, int, int, int]:
    """What changes whenever a file is replaced or written (so a copy read before is stale)."""
    return (info.st_ino, info.st_mtime_ns, info.st_ctime_ns, info.st_size)


@dataclass(frozen=True)
class FrameSnapshot:
    """A frame as one window last read or wrote it (normalised table), with its file's stamp then."""

    table: pd.DataFrame
    stamp: FrameStamp


@dataclass(frozen=True)
class FrameSave:
    """What a save left on disk: ``table`` (the window's, or the window's edits applied to another's) and
    the file's ``stamp`` after it; ``theirs`` is the file as another window had left it, when it differed
    from the window's snapshot (None: it did not, and the window's table was written as it was)."""

    table: pd.DataFrame
    stamp: FrameStamp
    theirs: pd.DataFrame | None = None

    @property
    def merged(self) -> bool:
        return self.theirs is not None

    def snapshot(self) -> FrameSnapshot:
        return FrameSnapshot(self.table, self.stamp)


def their_changes(base: pd.DataFrame, theirs: pd.DataFrame | None) -> pd.DataFrame | None:
    """``theirs`` (the file now) where another save changed it from ``base``; None where it holds what
    ``base`` holds (a stamp can change without the points: a copy, a touch) or the file went."""
    if theirs is None or same_centres(theirs, base):
        return None
    return theirs


def _keys(table: pd.DataFrame) -> list[tuple]:
    """One hashable key per row: its ``[z,] y, x, score`` (NaN as None, which equals itself) and source."""
    columns = [c for c in _KEY_COLUMNS if c in table.columns]
    values = table[columns].to_numpy(float)
    sources = table["source"].astype(str).to_numpy()
    return [tuple(None if np.isnan(v) else float(v) for v in row) + (str(source),)
            for row, source in zip(values, sources)]


def merge_frames(base: pd.DataFrame, theirs: pd.DataFrame, ours: pd.DataFrame) -> pd.DataFrame:
    """``theirs`` with the changes ``ours`` made since ``base`` (all normalised tables of one frame).

    Per point: whichever side changed it wins; where both did the same (both deleted it, or both detected
    the same points), it is done once; where both changed it otherwise, both changes count (its copies in
    ``theirs``, plus those ``ours`` added, less those ``ours`` deleted). Rows of ``theirs`` keep their order;
    the points ``ours`` added follow."""
    base_count, their_count, our_count = Counter(_keys(base)), Counter(_keys(theirs)), Counter(_keys(ours))
    wanted: dict[tuple, int] = {}
    for key in their_count.keys() | our_count.keys():
        b, t, o = base_count[key], their_count[key], our_count[key]
        if o == b:
            wanted[key] = t
        elif t in (b, o):
            wanted[key] = o
        else:
            wanted[key] = max(0, t + o - b)
    rows: list[int] = []
    kept: Counter = Counter()
    for index, key in enumerate(_keys(theirs)):
        if kept[key] < wanted[key]:
            kept[key] += 1
            rows.append(index)
    added: list[int] = []
    for index, key in enumerate(_keys(ours)):
        if kept[key] < wanted[key]:
            kept[key] += 1
            added.append(index)
    parts = [theirs.iloc[rows], ours.iloc[added]]
    return pd.concat([p for p in parts if len(p)] or [theirs.iloc[:0]], ignore_index=True)
