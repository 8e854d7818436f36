"""A lab's cluster as its IT person found it: a scheduler or worker lost mid-run, a scheduler without workers,
a folder run interrupted, stale temporaries beside outputs a run again skips. Each said in one line, nothing
marked failed that did not fail, no dask traceback for the user."""

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files import distributed as files_distributed
from napari_particle_detect.files import io
from napari_particle_detect.files.distributed import detect_files
from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.remote import run_round_remote
from napari_particle_detect.projects.project import Project
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import tiny_model_file
from helpers_proc import closed_at_once
from test_distributed import OPTIONS, write_images

distributed = pytest.importorskip("distributed")

FILES = 8
# A scheduler and its worker in a process of their own (killed as a lost machine is); it ends by itself
# should the test process die first.
CLUSTER = """
import time
import distributed
import napari_particle_detect.files.distributed, napari_particle_detect.learning.remote  # before any task
cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                                   host="127.0.0.1", scheduler_port=0, dashboard_address=":0")
print(cluster.scheduler_address, flush=True)
time.sleep(300)
"""


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return tiny_model_file(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def project(tmp_path, tiny_model):
    """A project with two reviewed frames, and its stack."""
    samples = [synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=s) for s in range(2)]
    project = Project.open(tmp_path / "img.tif", n_frames=2, frame_shape=(64, 64))
    project.ensure_initial_round(tiny_model)
    project.remember_detection(12.0, "auto")
    for frame, sample in enumerate(samples):
        project.accept_frame(frame, pd.DataFrame({"y": sample.centres[:, 0], "x": sample.centres[:, 1]}))
    return project, np.stack([s.image for s in samples])


def on_the_worker(event: dict) -> bool:
    """Whether a round's progress ``event`` came from the worker (this side's own names the scheduler)."""
    return "where" not in event


@contextmanager
def cluster_in_another_process(folder: Path):
    """(address, process) of a scheduler with one worker in a process of their own, killed at the end."""
    process = subprocess.Popen([sys.executable, "-c", CLUSTER], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, cwd=folder)
    try:
        address = process.stdout.readline().strip()
        assert address.startswith("tcp://"), "the cluster process did not start"
        yield address, process
    finally:
        lose(process)


def lose(process: subprocess.Popen) -> None:
    """The machine goes: no goodbye to anyone."""
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait()


@contextmanager
def dask_errors():
    """The error records dask.distributed logs while the block runs (its loggers print them to stderr themselves,
    passing nothing on to the root logger)."""
    caught: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = caught.append
    loggers = [logging.getLogger(name) for name in ["distributed", *list(logging.root.manager.loggerDict)]
               if name.startswith("distributed.") and not logging.getLogger(name).propagate or name == "distributed"]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield caught
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def finished(out: Path) -> int:
    """How many outputs in ``out`` detect finished: their metadata, written last, has its fingerprint."""
    def has_fingerprint(metadata: Path) -> bool:
        try:
            return bool(json.loads(metadata.read_text()).get("fingerprint"))
        except (OSError, ValueError):  # replaced as it was read
            return False

    return sum(map(has_fingerprint, out.glob("image_*.json")))


def until(condition, limit_s: float) -> bool:
    end = time.monotonic() + limit_s
    while not condition() and time.monotonic() < end:
        time.sleep(0.01)
    return condition()


def test_a_scheduler_lost_mid_run_stops_it_in_one_line_and_a_run_again_goes_on(tmp_path, tiny_model, capsys):
    write_images(tmp_path / "in", FILES)
    out = tmp_path / "out"
    with cluster_in_another_process(tmp_path) as (address, process):
        command = ["-q", "detect", str(tmp_path / "in"), "-o", str(out), "--model", str(tiny_model), "--device", "cpu",
                   "--diameter", "12", "--threshold", "0"]

        def lose_it_once_a_file_is_finished() -> None:
            until(lambda: finished(out), 60)
            lose(process)

        killer = threading.Thread(target=lose_it_once_a_file_is_finished)
        killer.start()
        with dask_errors() as logged:
            code = main([*command, "--scheduler", address])
        killer.join()
    err = capsys.readouterr().err.strip().splitlines()
    record = json.loads((out / "particle-detect-run.json").read_text())
    done, left = len(record["done"]), len(record["left"])
    assert code == 2 and not record["failed"] and left and done + left == FILES
    # One line, and none of dask's tracebacks of its lost connection.
    assert err == [f"particle-detect: error: {address}: lost the connection to the dask scheduler; stopped with "
                   f"{done} of {FILES} files done, {left} left: run again (finished files are skipped)"], err
    assert not logged, [r.getMessage() for r in logged]
    assert record["stopped"] == err[0].removeprefix("particle-detect: error: ")
    # What the workers finished stays finished, nothing is marked failed, and a run again skips it.
    assert not [p.name for p in out.glob("image_*.json") if "failed" in json.loads(p.read_text())]
    written = finished(out)
    assert main(command) == 0 and not capsys.readouterr().err
    again = json.loads((out / "particle-detect-run.json").read_text())
    assert len(again["skipped"]) == written >= max(done, 1) and len(again["done"]) == FILES - written


