"""Ctrl-C during a --workers run whose worker is busy with a long file: the command ends at once (dask gave the busy
worker 4 s to finish a file it never would), in one line, the finished file kept, the long one not half-written, and
no hidden lock of the file the killed worker held left in the output folder; a lock another run holds is never
removed."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
import tifffile

from napari_particle_detect.files.distributed import release_left_locks
from napari_particle_detect.files.file_detection import lock_path
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from test_cluster_run_counts_and_crashes import started_worker_processes
from test_cluster_user_audit import until
from test_distributed import tiny_model  # noqa: F401 - the module's fixture

pytest.importorskip("distributed")


def write_inputs(folder: Path) -> None:
    folder.mkdir(parents=True)
    image = synthesize(benchmark_config("fluorescent", 0.4, shape=(96, 80)), seed=0).image
    tifffile.imwrite(folder / "a_small.tif", image)
    frames = np.stack([synthesize(benchmark_config("fluorescent", 0.4, shape=(256, 256)), seed=s).image
                       for s in range(2)])
    tifffile.imwrite(folder / "b_long.tif", np.repeat(frames, 100, axis=0))  # seconds of work for one worker


def test_ctrl_c_with_a_busy_worker_ends_at_once_and_leaves_no_lock(tmp_path, tiny_model):  # noqa: F811
    write_inputs(tmp_path / "in")
    out = tmp_path / "out"
    env = {**os.environ, "HOME": str(tmp_path), "NAPARI_PARTICLE_DETECT_HOME": str(tmp_path)}
    cli = subprocess.Popen([sys.executable, "-m", "napari_particle_detect.cli.main", "-q", "detect",
                            str(tmp_path / "in"), "-o", str(out), "--model", str(tiny_model), "--device", "cpu",
                            "--diameter", "12", "--workers", "1"], stderr=subprocess.PIPE, text=True, env=env,
                           start_new_session=True)  # its own group, signalled as a terminal's Ctrl-C signals it
    process = psutil.Process(cli.pid)
    workers: list[psutil.Process] = []
    try:
        # The small file finished, the worker busy with the long one (holding its lock).
        assert until(lambda: cli.poll() is not None or (
            (out / "a_small.json").exists() and lock_path(out / "b_long.csv").exists()), 60), cli.poll()
        workers = started_worker_processes(process)
        time.sleep(0.5)
        os.killpg(cli.pid, signal.SIGINT)
        start = time.monotonic()
        err = cli.communicate(timeout=30)[1]
        took = time.monotonic() - start
    finally:
        if cli.poll() is None:
            os.killpg(cli.pid, signal.SIGKILL)
            cli.wait()
    assert (cli.returncode, err.strip().splitlines()) == (130, [
        f"particle-detect: interrupted; stopped with 1 of 2 files done, 1 left; the finished files' outputs are in "
        f"{out}: run the same command again to go on (finished files are skipped)"]), err
    assert took < 3.0, f"took {took:.1f} s to end after Ctrl-C"  # 4.6 s: the busy worker waited for
    assert workers and not psutil.wait_procs(workers, timeout=2)[1]  # killed, not left running
    assert sorted(path.name for path in out.iterdir()) == ["a_small.csv", "a_small.json", "particle-detect-run.json"]
    assert json.loads((out / "a_small.json").read_text())["fingerprint"]
    record = json.loads((out / "particle-detect-run.json").read_text())
    assert record["interrupted"] is True and [Path(entry["file"]).name for entry in record["left"]] == ["b_long.tif"]


HOLD = """
import sys, time
from pathlib import Path
from napari_particle_detect.files.file_detection import holding_output
with holding_output(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_a_lock_another_run_holds_is_not_removed_and_an_abandoned_one_is(tmp_path):
    held, abandoned = tmp_path / "held.csv", tmp_path / "abandoned.csv"
    lock_path(abandoned).touch()  # a killed worker's: no one holds it
    other = subprocess.Popen([sys.executable, "-c", HOLD, str(held)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    try:
        assert other.stdout.readline().strip() == "held"
        release_left_locks([held, abandoned, tmp_path / "never_started.csv"])
        assert lock_path(held).exists() and not lock_path(abandoned).exists()
        assert sorted(path.name for path in tmp_path.iterdir()) == [lock_path(held).name]
    finally:
        other.communicate("", timeout=30)
    assert not lock_path(held).exists()  # removed by its holder, as ever
