"""What the Fine-tune boxes of the sphere, rods and chains, and volume docks share: progress events
relayed to the GUI thread, the bar and the phases seen, Cancel, and how a finished or failed round
is told (the bar full or empty, the verdict or the failure in the status line and a notification).
A mixin for a panel with ``progress`` (QProgressBar), ``status`` (QLabel), ``cancel_button``, ``phases`` (list),
``running()`` and the events ``_cancel`` (set to stop the round) and ``_ended`` (set when it stopped)."""

from __future__ import annotations

import time

from qtpy.QtCore import QObject, Signal

from ..errors import ParticleDetectError, one_line
from ..projects.project import RoundInfo
from ..learning.rounds import unlearned_edits_text
from ..learning.training import TrainingCancelled
from .notify import report, show_info, show_warning
from .round_progress import Progress, describe, finished_text, verdict, with_time


# Training steps are shown at most this often (other phases' events are few and all shown): each
# change of the line or the bar repaints the window, which under software OpenGL (napari's canvas
# makes Qt compose the whole window through it) took about 6 ms of the interface thread, four
# times a second through a round.
PROGRESS_SHOWN_EVERY_S = 0.5
# What a Cancel clicked says until the round stops: a bare "cancelling…" left the user asking what of the round, and
# of the project, was kept (nothing: rounds.run_and_commit_cancellably adds no round cancelled, even one trained).
CANCELLING = "cancelling the fine-tuning round: nothing of it is saved, the project stays as it was…"


class ProgressRelay(QObject):
    """Carries progress events from the worker thread to the main thread (a queued signal)."""

    event = Signal(dict)


def told_verdict(info: RoundInfo, in_use: RoundInfo | None, metric: str = "F1", table: bool = True,
                 pick: str = "", closed: bool = False) -> str:
    """:func:`round_progress.verdict`, and the edits the round did not learn where there were any
    (:func:`rounds.unlearned_edits_text`): the docks' status line and notification at a round's end.
    ``pick``: the round's image, where the dock shows another one's table; ``closed``: that image is closed."""
    said = verdict(info, in_use, metric, table, pick, closed)
    unlearned = unlearned_edits_text(info)
    return f"{said}. It {unlearned}" if unlearned else said


def told_again(last: RoundInfo, in_use: RoundInfo | None, metric: str = "F1", table: bool = True) -> str:
    """The last round's verdict (:func:`told_verdict`) as a dock opened again tells it: with the round's time while
    nothing was chosen since (the round in use is the one its end put in use), as the round's end told it."""
    said = told_verdict(last, in_use, metric, table)
    if in_use is not None and in_use.number == (last.number if last.improved else last.parent):
        said = with_time(said, recorded_time(last))
    return said


def recorded_time(info: RoundInfo, done: dict | None = None) -> str:
    """How long ``info``'s round took (:func:`round_progress.finished_text`), a remote round's wait as recorded
    (RoundInfo.waited), else its "done" event's where ``done`` is given: a dock opened again tells the same; ""
    where none is."""
    if info.seconds is None:
        return ""
    waited = {"waited": info.waited} if info.waited is not None else {}
    return finished_text({**(done or {}), "seconds": info.seconds, **waited})


def failure_reason(exc: BaseException) -> str:
    """A ParticleDetectError's reason for a status line, on one line (errors.one_line): its file names whole, a line
    break in one written "\\n" (its first line alone cut "/data/run" of "/data/run\\n3: ..."), up to a detail's line
    set off as details are (blank, indented or bracketed), which the notification tells. "" for another error."""
    if not isinstance(exc, ParticleDetectError):
        return ""
    lines = Exception.__str__(exc).strip().splitlines(keepends=True)
    detail = next((i for i, line in enumerate(lines) if i and _sets_off(line)), len(lines))
    return one_line("".join(lines[:detail]).rstrip())


def _sets_off(line: str) -> bool:
    return not line.strip() or line[0].isspace() or line[0] in "([{"


