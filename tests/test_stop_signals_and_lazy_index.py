"""A run stopped by SIGTERM (a batch system's time limit, ``timeout``, ``kill``) or SIGHUP (a closed terminal) keeps
what it did as Ctrl-C does and says so in one line, exit status 128 + the signal; the handlers before come back after
the run. A lazy TIFF stack indexed with anything but an int reads only the frames asked for, as numpy indexes the
whole stack. A folder run's record names its model as the outputs' fingerprints do."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest
import tifffile

import napari_particle_detect.detection.prediction as prediction
from napari_particle_detect import stop_signals
from napari_particle_detect.cli.kinds import write_stack
from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.io import LazyTiffStack, read_image
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers_proc import particle_detect_argv
from test_cluster_run_counts_and_crashes import detect_command
from test_cluster_user_audit import finished, until
from test_distributed import tiny_model, write_images  # noqa: F401 - tiny_model: the module's fixture
from test_interrupted_movie_detect import write_movie

GO_ON = "run the same command again to go on"
COMMON = ("--device", "cpu", "--diameter", "12", "--threshold", "0.3")
# Far more frames than a run does between its first frame shown and a signal sent then (tens a second): it is still
# going when the signal comes, however busy the machine. Ten frames over and over, written at once.
LONG_RUN_FRAMES = 400
# stop_signals.SAME_STOP_S where a test sends one stop signal: the stopped command waits that window out before it ends,
# a second of each such test by default.
ONE_STOP_S = 0.1


def cli_in(folder: Path, *args: str, same_stop_s: float | None = None) -> subprocess.Popen:
    """``particle-detect ARGS`` in a process of its own working in ``folder``, its stderr piped; ``same_stop_s`` as
    particle_detect_argv takes it."""
    env = {**os.environ, "HOME": str(folder), "NAPARI_PARTICLE_DETECT_HOME": str(folder),
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(particle_detect_argv(*args, same_stop_s=same_stop_s), cwd=folder, env=env,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def stderr_read_aside(process: subprocess.Popen) -> tuple[list[str], threading.Thread]:
    """What ``process`` writes to stderr, gathered as it comes (its progress bar's updates end in a CR), and the
    thread reading it, which ends with the process."""
    seen: list[str] = []

    def read() -> None:
        for chunk in iter(lambda: process.stderr.read(1), ""):
            seen.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return seen, reader


def test_sigterm_from_outside_keeps_the_frames_done_and_says_so_in_one_line(tmp_path, tiny_model):
    config = benchmark_config("fluorescent", 0.4, shape=(96, 80))
    frames = np.stack([synthesize(config, seed=seed).image for seed in range(10)])
    write_stack(tmp_path / "movie.tif", list(np.tile(frames, (LONG_RUN_FRAMES // len(frames), 1, 1))))
    cli = cli_in(tmp_path, "detect", "movie.tif", "-o", "out/centres.csv", "--model", str(tiny_model), *COMMON,
                 same_stop_s=ONE_STOP_S)
    try:
        err, reader = stderr_read_aside(cli)
        # The bar showing a frame done.
        assert until(lambda: re.search(rf"\b[1-9]\d*/{LONG_RUN_FRAMES}\b", "".join(err)) or cli.poll() is not None,
                     120)
        cli.send_signal(signal.SIGTERM)  # as a batch system's time limit, or timeout
        cli.wait(60)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    reader.join(10)
    last = "".join(err).replace("\r", "\n").strip().splitlines()[-1]
    said = re.fullmatch(rf"particle-detect: interrupted by SIGTERM; after (\d+) of {LONG_RUN_FRAMES} frames: they are "
                        rf"in out/centres.csv; {GO_ON}", last)
    assert cli.returncode == 143 and said, (cli.returncode, "".join(err))
    done = int(said.group(1))
    kept = np.genfromtxt(tmp_path / "out/centres.csv", delimiter=",", names=True)
    assert set(kept["frame"].astype(int)) == set(range(done))
    meta = json.loads((tmp_path / "out/centres.json").read_text())
    assert meta["unfinished"] is True and meta["resume"][0]["frames_done"] == done


@pytest.mark.parametrize("stop, status", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)], ids=["TERM", "HUP"])
def test_a_stop_signal_keeps_the_frames_done_and_the_same_command_goes_on_to_the_uninterrupted_table(
        tmp_path, tiny_model, monkeypatch, capsys, stop, status):
    monkeypatch.chdir(tmp_path)
    write_movie(Path("movie.tif"), frames=6)

    def command(output: str) -> list[str]:
        return ["-q", "detect", "movie.tif", "-o", output, "--model", str(tiny_model), *COMMON]

    assert main(command("whole.csv")) == 0  # to compare with
    monkeypatch.setattr(stop_signals, "SAME_STOP_S", ONE_STOP_S)
    real = prediction.iter_detect

    def signalled_after_two_frames(*args, **kwargs):
        for done, item in enumerate(real(*args, **kwargs)):
            if done == 2:
                # The signal itself, to this process: where nothing handles it, it ends the process, pytest and all.
                assert callable(signal.getsignal(stop)), f"{stop.name} would end the process"
                signal.raise_signal(stop)
            yield item

    before = signal.signal(stop, lambda signum, frame: None)  # a program's own, using the library
    try:
        mine = signal.getsignal(stop)
        with monkeypatch.context() as patch:
            patch.setattr(prediction, "iter_detect", signalled_after_two_frames)
            code = main(command("out.csv"))
        after = signal.getsignal(stop)
    finally:
        signal.signal(stop, before)
    assert (code, capsys.readouterr().err.strip().splitlines()) == (status, [
        f"particle-detect: interrupted by {stop.name}; after 2 of 6 frames: they are in out.csv; {GO_ON}"])
    assert after is mine  # the run's handler gone with the run
    assert set(np.genfromtxt("out.csv", delimiter=",", names=True)["frame"].astype(int)) == {0, 1}
    assert json.loads(Path("out.json").read_text())["unfinished"] is True
    assert main(command("out.csv")) == 0
    assert Path("out.csv").read_text() == Path("whole.csv").read_text()


def test_sigterm_to_a_local_clusters_run_says_one_line_and_writes_the_record(tmp_path, tiny_model):
    write_images(tmp_path / "in", 8)
    out = tmp_path / "out"
    cli = detect_command(tmp_path, tiny_model, out, same_stop_s=ONE_STOP_S)  # --workers 1, a process group of its own
    try:
        assert until(lambda: cli.poll() is not None or finished(out) >= 1, 120) and cli.poll() is None
        os.killpg(cli.pid, signal.SIGTERM)  # as a batch system's time limit or timeout: every process of the run
        err = cli.communicate(timeout=60)[1]
    finally:
        if cli.poll() is None:
            os.killpg(cli.pid, signal.SIGKILL)
            cli.wait()
    # The workers neither died mid-file nor printed tracebacks: the run closed them.
    assert (cli.returncode, err.strip().splitlines()) == (143, ["particle-detect: interrupted by SIGTERM"]), err
    assert json.loads((out / "particle-detect-run.json").read_text())["interrupted"] is True


# ---- a lazy TIFF stack indexed as napari and dask index it -------------------------------------------------------
STACK = np.arange(7 * 4 * 5, dtype=np.uint16).reshape(7, 4, 5)
# Ints, slices, lists and arrays of frames, masks, Ellipsis, None, and tuples of them with the other axes' indices.
KEYS = [3, -1, np.int64(2), (5,), (-2,), slice(1, 4), slice(None, None, -3), slice(5, 1, -2), slice(9, 20),
        (slice(5, 6), slice(None), slice(None)), [4, 0, 4], np.array([[1, 2], [6, 6]]),
        [True, False, True] * 2 + [False], [], Ellipsis, (Ellipsis, 2), (Ellipsis, 1, 2), (2, Ellipsis),
        (Ellipsis, 1, 2, 3), (None, 3),
        (None, slice(1, 3), None), (1, [0, 2], [1, 3]), ([0, 2], 1, [1, 3]), (slice(0, 2), [1, 2], [3, 4]),
        ([1, 3], slice(None), [0, 4]), True, (3, STACK[0] % 2 == 0), np.array(4), (np.array(2), [1, 2]), (),
        ([[0, 1], [2, 3]], [[1, 1], [2, 2]]), (-1, -1, -1), (slice(None), 0), STACK % 3 == 0]


@pytest.fixture
def lazy_stack(tmp_path) -> LazyTiffStack:
    tifffile.imwrite(tmp_path / "stack.tif", STACK)
    with read_image(tmp_path / "stack.tif", lazy=True) as stack:
        assert isinstance(stack, LazyTiffStack)
        yield stack


@pytest.mark.parametrize("key", KEYS, ids=map(repr, KEYS))
def test_any_key_gives_what_numpy_gives_for_the_whole_stack(lazy_stack, key):
    got, want = lazy_stack[key], STACK[key]
    assert (got.shape, got.dtype) == (want.shape, want.dtype) and np.array_equal(got, want)


@pytest.mark.parametrize("key", [7, -8, (7,), [0, 7], 1.5, (0, 0, 0, 0), [True, False], (Ellipsis, Ellipsis)],
                         ids=repr)
def test_a_key_numpy_refuses_is_refused_alike(lazy_stack, key):
    with pytest.raises(IndexError) as numpy_says:
        STACK[key]
    with pytest.raises(IndexError, match=re.escape(str(numpy_says.value))):
        lazy_stack[key]


def test_iterating_over_the_stack_gives_its_frames(lazy_stack):
    assert np.array_equal(np.stack(list(lazy_stack)), STACK)


def stack_readable_only_at(path: Path, frames: set[int]) -> None:
    """A compressed stack whose every page but ``frames`` is garbage: reading any other fails."""
    tifffile.imwrite(path, STACK, compression="zlib")
    with tifffile.TiffFile(path) as tif:
        spoilt = [(page.dataoffsets[0], page.databytecounts[0]) for index, page in enumerate(tif.pages)
                  if index not in frames]
    with open(path, "r+b") as handle:
        for offset, size in spoilt:
            handle.seek(offset)
            handle.write(b"\xff" * size)


@pytest.mark.parametrize("key, frames", [((5,), {5}), ((slice(5, 6), slice(None), slice(None)), {5}),
                                         ((-2, Ellipsis), {5}), ([5, 2, 5], {2, 5}), (slice(2, 6, 3), {2, 5}),
                                         ((np.int64(5), slice(1, 3), [0, 4]), {5})], ids=repr)
def test_only_the_frames_asked_are_read(tmp_path, key, frames):
    stack_readable_only_at(tmp_path / "stack.tif", frames)
    with read_image(tmp_path / "stack.tif", lazy=True) as stack:
        with pytest.raises(ParticleDetectError, match="cannot read frame"):  # the others are garbage indeed
            np.asarray(stack)
        assert np.array_equal(stack[key], STACK[key])


# ---- a folder run's record --------------------------------------------------------------------------------------
def test_a_folder_runs_record_names_the_model_as_each_files_fingerprint(tmp_path, capsys):
    write_images(tmp_path / "in", 1)
    out = tmp_path / "out"
    assert main(["-q", "detect", str(tmp_path / "in"), "-o", f"{out}/", "--device", "cpu", "--diameter", "12"]) == 0
    record = json.loads((out / "particle-detect-run.json").read_text())
    fingerprint = json.loads((out / "image_00.json").read_text())["fingerprint"]
    assert record["model"] == fingerprint["model"] and record["model"]["shipped"] == "unet"
