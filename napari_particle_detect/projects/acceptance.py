"""Accepting a frame: what it keeps and drops, and when to ask the user first.

Accepting keeps the centres shown and drops the network's points hidden by the threshold. Those the
model itself calls particles (scoring above its tuned threshold) become background for the next round:
a threshold pushed up by mistake (0.99) turns a frame of 200 particles into a reviewed frame of none,
and a threshold of 0.9 on a frame of 481 detections dropped 86 real discs, which cost the next round
held-out F1 0.996 -> 0.938. So accepting says how many of them it drops, and asks first where they
are more than a few per cent of the frame's detections (a threshold at or below the tuned one drops
none of them: no question). No Qt here: the dock asks, the rule lives here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..wording import counted

# Ask before accepting a frame that drops more than this share of what the model detected: a few per
# cent of particles learned as background is about what a careful review misses anyway; an 18 % share
# (the 86 of 481 above) cost a round 6 points of held-out F1. Nudging the threshold a little above the
# tuned one drops a few borderline detections and is not asked about (the message still counts them).
ASK_ABOVE_SHARE = 0.05


@dataclass(frozen=True)
class AcceptCheck:
    """What accepting a frame keeps and drops. ``detected``: the network's points the model itself
    would show (above its tuned threshold, ``detected_threshold``); ``dropped``: those the current
    threshold hides, which the frame, once accepted, says are not particles."""

    kept: int
    detected: int
    dropped: int
    detected_threshold: float | None = None

    @property
    def needs_confirmation(self) -> bool:
        return self.dropped > 0 and self.dropped > ASK_ABOVE_SHARE * self.detected

    def question(self, frame: int, threshold: float) -> str:
        own = f" at its own threshold {self.detected_threshold:.2f}" if self.detected_threshold is not None else ""
        # "with 1 centres", "hides 1 of the 1 centres ... drops them": a threshold pushed up hides all but one or two.
        hidden = ("the one centre" if self.detected == 1 else f"{self.dropped} of the {self.detected} centres")
        them, they, are = ("it", "it", "is") if self.dropped == 1 else ("them", "they", "are")
        return (f"Accept frame {frame} with {counted(self.kept, 'centre')}? The threshold {threshold:.2f} hides {hidden} the "
                f"model detected{own}; accepting drops {them}, and a round would learn that {they} {are} not "
                f"{'a particle' if self.dropped == 1 else 'particles'}.")

    def dropped_text(self, threshold: float) -> str:
        """'86 hidden detections (score ≤ 0.90) dropped as not particles'; empty when none is."""
        if not self.dropped:
            return ""
        return (f"{self.dropped} hidden detection{'s' if self.dropped != 1 else ''} (score ≤ {threshold:.2f}) "
                "dropped as not particles")


def check_accept(table: pd.DataFrame, threshold: float, detected_threshold: float) -> AcceptCheck:
    """``table``: the frame's centres, hidden ones included (``score``, ``source``); ``threshold``: the
    one in use; ``detected_threshold``: the model's own (its card's) threshold."""
    from_model = table["source"].astype(str).to_numpy() == "model"
    score = np.nan_to_num(table["score"].to_numpy(float), nan=0.0)
    shown = ~from_model | (score > threshold)
    detected = from_model & (score > detected_threshold)
    return AcceptCheck(kept=int(shown.sum()), detected=int(detected.sum()), dropped=int((detected & ~shown).sum()),
                       detected_threshold=float(detected_threshold))
