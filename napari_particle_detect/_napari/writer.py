"""Save a Points layer as a centre CSV: frame,y,x,score,source, as Export writes (frame 0 for 2D points)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ParticleDetectError
from ..files.io import write_centres
from .layers import table_from_points


def write_points(path: str, data: Any, meta: dict) -> list[str]:
    """npe2 single-layer writer for Points layers: the points shown (as Export), not those hidden."""
    data = np.asarray(data, dtype=float).reshape(-1, np.shape(data)[-1] if np.ndim(data) == 2 else 2)
    if data.shape[1] not in (2, 3):
        raise ParticleDetectError(f"can only save 2D (y, x) or 3D (frame, y, x) points, not {data.shape[1]}D")
    features = meta.get("features")
    if features is not None and {"chain", "index"} <= set(features.columns):
        return _write_chain_beads(path, data, features)
    table = table_from_points(data, features)
    shown = meta.get("shown")
    if shown is not None and len(shown) == len(table):
        table = table[np.asarray(shown, dtype=bool)].reset_index(drop=True)
    target = Path(path)
    if target.suffix.lower() != ".csv":
        target = target.with_suffix(".csv")
    write_centres(table, target)
    return [str(target)]


def _write_chain_beads(path: str, data: np.ndarray, features) -> list[str]:
    """A beads layer (features chain, index) as a chains CSV, with its per-chain table beside it."""
    from ..kinds.registry import write_kind_table
    from .kind_layers import table_from_beads

    table = table_from_beads(data, features)
    if data.shape[1] == 2:
        table = table.drop(columns="frame")
    target = Path(path) if Path(path).suffix.lower() == ".csv" else Path(path).with_suffix(".csv")
    write_kind_table(table, target, "chains")
    return [str(target)]


def write_rod_lines(path: str, data: Any, meta: dict) -> list[str]:
    """npe2 single-layer writer for Shapes layers of lines: a rods CSV (one row per line)."""
    from ..kinds.registry import write_kind_table
    from .kind_layers import table_from_rod_lines

    table = table_from_rod_lines(list(data), meta.get("features"), meta.get("shape_type"))
    if len(data) and np.shape(data[0])[-1] == 2:
        table = table.drop(columns="frame")
    target = Path(path) if Path(path).suffix.lower() == ".csv" else Path(path).with_suffix(".csv")
    write_kind_table(table, target, "rods")
    return [str(target)]
