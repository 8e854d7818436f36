"""A table whose pixel and micrometre columns were computed in single precision (a float32 table written with
every digit) is still placed: its map holds to float32's rounding, not to the columns' decimals."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from napari_particle_detect.files.tables import physical_placement


def _float32_csv(table: pd.DataFrame) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(table.to_csv(index=False)))


def test_a_float32_table_keeps_its_placement():
    pixels = (np.random.default_rng(1).random(300) * 2000).astype(np.float32)
    table = pd.DataFrame({"frame": 0, "y": pixels, "x": pixels[::-1].copy()})
    for axis in ("y", "x"):
        table[f"{axis}_um"] = table[axis] * np.float32(0.13)
    placement = physical_placement(_float32_csv(table))
    assert placement is not None
    assert placement.scale == (0.13, 0.13) and placement.translate == (0.0, 0.0) and placement.unit == "um"

