"""Outputs moved or copied together with their inputs (a whole folder, sizes and dates kept: ``cp -a``, ``mv``) are
still theirs: a finished folder run's outputs are skipped with their hand edits, a stopped table is gone on from,
and the new place is recorded when an output is next written; a file of that name with another size or date is
still another file. --overwrite, given to replace another file's results, never replaces a table edited by hand:
that takes --replace-edited."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.distributed import detect_files
from napari_particle_detect.files.file_detection import DetectOptions

from test_cli_refusals import refused, run_cli
from test_detect_outputs import edit_by_hand
from test_distributed import write_images
from test_interrupted_movie_detect import FRAMES, STOP_AT, frames_asked, meta_of, stop_after, write_movie  # noqa: F401

COMMON = ("--device", "cpu", "--diameter", "12")
EDITED = "changed since detect wrote it (edited by hand?); move it, or give --replace-edited to replace it"


def detect_told(capsys, *args) -> tuple[int, str]:
    """detect without -q, so its info lines (moved:, frames done before) are on stderr with its errors."""
    code = main(["detect", *map(str, args)])
    return code, capsys.readouterr().err


def copied(source: Path, target: Path) -> Path:
    """``source`` copied as ``cp -a`` copies it: sizes and modification times kept."""
    return Path(shutil.copytree(source, target, copy_function=shutil.copy2))


def test_a_folder_run_copied_elsewhere_is_skipped_with_its_edits_and_overwrite_keeps_them(
        tmp_path, capsys, monkeypatch, light_model):
    old = tmp_path / "old"
    write_images(old / "images", 2)
    (old / "models").mkdir()
    for part in (light_model, light_model.with_suffix(".json")):  # the user's model, copied with the rest
        shutil.copy2(part, old / "models" / part.name)
    common = ("--model", Path("models") / light_model.name, *COMMON)
    monkeypatch.chdir(old)
    assert run_cli(capsys, "detect", "images/", "-o", "results/", *common, "--threshold", "0.5")[0] == 0
    edited = edit_by_hand(Path("results/image_01.csv"))
    monkeypatch.chdir(copied(old, tmp_path / "new place"))

    code, err = detect_told(capsys, "images/", "-o", "results/", *common, "--threshold", "0.5")
    assert code == 0, err
    assert (f"moved: {old / 'images' / 'image_00.tif'} is now {Path('images/image_00.tif')} (same name, size and "
            "date), and 1 more input alike: taken as the same files") in err
    assert "0 done, 2 unchanged and skipped, 0 failed" in err
    assert Path("results/image_01.csv").read_text() == edited
    # --overwrite, given to get past another refusal, does not replace a table edited by hand.
    line = refused(capsys, "detect", "images/", "-o", "results/", *common, "--threshold", "0.45", "--overwrite")
    assert line == f"particle-detect: error: {Path('results/image_01.csv')}: {EDITED}"
    assert Path("results/image_01.csv").read_text() == edited
    code, _, err = run_cli(capsys, "detect", "images/", "-o", "results/", *common, "--threshold", "0.45",
                           "--replace-edited")
    assert code == 0, err
    assert Path("results/image_01.csv").read_text() != edited
    written = meta_of(Path("results/image_00.csv"))["fingerprint"]["input"]["path"]
    assert written == str(Path("images/image_00.tif").resolve())  # the new place, once written again


def test_a_file_of_that_name_with_another_date_is_still_another_files(tmp_path, light_model):
    options = DetectOptions(threshold=0.5, diameter=12.0, device="cpu", threads=1)
    old = tmp_path / "old"
    write_images(old / "images", 1)
    assert detect_files(old / "images", old / "results", options, light_model).ok
    new = copied(old, tmp_path / "new")
    image = new / "images" / "image_00.tif"
    tifffile.imwrite(image, tifffile.imread(image)[::-1])  # another image: same size, written now
    moved_alone = tmp_path / "archive"
    os.rename(copied(old, tmp_path / "third") / "images", moved_alone)  # the images without their results
    for images, results in ((new / "images", new / "results"), (moved_alone, tmp_path / "third" / "results")):
        with pytest.raises(ParticleDetectError, match=r"holds the results of another file, .*old.images.image_00"
                                                      r"\.tif, which .* pass overwrite=True to replace them"):
            detect_files(images, results, options, light_model)


def test_a_stopped_table_moved_with_its_stack_goes_on_from_its_frames(tmp_path, capsys, monkeypatch, light_model,
                                                                     frames_asked):  # noqa: F811
    command = ("ls/stack.tif", "-o", "table.csv", "--model", light_model, "--device", "cpu", "--threshold", "0.35")
    old = tmp_path / "t5"
    write_movie(old / "ls" / "stack.tif")
    monkeypatch.chdir(old)
    with monkeypatch.context() as patch:
        stop_after(patch, STOP_AT, KeyboardInterrupt())
        assert run_cli(capsys, "detect", *command)[0] == 130
    monkeypatch.chdir(tmp_path)
    os.rename(old, tmp_path / "t5 moved")
    monkeypatch.chdir(tmp_path / "t5 moved")
    frames_asked.clear()

    code, err = detect_told(capsys, *command)
    assert code == 0, err
    assert frames_asked == [list(range(STOP_AT, FRAMES))]  # only the frames left
    assert (f"moved: {old / 'ls' / 'stack.tif'} is now {Path('ls/stack.tif')} (same name, size and date): taken "
            "as the same file") in err
    assert f"{Path('ls/stack.tif')}: {STOP_AT} of {FRAMES} frames done before, in table.csv" in err
    assert "unfinished" not in meta_of(Path("table.csv"))
