"""Tables of several files scored file by file, as ``particle-detect evaluate`` pairs them: detect's one table
for several inputs has a ``file`` column, and each (file, frame) becomes one frame number, so one file's frame 0
is never scored against another's."""

from __future__ import annotations

import json
import logging
from pathlib import Path, PurePath

import pandas as pd

from ..errors import listed

log = logging.getLogger(__name__)


def _name_levels() -> tuple:
    """How two names of one file may differ, strictest first, each as (what both names must share, a test of
    their paths): not at all; in the folders above the shorter one (day1/x.tif is data/day1/x.tif, relative or
    absolute); in the folder wholly; in the suffix too (an image's truth table named after the image)."""
    def ends_the_other(a: PurePath, b: PurePath) -> bool:
        short, long = sorted((a.parts, b.parts), key=len)
        return bool(short) and long[len(long) - len(short):] == short

    def always(a: PurePath, b: PurePath) -> bool:
        return True

    return ((lambda name, path: name, always), (lambda name, path: path.name, ends_the_other),
            (lambda name, path: path.name, always), (lambda name, path: path.stem, always))


def _pair_names(left: list[str], right: list[str], sides: tuple[str, str]) -> dict[str, str]:
    """Each name of ``left`` with the one name of ``right`` that names the same file, at the strictest level of
    :func:`_name_levels` that pairs it; a name with none stays unpaired. ``sides``: where each list's names
    come from, for the error. Where a level matches one name with two or more of the other list, either
    way (x.tif with data/day1/x.tif and data/day2/x.tif), one ParticleDetectError naming them: a guess
    scored one day's detections against another day's truth."""
    from collections import defaultdict

    from ..errors import ParticleDetectError

    paths = {name: PurePath(name) for name in (*left, *right)}
    pairs: dict[str, str] = {}
    for shared, same in _name_levels():
        taken = set(pairs.values())
        candidates = defaultdict(list)
        for name in right:
            if name not in taken:
                candidates[shared(name, paths[name])].append(name)
        found = {}
        for name in (n for n in left if n not in pairs):
            matches = [r for r in candidates.get(shared(name, paths[name]), ()) if same(paths[name], paths[r])]
            if matches:
                found[name] = matches
        claimants = defaultdict(list)
        for name, matches in found.items():
            for right_name in matches:
                claimants[right_name].append(name)
        ambiguous = [(name, matches, sides) for name, matches in found.items() if len(matches) > 1]
        ambiguous += [(name, names, sides[::-1]) for name, names in claimants.items() if len(names) > 1]
        if ambiguous:
            name, matches, (side, other) = ambiguous[0]
            raise ParticleDetectError(f"{name} ({side}): matches {len(matches)} files of {other} ({listed(matches)}); "
                                      "name each file alike in both tables, with its folder where names repeat")
        pairs.update({name: matches[0] for name, matches in found.items()})
    return pairs


def _files(table: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(table["file"].astype(str)))


def select_file(table: pd.DataFrame, name: str, source: str) -> pd.DataFrame:
    """The rows of ``table`` (with a file column) of the file ``name`` (as written there, or its file
    name, or its stem), without the file column; one ParticleDetectError naming ``source`` otherwise."""
    chosen = chosen_file(table, name, source)
    return table[table["file"].astype(str) == chosen].drop(columns="file")


def chosen_file(table: pd.DataFrame, name: str, source: str) -> str:
    """The file of ``table`` (with a file column) that ``name`` names, as :func:`select_file` selects it."""
    from ..errors import ParticleDetectError

    files = _files(table)
    chosen = _pair_names([name], files, ("--file", source)).get(name)
    if chosen is None:
        failed, record = _failed_by_detect(name, source)
        if failed is not None:  # "no rows" read as a misspelt name, where the image could not be read
            raise ParticleDetectError(f"{source}: detect failed on {failed} (see {record}): the table holds nothing "
                                      "of it")
        raise ParticleDetectError(f"{source}: no rows of file {name} (its files: {listed(files)})")
    return chosen


def _failed_by_detect(name: str, source: str) -> tuple[str | None, PurePath]:
    """The input that ``name`` names (as :func:`chosen_file` names files) among those detect's .json beside the
    table ``source`` lists as ``failed`` (an unreadable image of a folder run), or None; and that .json's path.
    Read here, not through files/file_detection, which imports this package's tables (its naming of the .json
    alone is imported, when called)."""
    from ..files.side_files import metadata_path

    record = metadata_path(Path(source))
    try:
        meta = json.loads(record.read_text())
    except (OSError, ValueError):
        meta = None
    failed = recorded_files(meta if isinstance(meta, dict) else {}, "failed")
    return _pair_names([name], failed, ("--file", f"{record}'s failed inputs")).get(name), record


def recorded_files(meta: dict, entry: str) -> list[str]:
    """The files detect's .json ``meta`` lists under ``entry`` (``inputs``: detected, ``failed``: not); none where
    the entry is missing or garbled by hand."""
    records = meta.get(entry)
    if not isinstance(records, list):
        return []
    return [str(record["file"]) for record in records if isinstance(record, dict) and "file" in record]


def pair_files(predicted: pd.DataFrame, truth: pd.DataFrame, predicted_source: str, truth_source: str,
               select: str | None = None
               ) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[str, int]] | None, dict[str, str]]:
    """Predicted and true tables scored file by file: where a table holds several files (a ``file``
    column), each (file, frame) of both is numbered as one frame, so per-frame scoring compares a
    file's frame with the same file's frame, never pools them.

    ``select``: keep only that file's rows. Returns the two tables (frames renumbered, no file column),
    the (file, frame) of each number (None when no file column was used) and the files only the truth
    holds, with its source (their centres count as all missed). A predicted file without truth is left
    out, with a logged warning: scored, it read as recall 1 and F1 0, and pulled the pooled scores down.
    One ParticleDetectError when a table of several files meets one without a file column (which file
    would it be?) or names match ambiguously (:func:`_pair_names`)."""
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
            raise ParticleDetectError(f"{source}: holds {len(files)} files ({listed(files)}) and {other} has no file "
                                      f"column; give --file NAME to score one of them, or a table with a file column")
        return predicted.drop(columns="file", errors="ignore"), truth.drop(columns="file", errors="ignore"), None, {}
    p_files, t_files = _files(predicted), _files(truth)
    pairs = _pair_names(p_files, t_files, (predicted_source, truth_source))
    for name in p_files:
        if name not in pairs:
            log.warning("no truth for %s: left out of the scores", name)
    predicted = predicted[predicted["file"].astype(str).isin(pairs)]
    alone = {f: truth_source for f in t_files if f not in pairs.values()}
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
