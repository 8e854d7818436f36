"""A confocal user's audit of evaluate and link on volumes: a table of files of different voxel sizes was
refused with numbers neither file had, a TZYX series' frame interval was never recorded (link's MSD in
frames), --border was refused for volumes, and rms_z was in z voxels beside rms_y in y voxels, unsaid."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

from test_cli_refusals import run_cli


def _volume_table(points, **columns) -> pd.DataFrame:
    return pd.DataFrame({"frame": 0, "z": [p[0] for p in points], "y": [p[1] for p in points],
                         "x": [p[2] for p in points], **columns})


def _with_microns(table: pd.DataFrame, voxel_um: tuple[float, float, float]) -> pd.DataFrame:
    return table.assign(**{f"{axis}_um": table[axis] * size for axis, size in zip("zyx", voxel_um)})


def _evaluate(capsys, *args) -> tuple[int, str, str]:
    """evaluate without -q: its info lines (where each voxel size came from) are asserted."""
    code = main(["evaluate", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def _scores(out: str) -> pd.DataFrame:
    """The score table evaluate prints under its note lines."""
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] in (["frame", "tp"], ["file", "frame"]))
    rows = [line.split() for line in lines[header:]]
    return pd.DataFrame(rows[1:], columns=rows[0])


def test_files_of_different_voxel_sizes_are_each_matched_in_their_own(tmp_path, capsys):
    # a.tif: 0.8 µm slices of 0.2 µm pixels (a z voxel is 4 y voxels); b.tif: cubic 0.2 µm voxels. Each
    # prediction lies one z voxel off its centre: 4 y voxels in a.tif (beyond the tolerance, 3), 1 in b.tif.
    truth_points = [(5.0, 10.0 + 12 * i, 20.0) for i in range(4)]
    predicted_points = [(z + 1.0, y, x) for z, y, x in truth_points]
    sizes = {"a.tif": (0.8, 0.2, 0.2), "b.tif": (0.2, 0.2, 0.2)}
    predicted = pd.concat([_with_microns(_volume_table(predicted_points, file=name), size)
                           for name, size in sizes.items()])
    truth = pd.concat([_with_microns(_volume_table(truth_points, file=name), size) for name, size in sizes.items()])
    predicted.to_csv(tmp_path / "p.csv", index=False)
    truth.to_csv(tmp_path / "t.csv", index=False)
    code, out, err = _evaluate(capsys, tmp_path / "p.csv", tmp_path / "t.csv", "--tolerance", 3)
    assert code == 0, err
    scores = _scores(out)
    assert scores[["file", "tp", "fp", "fn", "rms_z"]].values.tolist() == [
        ["a.tif", "0", "4", "4", "NaN"], ["b.tif", "4", "0", "0", "1.0000"], ["all", "4", "4", "4", "1.0000"]]
    # Said per file, each in its own numbers.
    assert f"{tmp_path / 'p.csv'} (a.tif): voxel size 0.8 x 0.2 x 0.2 from its z_um,y_um,x_um columns" in err
    assert f"{tmp_path / 'p.csv'} (b.tif): voxel size 0.2 x 0.2 x 0.2 from its z_um,y_um,x_um columns" in err
    assert "tolerance and rms_z, rms_y, rms_x in y voxels, each file's own" in out
    # --file scores one file as the whole table scored it.
    code, out, err = _evaluate(capsys, tmp_path / "p.csv", tmp_path / "t.csv", "--tolerance", 3, "--file", "a.tif",
                               "--json")
    assert code == 0, err
    assert [json.loads(out)[k] for k in ("tp", "fp", "fn")] == [0, 4, 4]


def test_rms_is_in_y_voxels_and_the_aspect_is_read_from_detects_json(tmp_path, capsys):
    truth = _volume_table([(5.0, 10.0, 20.0), (9.0, 30.0, 20.0)])
    predicted = truth.assign(z=truth["z"] + 0.1, y=truth["y"] + 0.25)
    predicted.to_csv(tmp_path / "det.csv", index=False)
    truth.to_csv(tmp_path / "truth.csv", index=False)
    code, out, err = _evaluate(capsys, tmp_path / "det.csv", tmp_path / "truth.csv", "--voxel-size", 4, 1, 1)
    assert code == 0, err
    pooled = _scores(out).iloc[-1]
    # 0.1 of a z voxel 4 y voxels long is 0.4 y voxels: physically worse than y's 0.25, as rms_z now reads.
    assert (float(pooled["rms_z"]), float(pooled["rms_y"])) == (0.4, 0.25)
    assert "tolerance and rms_z, rms_y, rms_x in y voxels (a z voxel is 4 of them)" in out.splitlines()
    # Without --voxel-size or z_um columns: the voxel size detect's .json records beside the predictions
    # (synth's "pixel" unit: its proportions are all matching needs), not cubes.
    (tmp_path / "det.json").write_text(json.dumps({"inputs": [{"file": "v.tif", "voxel_size_zyx": [2.0, 1.0, 1.0],
                                                               "voxel_unit": "pixel", "shape": [1, 16, 48, 48]}]}))
    code, out, err = _evaluate(capsys, tmp_path / "det.csv", tmp_path / "truth.csv", "--json")
    assert code == 0, err
    assert json.loads(out)["rms_z"] == pytest.approx(0.2)
    assert f"{tmp_path / 'det.csv'}: voxel size 2 x 1 x 1 from detect's .json beside it" in err
    assert "cubes" not in err


def test_border_on_volumes_leaves_out_the_centres_at_a_face(tmp_path, capsys):
    # synth's volume truth: z steps 4 y voxels long, volumes 16 x 48 x 48. --border 4 (y voxels) is one z voxel.
    (tmp_path / "synth.json").write_text(json.dumps({"shape": [16, 48, 48], "z_step": 4.0}))
    truth = _volume_table([(8.0, 20.0, 20.0), (0.5, 20.0, 40.0)])
    # Paired with a true centre in the band: left out with it. Unpaired 1 px from the y face: left out.
    # Unpaired 1.5 z voxels (6 y voxels) from the z face: inside, a false positive.
    predicted = _volume_table([(8.2, 20.0, 20.0), (0.6, 20.0, 40.0), (5.0, 1.0, 30.0), (1.5, 30.0, 30.0)])
    predicted.to_csv(tmp_path / "p.csv", index=False)
    truth.to_csv(tmp_path / "truth.csv", index=False)
    code, out, err = _evaluate(capsys, tmp_path / "p.csv", tmp_path / "truth.csv", "--border", 4, "--json")
    assert code == 0, err
    scores = json.loads(out)
    assert [scores[k] for k in ("tp", "fp", "fn", "left_out_truth", "left_out_predicted")] == [1, 1, 0, 1, 2]
    assert scores["rms_z"] == pytest.approx(0.8)  # 0.2 z voxels, 4 y voxels each: the aspect from synth.json
    assert f"z_step of synth.json beside {tmp_path / 'truth.csv'}" in err
    # --shape Z Y X, even before the tables, gives the size; H W is a 2D image's, refused for volumes.
    code, out, err = _evaluate(capsys, "--shape", 16, 48, 48, tmp_path / "p.csv", tmp_path / "truth.csv",
                               "--border", 4)
    assert code == 0, err
    assert "border 4 y voxels (image size from --shape): left out 1 of 2 true and 2 of 4 predicted centres" in out
    code, _, err = run_cli(capsys, "evaluate", tmp_path / "p.csv", tmp_path / "truth.csv", "--border", 4,
                           "--shape", 48, 48)
    assert code == 2 and err.strip().splitlines()[-1].endswith("holds volumes; give their Z Y X")


def test_a_tzyx_series_records_its_frame_interval_for_links_msd(tmp_path, capsys):
    trackpy = pytest.importorskip("trackpy")  # noqa: F841 - link needs it
    volume = synthesize_volume(VolumeConfig(shape=(12, 40, 40), volume_fraction=0.3, diameter=10.0, z_step=2.5),
                               seed=2).image
    series = np.stack([volume, np.roll(volume, 1, axis=2), np.roll(volume, 2, axis=2)])
    path = tmp_path / "series.tif"
    tifffile.imwrite(path, series, imagej=True, resolution=(5.0, 5.0),
                     metadata={"axes": "TZYX", "spacing": 0.5, "unit": "um", "finterval": 2.0})
    code, _, err = run_cli(capsys, "detect", path, "-o", tmp_path / "centres.csv", "--diameter", 10, "--device", "cpu",
                           "--runtime", "torch")
    assert code == 0, err
    record = json.loads((tmp_path / "centres.json").read_text())["inputs"][0]
    assert record["shape"] == [3, 12, 40, 40]
    assert record["frame_interval_s"] == 2.0 and record["pixel_size_yx_um"] == [0.2, 0.2]
    code, _, err = run_cli(capsys, "link", tmp_path / "centres.csv", "-o", tmp_path / "tracks.csv", "--search-range",
                           4, "--msd", tmp_path / "msd.csv")
    assert code == 0, err
    # Lag times in seconds, as a 2D series' are: volumes 2 s apart.
    assert pd.read_csv(tmp_path / "msd.csv")["lagt"].tolist()[:2] == [2.0, 4.0]
