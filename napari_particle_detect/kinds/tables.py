"""Checks shared by the rods and chains tables (kinds/rods.py, kinds/chains.py ``check_table``)."""

from __future__ import annotations

import pandas as pd

from ..errors import ParticleDetectError

# Columns that hold whole numbers wherever they appear: frame numbers, chain ids, bead indices, ring flags.
WHOLE_NUMBER_COLUMNS = ("frame", "chain", "index", "closed")


def numeric_columns(table: pd.DataFrame, columns: tuple[str, ...], source: str,
                    gaps_allowed: tuple[str, ...] = ()) -> pd.DataFrame:
    """``table`` with each of ``columns`` it has checked to hold numbers, none missing (but in
    ``gaps_allowed``); one ParticleDetectError naming ``source`` otherwise.

    A table of no rows is valid (what detect writes for an image with nothing in it): pandas reads a
    header alone as columns of text, so they are given their number types here instead of refused."""
    present = [c for c in columns if c in table.columns]
    if not len(table):
        return table.astype({c: "int64" if c in WHOLE_NUMBER_COLUMNS else float for c in present})
    for column in present:
        if not pd.api.types.is_numeric_dtype(table[column]) or (
                column not in gaps_allowed and table[column].isna().any()):
            raise ParticleDetectError(f"{source}: column {column} holds missing values or non-numbers")
    return table


def group_keys(table: pd.DataFrame, *keys: str) -> list[str]:
    """Those of ``keys`` the table has, after ``file`` where it has one: a table of several files (detect's,
    with a file column) numbers frames and chains per file, so one file's chain 0 is not another's."""
    return [k for k in ("file", *keys) if k in table.columns]


def describe_key(key: tuple, keys: list[str]) -> str:
    """'file NAME, frame F' of a group's key (keys after the chain), for messages."""
    return ", ".join(f"{name} {value}" for name, value in zip(keys, key))
