"""Checks the command line makes before any work: option ranges, and output paths that are safe to write.

Options are checked while parsing (napari_particle_detect.arguments: one line, exit 2); output paths are
checked before the first image is read, so a bad ``-o`` never costs a run and never destroys an input.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import ParticleDetectError
from ..files.output_checks import check_output, check_output_folder  # noqa: F401 (the CLI imports them from here)
from ..files.tables import table_columns

# What matplotlib writes by name; a figure path must say which one.
FIGURE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg", ".tif", ".tiff")


def check_model_path(model: Path | None, option: str = "--model") -> None:
    """A model named by its weights (.pt), a bare name (a shipped model) or a folder: any other suffix
    was read as NAME.pt, and the error named a file the user never gave."""
    if model is None:
        return
    model = Path(model)
    if model.suffix and model.suffix.lower() != ".pt" and not model.is_dir():
        raise ParticleDetectError(f"{model}: {option} takes a model's weights file (.pt, its .json card beside it)")


def check_distinct(outputs: dict[str, Path]) -> None:
    """No two outputs of one command may be the same file (the second would replace the first)."""
    seen: dict[Path, str] = {}
    for what, path in outputs.items():
        key = Path(path).resolve()
        if key in seen:
            raise ParticleDetectError(f"{path}: the {what} would replace the {seen[key]}; choose another name")
        seen[key] = what


def input_files(paths: Iterable[Path]) -> list[Path]:
    """The files that paths name: a file itself, a folder's files (the inputs an output must not replace)."""
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(p for p in path.iterdir() if p.is_file())
        else:
            files.append(path)
    return files


def model_files(model: Path | None) -> list[Path]:
    """The weights and card of a ``--model``/``--from`` argument (default: the shipped model)."""
    from ..models.registry import default_model_path, weights_path

    try:
        weights = weights_path(model) if model is not None else default_model_path()
    except ParticleDetectError:
        return []
    return [weights, weights.with_suffix(".json")]


# A synthetic image places particles one by one in Python: beyond this many a run takes hours.
MAX_SYNTH_PARTICLES = 200_000
# A synthetic volume packs its spheres by Monte-Carlo sweeps (about 1.3 ms a sphere): this many take a minute.
MAX_SYNTH_SPHERES_3D = 50_000


def check_synth_folder(outdir: Path) -> None:
    """``synth``: a new or empty folder that can be written (a dataset mixed into another one, or over
    the user's files, cannot be told apart afterwards)."""
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise ParticleDetectError(f"{outdir}: is a file; synth writes into a folder")
    if outdir.is_dir() and any(outdir.iterdir()):
        raise ParticleDetectError(f"{outdir}: the folder is not empty; synth writes a dataset into a new or empty "
                                  "folder")
    check_output_folder(outdir)


def check_synth_count(expected: float, what: str, hint: str, limit: int = MAX_SYNTH_PARTICLES) -> None:
    """Refuse an image whose particles would take hours to place, before any is placed."""
    if expected > limit:
        raise ParticleDetectError(f"{what} would place about {expected:,.0f} particles per image (at most "
                                  f"{limit:,}); {hint}")


def warn_of_empty_images(counts: list[int], what: str, largest: float, shape: tuple[int, int], area_fraction: float,
                         smaller: str) -> None:
    """``synth``: images that list none of their ``what`` (``counts``: each image's) said in one warning, with why
    and the options that give some (``smaller``: those that shrink them); only its count ("0 centres") said so."""
    empty = sum(count == 0 for count in counts)
    if not empty:
        return
    h, w = shape
    if largest > min(h, w):
        why = (f"{what} of up to {largest:g} px are larger than the {h} x {w} px images, and their truth lists "
               f"only the centres inside; give a larger --shape or a smaller {smaller}")
    else:
        why = (f"at --area-fraction {area_fraction:g} few {what} of up to {largest:g} px fall inside {h} x {w} px; "
               "give a larger --area-fraction or --shape")
    logging.getLogger("napari_particle_detect").warning("%d of %d images %s no %s: %s", empty, len(counts),
                                                        "holds" if empty == 1 else "hold", what, why)


def check_synth_output(outdir: Path, config, n: int) -> None:
    """``synth``: the folder can be written, and the images are of a size that finishes."""
    check_synth_folder(outdir)
    r_lo, r_hi = config.radius_range
    mean_area = math.pi * (r_lo**2 + r_lo * r_hi + r_hi**2) / 3.0
    h, w = config.shape
    expected = config.area_fraction * (h + 2 * r_hi) * (w + 2 * r_hi) / mean_area
    check_synth_count(expected, f"--shape {h} {w} with --radius {r_lo:g} {r_hi:g}",
                      "use larger particles or smaller images")


