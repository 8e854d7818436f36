"""``detect --frames``: a few frames of a long stack tried without detecting the rest. The table keeps the stack's
frame numbers, so the tables of several ranges concatenate into the whole stack's; the .json lists the frames
detected; a folder run skips a file done with the same range and redoes one done with another; a run stopped
within a range goes on from the frames done. Ranges that are garbled, name no frame or reach past a file's end are
refused in one line naming the option and the stack's length (rods' and chains' ranges: test_kinds_frames.py;
volumes' time points: test_volume_frames.py). Also: a volume folder run's record names its model as the outputs' fingerprints do (it said null for unet3d)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import napari_particle_detect.detection.prediction as prediction
from napari_particle_detect.files.distributed import RUN_RECORD

from test_cli_refusals import run_cli
from test_interrupted_movie_detect import GO_ON, meta_of, stop_after, write_movie
from test_volume_folder_failures import write_volume

FRAMES = 8
COMMON = ("--device", "cpu", "--threshold", "0.35")


@pytest.fixture
def movie(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return write_movie(Path("data/movie.tif"), frames=FRAMES)


@pytest.fixture
def frames_asked(monkeypatch) -> list:
    """The ``frames`` each detection asked iter_detect for (None: every frame)."""
    asked = []
    real = prediction.iter_detect
    monkeypatch.setattr(prediction, "iter_detect", lambda *a, **k: asked.append(k.get("frames")) or real(*a, **k))
    return asked


def detect(capsys, *args):
    return run_cli(capsys, "detect", *args)


def run_record(folder: str) -> dict:
    return json.loads(Path(folder, RUN_RECORD).read_text())


@pytest.mark.parametrize("options", [(), ("--diameter", "12")], ids=["estimated", "diameter"])
def test_ranges_keep_the_stacks_frame_numbers_and_concatenate_into_the_whole_table(movie, capsys, light_model,
                                                                                   options):
    common = ("--model", light_model, *COMMON, *options)
    assert detect(capsys, movie, "-o", "whole.csv", *common)[0] == 0
    assert detect(capsys, movie, "-o", "first.csv", "--frames", "0:3", *common)[0] == 0
    code, _, err = detect(capsys, movie, "-o", "rest.csv", "--frames", "-5:", *common)  # the last five: from 3
    assert code == 0, err

    whole, first, rest = (pd.read_csv(name) for name in ("whole.csv", "first.csv", "rest.csv"))
    assert set(first["frame"]) <= {0, 1, 2} and set(rest["frame"]) <= set(range(3, FRAMES))
    # Sized on the whole stack and, with a diameter, decoded with the look its first frames tell, as the whole run.
    pd.testing.assert_frame_equal(pd.concat([first, rest], ignore_index=True), whole)
    (record,) = meta_of(Path("rest.csv"))["inputs"]
    assert record["frames"] == FRAMES and record["frames_detected"] == list(range(3, FRAMES))
    assert set(record["frames_without_centres"]) <= set(range(3, FRAMES))
    assert "frames_detected" not in meta_of(Path("whole.csv"))["inputs"][0]


PARSED = "particle-detect detect: error: argument --frames: "


@pytest.mark.parametrize(("spec", "line"), [
    ("0:20", "particle-detect: error: data/movie.tif: --frames 0:20 is past its end: it has 8 frames (0 to 7)"),
    ("2,8", "particle-detect: error: data/movie.tif: --frames 2,8 (8) is past its end: it has 8 frames (0 to 7)"),
    ("5:-4", "particle-detect: error: data/movie.tif: --frames 5:-4 names none of its frames: it has 8 frames "
             "(0 to 7)"),
    ("0:4,3", "particle-detect: error: data/movie.tif: --frames 0:4,3 names frame 3 twice; each frame is detected "
              "once"),
    ("1:x", PARSED + "'1:x' is not a frame or a slice; give frames as Python slices, end exclusive, separated by "
                     "commas: 0:10, 5, 0:100:10 or 3,7,9 (see particle-detect detect --help)"),
    ("4:4", PARSED + "'4:4' names no frame (the end is exclusive: 0:10 is frames 0 to 9) (see particle-detect "
                     "detect --help)"),
    ("0:8:0", PARSED + "'0:8:0': a step must be 1 or more (frames are detected in the stack's order) (see "
                       "particle-detect detect --help)"),
])
def test_a_range_garbled_empty_or_past_the_end_is_refused_in_one_line_before_any_work(movie, capsys, light_model,
                                                                                    spec, line):
    try:
        code, _, err = detect(capsys, movie, "-o", "out.csv", f"--frames={spec}", "--model", light_model, *COMMON)
    except SystemExit as parsing:  # refused while parsing, as argparse refuses
        code, err = parsing.code, capsys.readouterr().err
    assert (code, err.strip()) == (2, line)
    assert not Path("out.csv").exists() and not Path("out.json").exists()


def test_a_folder_run_skips_a_file_done_with_the_same_range_and_redoes_it_with_another(movie, capsys, light_model,
                                                                                      frames_asked):
    short = write_movie(Path("data/short.tif"), seed=40, frames=2)
    common = ("--model", light_model, *COMMON, "--diameter", "12")
    code, _, err = detect(capsys, "data", "-o", "out/", "--frames", "2:4", *common)
    # A range past a file's end fails that file, in one line, and the others go on.
    assert code == 1
    assert err.strip().splitlines() == [
        f"particle-detect: failed: {short}: --frames 2:4 is past its end: it has 2 frames (0 to 1)"]
    assert frames_asked[-1] == [2, 3]  # after those that read the particles' look (frame 0 on)
    assert set(pd.read_csv("out/movie.csv")["frame"]) <= {2, 3}
    meta = meta_of(Path("out/movie.csv"))
    assert meta["inputs"][0]["frames_detected"] == [2, 3] and meta["fingerprint"]["options"]["frames"] == "2:4"
    assert run_record("out")["options"]["frames"] == "2:4"

    frames_asked.clear()
    assert detect(capsys, movie, "-o", "out/", "--frames", " 2:4:1 ", *common)[0] == 0  # the same range
    assert frames_asked == [] and [e["file"] for e in run_record("out")["skipped"]] == [str(movie)]
    assert detect(capsys, movie, "-o", "out/", "--frames", "5,7", *common)[0] == 0
    assert frames_asked[-1] == [5, 7] and meta_of(Path("out/movie.csv"))["inputs"][0]["frames_detected"] == [5, 7]
    frames_asked.clear()
    assert detect(capsys, movie, "-o", "out/", *common)[0] == 0  # every frame: another run again
    assert frames_asked == [None]


@pytest.mark.parametrize("folder", [False, True], ids=["one table", "folder"])
def test_a_run_stopped_within_a_range_goes_on_from_its_frames_done(movie, capsys, monkeypatch, light_model,
                                                                  frames_asked, folder):
    common = ("--model", light_model, *COMMON, "--diameter", "12", "--frames", "3:7")
    whole, out = ("whole/", "out/") if folder else ("whole.csv", "out.csv")
    assert detect(capsys, movie, "-o", whole, *common)[0] == 0
    with monkeypatch.context() as patch:
        # Each detection stops at its third frame: the look is read first on frame 0 (and 1 and 2, where frame 0
        # does not tell it), then the range's frames are detected.
        stop_after(patch, 2, KeyboardInterrupt())
        code, _, err = detect(capsys, movie, "-o", out, *common)
    assert code == 130
    table = Path(out, "movie.csv") if folder else Path(out)
    meta = meta_of(table)
    kept = meta["inputs"][0]["frames_detected"]
    assert kept == list(range(3, 3 + len(kept))) and 0 < len(kept) < 4
    if not folder:
        assert err.strip() == (f"particle-detect: interrupted; after {len(kept)} of 4 frames: they are in {out}; "
                               f"{GO_ON}")
    assert meta["unfinished"] is True and set(pd.read_csv(table)["frame"]) <= set(kept)
    assert meta["resume"][0]["frames_to_detect"] == [3, 4, 5, 6]

    frames_asked.clear()
    assert detect(capsys, movie, "-o", out, *common)[0] == 0
    assert frames_asked == [list(range(3 + len(kept), 7))]  # the look kept with the frames done: the frames left
    done = Path(whole, "movie.csv") if folder else Path(whole)
    assert table.read_text() == done.read_text()
    assert meta_of(table)["inputs"] == meta_of(done)["inputs"]


def test_a_volume_folder_runs_record_names_the_model_its_outputs_were_made_with(tmp_path, capsys):
    volume = write_volume(tmp_path / "a.tif", seed=1)
    out = tmp_path / "out"
    code, _, err = detect(capsys, volume, "--axes", "ZYX", "-o", f"{out}/", "--device", "cpu", "--diameter", "10",
                          "--threshold", "0.5")
    assert code == 0, err
    model = run_record(str(out))["model"]
    assert model == meta_of(out / "a.csv")["fingerprint"]["model"] and model["shipped"] == "unet3d"


def test_a_fingerprints_model_is_the_run_records(tmp_path, light_model):
    """One rule names a model in outputs' fingerprints and in folder runs' records: the shipped ones by name and
    content, a user's by path and signatures."""
    from napari_particle_detect.files.file_detection import (
        DetectOptions, input_signature, job_fingerprint, model_fingerprint,
    )
    from napari_particle_detect.shipped import WEIGHTS_DIR, model_digest

    image = write_movie(tmp_path / "m.tif", frames=1)
    light = Path(light_model)
    for options, model, expected in [
        (DetectOptions(), None, {"shipped": "unet", "sha256": model_digest(WEIGHTS_DIR / "unet.pt")}),
        (DetectOptions(kind="rods"), None, {"shipped": "rods", "sha256": model_digest(WEIGHTS_DIR / "rods.pt")}),
        (DetectOptions(), light, {"path": str(light.resolve()), light.name: input_signature(light),
                                  light.with_suffix(".json").name: input_signature(light.with_suffix(".json"))}),
    ]:
        assert job_fingerprint(image, options, model)["model"] == model_fingerprint(model, options.kind) == expected


def test_a_range_starting_before_a_short_stacks_first_frame_says_so():
    # "-10: is past its end" of a 4-frame stack: its start is what lies outside.
    from napari_particle_detect.errors import ParticleDetectError
    from napari_particle_detect.files.frame_ranges import frames_in_range

    with pytest.raises(ParticleDetectError, match=r"^s\.tif: --frames -10: reaches before its start: it has 4 frames "
                                                   r"\(0 to 3\)$"):
        frames_in_range("-10:", 4, "s.tif")
    with pytest.raises(ParticleDetectError, match="0:10 is past its end"):
        frames_in_range("0:10", 4, "s.tif")
