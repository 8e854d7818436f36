"""Detection accuracy: optimal one-to-one matching within a tolerance, and the usual metrics."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from ..errors import listed
from ..files.io import save_figure
from .file_pairing import label_frames, pair_files
from .tables import refuse_frames_against_none, warn_frame_numbering
# The border's rules live in border_band; they are named here too, where evaluate_frames' callers find them.
from .border_band import (LEFT_OUT, ImageShape, Pairs, check_border, frame_shapes, image_size,  # noqa: F401
                          inside_border, kept_at_border)
from ..wording import not_whole

log = logging.getLogger(__name__)


@dataclass
class Scores:
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    mean_error: float
    rms_error: float

    def to_dict(self) -> dict:
        return asdict(self)


def match(predicted: np.ndarray, truth: np.ndarray, tolerance: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (pred_idx, truth_idx) of the minimum-total-distance matching within ``tolerance``.

    Pairs farther apart than the tolerance are forbidden, not merely expensive, so the assignment
    maximises the number of matches first and then minimises their total distance.
    """
    tolerance = check_tolerance(tolerance)
    return match_points(as_points(predicted, "predicted"), as_points(truth, "truth"), tolerance)


def check_tolerance(tolerance: float) -> float:
    """``tolerance`` as a float: a positive, finite number of pixels, else a TypeError or ValueError naming it
    (a negative or NaN tolerance matches nothing, silently scoring F1 0)."""
    if isinstance(tolerance, (bool, np.bool_)) or not isinstance(tolerance, (int, float, np.integer, np.floating)):
        raise TypeError(f"tolerance must be a number of pixels, got {tolerance!r}")
    if not (np.isfinite(tolerance) and tolerance > 0):
        raise ValueError(f"tolerance must be a positive number of pixels, got {tolerance!r}")
    return float(tolerance)


def as_points(points: object, name: str) -> np.ndarray:
    """``points`` as an (N, 2) float array of y, x: an (N, 2) array (anything empty is no points) or a table
    of one image with ``y, x`` columns. A TypeError or ValueError naming ``name`` for anything else (an
    (N, 3) array was once read as 1.5 N points), one ParticleDetectError for a table without y, x, a rods or
    chains table (its angles, lengths or chains would be left out unsaid), or a missing or infinite
    coordinate."""
    from ..errors import ParticleDetectError

    if isinstance(points, pd.DataFrame):
        require_sphere_table(points, name)
        missing = [c for c in ("y", "x") if c not in points.columns]
        if missing:
            raise ParticleDetectError(f"{name}: a table of centres needs columns y and x (no {', '.join(missing)}; "
                                      f"its columns: {listed([str(c) for c in points.columns])})")
        if "z" in points.columns:
            raise ParticleDetectError(f"{name}: has a z column (centres of a volume); score (z, y, x) points with "
                                      "kinds.evaluation3d.score_nd, frame,z,y,x tables with evaluate_volumes")
        for key in ("file", "frame"):
            if key in points.columns and points[key].nunique() > 1:
                raise ParticleDetectError(f"{name}: holds {points[key].nunique()} {key}s; score() compares the "
                                          "points of one image: score frame,y,x tables with evaluate_frames")
        try:
            values = points[["y", "x"]].to_numpy(dtype=float)
        except (TypeError, ValueError):
            raise ParticleDetectError(f"{name}: its y and x columns must hold numbers") from None
    else:
        if isinstance(points, (str, bytes, dict)):
            raise TypeError(f"{name} must be an (N, 2) array of y, x points or a table with y, x columns, "
                            f"got {type(points).__name__}")
        try:
            values = np.asarray(points, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be an (N, 2) array of y, x points (numbers) or a table with y, x "
                            f"columns, got {type(points).__name__}") from None
    if values.size == 0:
        return np.zeros((0, 2))
    if values.ndim != 2 or values.shape[1] != 2:
        hint = ("; (z, y, x) points are scored by kinds.evaluation3d.score_nd" if values.shape[1:] == (3,)
                else "; one point is [[y, x]]" if values.shape == (2,) else "")
        raise ValueError(f"{name} must be an (N, 2) array of y, x points, got shape {values.shape}{hint}")
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        raise ParticleDetectError(f"{name}: {some_of(int(bad.sum()), len(values), 'points')} a missing (NaN) or "
                                  f"infinite coordinate (the first: point {int(np.argmax(bad))})")
    return values


