"""The centre table every part of the project shares, and its export.

One row per particle centre: ``frame, y, x, score, source`` (pixels, pixel (0, 0)'s centre at 0.0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TABLE_COLUMNS = ["frame", "y", "x", "score", "source"]
# Where points come from: the network, the user, or the network and then confirmed by the user.
SOURCES = ("model", "added", "accepted")
# Columns of the other kinds (rods.COLUMNS, chains.COLUMNS) a table keeps when it has them, so a
# rods or chains project saves its frames whole.
KIND_COLUMNS = ("angle", "length", "width", "y1", "x1", "y2", "x2", "chain", "index", "closed")


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
    A volume's table keeps its ``z`` column (``frame,z,y,x,score,source``)."""
    table = table.copy()
    if frame is not None:
        table["frame"] = frame
    if "score" not in table.columns:
        table["score"] = np.nan
    if "source" not in table.columns:
        table["source"] = "added"
    table["source"] = table["source"].fillna("added").astype(str)
    columns = TABLE_COLUMNS[:1] + ["z"] + TABLE_COLUMNS[1:] if "z" in table.columns else TABLE_COLUMNS
    out = table[columns + [c for c in KIND_COLUMNS if c in table.columns]].reset_index(drop=True)
    out["frame"] = out["frame"].astype(int)
    floats = [c for c in ("z", "y", "x", "score") if c in columns]
    out[floats] = out[floats].astype(float)
    return out


def export_tables(table: pd.DataFrame, scale: tuple[float, float] = (1.0, 1.0), unit: str = "",
                  n_frames: int | None = None, reviewed: list[int] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(centres in pixels, plus physical ``y_<unit>, x_<unit>`` where the pixel size is not 1; count per frame)."""
    out = normalise_table(table).sort_values(["frame", "y", "x"], kind="stable").reset_index(drop=True)
    sy, sx = (float(s) for s in scale)
    if (sy, sx) != (1.0, 1.0):
        suffix = unit or "scaled"
        out[f"y_{suffix}"] = out["y"] * sy
        out[f"x_{suffix}"] = out["x"] * sx
    frames = range(n_frames) if n_frames is not None else sorted(set(out["frame"]))
    counts = out.groupby("frame").size()
    reviewed = set(reviewed or [])
    summary = pd.DataFrame({"frame": list(frames)})
    summary["count"] = [int(counts.get(f, 0)) for f in summary["frame"]]
    summary["reviewed"] = [f in reviewed for f in summary["frame"]]
    return out, summary
