"""``particle-detect link``'s outputs: the MSD in the units the table's own micrometre columns give (and says
which), files replaced only with --overwrite, the parameters in a .json beside each CSV, and an image
sequence (one frame per file, as detect writes a folder of PNG frames) linked as one movie with --sequence."""

from __future__ import annotations

import json
import re

import imageio.v3 as iio
import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.tracks import LinkOptions, ensemble_msd, link_centres

MPP, FPS = 0.3509, 24.0  # trackpy's bulk-water sample: 0.3509 µm per pixel, 24 frames per second
STEP = 0.5  # px per axis per frame: an MSD of 2 x 0.25 px² at one frame


def walk(frames: int = 12, seed: int = 0) -> pd.DataFrame:
    """Particles on a 20 px grid diffusing STEP px per axis per frame: each one's track is unambiguous."""
    rng = np.random.default_rng(seed)
    grid = np.stack(np.meshgrid(np.arange(20, 200, 20), np.arange(20, 120, 20), indexing="ij"), -1).reshape(-1, 2)
    positions = grid + np.cumsum(rng.normal(0, STEP, (frames, len(grid), 2)), axis=0)
    return pd.DataFrame({"frame": np.repeat(np.arange(frames), len(grid)), "y": positions[..., 0].ravel(),
                         "x": positions[..., 1].ravel(), "score": 0.9, "truth": np.tile(np.arange(len(grid)), frames)})


def link_cli(capsys, *args) -> tuple[int, list[str]]:
    code = main(["link", *map(str, args), "--search-range", "3", "--memory", "1"])
    return code, capsys.readouterr().err.strip().splitlines()


def test_the_msd_is_in_the_micrometres_of_the_tables_own_columns_and_says_its_units(tmp_path, capsys):
    centres = walk()
    # As the dock's Export writes them: pixels times the image's scale, plus its offset, to 3 decimals.
    exported = centres.drop(columns="truth").assign(y_um=centres["y"] * MPP + 4.0, x_um=centres["x"] * MPP - 2.5)
    exported.round(3).to_csv(tmp_path / "export.csv", index=False)
    code, lines = link_cli(capsys, tmp_path / "export.csv", "-o", tmp_path / "t.csv", "--msd", tmp_path / "m.csv",
                           "--fps", FPS)
    assert code == 0, lines
    assert lines[0] == "µm per pixel 0.3509 from the table's y_um/x_um columns"
    assert lines[-1].startswith(f"MSD -> {tmp_path / 'm.csv'} (MSD = ") and " µm² at 0.04167 s, exponent " in lines[-1]  # no round lag within 1-10 frames at 24 fps: the first
    msd = pd.read_csv(tmp_path / "m.csv")
    assert list(msd.columns) == ["lagt", "msd", "N"]  # trackpy's emsd columns, their units in the .json
    expected = ensemble_msd(link_centres(exported.round(3), 3.0, memory=1), MPP, FPS)
    np.testing.assert_allclose(msd[["lagt", "msd"]].to_numpy(), expected[["lagt", "msd"]].to_numpy(), rtol=1e-4)
    assert msd["msd"].iloc[0] == pytest.approx(2 * STEP**2 * MPP**2, rel=0.15)  # µm², not px²
    record = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    assert record["units"]["lagt"] == "s" and record["units"]["msd"] == "µm²"
    assert record["mpp"] == pytest.approx(MPP, rel=1e-4) and record["mpp_from"] == "the table's y_um,x_um columns"
    assert record["fps"] == FPS and record == json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))

    # A --mpp of another image (or unit) than the table's own is refused before anything is written.
    code, lines = link_cli(capsys, tmp_path / "export.csv", "-o", tmp_path / "t2.csv", "--msd", tmp_path / "m2.csv",
                           "--mpp", "1")
    assert code == 2 and lines == [f"particle-detect: error: --mpp 1 disagrees with {tmp_path / 'export.csv'}'s "
                                   "y_um,x_um columns (0.3509 µm per pixel); leave --mpp out to use the table's"]
    assert not list(tmp_path.glob("*2.*"))
    assert link_cli(capsys, tmp_path / "export.csv", "-o", tmp_path / "t2.csv", "--msd", tmp_path / "m2.csv",
                    "--mpp", "0.351")[0] == 0  # the same size, typed to 3 decimals

    # Without micrometres or frame rate: pixels and frames, said so.
    centres.to_csv(tmp_path / "plain.csv", index=False)
    code, lines = link_cli(capsys, tmp_path / "plain.csv", "-o", tmp_path / "p.csv", "--msd", tmp_path / "pm.csv")
    assert code == 0 and " px² at 1 frame, exponent " in lines[-1]
    record = json.loads((tmp_path / "pm.json").read_text(encoding="utf-8"))
    assert record["units"] == {"positions": "px", "search_range": "px", "memory": "frames", "lagt": "frames",
                               "msd": "px²"}
    assert record["mpp"] is None and record["fps"] is None


