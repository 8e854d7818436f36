"""Detection accuracy in 2 or 3 dimensions: one-to-one matching in physical space.

Volumes have voxels longer in z than in xy, so positions are scaled by the voxel size before
matching: a tolerance of half a diameter means the same physical distance along every axis.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from ..errors import ParticleDetectError
from ..files.tables import FROM_COLUMNS, VoxelSize, resolve_voxel_size, table_voxel_size
from .border_band import LEFT_OUT, check_border, inside_border, per_frame
from .evaluation import (border_row, check_tolerance, f1_score, frame_numbers, match_points, paired_by_file,
                         some_of, warn_frame_numbering, with_pooled_row)
from .file_pairing import label_frames
from .tables import refuse_frames_against_none

log = logging.getLogger(__name__)

# One value for every volume, or each volume's by its file (tables with a file column) or frame number.
PerVolume = Sequence[float] | Mapping[object, Sequence[float]]


def match_nd(predicted: np.ndarray, truth: np.ndarray, tolerance: float,
             scale: tuple[float, ...] | np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (pred, truth) of the largest, then closest, one-to-one matching within ``tolerance``,
    distances measured after multiplying coordinates by ``scale`` (per axis; None: 1)."""
    truth = np.asarray(truth, dtype=float)
    ndim = truth.shape[1] if truth.ndim == 2 and truth.shape[1] else np.asarray(predicted).reshape(len(predicted), -1).shape[1] if len(predicted) else 3
    predicted = np.asarray(predicted, dtype=float).reshape(-1, ndim)
    truth = truth.reshape(-1, ndim)
    s = np.ones(ndim) if scale is None else np.asarray(scale, dtype=float)
    return match_points(predicted * s, truth * s, tolerance)


@dataclass
class Scores3D:
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    rms_z: float  # voxels
    rms_y: float
    rms_x: float

    def to_dict(self) -> dict:
        return asdict(self)


def score_nd(predicted: np.ndarray, truth: np.ndarray, tolerance: float,
             scale: tuple[float, ...] | None = None, shape: tuple[int, ...] | None = None,
             margin: tuple[float, ...] | None = None) -> Scores3D:
    """Precision, recall, F1 and the RMS error per axis (in voxels) of (z, y, x) centres.

    With ``shape`` and ``margin`` (voxels per axis), only the inner box ``margin`` away from the faces
    counts: its true centres must be found (by a prediction anywhere), and a prediction unmatched is
    false only inside it, since near a face the truth (centres inside the volume) is a convention.
    """
    predicted, truth = zyx_points(predicted, "predicted"), zyx_points(truth, "truth")
    tolerance = check_tolerance(tolerance)
    if shape is None or margin is None:
        pi, ti = match_nd(predicted, truth, tolerance, scale)
        return _scores(len(pi), len(predicted) - len(pi), len(truth) - len(ti), predicted[pi] - truth[ti])
    lo, hi = np.asarray(margin, float) - 0.5, np.asarray(shape, float) - 0.5 - np.asarray(margin, float)
    inner_t = np.all((truth >= lo) & (truth <= hi), axis=1)
    inner_p = np.all((predicted >= lo) & (predicted <= hi), axis=1)
    pi, ti = match_nd(predicted, truth, tolerance, scale)
    found = np.zeros(len(truth), bool)
    found[ti] = True
    used = np.zeros(len(predicted), bool)
    used[pi] = True
    keep = inner_t[ti]
    tp = int(keep.sum())
    return _scores(tp, int((inner_p & ~used).sum()), int((inner_t & ~found).sum()),
                   predicted[pi[keep]] - truth[ti[keep]])


def zyx_points(points: object, name: str) -> np.ndarray:
    """``points`` as an (N, 3) float array of z, y, x: anything empty is no points; another shape (an (N, 2)
    array was read as 2/3 N points) is a ValueError naming ``name``, a missing coordinate a ParticleDetectError."""
    values = np.asarray(points, dtype=float)
    if values.size == 0:
        return np.zeros((0, 3))
    if values.ndim != 2 or values.shape[1] != 3:
        raise ValueError(f"{name} must be an (N, 3) array of z, y, x points, got shape {values.shape}"
                         + ("; (y, x) points are scored by kinds.evaluation.score" if values.shape[1:] == (2,) else ""))
    if not np.isfinite(values).all():
        bad = int((~np.isfinite(values)).any(axis=1).sum())
        raise ParticleDetectError(f"{name}: {some_of(bad, len(values), 'points')} a missing (NaN) or infinite "
                                  "coordinate")
    return values


