"""A folder of images and results moved together (``cp -a``, ``mv``) is said moved once: the run that finds it skips
the finished outputs and records their new place in each .json (the input's path, and a model file of the user's
moved with them), so every later run says nothing of it. The tables are not touched, and one edited by hand is still
known as edited."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from napari_particle_detect.files.distributed import detect_files
from napari_particle_detect.files.file_detection import DetectOptions

from test_cli_refusals import refused
from test_detect_outputs import edit_by_hand
from test_distributed import write_images
from test_moved_outputs import COMMON, EDITED, copied, detect_told


def test_a_moved_folder_run_is_said_moved_once_and_its_edited_table_stays_edited(tmp_path, capsys, monkeypatch,
                                                                                   light_model):
    old = tmp_path / "old"
    write_images(old / "images", 2)
    (old / "models").mkdir()
    for part in (light_model, light_model.with_suffix(".json")):  # the user's model, moved with the rest
        shutil.copy2(part, old / "models" / part.name)
    command = ("images/", "-o", "results/", "--model", Path("models") / light_model.name, *COMMON)
    monkeypatch.chdir(old)
    assert detect_told(capsys, *command)[0] == 0
    edited = edit_by_hand(Path("results/image_01.csv"))
    monkeypatch.chdir(copied(old, tmp_path / "new place"))
    tables = {path: path.read_bytes() for path in Path("results").glob("*.csv")}
    digests = {path: json.loads(path.with_suffix(".json").read_text())["tables"] for path in tables}

    code, err = detect_told(capsys, *command)
    assert code == 0 and f"moved: {old / 'images' / 'image_00.tif'} is now" in err, err
    code, err = detect_told(capsys, *command)
    assert code == 0 and "moved:" not in err and "0 done, 2 unchanged and skipped, 0 failed" in err, err

    assert {path: path.read_bytes() for path in tables} == tables
    record = json.loads(Path("results/image_00.json").read_text())
    assert record["fingerprint"]["input"]["path"] == str(Path("images/image_00.tif").resolve())
    assert record["fingerprint"]["model"]["path"] == str(Path("models", light_model.name).resolve())
    assert record["model_file"] == str(Path("models", light_model.name).resolve())
    assert {path: json.loads(path.with_suffix(".json").read_text())["tables"] for path in tables} == digests
    line = refused(capsys, "detect", *command, "--threshold", "0.45", "--overwrite")
    assert line == f"particle-detect: error: {Path('results/image_01.csv')}: {EDITED}"
    assert Path("results/image_01.csv").read_text() == edited


def test_detect_files_says_a_moved_folder_moved_once(tmp_path, caplog, light_model):
    options = DetectOptions(threshold=0.5, diameter=12.0, device="cpu", threads=1)
    old = tmp_path / "old"
    write_images(old / "images", 1)
    assert detect_files(old / "images", old / "results", options, light_model).ok
    new = tmp_path / "new"
    shutil.move(old, new)

    said = []
    for _ in range(2):
        caplog.clear()
        with caplog.at_level(logging.INFO):
            assert detect_files(new / "images", new / "results", options, light_model).skipped
        said.append([record.getMessage() for record in caplog.records if record.getMessage().startswith("moved:")])
    assert len(said[0]) == 1 and said[1] == []
