"""Save a Points layer as a centre CSV: frame,y,x,score,source, as Export writes (frame 0 for 2D points); a volume's
3D centres as frame,z,y,x,score (+ z_um,y_um,x_um),source, as the Volume dock's Export writes them."""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParticleDetectError
from ..files.centre_csv import write_centres
from ..files.tables import ORIGIN_COLUMNS, with_physical, with_physical_refreshed
from .layers import ADDED_DEFAULTS, VOLUME_POINTS_KEY, copies_as_added, extra_columns, extras_as_read
from .layers import table_from_points, unit_suffix_of
from .layers import kept_physical
from .reader import kept_voxel_placement



def write_points(path: str, data: Any, meta: dict) -> list[str]:
    """npe2 single-layer writer for Points layers: the points shown (as Export), not those hidden."""
    data = np.asarray(data, dtype=float).reshape(-1, np.shape(data)[-1] if np.ndim(data) == 2 else 2)
    if is_volume_points(data, meta):
        return [str(_write_volume_points(_csv_path(path), data, meta))]
    if data.shape[1] not in (2, 3):
        raise ParticleDetectError(f"can only save 2D (y, x) or 3D (frame, y, x) points, not {data.shape[1]}D")
    features = meta.get("features")
    if features is not None and {"chain", "index"} <= set(features.columns):
        return _write_chain_beads(path, data, features, meta.get("metadata"))
    features = _placed_as_added(features)
    table = table_from_points(data, features)
    if features is not None and len(features) == len(table):
        # Measurements and track ids the layer carries go with it, as Export writes them.
        extras = [c for c in extra_columns(features) if c not in table.columns]
        carried = extras_as_read(features[extras].reset_index(drop=True), meta.get("metadata"))
        # Physical columns kept as features (drawn in pixels): those of points moved or added since, anew.
        table = with_physical_refreshed(pd.concat([table, carried], axis=1), **kept_physical(meta.get("metadata")))
    shown = meta.get("shown")
    if shown is not None and len(shown) == len(table):
        table = table[np.asarray(shown, dtype=bool)].reset_index(drop=True)
    table = with_physical(table, *_placement(meta))
    target = _csv_path(path)
    write_centres(table, target)
    return [str(target)]


def _placed_as_added(features: pd.DataFrame | None) -> pd.DataFrame | None:
    """A layer read from a table's ``features`` with napari's copy of the point selected when a point was placed
    (its score, source and measurements) as the point placed by hand that it is (layers.copies_as_added)."""
    return copies_as_added(features, ADDED_DEFAULTS) if features is not None else None


def _csv_path(path: str | Path) -> Path:
    target = Path(path)
    return target if target.suffix.lower() == ".csv" else target.with_suffix(".csv")


def is_volume_points(data: np.ndarray, meta: dict) -> bool:
    """Whether the points are a volume's centres: (frame, z, y, x), or (z, y, x) in a layer marked as 3D centres.
    Saved as (frame, y, x), a volume's z was written as its frame, rounded, and its series refused."""
    marked = isinstance(meta.get("metadata"), dict) and bool(meta["metadata"].get(VOLUME_POINTS_KEY))
    return data.shape[1] == 4 or (data.shape[1] == 3 and marked)


def _write_volume_points(target: Path, data: np.ndarray, meta: dict) -> Path:
    """The points shown as the Volume dock's Export writes a volume's centres: micrometres where the layer is drawn
    in lengths (its voxel size and origin), none in napari's default 'pixel' (the scale then says only the aspect);
    then the layer's measurements and track ids, as a 2D layer's are saved."""
    from ..projects.volume_review import export_volume_table
    from .volume_panel import scale_in_micrometres

    features = _placed_as_added(meta.get("features"))
    n = len(data)
    has = features is not None and len(features) == n
    table = pd.DataFrame({
        "frame": np.rint(data[:, 0]).astype(int) if data.shape[1] == 4 else np.zeros(n, dtype=int),
        "z": data[:, -3], "y": data[:, -2], "x": data[:, -1],
        "score": features["score"].to_numpy(float) if has and "score" in features else np.nan,
        "source": features["source"].astype(str).to_numpy() if has and "source" in features else "added"})
    extras = extras_as_read(_volume_extras(features), meta.get("metadata")) if has else pd.DataFrame(index=range(n))
    shown = meta.get("shown")
    if shown is not None and len(shown) == n:
        keep = np.asarray(shown, dtype=bool)
        table, extras = table[keep].reset_index(drop=True), extras[keep].reset_index(drop=True)
    scale = tuple(float(v) for v in (meta.get("scale") or (1.0,) * 3)[-3:])
    translate = tuple(float(v) for v in (meta.get("translate") or (0.0,) * 3)[-3:])
    voxel_um = scale_in_micrometres(scale, tuple(meta.get("units") or ())[-3:])
    origin = tuple(t / s for t, s in zip(translate, scale))
    kept = kept_voxel_placement(meta.get("metadata")) if voxel_um is None else None
    if kept is not None:  # drawn in voxels, its table's z_um, y_um, x_um are written from the map they were read on
        voxel_um, origin = kept[0], tuple(o / s for o, s in zip(kept[1], kept[0]))
    return export_volume_table(table, target, voxel_um, origin, extras)


def _volume_extras(features: pd.DataFrame) -> pd.DataFrame:
    """A volume layer's measurements and track ids (a linked table read back carries ``particle``). Not its
    micrometre columns, features of a table drawn in voxels: a centre dragged since would keep its old ones, and
    the export writes them from the layer's voxel size where it knows one."""
    physical = {"z_um", "y_um", "x_um", *ORIGIN_COLUMNS}
    return features[[c for c in extra_columns(features) if c not in physical]].reset_index(drop=True)


