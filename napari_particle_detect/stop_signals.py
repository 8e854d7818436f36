"""The signals that stop a run, and which of them this process's Python code handles (and so may hold for a moment).

The command line stops on each as on Ctrl-C (cli/main.py); a cluster's start holds them and its workers block them
(files/distributed.py); training holds them to the end of a step (learning/training.py)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

# Each sent to every process of a run: a terminal's Ctrl-C (SIGINT) or its closing (SIGHUP), a batch system's time
# limit or ``timeout`` (SIGTERM). No SIGHUP on Windows.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def python_stop_handlers() -> dict[int, Callable]:
    """Each of STOP_SIGNALS's handler where a Python function handles it; none off the main thread, where no handler
    can be set. A signal left to the system (its default, ignored, or a handler set outside Python) is not among
    them: holding it would change what it does."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    handlers = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    return {number: handler for number, handler in handlers.items() if callable(handler)}