def test_a_volumes_msd_takes_the_y_voxel_from_its_micrometre_columns(tmp_path, capsys):
    flat = walk(seed=1)
    rng = np.random.default_rng(2)
    z = 10 + np.cumsum(rng.normal(0, STEP, (12, len(flat) // 12)), axis=0).ravel() / 2  # z voxels twice as long
    volume = flat.assign(z=z)[["frame", "z", "y", "x", "score"]]
    volume.assign(z_um=volume["z"] * 0.2, y_um=volume["y"] * 0.1, x_um=volume["x"] * 0.1).round(4).to_csv(
        tmp_path / "v.csv", index=False)
    code, lines = link_cli(capsys, tmp_path / "v.csv", "-o", tmp_path / "t.csv", "--msd", tmp_path / "m.csv")
    assert code == 0 and lines[0] == "µm per y voxel 0.1 from the table's y_um/x_um columns"
    voxel = (0.2, 0.1, 0.1)
    expected = ensemble_msd(link_centres(volume, LinkOptions(3.0, 1, voxel_size=voxel)), 0.1, voxel_size=voxel)
    np.testing.assert_allclose(pd.read_csv(tmp_path / "m.csv")["msd"], expected["msd"], rtol=1e-3)
    assert json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))["units"]["msd"] == "µm²"


def test_files_already_there_are_replaced_only_with_overwrite(tmp_path, capsys):
    walk().to_csv(tmp_path / "c.csv", index=False)
    (tmp_path / "truth.csv").write_text("frame,y,x\n0,1,2\n")
    code, lines = link_cli(capsys, tmp_path / "c.csv", "-o", tmp_path / "truth.csv")
    assert code == 2 and lines == [f"particle-detect: error: {tmp_path / 'truth.csv'}: already there; give "
                                   "--overwrite to replace it, or another -o"]
    assert (tmp_path / "truth.csv").read_text() == "frame,y,x\n0,1,2\n" and not (tmp_path / "truth.json").exists()
    code, lines = link_cli(capsys, tmp_path / "c.csv", "-o", tmp_path / "t.csv", "--msd", tmp_path / "truth.csv")
    assert code == 2 and lines[-1].endswith("already there; give --overwrite to replace it, or another --msd")
    (tmp_path / "notes.json").write_text("{}")  # the .json link would write beside notes.csv
    code, lines = link_cli(capsys, tmp_path / "c.csv", "-o", tmp_path / "notes.csv")
    assert code == 2 and lines[-1].startswith(f"particle-detect: error: {tmp_path / 'notes.json'}: already there")
    assert not (tmp_path / "t.csv").exists() and not (tmp_path / "notes.csv").exists()

    # Detect's output (its .json beside it, as detect writes it): replaced only with --overwrite, and then the
    # .json is link's, so a later detect refuses to replace the tracks instead of taking them for its own.
    iio.imwrite(tmp_path / "image.png", np.zeros((32, 32), np.uint8))
    (tmp_path / "seen.csv").write_text("frame,y,x,score\n0,5.000,6.000,0.900\n")
    (tmp_path / "seen.json").write_text(json.dumps({"inputs": [{"file": str(tmp_path / "image.png"), "frames": 1}]}))
    code, lines = link_cli(capsys, tmp_path / "c.csv", "-o", tmp_path / "seen.csv")
    assert code == 2 and lines == [f"particle-detect: error: {tmp_path / 'seen.csv'}: already there (an output of "
                                   "detect: its .json is beside it); give --overwrite to replace it, or another -o"]
    code, lines = link_cli(capsys, tmp_path / "c.csv", "-o", tmp_path / "seen.csv", "--overwrite", "--drift",
                           "--min-length", "2")
    assert code == 0, lines
    assert pd.read_csv(tmp_path / "seen.csv")["particle"].nunique() == 45
    record = json.loads((tmp_path / "seen.json").read_text(encoding="utf-8"))
    assert {k: record[k] for k in ("command", "input", "tracks", "search_range", "memory", "min_length", "drift")} == {
        "command": "particle-detect link", "input": str(tmp_path / "c.csv"), "tracks": str(tmp_path / "seen.csv"),
        "search_range": 3.0, "memory": 1, "min_length": 2, "drift": True}
    assert main(["-q", "detect", str(tmp_path / "image.png"), "-o", str(tmp_path / "seen.csv")]) == 2
    assert "is not the metadata of an earlier detect output" in capsys.readouterr().err
    assert pd.read_csv(tmp_path / "seen.csv")["particle"].nunique() == 45


def image_sequence(folder, frames: int = 12, empty: int = 7) -> pd.DataFrame:
    """A walk as detect writes it for 'pngs/*.png': every file frame 0 with its file, in the order detect sorts
    the names (frame10 before frame2), frame ``empty`` without centres; detect's .json beside it names every file."""
    centres = walk(frames).round({"y": 3, "x": 3})  # as written: the tracks are matched to them
    centres = centres[centres["frame"] != empty]
    files = [f"pngs/frame{i}.png" for i in range(frames)]
    table = centres.assign(file=[files[f] for f in centres["frame"]], frame=0).sort_values("file", kind="stable")
    table.drop(columns="truth").to_csv(folder / "seq.csv", index=False)
    (folder / "seq.json").write_text(json.dumps({"inputs": [{"file": name, "frames": 1} for name in sorted(files)]}))
    return centres


def test_an_image_sequence_is_refused_as_such_and_linked_as_one_movie_with_sequence(tmp_path, capsys):
    truth = image_sequence(tmp_path)  # 11 files with centres: frame7.png has none
    note = ("its 11 files hold one frame each, as an image sequence detected file by file does; if they are one "
            "field of view over time (never different images), link them as one movie, frames in file name order, "
            "with particle-detect link --sequence (sequence_frames in Python)")
    refusal = ("its 11 files hold one frame each, so linked file by file every track would be one frame long; "
               "--sequence is only for a time series of one field of view (one file per frame), never for different "
               "images")
    for extra in ([], ["--msd", tmp_path / "m.csv"]):
        code, lines = link_cli(capsys, tmp_path / "seq.csv", "-o", tmp_path / "t.csv", *extra)
        assert code == 2 and lines == [f"particle-detect: error: {tmp_path / 'seq.csv'}: {refusal}"]
    assert not (tmp_path / "t.csv").exists() and not (tmp_path / "m.csv").exists()
    per_file = link_centres(pd.read_csv(tmp_path / "seq.csv"), 3.0, memory=1)  # each file its own movie
    with pytest.raises(ParticleDetectError, match=f"^{re.escape(f'the MSD is computed per movie: {note}')}$"):
        ensemble_msd(per_file)

    code, lines = link_cli(capsys, tmp_path / "seq.csv", "-o", tmp_path / "t.csv", "--sequence", "--msd",
                           tmp_path / "m.csv")
    assert code == 0, lines
    assert lines[0] == (f"{tmp_path / 'seq.csv'}: 12 files as frames 0-11 of one movie, in name order "
                        "(pngs/frame0.png ... pngs/frame11.png)")
    tracks = pd.read_csv(tmp_path / "t.csv")
    # frameN.png is frame N (natural order; frame7, without centres, keeps its place) and keeps its file.
    assert (tracks["file"] == "pngs/frame" + tracks["frame"].astype(str) + ".png").all()
    assert sorted(tracks["frame"].unique()) == [f for f in range(12) if f != 7]
    same = tracks.merge(truth, on=["frame", "y", "x"])
    assert len(same) == len(truth) and (same.groupby("particle")["truth"].nunique() == 1).all()
    assert tracks["particle"].nunique() == truth["truth"].nunique()  # one track per particle, across frame 7
    assert pd.read_csv(tmp_path / "m.csv")["msd"].iloc[0] == pytest.approx(2 * STEP**2, rel=0.15)
    record = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    assert record["sequence"] == [f"pngs/frame{i}.png" for i in range(12)]

    # A table of files with several frames each is no sequence.
    stacks = walk(4).assign(file=lambda t: np.where(t["truth"] < 20, "a.tif", "b.tif")).drop(columns="truth")
    stacks.to_csv(tmp_path / "stacks.csv", index=False)
    code, lines = link_cli(capsys, tmp_path / "stacks.csv", "-o", tmp_path / "s.csv", "--sequence")
    assert code == 2 and lines == [f"particle-detect: error: {tmp_path / 'stacks.csv'}: --sequence: a.tif holds 4 "
                                   "frames: a sequence is numbered from files of one frame each"]


@pytest.mark.parametrize("option", [["--mpp", "0.35"], ["--fps", "24"], ["--max-lag", "100"]])
def test_msd_options_without_msd_are_refused_not_ignored(tmp_path, capsys, option):
    walk().to_csv(tmp_path / "c.csv", index=False)
    code, lines = link_cli(capsys, tmp_path / "c.csv", "-o", tmp_path / "t.csv", *option)
    assert code == 2 and lines == ["particle-detect: error: --mpp, --fps and --max-lag set the MSD: give --msd too"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv"]
