"""Detection accuracy: optimal one-to-one matching within a tolerance, and the usual metrics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from ..files.io import save_figure


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
    predicted = np.asarray(predicted, dtype=float).reshape(-1, 2)
    truth = np.asarray(truth, dtype=float).reshape(-1, 2)
    return match_points(predicted, truth, tolerance)


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
    truth = truth[_lookup(area, truth)]
    close = _lookup(reach <= tolerance + 0.5, predicted)
    near, near_scores = predicted[close], scores[close]
    deep = _lookup(depth > tolerance, near)
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


def _lookup(mask: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``mask`` at each point's nearest pixel (False outside the image); points have one coordinate per mask axis."""
    if not len(points):
        return np.zeros(0, dtype=bool)
    index = np.rint(points[:, : mask.ndim]).astype(int)
    inside = np.all((index >= 0) & (index < np.array(mask.shape)), axis=1)
    out = np.zeros(len(points), dtype=bool)
    out[inside] = mask[tuple(index[inside].T)]
    return out


def score(predicted: np.ndarray, truth: np.ndarray, tolerance: float = 3.0) -> Scores:
    predicted = np.asarray(predicted, dtype=float).reshape(-1, 2)
    truth = np.asarray(truth, dtype=float).reshape(-1, 2)
    pi, ti = match(predicted, truth, tolerance)
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


def evaluate_frames(predicted: pd.DataFrame, truth: pd.DataFrame, tolerance: float = 3.0) -> pd.DataFrame:
    """Per-frame scores and a pooled ``all`` row, from two ``frame,y,x`` tables."""
    predicted = _with_frame(predicted)
    truth = _with_frame(truth)
    frames = sorted(set(predicted["frame"]).union(truth["frame"]))
    rows, offsets = [], []
    for frame in frames:
        p = predicted.loc[predicted["frame"] == frame, ["y", "x"]].to_numpy()
        t = truth.loc[truth["frame"] == frame, ["y", "x"]].to_numpy()
        pi, ti = match(p, t, tolerance)
        offsets.append(p[pi] - t[ti])
        rows.append({"frame": frame, **_scores(len(pi), len(p) - len(pi), len(t) - len(ti), p[pi] - t[ti]).to_dict()})
    return with_pooled_row(rows, offsets)


def with_pooled_row(rows: list[dict], offsets: list[np.ndarray], scores=None) -> pd.DataFrame:
    """The per-frame score rows as a table, with a last row ``frame == "all"`` pooled over them
    (its RMS from every frame's matched offsets); ``scores(tp, fp, fn, offsets)`` makes a row
    (default: 2D scores)."""
    table = pd.DataFrame(rows)
    if len(table):
        pooled = (scores or _scores)(int(table.tp.sum()), int(table.fp.sum()), int(table.fn.sum()), np.concatenate(offsets))
        table = pd.concat([table, pd.DataFrame([{"frame": "all", **pooled.to_dict()}])], ignore_index=True)
    return table


def _with_frame(table: pd.DataFrame) -> pd.DataFrame:
    if "frame" in table.columns:
        return table
    return table.assign(frame=0)


def matched_offsets(predicted: np.ndarray, truth: np.ndarray, tolerance: float = 3.0) -> np.ndarray:
    pi, ti = match(predicted, truth, tolerance)
    return np.asarray(predicted, float).reshape(-1, 2)[pi] - np.asarray(truth, float).reshape(-1, 2)[ti]


