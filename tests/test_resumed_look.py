"""A movie detected with a given diameter, stopped partway and gone on from, decodes its frames left with the
particles' look (ringed or not) where the uninterrupted run read it: on the first frame that told it, which may
be a frame done before the stop, not frame 0 (blank here) nor the first frame left (plain here)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from napari_particle_detect.cli.kinds import write_stack
from napari_particle_detect.detection.look import StackLook
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from test_interrupted_movie_detect import detect, frames_asked, meta_of, stop_after, without_tables  # noqa: F401

STOP_AT = 3  # frames done when the run is stopped: the blank one and two ringed
FRAMES = 9
COMMON = ("--device", "cpu", "--diameter", "16")


@pytest.fixture
def movie(tmp_path, monkeypatch) -> Path:
    """Frame 0 blank, 1-2 ringed (bright-field), 3 plain (the first left), 4-8 ringed: read whole, the look is
    told ringed on frame 1; read from frame 3 on, it would be told plain there, and frames 6-8 would keep a rim's
    weak response each."""
    monkeypatch.chdir(tmp_path)
    plain = benchmark_config("fluorescent", 0.3, shape=(128, 128), radius=8.0)
    ringed = replace(plain, look="brightfield")
    frames = [np.full((128, 128), 1000.0, np.float32)] + [
        synthesize(plain if i == STOP_AT else ringed, seed=i).image.astype(np.float32) for i in range(1, FRAMES)]
    path = Path("data/movie.tif")
    path.parent.mkdir()
    write_stack(path, frames)
    return path


def whole_then_stopped(capsys, monkeypatch, *target: str) -> None:
    """The movie detected uninterrupted into whole/centres.csv, then into ``target`` (its -o) stopped by a Ctrl-C
    after STOP_AT frames."""
    assert detect(capsys, "data/movie.tif", "-o", "whole/centres.csv", *COMMON)[0] == 0
    with monkeypatch.context() as patch:
        stop_after(patch, STOP_AT, KeyboardInterrupt())
        assert detect(capsys, *target, *COMMON)[0] == 130


def test_a_resumed_table_reads_the_look_on_the_frames_done_before(movie, capsys, monkeypatch):
    whole_then_stopped(capsys, monkeypatch, movie, "-o", "out/centres.csv")
    assert meta_of(Path("whole/centres.csv"))["inputs"][0]["ringed"] is True
    code, _, err = detect(capsys, movie, "-o", "out/centres.csv", *COMMON)
    assert code == 0, err
    assert Path("out/centres.csv").read_text() == Path("whole/centres.csv").read_text()
    assert without_tables(meta_of(Path("out/centres.csv"))) == without_tables(meta_of(Path("whole/centres.csv")))


def test_a_resumed_folder_run_keeps_the_look_and_detects_no_frame_again(movie, capsys, monkeypatch, frames_asked):
    whole_then_stopped(capsys, monkeypatch, "data", "-o", "out/")
    (entry,) = meta_of(Path("out/movie.csv"))["resume"]
    assert entry["look"]["ringed"] is True and entry["look"]["core_ring"] is None
    frames_asked.clear()
    assert detect(capsys, "data", "-o", "out/", *COMMON)[0] == 0
    assert frames_asked == [list(range(STOP_AT, FRAMES))]
    assert Path("out/movie.csv").read_text() == Path("whole/centres.csv").read_text()
    assert meta_of(Path("out/movie.csv"))["inputs"][0]["ringed"] is True


def test_an_unfinished_output_without_its_look_reads_it_again_on_the_frames_done(movie, capsys, monkeypatch,
                                                                                frames_asked):
    whole_then_stopped(capsys, monkeypatch, "data", "-o", "out/")
    meta = meta_of(Path("out/movie.csv"))
    del meta["resume"][0]["look"]  # as an earlier version wrote it
    Path("out/movie.json").write_text(json.dumps(meta))
    frames_asked.clear()
    assert detect(capsys, "data", "-o", "out/", *COMMON)[0] == 0
    # Frame 0 with the frames left (it tells most stacks' look); as it told nothing (blank), the frames done from 1
    # on until one told it (frame 1: frame 2 is not waited for), then the frames left.
    left = list(range(STOP_AT, FRAMES))
    assert frames_asked == [[0, *left], list(range(1, STOP_AT)), left]
    assert Path("out/movie.csv").read_text() == Path("whole/centres.csv").read_text()


def test_a_kept_look_tells_untold_from_told_plain_and_refuses_what_it_did_not_write():
    untold, plain = StackLook(12.0), StackLook(12.0)
    plain.ringed = False
    for look in (untold, plain):
        again = StackLook.of_state(json.loads(json.dumps(look.state())))
        assert (again.diameter, again.ringed, again.core_ring) == (look.diameter, look.ringed, look.core_ring)
    for state in (None, [], {"ringed": True}, {**plain.state(), "ringed": 1}, {**plain.state(), "diameter": -1},
                  {**plain.state(), "core_ring": 20.0}, {**plain.state(), "frame": 0}):
        assert StackLook.of_state(state) is None, state
