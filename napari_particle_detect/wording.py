"""Counts in words, as every message of the package says them: '1 frame', '2 frames', never '1 frame(s)'."""

from __future__ import annotations


def plural(count: int, word: str, words: str | None = None) -> str:
    """``word`` as a count of ``count`` takes it ("frame 3", "frames 3, 4"); ``words`` where the plural is not
    ``word`` + s."""
    return word if count == 1 else words or f"{word}s"


def counted(count: int, word: str, words: str | None = None) -> str:
    """'1 frame', '2 frames'."""
    return f"{count} {plural(count, word, words)}"


def not_whole(count: int) -> str:
    """'1 value that is not a whole number', '2 values that are not whole numbers' (of a frame column)."""
    return "1 value that is not a whole number" if count == 1 else f"{count} values that are not whole numbers"
