"""detect_files on the caller's cluster, interrupted (Ctrl-C in a notebook, the progress callback failing), stops
sending files: the cluster went on detecting every file not started, writing the outputs the run's record said were
left, for as long as the notebook kept the traceback (and the futures with it)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from napari_particle_detect.files.distributed import detect_files

from helpers import tiny_model_file
from test_distributed import OPTIONS, write_images

distributed = pytest.importorskip("distributed")
FILES = 12


def ctrl_c_at_the_first_file(path: Path, status: str) -> None:
    raise KeyboardInterrupt


def test_an_interrupted_run_leaves_the_files_not_started_to_the_next_run(tmp_path):
    paths, model = write_images(tmp_path / "in", FILES), tiny_model_file(tmp_path)
    out = tmp_path / "out"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        with pytest.raises(KeyboardInterrupt) as kept:  # as a notebook keeps the last traceback
            detect_files(paths, out, OPTIONS, model, client, progress=ctrl_c_at_the_first_file)
        deadline = time.monotonic() + 30
        while any(client.processing().values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        written = sorted(path.name for path in out.glob("*.csv"))
    record = json.loads((out / "particle-detect-run.json").read_text())
    assert record["interrupted"] and len(record["left"]) == FILES - 1
    # The file done and at most the one running at the interrupt (was: all 12).
    assert 1 <= len(written) <= 2, written
    assert kept.value is not None
