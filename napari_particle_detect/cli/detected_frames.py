"""``evaluate`` scores the truth only in the frames detect detected. A table of part of a stack (``detect
--frames``) or one a stopped run left unfinished holds nothing of the other frames: scored there, the truth's
particles counted as missed, without a word (frames 0-1 of 4 detected read F1 0.57 where they score 0.88).
Which frames each input had detected is read from detect's .json beside the predictions (``frames_detected``,
or the ``frames_done`` of an unfinished run); the truth's other frames are left out, said in one line per
input. So is the whole truth of an input the .json lists as ``failed`` (unreadable, or failed at a frame, in a
table of several): the table holds nothing of it, and scored it read as all missed. Predictions without such a
record are scored against the whole truth, as before."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Collection
from pathlib import Path

import pandas as pd

from ..errors import ParticleDetectError, listed
from ..frame_runs import runs_text
from .recorded import RecordsBesideTables

log = logging.getLogger("particle-detect")

Label = tuple[str, int]


def detected_frames_only(args: argparse.Namespace, read: pd.DataFrame, predicted: pd.DataFrame,
                         truth: pd.DataFrame, labels: list[Label] | None, alone: dict[str, str]
                         ) -> tuple[pd.DataFrame, dict[str, str]]:
    """The paired ``truth`` (kinds.file_pairing.pair_files: ``labels``, the (file, frame) of each frame number,
    None where no file column was used; ``alone``, the files only the truth holds) without the frames detect's
    .json beside ``args.predicted`` says were not detected, each input's said in one line; and ``alone`` without
    the files detect failed on or an unfinished run had not reached, whose truth is left out too, each said in
    one line. ``read``: the predictions as read, naming their files; ``predicted``: as paired, whose frames count
    as detected whatever the .json says (a table added to by hand)."""
    from ..kinds.file_pairing import recorded_files

    records = RecordsBesideTables(args)
    inputs = records.inputs
    # Not those also among its inputs: an earlier output of a folder run marked failed keeps that run's table.
    failed = [name for name in recorded_files(records.detect_metadata, "failed") if name not in inputs]
    truth_frames, predicted_frames = _whole_frames(truth), _whole_frames(predicted)
    garbled = truth_frames is None or predicted_frames is None  # the evaluator says so
    if not (inputs or failed) or garbled:
        return truth, alone
    unfinished = records.detect_metadata.get("unfinished") is True
    names = _input_names(args, read, inputs, labels, alone, failed)
    warn_failed_since(args.predicted, records.detect_metadata, set(names.values()), "scored as they are")
    leave: set[int] = set()  # the frame numbers of the truth left out
    by_input: dict[str, list[int]] = {}  # the frames of each input left out
    failed_on: dict[str, str] = {}  # the truth's files detect failed on, each with its name in the .json
    unreached: set[str] = set()  # the truth's files an unfinished run had not detected
    for number in sorted(set(truth_frames) - set(predicted_frames)):
        label, frame = labels[number] if labels is not None else (None, number)
        name = names.get(label)
        if name in failed:  # only a file the predictions hold nothing of is paired with one (_input_names)
            failed_on[label] = name
            leave.add(number)
            continue
        if name is None:
            # Named by no input: another run's file, or (unfinished) one the run had not come to.
            if unfinished and label in alone:
                unreached.add(label)
                leave.add(number)
            continue
        detected = frames_detected_in(inputs[name])
        if detected is not None and frame not in detected:
            by_input.setdefault(name, []).append(frame)
            leave.add(number)
    for name, frames in by_input.items():
        record = inputs[name]
        why = why_frames_left_out(record)
        log.warning("%s: %s of %s detected (%s): the truth's %s left out of the scores", args.predicted,
                    frames_text(frames_detected_in(record)), name, why, frames_text(frames))
    for name in dict.fromkeys(failed_on.values()):
        log.warning("%s: detect failed on %s (see %s): its truth left out of the scores", args.predicted, name,
                    records.detect_path)
    for name in sorted(unreached):
        log.warning("%s: left unfinished before %s was detected: its truth left out of the scores", args.predicted,
                    name)
    return (truth[~truth_frames.isin(leave)] if leave else truth,
            {name: source for name, source in alone.items() if name not in unreached and name not in failed_on})


def warn_failed_since(table: Path, meta: dict, used: Collection[str] | None, consequence: str) -> None:
    """One warning line where detect's .json ``meta`` beside ``table`` lists an input the table holds, of those
    ``used`` (None: every one), as failed: an earlier output a folder run kept when the file failed since
    (files.distributed.record_failure). Its centres are that earlier run's, of the file as it was then, and used
    without a word they read as the file's results now; ``consequence``: what is done with them all the same."""
    from ..files.file_detection import metadata_path
    from ..files.tables import input_records
    from ..kinds.file_pairing import recorded_files

    inputs = input_records(meta)
    since = [name for name in dict.fromkeys(recorded_files(meta, "failed"))
             if name in inputs and (used is None or name in used)]
    if since:
        log.warning("%s: detect failed on %s since this table was made (see %s): its centres are an earlier run's, "
                    "of the file as it was then; %s", table, listed(since), metadata_path(table), consequence)