def _placement(meta: dict) -> tuple[tuple[float, float], tuple[float, float], str]:
    """The layer's pixel size, offset and unit (y, x), so the CSV's physical columns put the points back where
    napari drew them when the file is opened again."""
    scale = tuple(float(v) for v in (meta.get("scale") or (1.0, 1.0))[-2:])
    translate = tuple(float(v) for v in (meta.get("translate") or (0.0, 0.0))[-2:])
    return scale, translate, unit_suffix_of(meta.get("units"))


def _write_chain_beads(path: str, data: np.ndarray, features, metadata: dict | None = None) -> list[str]:
    """A beads layer (features chain, index) as a chains CSV, with its per-chain table beside it."""
    from ..kinds.registry import write_kind_table
    from .kind_layers import table_from_beads

    table = table_from_beads(data, features, metadata)
    if data.shape[1] == 2:
        table = table.drop(columns="frame")
    target = _csv_path(path)
    write_kind_table(table, target, "chains")
    return [str(target)]


def write_chain_layers(path: str, layer_data: list[tuple[Any, dict, str]]) -> list[str]:
    """npe2 multi-layer writer for a chains image's beads (Points) and paths (Shapes) saved together (File > Save
    Selected Layer(s) of both): its chains CSV, from the beads, as the beads layer saved alone writes it; the
    paths, drawn from the beads, add nothing to it. Without this writer napari found none for the pair, and
    said only that napari-svg had written nothing."""
    [(data, meta, _)] = [layer for layer in layer_data if layer[2] == "points"]
    others = [layer[1] for layer in layer_data if layer[2] != "points"]
    problem = _not_beads_with_paths(meta, others)
    if problem:
        raise ParticleDetectError(f"{Path(path).name}: {problem}; a CSV holds one table: save each layer on its own "
                                  "(File > Save Selected Layer(s) with one selected)")
    return write_points(path, data, meta)


def _not_beads_with_paths(beads: dict, paths: list[dict]) -> str | None:
    """Why a Points layer and Shapes layers saved together are not a chains image's beads with their paths
    (:func:`kind_layers.chain_layers_data`); None when they are."""
    from .kind_layers import CHAIN_PATHS_KEY

    features = beads.get("features")
    name = str(beads.get("name") or "")
    if features is None or not {"chain", "index"} <= set(features.columns):
        return f"'{name}' holds no chains' beads (features chain, index)"
    for meta in paths:
        other = str(meta.get("name") or "")
        if not (isinstance(meta.get("metadata"), dict) and meta["metadata"].get(CHAIN_PATHS_KEY)):
            return f"'{other}' is no chains image's paths, which alone go with its beads '{name}'"
        if name.endswith(" beads") and other.endswith(" chains") and name[: -len(" beads")] != other[: -len(" chains")]:
            return f"'{other}' are another image's paths than those of '{name}'"
    return None


def write_rod_lines(path: str, data: Any, meta: dict) -> list[str]:
    """npe2 single-layer writer for Shapes layers of lines: a rods CSV (one row per line)."""
    from ..kinds.registry import write_kind_table
    from .kind_layers import is_rod_shape, table_from_rod_lines

    _refuse_chain_paths(path, meta)
    data = list(data)
    shape_types = meta.get("shape_type")
    if shape_types is not None:
        others = [kind for kind, vertices in zip(shape_types, data) if not is_rod_shape(kind, np.asarray(vertices))]
        if data and len(others) == len(data):
            raise ParticleDetectError(
                f"this layer holds no lines ({_counted(others)}): a rods CSV is one row per line; a chains "
                f"layer's beads (its Points layer) are what saves as a chains CSV")
        if others:
            _warn(f"{_counted(others)} left out of {Path(path).name}: only lines are rods")
    table = table_from_rod_lines(data, meta.get("features"), shape_types, meta.get("metadata"))
    if len(data) and np.shape(data[0])[-1] == 2:
        table = table.drop(columns="frame")
    target = _csv_path(path)
    write_kind_table(table, target, "rods")
    return [str(target)]


def _warn(message: str) -> None:
    """A Python warning, and a notification where napari would not show it: File > Save records the writer's
    warnings and shows them only when nothing was saved, so a shape left out went unsaid."""
    from napari.utils.notifications import notification_manager
    from .notify import show_warning

    warnings.warn(message, stacklevel=3)
    if getattr(warnings.showwarning, "__self__", None) is not notification_manager:
        show_warning(message)


def _refuse_chain_paths(path: str, meta: dict) -> None:
    """Refuse a chains image's paths layer (:func:`kind_layers.chain_layers_data`): its beads are the table."""
    from .kind_layers import CHAIN_PATHS_KEY

    if isinstance(meta.get("metadata"), dict) and meta["metadata"].get(CHAIN_PATHS_KEY):
        name = str(meta.get("name") or "")
        beads = f"'{name[: -len(' chains')]} beads'" if name.endswith(" chains") else "its beads layer"
        types = _counted(list(meta.get("shape_type") or [])) or "none drawn"
        raise ParticleDetectError(f"{Path(path).name}: '{name}' holds no lines ({types}) but a chains image's paths, "
                                  f"drawn from its beads: save {beads} (its Points layer) as the chains CSV")


def _counted(shape_types: list[str]) -> str:
    """'3 paths, 1 rectangle'."""
    return ", ".join(f"{n} {kind}{'s' if n > 1 else ''}" for kind, n in Counter(shape_types).most_common())
