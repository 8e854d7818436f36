"""The centre table every part of the project shares, and its export.

One row per particle centre: ``frame, y, x, score, source`` (pixels, pixel (0, 0)'s centre at 0.0).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from ..errors import ParticleDetectError


TABLE_COLUMNS = ["frame", "y", "x", "score", "source"]
# Where points come from: the network, the user, or the network and then confirmed by the user.
SOURCES = ("model", "added", "accepted")
# Columns of the other kinds (rods.COLUMNS, chains.COLUMNS) a table keeps when it has them, so a
# rods or chains project saves its frames whole.
KIND_COLUMNS = ("angle", "length", "width", "y1", "x1", "y2", "x2", "chain", "index", "closed")


def check_sources(table: pd.DataFrame, where: str, outcome: str = "") -> None:
    """Refuse, in one line starting with ``where`` and ending with ``outcome``, a table with a row whose
    ``source`` is none of SOURCES: a project's frame file holding one is no longer read back."""
    unknown = sorted(set(table["source"].astype(str)) - set(SOURCES))
    if unknown:
        raise ParticleDetectError(
            f"{where}: unknown source {unknown[0]!r:.40} (expected {', '.join(SOURCES)}){outcome}")


def empty_table() -> pd.DataFrame:
    return pd.DataFrame({"frame": pd.Series(dtype=int), "y": pd.Series(dtype=float), "x": pd.Series(dtype=float),
                         "score": pd.Series(dtype=float), "source": pd.Series(dtype=object)})


def same_centres(a: pd.DataFrame, b: pd.DataFrame, atol: float = 0.0) -> bool:
    """The same centres (``[z,] y, x, score, source`` of normalised tables), in whatever order; positions
    and scores within ``atol`` (0: equal; NaN scores equal NaN)."""
    if len(a) != len(b):
        return False
    order = [c for c in ("z", "y", "x", "score") if c in a.columns] + ["source"]
    a, b = (t[order].sort_values(order, kind="stable").reset_index(drop=True) for t in (a, b))
    values = [t[order[:-1]].to_numpy(float) for t in (a, b)]
    return bool(np.allclose(*values, rtol=0.0, atol=atol, equal_nan=True) and (a["source"] == b["source"]).all())


def normalise_table(table: pd.DataFrame, frame: int | None = None) -> pd.DataFrame:
    """``frame,y,x,score,source`` with the right types; missing score is NaN, missing source 'added'.
    A volume's table keeps its ``z`` column (``frame,z,y,x,score,source``). A copy, each column apart, as the
    columns are rebuilt: ``table[["y", "x"]].to_numpy()`` is then an array of its own, writable (of one block of
    several columns, pandas' copy-on-write hands out a read-only view, and napari's layers write into the arrays
    they are given)."""
    if _already_normal(table, frame):
        # A dock's detection of one stack normalised tables already normal some thirty times, each rebuilt column
        # by column; a copy of each column is all it takes (DataFrame.copy() would join them into one block).
        out = pd.concat([table[column].copy() for column in table.columns], axis=1)
        out.attrs = dict(table.attrs)
        return out
    table = table.copy()
    if frame is not None:
        table["frame"] = frame
    if "score" not in table.columns:
        table["score"] = np.nan
    if "source" not in table.columns:
        table["source"] = "added"
    table["source"] = table["source"].fillna("added").astype(str)
    out = table[_normal_columns(table)].reset_index(drop=True)
    out["frame"] = out["frame"].astype(int)
    floats = [c for c in ("z", "y", "x", "score") if c in out.columns]
    out[floats] = out[floats].astype(float)
    return out


# The dtype normalise_table gives ``source``: pandas 3's string dtype (object before it).
_SOURCE_DTYPE = pd.Series(["added"]).astype(str).dtype


