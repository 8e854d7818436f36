"""A command whose output is piped into a reader that stops early (``| head -5``) ends quietly, as Unix tools do:
it said 'particle-detect: error: Broken pipe' and exited 2."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

# The console script's own entry point, so the process ends as the installed command ends it.
CONSOLE_SCRIPT = "import sys; from napari_particle_detect.cli.launch import main; sys.exit(main())"


def _run_into_closed_pipe(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """``particle-detect ARGS`` with its stdout a pipe whose reader has already gone (the reader of ``| head``
    once it has its lines): every write to it fails with EPIPE, without the race of a real head."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return subprocess.run([sys.executable, "-c", CONSOLE_SCRIPT, *args], stdout=writer, stderr=subprocess.PIPE,
                              text=True, cwd=cwd, timeout=60)
    finally:
        os.close(writer)


def test_evaluate_into_a_closed_pipe_ends_without_a_word(tmp_path: Path) -> None:
    table = tmp_path / "centres.csv"
    table.write_text("frame,y,x\n0,10,10\n0,30,30\n1,20,20\n")

    ended = _run_into_closed_pipe(["evaluate", str(table), str(table)], tmp_path)

    assert ended.stderr == ""
    assert ended.returncode == 128 + signal.SIGPIPE  # as a shell reports `yes | head -1`'s yes
