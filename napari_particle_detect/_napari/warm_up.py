"""The docks' training warm-up: :func:`learning.warm_up.prepare_training` in a background thread, once a process.

Set the environment variable ``NAPARI_PARTICLE_DETECT_NO_WARM_UP=1`` (read as each dock opens) to turn it off: a
session that trains no round (a script, a test, a slow shared machine) spares the seconds of CPU it takes; the
first round then imports the same modules itself, a few seconds later in its start."""

from __future__ import annotations

import os
import threading

from ..learning import warm_up

NO_WARM_UP_VARIABLE = "NAPARI_PARTICLE_DETECT_NO_WARM_UP"

_started = False


def warm_up_turned_off() -> bool:
    """Whether the environment turns the docks' warm-up off (``NAPARI_PARTICLE_DETECT_NO_WARM_UP`` set, not to '0'
    nor empty)."""
    return os.environ.get(NO_WARM_UP_VARIABLE, "").strip() not in ("", "0")


def warm_up_training() -> None:
    """Start the warm-up unless it ran (or runs) already, or is turned off; a failure only leaves the first round
    slower.

    A plain thread, not a napari worker: nothing on screen waits for it, and a Qt worker still running
    when napari closed (a file napari could not open, a window closed within a second or two) aborted
    the process as Qt deleted its signals. Python waits for this thread at exit instead."""
    global _started
    if _started or warm_up_turned_off() or warm_up.training_prepared():
        return
    _started = True
    threading.Thread(target=_prepare_quietly, name="particle-detect training warm-up", daemon=False).start()


def _prepare_quietly() -> None:
    try:
        warm_up.prepare_training()
    except Exception:  # noqa: BLE001 - the first round imports it again and reports a real failure there
        pass
