"""Float32's rounding allowed only to columns that may be float32's: a float32 volume table's voxel size reads
as the size it was computed with (not 0.129999995), while a double precision table whose physical columns miss
its pixels by more than double precision's noise places no layer."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from napari_particle_detect.files.tables import physical_placement, table_voxel_placement


def _as_read_back(table: pd.DataFrame) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(table.to_csv(index=False)))


def _volume_table(rows: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"frame": 0, "z": rng.uniform(0, 20, rows), "y": rng.uniform(0, 200, rows),
                         "x": rng.uniform(0, 200, rows)})


def test_a_float32_volume_table_reads_its_voxel_size_without_float32_noise():
    table = _volume_table()
    for axis, size in zip("zyx", (0.5, 0.13, 0.13)):
        table[f"{axis}_um"] = table[axis].astype(np.float32) * np.float32(size)
    expected = ((0.5, 0.13, 0.13), (0.0, 0.0, 0.0))
    assert table_voxel_placement(table) == expected
    assert table_voxel_placement(_as_read_back(table)) == expected


def test_double_precision_columns_a_little_off_their_pixels_place_no_layer():
    rng = np.random.default_rng(2)
    table = pd.DataFrame({"frame": 0, "y": rng.uniform(0, 500, 200), "x": rng.uniform(0, 500, 200)})
    # Every other row 4e-6 µm off: under float32's rounding of these values, far over double precision's.
    table["y_um"] = table["y"] * 0.13 + np.where(np.arange(len(table)) % 2, 4e-6, 0.0)
    table["x_um"] = table["x"] * 0.13
    assert physical_placement(table) is None
    assert physical_placement(_as_read_back(table)) is None
    # The same columns as float32 keep theirs: that much is their own rounding.
    single = table.astype({"y_um": np.float32, "x_um": np.float32})
    assert physical_placement(_as_read_back(single)) is not None
