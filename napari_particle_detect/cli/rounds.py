"""What the command line does with a round it ran (spheres, rods and chains, volumes): the round's
model saved with the command that made it, and one log line with its honest verdict."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

from . import command_line
from ..learning.finetune import RoundResult, tied_at_best, unreviewed_note, unreviewed_record
from ..projects.project import Project
from ..projects.project_state import RoundInfo
from ..models import save_model

log = logging.getLogger("napari_particle_detect")


def save_round(result: RoundResult, parent: str | Path, output: str | Path, score: str = "F1",
               tiles: str = "held-out tiles") -> Path:
    """Save ``result``'s model at ``output`` and log whether it beat ``parent`` on the held-out tiles."""
    result.model.card.training["command"] = command_line()
    path = save_model(result.model, output)
    if result.score is not None and result.parent_score is not None:
        verdict = "better" if result.improved else "NOT better"
        if tied_at_best(result.score.f1, result.parent_score.f1):
            # As the dock says it: equal at the best threshold, so the mean F1 across thresholds decided.
            verdict += (f" (tied at the best threshold; across thresholds {result.score.f1_across_thresholds:.4f} "
                        f"against {result.parent_score.f1_across_thresholds:.4f})")
        # A round that got worse is said even with -q (a warning), as detect says a low-confidence size.
        level = logging.INFO if result.improved else logging.WARNING
        if result.held_out_tiles == 1:
            tiles = tiles.removesuffix("s")  # "on 1 held-out tile", as the dock says it
        log.log(level, "held-out %s %.4f against %.4f for %s on %d %s: %s; threshold %.2f -> %s",
                score, result.score.f1, result.parent_score.f1, parent, result.held_out_tiles, tiles,
                verdict, result.model.card.threshold, path)
    else:
        log.info("nothing to score the round on (no held-out area, or nothing in it); saved %s", path)
    names, asked, unsure = unreviewed_record(result.model)
    learned = unreviewed_note(names, asked, unsure)
    if learned:  # fewer frames than asked is said even with -q: the round was not what was asked for
        log.log(logging.WARNING if len(names) < asked else logging.INFO, "the round %s", learned)
    return path


def open_project(folder: Path, kind: str) -> Project:
    """``Project.open`` with the problems it found (a round's discarded work, a damaged file) said one line each,
    as the command line says a warning: as Python's warnings they came with project.py's line and source."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        project = Project.open(folder, kind=kind)
    for warning in caught:
        if str(warning.message) in project.problems:
            log.warning("%s", warning.message)
        else:  # not the project's: as it came
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return project


def trained_column(info: RoundInfo) -> str:
    """What ``rounds`` lists a round trained on: '2f 1r', '+ 4u' after it for the unreviewed frames it also
    learned from, ', 3e not learned' for the edited frames whose edits it did not learn ('-' for a round not
    fine-tuned)."""
    if not info.parent:
        return "-"
    trained = f"{len(info.trained_frames)}f {info.trained_regions}r"
    if info.unreviewed_asked:
        trained += f" + {len(info.unreviewed_frames)}u"
    from ..learning.rounds import unlearned_edits_count

    unlearned = unlearned_edits_count(info)
    # As the dock's table says it; the line under the table names the frames.
    return f"{trained}, {unlearned}e not learned" if unlearned else trained


def score_heading(kind: str) -> tuple[str, str]:
    """``rounds``' heading of its before/after column for a project of ``kind``, and the line under the table that
    says what its score is ("" where the heading says it): a chains round is not scored by F1."""
    from ..learning.kinds_rounds import ROUND_METRIC

    metric = ROUND_METRIC.get(kind, "F1")
    if metric == "F1":
        return "held-out F1 before/after", ""
    return "held-out score before/after", f"score: the {metric} on the held-out tiles, each round at its best threshold"


def round_note_lines(rounds: list[RoundInfo]) -> list[str]:
    """The lines under ``rounds``' table: for each round that left edits unlearned, which (a user who edited without
    accepting believed the round had learned the edits); for each that asked for unreviewed frames, which it
    learned from, after: it says why edited frames were left out of those."""
    from ..learning.rounds import unlearned_edits_text, unreviewed_text

    lines = []
    for info in rounds:
        lines += [f"{info.name} {text}" for text in (unlearned_edits_text(info), unreviewed_text(info)) if text]
    return lines


def projects_inside_note(folder: Path) -> str:
    """What a refusal of ``folder`` as a project adds where it holds projects (the images' folder given for the
    project's): their folders, to give instead; "" where it holds none."""
    from ..projects.project import PROJECT_SUFFIX

    inside = sorted(path for path in folder.glob(f"*{PROJECT_SUFFIX}") if (path / "state.json").is_file())
    if not inside:
        return ""
    them = "that folder" if len(inside) == 1 else "one of them"
    return f"; it holds {', '.join(str(path) for path in inside)}: give {them}"


def round_phase_label(event: dict) -> str | None:
    """What a round's progress bar says it is doing at ``event`` (finetune.fine_tune's), or None: keep it. In the
    dock's words (round_progress.describe), but short and of the --from model, not "the current round": the raw
    phase names ("scoring (parent)", "criterion", "done") were the code's."""
    from .._napari.round_progress import SCORED_MODELS, describe

    phase = event["phase"]
    if phase == "teacher":
        return f"teacher pass {event['done']} / {event['total']} frame{'s' * (event['total'] != 1)}"
    if phase == "scoring":
        if event["done"] == 0:
            model = {**SCORED_MODELS, "parent": "the --from model"}.get(event["model"], event["model"])
            return f"scoring {model}"
        # The parent's scoring ends where the training begins: its first event comes steps later (a step in five).
        return "training" if event["model"] == "parent" and event["done"] >= event["total"] else None
    if phase == "preparing":
        return "preparing the examples"
    if phase in ("criterion", "done"):
        return describe(event).text.rstrip("…").removesuffix(" in 0 s")
    return phase  # training
