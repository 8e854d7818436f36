"""A folder run on a local cluster stopped while it cleans up after a first stop (``timeout -s INT`` sends SIGINT to
the process and then to its group; a second Ctrl-C) still writes its run record and leaves no hidden lock of the file
its killed worker held: a second interrupt landing as the record was written lost both (seen at one moment of a run
only). And the command line takes a SIGINT repeated at once as the same stop, as it takes SIGTERM and SIGHUP."""

from __future__ import annotations

import _thread
import json
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile

import napari_particle_detect.files.distributed as distributed_module
from napari_particle_detect.files.distributed import close_local_client, detect_files, local_client
from napari_particle_detect.files.file_detection import DetectOptions, lock_path
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from test_distributed import tiny_model  # noqa: F401 - the module's fixture

pytest.importorskip("distributed")


def write_small(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(folder / "a_small.tif", synthesize(benchmark_config("fluorescent", 0.4, shape=(96, 80)),
                                                        seed=0).image)
    return folder / "a_small.tif"


def write_inputs(folder: Path) -> tuple[Path, Path]:
    """A small file, then one that keeps the worker busy (holding its output's lock) for seconds."""
    small, long = write_small(folder), folder / "b_long.tif"
    frames = np.stack([synthesize(benchmark_config("fluorescent", 0.4, shape=(256, 256)), seed=s).image
                       for s in range(2)])
    tifffile.imwrite(long, np.repeat(frames, 200, axis=0))
    return small, long


def second_interrupt_as_the_record_is_written() -> None:
    """A SIGINT reaching the main thread as the run record starts being written, through Python's handler (an OS
    signal would also reach pytest's own process and workers)."""
    record = distributed_module.write_run_record.__code__

    def hook(frame, event: str, arg: object) -> None:
        if event == "call" and frame.f_code is record:
            sys.setprofile(None)
            _thread.interrupt_main(signal.SIGINT)

    sys.setprofile(hook)


def test_a_second_interrupt_while_the_run_cleans_up_keeps_the_record_and_leaves_no_lock(tmp_path,
                                                                                       tiny_model):  # noqa: F811
    small, long = write_inputs(tmp_path / "in")
    out = tmp_path / "out"

    def progress(path: Path, status: str) -> None:
        # The first stop once the worker holds the long file's lock, as a Ctrl-C while it detects it.
        deadline = time.monotonic() + 60
        while not lock_path(out / "b_long.csv").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        second_interrupt_as_the_record_is_written()
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's, whatever the test runner set
    client = local_client(1)
    try:
        with pytest.raises(KeyboardInterrupt):
            detect_files([small, long], out, DetectOptions(diameter=12.0, device="cpu", threads=1), tiny_model, client,
                         progress=progress)
    finally:
        sys.setprofile(None)
        close_local_client(client, quietly=True)
        signal.signal(signal.SIGINT, before)
    assert not list(out.glob(".*.lock")), sorted(path.name for path in out.iterdir())
    record = json.loads((out / "particle-detect-run.json").read_text())
    assert record["interrupted"] is True
    assert [Path(entry["file"]).name for entry in record["left"]] == ["b_long.tif"]


def test_the_command_lines_stop_takes_a_sigint_repeated_at_once_as_the_same_stop():
    # timeout -s INT sends SIGINT to the process, then to its group: the repeat raised again while the stopped run
    # wrote its record and released its outputs, and neither was done.
    from napari_particle_detect.cli.main import _stop_signals_as_ctrl_c

    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # the handler the command line replaces
    stopped_by: list[int] = []
    unwound = False
    try:
        with _stop_signals_as_ctrl_c(stopped_by):
            try:
                signal.raise_signal(signal.SIGINT)
            except KeyboardInterrupt:
                try:
                    signal.raise_signal(signal.SIGINT)  # the repeat, while the stop is handled
                except KeyboardInterrupt:  # failing this test, not stopping the session
                    pytest.fail("a SIGINT repeated at once was acted on as a second stop")
                unwound = True
    finally:
        signal.signal(signal.SIGINT, before)
    assert unwound and stopped_by == []  # Ctrl-C's line names no signal, as ever


def test_a_stop_while_skipped_files_are_told_writes_the_interrupted_record(tmp_path, tiny_model):  # noqa: F811
    small = write_small(tmp_path / "in")
    options = DetectOptions(diameter=12.0, device="cpu", threads=1)
    out = tmp_path / "out"
    assert detect_files([small], out, options, tiny_model).ok

    def stopping(path: Path, status: str) -> None:  # an error in the caller's progress, or a Ctrl-C there
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        detect_files([small, tmp_path / "in" / "gone.tif"], out, options, tiny_model, progress=stopping)
    record = json.loads((out / "particle-detect-run.json").read_text())  # was the first run's, finished
    assert record["interrupted"] is True
    assert [Path(entry["file"]).name for entry in record["skipped"]] == ["a_small.tif"]
    assert [Path(entry["file"]).name for entry in record["failed"]] == ["gone.tif"]
