"""Undo and redo of point edits, one history per frame (a frame's table before each saved edit)."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import pandas as pd

# Steps kept per frame; older ones are dropped.
MAX_STEPS = 100


class Snapshot(NamedTuple):
    """A frame as it was: its table, and the round whose scores its network points carry (None: the
    model the project started from). Undoing past a new detection brings back the older round's points,
    which must be judged at that round's threshold again, not the new one's."""

    table: pd.DataFrame
    detected_by: int | None = None


class FrameHistory:
    """Each frame's earlier snapshots (undo) and undone ones (redo). A new edit clears the frame's redo."""

    def __init__(self, max_steps: int = MAX_STEPS) -> None:
        self.max_steps = max_steps
        self._undo: dict[int, list[Snapshot]] = {}
        self._redo: dict[int, list[Snapshot]] = {}

    def record(self, frame: int, before: pd.DataFrame, detected_by: int | None = None) -> None:
        """An edit of ``frame`` is about to be saved; ``before`` is the table it replaces (its points
        found by round ``detected_by``)."""
        steps = self._undo.setdefault(frame, [])
        steps.append(Snapshot(before.copy(), detected_by))
        del steps[:-self.max_steps]
        self._redo.pop(frame, None)

    def undo(self, frame: int, current: pd.DataFrame, detected_by: int | None = None) -> Snapshot | None:
        """The frame before its last edit (None: nothing to undo); ``current`` (found by round
        ``detected_by``) goes to redo."""
        steps = self._undo.get(frame)
        if not steps:
            return None
        self._redo.setdefault(frame, []).append(Snapshot(current.copy(), detected_by))
        return steps.pop()

    def redo(self, frame: int, current: pd.DataFrame, detected_by: int | None = None) -> Snapshot | None:
        steps = self._redo.get(frame)
        if not steps:
            return None
        self._undo.setdefault(frame, []).append(Snapshot(current.copy(), detected_by))
        return steps.pop()

    def forget(self, frame: int) -> None:
        """The frame was replaced as a whole (detected again, accepted): earlier edits no longer apply."""
        self._undo.pop(frame, None)
        self._redo.pop(frame, None)

    def rebase(self, frame: int, change: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
        """Every undo and redo step of ``frame`` with ``change`` applied to its table: another window's edits
        of the frame, taken in, so that undoing this window's own never removes them."""
        for steps in (self._undo.get(frame, []), self._redo.get(frame, [])):
            steps[:] = [Snapshot(change(step.table), step.detected_by) for step in steps]

    def has_steps(self, frame: int) -> bool:
        return self.can_undo(frame) or self.can_redo(frame)

    def can_undo(self, frame: int) -> bool:
        return bool(self._undo.get(frame))

    def can_redo(self, frame: int) -> bool:
        return bool(self._redo.get(frame))