def why_frames_left_out(record: dict) -> str:
    """Why detect's ``record`` of an input lists only some of its frames: a run left unfinished, --frames, or frames
    it could not read (``unreadable_frames``: skipped, the rest detected), with --frames where that left out more."""
    if "frames_done" in record:
        return "a run left unfinished"
    unreadable = record.get("unreadable_frames")
    if not (isinstance(unreadable, list) and unreadable and all(isinstance(frame, int) for frame in unreadable)):
        return "--frames"
    said = f"{frames_text(unreadable)} unreadable"
    asked = set(frames_detected_in(record) or ()) | set(unreadable)
    return said if asked == set(range(record.get("frames", 0))) else f"--frames; {said}"


def frames_detected_in(record: dict) -> frozenset[int] | None:
    """The frames detect's ``record`` of an input says were detected where they are part of its stack: those
    --frames named (``frames_detected``), or the first ``frames_done`` an unfinished run had done; None for every
    frame (or a record of an earlier detect, saying neither)."""
    listed = record.get("frames_detected")
    if isinstance(listed, list) and all(isinstance(frame, int) for frame in listed):
        return frozenset(listed)
    done = record.get("frames_done")
    if isinstance(done, int) and not isinstance(done, bool) and done >= 0:
        return frozenset(range(done))
    return None


def _input_names(args: argparse.Namespace, read: pd.DataFrame, inputs: dict[str, dict],
                 labels: list[Label] | None, alone: dict[str, str], failed: list[str]) -> dict[str | None, str]:
    """The input of detect's .json (``inputs``, by file; ``failed``, those it lists as failed) that each file of
    the paired tables is (``labels``' names; without labels, None: the one file scored, ``--file``'s or the
    predictions' one, never one detect failed on)."""
    from ..kinds.file_pairing import chosen_file

    if labels is None:
        if "file" in read.columns and len(read):
            files = read["file"].astype(str).unique()
            chosen = chosen_file(read, args.file, str(args.predicted)) if getattr(args, "file", None) else files[0]
            return {None: chosen} if chosen in inputs else {}
        return {None: next(iter(inputs))} if len(inputs) == 1 else {}
    names: dict[str | None, str] = {}
    for label in dict.fromkeys(name for name, _ in labels):
        if label in inputs:  # the predictions' own files, as detect named them
            names[label] = label
    # A file only the truth holds may be an input that found nothing (no rows in the table) or that detect failed
    # on, named as the truth names it: paired, as pair_files pairs names, with an input of no rows.
    unpaired = [name for name in [*inputs, *failed] if name not in names]
    for label in (name for name in alone if name not in names):
        try:
            names[label] = chosen_file(pd.DataFrame({"file": unpaired}), label, str(args.predicted))
        except ParticleDetectError:  # none of them, or several alike: not known to be detected in part
            continue
    return names


def _whole_frames(table: pd.DataFrame) -> pd.Series | None:
    """The frame number of each row (0 without a frame column); None where any is not a whole number."""
    if "frame" not in table.columns:
        return pd.Series(0, index=table.index, dtype=int)
    numbers = pd.to_numeric(table["frame"], errors="coerce")
    if not (numbers.notna() & (numbers % 1 == 0)).all():
        return None
    return numbers.astype(int)


def frames_text(frames: Collection[int]) -> str:
    """Frames as a message lists them, in runs: "frames 0-9, 20-29"; after four runs, how many in all."""
    return ("frame " if len(frames) == 1 else "frames ") + runs_text(list(frames))