def plot_report(
    predicted: pd.DataFrame, truth: pd.DataFrame, path: str, tolerances: tuple[float, ...] = (0.5, 1, 1.5, 2, 3, 4, 5)
) -> None:
    """F1 against tolerance and a histogram of localisation errors, saved as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    f1s = [float(evaluate_frames(predicted, truth, t).iloc[-1]["f1"]) for t in tolerances]
    predicted, truth = _with_frame(predicted), _with_frame(truth)
    errors = []
    for frame in sorted(set(predicted["frame"]).union(truth["frame"])):
        off = matched_offsets(
            predicted.loc[predicted["frame"] == frame, ["y", "x"]].to_numpy(),
            truth.loc[truth["frame"] == frame, ["y", "x"]].to_numpy(),
            max(tolerances),
        )
        errors.append(np.linalg.norm(off, axis=1))
    errors = np.concatenate(errors) if errors else np.zeros(0)
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.5))
    a.plot(tolerances, f1s, "o-")
    a.set(xlabel="tolerance (px)", ylabel="F1", ylim=(0, 1.02), title="F1 vs matching tolerance")
    b.hist(errors, bins=30)
    b.set(xlabel="localisation error (px)", ylabel="matched centres", title="error histogram")
    fig.tight_layout()
    try:
        save_figure(fig, path, dpi=100)
    finally:
        plt.close(fig)


# ---- tables of several files (detect's one table for several inputs has a file column) ----------------
def _name_keys() -> tuple:
    """How two names of one file may differ, from strictest to loosest: not at all, in the folder
    (relative or absolute), in the suffix too (an image's truth table named after the image)."""
    from pathlib import PurePath

    return (str, lambda name: PurePath(name).name, lambda name: PurePath(name).stem)


def _pair_names(left: list[str], right: list[str]) -> dict[str, str]:
    """Each name of ``left`` with the one name of ``right`` that names the same file (strictest key first);
    a name that two of ``right`` could be is refused, a name with none stays unpaired."""
    from ..errors import ParticleDetectError

    pairs: dict[str, str] = {}
    for key in _name_keys():
        free = [r for r in right if r not in pairs.values()]
        for name in (n for n in left if n not in pairs):
            found = [r for r in free if key(r) == key(name)]
            if len(found) > 1:
                raise ParticleDetectError(f"{name}: matches {len(found)} files of the other table "
                                          f"({', '.join(found[:3])}); name the files alike in both tables")
            if found:
                pairs[name] = found[0]
                free.remove(found[0])
    return pairs


def _files(table: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(table["file"].astype(str)))


def _listed(names: list[str], most: int = 4) -> str:
    return ", ".join(names[:most]) + (f", ... ({len(names)} in all)" if len(names) > most else "")


def select_file(table: pd.DataFrame, name: str, source: str) -> pd.DataFrame:
    """The rows of ``table`` (with a file column) of the file ``name`` (as written there, or its file
    name, or its stem), without the file column; one ParticleDetectError naming ``source`` otherwise."""
    from ..errors import ParticleDetectError

    files = _files(table)
    chosen = _pair_names([name], files).get(name)
    if chosen is None:
        raise ParticleDetectError(f"{source}: no rows of file {name} (its files: {_listed(files)})")
    return table[table["file"].astype(str) == chosen].drop(columns="file")


def pair_files(predicted: pd.DataFrame, truth: pd.DataFrame, predicted_source: str, truth_source: str,
               select: str | None = None
               ) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[str, int]] | None, dict[str, str]]:
    """Predicted and true tables scored file by file: where a table holds several files (a ``file``
    column), each (file, frame) of both is numbered as one frame, so per-frame scoring compares a
    file's frame with the same file's frame, never pools them.

    ``select``: keep only that file's rows. Returns the two tables (frames renumbered, no file column),
    the (file, frame) of each number (None when no file column was used) and the files only one table
    holds, with the table's source (their centres count as all found wrongly, or all missed). One
    ParticleDetectError when a table of several files meets one without a file column (which file would
    it be?) or names match ambiguously."""
    from ..errors import ParticleDetectError

    has = ("file" in predicted.columns, "file" in truth.columns)
    if select is not None:
        if not any(has):
            raise ParticleDetectError(f"--file {select}: neither {predicted_source} nor {truth_source} has a file "
                                      "column to select from")
        if has[0]:
            predicted = select_file(predicted, select, predicted_source)
        if has[1]:
            truth = select_file(truth, select, truth_source)
        return predicted, truth, None, {}
    if not any(has):
        return predicted, truth, None, {}
    if not all(has):
        several, source, other = (predicted, predicted_source, truth_source) if has[0] else (
            truth, truth_source, predicted_source)
        files = _files(several)
        if len(files) > 1:
            raise ParticleDetectError(f"{source}: holds {len(files)} files ({_listed(files)}) and {other} has no file "
                                      f"column; give --file NAME to score one of them, or a table with a file column")
        return predicted.drop(columns="file", errors="ignore"), truth.drop(columns="file", errors="ignore"), None, {}
    p_files, t_files = _files(predicted), _files(truth)
    pairs = _pair_names(p_files, t_files)
    alone = {**{f: predicted_source for f in p_files if f not in pairs},
             **{f: truth_source for f in t_files if f not in pairs.values()}}
    truth_name = {t: p for p, t in pairs.items()}  # a truth file is labelled as the predictions name it
    keys: dict[tuple[str, int], int] = {}

    def numbered(table: pd.DataFrame, label) -> pd.DataFrame:
        frames = table["frame"] if "frame" in table.columns else pd.Series(0, index=table.index)
        names = table["file"].astype(str).map(label)
        for key in zip(names, frames.astype(int)):
            keys.setdefault(key, len(keys))
        return table.drop(columns="file").assign(frame=[keys[k] for k in zip(names, frames.astype(int))])

    predicted = numbered(predicted, lambda name: name)
    truth = numbered(truth, lambda name: truth_name.get(name, name))
    return predicted, truth, list(keys), alone


def label_frames(table: pd.DataFrame, labels: list[tuple[str, int]] | None) -> pd.DataFrame:
    """A per-frame score table (:func:`with_pooled_row`) of :func:`pair_files`' numbered frames, with each
    row's file and frame again (the pooled row: file and frame ``all``)."""
    if labels is None or not len(table):
        return table
    pooled = table["frame"].astype(str) == "all"
    files = [labels[int(f)][0] if not p else "all" for f, p in zip(table["frame"], pooled)]
    frames = [labels[int(f)][1] if not p else "all" for f, p in zip(table["frame"], pooled)]
    out = table.assign(frame=frames)
    out.insert(0, "file", files)
    return out