def some_of(some: int, total: int, things: str) -> str:
    """'1 of 3 rows has', '2 of 3 rows have': the verb agrees with the ones counted."""
    return f"{some} of {total} {things} {'has' if some == 1 else 'have'}"


def match_points(predicted: np.ndarray, truth: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`match` for (N, D) points in any number of dimensions D (already in the units of ``tolerance``).

    Pairs within the tolerance fall apart into small groups nobody outside can reach, so each group is
    solved on its own: most are one prediction beside one centre, and one dense assignment over a
    crowded 512 px frame (1,500 x 1,500) cost seconds a fine-tuning round (its scoring and criterion
    match dozens of times)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    empty = np.zeros(0, dtype=int)
    if len(predicted) == 0 or len(truth) == 0:
        return empty, empty
    pairs = cKDTree(predicted).sparse_distance_matrix(cKDTree(truth), tolerance, output_type="ndarray")
    pairs = pairs[pairs["v"] <= tolerance]
    if len(pairs) == 0:
        return empty, empty
    pi, ti, dist = pairs["i"].astype(int), pairs["j"].astype(int), pairs["v"].astype(float)
    n_pred = len(predicted)
    graph = coo_matrix((np.ones(len(pi)), (pi, n_pred + ti)), shape=(n_pred + len(truth),) * 2)
    _, group_of_node = connected_components(graph, directed=False)
    group = group_of_node[pi]
    alone = np.bincount(group)[group] == 1
    rows, cols = [pi[alone]], [ti[alone]]
    crowded = np.flatnonzero(~alone)
    crowded = crowded[np.argsort(group[crowded], kind="stable")]
    starts = np.flatnonzero(np.diff(group[crowded], prepend=-1))
    for edges in np.split(crowded, starts[1:]):
        r_ids, r_at = np.unique(pi[edges], return_inverse=True)
        c_ids, c_at = np.unique(ti[edges], return_inverse=True)
        # Big constant so any feasible match beats no match; distances break the ties.
        cost = np.full((len(r_ids), len(c_ids)), 1e6)
        cost[r_at, c_at] = dist[edges] - 1e3
        r, c = linear_sum_assignment(cost)
        keep = cost[r, c] < 1e6
        rows.append(r_ids[r[keep]])
        cols.append(c_ids[c[keep]])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    order = np.argsort(rows, kind="stable")
    return rows[order], cols[order]


def f1_score(tp: float, fp: float, fn: float) -> float:
    """The one F1 of this project: 2TP / (2TP + FP + FN); 1 when there is nothing to find and nothing found."""
    total = 2 * tp + fp + fn
    return float(2 * tp / total) if total else 1.0


@dataclass
class Counts:
    """Matches, false positives and misses, pooled over images or regions (add them up with ``+``)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    sq_err: float = 0.0  # sum of squared localisation errors of the matches

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.sq_err + other.sq_err)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        return f1_score(self.tp, self.fp, self.fn)

    @property
    def rms(self) -> float:
        return float(np.sqrt(self.sq_err / self.tp)) if self.tp else float("nan")


def count_in_area(
    predicted: np.ndarray, truth: np.ndarray, area: np.ndarray | None = None, tolerance: float = 3.0
) -> Counts:
    """Counts of ``predicted`` against ``truth`` where ``truth`` is complete only inside ``area``.

    ``area`` is a boolean mask in pixels (None: the whole image, everything counts); a 3D mask
    takes (z, y, x) points (a volume's reviewed box on an isotropic grid). A true centre
    inside the area is matched to any prediction within the tolerance, also one just outside; an
    unmatched prediction counts as false only when it lies at least the tolerance inside the
    area, since near the edge it may belong to a particle outside, which nobody has reviewed.
    """
    ndim = 2 if area is None else np.ndim(area)
    predicted = np.asarray(predicted, dtype=float).reshape(-1, ndim)
    if area is None:
        truth = np.asarray(truth, dtype=float).reshape(-1, ndim)
        pi, ti = match(predicted, truth, tolerance)
        err = predicted[pi] - truth[ti]
        return Counts(len(pi), len(predicted) - len(pi), len(truth) - len(ti), float((err**2).sum()))
    return counts_by_threshold(predicted, np.ones(len(predicted)), truth, area, (0.0,), tolerance)[0]


def counts_by_threshold(
    predicted: np.ndarray, scores: np.ndarray, truth: np.ndarray, area: np.ndarray,
    thresholds: Sequence[float], tolerance: float = 3.0,
) -> list[Counts]:
    """:func:`count_in_area` of the predictions scoring above each threshold, the area's distance
    maps computed once (a round scores its held-out tiles at a dozen thresholds)."""
    from scipy import ndimage

    area = np.asarray(area, dtype=bool)
    ndim = area.ndim
    predicted = np.asarray(predicted, dtype=float).reshape(-1, ndim)
    scores = np.asarray(scores, dtype=float).reshape(-1)
    truth = np.asarray(truth, dtype=float).reshape(-1, ndim)
    depth = ndimage.distance_transform_edt(area)  # distance to the nearest pixel outside the area
    reach = ndimage.distance_transform_edt(~area)  # distance to the area, outside it
    truth = truth[mask_value_at(area, truth)]
    close = mask_value_at(reach <= tolerance + 0.5, predicted)
    near, near_scores = predicted[close], scores[close]
    deep = mask_value_at(depth > tolerance, near)
    out = []
    for threshold in thresholds:
        keep = near_scores > threshold
        points = near[keep]
        pi, ti = match_points(points, truth, tolerance)
        unmatched = np.ones(len(points), dtype=bool)
        unmatched[pi] = False
        err = points[pi] - truth[ti]
        out.append(Counts(len(pi), int((unmatched & deep[keep]).sum()), len(truth) - len(ti), float((err**2).sum())))
    return out


def best_threshold_index(f1s: Sequence[float], tie: float = 1e-9) -> int:
    """Index of the best of ``f1s`` (scored at ascending thresholds); where several tie at the best,
    the middle one of them.

    A round's few held-out particles often score the same F1 over a wide range of thresholds, and
    the lowest of them shows every faint candidate on the next frames (a round scoring 1.000 from
    0.10 to 0.70 set the user's threshold to 0.10): the middle is where the evidence argues least."""
    values = np.asarray(f1s, dtype=float)
    tied = np.flatnonzero(values >= values.max() - tie)
    return int(tied[len(tied) // 2])


def mask_value_at(mask: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``mask`` at each point's nearest pixel (False outside the image); points have one coordinate per mask axis."""
    points = np.asarray(points, dtype=float)
    if not len(points):
        return np.zeros(0, dtype=bool)
    index = np.rint(points[:, : mask.ndim]).astype(int)
    inside = np.all((index >= 0) & (index < np.array(mask.shape)), axis=1)
    out = np.zeros(len(points), dtype=bool)
    out[inside] = mask[tuple(index[inside].T)]
    return out


def score(predicted: np.ndarray | pd.DataFrame, truth: np.ndarray | pd.DataFrame, tolerance: float = 3.0) -> Scores:
    """Precision, recall, F1 and localisation error of the centres ``predicted`` against ``truth`` in one image.

    Each is an (N, 2) array of y, x (an empty array: no centres) or a table with ``y, x`` columns (as
    :func:`~napari_particle_detect.detect` returns for one image). Centres are paired one to one, the most
    pairs within ``tolerance`` pixels (inclusive), then the closest (:func:`match`); an unpaired prediction
    is a false positive, an unpaired true centre a miss. With nothing to find and nothing found, F1 is 1.
    ``mean_error`` and ``rms_error`` are over the pairs (NaN without any). Tables of several frames are
    scored frame by frame with :func:`evaluate_frames`; (z, y, x) points with
    ``kinds.evaluation3d.score_nd``. Anything else (another shape, a tolerance that is not a positive
    number) is a ValueError or TypeError naming it; a missing coordinate, or a rods or chains table
    (``kinds.rods.evaluate_rods``, ``kinds.chains.evaluate_chains``), a ParticleDetectError.
    """
    tolerance = check_tolerance(tolerance)
    predicted, truth = as_points(predicted, "predicted"), as_points(truth, "truth")
    pi, ti = match_points(predicted, truth, tolerance)
    return _scores(len(pi), len(predicted) - len(pi), len(truth) - len(ti), predicted[pi] - truth[ti])


def _scores(tp: int, fp: int, fn: int, offsets: np.ndarray) -> Scores:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = f1_score(tp, fp, fn)
    err = np.linalg.norm(offsets, axis=1) if len(offsets) else np.zeros(0)
    return Scores(
        tp=tp,
        fp=fp,
        fn=fn,
        precision=precision,
        recall=recall,
        f1=f1,
        mean_error=float(err.mean()) if len(err) else float("nan"),
        rms_error=float(np.sqrt((err**2).mean())) if len(err) else float("nan"),
    )


def evaluate_frames(predicted: pd.DataFrame, truth: pd.DataFrame, tolerance: float = 3.0, border: float = 0.0,
                    shape: ImageShape | None = None) -> pd.DataFrame:
    """Per-frame scores and a pooled ``all`` row, from two ``frame,y,x`` tables (DataFrames; no frame
    column: one frame, 0). Two empty tables score one ``all`` row of F1 1 (nothing to find, nothing found).

    ``border`` (px, 0: none) leaves out of the scores the centres within ``border`` of the image edge, as
    the benchmarks do (``benchmarks/_common.score_counts``): a truth table that lists only the centres
    inside the image (the generator's: particles centred just outside are drawn, cut by the edge, but
    not listed) makes every detection of such a particle a false positive. Centres are paired among all
    of them, so no pair is cut in two at the band; then a pair counts where its true centre lies, an
    unpaired centre where it lies. The result gains ``left_out_truth`` and ``left_out_predicted``: the
    true centres in the band, and the predictions neither paired with a counted centre nor unpaired
    inside. ``shape``, needed with a border (checked, though unused, without one): the image's (height,
    width) in px, of every frame, or a mapping from each file (tables with a file column) or frame number
    (tables without) to its own.

    Tables with a ``file`` column (detect's table of several images) are scored file by file as
    ``particle-detect evaluate`` scores them (:func:`pair_files`): the result gains a ``file`` column; a
    predicted file without truth is left out of the scores and a true one without predictions counts as
    missed, each warned about. Refused, each with one error naming the table: a column
    missing, a missing coordinate, frames that are not whole numbers, a table without frames against one of
    several frames of an image (it would be scored as frame 0), a z column (volumes:
    ``kinds.evaluation3d.evaluate_volumes``), a rods or chains table (``kinds.rods.evaluate_rods``,
    ``kinds.chains.evaluate_chains``), arrays (one image's (N, 2) points: :func:`score`), and a tolerance
    that is not a positive number. Two tables that share no frame number (a truth frame numbered 1,
    detect's frame 0) are still scored, every frame F1 0, with a warning (logging) naming both tables'
    frames. Every frame of the truth is scored: where the predictions are of part of a stack (``detect
    --frames``, or a run left unfinished: its .json's ``frames_detected`` or ``frames_done``), the caller
    picks those frames of the truth (``truth[truth["frame"].isin(frames)]``), as ``particle-detect evaluate``
    does."""
    tolerance = check_tolerance(tolerance)
    border = check_border(border)
    predicted, truth, labels = _frame_tables(predicted, truth, "evaluate_frames")
    # Checked even where no border uses it: a wrong shape=(1, 2, 3) was taken without a word.
    shapes = frame_shapes(shape, labels, frame_numbers(predicted, truth)) if border or shape is not None else None
    return label_frames(_scored_frames(predicted, truth, tolerance, border, shapes if border else None), labels)


def frame_numbers(predicted: pd.DataFrame, truth: pd.DataFrame) -> list[int]:
    """The frame numbers of two checked tables, in order."""
    return sorted(set(predicted["frame"]).union(truth["frame"]))


def _frame_rows(predicted: pd.DataFrame, truth: pd.DataFrame, tolerance: float, border: float = 0.0,
                shapes: dict[int, tuple[int, int]] | None = None) -> tuple[list[dict], list[np.ndarray]]:
    """Each frame's score row and the offsets of its counted pairs, of two tables :func:`_frame_tables`
    checked (each frame number one frame); ``shapes``: each frame's (height, width), with a ``border``."""
    rows, offsets = [], []
    for frame in frame_numbers(predicted, truth):
        p = predicted.loc[predicted["frame"] == frame, ["y", "x"]].to_numpy(float)
        t = truth.loc[truth["frame"] == frame, ["y", "x"]].to_numpy(float)
        pi, ti = match_points(p, t, tolerance)
        shape = None if shapes is None else shapes[frame]
        inside = None if shape is None else (inside_border(p, shape, border), inside_border(t, shape, border))
        row, counted_offsets = border_row(frame, p, t, (pi, ti), inside)
        rows.append(row)
        offsets.append(counted_offsets)
    return rows, offsets


def _scored_frames(predicted: pd.DataFrame, truth: pd.DataFrame, tolerance: float, border: float = 0.0,
                   shapes: dict[int, tuple[int, int]] | None = None) -> pd.DataFrame:
    """:func:`evaluate_frames`' scores of two tables :func:`_frame_tables` checked, each frame number one frame."""
    return with_pooled_row(*_frame_rows(predicted, truth, tolerance, border, shapes),
                           summed=LEFT_OUT if shapes is not None else ())


def border_row(frame: int, predicted: np.ndarray, truth: np.ndarray, pairs: Pairs,
               inside: tuple[np.ndarray, np.ndarray] | None, scores=None, unit: float | np.ndarray = 1.0
               ) -> tuple[dict, np.ndarray]:
    """One frame's score row (``scores(tp, fp, fn, offsets)``, default 2D scores) and the offsets of its counted
    pairs (in ``unit``s), of its (N, D) points and their ``pairs``; ``inside``: which predicted and true points lie
    inside the border (:func:`kept_at_border`; the row gains the counts it left out), None: every point counts."""
    kept_p, kept_t = (np.ones(len(predicted), dtype=bool), np.ones(len(truth), dtype=bool)) if inside is None \
        else kept_at_border(pairs, *inside)
    predicted_index, truth_index = pairs
    counted = kept_t[truth_index]
    tp = int(counted.sum())
    fp, fn = int(kept_p.sum()) - tp, int(kept_t.sum()) - tp
    offsets = (predicted[predicted_index[counted]] - truth[truth_index[counted]]) * unit
    row = {"frame": frame, **(scores or _scores)(tp, fp, fn, offsets).to_dict()}
    if inside is not None:
        row.update(zip(LEFT_OUT, (len(truth) - int(kept_t.sum()), len(predicted) - int(kept_p.sum()))))
    return row, offsets


def with_pooled_row(rows: list[dict], offsets: list[np.ndarray], scores=None, summed: Sequence[str] = ()
                    ) -> pd.DataFrame:
    """The per-frame score rows as a table, with a last row ``frame == "all"`` pooled over them
    (its RMS from every frame's matched offsets); ``scores(tp, fp, fn, offsets)`` makes a row
    (default: 2D scores); the columns ``summed`` are added up. Without any frame, the ``all`` row alone
    (F1 1: nothing to find, nothing found)."""
    table = pd.DataFrame(rows)
    totals = [int(table[k].sum()) if len(table) else 0 for k in ("tp", "fp", "fn")]
    matched = np.concatenate(offsets) if offsets else np.zeros((0, 2))
    pooled = pd.DataFrame([{"frame": "all", **(scores or _scores)(*totals, matched).to_dict(),
                            **{k: int(table[k].sum()) if len(table) else 0 for k in summed}}])
    return pd.concat([table, pooled], ignore_index=True) if len(table) else pooled


def _frame_tables(predicted: pd.DataFrame, truth: pd.DataFrame, caller: str
                  ) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[str, int]] | None]:
    """The two tables checked (:func:`_frame_table`), then paired file by file where they have ``file``
    columns (:func:`pair_files`; a predicted file without truth is left out, a true one without predictions
    counts as missed, each warned about): the tables with whole-number
    frames and float y, x, and the (file, frame) of each frame number (None: no files)."""
    checked = _frame_table(predicted, "predicted", caller), _frame_table(truth, "truth", caller)
    refuse_frames_against_none(predicted, truth, "centres")  # the tables as given: checked ones all have frames
    predicted, truth = checked
    warn_frame_numbering(predicted, truth)
    return paired_by_file(predicted, truth)


def paired_by_file(predicted: pd.DataFrame, truth: pd.DataFrame
                   ) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[str, int]] | None]:
    """:func:`pair_files` for the library's evaluators, warning (at their caller) of each file only the truth
    holds: its centres count as missed."""
    import warnings

    predicted, truth, labels, alone = pair_files(predicted, truth, "predicted", "truth")
    for name in alone:
        warnings.warn(f"file {name} is only in the truth table: its centres count as missed", stacklevel=4)
    return predicted, truth, labels


def require_sphere_table(table: pd.DataFrame, name: str) -> None:
    """Refuse a rods or chains table where sphere centres are scored: its y, x alone would be scored, silently
    leaving out the angles, lengths or chains that its own evaluator scores."""
    from ..errors import ParticleDetectError
    from .columns import columns_said, table_kind

    kind = table_kind(table.columns)
    if kind != "spheres":
        raise ParticleDetectError(f"{name}: a {kind} table ({columns_said(kind, table.columns)} columns), not sphere "
                                  f"centres; score it with kinds.{kind}.evaluate_{kind}")


def _frame_table(table: pd.DataFrame, name: str, caller: str) -> pd.DataFrame:
    """``table`` as :func:`evaluate_frames` scores it: a ``frame`` column of whole numbers (0 without one),
    ``y, x`` of finite floats; one error naming the table (``name``: predicted or truth) otherwise."""
    from ..errors import ParticleDetectError

    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{caller}: {name} must be a pandas DataFrame with frame, y, x columns, got "
                        f"{type(table).__name__}; score one image's (N, 2) y, x points with score()")
    require_sphere_table(table, name)
    if "z" in table.columns:
        raise ParticleDetectError(f"{name}: has a z column: frame,z,y,x tables (volumes) are scored in 3D with "
                                  "kinds.evaluation3d.evaluate_volumes")
    missing = [c for c in ("y", "x") if c not in table.columns]
    if missing:
        raise ParticleDetectError(f"{name}: needs columns frame, y and x (no {', '.join(missing)}; its columns: "
                                  f"{listed([str(c) for c in table.columns])})")
    coords = table[["y", "x"]].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    bad = ~np.isfinite(coords).all(axis=1)
    if bad.any():
        raise ParticleDetectError(f"{name}: {some_of(int(bad.sum()), len(table), 'rows')} a missing, non-numeric or "
                                  f"infinite y or x (the first at index {table.index[int(np.argmax(bad))]!r})")
    table = table.assign(y=coords[:, 0], x=coords[:, 1])
    if "frame" not in table.columns:
        return table.assign(frame=np.zeros(len(table), np.int64))
    frames = pd.to_numeric(table["frame"], errors="coerce").to_numpy(float)
    bad = ~(np.isfinite(frames) & (frames == np.round(frames)))
    if bad.any():
        first = table["frame"].tolist()[int(np.argmax(bad))]  # 0.5, not np.float64(0.5)
        raise ParticleDetectError(f"{name}: its frame column holds {not_whole(int(bad.sum()))} (the first: "
                                  f"{first!r})")
    return table.assign(frame=frames.astype(np.int64))


def matched_offsets(predicted: np.ndarray, truth: np.ndarray, tolerance: float = 3.0) -> np.ndarray:
    """The y, x offsets (predicted - true) of :func:`match`'s pairs, as (N, 2)."""
    tolerance = check_tolerance(tolerance)
    predicted, truth = as_points(predicted, "predicted"), as_points(truth, "truth")
    pi, ti = match_points(predicted, truth, tolerance)
    return predicted[pi] - truth[ti]


def plot_report(
    predicted: pd.DataFrame, truth: pd.DataFrame, path: str, tolerances: tuple[float, ...] = (0.5, 1, 1.5, 2, 3, 4, 5),
    border: float = 0.0, shape: ImageShape | None = None,
) -> None:
    """F1 against tolerance and a histogram of localisation errors, saved as a PNG; ``border`` and ``shape``
    leave out the centres at the image edge as :func:`evaluate_frames` does. The picture carries the mark
    files.overlay.PLOT_MARK (where its format has room), by which ``evaluate --plot`` replaces its own plot and
    refuses any other file (files.overlay.check_replaceable)."""
    import matplotlib

    from ..files.overlay import PLOT_MARK, marked

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tolerances = tuple(check_tolerance(t) for t in tolerances)
    border = check_border(border)
    # Checked once: a warning about the tables is then said once, not once per tolerance.
    predicted, truth, labels = _frame_tables(predicted, truth, "plot_report")
    shapes = frame_shapes(shape, labels, frame_numbers(predicted, truth)) if border else None
    f1s = [float(_scored_frames(predicted, truth, t, border, shapes).iloc[-1]["f1"]) for t in tolerances]
    offsets = _frame_rows(predicted, truth, max(tolerances), border, shapes)[1]
    errors = np.linalg.norm(np.concatenate(offsets), axis=1) if offsets else np.zeros(0)
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.5))
    a.plot(tolerances, f1s, "o-")
    a.set(xlabel="tolerance (px)", ylabel="F1", ylim=(0, 1.02), title="F1 vs matching tolerance")
    b.hist(errors, bins=30)
    b.set(xlabel="localisation error (px)", ylabel="matched centres", title="error histogram")
    fig.tight_layout()
    try:
        save_figure(fig, path, dpi=100, **marked(path, PLOT_MARK))
    finally:
        plt.close(fig)
