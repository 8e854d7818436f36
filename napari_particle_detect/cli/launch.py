"""The console script's entry point: a Ctrl-C while the command line's modules are still being imported (numpy,
the library; half a second) ends the command as one during its work does, with one line, not a traceback."""

import signal
import sys


def main() -> int:
    try:
        from .main import main as run
    except KeyboardInterrupt:
        print("particle-detect: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    return run()