def _normal_columns(table: pd.DataFrame) -> list[str]:
    """The columns, in order, of ``table`` normalised: the centre table's (a volume's with ``z``), then the kinds'
    it has."""
    columns = TABLE_COLUMNS[:1] + ["z"] + TABLE_COLUMNS[1:] if "z" in table.columns else TABLE_COLUMNS
    return columns + [c for c in KIND_COLUMNS if c in table.columns]


def _already_normal(table: pd.DataFrame, frame: int | None) -> bool:
    """Whether :func:`normalise_table` would give ``table`` back as it is: its columns, their order and types, a
    ``source`` in every row, rows numbered from 0, and every row of ``frame`` where one is given."""
    if list(table.columns) != _normal_columns(table) or not table.index.equals(pd.RangeIndex(len(table))):
        return False
    dtypes = table.dtypes
    floats = [c for c in ("z", "y", "x", "score") if c in table.columns]
    if dtypes["frame"] != np.dtype(int) or any(dtypes[c] != np.dtype(float) for c in floats):
        return False
    if dtypes["source"] != _SOURCE_DTYPE or table["source"].hasnans:
        return False
    return frame is None or bool((table["frame"] == frame).all())


def export_tables(table: pd.DataFrame, scale: tuple[float, float] = (1.0, 1.0), unit: str = "",
                  n_frames: int | None = None, reviewed: list[int] | None = None,
                  translate: tuple[float, float] = (0.0, 0.0),
                  detected: set[int] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(centres in pixels, plus physical ``y_<unit>, x_<unit>`` (:func:`with_physical`); count per frame).

    ``detected``: the frames detected or edited, where some are not (Detect stopped early): the counts
    gain a ``detected`` column and a frame never detected has no count, not a count of 0."""
    out = normalise_table(table).sort_values(["frame", "y", "x"], kind="stable").reset_index(drop=True)
    out = with_physical(out, scale, translate, unit)
    frames = range(n_frames) if n_frames is not None else sorted(set(out["frame"]))
    counts = out.groupby("frame").size()
    reviewed = set(reviewed or [])
    summary = pd.DataFrame({"frame": list(frames)})
    summary["count"] = [int(counts.get(f, 0)) for f in summary["frame"]]
    summary["reviewed"] = [f in reviewed for f in summary["frame"]]
    if detected is not None:
        seen = summary["frame"].isin(set(detected) | reviewed | set(counts.index))
        summary["count"] = summary["count"].astype("Int64").where(seen, pd.NA)
        summary["detected"] = seen
    return out, summary


# Physical columns a table's y, x map onto linearly; drift-corrected positions are not one.
NOT_PHYSICAL = ("corrected",)


def with_physical(table: pd.DataFrame, scale: tuple[float, float], translate: tuple[float, float] = (0.0, 0.0),
                  unit: str = "") -> pd.DataFrame:
    """``table`` plus ``y_<unit>, x_<unit>`` = pixels x scale + translate, where napari draws them (its world
    coordinates, the status bar's), unless the pixel is 1 and there is no offset. ``unit`` '' is 'scaled'."""
    (sy, sx), (ty, tx) = (tuple(float(v) for v in pair) for pair in (scale, translate))
    if (sy, sx, ty, tx) == (1.0, 1.0, 0.0, 0.0):
        return table
    suffix = unit or "scaled"
    # The product's float noise (30.1 x 0.1 = 3.0100000000000002) goes as the file writer drops it, so the
    # table in hand (a library user's, the tracks') reads as its CSV will.
    return table.assign(**{f"{axis}_{suffix}": without_noise(table[axis].to_numpy(float) * size + offset)
                           for axis, size, offset in (("y", sy, ty), ("x", sx, tx))})


# Significant digits of a physical position column's largest value that are written: pixels x scale + translate
# (with_physical) carries float noise in its 16th-17th digits, and a table's y_um 5.25 and 20 opened and saved back
# came out 5.250000000000001 and 19.999999999999993.
PHYSICAL_DIGITS = 12


def without_noise(values: np.ndarray) -> np.ndarray:
    """``values`` to PHYSICAL_DIGITS significant digits of the largest of them: an offset's noise (1e-15 at a
    centre on pixel 0) goes with the others', while a column of small values (0.0001234) keeps all its digits.
    The one rounding of physical columns, in hand (:func:`with_physical`) as in the CSV files written."""
    finite = np.abs(values[np.isfinite(values)])
    if not len(finite) or not finite.max():
        return values
    # + 0.0: a noise of -1e-16 rounds to -0.0, written so.
    return np.round(values, PHYSICAL_DIGITS - 1 - int(np.floor(np.log10(finite.max())))) + 0.0


@dataclass(frozen=True)
class Placement:
    """Where a table's pixels lie in the units of its physical columns (napari's layer scale and translate)."""

    scale: tuple[float, float]
    translate: tuple[float, float]
    unit: str  # the columns' suffix: 'um', 'nm', 'scaled', ...


def physical_placement(table: pd.DataFrame) -> Placement | None:
    """The scale and translate that :func:`with_physical` wrote into ``table``'s ``y_<unit>, x_<unit>``
    columns, read back from them; None where there are no such columns or they are not that map."""
    for unit in physical_units(table):
        fits = [_linear_fit(table[axis], table[f"{axis}_{unit}"]) for axis in ("y", "x")]
        if all(fit is not None for fit in fits):
            (sy, ty), (sx, tx) = fits
            return Placement((sy, sx), (ty, tx), unit)
    return None


def physical_units(table: pd.DataFrame) -> list[str]:
    """The units of ``table``'s pairs of columns ``y_<unit>, x_<unit>`` that may be physical positions."""
    return [c[2:] for c in table.columns if str(c).startswith("y_") and f"x_{c[2:]}" in table.columns
            and c[2:] not in NOT_PHYSICAL]


def physical_misses(table: pd.DataFrame, placement: Placement) -> tuple[float, float]:
    """How far (y, x) the rows of ``table`` lie off ``placement``'s map at most, in its unit: the rounding of
    its columns as written, within which :func:`with_physical_refreshed` takes a row as still on it."""
    return tuple(float(np.nanmax(miss, initial=0.0)) for miss in _misses(table, placement))


def with_physical_refreshed(table: pd.DataFrame, placement: Placement | None = None,
                            misses: tuple[float, float] = (0.0, 0.0)) -> pd.DataFrame:
    """``table`` with the ``y_<unit>, x_<unit>`` (``placement``'s unit) of each row off ``placement``'s map by
    more than ``misses`` (:func:`physical_misses` of the table it was read from) written anew from its ``y, x``:
    a layer drawn in pixels keeps a table's physical columns as features, and a point moved or added since kept
    its old ones (or another point's), so its saved file said two places for it. Rows still on the map keep
    theirs as read, to their last digit. The map is the one the table was read with, never one guessed from
    the rows at hand, which a few moved rows could pull; ``placement`` None (none known): as they are."""
    if placement is None or not {f"{axis}_{placement.unit}" for axis in "yx"} <= set(table.columns):
        return table
    fresh = {}
    for axis, size, offset, miss, allowed in zip("yx", placement.scale, placement.translate,
                                                 _misses(table, placement), misses):
        column = f"{axis}_{placement.unit}"
        # Float noise aside, an unchanged row misses the map exactly as it did when read; NaN (added) is off it.
        off = ~(miss <= allowed * (1 + 1e-9))
        if off.any():
            values = without_noise(table[axis].to_numpy(float) * size + offset)
            fresh[column] = np.where(off, values, pd.to_numeric(table[column], errors="coerce"))
    return table.assign(**fresh) if fresh else table


def _misses(table: pd.DataFrame, placement: Placement) -> list[np.ndarray]:
    """Each row's distance (y, x) off ``placement``'s map, NaN where a position or physical value is missing."""
    return [np.abs(pd.to_numeric(table[f"{axis}_{placement.unit}"], errors="coerce").to_numpy(float)
                   - (pd.to_numeric(table[axis], errors="coerce").to_numpy(float) * size + offset))
            for axis, size, offset in zip("yx", placement.scale, placement.translate)]


def _linear_fit(pixels: pd.Series, physical: pd.Series, single: bool | None = None) -> tuple[float, float] | None:
    """(scale, offset) with physical = pixels x scale + offset to the columns' written precision, or None.
    ``single``: :func:`maybe_single_precision` of the columns, where the caller has it already (None: asked)."""
    p, q = (pd.to_numeric(v, errors="coerce").to_numpy(float) for v in (pixels, physical))
    keep = np.isfinite(p) & np.isfinite(q)
    p, q = p[keep], q[keep]
    if not len(p):
        return None
    spread = np.ptp(p) > 1.0
    if spread:
        scale, offset = np.polyfit(p, q, 1)
    elif np.all(p != 0):  # one position: a scale with no offset, as most images have
        scale, offset = float(np.median(q / p)), 0.0
    else:
        return None
    # The map must hold to the columns' own rounding, the pixels' taken through the scale, plus float noise; no
    # fixed amount in the columns' unit: 1e-3 is a thousandth of a µm pixel but 10 pixels of 1e-4 mm.
    residual = np.max(np.abs(p * scale + offset - q))
    written = scale * _written_rounding(p) + _written_rounding(q)
    # Columns computed in single precision (a float32 table, as numpy and many tools keep one, written with every
    # digit) hold the map to float32's rounding of both sides, not to their decimals: refused, such a table lost
    # its placement. Only those: double precision columns 1e-7 of themselves off the pixels are no such map.
    single = np.finfo(np.float32).eps * (np.max(np.abs(q)) + scale * np.max(np.abs(p))) \
        if (maybe_single_precision(pixels, physical) if single is None else single) else 0.0
    tolerance = written + single + 1e-9 * np.max(np.abs(q))
    if scale <= 0 or (residual > tolerance and _least_miss(p, q, scale, residual, spread) > tolerance):
        return None
    # As close as the columns' own rounding lets the true map come, or as the fit came: a simpler map within that
    # is as true to them as any. Single precision's rounding counts only where the columns needed it, so that it
    # reads 0.13 and no offset from them (not an offset of -1.3e-05 µm), while exact columns keep every digit.
    if residual > written + 1e-9 * np.max(np.abs(q)):
        written += single
    return _fewest_digits(p, q, scale, offset if spread else None,
                          max(residual, written) + 1e-11 * np.max(np.abs(q)))


def _least_miss(p: np.ndarray, q: np.ndarray, scale: float, residual: float, offset: bool) -> float:
    """The least, over maps near the fit of ``scale`` (missing by ``residual``), of a map's largest miss of ``q``:
    the least-squares line misses rows that the true map holds to within their rounding by a little more (by
    6.53e-05 µm where 0.13 µm pixels at 3 decimals give 6.5e-05). ``offset``: the map has one (else it is 0)."""
    def miss(size: float) -> float:
        gap = q - p * size
        return float(np.ptp(gap) / 2 if offset else np.max(np.abs(gap)))

    # The best scale lies within this of the fit's: away from it, a map's miss grows by half the pixels' spread
    # (without an offset, by their smallest) per unit of scale.
    reach = 4 * residual / np.ptp(p) if offset else 2 * residual / np.min(np.abs(p))
    low, high = scale - reach, scale + reach
    for _ in range(60):  # the miss is convex in the scale: a third of what is left goes each time
        a, b = low + (high - low) / 3, high - (high - low) / 3
        low, high = (low, b) if miss(a) <= miss(b) else (a, high)
    return min(residual, miss((low + high) / 2))


# The most significant digits a float32 is written with: a column with more was computed in double precision.
SINGLE_DIGITS = 9


def maybe_single_precision(pixels: pd.Series, physical: pd.Series) -> bool:
    """Whether a physical column may have been computed in single precision: float32 in hand (pixels or
    physical), or physical values that are all float32 values or no longer than float32 prints them
    (SINGLE_DIGITS), as a float32 column's CSV holds them. Double precision's full digits say it was not."""
    if np.float32 in (pixels.dtype, physical.dtype):
        return True
    values = pd.to_numeric(physical, errors="coerce").to_numpy(float)
    values = values[np.isfinite(values)]
    return bool(np.all(values.astype(np.float32).astype(float) == values)) or _within_digits(values, SINGLE_DIGITS)


def _within_digits(values: np.ndarray, digits: int) -> bool:
    """Whether every one of ``values`` (finite) has at most ``digits`` significant digits, to a few ulps (text read
    back lies that near its decimal). Arithmetic, not each row formatted: that took seconds for a million rows."""
    values = np.abs(values[values != 0])
    step = 10.0 ** (np.floor(np.log10(values)) - (digits - 1))
    return bool(np.all(np.abs(np.round(values / step) * step - values) <= 4 * np.spacing(values)))


# The most decimals a column is taken as rounded to; one with more has every digit, and only float noise.
MOST_WRITTEN_DECIMALS = 9


def _written_rounding(values: np.ndarray) -> float:
    """How far ``values`` may lie from what they stand for, as written: half their last decimal, counted from 3
    (whole pixels are write_centres' 3 decimals, and what another tool wrote to 4 keeps its 0.00005); 0 where they
    have more than MOST_WRITTEN_DECIMALS."""
    for decimals in range(3, MOST_WRITTEN_DECIMALS + 1):
        step = 10.0 ** -decimals
        # Text read back lies within a few ulps of its decimal, not exactly on it.
        near = 1e-6 * step + 4 * np.finfo(float).eps * np.abs(values)
        if np.all(np.abs(values - np.round(values, decimals)) <= near):
            return step / 2
    return 0.0


def _fewest_digits(p: np.ndarray, q: np.ndarray, scale: float, offset: float | None,
                   tolerance: float) -> tuple[float, float]:
    """``scale`` and ``offset`` (None: 0, fixed) to the fewest significant digits, at most 9, that still map ``p``
    onto ``q`` within ``tolerance``, the scale moved by at most AGREED_DIGITS_REACH of it: the fit's last digits
    are the columns' rounding, not a pixel size. Pixels written to 3 decimals beside micrometres with every
    digit read a pixel of 0.130000007 µm offset by -1.4e-06 (a layer's scale and translate, link's µm per
    pixel), and exact columns an offset of 8e-16."""
    def offsets(size: float) -> list[float]:
        if offset is None:
            return [0.0]
        gap = q - p * size  # the offset each row asks for; their midrange fits them all best
        return [0.0, *_roundings((gap.max() + gap.min()) / 2)]

    def fits(size: float, at: float) -> bool:
        return bool(np.max(np.abs(p * size + at - q)) <= tolerance)

    sizes = [size for size in _roundings(scale) if abs(size - scale) <= AGREED_DIGITS_REACH * scale]
    size = next((size for size in sizes if any(fits(size, at) for at in offsets(size))), float(f"{scale:.9g}"))
    at = next((at for at in offsets(size) if fits(size, at)), float(f"{offset or 0.0:.9g}"))
    return size, at


def _roundings(value: float) -> list[float]:
    """``value`` to 1, 2, ... 9 significant digits."""
    return [float(f"{value:.{digits}g}") for digits in range(1, 10)]


# Where a volume table's voxel size came from, in the words the commands log.
FROM_OPTION = "--voxel-size"
FROM_COLUMNS = "its z_um,y_um,x_um columns"
# Two voxel sizes agree within this share of each value: z_um,y_um,x_um columns written to 3 decimals
# give their table's size to about 2e-3 of itself, while another image's or another order differs by far more.
VOXEL_SIZE_TOLERANCE = 1e-2


@dataclass(frozen=True)
class VoxelSize:
    """A volume table's voxel size (z, y, x) and where it came from. ``size`` None: none was given and no
    table's columns gave one, so its positions are taken as in cubic voxels."""

    size: tuple[float, float, float] | None
    source: str = ""  # FROM_OPTION or FROM_COLUMNS; '' without a size
    table: Path | str | None = None  # the table whose columns gave it

    def describe(self) -> str:
        """``Z x Y x X`` as the commands log it."""
        return " x ".join(f"{v:g}" for v in self.size or ())


def resolve_voxel_size(given: Sequence[float] | None, tables: Iterable[tuple[Path | str, pd.DataFrame]],
                       log: logging.Logger, as_cubes: str, option: str = FROM_OPTION) -> VoxelSize:
    """The voxel size ``link`` and ``evaluate`` use for frame,z,y,x tables: ``given`` (``--voxel-size``), else
    the first of ``tables`` (name, table) whose z_um,y_um,x_um columns give one (:func:`table_voxel_size`);
    tables whose columns give other proportions are refused, naming both (the first used to win unsaid).

    Neither: ``log``, the command's own logger, warns that the first table has none, then says ``as_cubes``,
    what the command does instead (the two commands differ only there). A ``given`` size in other proportions
    than a table's columns is refused, naming both: one of them is another image's, or in another order (only
    the proportions count, so 2 1 1 agrees with columns of 0.4 x 0.2 x 0.2 µm). ``option``: how the caller's
    users give a size (the commands' --voxel-size, the library's voxel_size), as the messages name it."""
    tables = list(tables)
    if given is not None:
        chosen = VoxelSize(tuple(float(v) for v in given), option)
        for name, table in tables:
            found = table_voxel_size(table)
            if found is not None and not same_voxel_size(chosen.size, found, proportions=True):
                raise ParticleDetectError(f"{_as_typed(option, chosen.size)} (Z Y X) disagrees with {name}'s "
                                          f"z_um,y_um,x_um columns ({VoxelSize(found).describe()} µm): one of them "
                                          f"is another image's, or in another order; leave {option} out to use "
                                          "the table's")
        return chosen
    found = [(name, size) for name, size in ((n, table_voxel_size(t)) for n, t in tables) if size is not None]
    for name, size in found[1:]:
        # Matching reads only the proportions; other proportions would match in another space than one table's.
        if not same_voxel_size(found[0][1], size, proportions=True):
            raise ParticleDetectError(f"{found[0][0]}'s z_um,y_um,x_um columns ({VoxelSize(found[0][1]).describe()} "
                                      f"µm) disagree with {name}'s ({VoxelSize(size).describe()} µm): one of them "
                                      "is another image's, or was detected with another --voxel-size: detect it again with the image's own")
    if found:
        return VoxelSize(found[0][1], FROM_COLUMNS, found[0][0])
    log.warning("%s: no voxel size (no %s, no z_um,y_um,x_um columns): %s", tables[0][0], option, as_cubes)
    return VoxelSize(None)


def _as_typed(option: str, size: Sequence[float]) -> str:
    """A voxel size as its user gave it: ``--voxel-size 2 1 1`` on the command line, ``voxel_size=(2, 1, 1)`` in
    Python."""
    if option.startswith("--"):
        return f"{option} {' '.join(f'{v:g}' for v in size)}"
    return f"{option}=({', '.join(f'{v:g}' for v in size)})"


def same_voxel_size(a: Sequence[float], b: Sequence[float], proportions: bool = False) -> bool:
    """Whether voxel sizes ``a`` and ``b`` (z, y, x) agree within VOXEL_SIZE_TOLERANCE; with ``proportions``,
    whether their proportions do (each taken in units of its y voxel), for sizes in units that may differ."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if proportions:
        a, b = a / a[1], b / b[1]
    return bool(np.allclose(a, b, rtol=VOXEL_SIZE_TOLERANCE, atol=0))


# Where the volume export's image lies (its voxel (0, 0, 0), in micrometres), written beside z_um,y_um,x_um
# when it is not at the origin: see table_voxel_placement.
ORIGIN_COLUMNS = ("z_origin_um", "y_origin_um", "x_origin_um")

Recorded = TypeVar("Recorded")


def recorded_of_files(meta: dict | None, key: str, read: Callable[[object], Recorded | None],
                      files: Collection[str] | None = None) -> dict[str, Recorded | None]:
    """What detect's .json (``meta``, as file_detection.read_metadata read it) records under ``key`` of each input,
    by its file as the table's ``file`` column names it, as ``read`` makes it of the value recorded (None: none, or
    none usable); of ``files`` alone where given. The one reading of those records for link, evaluate and the
    napari reader alike; {} without inputs to read."""
    return {file: read(record.get(key)) for file, record in input_records(meta, files).items()}


def input_records(meta: dict | None, files: Collection[str] | None = None) -> dict[str, dict]:
    """Each input's whole record in detect's .json (``meta``), by its file as the table's ``file`` column names it;
    of ``files`` alone where given; {} without inputs. What :func:`recorded_of_files` reads its values from."""
    records = meta.get("inputs") if isinstance(meta, dict) else None
    if not isinstance(records, list):
        return {}
    return {str(record["file"]): record for record in records
            if isinstance(record, dict) and "file" in record and (files is None or str(record["file"]) in files)}


def shared_value(values: dict[str, Recorded | None]) -> Recorded | None:
    """The one value every file of ``values`` (:func:`recorded_of_files`) shares; None where they differ, where
    it is none, or where there are no files."""
    distinct = set(values.values())
    return distinct.pop() if len(distinct) == 1 else None


def three_positive(value: object) -> tuple[float, float, float] | None:
    """``value`` as three finite positive numbers (a voxel size), None where it is not."""
    try:
        numbers = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    if numbers.shape != (3,) or not np.all(np.isfinite(numbers) & (numbers > 0)):
        return None
    return tuple(float(v) for v in numbers)


def table_voxel_size(table: pd.DataFrame) -> tuple[float, float, float] | None:
    """A volume table's voxel size from its ``z_um, y_um, x_um`` columns (:func:`table_voxel_placement`); None
    when it has none or they do not tell."""
    placement = table_voxel_placement(table)
    return placement[0] if placement is not None else None


def table_voxel_placement(table: pd.DataFrame) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """A volume table's voxel size and origin (z, y, x; micrometres) from its ``z_um, y_um, x_um`` columns =
    ``z, y, x`` x size + origin, as detect (origin 0) and the dock's export (where napari draws the image: a crop at
    its stage position) write them; each size to the digits its rows agree on (:func:`_agreed_digits`), each origin
    to the columns' 4 decimals. None when it has none or they do not tell. The export writes its origin
    (ORIGIN_COLUMNS) where it is not 0, since an axis whose rows sit at one position cannot tell an origin from
    a size (a translated export with every centre on one slice read a z size of 6 for 2 um voxels); without
    them, such an axis's origin is taken as 0 only where no other axis shows one."""
    columns = ["z", "y", "x"]
    if not all(c in table.columns and f"{c}_um" in table.columns for c in columns):
        return None
    written = all(c in table.columns for c in ORIGIN_COLUMNS)
    axes = []
    for c, origin_column in zip(columns, ORIGIN_COLUMNS):
        voxels, microns = (pd.to_numeric(table[k], errors="coerce").to_numpy(float) for k in (c, f"{c}_um"))
        finite = np.isfinite(voxels) & np.isfinite(microns)
        voxels, microns = voxels[finite], microns[finite]
        single = maybe_single_precision(table[c], table[f"{c}_um"])
        if written:
            origin = float(np.median(pd.to_numeric(table[origin_column], errors="coerce")))
            origin = origin if np.isfinite(origin) else None
        else:
            spread = len(voxels) and np.ptp(voxels) > 1.0
            fit = _linear_fit(pd.Series(voxels), pd.Series(microns), single) if spread else None
            # An offset within the columns' rounding is none: detect's tables read as they always did.
            origin = None if fit is None else (fit[1] if abs(fit[1]) > 1e-3 * (fit[0] + 1.0) else 0.0)
        axes.append((voxels, microns, origin, single))
    if any(origin is None for *_, origin, _ in axes) and any(origin for *_, origin, _ in axes):
        return None
    sizes, origins = [], []
    for voxels, microns, origin, single in axes:
        origin = origin or 0.0
        usable = np.abs(voxels) > 0.5
        size = _agreed_digits((microns[usable] - origin) / voxels[usable], single) if usable.any() else np.nan
        if not (np.isfinite(size) and size > 0):
            return None
        sizes.append(size)
        origins.append(round(float(np.median(microns - size * voxels)), 4) if origin else 0.0)
    return tuple(sizes), tuple(origins)


