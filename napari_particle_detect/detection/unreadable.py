"""Frames of a stack that cannot be read (files.io.UnreadableFrameError): how a run that skips them says so once,
refuses where none was read, and records them, for spheres, rods and chains, a file's run and the dock's alike."""

from __future__ import annotations

from ..errors import ParticleDetectError
from ..frame_runs import runs_text


def check_any_read(unreadable: list[int], asked: int, name: str, asked_for: bool = True, why: str = "") -> None:
    """One ParticleDetectError where none of the ``asked`` frames could be read (``unreadable``, each said as it was
    skipped): an empty table would pass for a stack with nothing in it. ``asked_for``: whether those are the frames
    asked for (False: every frame of the stack, read to size it); ``why``: the first frame's own error, where it was
    not said already. Spheres, rods and chains, a file's run and the dock's say it alike."""
    if unreadable and len(unreadable) >= asked:
        which = f"the {asked} frames asked for" if asked_for else f"its {asked} frames"
        raise ParticleDetectError(f"{name}: none of {which} can be read (frames {runs_text(unreadable)}): nothing "
                                  "detected" + (f"; the first: {why}" if why else ""))


# How a skipped frame that cannot be read is said, after its frame's files.io.UnreadableFrameError (spheres and the
# other kinds alike): :func:`said_once` finds these lines by it.
SKIPPED_UNREADABLE = "skipped, the rest of the stack is detected"


def said_once(said: list[str], unreadable: list[int], asked: int, whole: bool = True) -> list[str]:
    """A run's warnings ``said`` with their line per skipped ``unreadable`` frame (of the ``asked``) made one line
    that names them all (a damaged stack said the same thing once per frame); where no frame was read, the first
    one's error alone (:func:`check_any_read` says the rest: "the rest detected" would not be true), and where the
    run was stopped (not ``whole``), no word of the others detected."""
    if not unreadable:
        return list(said)
    ending = f": {SKIPPED_UNREADABLE}"
    skipped = [line for line in said if line.endswith(ending) and "cannot read frame" in line]
    others = [line for line in said if line not in skipped]
    if len(unreadable) >= asked:
        return others + [skipped[0].removesuffix(ending)] if skipped else others
    first = skipped[0].removesuffix(ending) if skipped else f"cannot read frame {unreadable[0]}"
    rest = ", the others detected" if whole else ""
    return others + [f"{first}: frame{'s' if len(unreadable) > 1 else ''} {runs_text(unreadable)} skipped{rest}"]


def detected_and_unreadable(frames: list[int], ranged: bool, unreadable: list[int]) -> dict:
    """A record's ``frames_detected`` (with --frames, ``ranged``, or where some of the ``frames`` asked for could not
    be read) and ``unreadable_frames``, for spheres, rods and chains alike: evaluate then leaves those frames' truth
    out of the scores, as frames not detected, and the frames found empty are looked for among those read alone."""
    if not unreadable:
        return {"frames_detected": frames} if ranged else {}
    return {"frames_detected": [frame for frame in frames if frame not in unreadable], "unreadable_frames": unreadable}
