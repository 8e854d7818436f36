"""torch's CPU threads: how many a round takes (what the machine's load leaves free), and the count
as a job leaves it: a job may set its own (a round's or a file's ``threads``), and its caller's comes
back after it.

torch keeps the count per thread, and napari runs the dock's jobs on a pool of reused threads: a
round that set one thread (the dock asked for one on a 2-core machine) left it to every later
Detect on that pool thread, which then compiled its network for one thread, half the speed."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)


def keeps_torch_threads(function: F) -> F:
    """``function`` with torch's CPU thread count put back as it was when it returns or raises."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        import torch  # here, not above: modules that only name a job (files.file_detection) import without torch

        before = torch.get_num_threads()
        try:
            return function(*args, **kwargs)
        finally:
            if torch.get_num_threads() != before:
                torch.set_num_threads(before)

    return wrapper  # type: ignore[return-value]


# How long a round looks at the CPU before choosing its threads.
LOAD_SAMPLE_S = 0.2


def threads_for(physical: int, logical: int, busy_elsewhere: float) -> int:
    """torch threads for a job now: the physical cores, but no more than the logical cores other
    programs leave free (rounded), and at least one.

    On this 2-core machine a round on two 512 px frames took 11-12 s on two threads and 15-18 s on
    one when idle, but 58-61 s on two against 15-18 s on one beside a program keeping one core
    busy: a thread that loses its core stalls every step of the other at each synchronisation."""
    free = logical - max(0.0, busy_elsewhere)
    return max(1, min(physical, int(math.floor(free + 0.5))))


def round_threads(requested: int | None = None) -> int:
    """``requested``, or when None the threads :func:`threads_for` gives for this CPU's load now
    (sampled for LOAD_SAMPLE_S, this process's own use left out)."""
    if requested:
        return int(requested)
    import psutil

    own = psutil.Process()
    own.cpu_percent(None)
    system = psutil.cpu_percent(interval=LOAD_SAMPLE_S)
    mine = own.cpu_percent(None)
    logical = psutil.cpu_count() or 1
    physical = psutil.cpu_count(logical=False) or logical
    return threads_for(physical, logical, system / 100.0 * logical - mine / 100.0)
