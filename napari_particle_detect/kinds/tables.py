"""Checks shared by the rods and chains tables (kinds/rods.py, kinds/chains.py ``check_table``)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pandas as pd

from ..errors import ParticleDetectError
from ..files.tables import first_bad_row

log = logging.getLogger(__name__)

# Columns that hold whole numbers wherever they appear: frame numbers, chain ids, bead indices, ring flags.
WHOLE_NUMBER_COLUMNS = ("frame", "chain", "index", "closed")


def numeric_columns(table: pd.DataFrame, columns: tuple[str, ...], source: str,
                    gaps_allowed: tuple[str, ...] = ()) -> pd.DataFrame:
    """``table`` with each of ``columns`` it has checked to hold numbers, none missing (but in
    ``gaps_allowed``); one ParticleDetectError naming ``source`` otherwise.

    A table of no rows is valid (what detect writes for an image with nothing in it): pandas reads a
    header alone as columns of text, so they are given their number types here instead of refused."""
    present = [c for c in columns if c in table.columns]
    if not len(table):
        return table.astype({c: "int64" if c in WHOLE_NUMBER_COLUMNS else float for c in present})
    for column in present:
        values = pd.to_numeric(table[column], errors="coerce")
        bad = values.isna() & (table[column].notna() | (column not in gaps_allowed))
        if bad.any() or not pd.api.types.is_numeric_dtype(table[column]):  # numbers as text: not numbers
            where = first_bad_row(table[[column]], bad.to_frame(column)) if bad.any() else ""
            raise ParticleDetectError(f"{source}: column {column} holds missing values or non-numbers{where}")
    return table


def refuse_frames_against_none(predicted: pd.DataFrame, truth: pd.DataFrame, what: str) -> None:
    """One ParticleDetectError where one table has no frame column (scored as frame 0) and the other holds
    several frames of one image: the other frames' ``what`` would count as false or missed, silently (F1
    0.67 for two perfect frames). The library's side of ``evaluate --kind``'s rule (cli.kinds)."""
    for name, table, other_name, other in (("predicted", predicted, "truth", truth),
                                           ("truth", truth, "predicted", predicted)):
        if "frame" in table.columns:
            continue
        frames = most_frames_of_one_image(other)
        if frames > 1:
            # set_index("frame") is the usual way a table loses its frame column.
            index = " (its index is named frame: table.reset_index() makes it a column)" \
                if "frame" in table.index.names else ""
            raise frames_against_none(f"{name}{index}", other_name, frames, what)


def frames_against_none(name: str, other_name: str, frames: int, what: str) -> ParticleDetectError:
    """The refusal of a table ``name`` without a frame column against ``other_name`` holding ``frames`` frames
    of an image (here and in the command line's, which names files)."""
    return ParticleDetectError(
        f"{name}: no frame column, while {other_name} holds {frames} frames of an image: it would be scored as "
        f"frame 0 and the {what} of the other frames as false or missed; give it a frame column (the frame of each "
        "row), or score tables of one frame")


def most_frames_of_one_image(table: pd.DataFrame) -> int:
    """The most frame numbers any one image (file, where the table has a file column) of ``table`` holds."""
    if "frame" not in table.columns:
        return 1 if len(table) else 0
    if "file" in table.columns:
        return int(table.groupby("file")["frame"].nunique().max()) if len(table) else 0
    return int(table["frame"].nunique())


def group_keys(table: pd.DataFrame, *keys: str) -> list[str]:
    """Those of ``keys`` the table has, after ``file`` where it has one: a table of several files (detect's,
    with a file column) numbers frames and chains per file, so one file's chain 0 is not another's."""
    return [k for k in ("file", *keys) if k in table.columns]


def describe_key(key: tuple, keys: list[str]) -> str:
    """'file NAME, frame F' of a group's key (keys after the chain), for messages."""
    return ", ".join(f"{name} {value}" for name, value in zip(keys, key))


# What each kind's evaluator needs of both tables, and the evaluator itself (for a table of the other kind).
EVALUATED_COLUMNS = {"rods": ("y", "x", "angle", "length"), "chains": ("y", "x", "chain", "index")}
EVALUATORS = {"rods": "kinds.rods.evaluate_rods", "chains": "kinds.chains.evaluate_chains"}


def evaluation_tables(predicted: pd.DataFrame, truth: pd.DataFrame, kind: str,
                      check_table: Callable[[pd.DataFrame, str], pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two tables a kind's evaluator scores, checked: DataFrames (a TypeError otherwise) with the kind's
    columns (one ParticleDetectError naming the table, predicted or truth, pointing to the right evaluator
    for a table of another kind) and values as the kind's ``check_table`` (its module's, passed in by the
    evaluator: this module sits below the kinds) takes them, the rules
    ``evaluate --kind`` reads its CSVs by (one ParticleDetectError naming the table and the problem: a chain
    with a gap in its index, an angle out of [0, 180), ...); where either has a ``file`` column, paired file
    by file as ``evaluate`` pairs them (kinds.evaluation.pair_files: each (file, frame) one frame number, so
    one file's frame 0 is never scored against another's)."""
    from .columns import table_kind
    from .file_pairing import pair_files

    needed = EVALUATED_COLUMNS[kind]
    for name, table in (("predicted", predicted), ("truth", truth)):
        if not isinstance(table, pd.DataFrame):
            raise TypeError(f"evaluate_{kind}: {name} must be a pandas DataFrame of a {kind} table "
                            f"({', '.join(needed)} columns), got {type(table).__name__}")
        missing = [c for c in needed if c not in table.columns]
        if missing:
            other = table_kind(table.columns)
            hint = (f" (it looks like a {other} table: score it with {EVALUATORS[other]})"
                    if other not in (kind, "spheres") else "")
            raise ParticleDetectError(f"{name}: not a {kind} table: no {', '.join(missing)} column{hint}")
    refuse_frames_against_none(predicted, truth, kind)
    # The kind's own checks, not only numbers: a chain with a gap in its index would be scored with a bond
    # invented across the gap (bonds join consecutive beads), an angle of 190 as if it were one.
    predicted, truth = check_table(predicted, "predicted"), check_table(truth, "truth")
    if "file" in predicted.columns or "file" in truth.columns:
        predicted, truth, _, _ = pair_files(predicted, truth, "predicted", "truth")
    else:  # paired by file, frames are numbered anew for both tables alike
        warn_frame_numbering(predicted, truth)
    return predicted, truth


# A hint, never a refusal (the kind is the user's choice), where a table reads unlike its --kind, per file; measured
# on the generator's images (three looks, area fractions 0.05-0.6, beads of 2.5-12 px radius, rods of 2-16 px width,
# 256 px benchmark images): rods and ellipsoids read under --kind rods have at most 14 % of their rods shorter than
# 1.3 widths (mostly 0-6 %), chains 5-74 % (a fifth or more in 21 of 24 images), spheres 16-41 %; chains read
# under --kind chains have a median bead score of 0.86-0.95, rods and ellipsoids 0.55-0.78 (68 images in all).
ROUND_ASPECT = 1.3
ROUND_SHARE = 0.2
CHAIN_BEAD_SCORE = 0.82
# Fewer objects say too little of the image for a hint.
HINT_OBJECTS = 30


def unlike_kind_note(table: pd.DataFrame, kind: str) -> str | None:
    """One line where ``table`` (one file's rods or chains, as detected) reads unlike ``kind``: rods of which a fifth
    or more are nearly round (beads or spheres read as rods), or beads whose median score is low (rods read as beads
    of chains); None otherwise, and for tables of fewer than HINT_OBJECTS rows, where either says too little."""
    if len(table) < HINT_OBJECTS:
        return None
    if kind == "rods" and {"length", "width"} <= set(table.columns):
        round_share = float((table["length"] < ROUND_ASPECT * table["width"]).mean())
        if round_share >= ROUND_SHARE:
            return (f"{round_share:.0%} of its {len(table)} rods read nearly round (length under {ROUND_ASPECT:g} "
                    f"times the width; rods and ellipsoids read so a few %): if it holds beads or round particles, "
                    "--kind chains (beads) or no --kind (spheres) finds them")
    if kind == "chains" and "score" in table.columns:
        score = float(table["score"].median())
        if score < CHAIN_BEAD_SCORE:
            return (f"its {len(table)} beads read with little confidence (median score {score:.2f}; beads of chains "
                    f"read {CHAIN_BEAD_SCORE:g} or more): if it holds rods or ellipsoids, --kind rods finds them")
    return None


def warn_frame_numbering(predicted: pd.DataFrame, truth: pd.DataFrame) -> None:
    """Tables numbered from different frames pair frames that do not belong together, which reads as a failed
    detection, not as numbering; said with both tables' frames. Sharing no frame (truth from 1, detect's from 0),
    every frame scores F1 0; numbered one apart over several frames (a stack's truth exported with ImageJ's slice
    numbers, from 1), every frame is scored against its neighbour's truth."""
    predicted_frames, true_frames = set(predicted["frame"]), set(truth["frame"])
    if not (predicted_frames and true_frames):
        return
    spans = _frame_span(predicted_frames), _frame_span(true_frames)
    if not predicted_frames & true_frames:
        log.warning("predicted and truth share no frame number (predicted: %s; truth: %s): every frame scores "
                    "F1 0; number both tables' frames alike", *spans)
    elif len(predicted_frames) > 1 and any({f + step for f in predicted_frames} == true_frames for step in (-1, 1)):
        log.warning("predicted and truth number their frames one apart (predicted: %s; truth: %s): one counted "
                    "from 1, as ImageJ's slices are? Frames pair by number, so each is scored against its "
                    "neighbour's truth; number both tables' frames alike (from 0, as detect does)", *spans)


def _frame_span(frames: set) -> str:
    first, last = int(min(frames)), int(max(frames))
    return f"frame {first}" if first == last else f"frames {first}-{last}"
