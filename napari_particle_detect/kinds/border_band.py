"""The band at the image edge that the evaluators' ``border`` leaves out of the scores (``evaluate --border``),
one rule for sphere frames, volumes, rods and chains.

synth draws particles centred just outside the image, cut by its edge, but lists only the centres inside: scored
to the edge, every detection of such a particle is a false positive. Objects are paired among all of them, so no
pair is cut in two at the band; then a pair counts where its true centre lies, an unpaired one where it lies."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import numpy as np
import pandas as pd

from ..errors import listed

# An image's (height, width) in px; or, for tables of several images, each one's by file (or frame number).
ImageShape = Sequence[int] | Mapping[object, Sequence[int]]

# The counts a border adds to the scores: the true and predicted objects it left out of them.
LEFT_OUT = ("left_out_truth", "left_out_predicted")

# The (file, frame) of each frame number of tables paired file by file (None: not paired by file).
Labels = list[tuple[str, int]] | None

# One frame's pairs of rows, by position: (predicted indices, true indices).
Pairs = tuple[np.ndarray, np.ndarray]

Value = TypeVar("Value")


def check_border(border: float) -> float:
    """``border`` as a float: 0 or a positive, finite number of pixels, else a TypeError or ValueError naming it."""
    if isinstance(border, (bool, np.bool_)) or not isinstance(border, (int, float, np.integer, np.floating)):
        raise TypeError(f"border must be a number of pixels, got {border!r}")
    if not (np.isfinite(border) and border >= 0):
        raise ValueError(f"border must be 0 or a positive number of pixels, got {border!r}")
    return float(border)


def image_size(value: object, name: str) -> tuple[int, int]:
    """``value`` as (height, width): two positive whole numbers, else a ValueError naming ``name``."""
    try:
        size = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        size = ()
    if len(size) != 2 or not all(np.isfinite(v) and v >= 1 and v == int(v) for v in size):
        raise ValueError(f"{name} must be the image's (height, width) in px, two whole numbers, got {value!r}")
    return int(size[0]), int(size[1])


def inside_border(points: np.ndarray, shape: Sequence[int] | np.ndarray | None,
                  border: float | np.ndarray) -> np.ndarray:
    """Which (N, D) points (y, x; a volume's z, y, x) lie at least ``border`` (one for every axis, or one per axis)
    inside an image or volume of ``shape`` (None: all of them)."""
    if shape is None:
        return np.ones(len(points), dtype=bool)
    points = np.asarray(points, dtype=float).reshape(len(points), len(shape))
    return np.all((points >= border) & (points <= np.asarray(shape, dtype=float) - 1 - border), axis=1)


def kept_at_border(pairs: Pairs, predicted_inside: np.ndarray, truth_inside: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Which predictions and true objects of one frame a border leaves in the scores: a true one where it lies, a
    prediction paired with it as it goes, an unpaired one where it lies."""
    predicted_index, truth_index = pairs
    kept = np.asarray(predicted_inside, dtype=bool).copy()
    kept[predicted_index] = truth_inside[truth_index]
    return kept, np.asarray(truth_inside, dtype=bool)


def per_frame(value: object, labels: Labels, frames: Sequence[int], name: str, meaning: str,
              read: Callable[[object, str], Value]) -> dict[int, Value]:
    """Each frame number's value from ``value``: one for every frame, or a mapping from each file (``labels``) or
    frame number (tables without files) to its own; ``read(given, where)`` checks one (a ValueError naming
    ``where``). A ValueError naming ``name`` and the ``meaning`` missing where the mapping lacks a frame's key."""
    if not isinstance(value, Mapping):
        one = read(value, name)
        return {frame: one for frame in frames}
    found = {}
    for frame in frames:
        key = labels[frame][0] if labels is not None else frame
        what = f"file {key}" if labels is not None else f"frame {key}"
        if key not in value:
            raise ValueError(f"{name}: no {meaning} of {what} (its keys: {listed([str(k) for k in value])})")
        found[frame] = read(value[key], f"{name} of {what}")
    return found


def frame_shapes(shape: ImageShape | None, labels: Labels, frames: Sequence[int]) -> dict[int, tuple[int, int]]:
    """The (height, width) of each frame number, from ``shape`` as ``evaluate_frames`` takes it."""
    if shape is None:
        raise ValueError("a border needs the images' size: give shape=(height, width)")
    return per_frame(shape, labels, frames, "shape", "(height, width)", image_size)


def checked_kind_tables(predicted: pd.DataFrame, truth: pd.DataFrame, kind: str,
                        check_table: Callable[[pd.DataFrame, str], pd.DataFrame]
                        ) -> tuple[pd.DataFrame, pd.DataFrame, Labels]:
    """The two tables a kind's evaluator scores (``kinds.tables.evaluation_tables``: checked by the kind's
    ``check_table``, paired file by file),
    and the (file, frame) of each frame number as ``pair_files`` numbers them, which a shape by file needs."""
    from .tables import evaluation_tables

    if not all(isinstance(table, pd.DataFrame) and "file" in table.columns for table in (predicted, truth)):
        return (*evaluation_tables(predicted, truth, kind, check_table), None)
    # Pairing keeps each row's index: numbered from 0, it finds every renumbered frame's file and frame again.
    predicted, truth = predicted.reset_index(drop=True), truth.reset_index(drop=True)
    paired_predicted, paired_truth = evaluation_tables(predicted, truth, kind, check_table)
    found = {}
    # The predictions' names last: pair_files labels a file as the predictions name it.
    for original, paired in ((truth, paired_truth), (predicted, paired_predicted)):
        rows = original.loc[paired.index]
        frames = rows["frame"].astype(int) if "frame" in rows.columns else pd.Series(0, index=rows.index)
        found.update(zip(paired["frame"].astype(int), zip(rows["file"].astype(str), frames)))
    return paired_predicted, paired_truth, [found[number] for number in range(len(found))]


def kept_within_border(predicted: pd.DataFrame, truth: pd.DataFrame, labels: Labels,
                       pairs: Callable[[pd.DataFrame, pd.DataFrame], Pairs], border: float,
                       shape: ImageShape | None) -> tuple[np.ndarray, np.ndarray] | None:
    """Which rows of two tables of a kind (:func:`checked_kind_tables`) a ``border`` leaves in the scores, frame by
    frame, each object where its centre (``y, x``) lies (:func:`kept_at_border`); ``pairs(p, t)`` pairs one frame's
    rows as the kind's evaluator does. None without a border (``shape`` still checked where given)."""
    border = check_border(border)
    frame_of = [table["frame"].to_numpy(int) if "frame" in table.columns else np.zeros(len(table), int)
                for table in (predicted, truth)]
    if not border and shape is None:
        return None
    shapes = frame_shapes(shape, labels, sorted(set(frame_of[0]) | set(frame_of[1])))
    if not border:
        return None
    kept = [np.zeros(len(predicted), dtype=bool), np.zeros(len(truth), dtype=bool)]
    for frame, size in shapes.items():
        at = [np.flatnonzero(frames == frame) for frames in frame_of]
        tables = [table.iloc[rows].reset_index(drop=True) for table, rows in zip((predicted, truth), at)]
        inside = [inside_border(table[["y", "x"]].to_numpy(float), size, border) for table in tables]
        kept[0][at[0]], kept[1][at[1]] = kept_at_border(pairs(*tables), *inside)
    return kept[0], kept[1]


def left_out(kept: tuple[np.ndarray, np.ndarray]) -> dict[str, int]:
    """The true and predicted objects a border left out (:data:`LEFT_OUT`), of :func:`kept_within_border`'s rows."""
    predicted, truth = kept
    return dict(zip(LEFT_OUT, (int((~truth).sum()), int((~predicted).sum()))))
