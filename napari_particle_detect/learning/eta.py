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
        self._first: tuple[float, int] | None = None  # (time, count) when the first step was done

    def left(self, done: int, total: int) -> float | None:
        """None until two steps are done (one step's time includes the start-up); 0 when all are."""
        now = self._clock()
        if done >= total:
            return 0.0
        if done <= 0:
            return None
        if self._first is None or done < self._first[1]:
            self._first = (now, done)
            return None
        start, counted = self._first
        if done == counted:
            return None
        per_step = (now - start) / (done - counted)
        return per_step * (total - done)

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
        if phase == "training":
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
