"""torch's CPU thread count as a job leaves it: a job may set its own (a round's or a file's
``threads``), and its caller's comes back after it.

torch keeps the count per thread, and napari runs the dock's jobs on a pool of reused threads: a
round that set one thread (the dock asked for one on a 2-core machine) left it to every later
Detect on that pool thread, which then compiled its network for one thread, half the speed."""

from __future__ import annotations

import functools
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
