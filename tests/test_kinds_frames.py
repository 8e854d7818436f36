"""``detect --kind rods|chains --frames``: a few frames of a long stack tried without detecting the rest, as for
spheres (test_detect_frame_range.py). The table keeps the stack's frame numbers, the .json lists the frames detected,
a folder run skips a file done with the same range and redoes one done with another, and a range past the stack's
end is refused in one line naming the file. Also: a chains .json records its beads' size under the spheres' names
(``diameter_px``, ``rescale_factor``), and an output that recorded the earlier ones is still skipped as finished."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import napari_particle_detect.detection.kinds_prediction as kinds_prediction
from napari_particle_detect.cli.kinds import write_stack
from napari_particle_detect.files.distributed import RUN_RECORD
from napari_particle_detect.synthetic.chains import benchmark_chain_config, synthesize_chains
from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods

from test_cli_refusals import run_cli

FRAMES = 4
COMMON = ("--device", "cpu")
DRAW = {"rods": lambda seed: synthesize_rods(benchmark_rod_config("fluorescent", 0.15, shape=(96, 96)), seed=seed),
        "chains": lambda seed: synthesize_chains(benchmark_chain_config("fluorescent", 0.3, shape=(96, 96)), seed=seed)}


@pytest.fixture(params=["rods", "chains"])
def kind(request) -> str:
    return request.param


@pytest.fixture
def stack(tmp_path, monkeypatch, kind) -> Path:
    monkeypatch.chdir(tmp_path)
    path = Path("data/stack.tif")
    path.parent.mkdir()
    write_stack(path, [DRAW[kind](seed).image for seed in range(FRAMES)])
    return path


@pytest.fixture
def frames_run(monkeypatch) -> list:
    """How many frames each run put through the network (kinds_prediction.predict_maps: once per frame)."""
    runs = [0]
    real = kinds_prediction.predict_maps

    def counted(*args, **kwargs):
        runs[-1] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(kinds_prediction, "predict_maps", counted)
    return runs


def detect(capsys, *args):
    return run_cli(capsys, "detect", *args, *COMMON)


def meta_of(table: str | Path) -> dict:
    return json.loads(Path(table).with_suffix(".json").read_text())


def tables_of(output: str, kind: str) -> list[pd.DataFrame]:
    """The output's table and, of chains, its per-chain table."""
    return [pd.read_csv(output)] + ([pd.read_csv(Path(output).with_suffix(".chains.csv"))] if kind == "chains" else [])


def test_a_range_detects_only_its_frames_and_keeps_the_stacks_frame_numbers(stack, capsys, kind, frames_run):
    assert detect(capsys, stack, "-o", "whole.csv", "--kind", kind)[0] == 0
    assert frames_run == [FRAMES]
    frames_run.append(0)
    code, _, err = detect(capsys, stack, "-o", "part.csv", "--kind", kind, "--frames", "1:3")
    assert code == 0, err
    assert frames_run[-1] == 2

    for whole, part in zip(tables_of("whole.csv", kind), tables_of("part.csv", kind)):
        assert len(part) and set(part["frame"]) <= {1, 2}
        pd.testing.assert_frame_equal(part, whole[whole["frame"].isin([1, 2])].reset_index(drop=True))
    (record,) = meta_of("part.csv")["inputs"]
    assert record["frames"] == FRAMES and record["frames_detected"] == [1, 2]
    assert set(record["frames_without_centres"]) <= {1, 2}
    assert "frames_detected" not in meta_of("whole.csv")["inputs"][0]


def test_the_last_frames_keep_their_numbers_in_the_stack(stack, capsys, kind):
    code, _, err = detect(capsys, stack, "-o", "last.csv", "--kind", kind, "--frames", "-1:")
    assert code == 0, err
    assert set(pd.read_csv("last.csv")["frame"]) == {FRAMES - 1}
    assert meta_of("last.csv")["inputs"][0]["frames_detected"] == [FRAMES - 1]


def test_a_range_past_the_stacks_end_is_refused_in_one_line_naming_the_file(stack, capsys, kind, frames_run):
    code, _, err = detect(capsys, stack, "-o", "out.csv", "--kind", kind, "--frames", "2:9")
    assert (code, err.strip()) == (2, f"particle-detect: error: {stack}: --frames 2:9 is past its end: it has "
                                      f"{FRAMES} frames (0 to {FRAMES - 1})")
    assert frames_run == [0] and not list(Path().glob("out.*"))


def test_a_folder_run_skips_a_file_done_with_the_same_range_and_redoes_it_with_another(stack, capsys, kind,
                                                                                      frames_run):
    assert detect(capsys, "data", "-o", "out/", "--kind", kind, "--frames", "1:3")[0] == 0
    meta = meta_of("out/stack.csv")
    assert meta["inputs"][0]["frames_detected"] == [1, 2] and meta["fingerprint"]["options"]["frames"] == "1:3"
    assert frames_run == [2]

    frames_run.append(0)
    assert detect(capsys, "data", "-o", "out/", "--kind", kind, "--frames", " 1:3:1 ")[0] == 0  # the same range
    assert frames_run[-1] == 0
    assert [e["file"] for e in json.loads(Path("out", RUN_RECORD).read_text())["skipped"]] == [str(stack)]
    assert detect(capsys, "data", "-o", "out/", "--kind", kind, "--frames", "3")[0] == 0
    assert frames_run[-1] == 1 and meta_of("out/stack.csv")["inputs"][0]["frames_detected"] == [3]
    assert set(pd.read_csv("out/stack.csv")["frame"]) <= {3}


def test_a_chains_record_names_the_beads_size_as_a_spheres_record_does(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("data").mkdir()
    write_stack(Path("data/beads.tif"), [DRAW["chains"](seed).image for seed in range(2)])
    assert detect(capsys, "data", "-o", "out/", "--kind", "chains")[0] == 0
    meta = meta_of("out/beads.csv")
    (record,) = meta["inputs"]
    assert {"diameter_px", "rescale_factor", "diameter_source"} <= set(record)
    assert not {"diameter", "scale"} & set(record)

    # An output of an earlier version, which recorded them as diameter and scale, is finished all the same.
    record["diameter"], record["scale"] = record.pop("diameter_px"), record.pop("rescale_factor")
    Path("out/beads.json").write_text(json.dumps(meta, indent=2))
    assert detect(capsys, "data", "-o", "out/", "--kind", "chains")[0] == 0
    assert [e["file"] for e in json.loads(Path("out", RUN_RECORD).read_text())["skipped"]] == ["data/beads.tif"]
