"""The signals that stop a run, which of them this process's Python code handles, and holding those to a safe point.

The command line stops on each as on Ctrl-C (cli/main.py); a cluster's start holds them and its workers block them
(files/distributed.py); training holds them to the end of a step (learning/training.py): both through
:func:`held_stop_signals`."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

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


# A stop signal this soon after the one held is the same stop, not someone insisting: ``timeout`` signals the process
# and then its process group, and a machine shutting down sends SIGTERM and then SIGHUP. Acted on at once, the repeat
# stopped a run mid-step, the steps done lost. A person pressing Ctrl-C again because nothing happened takes longer.
SAME_STOP_S = 1.0


def same_stop(first_came_at: float | None) -> bool:
    """Whether a stop signal coming now repeats one that came at ``first_came_at`` (time.monotonic; None: none came):
    within SAME_STOP_S, the same stop."""
    return first_came_at is not None and time.monotonic() - first_came_at < SAME_STOP_S


class HeldStopSignals:
    """The stop signals :func:`held_stop_signals` holds, for the code holding them to act on at a safe point
    (:meth:`stop_requested`). True while one is held and not yet acted on."""

    def __init__(self, handlers: dict[int, Callable]) -> None:
        self._handlers = handlers  # each held signal's own, as they were before the hold
        self._held: list[int] = []  # first come first, one of a kind
        self._first_came_at = 0.0
        self._stopping = False

    def __bool__(self) -> bool:
        return bool(self._held)

    def hold(self, signum: int, frame: object) -> None:
        """The handler put in place of each held signal's own."""
        if not (self._held or self._stopping):
            self._held.append(signum)
            self._first_came_at = time.monotonic()
        elif not same_stop(self._first_came_at):
            self._handlers[signum](signum, frame)  # someone insisting: acted on at once, as without the hold
        elif not self._stopping and signum not in self._held:
            self._held.append(signum)

    def stop_requested(self) -> bool:
        """Run each held signal's own handler now, first come first, and say whether the run is to stop: true once
        one has raised KeyboardInterrupt (Ctrl-C's; the command line's SIGTERM and SIGHUP, which note which one came
        for its line and exit status), false while each returned, the run to go on. Those held with the one that
        raised are the same stop: dropped, so the line names the first."""
        while self._held and not self._stopping:
            signum = self._held.pop(0)
            try:
                self._handlers[signum](signum, None)
            except KeyboardInterrupt:
                self._stopping = True
        self._held.clear()
        return self._stopping


@contextmanager
def held_stop_signals() -> Iterator[HeldStopSignals]:
    """Hold each of STOP_SIGNALS that Python handles (:func:`python_stop_handlers`) while the block runs, so that it
    stops at a safe point, not half-way through what it does: the caller asks the object yielded, there, whether one
    came and stops the run (:meth:`HeldStopSignals.stop_requested`), as that signal's own handler would have. A repeat
    within SAME_STOP_S is the same stop; a signal after that is acted on at once. Those still held when the block ends
    are the caller's to act on; their handlers are back in place by then."""
    handlers = python_stop_handlers()
    held = HeldStopSignals(handlers)
    try:
        for number in handlers:
            signal.signal(number, held.hold)
        yield held
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