def refuse_a_model_folder(output: str | Path, example: str) -> Path:
    """``output`` (a model's -o, as given) as a path, refused where it names a folder: a trailing separator, which
    a Path drops, names one as detect -o reads it (``example``: a model's name inside it, for the message)."""
    given = str(output)
    output = Path(output)
    if output.is_dir() or given.endswith(tuple(sep for sep in ("/", os.sep, os.altsep) if sep)):
        raise ParticleDetectError(f"{given}: is a folder; name the model inside it, e.g. {output / example}")
    return output


def check_train_outputs(output: str | Path, data: list[Path], init: Path | None) -> None:
    """``train -o``: the weights, card and resume state it writes replace no input and are no folder (``output``
    as given: a trailing separator, which a Path drops, names a folder as detect -o reads it)."""
    output = refuse_a_model_folder(output, "model")
    inputs = input_files(data)
    inputs += [p.with_suffix(".csv") for p in inputs if p.suffix.lower() in (".tif", ".tiff", ".png")]
    if init is not None:
        inputs += model_files(init)
    if output.suffix and output.suffix.lower() != ".pt":
        raise ParticleDetectError(f"{output}: the model is written as NAME.pt (with NAME.json); give -o NAME or "
                                  "NAME.pt")
    for what, path in model_outputs(output).items():
        check_output(path, inputs, what)


def model_outputs(output: Path) -> dict[str, Path]:
    """What training writes for ``-o``: the weights, their card and the training state."""
    from ..models.registry import resume_state_path  # torch: imported by the commands that train only

    weights = Path(output).with_suffix(".pt")
    return {"model weights": weights, "model card": weights.with_suffix(".json"),
            "training state": resume_state_path(weights)}


def check_detect_outputs(output: Path, overlay: Path | None, inputs: list[Path], model: Path | None,
                         kind: str = "spheres") -> None:
    """``detect``: the centres CSV, its metadata (.json beside it), a chains run's per-chain table and the
    overlay replace no input, the model's card, each other, nor a file an earlier detect did not write."""
    from ..files.file_detection import check_targets, kind_tables, metadata_path

    output = Path(output)
    protected = input_files(inputs) + model_files(model)
    meta = metadata_path(output)
    if meta == output:
        raise ParticleDetectError(f"{output}: the run's metadata is written to OUTPUT.json; name the centres "
                                  "file .csv")
    check_output(output, protected, "output CSV")
    check_output(meta, protected, "metadata file (the output's .json)")
    outputs = {"output CSV": output, "metadata file (the output's .json)": meta}
    if kind == "chains":
        outputs["per-chain table"] = check_output(kind_tables(output), protected, "per-chain table")
    if overlay is not None:
        outputs["overlay"] = check_output(overlay, protected, "overlay", FIGURE_SUFFIXES)
    check_distinct(outputs)
    check_targets([output], kind)


def refuse_resuming_a_round(args: argparse.Namespace) -> None:
    """A fine-tuning round (--from with DATA) is short and keeps no state to resume: --resume would be ignored, and
    as it skips the --overwrite check, the round would replace a model already at -o."""
    if args.resume:
        raise ParticleDetectError("--resume continues an interrupted run from the state it kept beside -o "
                                  "(MODEL.state.pt); a fine-tuning round (--from with DATA) is short and keeps none: "
                                  "run it again")


def refuse_a_time_limit_in_a_round(args: argparse.Namespace) -> None:
    """A fine-tuning round runs its steps in full, to score what they made: --minutes was silently ignored there."""
    if args.minutes is not None:
        raise ParticleDetectError("--minutes stops a training run, which --resume then continues; a fine-tuning round "
                                  "(--from with DATA) runs its steps in full: leave --minutes out, or give fewer "
                                  "--steps-per-epoch")


@contextlib.contextmanager
def round_unsaved_at_ctrl_c(output: Path) -> Iterator[None]:
    """Re-raise a Ctrl-C out of a fine-tuning round's work (before its model is saved) with what became of it, for
    the command line to say: a round keeps no state, so nothing was written, and the same command starts it again."""
    try:
        yield
    except KeyboardInterrupt:
        raise KeyboardInterrupt(f"nothing saved to {Path(output).with_suffix('.pt')}; run the same command "
                                "again") from None


