"""A project's round used outside its project: exported as a model file, or deleted.

An exported round is an ordinary saved model, ``NAME.pt`` with its ``NAME.json`` card (and
``NAME.criterion.skops`` when the round learned the user's keep/drop criterion, the card naming
it), so ``particle-detect detect --model NAME.pt`` and the dock's model *Add...* in any other
project take it. The card records where it came from (project, round, held-out F1). No Qt here.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..errors import ParticleDetectError
from ..files.io import atomic_write_bytes
from .project import Project, RoundInfo

CRITERION_SUFFIX = ".criterion.skops"


def model_files(weights: Path) -> list[Path]:
    """The files of a saved model: weights, card, and the criterion its card names (if any)."""
    from ..models.registry import read_card

    weights = Path(weights)
    card = read_card(weights.with_suffix(".json"))
    files = [weights, weights.with_suffix(".json")]
    if card.criterion is not None:
        files.append(weights.with_name(card.criterion))
    return files


def copy_model(source: str | Path, destination: str | Path, note: dict | None = None) -> Path:
    """Copy the saved model at ``source`` (.pt) to ``destination`` (.pt): weights, then its criterion
    renamed after the destination, then its card (naming that criterion, with ``note`` added to its
    ``training``) last, each atomically; the card's presence marks a complete model."""
    from ..models import load_model

    source = Path(source).with_suffix(".pt")
    destination = Path(destination)
    if destination.suffix != ".pt":
        destination = destination.with_name(destination.name + ".pt")
    model = load_model(source, "cpu")  # every file is checked before anything is written
    if destination.resolve() == source.resolve():
        raise ParticleDetectError(f"{destination}: is the model being copied")
    if destination.is_dir():
        raise ParticleDetectError(f"{destination}: is a folder")
    destination.parent.mkdir(parents=True, exist_ok=True)
    card = json.loads(source.with_suffix(".json").read_text("utf-8"))
    atomic_write_bytes(destination, lambda fh: fh.write(source.read_bytes()))
    if model.card.criterion is not None:
        criterion = destination.with_name(destination.stem + CRITERION_SUFFIX)
        data = source.with_name(model.card.criterion).read_bytes()
        atomic_write_bytes(criterion, lambda fh: fh.write(data))
        card["criterion"] = criterion.name
    if note:
        card["training"] = {**card.get("training", {}), **note}
    text = json.dumps(card, indent=2).encode()
    atomic_write_bytes(destination.with_suffix(".json"), lambda fh: fh.write(text))
    return destination


def export_round(project: Project, number: int, destination: str | Path, name: str | None = None) -> Path:
    """Write round ``number`` of ``project`` as the model ``destination`` (.pt, .json[, .criterion.skops]).

    ``name`` (default: the file's stem) goes into the card with the round's origin and scores.
    """
    info = project.round(number)
    destination = Path(destination)
    rounds = (project.folder / "rounds").resolve()
    if rounds in destination.resolve().parents:
        raise ParticleDetectError(f"{destination}: inside the project's own rounds; export somewhere else")
    note = {"exported": {
        "name": name or destination.stem, "project": str(project.folder), "round": info.number,
        "origin": info.origin, "held_out_f1": info.f1, "parent_f1": info.parent_f1, "improved": info.improved,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }}
    return copy_model(project.round_path(number), destination, note)


def deletable(project: Project, number: int) -> str | None:
    """Why round ``number`` cannot be deleted (in use, the shipped model), or None when it can."""
    info = project.round(number)
    current = project.current_round
    if current is not None and current.number == info.number:
        return f"{info.name} is the round in use; switch to another round first"
    if info.origin == "shipped":
        return f"{info.name} is the shipped model every round started from"
    return None


def delete_round(project: Project, number: int) -> RoundInfo:
    """Remove round ``number`` (its files and its row); refused for the round in use and the shipped
    model. Rounds trained from it keep its number as their parent."""
    reason = deletable(project, number)
    if reason is not None:
        raise ParticleDetectError(f"cannot delete {reason.split(' ', 1)[0]}: {reason.split(' ', 1)[1]}")
    return project.delete_round(number)


__all__ = ["copy_model", "delete_round", "deletable", "export_round", "model_files"]
