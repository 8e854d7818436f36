"""What to review next: the frames and regions where the model is least sure of itself.

The model's own scores say where it hesitates: a centre scoring near the threshold may be a
particle or not, and one slip of the slider turns it into an error either way. Regions are tiles a
few particles wide, ranked by how many such hesitant centres they hold, so a person's clicks go
where they change the most. Nothing here runs the network: it reads detections already made.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Scores within this distance of the threshold count as hesitant, fading linearly to it.
HESITATION_WIDTH = 0.2
# A proposed region is this many particle diameters square (within MIN/MAX_REGION px): a few
# dozen particles, corrected in a minute, where they crowd. Where they are sparse, holding under
# half of REGION_PARTICLES (real bulk water: 8 diameters held 5-7), it grows to hold about that many
# of the centres shown.
REGION_DIAMETERS = 8.0
REGION_PARTICLES = 30
MIN_REGION = 48
MAX_REGION = 256


@dataclass(frozen=True)
class Proposal:
    """A frame, or a box in it (y0, x0, y1, x1; None: the whole frame), worth reviewing next."""

    frame: int
    box: tuple[int, int, int, int] | None
    uncertainty: float  # the sum of the hesitation of the centres inside
    hesitant: int  # centres scoring near the threshold
    centres: int  # centres shown (above the threshold)

    @property
    def why(self) -> str:
        where = f"frame {self.frame}" if self.box is None else (
            f"frame {self.frame}, y {self.box[0]}-{self.box[2]}, x {self.box[1]}-{self.box[3]}")
        if not self.hesitant:
            return f"{where}: no centre scored near the threshold (the model is sure of all it shows), {self.centres} shown"
        # The ranking weighs each by how near (1 at the threshold, 0 at HESITATION_WIDTH away): say so, or a
        # frame of 153 such centres proposed before one of 155 looks misordered.
        return (f"{where}: {self.hesitant} centre{'s' if self.hesitant != 1 else ''} scored near the "
                f"threshold (weighing {self.uncertainty:.1f}: the nearer, the more), {self.centres} shown")


def hesitation(scores: np.ndarray, threshold: float, width: float = HESITATION_WIDTH) -> np.ndarray:
    """1 for a score at the threshold, falling to 0 at ``width`` away; NaN scores (added by hand) 0."""
    scores = np.asarray(scores, dtype=float)
    return np.nan_to_num(np.clip(1.0 - np.abs(scores - threshold) / width, 0.0, 1.0), nan=0.0)


def region_size(diameter: float, density: float | None = None) -> int:
    """The side of a proposed region, px: REGION_DIAMETERS diameters, or wider where the centres shown
    (``density`` per px^2) are too sparse for REGION_PARTICLES of them."""
    side = REGION_DIAMETERS * diameter
    if density and side * side * density < REGION_PARTICLES / 2:  # crowded fields keep their size
        side = float(np.sqrt(REGION_PARTICLES / density))
    return int(np.clip(round(side), MIN_REGION, MAX_REGION))


def rank_frames(
    detections: dict[int, tuple[np.ndarray, np.ndarray]], threshold: float, skip: set[int] | None = None
) -> list[Proposal]:
    """Unreviewed frames, most hesitant first. ``detections``: frame -> (centres, scores)."""
    proposals = []
    for frame, (centres, scores) in detections.items():
        if skip and frame in skip:
            continue
        h = hesitation(scores, threshold)
        proposals.append(Proposal(frame, None, float(h.sum()), int((h > 0).sum()), int((np.asarray(scores) > threshold).sum())))
    return sorted(proposals, key=lambda p: (-p.uncertainty, p.frame))


def rank_regions(
    detections: dict[int, tuple[np.ndarray, np.ndarray]],
    shape: tuple[int, int],
    threshold: float,
    diameter: float,
    reviewed: dict[int, np.ndarray] | None = None,
) -> list[Proposal]:
    """Square regions of unreviewed frames, most hesitant first.

    ``reviewed`` maps a frame to a mask of its reviewed pixels; a tile that is mostly reviewed
    already is not proposed again.
    """
    height, width = shape
    shown_count = sum(int((np.asarray(scores, dtype=float) > threshold).sum()) for _, scores in detections.values())
    size = region_size(diameter, shown_count / (len(detections) * height * width) if detections else None)
    ys = _starts(height, size)
    xs = _starts(width, size)
    proposals = []
    for frame, (centres, scores) in detections.items():
        centres = np.asarray(centres, dtype=float).reshape(-1, 2)
        h = hesitation(scores, threshold)
        shown = np.asarray(scores, dtype=float) > threshold
        done = reviewed.get(frame) if reviewed else None
        for y0 in ys:
            for x0 in xs:
                box = (y0, x0, min(y0 + size, height), min(x0 + size, width))
                if done is not None and done[box[0]:box[2], box[1]:box[3]].mean() > 0.5:
                    continue
                inside = ((centres[:, 0] >= box[0] - 0.5) & (centres[:, 0] < box[2] - 0.5)
                          & (centres[:, 1] >= box[1] - 0.5) & (centres[:, 1] < box[3] - 0.5))
                proposals.append(Proposal(frame, box, float(h[inside].sum()), int((h[inside] > 0).sum()),
                                          int((shown & inside).sum())))
    return sorted(proposals, key=lambda p: (-p.uncertainty, p.frame, p.box))


def _starts(length: int, size: int) -> list[int]:
    """Tile starts covering ``length``; the last tile is moved back to fit rather than cut short."""
    if length <= size:
        return [0]
    starts = list(range(0, length - size + 1, size))
    if starts[-1] + size < length:
        starts.append(length - size)
    return starts