def _scores(tp: int, fp: int, fn: int, offsets: np.ndarray) -> Scores3D:
    rms = np.sqrt((offsets**2).mean(axis=0)) if len(offsets) else np.full(3, np.nan)
    return Scores3D(tp, fp, fn, tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0,
                    f1_score(tp, fp, fn), float(rms[0]), float(rms[1]), float(rms[2]))


def evaluate_volumes(predicted: pd.DataFrame, truth: pd.DataFrame, tolerance: float = 3.0,
                     scale: PerVolume | None = None, border: float = 0.0,
                     shape: PerVolume | None = None) -> pd.DataFrame:
    """Per-frame (per-volume) scores and a pooled ``all`` row, from two ``frame,z,y,x`` tables (``frame``
    optional); a table without z, y, x or with missing coordinates is one ParticleDetectError naming it.
    ``tolerance`` (default 3, as evaluate_frames'): the farthest a prediction may lie from its true centre,
    in y voxels, once the coordinates are multiplied by ``scale``, each axis' voxel size over y's ((2, 1, 1):
    z steps twice the pixel size; the command line's --voxel-size gives it so).
    ``scale`` None (default): each volume's as ``particle-detect evaluate`` reads it, from the tables'
    z_um,y_um,x_um columns (detect writes them for volumes of a known voxel size; :func:`voxel_sizes_by_file`),
    one ParticleDetectError where predicted's and truth's give other proportions; without columns, cubic voxels
    (warned). A ``scale`` given overrides the columns.
    Tables with a ``file`` column (detect's table of several files) are scored file by file as
    ``evaluate_frames`` scores them: the result gains a ``file`` column. ``scale`` may differ from file to file
    (volumes of other voxel sizes): a mapping from each file (tables with a file column) or frame number to its
    own. rms_z, rms_y and rms_x are in the tolerance's unit, y voxels (a z voxel's error reads ``scale[0]`` times
    as long as in z voxels).

    ``border`` (y voxels, 0: none) leaves out of the scores the centres within ``border`` of a face, as
    ``evaluate_frames``' border does in 2D: ``border / scale`` voxels along each axis; a pair counts where its
    true centre lies, and the result gains ``left_out_truth`` and ``left_out_predicted``. ``shape``, needed with
    a border: the volumes' (z, y, x) in voxels, one for all or a mapping as for ``scale``. Every frame of the
    truth is scored: of predictions of part of a series the caller picks the truth's frames, as for
    ``evaluate_frames``."""
    tolerance = check_tolerance(tolerance)
    for name, table in (("predicted", predicted), ("truth", truth)):
        if not isinstance(table, pd.DataFrame):
            raise TypeError(f"evaluate_volumes: {name} must be a pandas DataFrame with z, y, x columns, got "
                            f"{type(table).__name__}")
        missing = [c for c in ("z", "y", "x") if c not in table.columns]
        if missing:
            raise ParticleDetectError(f"{name}: a table of volume centres needs columns z, y and x (no "
                                      f"{', '.join(missing)})")
        zyx_points(table[["z", "y", "x"]].to_numpy(float), name)
    refuse_frames_against_none(predicted, truth, "centres")
    predicted = predicted if "frame" in predicted.columns else predicted.assign(frame=0)
    truth = truth if "frame" in truth.columns else truth.assign(frame=0)
    if "file" not in predicted.columns and "file" not in truth.columns:  # paired by file: numbered anew alike
        warn_frame_numbering(predicted, truth)
    # Without pairing, frame 0 of every file was pooled into one volume and matched across files.
    predicted, truth, labels = paired_by_file(predicted, truth)
    frames = frame_numbers(predicted, truth)
    if scale is None:
        scale = _scale_from_columns(predicted, truth, labels)
    scales = _per_volume(scale, labels, frames, "scale", "voxel size over y's, (z, y, x)")
    border = check_border(border)
    if border and shape is None:
        raise ValueError("a border needs the volumes' size: give shape=(z, y, x)")
    shapes = _per_volume(shape, labels, frames, "shape", "size in voxels, (z, y, x)", whole=True) if border else None
    rows, offsets = [], []
    for frame in frames:
        p = predicted.loc[predicted["frame"] == frame, ["z", "y", "x"]].to_numpy(float)
        t = truth.loc[truth["frame"] == frame, ["z", "y", "x"]].to_numpy(float)
        margin = border / scales[frame]
        inside = None if shapes is None else tuple(inside_border(points, shapes[frame], margin) for points in (p, t))
        # Offsets in y voxels, as the tolerance.
        row, counted_offsets = border_row(frame, p, t, match_nd(p, t, tolerance, scales[frame]), inside, _scores,
                                          scales[frame])
        rows.append(row)
        offsets.append(counted_offsets)
    return label_frames(with_pooled_row(rows, offsets, _scores, summed=LEFT_OUT if shapes is not None else ()), labels)


