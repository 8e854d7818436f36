"""A Ctrl-C in the last second or so of a run, after every atexit callback, while Python's teardown freed torch's
modules (about 1.3 s), was ignored: the process exited 0 as if nothing had been pressed. The console script now ends
the process in its last atexit callback, with the command's status, so no Ctrl-C can come unheard: one pressed by
then is said in the one 'interrupted' line with status 130 (tests/test_s60_words_late_ctrl_c.py)."""

import subprocess
import sys
from pathlib import Path

from test_s52_cli_launch import ROOT, console_script

# The console script as pip writes it, with a Ctrl-C pressed while Python's teardown frees the modules (here, as
# __main__'s globals are freed): after every atexit callback, where torch's teardown took its 1.3 s.
CTRL_C_IN_TEARDOWN = """
import importlib, os, signal, sys, time

class PressesCtrlCWhenFreed:
    def __del__(self):
        os.write(2, b"[teardown]\\n")
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)  # the signal's time to act, as a user's Ctrl-C has the teardown's 1.3 s

pressing = PressesCtrlCWhenFreed()
module, _, function = sys.argv[1].partition(":")
sys.argv = ["particle-detect", *sys.argv[2:]]
sys.exit(getattr(importlib.import_module(module), function)())
"""


def run_command(folder: Path, *args: str) -> subprocess.CompletedProcess:
    script = folder / "console_script.py"  # a file: the objects of ``python -c``'s __main__ are never freed
    script.write_text(CTRL_C_IN_TEARDOWN)
    return subprocess.run([sys.executable, str(script), console_script(), *args], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)


def test_no_ctrl_c_goes_unheard_in_the_teardown(tmp_path):
    table = tmp_path / "centres.csv"
    table.write_text("frame,y,x\n0,10,10\n0,30,30\n")
    done = run_command(tmp_path, "-q", "evaluate", str(table), str(table))
    if "[teardown]" in done.stderr:  # a Ctrl-C came while the process ended: heard
        assert done.returncode == 130 and done.stderr.endswith("particle-detect: interrupted\n"), done.stderr
    else:  # none could: the process had ended with its work's status
        assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].split()[:4] == ["all", "2", "0", "0"]  # the work's own output, whole


def test_the_commands_status_is_the_process_status(tmp_path):
    assert run_command(tmp_path, "evaluate", str(tmp_path / "none.csv"), str(tmp_path / "none.csv")).returncode == 2
    refused = run_command(tmp_path, "evaluate", "--no-such-option")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith("particle-detect evaluate: error: ")
