"""Save a Points layer as a centre CSV: frame,y,x,score,source, as Export writes (frame 0 for 2D points)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ParticleDetectError
from ..io import write_centres
from .layers import table_from_points


def write_points(path: str, data: Any, meta: dict) -> list[str]:
    """npe2 single-layer writer for Points layers: the points shown (as Export), not those hidden."""
    data = np.asarray(data, dtype=float).reshape(-1, np.shape(data)[-1] if np.ndim(data) == 2 else 2)
    if data.shape[1] not in (2, 3):
        raise ParticleDetectError(f"can only save 2D (y, x) or 3D (frame, y, x) points, not {data.shape[1]}D")
    table = table_from_points(data, meta.get("features"))
    shown = meta.get("shown")
    if shown is not None and len(shown) == len(table):
        table = table[np.asarray(shown, dtype=bool)].reset_index(drop=True)
    target = Path(path)
    if target.suffix.lower() != ".csv":
        target = target.with_suffix(".csv")
    write_centres(table, target)
    return [str(target)]
