"""Undo and redo of point edits, one history per frame (a frame's table before each saved edit)."""

from __future__ import annotations

import pandas as pd

# Steps kept per frame; older ones are dropped.
MAX_STEPS = 100


class FrameHistory:
    """Each frame's earlier tables (undo) and undone ones (redo). A new edit clears the frame's redo."""

    def __init__(self, max_steps: int = MAX_STEPS) -> None:
        self.max_steps = max_steps
        self._undo: dict[int, list[pd.DataFrame]] = {}
        self._redo: dict[int, list[pd.DataFrame]] = {}

    def record(self, frame: int, before: pd.DataFrame) -> None:
        """An edit of ``frame`` is about to be saved; ``before`` is the table it replaces."""
        steps = self._undo.setdefault(frame, [])
        steps.append(before.copy())
        del steps[:-self.max_steps]
        self._redo.pop(frame, None)

    def undo(self, frame: int, current: pd.DataFrame) -> pd.DataFrame | None:
        """The table before the last edit of ``frame`` (None: nothing to undo); ``current`` goes to redo."""
        steps = self._undo.get(frame)
        if not steps:
            return None
        self._redo.setdefault(frame, []).append(current.copy())
        return steps.pop()

    def redo(self, frame: int, current: pd.DataFrame) -> pd.DataFrame | None:
        steps = self._redo.get(frame)
        if not steps:
            return None
        self._undo.setdefault(frame, []).append(current.copy())
        return steps.pop()

    def forget(self, frame: int) -> None:
        """The frame was replaced as a whole (detected again, accepted): earlier edits no longer apply."""
        self._undo.pop(frame, None)
        self._redo.pop(frame, None)

    def can_undo(self, frame: int) -> bool:
        return bool(self._undo.get(frame))

    def can_redo(self, frame: int) -> bool:
        return bool(self._redo.get(frame))
