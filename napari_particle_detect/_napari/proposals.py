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
    project = annotation.project
    undetected = [frame for frame in range(annotation.n_frames)
                  if frame not in project.detected_by and not project.is_reviewed(frame)]
    raise ParticleDetectError(nothing_left("every detected frame is reviewed" if mode == "frame"
                                           else "no unreviewed region left in the detected frames",
                                           undetected, annotation.current_frame()))


def nothing_left(reason: str, undetected: list[int], shown: int) -> str:
    """Why Review next has nothing to propose (``reason``), led by the frame to Detect next of ``undetected`` (frames
    neither detected nor reviewed): the one ``shown`` where it is one, else the first. Review next ranks detected
    frames only: on a frame never detected, "no unreviewed region left in the detected frames" alone read as that
    frame having nothing to review (and the popup, cut at its width, showed no more than that)."""
    if not undetected:
        return reason
    frame = shown if shown in undetected else undetected[0]
    named = f"frame {frame}{' (shown)' if frame == shown else ''}"
    others = len(undetected) - 1
    if not others:
        return f"{named} is not detected yet: run Detect on it ({reason})"
    plural = "s" if others > 1 else ""
    return f"{named} and {others} other frame{plural} are not detected yet: run Detect on frame {frame} ({reason})"


def key(proposal: Proposal) -> tuple:
    return (proposal.frame, proposal.box)


def proposal_box(proposal: Proposal) -> tuple[float, float, float, float] | None:
    """The proposal's box as the review box is drawn: pixel edges, half a pixel outside the centres."""
    if proposal.box is None:
        return None
    return tuple(float(v) - 0.5 for v in proposal.box)
