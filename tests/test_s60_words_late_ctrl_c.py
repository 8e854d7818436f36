"""A Ctrl-C that comes as particle-detect ends, its work done (torch, tqdm and logging cleaning up in atexit
callbacks), printed a KeyboardInterrupt traceback ("Exception ignored in atexit callback") and exited 0; it now ends
with the one line a Ctrl-C during the work prints, and the status of SIGINT (130)."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The console script as pip writes it, with a Ctrl-C sent from the first atexit callback to run (the last registered),
# as one lands among torch's.
CTRL_C_AT_EXIT = """
import atexit, importlib, os, signal, sys
module, _, function = sys.argv[1].partition(":")
sys.argv = ["particle-detect", *sys.argv[2:]]
code = getattr(importlib.import_module(module), function)()
atexit.register(lambda: os.kill(os.getpid(), signal.SIGINT))
sys.exit(code)
"""


def console_script() -> str:
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]["scripts"]["particle-detect"]


def test_a_ctrl_c_as_the_command_ends_is_one_line_and_status_130(tmp_path):
    table = tmp_path / "centres.csv"
    table.write_text("frame,y,x\n0,10,10\n0,30,30\n")
    done = subprocess.run([sys.executable, "-c", CTRL_C_AT_EXIT, console_script(), "-q", "evaluate", str(table),
                           str(table)], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr
    assert done.stderr.endswith("particle-detect: interrupted\n") and done.stderr.count("interrupted") == 1
    assert done.returncode == 130
    assert done.stdout.splitlines()[-1].split()[:4] == ["all", "2", "0", "0"]  # the work's own output, whole
