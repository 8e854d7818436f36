"""A project's round used outside its project: exported as a model file, or deleted.

An exported round is an ordinary saved model, ``NAME.pt`` with its ``NAME.json`` card (and
``NAME.criterion.skops`` when the round learned the user's keep/drop criterion, the card naming
it), so ``particle-detect detect --model NAME.pt`` and the dock's model *Add...* in any other
project take it. The card records where it came from (project, round, held-out F1). No Qt here.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..errors import ParticleDetectError
from ..models.registry import copy_model
from ..project_layout import PROJECT_SUFFIX
from .project import Project, RoundInfo, way_to_another_round
from .shipped_rounds import is_shipped_copy

def export_round(project: Project, number: int, destination: str | Path, name: str | None = None) -> Path:
    """Write round ``number`` of ``project`` as the model ``destination`` (.pt, .json[, .criterion.skops]).

    ``name`` (default: the file's stem) goes into the card with the round's origin and scores.
    """
    info = project.round(number)
    destination = Path(destination)
    refuse_inside_project(destination, project.folder)
    note = {"exported": {
        # Absolute: the card is read later from anywhere, where a path relative to today's working folder
        # names no project.
        "name": name or destination.stem, "project": str(project.folder.resolve()), "round": info.number,
        "origin": info.origin, "held_out_f1": info.f1, "parent_f1": info.parent_f1, "improved": info.improved,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }}
    return copy_model(project.round_path(number), destination, note)


def refuse_inside_project(output: Path, project_folder: Path | None = None) -> None:
    """A model written inside a dock project's folder (IMAGE.particle-detect, or ``project_folder``) could replace a
    round in use, unnoticed by the project's records (rounds would list it as in use, --export export it under that
    round's record): refused, as the shipped weights are; by ``train -o`` and a round's export alike."""
    parents = Path(output).resolve().parents
    project = next((folder for folder in parents if folder.suffix == PROJECT_SUFFIX), None)
    if project is None and project_folder is not None and Path(project_folder).resolve() in parents:
        project = Path(project_folder)
    if project is not None:
        raise ParticleDetectError(f"{output}: inside the napari project {project}, whose rounds the dock keeps; "
                                  "write the model outside it")


def deletable(project: Project, number: int) -> str | None:
    """Why round ``number`` cannot be deleted (in use, the shipped model), or None when it can."""
    info = project.round(number)
    current = project.current_round
    if current is not None and current.number == info.number:
        return f"{info.name} is the round in use; {way_to_another_round(project.state().frame_shape)}"
    if is_shipped_copy(info):  # "shipped unet3d" too: a volume project's was deleted
        # Not "the one every round started from": a project may hold an older version's and this version's.
        return f"{info.name} is a copy of a shipped model, kept for rounds to start from"
    return None


def delete_round(project: Project, number: int) -> RoundInfo:
    """Remove round ``number`` (its files and its row); refused for the round in use and the shipped
    model. Rounds trained from it keep its number as their parent."""
    reason = deletable(project, number)
    if reason is not None:
        raise ParticleDetectError(deletion_refusal(reason))
    return project.delete_round(number)


def deletion_refusal(reason: str) -> str:
    """The line refusing a deletion for :func:`deletable`'s ``reason``, the same on the command line and in the docks."""
    name, why = reason.split(" ", 1)  # "round-001 is the round in use": its name, then why
    return f"cannot delete {name}: it {why}"


__all__ = ["delete_round", "deletable", "deletion_refusal", "export_round", "refuse_inside_project"]
