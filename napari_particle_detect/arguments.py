"""Argument parsing shared by the command lines (``particle-detect`` and the developer scripts under ``learning``).

It sits below both, so a script's parser does not reach up into the CLI package: errors on one line,
defaults shown in ``--help``, and numbers checked against their range while parsing.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import NoReturn


class OneLineParser(argparse.ArgumentParser):
    """argparse, with its errors on one line: the usage block before them buried the line that matters
    (``--help`` shows it)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where it depends on other options (None; the help says it)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None:
            return action.help or ""
        return super()._get_help_string(action)


def number_in(lo: float, hi: float, *, whole: bool = False, low_open: bool = False,
              high_open: bool = False) -> Callable[[str], float | int]:
    """An argparse ``type``: a finite number within [lo, hi] (bounds excluded where open), e.g. ``--tile``."""
    low, high = "(" if low_open else "[", ")" if high_open else "]"
    kind = "a whole number" if whole else "a number"
    expected = f"{kind} in {low}{lo:g}, {hi:g}{high}"

    def parse(text: str) -> float | int:
        try:
            value = int(text) if whole else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if (not math.isfinite(value) or value < lo or value > hi or (low_open and value == lo)
                or (high_open and value == hi)):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text}")
        return value

    parse.__name__ = kind  # argparse names the type in its message
    return parse
