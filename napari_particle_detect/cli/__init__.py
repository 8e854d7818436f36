"""The command line: a thin skin over the library (``particle-detect``)."""

import sys


def command_line() -> str:
    """The command as typed, for the records of what it made (a model's card, a folder run's record)."""
    return "particle-detect " + " ".join(sys.argv[1:])
