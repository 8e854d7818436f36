"""``detect --channel N`` of a stack of RGB planes as tifffile writes it (frames x 3 x Y x X, its planes read as frames
unless a channel is chosen) was refused as "expected a 2D image or a 3D stack ...: give --axes TZYX if it is a time
series of volumes", the channel asked for never read: the command line's check for 4D files read it without the
channel. Plane N of each frame is detected now, in one line saying so; without --channel the refusal names it."""

import json

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import tiny_model_file

COMMON = ("--diameter", "10", "--device", "cpu")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("planar-model"))


def run_cli(capsys, *args):
    code = main([*map(str, args)])
    captured = capsys.readouterr()
    return code, captured.err


def planes_of_frames() -> np.ndarray:
    """Two frames of three planes (T, 3, Y, X), each plane other particles."""
    planes = [synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=seed).image for seed in range(6)]
    return np.stack(planes).reshape(2, 3, 64, 64)


def test_a_channel_of_a_stack_of_rgb_planes_is_each_frames_plane_and_said(tmp_path, capsys, tiny_model):
    data = planes_of_frames()
    path = tmp_path / "rgb planes.tif"
    tifffile.imwrite(path, data, photometric="rgb", planarconfig="separate")  # tifffile's own: its shape written
    tifffile.imwrite(tmp_path / "plane1.tif", data[:, 1], photometric="minisblack")
    code, err = run_cli(capsys, "detect", path, "-o", tmp_path / "refused.csv", "--model", tiny_model, *COMMON)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert err.strip().endswith("give --axes TZYX if it is a time series of volumes, or --channel N, N from 0 to 2, "
                                "if each frame's planes are colours"), err
    assert not list(tmp_path.glob("refused*"))

    code, err = run_cli(capsys, "detect", path, "-o", tmp_path / "chosen.csv", "--channel", "1", "--model", tiny_model,
                        *COMMON)
    assert code == 0, err
    assert (f"{path}: shape 2x3x64x64 read as 2 frames of 3 colour planes (RGB), plane 1 of each detected (--channel 1); "
            "give --axes TZYX without --channel if they are 2 volumes of 3 slices\n") in err, err
    assert json.loads((tmp_path / "chosen.json").read_text())["inputs"][0]["channel"] == 1
    code, err = run_cli(capsys, "-q", "detect", tmp_path / "plane1.tif", "-o", tmp_path / "alone.csv", "--model",
                        tiny_model, *COMMON)
    assert code == 0, err
    chosen, alone = pd.read_csv(tmp_path / "chosen.csv"), pd.read_csv(tmp_path / "alone.csv")
    assert set(chosen["frame"]) == {0, 1} and chosen.equals(alone)


def test_one_image_of_rgb_planes_read_by_its_channel_says_which(tmp_path, capsys, tiny_model):
    data = planes_of_frames()[0]
    path = tmp_path / "one.tif"
    tifffile.imwrite(path, data, photometric="rgb", planarconfig="separate")
    code, err = run_cli(capsys, "detect", path, "-o", tmp_path / "one.csv", "--channel", "2", "--model", tiny_model,
                        *COMMON)
    assert code == 0, err
    assert (f"{path}: shape 3x64x64 read as one image of 3 colour planes (RGB), plane 2 detected (--channel 2); "
            "without --channel its 3 planes are frames\n") in err, err
    assert set(pd.read_csv(tmp_path / "one.csv")["frame"]) <= {0}
