"""``detect --frames`` on volumes: it picks time points of a series (TZYX), as it picks frames of a 2D stack. Before,
every volume was refused ("a volume is detected whole, every time point of a series: run it without --frames"), so
a confocal user wanting 10 of 200 time points detected all 200. Rows keep the series' numbers, the .json lists the
time points detected, a ZYX file has one (frame 0), and a folder run redoes an output of other time points. Also:
one range written in another order (``9,7,3`` and ``3,7,9``) is one run, and a series with NaN gaps fills each
volume's once (the first one's was filled twice) and says the share missing once per file, not once per volume."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

import napari_particle_detect.detection.preprocessing as preprocessing
from napari_particle_detect.files.distributed import RUN_RECORD
from napari_particle_detect.synthetic.volumes import synthesize_volume

from test_cli_refusals import run_cli
from test_interrupted_movie_detect import meta_of
from test_volume_folder_failures import DETECT, SMALL, write_volume

TIME_POINTS = 3


def write_series(path: Path, gaps: bool = False) -> Path:
    """A small ImageJ series (TZYX) of TIME_POINTS volumes; with ``gaps``, float32 with a NaN slab in each."""
    series = np.stack([synthesize_volume(SMALL, seed=10 + t).image for t in range(TIME_POINTS)]).astype(np.float32)
    if gaps:
        series[:, :, :, 14:17] = np.nan
    tifffile.imwrite(path, series, imagej=True, metadata={"axes": "TZYX"})
    return path


def test_time_points_of_a_series_keep_their_numbers_and_are_recorded(tmp_path, capsys, project_home):
    series = write_series(tmp_path / "series.tif")
    whole, part = tmp_path / "whole.csv", tmp_path / "part.csv"
    assert run_cli(capsys, "detect", series, "-o", whole, *DETECT)[0] == 0

    code, _, err = run_cli(capsys, "detect", series, "-o", part, "--frames", "1:", *DETECT)

    assert code == 0, err  # was 2: "--frames picks frames of 2D stacks; a volume is detected whole"
    every = pd.read_csv(whole)
    expected = every[every["frame"] >= 1].reset_index(drop=True)
    assert set(expected["frame"]) == {1, 2}  # both time points hold centres: the comparison says something
    pd.testing.assert_frame_equal(pd.read_csv(part), expected)
    (record,) = meta_of(part)["inputs"]
    assert record["frames_detected"] == [1, 2] and record["volumes"] == TIME_POINTS
    assert "frames_detected" not in meta_of(whole)["inputs"][0]


@pytest.mark.parametrize(("series", "spec", "said"), [
    (False, "1", "--frames 1 is past its end: it is one volume (frame 0)"),
    (False, "0:2", "--frames 0:2 is past its end: it is one volume (frame 0)"),
    (True, "2,5", "--frames 2,5 (5) is past its end: it has 3 frames (0 to 2)"),
], ids=["a volume's frame 1", "a volume's 0:2", "a series' 5"])
def test_a_range_past_a_volumes_time_points_is_refused_in_one_line(tmp_path, capsys, project_home, series, spec,
                                                                    said):
    volume = write_series(tmp_path / "s.tif") if series else write_volume(tmp_path / "v.tif", seed=1)
    out = tmp_path / "out.csv"

    code, _, err = run_cli(capsys, "detect", volume, "-o", out, "--frames", spec, *DETECT)

    assert (code, err.strip()) == (2, f"particle-detect: error: {volume}: {said}")
    assert not out.exists() and not out.with_suffix(".json").exists()


def test_a_single_volume_is_its_frame_0(tmp_path, capsys, project_home):
    volume = write_volume(tmp_path / "v.tif", seed=1)
    code, _, err = run_cli(capsys, "detect", volume, "-o", tmp_path / "out.csv", "--frames", "0", *DETECT)
    assert code == 0, err
    assert set(pd.read_csv(tmp_path / "out.csv")["frame"]) == {0}
    assert meta_of(tmp_path / "out.csv")["inputs"][0]["frames_detected"] == [0]


def test_a_folder_run_skips_the_same_time_points_in_any_order_and_redoes_others(tmp_path, capsys, project_home):
    series = write_series(tmp_path / "series.tif")
    out = tmp_path / "out"
    table = out / "series.csv"

    def run(spec: str) -> dict:
        code, _, err = run_cli(capsys, "detect", series, "-o", f"{out}/", "--frames", spec, *DETECT)
        assert code == 0, err
        return json.loads((out / RUN_RECORD).read_text())

    record = run("2,0")
    assert [e["file"] for e in record["done"]] == [str(series)] and record["options"]["frames"] == "0,2"
    assert meta_of(table)["fingerprint"]["options"]["frames"] == "0,2"
    assert meta_of(table)["inputs"][0]["frames_detected"] == [0, 2] and set(pd.read_csv(table)["frame"]) <= {0, 2}

    record = run("0,2,2")  # the same time points, written another way: done before, skipped
    assert [e["file"] for e in record["skipped"]] == [str(series)] and record["done"] == []

    record = run("1")  # other time points: another run, redone
    assert [e["file"] for e in record["done"]] == [str(series)]
    assert meta_of(table)["inputs"][0]["frames_detected"] == [1] and set(pd.read_csv(table)["frame"]) <= {1}


def test_one_range_in_any_order_has_one_text_and_one_fingerprint(tmp_path):
    from napari_particle_detect.files.file_detection import DetectOptions, check_options, job_fingerprint
    from napari_particle_detect.files.frame_ranges import frame_range

    assert {frame_range(spec) for spec in ("3,7,9", "9,7,3", "7, 3,9,3", "9,3:4,7")} == {"3,7,9", "3:4,7,9"}
    assert frame_range("-1,:5,8") == frame_range("8,0:5,-1") == "0:5,8,-1"  # from the end last: its frame varies
    image = tmp_path / "m.tif"
    tifffile.imwrite(image, np.zeros((10, 16, 16), np.uint16))
    prints = [job_fingerprint(image, check_options(DetectOptions(frames=spec)), None) for spec in ("3,7,9", "9,7,3")]
    assert prints[0] == prints[1] and prints[0]["options"]["frames"] == "3,7,9"


def test_a_series_with_gaps_fills_each_volume_once_and_says_the_share_missing_once(tmp_path, monkeypatch, caplog):
    from napari_particle_detect.detection.volume_detection import VolumeOptions, detect_volume_file
    from napari_particle_detect.files.axes import file_axes

    series = write_series(tmp_path / "series.tif", gaps=True)
    filled = []  # the volumes whose gaps were filled
    real = preprocessing.filled_gaps

    def counted(image, *rest):
        filled.append(image.shape)
        return real(image, *rest)

    monkeypatch.setattr(preprocessing, "filled_gaps", counted)
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        detect_volume_file(series, file_axes(series, None), VolumeOptions(diameter=10.0, threshold=0.5, device="cpu"))

    assert len(filled) == TIME_POINTS  # was one more: the first volume's, filled for the check before the model loads
    lines = [r.getMessage() for r in caplog.records if "NaN or infinite" in r.getMessage()]
    voxels = 8 * 32 * 3  # the slab in each volume
    assert lines == [f"{series}: {TIME_POINTS * voxels} NaN or infinite voxels in {TIME_POINTS} volumes, 9.38 % "
                     "of their voxels (a mosaic's gaps?), read as missing: detected around them, and no centre kept "
                     "within half a particle radius"]  # was one line per volume
