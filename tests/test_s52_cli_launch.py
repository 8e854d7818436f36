"""A Ctrl-C while ``particle-detect`` is still importing its modules ends it with the one line a Ctrl-C during its
work prints and the shell's status of SIGINT (130), not a Python traceback."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The console script as pip writes it, with a Ctrl-C arriving as numpy is imported (what an early Ctrl-C meets).
INTERRUPTED_IMPORT = """
import builtins, os, signal, sys
real_import = builtins.__import__
def importing(name, *args, **kwargs):
    if name == "numpy" and not getattr(importing, "sent", False):
        importing.sent = True
        os.kill(os.getpid(), signal.SIGINT)
    return real_import(name, *args, **kwargs)
builtins.__import__ = importing
module, _, function = sys.argv[1].partition(":")
sys.argv = ["particle-detect", *sys.argv[2:]]
import importlib
sys.exit(getattr(importlib.import_module(module), function)())
"""


def console_script() -> str:
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]["scripts"]["particle-detect"]


def test_a_ctrl_c_during_the_imports_is_one_line_and_status_130():
    done = subprocess.run([sys.executable, "-c", INTERRUPTED_IMPORT, console_script(), "--help"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr == "particle-detect: interrupted\n"
    assert done.returncode == 130


def test_the_console_script_runs_the_command_line():
    done = subprocess.run([sys.executable, "-c", INTERRUPTED_IMPORT.replace('name == "numpy"', "False"),
                           console_script(), "evaluate", "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: particle-detect evaluate ")
