"""Folder runs done again or after a Ctrl-C: a folder of volumes skips the files finished from the same input,
options and model, as a folder of 2D images does (a changed input or option detects the file again); and a 2D
folder run stopped inside a stack says, in its one line, how many frames of which file it kept, and that the same
command goes on from them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tifffile

import napari_particle_detect.detection.volume_detection as volume_detection
from napari_particle_detect.files.distributed import RUN_RECORD
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

from test_cli_refusals import run_cli
from test_interrupted_movie_detect import COMMON, FRAMES, STOP_AT, stop_after, write_movie

SMALL = VolumeConfig(shape=(8, 32, 32), volume_fraction=0.3, diameter=10.0, z_step=2.0)
VOLUME_OPTIONS = ("--diameter", "10", "--device", "cpu", "--runtime", "torch")


def write_volume(path: Path, seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, synthesize_volume(SMALL, seed=seed).image, imagej=True, metadata={"axes": "ZYX"})
    return path


@pytest.fixture
def volumes_detected(monkeypatch) -> list[str]:
    """The names of the volume files detected, in order."""
    detected = []
    real = volume_detection.detect_volume_file

    def recording(path, *args, **kwargs):
        detected.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(volume_detection, "detect_volume_file", recording)
    return detected


def run_record(out: Path) -> dict:
    record = json.loads((out / RUN_RECORD).read_text())
    return {key: [Path(entry["file"]).name for entry in record[key]] for key in ("done", "skipped", "left")}


def test_a_volume_folder_run_again_or_after_ctrl_c_skips_the_files_finished(tmp_path, capsys, monkeypatch,
                                                                            volumes_detected):
    monkeypatch.chdir(tmp_path)
    write_volume(Path("data/a.tif"), seed=1)
    write_volume(Path("data/b.tif"), seed=2)
    assert run_cli(capsys, "detect", "data", "-o", "whole/", *VOLUME_OPTIONS)[0] == 0  # uninterrupted, to compare with

    detecting = volume_detection.detect_volume_file

    def stopped_at_b(path, *args, **kwargs):  # Ctrl-C as b.tif's detection starts
        if Path(path).name == "b.tif":
            raise KeyboardInterrupt
        return detecting(path, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(volume_detection, "detect_volume_file", stopped_at_b)
        assert run_cli(capsys, "detect", "data", "-o", "out/", *VOLUME_OPTIONS)[0] == 130
    assert run_record(Path("out")) == {"done": ["a.tif"], "skipped": [], "left": ["b.tif"]}

    volumes_detected.clear()
    code, _, err = run_cli(capsys, "detect", "data", "-o", "out/", *VOLUME_OPTIONS)
    assert code == 0, err
    assert volumes_detected == ["b.tif"]  # a.tif was finished: it was detected again from its first volume
    assert run_record(Path("out")) == {"done": ["b.tif"], "skipped": ["a.tif"], "left": []}
    for name in ("a", "b"):
        assert Path(f"out/{name}.csv").read_text() == Path(f"whole/{name}.csv").read_text()

    volumes_detected.clear()
    assert run_cli(capsys, "detect", "data", "-o", "out/", *VOLUME_OPTIONS)[0] == 0
    assert volumes_detected == []  # the same run again: nothing to do
    assert run_record(Path("out")) == {"done": [], "skipped": ["a.tif", "b.tif"], "left": []}

    write_volume(Path("data/a.tif"), seed=3)  # the same name, another volume
    assert run_cli(capsys, "detect", "data", "-o", "out/", *VOLUME_OPTIONS)[0] == 0
    assert volumes_detected == ["a.tif"]
    volumes_detected.clear()
    assert run_cli(capsys, "detect", "data", "-o", "out/", *VOLUME_OPTIONS, "--threshold", "0.6")[0] == 0
    assert volumes_detected == ["a.tif", "b.tif"]  # another option: every file again


def test_a_2d_folder_run_stopped_in_a_stack_says_the_frames_it_kept(tmp_path, capsys, monkeypatch, light_model):
    monkeypatch.chdir(tmp_path)
    write_movie(Path("data/movie.tif"))
    second = write_movie(Path("data/second.tif"), seed=50)
    with monkeypatch.context() as patch:
        stop_after(patch, STOP_AT, KeyboardInterrupt(), file="second.tif")
        code, _, err = run_cli(capsys, "detect", "data", "-o", "out/", "--model", light_model, *COMMON)
    assert code == 130
    assert err.strip().splitlines() == [
        f"particle-detect: interrupted; stopped with 1 of 2 files done, 1 left; {STOP_AT} of {FRAMES} frames of "
        f"{second} are kept in out/second.csv: run the same command again to go on"]
