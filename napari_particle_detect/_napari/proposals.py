"""What to review next, for the dock: the engine's ranking (:mod:`..review`) over the detections on
screen, turned into a box or frame to jump to. No Qt here."""

from __future__ import annotations

from ..errors import ParticleDetectError
from ..projects.review import Proposal, rank_frames, rank_regions
from .annotation import Annotation

MODES = ("region", "frame")


def next_proposal(annotation: Annotation, threshold: float, mode: str = "region",
                  skip: set | None = None) -> Proposal:
    """The most uncertain unreviewed region (or frame) not in ``skip`` (keys of proposals passed over).

    Raises a ParticleDetectError saying what to do when there is nothing to rank.
    """
    detections = annotation.detections()
    if not detections:
        raise ParticleDetectError("nothing to rank yet: run Detect on the unreviewed frames first")
    # A frame another round detected is shown at that round's threshold: its scores are weighed against it
    # (shifted so that its threshold falls on ``threshold``; nearness and what is shown are kept).
    detections = {frame: (centres, scores + (threshold - annotation.held[frame]) if frame in annotation.held
                          else scores) for frame, (centres, scores) in detections.items()}
    if mode == "frame":
        ranked = rank_frames(detections, threshold)
    else:
        diameter = annotation.project.diameter or 10.0
        ranked = rank_regions(detections, annotation.regions.shape, threshold, diameter, annotation.reviewed_masks())
    skip = skip or set()
    for proposal in ranked:
        if key(proposal) not in skip:
            return proposal
    raise ParticleDetectError("every detected frame is reviewed" if mode == "frame"
                              else "no unreviewed region left in the detected frames")


def key(proposal: Proposal) -> tuple:
    return (proposal.frame, proposal.box)


def proposal_box(proposal: Proposal) -> tuple[float, float, float, float] | None:
    """The proposal's box as the review box is drawn: pixel edges, half a pixel outside the centres."""
    if proposal.box is None:
        return None
    return tuple(float(v) - 0.5 for v in proposal.box)
