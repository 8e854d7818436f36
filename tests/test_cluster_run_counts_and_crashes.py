"""A folder run on a cluster, where what it says must match the disk: a scheduler lost as results came back, a
file that kills its worker, a local cluster whose worker cannot be started again, Ctrl-C (a terminal's, sent to the
whole process group) while the command line's own cluster starts and while it works. One line each, and the run's
record and counts agree with the finished outputs."""

import json
import logging
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import dask
import psutil
import pytest

from napari_particle_detect.cli.main import main
from napari_particle_detect.files import distributed as files_distributed
from napari_particle_detect.files.distributed import (
    FilesSummary, close_local_client, detect_files, how_far, local_client,
)

from helpers_proc import particle_detect_argv
from test_cluster_user_audit import cluster_in_another_process, finished, lose, until
from test_distributed import OPTIONS, tiny_model, write_images  # noqa: F401 - tiny_model: the module's fixture

distributed = pytest.importorskip("distributed")

FILES = 8


class ExitsOnReadingCrashFiles(distributed.WorkerPlugin):
    """Makes a worker process exit, as one killed for its memory does, when it reads a file named crash*; installed
    again on each worker its nanny starts in place of the one that died."""

    def setup(self, worker) -> None:
        from napari_particle_detect.files import file_detection

        read = file_detection.read_image

        def read_or_exit(path, *args, **kwargs):
            if Path(path).name.startswith("crash"):
                os._exit(1)
            return read(path, *args, **kwargs)

        file_detection.read_image = read_or_exit


def test_a_scheduler_lost_as_results_come_counts_what_the_workers_finished(tmp_path, tiny_model, capsys):
    write_images(tmp_path / "in", FILES)
    out = tmp_path / "out"
    command = ["detect", str(tmp_path / "in"), "-o", str(out), "--model", str(tiny_model), "--device", "cpu",
               "--diameter", "12", "--threshold", "0"]
    with cluster_in_another_process(tmp_path) as (address, process):
        def lose_it_as_the_second_file_is_finished() -> None:  # before its result reaches this process
            until(lambda: finished(out) >= 2, 60)
            lose(process)

        killer = threading.Thread(target=lose_it_as_the_second_file_is_finished)
        killer.start()
        code = main(["-q", *command, "--scheduler", address])
        killer.join()
    err = capsys.readouterr().err.strip().splitlines()
    record = json.loads((out / "particle-detect-run.json").read_text())
    written = finished(out)
    assert code == 2 and written >= 2
    # Every finished output is counted done, by the line and the record; only the others are left.
    assert len(record["done"]) == written and len(record["left"]) == FILES - written, (record, written)
    assert err == [f"particle-detect: error: {address}: lost the connection to the dask scheduler; stopped with "
                   f"{written} of {FILES} files done, {FILES - written} left: run again (finished files are skipped)"]
    assert sorted(Path(entry["output"]).stem for entry in record["done"]) == sorted(
        p.stem for p in out.glob("image_*.json") if json.loads(p.read_text()).get("fingerprint"))
    # A run again skips those, says so, and does the rest.
    assert main(command) == 0
    again = json.loads((out / "particle-detect-run.json").read_text())
    assert len(again["skipped"]) == written and len(again["done"]) == FILES - written
    assert f"{FILES - written} done, {written} unchanged and skipped, 0 failed" in capsys.readouterr().err


def test_a_stopped_run_says_how_many_of_its_files_done_were_skipped_as_done_before():
    summary = FilesSummary(done=[object()], skipped=[Path("a.tif"), Path("b.tif")], left=[Path("c.tif")])
    assert how_far(summary) == "stopped with 3 of 4 files done (2 of them done before and skipped), 1 left"


def test_a_file_that_kills_its_worker_fails_in_one_line_and_the_others_are_done(tmp_path, tiny_model, caplog):
    paths = write_images(tmp_path / "in", 3)
    crash = paths[0].rename(tmp_path / "in" / "crash.tif")
    paths = [crash, *paths[1:]]
    outcome = {}
    # One death, not dask's four, to keep the test short (each a worker process started again): the file dask sent
    # ahead to the same worker would fail with it all the same, and the line counts as many as the scheduler allows.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        client = local_client(1)
        try:
            client.register_plugin(ExitsOnReadingCrashFiles())
            with caplog.at_level(logging.WARNING, "napari_particle_detect"):
                run = threading.Thread(target=lambda: outcome.update(
                    summary=detect_files(paths, tmp_path / "out", OPTIONS, tiny_model, client)), daemon=True)
                run.start()
                run.join(120)  # without its worker back, the run would wait for ever
        finally:
            close_local_client(client, quietly=True)
    assert "summary" in outcome, "the run was left without a worker"
    summary = outcome["summary"]
    line = f"{crash}: the dask worker detecting it died 1 time (out of memory, or a crash); not detected"
    assert summary.failed == {crash: line} and not summary.stopped
    assert [result.path for result in summary.done] == paths[1:]  # not the file dask had sent ahead of it
    record = json.loads((tmp_path / "out" / "particle-detect-run.json").read_text())
    assert record["failed"] == [{"file": str(crash), "reason": line}]
    assert not caplog.records, [r.getMessage() for r in caplog.records]  # no "start a dask worker"


