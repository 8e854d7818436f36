"""What the command line names and says when it processes many files: detect's -o is a .csv table or a
folder, never a name whose .json another run's would replace; link --sequence is for one field of view's
frames and says when a table's files look otherwise."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from napari_particle_detect.cli.main import main
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import tiny_model_file


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return tiny_model_file(tmp_path_factory.mktemp("naming-model"))


def run_cli(capsys, *args) -> tuple[int, list[str]]:
    code = main([*map(str, args)])
    return code, capsys.readouterr().err.strip().splitlines()


def write_days(folder: Path) -> list[Path]:
    """Two days' folders of one small image each, as a user's data/day1/, data/day2/."""
    days = [folder / "day1", folder / "day2"]
    for seed, day in enumerate(days):
        assert main(["-q", "synth", str(day), "--n", "1", "--shape", "64", "64", "--seed", str(seed)]) == 0
    return days


def naming_refusal(output: Path) -> list[str]:
    return [f"particle-detect: error: {output}: give {output}.csv for one table, or {output}/ for a folder of tables"]


def test_an_output_neither_csv_nor_folder_is_refused_before_any_work(tmp_path, capsys):
    days = write_days(tmp_path / "data")
    for output, inputs in ((tmp_path / "centres.txt", days), (tmp_path / "single", [days[0] / "image_000.tif"])):
        code, lines = run_cli(capsys, "-q", "detect", *inputs, "-o", output, "--model", tmp_path / "no-model.pt")
        # Refused by its name, before the (missing) model is looked for; one image's table alike.
        assert code == 2 and lines == naming_refusal(output)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_dated_runs_keep_their_own_records(tmp_path, capsys, tiny_model):
    """run_2024.12.06 and run_2024.12.07 were tables whose .json, run_2024.12.json, the second run replaced."""
    days = write_days(tmp_path / "data")
    common = ("--model", tiny_model, "--device", "cpu", "--diameter", "8")
    code, lines = run_cli(capsys, "-q", "detect", *days, "-o", tmp_path / "run_2024.12.06", *common)
    assert code == 2 and lines == naming_refusal(tmp_path / "run_2024.12.06")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    for date in ("run_2024.12.06", "run_2024.12.07"):
        code, lines = run_cli(capsys, "-q", "detect", *days, "-o", tmp_path / f"{date}.csv", *common)
        assert code == 0, lines
    for date in ("run_2024.12.06", "run_2024.12.07"):
        record = json.loads((tmp_path / f"{date}.json").read_text())
        assert [Path(run["file"]).parent.name for run in record["inputs"]] == ["day1", "day2"]
    # A name without a suffix is still a folder for several inputs.
    code, lines = run_cli(capsys, "-q", "detect", *days, "-o", tmp_path / "per-file", *common)
    assert code == 0, lines
    assert (tmp_path / "per-file" / "day1" / "image_000.csv").is_file()


def write_frames(folder: Path, shapes: list[tuple[int, int]], unreadable: str | None = None) -> None:
    """PNG frames frame0.png, frame1.png, ... of these sizes; ``unreadable``: an empty file of that name too."""
    folder.mkdir(parents=True)
    for index, shape in enumerate(shapes):
        image = synthesize(benchmark_config("fluorescent", 0.3, shape), seed=index).image
        iio.imwrite(folder / f"frame{index}.png", (255 * (image - image.min()) / np.ptp(image)).astype(np.uint8))
    if unreadable is not None:
        (folder / unreadable).write_bytes(b"")


def test_link_says_sequence_is_for_one_field_of_view_and_warns_of_unlike_files(tmp_path, capsys, tiny_model):
    frames = tmp_path / "fields"
    write_frames(frames, [(64, 64), (64, 64), (48, 80)], unreadable="frame3.png")
    code, lines = run_cli(capsys, "-q", "detect", frames, "-o", tmp_path / "all.csv", "--model", tiny_model,
                          "--device", "cpu", "--diameter", "8", "--threshold", "0.05")
    assert code == 1 and lines == [f"particle-detect: failed: {frames / 'frame3.png'}: not a readable PNG file "
                                   "(empty file)"]
    code, lines = run_cli(capsys, "link", tmp_path / "all.csv", "-o", tmp_path / "tracks.csv")
    assert code == 2 and lines == [f"particle-detect: error: {tmp_path / 'all.csv'}: its 3 files hold one frame "
                                   "each, so linked file by file every track would be one frame long; --sequence is "
                                   "only for a time series of one field of view (one file per frame), never for "
                                   "different images"]
    code, lines = run_cli(capsys, "link", tmp_path / "all.csv", "-o", tmp_path / "tracks.csv", "--sequence")
    assert code == 0, lines
    assert lines[1:3] == [
        f"{tmp_path / 'all.csv'}: --sequence: detect failed on 1 file, its frame left empty: "
        f"{frames / 'frame3.png'} (frame 3)",
        f"{tmp_path / 'all.csv'}: --sequence: the files' images have 2 different sizes ({frames / 'frame0.png'} "
        f"64 x 64 px, {frames / 'frame2.png'} 48 x 80 px): different images, not the frames of one field of view; "
        "their tracks join unrelated particles"]

    # Frames of one field of view, every one detected: nothing to warn of.
    movie = tmp_path / "movie"
    write_frames(movie, [(64, 64)] * 3)
    code, lines = run_cli(capsys, "-q", "detect", movie, "-o", tmp_path / "movie.csv", "--model", tiny_model,
                          "--device", "cpu", "--diameter", "8", "--threshold", "0.05")
    assert code == 0, lines
    code, lines = run_cli(capsys, "link", tmp_path / "movie.csv", "-o", tmp_path / "movie-tracks.csv", "--sequence")
    assert code == 0 and len(lines) == 2 and not any("--sequence:" in line for line in lines), lines