def refuse_tables_of_another_sort(paths: list[Path], kind: str) -> None:
    """``evaluate`` and ``link`` given the per-chain summary detect writes beside a chains table, a rods table
    against a chains one, or (``--kind rods|chains``) sphere centres: one line saying which table it is and what to
    give, where the readers named only the columns it lacks (and each --kind sent the user to the other). Where
    a table cannot be read, its reader says why, in the order given (the tables before it checked here first)."""
    columns = [table_columns(path) for path in paths]
    # The tables before the first unreadable one are still checked: else a per-chain summary scored against a CSV
    # that is not UTF-8 was refused by the centres reader for want of y and x, not as the summary it is.
    readable = len(columns) if None not in columns else columns.index(None)
    paths, columns = paths[:readable], columns[:readable]
    _refuse_chain_summaries(paths, columns)
    _refuse_two_kinds(paths, columns)
    for path, names in zip(paths, columns):
        _refuse_another_kind(Path(path), names, kind, "evaluate")


def refuse_kind_training_tables(paths: list[Path], kind: str) -> None:
    """``train --kind rods|chains``: an annotated image's CSV of another kind, or of centres alone, said in one
    line with the --kind it takes (the loader named only the columns it lacks). Missing or unreadable pairs
    are left to the loader to report."""
    from ..learning.training import annotated_files

    try:
        pairs = list(annotated_files(paths, f"{kind} table"))
    except (OSError, ParticleDetectError):
        return
    for _, csv in pairs:
        names = table_columns(csv)
        if names is not None:
            _refuse_another_kind(csv, names, kind, "train")


def _refuse_chain_summaries(paths: list[Path], columns: list[set[str]]) -> None:
    from ..kinds.chains import CHAIN_SUMMARY_COLUMNS

    for path, names in zip(map(Path, paths), columns):
        if set(CHAIN_SUMMARY_COLUMNS) <= names and not {"y", "x"} & names:
            beads = path.name[:-len(".chains.csv")] + ".csv" if path.name.endswith(".chains.csv") else \
                "the beads table"
            raise ParticleDetectError(f"{path}: the per-chain summary detect --kind chains writes beside its beads "
                                      f"table (one row per chain, no centres); give {beads}, one row per bead")


def _refuse_two_kinds(paths: list[Path], columns: list[set[str]]) -> None:
    from ..kinds.columns import table_kind

    kinds = [table_kind(names) for names in columns]
    if len(kinds) == 2 and "spheres" not in kinds and kinds[0] != kinds[1]:
        raise ParticleDetectError(f"{paths[0]}: a {kinds[0]} table, scored against {paths[1]}, a {kinds[1]} one; "
                                  "give two tables of one kind (and that --kind)")


# What --kind rods|chains and no --kind do with tables, in a refusal of sphere centres under --kind.
KIND_TABLE_USES = {"evaluate": "scores two tables that detect --kind {kind} writes (or their corrections), evaluate "
                               "without --kind scores sphere centres",
                   "train": "learns from tables that detect --kind {kind} writes (or their corrections), train "
                            "without --kind learns from sphere centres"}


def boxes_hint(names: set[str]) -> str:
    """For a table of tips alone (kinds.columns.is_tips_table), refused as the rods table it reads as: how to read
    it as the boxes' corners it may be instead (BOXES_HINT, as evaluate says it), after "; "; else ''."""
    from ..kinds.columns import BOXES_HINT, is_tips_table

    return f"; {BOXES_HINT}" if is_tips_table(names) else ""


def _refuse_another_kind(path: Path, names: set[str], kind: str, command: str) -> None:
    """Under --kind rods|chains, a table of another kind or of centres alone (a sphere evaluate's reader names
    the --kind of a rods or chains table itself)."""
    from ..kinds.columns import KIND_SIGNATURES, columns_said, table_kind

    found = table_kind(names)
    if kind == "spheres" or found == kind:
        return
    if found != "spheres":
        raise ParticleDetectError(f"{path}: not a {kind} table: no {', '.join(KIND_SIGNATURES[kind])} column; a "
                                  f"{found} table ({columns_said(found, names)} columns): give --kind {found}"
                                  f"{boxes_hint(names)}")
    if {"y", "x"} <= names and not set(KIND_SIGNATURES[kind]) & names:
        raise ParticleDetectError(f"{path}: sphere centres (no {', '.join(KIND_SIGNATURES[kind])} columns), not a "
                                  f"{kind} table; {command} --kind {kind} {KIND_TABLE_USES[command].format(kind=kind)}")