def test_a_local_cluster_whose_worker_cannot_start_again_stops_the_run_in_one_line(tmp_path, tiny_model, caplog,
                                                                                   monkeypatch):
    paths = write_images(tmp_path / "in", 2)
    crash = paths[0].rename(tmp_path / "in" / "crash.tif")
    paths = [crash, *paths[1:]]
    # Its worker cannot come back whatever the wait: a second without one, looked at four times a second, says so.
    monkeypatch.setattr(files_distributed, "NO_LIVE_WORKER_STOP_S", 1.0)
    monkeypatch.setattr(files_distributed, "WORKER_CHECK_S", 0.25)
    outcome = {}
    client = local_client(1)
    try:
        client.register_plugin(ExitsOnReadingCrashFiles())

        async def cannot_start(self, *args, **kwargs):
            raise RuntimeError("cannot start a worker process (no memory left)")

        # Once the cluster has started: the nanny cannot bring back the worker that crash.tif kills.
        monkeypatch.setattr(distributed.nanny.Nanny, "instantiate", cannot_start)
        with caplog.at_level(logging.WARNING, "napari_particle_detect"):
            run = threading.Thread(target=lambda: outcome.update(
                summary=detect_files(paths, tmp_path / "out", OPTIONS, tiny_model, client)), daemon=True)
            run.start()
            run.join(90)  # it waited for ever, saying nothing
    finally:
        close_local_client(client, quietly=True)
    assert "summary" in outcome, "the run waited for ever on a cluster without a worker"
    summary = outcome["summary"]
    assert summary.left == paths and not summary.done and not summary.failed, summary
    assert summary.stopped.startswith("the local dask cluster has had no worker for "), summary.stopped
    assert summary.stopped.endswith(" s: its worker processes died and none could be started again (out of memory?); "
                                    "stopped with 0 of 2 files done, 2 left: run again (finished files are skipped)")
    record = json.loads((tmp_path / "out" / "particle-detect-run.json").read_text())
    assert record["stopped"] == summary.stopped and [entry["file"] for entry in record["left"]] == list(map(str, paths))
    assert not caplog.records, [r.getMessage() for r in caplog.records]


def ctrl_c_from_the_terminal(process: subprocess.Popen) -> None:
    """SIGINT to ``process``'s whole process group, as a terminal's Ctrl-C: its worker processes get it too."""
    os.killpg(process.pid, signal.SIGINT)


def stderr_after_ctrl_c(cli: subprocess.Popen, ready, wait_s: float, settle_s: float = 0.0) -> str:
    """``cli``'s stderr after a terminal's Ctrl-C, pressed once ``ready()`` (within ``wait_s``) while it runs; it is
    killed if it outlives the test."""
    try:
        assert until(lambda: cli.poll() is not None or ready(), wait_s) and cli.poll() is None
        time.sleep(settle_s)
        ctrl_c_from_the_terminal(cli)
        return cli.communicate(timeout=60)[1]
    finally:
        if cli.poll() is None:
            os.killpg(cli.pid, signal.SIGKILL)
            cli.wait()


def started_worker_processes(process: psutil.Process) -> list[psutil.Process]:
    """The dask worker processes ``process`` has spawned so far (not Python's resource tracker)."""
    try:
        return [child for child in process.children(recursive=True) if "spawn_main" in " ".join(child.cmdline())]
    except psutil.Error:
        return []


def detect_command(tmp_path: Path, tiny_model: Path, out: Path, same_stop_s: float | None = None) -> subprocess.Popen:
    """``particle-detect -q detect`` of tmp_path/in into ``out`` with one local worker; ``same_stop_s`` as
    particle_detect_argv takes it."""
    env = {**os.environ, "HOME": str(tmp_path), "NAPARI_PARTICLE_DETECT_HOME": str(tmp_path)}
    # A process group of its own, signalled as a terminal signals its foreground group.
    return subprocess.Popen(particle_detect_argv("-q", "detect", str(tmp_path / "in"), "-o", str(out), "--model",
                                                 str(tiny_model), "--device", "cpu", "--diameter", "12", "--workers",
                                                 "1", same_stop_s=same_stop_s),
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)


def test_ctrl_c_while_the_local_cluster_starts_says_one_line_and_writes_nothing(tmp_path, tiny_model):
    write_images(tmp_path / "in", 2)
    out = tmp_path / "out"
    # A process of its own: a cluster's start interrupted printed its tracebacks from dask's threads and at exit, and
    # the worker processes starting printed theirs.
    cli = detect_command(tmp_path, tiny_model, out)
    starting = psutil.Process(cli.pid)
    # Its first worker process being started: the cluster is starting.
    err = stderr_after_ctrl_c(cli, lambda: started_worker_processes(starting), 60, settle_s=0.2)
    assert (cli.returncode, err.strip().splitlines()) == (
        130, ["particle-detect: interrupted; the dask cluster was still starting: nothing was written"]), err
    assert not out.exists() or not list(out.iterdir())


def test_ctrl_c_while_the_local_cluster_works_says_one_line_and_writes_the_record(tmp_path, tiny_model):
    write_images(tmp_path / "in", FILES)
    out = tmp_path / "out"
    cli = detect_command(tmp_path, tiny_model, out)
    err = stderr_after_ctrl_c(cli, lambda: finished(out) >= 1, 120)
    # Its worker processes printed their own KeyboardInterrupt tracebacks.
    # The files finished, where the run was told of them before the stop, and how to go on.
    assert (cli.returncode, len(err.strip().splitlines())) == (130, 1), err
    assert re.fullmatch(rf"particle-detect: interrupted(; stopped with \d of {FILES} files done, \d left; the finished "
                        rf"files' outputs are in {re.escape(str(out))}: run the same command again to go on "
                        r"\(finished files are skipped\))?", err.strip()), err
    assert json.loads((out / "particle-detect-run.json").read_text())["interrupted"] is True
