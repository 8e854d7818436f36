"""A movie's calibration from detect to link: detect records each input's pixel size (µm, only where its
metadata names a length), frame interval and shape in its .json (no y_um,x_um columns, by which napari's reader
would place the centres off the image it opens at scale 1), so link's MSD is in µm² and s without --mpp or --fps (said in one line; a --fps that disagrees used and said). Files of
different pixel sizes are said, never one of them silently used; a sequence's unlike sizes are warned of from
the .json where the images are gone. Link writes the table's own columns back with every digit, drops a saved
pandas index, and picks one movie of a table of several with --file for drift and the MSD."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from test_link_outputs import walk

UM_PER_PX, INTERVAL_S = 0.5, 0.1


def cli(capsys, *args) -> tuple[int, list[str]]:
    code = main([*map(str, args)])
    return code, capsys.readouterr().err.strip().splitlines()


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return synthesize(benchmark_config("fluorescent", 0.3, (96, 96)), seed=3).image


def write_imagej(path: Path, pixels: np.ndarray, pixel_um: float, unit: str = "um", **metadata) -> Path:
    """An ImageJ TIFF (TYX for a stack) of ``pixel_um`` per pixel in ``unit``, as Fiji saves one."""
    axes = "TYX" if pixels.ndim == 3 else "YX"
    tifffile.imwrite(path, pixels.astype(np.float32), imagej=True, resolution=(1 / pixel_um, 1 / pixel_um),
                     metadata={"axes": axes, "unit": unit, **metadata})
    return path


def test_detect_records_the_movies_calibration_and_link_measures_the_msd_in_it(tmp_path, capsys, image):
    # Particles moving 1 px along x per frame, in a movie of 0.5 µm pixels taken 0.1 s apart.
    movie = write_imagej(tmp_path / "ij_um.tif", np.stack([np.roll(image, t, axis=1) for t in range(3)]), UM_PER_PX,
                         finterval=INTERVAL_S)
    code, lines = cli(capsys, "-q", "detect", movie, "-o", tmp_path / "ij_um.csv", "--device", "cpu")
    assert code == 0, lines
    table = pd.read_csv(tmp_path / "ij_um.csv")
    assert list(table.columns) == ["frame", "y", "x", "score"] and len(table)
    record = json.loads((tmp_path / "ij_um.json").read_text())["inputs"][0]
    assert record["shape"] == [3, 96, 96]
    assert record["pixel_size_yx_um"] == [UM_PER_PX, UM_PER_PX] and record["frame_interval_s"] == INTERVAL_S

    code, lines = cli(capsys, "link", tmp_path / "ij_um.csv", "-o", tmp_path / "t.csv", "--msd", tmp_path / "m.csv",
                      "--search-range", "3")
    assert code == 0, lines
    assert lines[0] == (f"µm per pixel 0.5 and 10 frames per second from {movie}'s metadata (recorded in "
                        f"{tmp_path / 'ij_um.json'})")
    assert " µm² at 0.1 s, exponent " in lines[-1]
    msd = json.loads((tmp_path / "m.json").read_text())
    assert (msd["mpp"], msd["fps"], msd["units"]["msd"], msd["units"]["lagt"]) == (UM_PER_PX, 10.0, "µm²", "s")
    lagt = pd.read_csv(tmp_path / "m.csv")["lagt"]
    np.testing.assert_allclose(lagt[:2], [INTERVAL_S, 2 * INTERVAL_S])

    # A frame rate given that disagrees with the file's is used, and said.
    code, lines = cli(capsys, "link", tmp_path / "ij_um.csv", "-o", tmp_path / "t.csv", "--msd", tmp_path / "m.csv",
                      "--search-range", "3", "--fps", "20", "--overwrite")
    assert code == 0 and lines[0] == (f"{tmp_path / 'ij_um.csv'}: --fps 20 is used, not the 10 frames per second "
                                      f"(frames 0.1 s apart) of {movie}'s metadata (recorded in "
                                      f"{tmp_path / 'ij_um.json'})")
    assert json.loads((tmp_path / "m.json").read_text())["fps"] == 20.0


def test_only_a_length_is_a_pixel_size(tmp_path, image):
    from napari_particle_detect.files.calibration import Calibration, file_calibration

    assert file_calibration(write_imagej(tmp_path / "nm.tif", image, 250, unit="nm")) == Calibration((0.25, 0.25))
    # ImageJ's word for an uncalibrated image, and a unit that is no length: no pixel size.
    assert file_calibration(write_imagej(tmp_path / "px.tif", image, 2, unit="pixel")) == Calibration()
    assert file_calibration(write_imagej(tmp_path / "s.tif", image, 2, unit="sec")) == Calibration()
    # OME's sizes and time increment in the units they name.
    tifffile.imwrite(tmp_path / "ome.ome.tif", np.zeros((3, 32, 32), np.uint16), ome=True, metadata={
        "axes": "TYX", "PhysicalSizeY": 250, "PhysicalSizeYUnit": "nm", "PhysicalSizeX": 250, "PhysicalSizeXUnit": "nm",
        "TimeIncrement": 50, "TimeIncrementUnit": "ms"})
    assert file_calibration(tmp_path / "ome.ome.tif") == Calibration((0.25, 0.25), 0.05)


def test_a_sequence_of_unlike_files_is_said_from_the_json_where_the_images_are_gone(tmp_path, capsys, image):
    frames = tmp_path / "frames"
    frames.mkdir()
    # One field of view cropped differently, at two pixel sizes: no frames of one movie.
    write_imagej(frames / "frame0.tif", image, 0.5)
    write_imagej(frames / "frame1.tif", image[:80], 0.25)
    code, lines = cli(capsys, "-q", "detect", frames, "-o", tmp_path / "all.csv", "--device", "cpu")
    assert code == 0, lines
    for path in frames.iterdir():
        path.unlink()  # gone: link reads what detect recorded
    all_csv = tmp_path / "all.csv"
    names = [str(frames / "frame0.tif"), str(frames / "frame1.tif")]
    code, lines = cli(capsys, "link", all_csv, "-o", tmp_path / "t.csv", "--sequence")
    assert code == 0 and lines[1] == (f"{all_csv}: --sequence: the files' images have 2 different sizes ({names[0]} "
                                      f"96 x 96 px, {names[1]} 80 x 96 px): different images, not the frames of one "
                                      "field of view; their tracks join unrelated particles")
    code, lines = cli(capsys, "link", all_csv, "-o", tmp_path / "t2.csv", "--sequence", "--msd", tmp_path / "m.csv")
    assert code == 2 and lines[-1] == (f"particle-detect: error: {all_csv}: its files' images have different pixel "
                                       f"sizes ({names[0]} 0.5 µm, {names[1]} 0.25 µm, as detect's .json records "
                                       "them); link one file at a time (--file NAME), or give --mpp")
    assert not (tmp_path / "t2.csv").exists()
    code, lines = cli(capsys, "link", all_csv, "-o", tmp_path / "t2.csv", "--sequence", "--msd", tmp_path / "m.csv",
                      "--mpp", "0.5")
    assert code == 0 and (f"{all_csv}: --mpp 0.5 is used for every file, though their images have different pixel "
                          f"sizes ({names[0]} 0.5 µm, {names[1]} 0.25 µm, as detect's .json records them)") in lines


def test_link_keeps_a_trackpy_tables_own_digits_and_drops_its_saved_index(tmp_path, capsys):
    from napari_particle_detect._napari.reader import centres_layers_data

    rng = np.random.default_rng(0)
    centres = walk(frames=4).drop(columns="truth")
    centres = centres.assign(ep=rng.uniform(0.01, 0.2, len(centres)), mass=rng.uniform(100, 900, len(centres)))
    centres.to_csv(tmp_path / "trackpy.csv")  # to_csv's default: the index too, as a first unnamed column
    code, lines = cli(capsys, "link", tmp_path / "trackpy.csv", "-o", tmp_path / "t.csv")
    assert code == 0 and lines[0] == (f"{tmp_path / 'trackpy.csv'}: its first column has no name (a pandas index "
                                      "saved with the table): left out")
    tracks = pd.read_csv(tmp_path / "t.csv")
    assert list(tracks.columns) == ["frame", "y", "x", "score", "ep", "mass", "particle"]
    back = tracks.sort_values(["frame", "y"]).reset_index(drop=True)
    ordered = centres.sort_values(["frame", "y"]).reset_index(drop=True)
    assert (back[["ep", "mass"]].to_numpy() == ordered[["ep", "mass"]].to_numpy()).all()  # every digit kept
    np.testing.assert_allclose(back[["y", "x"]], ordered[["y", "x"]].round(3), atol=1e-9)  # positions: 3 decimals
    (data, kwargs, _), = centres_layers_data(tmp_path / "trackpy.csv")
    assert "Unnamed: 0" not in kwargs["features"].columns


def test_drift_of_a_table_of_several_files_picks_one_with_file(tmp_path, capsys):
    two = pd.concat([walk(seed=1).assign(file="a.tif"), walk(seed=2).assign(file="b.tif")]).drop(columns="truth")
    two.to_csv(tmp_path / "two.csv", index=False)
    code, lines = cli(capsys, "link", tmp_path / "two.csv", "-o", tmp_path / "t.csv", "--drift")
    assert code == 2 and lines == [f"particle-detect: error: {tmp_path / 'two.csv'}: drift and the MSD are computed "
                                   "per movie, and its 2 files are 2 movies: pick one with --file NAME (a.tif, b.tif)"]
    code, lines = cli(capsys, "link", tmp_path / "two.csv", "-o", tmp_path / "t.csv", "--drift", "--file", "b.tif",
                      "--msd", tmp_path / "m.csv", "--search-range", "3")
    assert code == 0, lines
    tracks = pd.read_csv(tmp_path / "t.csv")
    assert set(tracks["file"]) == {"b.tif"} and len(tracks) == len(two) // 2 and "y_corrected" in tracks
    assert json.loads((tmp_path / "t.json").read_text())["file"] == "b.tif"
    # Named as evaluate --file names it: by its file name or stem, wherever the table's column has it.
    two.assign(file=two["file"].map(lambda name: f"day1/{name}")).to_csv(tmp_path / "deep.csv", index=False)
    code, lines = cli(capsys, "link", tmp_path / "deep.csv", "-o", tmp_path / "d.csv", "--drift", "--file", "b")
    assert code == 0, lines
    assert set(pd.read_csv(tmp_path / "d.csv")["file"]) == {"day1/b.tif"}
    code, lines = cli(capsys, "link", tmp_path / "deep.csv", "-o", tmp_path / "e.csv", "--drift", "--file", "c.tif")
    assert code == 2 and lines[-1].startswith(f"particle-detect: error: {tmp_path / 'deep.csv'}: no rows of file c.tif")
