"""Runs of several volumes with a bad file among them (user audit): a volume that fails, or a file that cannot be
read, is reported at the end and the others are detected, as in a run of 2D images; volumes and 2D images together
are refused naming each kind; a volume's record names the channel detected; an unreadable file given a channel is
said to be unreadable."""

import json

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.files.distributed import RUN_RECORD
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

SMALL = VolumeConfig(shape=(8, 32, 32), volume_fraction=0.3, diameter=10.0, z_step=2.0)
DETECT = ["--device", "cpu", "--diameter", "10", "--threshold", "0.5"]
CORRUPT = b"II*\x00garbage" * 10  # a TIFF header, then nothing a reader can find pages in


def write_volume(path, seed, channels=False):
    """A small ImageJ volume (ZYX), or with ``channels`` one of two channels (ZCYX), its spheres in channel 1."""
    volume = synthesize_volume(SMALL, seed=seed).image
    if channels:
        noise = np.random.default_rng(seed).normal(300, 10, volume.shape).astype(volume.dtype)
        tifffile.imwrite(path, np.stack([noise, volume], axis=1), imagej=True, metadata={"axes": "ZCYX"})
    else:
        tifffile.imwrite(path, volume, imagej=True, metadata={"axes": "ZYX"})
    return path


def failed_lines(err):
    return [line for line in err.splitlines() if line.startswith("particle-detect: ")]


@pytest.mark.parametrize("folder", [True, False], ids=["folder", "one table"])
def test_a_volume_that_fails_is_reported_at_the_end_and_the_others_are_detected(tmp_path, capsys, project_home,
                                                                                 folder):
    first, last = write_volume(tmp_path / "a.tif", 1), write_volume(tmp_path / "c.tif", 3)
    shallow = tmp_path / "b.tif"  # one slice, read as a volume by --axes ZYX: too shallow to detect
    tifffile.imwrite(shallow, np.random.default_rng(2).random((1, 32, 32)).astype(np.float32),
                     photometric="minisblack")
    out = tmp_path / ("out" if folder else "all.csv")

    code = main(["-q", "detect", str(first), str(shallow), str(last), "--axes", "ZYX", "-o",
                 f"{out}/" if folder else str(out), *DETECT])

    [line] = failed_lines(capsys.readouterr().err)
    # Before, the run stopped there: "particle-detect: error: ...b.tif: ...", c.tif left undetected.
    assert code == 1 and line.startswith(f"particle-detect: failed: {shallow}: a volume needs at least 2 slices")
    if folder:
        record = json.loads((out / RUN_RECORD).read_text())
        assert [(e["file"], e.get("output")) for e in record["done"]] == [(str(first), "a.csv"), (str(last), "c.csv")]
        assert [e["file"] for e in record["failed"]] == [str(shallow)]
        assert record["left"] == [] and record["stopped"] is None and not record["interrupted"]
        assert (out / "a.csv").exists() and (out / "c.csv").exists() and not (out / "b.csv").exists()
    else:
        meta = json.loads(out.with_suffix(".json").read_text())
        assert [r["file"] for r in meta["inputs"]] == [str(first), str(last)]
        assert [f["file"] for f in meta["failed"]] == [str(shallow)] and "unfinished" not in meta
        assert set(pd.read_csv(out)["file"]) == {str(first), str(last)}


@pytest.mark.parametrize("channel", [None, 1], ids=["volumes", "a channel of volumes"])
def test_an_unreadable_file_among_volumes_fails_with_its_own_reason_and_the_rest_are_detected(tmp_path, capsys,
                                                                                               project_home, channel):
    folder = tmp_path / "vols"
    folder.mkdir()
    write_volume(folder / "a.tif", 1, channels=channel is not None)
    (folder / "b.tif").write_bytes(CORRUPT)
    write_volume(folder / "c.tif", 3, channels=channel is not None)
    out = tmp_path / "out"

    code = main(["-q", "detect", str(folder), "-o", f"{out}/", *DETECT,
                 *(["--channel", str(channel)] if channel is not None else [])])

    [line] = failed_lines(capsys.readouterr().err)
    # Before, the whole run was refused: "b.tif: a 2D image or stack among volumes; run volumes and 2D images
    # separately" (or, with a channel, the reader's error, as if the run were of that file alone).
    assert code == 1 and line.startswith(f"particle-detect: failed: {folder / 'b.tif'}: cannot read image")
    record = json.loads((out / RUN_RECORD).read_text())
    assert [e["file"] for e in record["done"]] == [str(folder / "a.tif"), str(folder / "c.tif")]
    assert [e["file"] for e in record["failed"]] == [str(folder / "b.tif")] and record["left"] == []


def test_volumes_and_2d_images_together_are_refused_naming_each_kind(tmp_path, capsys, project_home):
    folder = tmp_path / "mixed"
    folder.mkdir()
    volumes = [write_volume(folder / f"{name}.tif", seed) for seed, name in enumerate(["a", "c", "d", "e"])]
    flat = folder / "b.tif"
    tifffile.imwrite(flat, np.random.default_rng(0).random((32, 32)).astype(np.float32))
    out = tmp_path / "out"

    code = main(["-q", "detect", str(folder), "-o", f"{out}/", *DETECT])

    assert code == 2
    assert failed_lines(capsys.readouterr().err) == [
        f"particle-detect: error: 4 files ({volumes[0]}, {volumes[1]}, {volumes[2]} and 1 more) read as volumes and "
        f"1 file ({flat}) as 2D images or stacks: a run detects one kind; run detect once on the volumes and once on "
        "the 2D files (name them, or put each kind in a folder of its own)"]
    assert not out.exists()  # refused before any work


def test_a_volume_table_records_the_channel_detected_and_says_both_files_written(tmp_path, capsys, project_home):
    path = write_volume(tmp_path / "zcyx.tif", 1, channels=True)
    out = tmp_path / "centres.csv"

    code = main(["detect", str(path), "--channel", "1", "-o", str(out), *DETECT])

    assert code == 0
    [record] = json.loads(out.with_suffix(".json").read_text())["inputs"]
    assert record["channel"] == 1  # as a 2D file's record says it
    assert f"wrote {out} (and centres.json)" in capsys.readouterr().err.splitlines()


def test_an_unreadable_file_given_a_channel_is_said_to_be_unreadable(tmp_path, capsys, project_home):
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "a.tif").write_bytes(CORRUPT)
    two_channels = np.random.default_rng(0).random((2, 48, 48)).astype(np.float32)
    tifffile.imwrite(folder / "b.tif", two_channels, imagej=True, metadata={"axes": "CYX"})

    code = main(["-q", "detect", str(folder), "--channel", "1", "-o", f"{tmp_path / 'out'}/", "--device", "cpu"])

    # Before: "a.tif: channel=1 (--channel 1), but it has no channels (shape ); leave out channel= (--channel)".
    assert code == 1
    assert failed_lines(capsys.readouterr().err) == [
        f"particle-detect: failed: {folder / 'a.tif'}: cannot read image (no pixel data)"]