# The most _agreed_digits moves a value, as a share of it: the 3-decimal rounding of positions of a few
# voxels and up, not a disagreement between rows.
AGREED_DIGITS_REACH = 1e-4


def _agreed_digits(ratios: np.ndarray, single: bool = False) -> float:
    """The median of ``ratios`` to the fewest significant digits within about two of its standard errors (twice
    their interquartile range over the square root of their count; at most AGREED_DIGITS_REACH of it): positions
    written to 3 decimals beside micrometres with every digit scatter a 0.2 µm voxel's rows by a few parts in
    10^5, and their median lands beside it (0.20000037); rows that agree to every digit keep them all.
    ``single``: ratios of columns that may be float32's, whose rounding (not their scatter, a few 1e-9 of
    them) also reaches: a 0.13 µm voxel read 0.129999995."""
    median = float(np.median(ratios))
    q1, q3 = np.percentile(ratios, [25, 75])
    spread = max(2 * float(q3 - q1) / np.sqrt(len(ratios)),
                 2 * float(np.finfo(np.float32).eps) * abs(median) if single else 0.0)
    reach = min(spread, AGREED_DIGITS_REACH * abs(median))
    for digits in range(1, 18):
        rounded = float(f"{median:.{digits}g}")
        if abs(rounded - median) <= reach:
            return rounded
    return median


