"""Folder runs: the run record when runs share a folder, a cluster run that meets an output another run holds, and a
--scheduler address where nothing listens."""
from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files import distributed
from napari_particle_detect.files.distributed import RUN_RECORD, detect_files

from helpers import tiny_model_file
from test_distributed import OPTIONS, write_images


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return tiny_model_file(tmp_path_factory.mktemp("tiny"))


def files_of(record: dict, status: str) -> list[str]:
    return [Path(entry["file"]).name for entry in record[status]]


def test_a_run_ending_while_another_runs_into_its_folder_keeps_that_runs_record(tmp_path, tiny_model):
    # Two jobs of a batch array, each given half of the files, into one results folder: the one ending last used to
    # replace the record of the other, its files and failures no longer said anywhere.
    paths = write_images(tmp_path / "images", 4, corrupt=1)
    out = tmp_path / "out"
    first_half, second_half = paths[:2], paths[2:]
    ran_beside: list[bool] = []

    def the_other_job_runs_meanwhile(path: Path, status: str) -> None:
        if not ran_beside:
            ran_beside.append(True)
            detect_files(first_half, out, OPTIONS, tiny_model, command="job 1")

    detect_files(second_half, out, OPTIONS, tiny_model, command="job 2", progress=the_other_job_runs_meanwhile)
    record = json.loads((out / RUN_RECORD).read_text())
    assert record["command"] == "job 2" and files_of(record, "done") == ["image_02.tif", "image_03.tif"]
    [other] = record["concurrent_runs"]
    assert other["command"] == "job 1"
    assert files_of(other, "done") == ["image_00.tif"] and files_of(other, "failed") == ["image_01.tif"]
    assert "concurrent_runs" not in other  # listed once, beside this run's own, not nested
    assert not list(out.glob(".*lock"))  # the record's lock goes with the write


def test_a_run_after_another_ended_replaces_its_record(tmp_path, tiny_model):
    paths = write_images(tmp_path / "images", 2)
    out = tmp_path / "out"
    detect_files(paths[:1], out, OPTIONS, tiny_model, command="first")
    detect_files(paths[1:], out, OPTIONS, tiny_model, command="second")
    record = json.loads((out / RUN_RECORD).read_text())
    assert (record["command"], record["concurrent_runs"]) == ("second", [])
    assert record["started"] <= record["finished"]


def test_a_run_given_its_start_keeps_the_record_of_a_run_that_ended_while_it_was_starting(tmp_path, tiny_model):
    from datetime import datetime

    paths = write_images(tmp_path / "images", 2)
    out = tmp_path / "out"
    started = datetime.now().astimezone()  # the command's start, before its cluster was up
    detect_files(paths[:1], out, OPTIONS, tiny_model, command="other")
    detect_files(paths[1:], out, OPTIONS, tiny_model, command="this", started=started)
    record = json.loads((out / RUN_RECORD).read_text())
    assert [run["command"] for run in record["concurrent_runs"]] == ["other"]


def test_the_record_of_a_run_stopped_in_a_stack_says_how_many_of_its_frames_are_kept(tmp_path, tiny_model,
                                                                                      monkeypatch):
    from test_interrupted_movie_detect import FRAMES, STOP_AT, stop_after, write_movie

    movie = write_movie(tmp_path / "images" / "movie.tif")
    out = tmp_path / "out"
    stop_after(monkeypatch, STOP_AT, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        detect_files(movie, out, OPTIONS, tiny_model)
    record = json.loads((out / RUN_RECORD).read_text())
    assert record["interrupted"] is True
    assert record["left"] == [{"file": str(movie), "output": "movie.csv", "frames_done": STOP_AT, "frames": FRAMES}]


def closed_port() -> int:
    """A local port where nothing listens (one just let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_scheduler_address_where_nothing_listens_is_refused_within_seconds_not_the_whole_deadline(monkeypatch):
    # A short grace for the test: dask's own retries of a refused port last the whole deadline (20 s) either way.
    monkeypatch.setattr(distributed, "REFUSED_GRACE_S", 0.5)
    address = f"tcp://127.0.0.1:{closed_port()}"
    start = time.monotonic()
    with pytest.raises(ParticleDetectError, match=rf"^{address}: cannot reach the dask scheduler \(connection refused"):
        distributed.scheduler_client(address, timeout="20s")  # the command line's deadline
    assert time.monotonic() - start < distributed.REFUSED_GRACE_S + 5


def test_a_scheduler_address_of_an_unknown_host_is_refused_at_once():
    start = time.monotonic()
    with pytest.raises(ParticleDetectError, match=r"^tcp://no-such-host\.invalid:8786: cannot reach the dask scheduler "
                                                  r"\(unknown host no-such-host\.invalid"):
        distributed.scheduler_client("tcp://no-such-host.invalid:8786", timeout="20s")
    assert time.monotonic() - start < 8


# Another run's hold on one output (as detect_unless_done holds it while detecting), let go once told to, or after
# HOLD_S: the output's file is left undetected, for the run under test.
HOLD = """
import sys, time
from pathlib import Path
from napari_particle_detect.files.file_detection import holding_output

target, held, release, hold_s = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4])
with holding_output(target):
    held.touch()
    end = time.monotonic() + hold_s
    while not release.exists() and time.monotonic() < end:
        time.sleep(0.02)
