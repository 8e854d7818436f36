"""The one exception type the command line turns into a single clear message."""

from __future__ import annotations

import logging
import unicodedata


class ParticleDetectError(Exception):
    """A problem with the user's input (file, image, model) that we can explain in one line."""

    def __str__(self) -> str:
        # A file name may hold a line break (or a terminal's escape): named raw, it split the message over lines.
        return one_line(super().__str__())


def one_line(text: str) -> str:
    """``text`` with its line breaks and other control characters (a tab apart) written as Python writes them in a
    string ("\\n", "\\x1b", "\\u2028"), so that it is one line however the file names in it are spelled."""
    return "".join(repr(c)[1:-1] if _breaks(c) else c for c in text)


def _breaks(character: str) -> bool:
    return character != "\t" and unicodedata.category(character) in ("Cc", "Zl", "Zp")


class OneLineFormatter(logging.Formatter):
    """Each log record's message on one line (:func:`one_line`): a file name holding a line break split a warning
    over two lines, the second read as a message of its own. A traceback logged with it keeps its lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging.Formatter's name
        return one_line(super().formatMessage(record))


def listed(names: list[str], most: int = 4) -> str:
    """``names`` as a message lists them: the first ``most``, then how many in all."""
    return ", ".join(names[:most]) + (f", ... ({len(names)} in all)" if len(names) > most else "")