def test_a_scheduler_without_workers_says_the_run_waits_for_one(tmp_path, tiny_model, monkeypatch, caplog):
    monkeypatch.setattr(files_distributed, "WORKER_CHECK_S", 0.05, raising=False)
    monkeypatch.setattr(files_distributed, "NO_WORKER_REPEAT_S", 0.3, raising=False)  # said again while it lasts
    paths = write_images(tmp_path / "in", 2)
    cluster = distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None,
                                       scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})  # 8787 may be taken
    outcome = {}

    def waiting() -> list[str]:
        return [r.getMessage() for r in caplog.records if "dask worker" in r.getMessage()]

    try:
        with distributed.Client(cluster) as client, caplog.at_level(logging.WARNING, "napari_particle_detect"):
            run = threading.Thread(target=lambda: outcome.update(
                summary=detect_files(paths, tmp_path / "out", OPTIONS, tiny_model, client)))
            run.start()
            until(lambda: len(waiting()) >= 2, 5)
            said = waiting()
            cluster.scale(1)  # the worker someone started: the run goes on
            run.join(60)
    finally:
        cluster.close()
    address = cluster.scheduler_address
    assert said[0] == (f"{address}: no dask worker is connected to this scheduler; waiting for one to join (start "
                       f"one with: dask worker {address})"), said
    assert said[1].startswith(f"{address}: still no dask worker after ")
    assert outcome["summary"].ok and len(outcome["summary"].done) == 2


@pytest.mark.parametrize("where", ["here", "on a cluster"])
def test_an_interrupted_run_leaves_its_own_record_not_the_run_before_s(tmp_path, tiny_model, where):
    paths = write_images(tmp_path / "in", 4)
    out = tmp_path / "out"
    cluster = (distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None,
                                        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
               if where != "here" else None)
    try:
        client = distributed.Client(cluster) if cluster is not None else None
        detect_files(paths, out, OPTIONS, tiny_model, client)  # the run before: every file done
        done = []

        def ctrl_c_after_two(path: Path, status: str) -> None:
            done.append(path)
            if len(done) == 2:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            detect_files(paths, out, replace(OPTIONS, threshold=0.5), tiny_model, client, progress=ctrl_c_after_two)
    finally:
        if cluster is not None:
            client.close()
            cluster.close()
    record = json.loads((out / "particle-detect-run.json").read_text())
    assert record["options"]["threshold"] == 0.5 and record.get("interrupted") is True
    assert [entry["file"] for entry in record["done"]] == [str(p) for p in sorted(done)]
    assert sorted(entry["file"] for entry in record["left"]) == sorted(str(p) for p in paths if p not in done)
    assert not record["skipped"] and not record["failed"]


def test_a_run_again_removes_stale_temporaries_beside_the_outputs_it_skips(tmp_path, tiny_model, monkeypatch):
    paths = write_images(tmp_path / "in", 2)
    out = tmp_path / "out"
    assert detect_files(paths, out, OPTIONS, tiny_model).ok
    leftovers = [out / ".image_00.csv.k1lled.tmp", out / ".image_01.json.k1lled.tmp"]  # a killed writer's
    for path in leftovers:
        path.write_text("half")
    monkeypatch.setattr(io, "STALE_TEMPORARY_S", 0.2)  # untouched for longer than a live writer's
    time.sleep(0.4)
    again = detect_files(paths, out, OPTIONS, tiny_model)
    assert again.skipped == paths and not [p.name for p in leftovers if p.exists()]


def test_a_round_whose_scheduler_is_lost_stops_in_one_line_and_changes_nothing(tmp_path, project):
    project, stack = project
    events = []
    config = replace(FINE_TUNE, steps_per_epoch=100_000, batch_size=2, crop=32, threads=1)
    with cluster_in_another_process(tmp_path) as (address, process):
        def lose_the_scheduler_mid_round(event: dict) -> None:
            events.append(event)
            if on_the_worker(event):
                lose(process)

        with dask_errors() as logged, pytest.raises(ParticleDetectError) as raised:
            run_round_remote(project, stack, address, config, device="cpu", progress=lose_the_scheduler_mid_round)
    assert str(raised.value) == (f"{address}: lost the connection to the dask scheduler during the round; nothing "
                                 "was changed: start the round again")
    assert not logged, [r.getMessage() for r in logged]
    assert events[0]["phase"] == "preparing" and events[0]["where"] == address  # not its connection's repr
    assert not project.leftover_workspaces() and [r.number for r in project.rounds] == [1]


def test_a_round_whose_worker_is_lost_stops_in_one_line_not_starting_over_elsewhere(project):
    project, stack = project
    events = []
    config = replace(FINE_TUNE, steps_per_epoch=40, batch_size=2, crop=32, threads=1)
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                                       scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
    try:
        with distributed.Client(cluster) as client:
            ((worker, pid),) = client.run(os.getpid).items()

            killed = []

            def kill_the_worker_mid_round(event: dict) -> None:
                events.append(event)
                if on_the_worker(event) and not killed:
                    os.kill(pid, signal.SIGKILL)  # its nanny starts another: dask would start the round over there
                    killed.append(pid)

            with pytest.raises(ParticleDetectError) as raised:
                run_round_remote(project, stack, client, config, device="cpu", progress=kill_the_worker_mid_round)
    finally:
        closed_at_once(cluster)  # the worker its nanny started again, closed gracefully, took seconds
    assert str(raised.value) == (f"{cluster.scheduler_address}: the dask worker training the round ({worker}) was "
                                 "lost; nothing was changed: start the round again")
    assert events[0]["where"] == cluster.scheduler_address
    assert not project.leftover_workspaces() and [r.number for r in project.rounds] == [1]
