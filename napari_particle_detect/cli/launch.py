"""The console script's entry point. A Ctrl-C while the command line's modules are still being imported (numpy,
the library; half a second) ends the command as one during its work does, with one line, not a traceback; so does
one after the command's work, while the process ends: torch, tqdm and logging clean up then in atexit callbacks,
and a KeyboardInterrupt raised inside one printed its traceback ("Exception ignored in atexit callback") and
exited 0.

The process ends in the last atexit callback (:func:`_end_as_interrupted`), with the command's status: after it,
Python's own teardown freed torch's modules for about 1.3 s more, and a Ctrl-C then could only be ignored (exit
status 0) or kill the process unsaid. So :func:`main` ends the process: call it as the console script does, not from
a program that goes on."""

import atexit
import os
import signal
import sys

INTERRUPTED = 128 + signal.SIGINT  # as a shell reports a process Ctrl-C ended


class _Ending:
    """The command's exit status (None until the command has one), and whether a Ctrl-C came once its work was
    over."""

    code: int | None = None
    stopped = False


def main() -> int:
    atexit.register(_end_as_interrupted)  # registered first, so it runs last: after every module's own cleanup
    _Ending.code = _run_command()
    return _Ending.code


def _run_command() -> int:
    """The command's exit status; Ctrl-C held to the end from the moment the command is over."""
    try:
        try:
            from .main import main as run

            code = run()
        except SystemExit as ending:  # argparse's --help and its refusals: their status, the process ended as others
            code = _status_of(ending)
        _hold_ctrl_c_to_the_end()
        return code
    except KeyboardInterrupt:  # before main's own handling began, or just after it ended
        _hold_ctrl_c_to_the_end()
        print("particle-detect: interrupted", file=sys.stderr)
        return INTERRUPTED


def _status_of(ending: SystemExit) -> int:
    """The exit status Python gives a SystemExit (a message is printed, status 1)."""
    if ending.code is None or isinstance(ending.code, int):
        return ending.code or 0
    print(ending.code, file=sys.stderr)
    return 1


def _hold_ctrl_c_to_the_end() -> None:
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # a caller's own handler, or SIG_IGN, stays
        signal.signal(signal.SIGINT, _stopped_while_ending)


def _stopped_while_ending(signum: int, frame) -> None:
    _Ending.stopped = True  # not raised: the cleanup under way (a lock released, a log flushed) is let finish


def _end_as_interrupted() -> None:
    """End the process once the other atexit callbacks are done, with the command's status, or, where a Ctrl-C came
    meanwhile, with Ctrl-C's and one line saying so (a status cannot be returned from here, hence os._exit after the
    streams are flushed). Nothing runs after it, so no Ctrl-C goes unheard: Python's teardown, skipped, frees memory
    the system frees anyway. A command that never got a status (an error's traceback) ends as Python ends it."""
    if _Ending.code is None:
        return
    _flush_streams()  # a Ctrl-C while the last output reaches a slow terminal is heard too
    code = _Ending.code
    if _Ending.stopped and code < 128:  # a run already stopped has said so
        try:
            print("particle-detect: interrupted", file=sys.stderr)
        except (OSError, ValueError):  # a closed terminal: the status says it all the same
            pass
        _flush_streams()
        code = INTERRUPTED
    os._exit(code)


def _flush_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):  # a closed terminal, or no stream (pythonw)
            pass
