"""A project's copies of a shipped model, told apart from the model this install ships.

A project's round 1 is a copy of the shipped weights of the version that made it (origin ``shipped``,
``shipped unet3d`` for volumes). After an upgrade that ships another model, the project still detects and
fine-tunes from its copy: calling that copy "shipped" hid that today's model is not in use. Here a copy is
compared with this install's file (weights and card), labelled honestly where they differ, and today's
model can be copied in as a round of its own. Nothing here imports Qt or napari.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import ParticleDetectError
from .project import Project, RoundInfo

SHIPPED = "shipped"
# The Model list's entry for this install's shipped model, offered where the project holds another version's only.
THIS_VERSION = "shipped (this version)"
# The Rods and chains and volume docks' button for this install's shipped model: they have no Model list.
USE_THIS_VERSION = "Use this version's shipped model"
# Marks a starred origin in a narrow column; origin_label says what it means.
OTHER_VERSION_MARK = "*"


def is_shipped_copy(info: RoundInfo) -> bool:
    """Whether round ``info`` is a copy of a shipped model, by its origin: ``shipped``, or ``shipped MODEL`` (a
    volume project's ``shipped unet3d``)."""
    words = info.origin.split()
    return bool(words) and words[0] == SHIPPED and len(words) <= 2


def shipped_weights(project: Project, info: RoundInfo) -> Path | None:
    """This install's weights of the shipped model round ``info`` is a copy of; None for a round that is no
    copy of a shipped model (fine-tuned, added from a file) or whose model this install does not ship."""
    from ..detection.kinds_prediction import shipped_model_path
    from ..models.registry import default_model_path

    if not is_shipped_copy(info):
        return None
    words = info.origin.split()
    try:
        if len(words) == 2:  # the origin names the model: "shipped unet3d"
            return default_model_path(words[1])
        kind = project.state().kind
        return default_model_path() if kind == "spheres" else shipped_model_path(kind)
    except ParticleDetectError:
        return None


def is_other_version(project: Project, info: RoundInfo) -> bool:
    """Whether round ``info`` is a copy of a shipped model that differs from the one this install ships (in
    weights or card): the model another version shipped. A round whose files cannot be read is not judged
    here (:func:`origin_label` says it is missing or damaged; using it says what is wrong): a few random
    bytes differ from today's model too, and were called another version's."""
    if not is_shipped_copy(info):  # no file read for a fine-tuned or added round
        return False
    return _other_version(project, info, project.round_model_problem(info.number))


def _other_version(project: Project, info: RoundInfo, problem: str | None) -> bool:
    """:func:`is_other_version`, the round's model file already checked (``problem``)."""
    if problem is not None:
        return False
    shipped = shipped_weights(project, info)
    if shipped is None:
        return False
    try:
        return not same_saved_model(project.round_path(info.number), shipped)
    except (OSError, ValueError, ParticleDetectError):
        return False


def same_saved_model(weights: Path, other: Path) -> bool:
    """Whether two saved models (.pt, each with its .json card) are one: the same weights and the same card,
    but for the name of its criterion file (a copy names its own)."""
    return _same_model(_stamp(Path(weights)), _stamp(Path(other)))


def _stamp(weights: Path) -> tuple:
    # Compared once per process while the files are unchanged: the lists ask at every refresh.
    return tuple((str(path), path.stat().st_mtime_ns, path.stat().st_size)
                 for path in (weights, weights.with_suffix(".json")))


@lru_cache(maxsize=64)
def _same_model(stamp: tuple, other: tuple) -> bool:
    (weights, _, size), (card, _, _) = stamp
    (other_weights, _, other_size), (other_card, _, _) = other
    if size != other_size or Path(weights).read_bytes() != Path(other_weights).read_bytes():
        return False
    cards = [_card_as_values(Path(path)) for path in (card, other_card)]
    for loaded in cards:
        loaded.pop("criterion", None)
    return cards[0] == cards[1]


def _card_as_values(path: Path) -> dict:
    """A card read with a value that is no number (an older card's NaN: the loss of its epoch 0) as null, as cards
    are written now: a project's copy of a shipped card written with NaN is the same model as today's, written with
    null. NaN compared equal only because Python's json hands back one NaN object for every NaN it reads."""
    return json.loads(path.read_text("utf-8"), parse_constant=lambda constant: None)


@dataclass(frozen=True)
class RoundOrigin:
    """What a rounds list shows of a round, its model file checked once: a table's row asked for its problem,
    label and word in turn, each checking the file again (four reads of the card and weights per row, at every
    refresh)."""

    problem: str | None  # Project.round_model_problem
    other_version: bool  # is_other_version
    label: str  # origin_label
    word: str  # origin_word


def round_origin(project: Project, info: RoundInfo) -> RoundOrigin:
    """Round ``info``'s :class:`RoundOrigin`."""
    problem = project.round_model_problem(info.number)
    other = _other_version(project, info, problem)
    return RoundOrigin(problem, other, _label(info, problem, other), _word(info, other))


def origin_label(project: Project, info: RoundInfo) -> str:
    """Where round ``info`` came from, as the lists say it: a copy of the model another version shipped says
    so, with the day it was copied ('shipped as of 2026-11-27; this version ships another'); a round whose model
    cannot be used says that ('shipped; model file missing')."""
    return round_origin(project, info).label


def _label(info: RoundInfo, problem: str | None, other_version: bool) -> str:
    if problem is not None:
        return f"{info.origin}; {problem}"
    if not other_version:
        return info.origin
    if not info.created:
        return f"{info.origin} by another version, not this one's"
    return f"{info.origin} as of {info.created.split()[0]}; this version ships another"


# How the origin of a round added from a model file begins, the file's path following.
FROM_FILE = ("from ", "imported from ")


def origin_word(project: Project, info: RoundInfo) -> str:
    """Where round ``info`` came from in a narrow column: its origin's first word, or the name of the model file
    it was added from (its first word, 'from', said nothing of which), starred for a copy of the model another
    version shipped (:func:`origin_label` says it whole)."""
    return _word(info, is_other_version(project, info))


def _word(info: RoundInfo, other_version: bool) -> str:
    source = next((info.origin[len(start):] for start in FROM_FILE if info.origin.startswith(start)), "")
    word = Path(source.strip()).name or (info.origin.split() or ["-"])[0]
    return word + (OTHER_VERSION_MARK if other_version else "")


def other_version_copies(project: Project) -> list[RoundInfo]:
    """The project's copies of a model another version shipped, while it holds no copy of the one this install
    ships (then today's model is one choice away: :func:`add_this_versions_model`)."""
    others = [info for info in project.rounds if is_other_version(project, info)]
    if not others:
        return []
    # Today's model may be in as a copy of its own or added from its file (Add...): any round not fine-tuned.
    started = [project.round_path(info.number) for info in project.rounds if info.parent is None]
    return [info for info in others if not any(_readably_same(path, shipped_weights(project, info))
                                               for path in started)]


def _readably_same(weights: Path, other: Path) -> bool:
    """:func:`same_saved_model`, False where either cannot be read (a damaged round is no copy of today's model)."""
    try:
        return same_saved_model(weights, other)
    except (OSError, ValueError, ParticleDetectError):
        return False


def add_this_versions_model(project: Project) -> RoundInfo:
    """Copy the model this install ships into the project as its next round (in use from now on), where the
    project holds another version's copy only; a round like its round 1, labelled as shipped."""
    copies = other_version_copies(project)
    if not copies:
        raise ParticleDetectError(f"{project.folder}: already holds the model this version ships")
    return project.import_model(shipped_weights(project, copies[0]), origin=copies[0].origin)


def other_version_note(project: Project, short: bool = False) -> str:
    """One line saying which rounds are copies of a model another version shipped and which file this install
    ships instead; '' when there are none (or the project holds today's model too). ``short``: the file by its
    name, the project unnamed (a dock's line: a long path would widen the dock)."""
    copies = other_version_copies(project)
    if not copies:
        return ""
    names = ", ".join(info.name for info in copies)
    shipped = shipped_weights(project, copies[0])
    said = f"{names}: {origin_label(project, copies[0])} ({shipped.name if short else shipped})"
    return said if short else f"{project.folder}: {said}"


def this_versions_offer(project: Project) -> str:
    """The Rods and chains or volume dock's line for a project holding another version's shipped model only:
    which rounds, the file this install ships instead and the button that puts it in use; '' when none."""
    note = other_version_note(project, short=True)
    return f"{note}; '{USE_THIS_VERSION}' detects and fine-tunes with it" if note else ""


def way_to_this_versions_model(project: Project, info: RoundInfo) -> str:
    """Where the dock that reviews ``project`` offers the model this install ships in place of round ``info``,
    a copy of another version's: the Particle detection dock's Model list, the other docks' button."""
    if len(info.origin.split()) == 2:  # the origin names the model: a volume project's ("shipped unet3d")
        dock = "Volume detection (3D)"
    elif project.state().kind in ("rods", "chains"):
        dock = "Rods and chains"
    else:
        return f"the dock's Model list offers it as '{THIS_VERSION}'"
    return f"the {dock} dock's '{USE_THIS_VERSION}' button puts it in use"


def this_versions_model_added(project: Project, info: RoundInfo) -> str:
    """What is said once the model this install ships came in as round ``info`` (add_this_versions_model)."""
    return (f"{project.folder}: the model this version ships ({shipped_weights(project, info).name}) is now "
            f"{info.name}, used by Detect and Fine-tune")


__all__ = ["OTHER_VERSION_MARK", "SHIPPED", "THIS_VERSION", "USE_THIS_VERSION", "RoundOrigin",
           "add_this_versions_model", "is_other_version", "is_shipped_copy", "origin_label", "origin_word",
           "other_version_copies", "other_version_note", "round_origin", "same_saved_model", "shipped_weights",
           "this_versions_model_added", "this_versions_offer", "way_to_this_versions_model"]
