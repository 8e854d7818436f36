"""The columns whose precision the project fixes in the tables it writes, and a table made ready for to_csv so:
shared by centre tables (files.centre_csv) and the kinds' tables (kinds.registry), which check each other's."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..kinds.columns import KIND_COLUMNS
from .tables import NOT_PHYSICAL, without_noise

POSITIONS = ("z", "y", "x")
# Columns whose precision the project fixes (write_centres' float_format, 3 decimals): positions in pixels
# (drift-corrected too), a rod's tips, length, width and angle, and the network's score. Every other float
# column (physical units, an MSD, another program's measurements) is written with all its digits: at 3
# decimals an MSD of 0.00041 µm² read 0.000.
FIXED_PRECISION = (*POSITIONS, *(f"{c}_corrected" for c in POSITIONS), "score",
                   *(c for c in KIND_COLUMNS["rods"] if c not in ("frame", *POSITIONS, "score")))


def with_fixed_precision(table: pd.DataFrame, float_format: str | None) -> pd.DataFrame:
    """``table`` with its FIXED_PRECISION float columns as text in ``float_format`` (missing ones empty, as
    to_csv leaves them), so that to_csv, given no float_format of the whole table, writes every other float
    with all its digits; ``table`` itself where ``float_format`` is None."""
    if float_format is None:
        return table
    table = table.assign(**{c: without_noise(table[c].to_numpy(float)) for c in _physical_positions(table)})
    fixed = [c for c in FIXED_PRECISION if c in table.columns and pd.api.types.is_float_dtype(table[c])]
    texts = {}
    for column in fixed:
        values = table[column].to_numpy(dtype=float, na_value=np.nan)
        text = np.char.mod(float_format, values).astype(object)  # printf's rounding, as to_csv's float_format
        text[np.isnan(values)] = ""
        texts[column] = text
    return table.assign(**texts)


def _physical_positions(table: pd.DataFrame) -> list[str]:
    """The float columns of positions in physical units (``y_um``, ``x_nm``, ``z_scaled`` beside ``y, x, z``)."""
    return [c for c in table.columns if isinstance(c, str) and c[:2] in ("z_", "y_", "x_") and c[0] in table.columns
            and c[2:] and c[2:] not in NOT_PHYSICAL and c not in FIXED_PRECISION
            and pd.api.types.is_float_dtype(table[c])]
