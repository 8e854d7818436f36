"""Many-file runs of the command line: a folder run stopped by Ctrl-C between its files says what it kept and how to
go on, as one stopped inside a stack does; a local cluster's workers' warnings come back to be said above the progress
bar, not into its line; a folder of stacks whose metadata names no axes is said so in one line, not one a file."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import tifffile

from napari_particle_detect.cli import volumes as volume_cli
from napari_particle_detect.cli.main import build_parser
from napari_particle_detect.files.distributed import _detect_job_telling, _said_here
from napari_particle_detect.files.file_detection import DetectOptions
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from test_cli_refusals import run_cli
from test_interrupted_movie_detect import COMMON, stop_after


def write_images(folder: Path, names: str) -> list[Path]:
    folder.mkdir(parents=True)
    config = benchmark_config("fluorescent", 0.4, shape=(64, 64))
    paths = [folder / f"{name}.tif" for name in names]
    for seed, path in enumerate(paths):
        tifffile.imwrite(path, synthesize(config, seed=seed).image)
    return paths


def test_a_folder_run_stopped_between_files_says_how_many_it_finished_and_how_to_go_on(
        tmp_path, capsys, monkeypatch, light_model):
    monkeypatch.chdir(tmp_path)
    write_images(Path("data"), "ab")
    stop_after(monkeypatch, 0, KeyboardInterrupt(), file="b.tif")  # a 2D image: nothing of it is kept
    code, _, err = run_cli(capsys, "detect", "data", "-o", "out/", "--model", light_model, "--diameter", "12",
                           "--runtime", "torch", *COMMON)
    # Before: "particle-detect: interrupted" alone, though a file was finished and a run again skips them.
    assert (code, err.strip().splitlines()) == (130, [
        "particle-detect: interrupted; stopped with 1 of 2 files done, 1 left; the finished files' outputs are in "
        "out: run the same command again to go on (finished files are skipped)"])


def test_a_workers_warnings_come_back_with_its_file_to_be_said_above_the_bar(tmp_path, capsys, monkeypatch,
                                                                            light_model, caplog):
    """A local cluster's worker (a process with no logging set up) wrote its warnings to the terminal it shares with
    the command line, into the progress bar's line: they now come back with the file's result, said by the caller,
    whose logging puts them above its bar."""
    # 128 px: a 64 px image is too small for its ramp to be told from the particles.
    image = synthesize(benchmark_config("fluorescent", 0.4, shape=(128, 128)), seed=0).image.astype(np.float64)
    ramp = tmp_path / "ramp.tif"  # lit unevenly: its detection warns, naming it
    image = 3000 * (image - image.min()) / np.ptp(image)
    tifffile.imwrite(ramp, (20000 + image + np.linspace(0, 24000, image.shape[1])[None, :]).astype(np.uint16))
    options = DetectOptions(diameter=12.0, device="cpu", runtime="torch")
    monkeypatch.setattr(logging.getLogger(), "handlers", [])  # as in a worker's process
    told = _detect_job_telling(ramp, options, light_model, tmp_path / "ramp.csv", "data/ramp.tif")
    assert capsys.readouterr().err == ""  # before: the warning, written into the bar's line
    monkeypatch.undo()
    with caplog.at_level(logging.WARNING):
        assert _said_here(told).path == ramp
    assert [(record.levelno, record.getMessage().split(":")[0]) for record in caplog.records] == [
        (logging.WARNING, "data/ramp.tif")]
    assert "uneven illumination" in caplog.records[0].getMessage()


def test_a_folder_of_stacks_without_axes_is_said_to_be_read_as_stacks_in_one_line(tmp_path, caplog):
    """Before: one line per file before the bar, a hundred for a folder of a hundred stacks."""
    paths = [tmp_path / f"s{index}.tif" for index in range(4)]
    for frames, path in zip((2, 2, 3, 2), paths):
        tifffile.imwrite(path, np.zeros((frames, 16, 16), np.uint8), photometric="minisblack")
    args = build_parser().parse_args(["detect", *map(str, paths), "-o", str(tmp_path / "out")])
    with caplog.at_level(logging.INFO):
        assert volume_cli.detect_volumes_if_any(args, paths) is None
    assert [record.getMessage() for record in caplog.records] == [
        f"4 files ({paths[0]}, {paths[1]}, {paths[2]} and 1 more): read as stacks of 2 to 3 2D frames (their metadata "
        "names no axes); give --axes ZYX if each is one volume"]


def test_a_run_stopped_once_every_file_was_done_says_no_more_is_left(tmp_path):
    # A Ctrl-C after the last file (as the run record is written) said "8 of 8 files done, 0 left ... run the same
    # command again to go on".
    from napari_particle_detect.files.distributed import FilesSummary, finished_files_line

    summary = FilesSummary(skipped=[tmp_path / "a.tif", tmp_path / "b.tif"])
    assert finished_files_line(summary, tmp_path) == f"stopped after every file was done; their outputs are in {tmp_path}"
    summary.left.append(tmp_path / "c.tif")
    assert "run the same command again to go on" in finished_files_line(summary, tmp_path)
