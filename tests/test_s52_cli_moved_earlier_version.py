"""Outputs an earlier version wrote (their .json records no digests of their tables), in a folder of images and
results the user moved whole: the first run from the new place says so and records the new place, so the next run
says nothing of it; a table edited by hand before the move is still known as edited (its .json keeps its date)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from napari_particle_detect.files.file_detection import edited_tables

from helpers import tiny_model_file
from test_detect_outputs import edit_by_hand
from test_distributed import write_images
from test_moved_outputs import COMMON, detect_told


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return tiny_model_file(tmp_path_factory.mktemp("s52-moved-model"))


def as_earlier_version_wrote(table: Path) -> None:
    """The .json beside ``table`` without its tables' digests, written after the table as those versions wrote it."""
    record = table.with_suffix(".json")
    meta = json.loads(record.read_text())
    del meta["tables"]
    record.write_text(json.dumps(meta, indent=2))
    later = table.stat().st_mtime + 10
    os.utime(record, (later, later))


def test_an_earlier_versions_moved_outputs_are_said_moved_once_and_an_edited_one_stays_edited(
        tmp_path, capsys, monkeypatch, tiny_model):
    old = tmp_path / "old"
    write_images(old / "images", 2)
    (old / "models").mkdir()
    for part in (tiny_model, tiny_model.with_suffix(".json")):  # the user's model, moved with the rest
        shutil.copy2(part, old / "models" / part.name)
    command = ("images/", "-o", "results/", "--model", Path("models") / tiny_model.name, "--threshold", "0.5", *COMMON)
    monkeypatch.chdir(old)
    assert detect_told(capsys, *command)[0] == 0
    for table in Path("results").glob("*.csv"):
        as_earlier_version_wrote(table)
    edited = edit_by_hand(Path("results/image_01.csv"))
    later = Path("results/image_01.json").stat().st_mtime + 60  # edited well after its .json was written
    os.utime("results/image_01.csv", (later, later))
    new = tmp_path / "new"
    shutil.move(old, new)
    monkeypatch.chdir(new)

    code, err = detect_told(capsys, *command)
    assert code == 0 and f"moved: {old / 'images' / 'image_00.tif'} is now" in err, err
    code, err = detect_told(capsys, *command)
    assert code == 0 and "moved:" not in err and "0 done, 2 unchanged and skipped, 0 failed" in err, err

    record = json.loads(Path("results/image_00.json").read_text())
    assert record["fingerprint"]["input"]["path"] == str(Path("images/image_00.tif").resolve())
    assert edited_tables(Path("results/image_01.csv")) == [Path("results/image_01.csv")]
    assert edited_tables(Path("results/image_00.csv")) == []
    assert Path("results/image_01.csv").read_text() == edited