"""
HOLD_S = 15.0


def test_a_cluster_run_does_other_files_first_while_another_run_holds_one_output(tmp_path, tiny_model):
    import subprocess
    import sys

    from distributed import Client, LocalCluster

    paths = write_images(tmp_path / "images", 3)
    out = tmp_path / "out"
    held, release = tmp_path / "held", tmp_path / "release"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out / "image_00.csv"), str(held), str(release),
                               str(HOLD_S)])
    order: list[str] = []

    def note(path: Path, status: str) -> None:
        order.append(f"{path.name} {status}")
        if len(order) == 2:  # the others are done: the other run lets go
            release.touch()

    try:
        deadline = time.monotonic() + 60
        while not held.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0")
        with cluster, Client(cluster) as client:
            start = time.monotonic()
            summary = detect_files(paths, out, OPTIONS, tiny_model, client=client, progress=note)
            took = time.monotonic() - start
    finally:
        release.touch()
        holder.wait(timeout=60)
    # One worker: it used to wait on image_00 until the other run let go, the other files queued behind it.
    assert order == ["image_01.tif done", "image_02.tif done", "image_00.tif done"]
    assert (len(summary.done), summary.failed, summary.left) == (3, {}, [])
    assert took < HOLD_S


def test_a_run_into_a_folder_of_thousands_of_files_starts_without_listing_it_once_per_file(tmp_path, tiny_model,
                                                                                           monkeypatch):
    from napari_particle_detect.files import io

    # Looking for a killed run's temporaries beside each output globbed the output folder twice per input: a folder
    # run of thousands of files into a folder of thousands spent minutes on it before its first file.
    inputs = tmp_path / "images"
    inputs.mkdir()
    for index in range(200):  # unreadable: each fails at once, so the run is nearly all its tidying up
        (inputs / f"image_{index:03d}.tif").write_bytes(b"not a TIFF")
    out = tmp_path / "out"
    out.mkdir()
    for index in range(20_000):  # another experiment's tables there
        (out / f"day1_{index:05d}.csv").touch()
    leftover = out / ".image_007.csv.k1lled.tmp"  # a killed run's, half written
    leftover.write_text("frame,y")
    monkeypatch.setattr(io, "STALE_TEMPORARY_S", 0.2)  # untouched for longer than a live writer's
    time.sleep(0.4)
    start = time.monotonic()
    summary = detect_files(inputs, out, OPTIONS, tiny_model)
    took = time.monotonic() - start
    assert len(summary.failed) == 200
    assert not leftover.exists()
    assert took < 5, f"{took:.1f} s"  # 15 s and more before


def test_the_records_of_concurrent_runs_kept_stop_at_the_newest_hundred(tmp_path):
    from datetime import datetime, timedelta, timezone
    now = datetime.now(timezone.utc)
    later = (now + timedelta(seconds=1)).isoformat()
    kept = [{"record": distributed.RUN_RECORD_KIND, "finished": later, "n": i} for i in range(150)]
    (tmp_path / RUN_RECORD).write_text(json.dumps(
        {"record": distributed.RUN_RECORD_KIND, "finished": later, "n": -1, "concurrent_runs": kept}))
    runs = distributed.runs_beside(tmp_path / RUN_RECORD, now)
    assert len(runs) == distributed.RUNS_BESIDE_KEPT
    assert [run["n"] for run in runs[:3]] == [-1, 0, 1]  # the newest first