class RoundReports:
    def cancel(self, wait_s: float = 0.0) -> bool:
        """Ask a running round to stop (it does within a training step); ``wait_s``: wait that long for it.
        Returns whether nothing runs any more."""
        if self.running() and not self._cancel.is_set():
            self._cancel.set()
            self.status.setText(CANCELLING)
            self.cancel_button.setEnabled(False)  # a second click did nothing (the next round enables it)
        return self._ended.wait(wait_s) if wait_s else self._ended.is_set()

    def show_progress(self, event: dict) -> Progress | None:
        """The bar and the phases seen for one progress event; what to say of it (None once cancelled, or
        for a training step less than PROGRESS_SHOWN_EVERY_S after the last one shown)."""
        if self._cancel.is_set():
            return None
        phase = event.get("phase", "")
        new_phase = not self.phases or self.phases[-1] != phase
        if new_phase:
            self.phases.append(phase)
        if phase == "done":  # its time is told with the verdict that follows at once
            self._done = event
            return None
        now = time.monotonic()
        if (phase == "training" and not new_phase
                and now - getattr(self, "_shown_at", -float("inf")) < PROGRESS_SHOWN_EVERY_S):
            return None
        self._shown_at = now
        shown = describe(event)
        self.progress.setRange(0, shown.maximum)
        self.progress.setValue(shown.value)
        return shown

    def show_verdict(self, info: RoundInfo, in_use: RoundInfo | None, metric: str = "F1",
                     to_use: str = "Run Detect on the unreviewed frames to use it.", table: bool = True,
                     subject: str = "", subject_closed: bool = False) -> str:
        """The round's honest verdict (``metric`` names the score: the kinds' are not all F1; without a
        rounds ``table`` a round not used is said to stay in the project). ``subject``: the image the
        round was for, named when the dock shows another one by then: its table is that image's, and its
        bar too (the round's full bar read as that image's round); ``subject_closed``: that image was closed
        meanwhile ("pick 'cells'" offered an image no longer in the list). Returns the verdict as said on the
        round's own image, with the time the round took where its "done" event told it."""
        ending = ". " + to_use if info.improved is True and to_use else ""  # no hint, no stray ". "
        done, self._done = getattr(self, "_done", None), None
        took = recorded_time(info, done) if done is not None else ""
        own = with_time(told_verdict(info, in_use, metric, table), took) + ending
        told = told_verdict(info, in_use, metric, table, subject, subject_closed)
        message = (f"{subject}: {with_time(told, took)}{ending}"
                   if subject else own)
        self.progress.setRange(0, 1)
        self.progress.setValue(0 if subject else 1)
        self.status.setText(message)
        show_info(message)
        return own

    def show_round_chosen(self, info: RoundInfo, how: str = "chosen in the table") -> str:
        """A round put in use by hand: the status line says so, where the last verdict's "still using
        round-N" would now be wrong (left alone while a round runs: it shows that round's progress)."""
        message = f"{info.name} in use from now on ({how})"
        if not self.running():
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.status.setText(message)
        return message

    def show_failure(self, exc: BaseException, in_use: RoundInfo | None, subject: str = "") -> None:
        """Cancelled or failed: nothing changed, and which round is still used (of ``subject``, when named)."""
        self._done = None  # a round that failed after training: no time for the next round's verdict
        name = in_use.name if in_use is not None else "the model as it was"
        name = f"{name} for {subject}" if subject else name
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        # The reason stays on the status line: the notification saying it goes away.
        why = failure_reason(exc)
        if isinstance(exc, TrainingCancelled):
            # One with a reason (a remote round whose scheduler stalled: its task may train on) is still a cancel:
            # told as "failed", it read as an error of the round's own.
            said = f"cancelled; still using {name}" + (f" ({why})" if why else "")
            self.status.setText(said)
            (show_warning if why else show_info)(f"fine-tuning {said}")
        else:
            self.status.setText(f"failed ({why or f'unexpectedly: {type(exc).__name__}'}); still using {name}")
            report(exc)
