"""User-facing errors as napari notifications: one line for problems we can explain, never a traceback."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from napari.utils.notifications import show_error

from ..errors import ParticleDetectError

log = logging.getLogger("napari_particle_detect")


def report(exc: BaseException) -> None:
    if isinstance(exc, ParticleDetectError):
        show_error(str(exc))
    else:
        log.error("unexpected error", exc_info=exc)
        show_error(f"particle detection failed unexpectedly: {type(exc).__name__}: {exc}")


def reports_errors(method: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a ParticleDetectError raised by a button handler into a notification."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except ParticleDetectError as exc:
            report(exc)
            return None

    return wrapper
