"""Folder runs as a user reads them: a file another run into the folder finished meanwhile is counted apart from
those unchanged since an earlier run, and listed in the inputs' order in the record (it came after them); an
interrupted volume folder run says how far it got and how to go on, as a 2D run stopped inside a stack does."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from napari_particle_detect.cli import volumes as volume_cli
from napari_particle_detect.cli.main import main
from napari_particle_detect.files import distributed
from napari_particle_detect.files.distributed import RUN_RECORD, detect_files

from helpers import tiny_model_file
from test_distributed import OPTIONS, write_images
from test_volume_folder_failures import DETECT, write_volume


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return tiny_model_file(tmp_path_factory.mktemp("tiny"))


def test_a_file_another_run_finished_meanwhile_is_counted_apart_and_listed_in_the_inputs_order(
        tmp_path, project_home, tiny_model, monkeypatch):
    first, second, third = write_images(tmp_path / "images", 3)
    out = tmp_path / "out"
    detect_files([second], out, OPTIONS, tiny_model)  # done before: skipped as unchanged
    real = distributed.detect_unless_done

    def another_run_finishes_the_first_meanwhile(path, *args, **kwargs):
        if path == first:  # a second terminal's run of it into the same folder, ending before this one gets to it
            detect_files([first], out, OPTIONS, tiny_model)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(distributed, "detect_unless_done", another_run_finishes_the_first_meanwhile)
    summary = detect_files([first, second, third], out, OPTIONS, tiny_model)

    assert summary.skipped == [first, second]
    assert summary.describe() == "1 done, 1 unchanged and skipped, 1 finished by another run, 0 failed"
    record = json.loads((out / RUN_RECORD).read_text())
    assert [entry["output"] for entry in record["skipped"]] == ["image_00.csv", "image_01.csv"]


def test_an_interrupted_volume_folder_run_says_how_far_it_got_and_how_to_go_on(tmp_path, project_home, monkeypatch,
                                                                                 capsys):
    inputs = [write_volume(tmp_path / f"{name}.tif", seed) for seed, name in enumerate("ab", start=1)]
    out = tmp_path / "out"
    real = volume_cli._detect_volume_into

    def ctrl_c_in_the_second(path, *args, **kwargs):
        if path == inputs[1]:
            raise KeyboardInterrupt
        return real(path, *args, **kwargs)

    monkeypatch.setattr(volume_cli, "_detect_volume_into", ctrl_c_in_the_second)
    code = main(["-q", "detect", *map(str, inputs), "--axes", "ZYX", "-o", f"{out}/", *DETECT])

    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 130
    assert last.startswith("particle-detect: interrupted; stopped with 1 of 2 files done, 1 left; "), last
    assert f"are in {out}: run the same command again to go on" in last, last
    assert json.loads((out / RUN_RECORD).read_text())["interrupted"] is True


def test_a_run_stopped_after_another_finished_one_of_its_files_lists_that_file_once(tmp_path, project_home,
                                                                                       tiny_model, monkeypatch):
    first, second = write_images(tmp_path / "images", 2)
    out = tmp_path / "out"
    real = distributed.detect_unless_done

    def another_run_finishes_the_first_then_ctrl_c(path, *args, **kwargs):
        if path == second:
            raise KeyboardInterrupt
        detect_files([first], out, OPTIONS, tiny_model)  # a second terminal's run, ending before this one gets to it
        return real(path, *args, **kwargs)

    monkeypatch.setattr(distributed, "detect_unless_done", another_run_finishes_the_first_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        detect_files([first, second], out, OPTIONS, tiny_model)
    record = json.loads((out / RUN_RECORD).read_text())
    assert [Path(entry["file"]).name for entry in record["skipped"]] == [first.name]
    assert [Path(entry["file"]).name for entry in record["left"]] == [second.name]  # not the first as well
