"""Centre tables as CSV files: read (trackpy's, napari's and this project's own, checked by a rods or chains
table's own rules) and written atomically in the column order and precision every part of the project reads.

Above kinds/ (it checks a rods or chains table by its kind's rules), beside files/io.py's lower-level reading of
CSV text and atomic writes, which kinds/ uses in turn."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ParticleDetectError
from ..kinds.columns import BOXES_HINT, KIND_COLUMNS, columns_said, is_tips_table, table_kind, tips_note
from .io import IMAGE_FORMATS, atomic_write_text, read_csv_table
from .fixed_precision import FIXED_PRECISION, with_fixed_precision
from .tables import TABLE_COLUMNS, first_bad_row, without_saved_index

log = logging.getLogger(__name__)

# Column names other tools use, mapped to ours (napari's Points CSV, trackpy).
COLUMN_ALIASES = {"axis-0": "frame", "axis-1": "y", "axis-2": "x", "mass": "score", "t": "frame", "z": "frame"}


def read_centres(path: str | Path, spheres_only: bool = False) -> pd.DataFrame:
    """A centre table with columns ``y, x`` and, where present, ``frame`` and ``score``.

    ``spheres_only``: refuse a rods or chains table (its centres are no sphere centres: a rod's centre
    may lie between two particles), where the caller takes sphere centres and nothing else. A rods or
    chains table (recognised by its columns) is checked by its kind's rules, as ``evaluate --kind`` reads
    it: one ParticleDetectError naming the file for a chain with a gap in its index or an angle out of
    [0, 180). A rods table of tips alone (y1, x1, y2, x2) is read with the centre, angle and length its tips give
    (kinds.rods.from_tips)."""
    path = Path(path)
    _refuse_other_files(path)
    table = without_saved_index(read_csv_table(path, "y,x columns"), path)
    table = table.rename(columns={c: str(c).strip() for c in table.columns})
    kind = table_kind(table.columns)
    if spheres_only and kind != "spheres":
        boxes = f"; {BOXES_HINT}" if is_tips_table(table.columns) else ""
        raise ParticleDetectError(f"{path}: a {kind} table ({columns_said(kind, table.columns)} columns), read here "
                                  f"as sphere centres; give --kind {kind}{boxes}")
    if kind == "rods" and not {"y", "x"} <= set(table.columns):
        from ..kinds.rods import from_tips  # here: it loads scipy, which a table of spheres never needs

        # A table of tips alone (ImageJ's line selections) has its centres at its tips' midpoints: every caller
        # (link among them) reads it as the rods reader does, not as a table without y and x. Said, as no --kind
        # rods asked for it: a detector's boxes (y1, x1, y2, x2 corners) were read as their diagonals unsaid.
        log.warning("%s: %s", path, tips_note(table.columns))
        table = from_tips(table, str(path))
    if not {"y", "x"} <= set(table.columns):
        renamed = table.rename(columns=COLUMN_ALIASES)
        if {"y", "x"} <= set(renamed.columns):
            table = renamed
        elif {"axis-0", "axis-1"} <= set(table.columns):
            # A 2D napari Points CSV: axis-0 is y, axis-1 is x.
            table = table.rename(columns={"axis-0": "y", "axis-1": "x"})
        else:
            raise ParticleDetectError(f"{path}: needs columns y and x{_columns_got(table.columns)}")
    table = _centre_values(table, str(path))
    if kind != "spheres":
        from ..kinds.registry import check_kind_table  # here: it loads scipy, which a table of spheres never needs

        # Refused as `evaluate --kind` refuses it (a chain with a gap in its index, an angle out of [0, 180)),
        # not read as if it were valid; the table itself is returned as read.
        check_kind_table(table, str(path), from_file=True)
    return table


def _columns_got(columns: pd.Index) -> str:
    """The columns a table without y and x gave, or, for a header that reads as one column holding ';' or tabs,
    how to separate them (as the rods and chains readers say it)."""
    from ..kinds.rods import separator_hint  # here: it loads scipy, which a table read well never needs

    names = [str(c) for c in columns]
    return separator_hint(names) or f" (got {', '.join(names)})"


def _refuse_other_files(path: Path) -> None:
    """An image, or a JSON record, given where a table of centres is read (the .json beside detect's CSV is a tab
    away from it) is said as such in one line: read as CSV, one read as a decoding error and the other as a parser's
    count of fields, or a header of "{"."""
    suffix = path.suffix.lower()
    if not path.is_file() or (suffix not in IMAGE_FORMATS and suffix != ".json"):
        return
    if suffix != ".json":
        raise ParticleDetectError(f"{path}: a {IMAGE_FORMATS[suffix]} image, not a table of centres; give a CSV of "
                                  "centres (detect writes one)")
    beside = path.with_suffix(".csv")
    raise ParticleDetectError(f"{path}: a JSON record, not a table of centres; give "
                              + (f"the table beside it, {beside}" if beside.is_file() else "a CSV of centres"))


def _centre_values(table: pd.DataFrame, source: str) -> pd.DataFrame:
    """The rules every centre table read (:func:`read_centres`) or written (:func:`write_centres`) keeps:
    ``y, x`` numbers, none missing or infinite; a ``frame`` of whole numbers from 0. The table with them as
    numbers (frame int64), or one ParticleDetectError naming ``source``."""
    read = table[["y", "x"]].copy()
    for column in ("y", "x"):
        table[column] = pd.to_numeric(table[column], errors="coerce")
    if table[["y", "x"]].isna().any().any():
        raise ParticleDetectError(f"{source}: y/x columns contain non-numeric or missing values"
                                  f"{first_bad_row(read, table[['y', 'x']].isna())}")
    if not np.isfinite(table[["y", "x"]].to_numpy(float)).all():
        raise ParticleDetectError(f"{source}: y/x columns contain infinite values"
                                  f"{first_bad_row(read, ~np.isfinite(table[['y', 'x']]))}")
    if "frame" in table.columns:
        frames = pd.to_numeric(table["frame"], errors="coerce")
        if frames.isna().any():
            raise ParticleDetectError(f"{source}: frame column contains non-numeric values"
                                      f"{first_bad_row(table[['frame']], frames.isna().to_frame('frame'))}")
        bad = frames[(frames < 0) | (frames != np.round(frames)) | ~np.isfinite(frames)]
        if len(bad):
            raise ParticleDetectError(f"{source}: frame numbers must be whole numbers from 0 (got {bad.iloc[0]:g})")
        table["frame"] = frames.astype(np.int64)
    return table


def finite_column(table: pd.DataFrame, column: str, source: str) -> np.ndarray:
    """``table[column]`` as floats, or one ParticleDetectError naming ``source`` and the first row whose value is
    text, missing or infinite (a volume's ``z``, which :func:`read_centres` does not check)."""
    values = pd.to_numeric(table[column], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(values)
    if bad.any():
        raise ParticleDetectError(f"{source}: {column} column contains non-numeric or missing values"
                                  f"{first_bad_row(table[[column]], pd.DataFrame({column: bad}))}")
    return values


# Columns that make a table one of centres, which read_centres must read back (an MSD's lagt,msd,N or
# per-frame counts frame,count,reviewed, also written here, are other tables).
CENTRE_COLUMNS = ("y", "x", "score")
# Columns of the tables write_centres writes (centres, tracks, an MSD, per-frame counts): a pandas index of
# one of these names (t.set_index("frame")) is written as the column it was.
KNOWN_COLUMNS = frozenset((*TABLE_COLUMNS, *FIXED_PRECISION, *(c for kind in KIND_COLUMNS.values() for c in kind),
                           "particle", "file", "lagt", "msd", "N", "count", "reviewed", "detected"))


def write_centres(table: pd.DataFrame, path: str | Path, float_format: str | None = "%.3f") -> Path:
    """Write a centre table as CSV atomically (columns ``frame,(z,)y,x,score`` first, extras after; a
    rods or chains table in its kind's column order, KIND_COLUMNS). ``float_format`` is that of the
    columns whose precision the project fixes (FIXED_PRECISION: positions in pixels, rods' measures, score);
    every other column is written with all its digits, and with ``float_format`` None those too (values read
    back exactly). A named index (or index level) of a column the project knows (``frame``, ``particle``, ...)
    is written as that column; any other is refused, as is a ``path`` that is a folder.

    A table of centres (any of the columns y, x, score) is checked first by :func:`read_centres`' own rules
    (columns y and x of numbers, none missing; whole frame numbers from 0; a rods or chains table by its
    kind's, as ``evaluate --kind`` reads it: no chain with a gap in its index, angles in [0, 180)), so no file
    is written that it would refuse: one ParticleDetectError naming ``path`` instead, the file left as it was.
    Other tables (an MSD, per-frame counts) are written as they are. A chains table's per-chain table is
    ``chain_summary(table)`` (the command line writes it beside the beads, ``OUT.chains.csv``)."""
    return atomic_write_text(path, centres_csv_text(table, path, float_format))


def centres_csv_text(table: pd.DataFrame, path: str | Path, float_format: str | None = "%.3f") -> str:
    """The CSV text :func:`write_centres` writes at ``path``, checked by its rules, nothing written (a caller that
    writes it beside other files, all or nothing: files.io.atomic_write_texts)."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"write_centres: table must be a pandas DataFrame (frame, y, x, ... columns), got "
                        f"{type(table).__name__}")
    source = f"{path} (not written)"
    if Path(path).is_dir():
        raise ParticleDetectError(f"{path}: is a folder; give the table a file name inside it")
    table = _index_as_columns(table, source)
    if any(c in table.columns for c in CENTRE_COLUMNS):
        if not {"y", "x"} <= set(table.columns):
            raise ParticleDetectError(f"{source}: a centre table needs columns y and x (got "
                                      f"{', '.join(map(str, table.columns))})")
        checked = _centre_values(table[[c for c in ("frame", "y", "x") if c in table.columns]].copy(), source)
        if "frame" in checked.columns:  # whole numbers, as read_centres reads them: 2, not 2.0 or 2.000
            table = table.assign(frame=checked["frame"].to_numpy())
    first = [c for c in ("frame", "z", "y", "x", "score") if c in table.columns]
    kind = table_kind(table.columns)
    if kind != "spheres" and set(KIND_COLUMNS[kind]) <= set(table.columns):
        # A rods or chains table keeps its kind's own order, as detect and the command line write it, so
        # positional readers (np.loadtxt's usecols) read the same column from either file.
        first = list(KIND_COLUMNS[kind])
    ordered = table[first + [c for c in table.columns if c not in first]]
    if kind == "rods" and float_format is not None:
        from ..kinds.rods import as_written  # here: it loads scipy, which a table of spheres never needs

        # An angle of 179.9996 is written 180.000, which the rods reader refuses: the same rod at 0 instead.
        ordered = as_written(ordered, float_format)
    if kind != "spheres" and {"y", "x"} <= set(ordered.columns):
        from ..kinds.registry import check_kind_table

        # No file that read_centres or `evaluate --kind` would refuse (a chain with a gap in its index), checked
        # as it will be read back: after an angle written as 180 became 0.
        check_kind_table(ordered, source)
    return with_fixed_precision(ordered, float_format).to_csv(index=False)


def _index_as_columns(table: pd.DataFrame, source: str) -> pd.DataFrame:
    """``table`` with the levels of its index that have names written as columns (``t.set_index("frame")``
    lost its frames, every centre read back in frame 0): those named as a column the project knows
    (KNOWN_COLUMNS), and dropped where the table has that column already with the same values. Unnamed
    levels (row numbers) are not written. One ParticleDetectError naming ``source`` for any other name, or a
    level that differs from the column of its name."""
    names = [name for name in table.index.names if name is not None]
    if not names:
        return table
    unknown = [name for name in names if name not in KNOWN_COLUMNS]
    if unknown:
        raise ParticleDetectError(f"{source}: its index {unknown[0]!r} is no column of a centre table (frame, y, x, "
                                  "...); make it a column with table.reset_index(), or leave it out with "
                                  "table.reset_index(drop=True)")
    for name in (name for name in names if name in table.columns):  # set_index(..., drop=False)
        if not table.index.get_level_values(name).equals(pd.Index(table[name])):
            raise ParticleDetectError(f"{source}: its index {name!r} differs from its {name} column; keep one of "
                                      "them (table.reset_index(drop=True) leaves the index out)")
    new = [name for name in names if name not in table.columns]
    return (table.reset_index(level=new) if new else table).reset_index(drop=True)
