"""The docks' training warm-up: :func:`learning.warm_up.prepare_training` in a napari worker, once a process."""

from __future__ import annotations

from napari.qt.threading import create_worker

from ..learning import warm_up

_started = False


def warm_up_training() -> None:
    """Start the warm-up in a worker unless it ran (or runs) already; a failure only leaves the first round slower."""
    global _started
    if _started or warm_up.training_prepared():
        return
    _started = True
    create_worker(warm_up.prepare_training, _ignore_errors=True).start()
