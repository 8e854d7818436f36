"""``--frames``: which frames of a stack, or time points of a volume series, a run detects. Its text is checked and
written one way (one range, one fingerprint) and read against a stack's length, each refusal one line naming the file
and the stack's length. Below detection and the files' runners alike, which both read it."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import ParticleDetectError


def checked_frames(frames: object, what: str = "frames") -> str | None:
    """A ``--frames`` value (``what``: its name in a TypeError) in frame_range's one text per range, so one range
    has one fingerprint; None stays None. A garbled range is a ParticleDetectError saying so."""
    if frames is None:
        return None
    if not isinstance(frames, str):
        raise TypeError(f"{what} must be a frame range's text ('0:10', '3,7,9') or None, got "
                        f"{type(frames).__name__} {frames!r:.40}")
    try:
        return frame_range(frames)
    except ValueError as exc:
        raise ParticleDetectError(f"--frames {frames!r}: {exc}") from None


# What --frames takes, said with every refusal of a garbled one.
FRAME_RANGE_FORM = "give frames as Python slices, end exclusive, separated by commas: 0:10, 5, 0:100:10 or 3,7,9"


def frame_range(text: str) -> str | None:
    """``--frames``' text, checked and written one way (`` 0:10:1 `` is ``0:10``), so that one range always has one
    fingerprint: parts separated by commas, each a frame (``5``, ``-1``: the last) or a slice ``START:STOP[:STEP]``
    as Python's, end exclusive, its step positive (frames are detected in the stack's order); the parts sorted and
    each written once (``9,7,3,7`` is ``3,7,9``); None for one naming every frame (``:``, ``0:``), as no range is, so
    its output is the whole stack's and a finished one is skipped. A ValueError says what is garbled, or that a
    range names no frame whatever the stack's length (``5:5``)."""
    # Frames are detected and written in the stack's order whatever the parts' order (frames_in_range sorts them),
    # so parts in another order, or one given twice, are the same run: a rerun of it is skipped, not redone.
    parts = {_part_text(part): part for part in _range_parts(text)}
    text = ",".join(sorted(parts, key=lambda written: _part_order(parts[written], written)))
    return None if text == "0:" else text


def _part_order(part: int | slice, written: str) -> tuple:
    """Where ``part`` (as :func:`_part_text` writes it: ``written``) goes in :func:`frame_range`'s text: by its first
    frame, those counted from the stack's start before those counted from its end (a negative one, whose frame
    depends on the stack's length), a frame before a slice from it."""
    first = part if isinstance(part, int) else (part.start or 0)
    return first < 0, first, isinstance(part, slice), written


def frames_in_range(text: str | None, count: int, name: str | Path, one: str = "one image") -> list[int]:
    """The frames of a stack of ``count`` that ``--frames`` ``text`` (:func:`frame_range`'s) names, in the stack's
    order and numbering; every one for None. Refused in one line naming ``name`` and the stack's length (``one``: what a stack of one
    frame is called there, "one volume" of a ZYX file): a part past its end (Python would clip a slice there, and
    the table would say nothing of the frames missing), a range or a part of one naming none of its frames, a frame
    named twice."""
    if text is None:
        return list(range(count))
    parts = _range_parts(text)
    frames: list[int] = []
    for part in parts:
        if isinstance(part, int):
            past = not -count <= part < count
            named = [part % count] if not past else []
        else:
            past = ((part.start is not None and not -count <= part.start < count)
                    or (part.stop is not None and not -count <= part.stop <= count))
            named = list(range(count)[part])
        if past:
            which = f" ({_part_text(part)})" if len(parts) > 1 else ""
            first = part if isinstance(part, int) else part.start
            side = "reaches before its start" if first is not None and first < -count else "is past its end"
            raise ParticleDetectError(f"{name}: --frames {text}{which} {side}: {_stack_length(count, one)}")
        if not named and len(parts) > 1:  # alone, it is the range naming none below
            raise ParticleDetectError(f"{name}: --frames {text} ({_part_text(part)}) names none of its frames: "
                                      f"{_stack_length(count, one)}")
        twice = sorted(set(named) & set(frames))
        if twice:
            raise ParticleDetectError(f"{name}: --frames {text} names frame {twice[0]} twice; each frame is detected "
                                      "once")
        frames.extend(named)
    if not frames:
        raise ParticleDetectError(f"{name}: --frames {text} names none of its frames: {_stack_length(count, one)}")
    return sorted(frames)


def frames_to_detect(path: str | Path, image, text: str | None) -> list[int]:
    """The frames of ``image`` (2D: one frame) to detect: those ``--frames`` ``text`` names (:func:`frames_in_range`),
    every one for None."""
    return frames_in_range(text, 1 if image.ndim == 2 else int(image.shape[0]), path)


def _stack_length(count: int, one: str = "one image") -> str:
    return f"it is {one} (frame 0)" if count == 1 else f"it has {count} frames (0 to {count - 1})"


def _range_parts(text: str) -> list[int | slice]:
    """``text``'s parts as frames and slices (see :func:`frame_range`), or a ValueError saying what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"no frames given; {FRAME_RANGE_FORM}")
    parts: list[int | slice] = []
    for piece in text.split(","):
        numbers = [number.strip() for number in piece.split(":")]
        if len(numbers) > 3 or not all(number == "" or re.fullmatch(r"[+-]?\d+", number) for number in numbers):
            raise ValueError(f"{piece.strip() or 'an empty part'!r} is not a frame or a slice; {FRAME_RANGE_FORM}")
        if len(numbers) == 1:
            if not numbers[0]:
                raise ValueError(f"an empty part between commas; {FRAME_RANGE_FORM}")
            parts.append(int(numbers[0]))
            continue
        start, stop, step = (int(number) if number else None for number in numbers + [""] * (3 - len(numbers)))
        if step is not None and step <= 0:
            raise ValueError(f"{piece.strip()!r}: a step must be 1 or more (frames are detected in the stack's order)")
        if start is not None and stop is not None and (start < 0) == (stop < 0) and stop <= start:
            raise ValueError(f"{piece.strip()!r} names no frame (the end is exclusive: 0:10 is frames 0 to 9)")
        parts.append(slice(start, stop, None if step == 1 else step))
    return parts


def _part_text(part: int | slice) -> str:
    if isinstance(part, int):
        return str(part)
    # A slice's steps are positive, so an omitted start is frame 0: ":10" and "0:10" are one range, one text.
    ends = f"{part.start or 0}:{'' if part.stop is None else part.stop}"
    return ends + (f":{part.step}" if part.step is not None else "")
