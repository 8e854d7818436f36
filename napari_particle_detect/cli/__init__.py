"""The command line: a thin skin over the library (``particle-detect``)."""

import sys

from ..errors import one_line
from ..wording import counted


def command_line() -> str:
    """The command as typed, for the records of what it made (a model's card, a folder run's record)."""
    return "particle-detect " + " ".join(sys.argv[1:])


def written_images(count: int, stack: bool) -> str:
    """What synth wrote, as its line says it: 'a stack of 3 frames (stack.tif)', '1 image', '4 images'."""
    return f"a stack of {counted(count, 'frame')} (stack.tif)" if stack else counted(count, "image")


def report_failed(failed: dict) -> int:
    """Each file that failed (path -> its line), one line each after the work, as every run of files ends; the
    exit status (1 if any failed)."""
    for line in failed.values():
        # A line names the file as given: a line break in its name would split it, the rest read as a line apart.
        print(one_line(f"particle-detect: failed: {line}"), file=sys.stderr)
    return 1 if failed else 0
