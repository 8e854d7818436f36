"""A fine-tuning round as the dock runs and reports it: the worker's job, each progress event as a
line and a bar, and the plain verdict at the end. No Qt here."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..learning import rounds
from ..learning.rounds import unreviewed_text
from ..learning.finetune import FINE_TUNE, tie_note
from ..projects.project import Project, RoundInfo
from ..learning.training import TrainConfig
from ..wording import plural

SCORED_MODELS = {"parent": "the current round", "new model": "the new round",
                 "new model with criterion": "the new round with your keep/drop rule",
                 "adapted model": "the new round with this stack's batch-norm statistics"}


@dataclass(frozen=True)
class Progress:
    """What the bar and the line under it show; ``maximum`` 0 is a busy bar (no count to show)."""

    text: str
    value: int = 0
    maximum: int = 0


def describe(event: dict) -> Progress:
    """One progress event of :func:`rounds.run_round` in words."""
    phase = event.get("phase")
    if phase == "waiting":
        # Held for longer than a save takes: a round being saved elsewhere, or a command-line run.
        return Progress("waiting for the project, held by another window or program…")
    if phase == "preparing" and event.get("versions"):  # a remote round reaching its scheduler (train_round)
        return Progress(f"asking the dask workers of {event.get('where', 'the scheduler')} which version they run…")
    if phase == "preparing" and event.get("worker"):  # on the remote round's worker (learning.remote)
        return Progress(f"preparing the round on the dask worker {event['worker']}…")
    if phase == "preparing":
        where = f" for {event['where']}" if event.get("where") else ""
        return Progress(f"preparing the reviewed frames and regions{where}…")
    if phase == "queued":  # a remote round's task not started yet (learning.remote)
        where = event.get("where", "the scheduler")
        if event.get("starting_on"):  # given to an idle worker, which loads its code and data first
            return Progress(f"starting the round on the dask worker {event['starting_on']}…")
        if not event.get("workers"):
            return Progress(f"waiting for a dask worker to join {where}…")
        return Progress(f"waiting for a free dask worker on {where} (busy with other work)…")
    if phase == "unanswered":  # a remote round's scheduler silent (learning.remote: the network gone?)
        return Progress(f"no answer from the dask scheduler {event.get('where', '')} since {event.get('since', '?')} "
                        "(network down?): waiting for it; Cancel gives the round up")
    if phase == "scoring":
        done, total = int(event.get("done", 0)), int(event.get("total", 0))
        which = SCORED_MODELS.get(event.get("model", ""), event.get("model", "a model"))
        return Progress(f"scoring {which} on the held-out tiles: {done} of {total} {noun(total, 'area')}", done, total)
    if phase == "teacher":
        done, total = int(event.get("done", 0)), int(event.get("total", 0))
        # Short enough for one line of the dock: its status line was cut there at about 60 characters.
        return Progress(f"teacher pass {done} / {total} {noun(total, 'frame')}: labelling unreviewed frames", done,
                        total)
    if phase == "training":
        step, steps = int(event["step"]), int(event["steps"])
        return Progress(f"training: step {step} of {steps}, loss {event['loss']:.4f}", step, steps)
    if phase == "criterion":
        return Progress("learning which candidates you keep and which you delete…")
    if phase == "done":
        return Progress(f"finished in {finished_text(event)}", 1, 1)
    return Progress(str(phase or "working…"))


def noun(count: int, word: str) -> str:
    """``word`` as a count of ``count`` takes it: "1 of 1 areas" was said of one (as the command line's
    cli.rounds.round_phase_label says it)."""
    return plural(count, word)


def finished_text(event: dict) -> str:
    """How long a round's "done" ``event`` says it took: a remote round's as long as it was waited for, its time on
    the worker beside it ("8 s" alone was said of a round waited for 19 s)."""
    seconds = float(event.get("seconds", 0))
    waited = event.get("waited")
    if waited is None:
        return f"{seconds:.0f} s"
    if round(float(waited)) <= round(seconds):  # "4 s (4 s of it on the dask worker)" said the same twice
        return f"{float(waited):.0f} s on the dask worker"
    return f"{float(waited):.0f} s ({seconds:.0f} s of it on the dask worker)"


def with_time(said: str, took: str) -> str:
    """A round's verdict and how long it took (``took``: :func:`finished_text`; "" for none), one line told once: its
    "finished in 3 s" shown on its own was replaced by the verdict a moment later, a flash the user could not read."""
    return f"{said}. Finished in {took}" if took else said


def areas_text(frames: int, regions: int) -> str:
    """'2 frames, 3 regions'."""
    parts = []
    if frames:
        parts.append(f"{frames} {noun(frames, 'frame')}")
    if regions:
        parts.append(f"{regions} {noun(regions, 'region')}")
    return ", ".join(parts) or "–"


def trained_text(info: RoundInfo) -> str:
    """What a round was trained on."""
    return areas_text(len(info.trained_frames), info.trained_regions)


def verdict(info: RoundInfo, in_use: RoundInfo | None, metric: str = "F1", table: bool = True,
            pick: str = "", closed: bool = False) -> str:
    """The honest one-line result of a finished round. ``metric`` names the score (the kinds' are not all
    F1); a dock with no rounds ``table`` has no row to double-click, so a round not used is said to stay
    in the project instead of being offered; ``pick``: the image (and kind) to pick first, where the table
    shown is another image's; ``closed``: that image was closed since, so it is opened again rather than picked. A
    round that asked for unreviewed frames says how many it learned from (:func:`rounds.unreviewed_text`)."""
    said = _scored_verdict(info, in_use, metric, table, pick, closed)
    learned = unreviewed_text(info)
    return f"{said}. It {learned}" if learned else said


def _scored_verdict(info: RoundInfo, in_use: RoundInfo | None, metric: str, table: bool, pick: str = "",
                    closed: bool = False) -> str:
    parent = f"round-{info.parent:03d}" if info.parent else "its parent"
    first = (f"open {pick} again, then " if closed else f"pick {pick}, then ") if pick else ""
    offer = (f"({first}double-click {info.name} in the table to use it anyway)" if table
             else f"({info.name} stays in the project, not used)")
    since = _chosen_since(info, in_use, offer)
    if info.f1 is None or info.parent_f1 is None:
        why = ("nothing could be held out to score it (review more frames or larger regions)" if not info.held_out
               else f"its {info.held_out} held-out tile{'s hold' if info.held_out != 1 else ' holds'} no corrected particle, "
                    "so nothing tells whether it is better (was a frame accepted with its centres hidden?)")
        if since:
            return f"{info.name}: {why}; kept but not switched in; {since}"
        return f"{info.name}: {why}; kept but not used, still using {parent} {offer}"
    tiles = f"{info.held_out} held-out tile{'s' if info.held_out != 1 else ''}"
    scores = f"{info.name}: held-out {metric} {info.f1:.3f} vs {info.parent_f1:.3f} for {parent} on {tiles}"
    if info.improved:
        if in_use is not None and in_use.number != info.number:  # told again after another round was chosen
            return f"{scores}{tie_note(info.improved, info.f1, info.parent_f1)}: put in use; {in_use.name} chosen since"
        return f"{scores}{tie_note(info.improved, info.f1, info.parent_f1)}: in use"
    if since:
        return f"{scores}: not better than {parent}, so not switched in; {since}"
    return f"{scores}: not better than {parent}, so still using {parent} {offer}"


def _chosen_since(info: RoundInfo, in_use: RoundInfo | None, offer: str) -> str:
    """What a round left out of use says of the round chosen by hand after it ("" where its parent is still in
    use): told again (a dock or napari opened again), "still using round-003 (double-click round-003 ... to use
    it anyway)" of the very round in use contradicted the table's ◀, and "so still using round-001" of a round
    whose parent was round-003 gave the verdict as the reason for a choice made since."""
    if in_use is None or in_use.number == info.parent:
        return ""
    if in_use.number == info.number:
        return "chosen since, in use"
    return f"{in_use.name} chosen since {offer}"


def train_round(
    project: Project,
    stack,
    config: TrainConfig = FINE_TUNE,
    device: str = "auto",
    progress: Callable[[dict], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    ended: threading.Event | None = None,
    scheduler: str | None = None,
    worker_defaults: bool = False,
) -> RoundInfo:
    """The worker's job: a round fine-tuned on everything reviewed and recorded in the project (in use
    only if it beat its parent), here or, given a dask ``scheduler`` address, on one of its workers.
    Cancelled, it leaves the project as it was; ``ended`` is set when it stops, whichever way. While
    another window or program holds the project, it says it waits, and Cancel ends the wait at once (not
    after the lock's timeout)."""
    report = progress or (lambda event: None)
    stop = cancel or (lambda: False)
    try:
        # A remote round's first seconds go to reaching its scheduler and asking every worker its version (up to
        # VERSION_TIMEOUT_S): "preparing the reviewed frames…" meanwhile did not say what was waited for.
        report({"phase": "preparing", "where": scheduler, "versions": True} if scheduler else {"phase": "preparing"})

        def run() -> rounds.RoundOutcome:
            if scheduler:
                from ..learning.remote import run_round_remote

                return run_round_remote(project, stack, scheduler, config, device, progress=report, cancel=stop,
                                        worker_defaults=worker_defaults)
            return rounds.run_round(project, stack, config, device, progress=report, cancel=stop)

        return rounds.run_and_commit_cancellably(project, run, stop, report)
    finally:
        if ended is not None:
            ended.set()
