"""The console script's entry point. A Ctrl-C while the command line's modules are still being imported (numpy,
the library; half a second) ends the command as one during its work does, with one line, not a traceback; so does
one after the command's work, while the process ends: torch, tqdm and logging clean up then in atexit callbacks,
and a KeyboardInterrupt raised inside one printed its traceback ("Exception ignored in atexit callback") and
exited 0."""

import atexit
import os
import signal
import sys

INTERRUPTED = 128 + signal.SIGINT  # as a shell reports a process Ctrl-C ended


class _Ending:
    """The command's exit status, and whether a Ctrl-C came once its work was over."""

    code = 0
    stopped = False


def main() -> int:
    atexit.register(_end_as_interrupted)  # registered first, so it runs last: after every module's own cleanup
    try:
        from .main import main as run

        code = run()
    except KeyboardInterrupt:  # before main's own handling began, or just after it ended
        print("particle-detect: interrupted", file=sys.stderr)
        code = INTERRUPTED
    _Ending.code = code
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # a caller's own handler, or SIG_IGN, stays
        signal.signal(signal.SIGINT, _stopped_while_ending)
    return code


def _stopped_while_ending(signum: int, frame) -> None:
    _Ending.stopped = True  # not raised: the cleanup under way (a lock released, a log flushed) is let finish


def _end_as_interrupted() -> None:
    """Said in one line, with Ctrl-C's status, once the other atexit callbacks are done (a status cannot be
    returned from here, hence os._exit after the streams are flushed); the rest of the ending is not interrupted."""
    if signal.getsignal(signal.SIGINT) is _stopped_while_ending:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not _Ending.stopped or _Ending.code >= 128:  # a run already stopped has said so
        return
    try:
        print("particle-detect: interrupted", file=sys.stderr)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
    except (OSError, ValueError):  # a closed terminal: the status says it all the same
        pass
    os._exit(INTERRUPTED)