def voxel_sizes_by_file(predicted: pd.DataFrame, truth: pd.DataFrame, labels: list[tuple[str, int]] | None,
                        given: Sequence[float] | None = None, names: tuple[str, str] = ("predicted", "truth"),
                        option: str = "scale") -> dict[str | None, VoxelSize]:
    """Each file's voxel size (key None where the paired tables name no file) of two tables ``evaluation.pair_files``
    paired (``labels``: the (file, frame) of each frame number), as ``evaluate`` and :func:`evaluate_volumes`
    read it: ``given`` (named ``option`` in messages) for every file, refused where a table's z_um,y_um,x_um
    columns give other proportions, else the one their columns give, refused where predicted's (``names[0]``)
    and truth's (``names[1]``) disagree (tables.resolve_voxel_size); VoxelSize(None) where neither tells, the
    caller choosing what then (the command line reads the records beside its files)."""
    sizes = {}
    for name in (dict.fromkeys(file for file, _ in labels) if labels is not None else [None]):
        frames = [n for n, (file, _) in enumerate(labels) if file == name] if labels is not None else None
        tables = [(source if name is None else f"{source} ({name})",
                   table if frames is None else table[table["frame"].isin(frames)])
                  for source, table in zip(names, (predicted, truth))]
        if given is None and all(table_voxel_size(table) is None for _, table in tables):
            sizes[name] = VoxelSize(None)
        else:
            sizes[name] = resolve_voxel_size(given, tables, log, "", option)
    return sizes


def _scale_from_columns(predicted: pd.DataFrame, truth: pd.DataFrame,
                        labels: list[tuple[str, int]] | None) -> dict[object, np.ndarray] | np.ndarray:
    """:func:`evaluate_volumes`' scale where none is given: each file's voxel size over its y's, from the tables'
    columns, else cubes."""
    proportions = {}
    for name, found in voxel_sizes_by_file(predicted, truth, labels).items():
        where = "predicted and truth" if name is None else f"file {name}"
        if found.size is None:
            log.warning("%s: no voxel size (no scale, no z_um,y_um,x_um columns): matched as if the voxels were "
                        "cubes; give scale=(z, y, x) if the z step differs from the pixel", where)
            proportions[name] = np.ones(3)
        else:
            log.info("%s: voxel size %s from %s (the tolerance is in y voxels)", found.table, found.describe(),
                     FROM_COLUMNS)
            proportions[name] = np.asarray(found.size, dtype=float) / found.size[1]
    return proportions if labels is not None else proportions[None]


def _per_volume(value: PerVolume, labels: list[tuple[str, int]] | None, frames: list[int], name: str, meaning: str,
                whole: bool = False) -> dict[int, np.ndarray]:
    """Each frame number's three positive numbers (whole ones with ``whole``) from ``value``, one for all of
    them or a mapping as :func:`evaluate_volumes` takes it; a ValueError naming ``name`` otherwise."""
    def three_numbers(given: object, where: str) -> np.ndarray:
        try:
            numbers = np.asarray(given, dtype=float)
        except (TypeError, ValueError):
            numbers = np.zeros(0)
        if numbers.shape != (3,) or not np.all(np.isfinite(numbers) & (numbers > 0)) or (
                whole and not np.all(numbers == np.round(numbers))):
            raise ValueError(f"{where} must be the volume's {meaning}: three positive{' whole' if whole else ''} "
                             f"numbers, got {given!r}")
        return numbers

    return per_frame(value, labels, frames, name, meaning, three_numbers)
