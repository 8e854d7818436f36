"""A movie's detection stopped partway (Ctrl-C, a failure at a frame) keeps the frames done, in its table marked
unfinished, and the same command goes on from them: only the frames left are detected, and the table comes out
as an uninterrupted run's. Another input, options or model start over; so does a table edited since."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import napari_particle_detect.detection.prediction as prediction
from napari_particle_detect.cli.kinds import write_stack
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from test_cli_refusals import run_cli

FRAMES = 12
STOP_AT = 5  # frames done when the run is stopped
GO_ON = "run the same command again to go on"


def write_movie(path: Path, seed: int = 0, frames: int = FRAMES) -> Path:
    config = benchmark_config("fluorescent", 0.4, shape=(96, 80))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_stack(path, [synthesize(config, seed=seed + i).image for i in range(frames)])
    return path


@pytest.fixture
def frames_asked(monkeypatch) -> list:
    """The ``frames`` each detection asked iter_detect for (None: every frame)."""
    asked = []
    real = prediction.iter_detect

    def recording(*args, **kwargs):
        asked.append(kwargs.get("frames"))
        return real(*args, **kwargs)

    monkeypatch.setattr(prediction, "iter_detect", recording)
    return asked


def stop_after(monkeypatch, count: int, stop: BaseException, file: str | None = None) -> None:
    """Detection of ``file`` (every file: None) stops with ``stop`` once ``count`` frames are yielded: a Ctrl-C
    (KeyboardInterrupt) there, or a failure at the next frame."""
    real = prediction.iter_detect

    def stopping(image, *args, **kwargs):
        yielded = 0
        for item in real(image, *args, **kwargs):
            if file is None or kwargs.get("name", "").endswith(file):
                if yielded == count:
                    raise stop
                yielded += 1
            yield item

    monkeypatch.setattr(prediction, "iter_detect", stopping)


def detect(capsys, *args):
    return run_cli(capsys, "detect", *args)


def meta_of(table: Path) -> dict:
    return json.loads(table.with_suffix(".json").read_text())


def without_tables(meta: dict) -> dict:
    return {k: v for k, v in meta.items() if k != "tables"}


@pytest.fixture
def movie(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return write_movie(Path("data/movie.tif"))


COMMON = ("--device", "cpu", "--threshold", "0.35")


@pytest.mark.parametrize("options", [(), ("--diameter", "12", "--measure")], ids=["estimated", "diameter-measure"])
def test_ctrl_c_keeps_the_frames_done_and_the_same_command_detects_only_the_rest(
        movie, capsys, monkeypatch, light_model, options):
    common = ("--model", light_model, *COMMON, *options)
    assert detect(capsys, movie, "-o", "whole/centres.csv", *common)[0] == 0  # uninterrupted, to compare with
    with monkeypatch.context() as patch:
        stop_after(patch, STOP_AT, KeyboardInterrupt())
        code, _, err = detect(capsys, movie, "-o", "out/centres.csv", *common)
    assert code == 130
    assert err.strip().splitlines() == [
        f"particle-detect: interrupted; after {STOP_AT} of {FRAMES} frames: they are in out/centres.csv; {GO_ON}"]
    kept = np.genfromtxt("out/centres.csv", delimiter=",", names=True)
    assert set(kept["frame"].astype(int)) == set(range(STOP_AT))
    meta = meta_of(Path("out/centres.csv"))
    assert meta["unfinished"] is True
    assert meta["inputs"] == [{"file": str(movie), "frames": FRAMES, "frames_done": STOP_AT}]
    (entry,) = meta["resume"]
    assert entry["frames_done"] == STOP_AT and entry["frames"] == FRAMES
    assert entry["fingerprint"]["input"]["path"] == str(movie.resolve())
    assert entry["fingerprint"]["options"]["threshold"] == 0.35

    asked = []
    with monkeypatch.context() as patch:
        real = prediction.iter_detect
        patch.setattr(prediction, "iter_detect", lambda *a, **k: asked.append(k.get("frames")) or real(*a, **k))
        code, _, err = detect(capsys, movie, "-o", "out/centres.csv", *common)
    assert code == 0, err
    left = list(range(STOP_AT, FRAMES))
    # The particles' look (ringed or not) kept with the frames done: only the frames left are detected.
    assert asked == [left]
    assert Path("out/centres.csv").read_text() == Path("whole/centres.csv").read_text()
    assert without_tables(meta_of(Path("out/centres.csv"))) == without_tables(meta_of(Path("whole/centres.csv")))


def test_other_options_an_other_input_or_an_edited_table_start_over(movie, capsys, monkeypatch, light_model,
                                                                    frames_asked):
    from napari_particle_detect.cli.main import main

    common = ("--model", light_model, "--device", "cpu")
    # Each said for what it is.
    for changed, why in ((("--threshold", "0.4"), "left unfinished by a run of other options"),
                         ("input", "left unfinished by a run of other inputs"),
                         ("edited", "left unfinished, and edited since")):
        with monkeypatch.context() as patch:
            stop_after(patch, STOP_AT, KeyboardInterrupt())
            assert detect(capsys, movie, "-o", "out/centres.csv", *common, "--threshold", "0.35")[0] == 130
        frames_asked.clear()
        rerun = ("--threshold", "0.35")
        if changed == "input":
            write_movie(movie, seed=100)  # the same name, another movie
        elif changed == "edited":
            Path("out/centres.csv").write_text(Path("out/centres.csv").read_text() + "0,1.0,2.0,0.9\n")
            rerun += ("--replace-edited",)  # without it an edited table is refused (test_detect_outputs)
        else:
            rerun = changed
        code = main(["detect", str(movie), "-o", "out/centres.csv", *map(str, common), *rerun])  # not -q: its info
        err = capsys.readouterr().err
        assert code == 0, err
        assert frames_asked == [None], changed  # every frame, from the first
        assert "unfinished" not in meta_of(Path("out/centres.csv"))
        assert f"out/centres.csv: {why}: detecting from the first frame" in err, changed


def test_a_failure_mid_stack_keeps_the_frames_done_and_says_so(movie, capsys, monkeypatch, light_model,
                                                              frames_asked):
    from napari_particle_detect.errors import ParticleDetectError

    common = ("--model", light_model, *COMMON)
    with monkeypatch.context() as patch:
        stop_after(patch, STOP_AT, ParticleDetectError(f"{movie}: frame {STOP_AT} unreadable"))
        code, _, err = detect(capsys, movie, "-o", "out/centres.csv", *common)
    assert code == 2
    assert err.strip().splitlines() == [
        f"{movie}: failed after {STOP_AT} of {FRAMES} frames: they are in out/centres.csv; {GO_ON}",
        f"particle-detect: error: {movie}: frame {STOP_AT} unreadable"]
    frames_asked.clear()
    assert detect(capsys, movie, "-o", "out/centres.csv", *common)[0] == 0
    assert frames_asked == [list(range(STOP_AT, FRAMES))]
    assert "unfinished" not in meta_of(Path("out/centres.csv"))


def test_a_table_of_several_files_goes_on_at_the_file_and_frame_it_stopped(movie, capsys, monkeypatch, light_model,
                                                                           frames_asked):
    second = write_movie(Path("data/second.tif"), seed=50)
    common = ("--model", light_model, *COMMON)
    assert detect(capsys, movie, second, "-o", "whole/centres.csv", *common)[0] == 0
    with monkeypatch.context() as patch:
        stop_after(patch, STOP_AT, KeyboardInterrupt(), file="second.tif")
        code, _, err = detect(capsys, movie, second, "-o", "out/centres.csv", *common)
    assert code == 130
    assert err.strip().splitlines() == [
        f"particle-detect: interrupted; after {STOP_AT} of {FRAMES} frames of {second}, 1 file before it done: "
        f"they are in out/centres.csv; {GO_ON}"]
    frames_asked.clear()
    assert detect(capsys, movie, second, "-o", "out/centres.csv", *common)[0] == 0
    assert frames_asked == [list(range(STOP_AT, FRAMES))]  # the first movie not at all
    assert Path("out/centres.csv").read_text() == Path("whole/centres.csv").read_text()
    assert without_tables(meta_of(Path("out/centres.csv"))) == without_tables(meta_of(Path("whole/centres.csv")))


def test_a_folder_run_goes_on_in_the_file_it_stopped(movie, capsys, monkeypatch, light_model, frames_asked):
    second = write_movie(Path("data/second.tif"), seed=50)
    common = ("--model", light_model, *COMMON)
    assert detect(capsys, "data", "-o", "whole/", *common)[0] == 0
    with monkeypatch.context() as patch:
        stop_after(patch, STOP_AT, KeyboardInterrupt(), file="second.tif")
        assert detect(capsys, "data", "-o", "out/", *common)[0] == 130
    assert meta_of(Path("out/second.csv"))["resume"][0]["frames_done"] == STOP_AT
    record = json.loads(Path("out/particle-detect-run.json").read_text())
    assert [entry["file"] for entry in record["left"]] == [str(second)]
    frames_asked.clear()
    assert detect(capsys, "data", "-o", "out/", *common)[0] == 0
    assert frames_asked == [list(range(STOP_AT, FRAMES))]  # movie.tif finished and skipped
    for name in ("movie", "second"):
        assert Path(f"out/{name}.csv").read_text() == Path(f"whole/{name}.csv").read_text()
        assert meta_of(Path(f"out/{name}.csv"))["fingerprint"] == meta_of(Path(f"whole/{name}.csv"))["fingerprint"]


def test_a_finished_table_is_detected_again_whole(movie, capsys, light_model, frames_asked):
    common = ("--model", light_model, *COMMON)
    assert detect(capsys, movie, "-o", "out/centres.csv", *common)[0] == 0
    before = Path("out/centres.csv").read_text()
    assert detect(capsys, movie, "-o", "out/centres.csv", *common)[0] == 0
    assert frames_asked == [None, None]  # as before: a finished single table has no resume rule
    assert Path("out/centres.csv").read_text() == before


def test_a_files_time_is_the_seconds_it_took(movie, light_model):
    import time

    from napari_particle_detect.files.file_detection import DetectOptions, detect_file

    began = time.perf_counter()
    result = detect_file(movie, DetectOptions(diameter=12.0, device="cpu"), light_model)
    # It was the clock less the first frame's index (a frame number taken for a start time).
    assert 0 < result.seconds <= time.perf_counter() - began