def first_bad_row(read: pd.DataFrame, bad: pd.DataFrame) -> str:
    """Where the cells ``bad`` (a mask over ``read``, columns as they were read) are, so that a table of thousands of
    rows can be mended: how many rows hold one, and the first such row (1 for the first below the header) with its
    bad cells as read."""
    rows = np.flatnonzero(bad.to_numpy().any(axis=1))
    first = rows[0]
    cells = ", ".join(f"{column} {_as_read(read[column].iloc[first])}" for column in read.columns
                      if bad[column].iloc[first])
    return f" ({len(rows)} of {len(read)} rows; the first is row {first + 1} below the header: {cells})"


def _as_read(value: object) -> str:
    return "missing" if pd.isna(value) else f"'{value}'"


# What pandas names a first column without a header: the index that DataFrame.to_csv writes by default.
SAVED_INDEX = "Unnamed: 0"


def without_saved_index(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """``table`` without the pandas index a table saved with ``to_csv()`` carries (trackpy users' tables) as its
    first, unnamed column: numbers of rows, no property of the particles (said in one line)."""
    if len(table.columns) and table.columns[0] == SAVED_INDEX:
        logging.getLogger(__name__).info("%s: its first column has no name (a pandas index saved with the table): "
                                         "left out", path)
        return table.drop(columns=SAVED_INDEX)
    return table


def table_columns(path: Path) -> set[str] | None:
    """A CSV's column names as its readers strip them; None where it cannot be read (its reader says why)."""
    try:
        return {str(c).strip() for c in pd.read_csv(path, nrows=0).columns}
    except Exception:  # noqa: BLE001 - the reader says what is wrong with it, later
        return None
