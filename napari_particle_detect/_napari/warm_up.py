"""The docks' training warm-up: :func:`learning.warm_up.prepare_training` in a background thread, once a process."""

from __future__ import annotations

import threading

from ..learning import warm_up

_started = False


def warm_up_training() -> None:
    """Start the warm-up unless it ran (or runs) already; a failure only leaves the first round slower.

    A plain thread, not a napari worker: nothing on screen waits for it, and a Qt worker still running
    when napari closed (a file napari could not open, a window closed within a second or two) aborted
    the process as Qt deleted its signals. Python waits for this thread at exit instead."""
    global _started
    if _started or warm_up.training_prepared():
        return
    _started = True
    threading.Thread(target=_prepare_quietly, name="particle-detect training warm-up", daemon=False).start()


def _prepare_quietly() -> None:
    try:
        warm_up.prepare_training()
    except Exception:  # noqa: BLE001 - the first round imports it again and reports a real failure there
        pass
