"""A stack's constant frames (a shutter, a dropped frame, an overflow): the first frame that is not, and the constant
ones said in one line, shared by the spheres' and the rods' and chains' detection."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..errors import ParticleDetectError
from ..files.io import UnreadableFrameError
from .preprocessing import BlankFrameError, ConstantFrameError, NonFiniteFrameError, check_frame
from .unreadable import check_any_read

log = logging.getLogger(__name__)


class SaysConstant(Protocol):
    """A frame's result (prediction.FrameResult): what one line would say of it where it is constant, else ''."""

    constant: str


@dataclass
class ConstantFrames:
    """The constant frames of one call's stack, said in one warning at its end: a dropped or shutter frame every
    few frames gave a line each, and a stack of nothing but such frames a page of them."""

    name: str
    detected: int  # the frames the call detects
    nothing: str = "no centres"  # what a lone constant frame gave: rods and chains have no centres to speak of
    said: list[tuple[int, str]] = field(default_factory=list)  # (index, FrameResult.constant)

    def add(self, index: int, result: SaysConstant) -> None:
        if result.constant:
            self.add_held(index, result.constant)

    def add_held(self, index: int, said: str) -> None:
        """Frame ``index``, constant, as one line would have said it ("NAME frame I: every pixel is V")."""
        self.said.append((index, said))

    def warn(self) -> None:
        if not self.said:
            return
        rest = "; the rest of the stack is detected" if self.detected > len(self.said) else ""
        if len(self.said) == 1:  # its value told: a dark frame (0) reads as a shutter, a bright one as an overflow
            log.warning("%s (a blank frame): %s%s", self.said[0][1], self.nothing, rest)
            return
        indices = [str(index) for index, _ in self.said]
        shown = ", ".join(indices[:FRAMES_LISTED]) + (", ..." if len(indices) > FRAMES_LISTED else "")
        log.warning("%s: frames %s (%d of %d) are constant: nothing detected in them%s", self.name, shown,
                    len(indices), self.detected, rest)


# The constant frames a warning names before "...": its count says how many there are in all.
FRAMES_LISTED = 8


def next_unblank_frame(frames, name: str, unreadable_ends: bool = False) -> int:
    """The first frame that is not constant (nor holds NaN or infinite pixels) and can be read; a
    ParticleDetectError when there is none (an image's own problem, for an image of one frame).
    ``unreadable_ends``: a frame that cannot be read ends the search, its index returned, for a caller whose
    detection reads every frame anyway and says those it cannot read (detect's check_any_read)."""
    not_finite, unreadable = False, []
    for i in range(frames.shape[0]):
        try:
            check_frame(np.asarray(frames[i]), f"{name} frame {i}", gaps=True)
            return i
        except ConstantFrameError:
            continue
        except (NonFiniteFrameError, UnreadableFrameError) as exc:
            if frames.shape[0] == 1:
                raise
            if unreadable_ends and isinstance(exc, UnreadableFrameError):
                return i
            if isinstance(exc, UnreadableFrameError):
                unreadable.append(exc)
            else:
                not_finite = True
    check_any_read([exc.frame for exc in unreadable], frames.shape[0], name, asked_for=False,
                   why=str(unreadable[0]) if unreadable else "")
    held = " or holds NaN or infinite pixels" if not_finite else ""
    held += f" or cannot be read (frame {unreadable[0].frame} first)" if unreadable else ""
    # Blank frames alone: a BlankFrameError, which a caller that passes blank images over catches as such.
    if unreadable:
        raise ParticleDetectError(f"{name}: every frame is constant{held}; nothing to detect")
    raise BlankFrameError(f"{name}: every frame is constant{held}; nothing to detect", f"every frame is constant{held}")
