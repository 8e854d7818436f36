"""The kinds of object a model can find, each one encoding module (see kinds/rods.py, kinds/chains.py).

Nothing else names a kind: the engine asks this table for a kind's heads, maps, decoding, columns,
table checks, metric and synthetic examples. Spheres are the project's original path
(detection/prediction.py, kinds/heatmap.py) and are not listed here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from collections.abc import Callable

import numpy as np
import pandas as pd

from . import chains
from . import rods
from ..errors import ParticleDetectError
from ..files.tables import without_saved_index
from ..synthetic.chains import random_chain_config, synthesize_chains
from ..synthetic.rods import ROD_LOOKS, random_rod_config, synthesize_rods
from ..synthetic.spheres import LOOKS

KIND_NAMES = ("spheres", "rods", "chains")


@dataclass(frozen=True)
class Kind:
    name: str
    heads: tuple[str, ...]
    columns: list[str]
    encode: Callable[[pd.DataFrame, tuple[int, int]], tuple[np.ndarray, np.ndarray]]
    decode: Callable[..., pd.DataFrame]
    # (table, source, from_file=False): from_file, the table was read from the file source names.
    check_table: Callable[..., pd.DataFrame]
    # (image, truth table) of one varied training example of this side: (rng, crop, seed, looks), looks
    # () for the generator's own spread of looks or the looks to draw from.
    example: Callable[[np.random.Generator, int, int, tuple[str, ...]], tuple[np.ndarray, pd.DataFrame]]
    # Points that move with the image under flips and rotations, and the table rebuilt from them.
    points: Callable[[pd.DataFrame], np.ndarray]
    rebuild: Callable[[pd.DataFrame, np.ndarray], pd.DataFrame]
    crop: int
    looks: tuple[str, ...]  # the looks its generator can draw


def _in_look(config, looks: tuple[str, ...], rng: np.random.Generator):
    """``config`` drawn in one of ``looks`` (its other optics as drawn), or as it is for no looks."""
    if not looks:
        return config
    return replace(config, optics=replace(config.optics, look=str(looks[int(rng.integers(len(looks)))])))


def _rod_example(rng: np.random.Generator, crop: int, seed: int,
                 looks: tuple[str, ...] = ()) -> tuple[np.ndarray, pd.DataFrame]:
    sample = synthesize_rods(_in_look(random_rod_config(rng, shape=(crop, crop)), looks, rng), seed=seed)
    return sample.image, sample.table


def _chain_example(rng: np.random.Generator, crop: int, seed: int,
                   looks: tuple[str, ...] = ()) -> tuple[np.ndarray, pd.DataFrame]:
    sample = synthesize_chains(_in_look(random_chain_config(rng, shape=(crop, crop)), looks, rng), seed=seed)
    return sample.image, sample.table


def _rod_points(table: pd.DataFrame) -> np.ndarray:
    return np.concatenate([table[["y", "x"]], table[["y1", "x1"]], table[["y2", "x2"]]]).astype(float)


def _rod_rebuild(table: pd.DataFrame, points: np.ndarray) -> pd.DataFrame:
    n = len(table)
    c, t1, t2 = points[:n], points[n : 2 * n], points[2 * n :]
    angle = np.degrees(np.arctan2(t2[:, 0] - t1[:, 0], t2[:, 1] - t1[:, 1]))
    from ..synthetic.rods import rod_table

    return rod_table(c[:, 0], c[:, 1], angle, table["length"], table["width"])


def _chain_points(table: pd.DataFrame) -> np.ndarray:
    return table[["y", "x"]].to_numpy(float).reshape(-1, 2)


def _chain_rebuild(table: pd.DataFrame, points: np.ndarray) -> pd.DataFrame:
    return table.assign(y=points[:, 0], x=points[:, 1])


KINDS: dict[str, Kind] = {
    "rods": Kind("rods", rods.HEADS, rods.COLUMNS, rods.encode, rods.decode, rods.check_table, _rod_example,
                 _rod_points, _rod_rebuild, crop=128, looks=ROD_LOOKS),
    "chains": Kind("chains", chains.HEADS, chains.COLUMNS, chains.encode, chains.decode, chains.check_table,
                   _chain_example, _chain_points, _chain_rebuild, crop=96, looks=LOOKS),
}


def get_kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise ParticleDetectError(f"unknown kind {name!r}; choose one of {', '.join(KIND_NAMES)}") from None


def check_kind_table(table: pd.DataFrame, source: str, from_file: bool = False) -> pd.DataFrame:
    """``table`` checked by its kind's ``check_table`` where its columns make it a rods or chains table
    (kinds.columns.table_kind), by the rules ``evaluate --kind`` reads a CSV by: one ParticleDetectError naming
    ``source`` and the problem otherwise (``from_file``: read from the file ``source`` names, and said so). A
    table of sphere centres is returned as it is."""
    from .columns import table_kind

    kind = table_kind(table.columns)
    return table if kind == "spheres" else get_kind(kind).check_table(table, source, from_file=from_file)


def write_kind_table(table: pd.DataFrame, path, kind: str) -> None:
    """The kind's table as CSV (its columns first, extras such as ``file`` after), atomically; for
    chains also the per-chain table beside it, ``NAME.chains.csv``, the two all or nothing."""
    from pathlib import Path

    from ..files.side_files import kind_tables
    from ..files.io import atomic_write_texts

    spec = get_kind(kind)
    path = Path(path)
    ordered = table[[c for c in spec.columns if c in table] + [c for c in table if c not in spec.columns]]
    texts = {path: table_csv(ordered)}  # made in full before either file is touched
    if kind == "chains":
        # Checked there as read back: a chain with a gap in its index is refused, neither file written.
        summary = chains.chain_summary(table, f"{path} (not written)")
        # Every column of it the project's own measures in pixels: all with three decimals, as always written.
        texts[kind_tables(path)] = summary.to_csv(index=False, float_format=rods.TABLE_FLOAT_FORMAT)
    atomic_write_texts(texts)  # both files or neither: never a new table beside an old summary


def table_csv(table: pd.DataFrame) -> str:
    """A rods or chains table as CSV text, as every writer of them writes it: its kind's own columns (positions
    and measures in pixels, score) with three decimals, an angle that would be written 180.000 written as 0
    (rods.as_written); other columns (a user's measurements, physical positions) with all their digits, as
    write_centres writes them: three decimals wrote an MSD of 0.00041 as 0.000."""
    from ..files.fixed_precision import with_fixed_precision

    return with_fixed_precision(rods.as_written(table), rods.TABLE_FLOAT_FORMAT).to_csv(index=False)


def read_kind_table(path, kind: str) -> pd.DataFrame:
    """A rods or chains CSV, checked: one ParticleDetectError naming the file and the problem otherwise."""
    from pathlib import Path

    from ..files.io import read_csv_table

    path = Path(path)
    table = without_saved_index(read_csv_table(path, f"the {kind} columns"), path)
    table = table.rename(columns={c: str(c).strip() for c in table.columns})
    return get_kind(kind).check_table(table, str(path), from_file=True)
