"""How long a running job has left, from how long its steps have taken so far ("about 40 s left").

:class:`Eta` times a count of equal steps (frames of a detection): the first step is left out of
the rate, since it carries the one-off costs (loading the model, estimating the particle size).
:class:`RoundEta` follows a fine-tuning round's progress events (:func:`finetune.fine_tune`): the
training steps' own rate, plus scoring the new round afterwards, which costs about what scoring
the round it started from cost at the beginning of the same round. No Qt here.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# Training events that come this soon after the last one after a silence are a backlog the scheduler held, not steps
# just trained: their steps ran at times unknown, and timed on arrival they made the rate look hundreds of times faster.
BACKLOG_S = 0.05


def eta_text(seconds: float | None) -> str:
    """'about 40 s left', 'about 3 min left', '' when unknown or done."""
    if seconds is None or seconds <= 0:
        return ""
    seconds = float(seconds)
    if seconds < 1.5:
        return "about 1 s left"
    if seconds < 90:
        return f"about {seconds:.0f} s left"
    if seconds < 90 * 60:
        return f"about {seconds / 60:.0f} min left"
    return f"about {seconds / 3600:.1f} h left"


class Eta:
    """Seconds left for ``total`` equal steps, from the steps done since the first one finished."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._first: tuple[float, int] | None = None  # (time, count) where the steps timed now began
        self._before = (0.0, 0)  # (seconds, steps) timed before a restart
        self._last: tuple[float, int] | None = None  # (time, count) of the last step told

    def left(self, done: int, total: int) -> float | None:
        """None until two steps are done (one step's time includes the start-up); 0 when all are."""
        now = self._clock()
        if done >= total:
            return 0.0
        if done <= 0:
            return None
        if self._first is None or done < self._first[1]:
            self._first, self._before, self._last = (now, done), (0.0, 0), (now, done)
            return None
        self._last = (now, done)
        start, counted = self._first
        steps = self._before[1] + done - counted
        if steps <= 0:
            return None
        return (self._before[0] + now - start) / steps * (total - done)

    def restart(self, done: int) -> None:
        """Time the steps from ``done`` afresh, keeping the rate of those timed up to the last step told: the time
        since it (a silence) and the steps done meanwhile are left out of the rate (its steps ran at times unknown)."""
        if self._first is None:
            return
        if self._last is not None:
            start, counted = self._first
            self._before = (self._before[0] + self._last[0] - start, self._before[1] + self._last[1] - counted)
        now = self._clock()
        self._first, self._last = (now, done), None

    def text(self, done: int, total: int) -> str:
        return eta_text(self.left(done, total))

    def pause(self, seconds: float) -> None:
        """Leave ``seconds`` spent on other work since the first step out of the rate."""
        if self._first is not None:
            self._first = (self._first[0] + seconds, self._first[1])


class RoundEta:
    """Seconds left in a fine-tuning round, from its progress events (None while it cannot tell)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._scoring_started: dict[str, float] = {}
        self._scoring_took: dict[str, float] = {}
        self._training = Eta(clock)
        self._new_scorings: dict[str, Eta] = {}  # each candidate's own rate (a kinds round scores two)
        self._teacher: tuple[float, float] | None = None  # (first, last) teacher event since the last step
        self._silenced = False  # a remote round's scheduler said silent (learning.remote's "unanswered") since
        self._backlog_at: float | None = None  # when the first step after a silence came, while a backlog may follow

    def update(self, event: dict) -> float | None:
        now = self._clock()
        phase = event.get("phase")
        if phase == "scoring":
            which = str(event.get("model", ""))
            done, total = int(event.get("done", 0)), int(event.get("total", 0))
            self._scoring_started.setdefault(which, now)
            if total and done >= total and which not in self._scoring_took:
                self._scoring_took[which] = now - self._scoring_started[which]
            if which == "parent":
                return None  # the training ahead has no rate yet
            left = self._new_scorings.setdefault(which, Eta(self._clock)).left(done, total)
            if left is None and "parent" in self._scoring_took and total:
                left = self._scoring_took["parent"] * (total - done) / total
            return left
        if phase == "teacher":
            self._teacher = (self._teacher[0] if self._teacher else now, now)
            return None
        if phase == "unanswered":
            self._silenced = True
            return None
        if phase == "training":
            self._after_silence(now, int(event["step"]))
            if self._teacher is not None:
                # Labelling 8 large frames can outlast a hundred steps: counted as steps, it swelled every
                # estimate for the rest of the round.
                self._training.pause(self._teacher[1] - self._teacher[0])
                self._teacher = None
            left = self._training.left(int(event["step"]), int(event["steps"]))
            if left is None:
                return None
            # Scoring the new round comes next and costs about what scoring its parent did.
            return left + self._scoring_took.get("parent", 0.0)
        if phase == "done":
            return 0.0
        return None

    def _after_silence(self, now: float, step: int) -> None:
        """The training's timing taken up again after a silence: the silent seconds, and the backlog of steps told
        at once when the scheduler answers again, left out of the rate (the estimate jumped to hours, or fell to
        seconds), the rate before the silence kept meanwhile."""
        # The backlog is what came within BACKLOG_S of the first step after the silence, not of the one before it:
        # a fast GPU's steps told every 30 ms would otherwise be backlog for ever and the estimate never come back.
        if self._silenced:
            self._training.restart(step)
            self._silenced, self._backlog_at = False, now
        elif self._backlog_at is not None and now - self._backlog_at < BACKLOG_S:
            self._training.restart(step)
        else:
            self._backlog_at = None
