"""A script holding a client of the scheduler (a remote round's, or one its error's traceback keeps), closed,
exited with dask's "Exception ignored in: Client.__del__ ... ImportError: sys.meta_path is None" on stderr: the
client was closed again at the interpreter's exit, where it could no longer import what it silences dask's logs
with."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed")

SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from remote_setups import empty_scheduler
from napari_particle_detect.files.distributed import scheduler_client

scheduler = empty_scheduler()  # left running at the exit, as a GPU node's scheduler runs on
cluster = scheduler.__enter__()
client = scheduler_client(cluster.scheduler_address)  # as a remote round and detect --scheduler connect
client.close()
print(client.status, flush=True)
"""


def test_a_closed_scheduler_client_says_nothing_at_exit(tmp_path):
    tests = str(Path(__file__).parent)
    run = subprocess.run([sys.executable, "-c", SCRIPT.format(tests=tests)], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert run.stdout.strip() == "closed", run.stderr[-2000:]
    assert "Exception ignored" not in run.stderr, run.stderr[-2000:]
    assert run.returncode == 0
