"""Accepting a frame: what it keeps and drops, and when to ask the user first.

Accepting keeps the centres shown and drops the network's points hidden by the threshold. A
threshold pushed up by mistake (0.99) would turn a frame of 200 particles into a reviewed frame of
none, which a round then learns as background; so a drop of most of what was detected is asked
about first. No Qt here: the dock asks, the rule lives here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# Ask before accepting a frame that drops more than this share of what the model detected.
ASK_ABOVE_SHARE = 0.5


@dataclass(frozen=True)
class AcceptCheck:
    """What accepting a frame keeps and drops. ``detected``: the network's points the model itself
    would show (above its tuned threshold); ``dropped``: those the current threshold hides."""

    kept: int
    detected: int
    dropped: int

    @property
    def needs_confirmation(self) -> bool:
        return self.detected > 0 and self.dropped > ASK_ABOVE_SHARE * self.detected

    def question(self, frame: int, threshold: float) -> str:
        return (f"Accept frame {frame} with {self.kept} centres? The threshold {threshold:.2f} hides "
                f"{self.dropped} of the {self.detected} centres the model detected; accepting drops them, "
                "and a round would learn that they are not particles.")


def check_accept(table: pd.DataFrame, threshold: float, detected_threshold: float) -> AcceptCheck:
    """``table``: the frame's centres, hidden ones included (``score``, ``source``); ``threshold``: the
    one in use; ``detected_threshold``: the model's own (its card's) threshold."""
    from_model = table["source"].astype(str).to_numpy() == "model"
    score = np.nan_to_num(table["score"].to_numpy(float), nan=0.0)
    shown = ~from_model | (score > threshold)
    detected = from_model & (score > detected_threshold)
    return AcceptCheck(kept=int(shown.sum()), detected=int(detected.sum()), dropped=int((detected & ~shown).sum()))
