"""detect on an image whose metadata says its pixels are not square (an ImageJ TIFF of 0.5 x 0.25 µm pixels): one
warning line naming the file and both sizes, even with --diameter given and with -q, into one table or a folder;
nothing of it for square pixels."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from napari_particle_detect.cli.main import main

from helpers import tiny_model_file


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("cli-model"))


def _imagej_tiff(path, y_um: float, x_um: float):
    image = np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)
    tifffile.imwrite(path, image, imagej=True, resolution=(1 / x_um, 1 / y_um), metadata={"unit": "um"})
    return path


@pytest.mark.parametrize("output", ["one.csv", "folder/"])
def test_pixels_said_not_square_are_warned_of_with_a_diameter_given(tmp_path, capsys, tiny_model, output):
    image = _imagej_tiff(tmp_path / "stretched.tif", 0.5, 0.25)
    code = main(["-q", "detect", str(image), "-o", f"{tmp_path}/{output}", "--model", str(tiny_model),
                 "--diameter", "7"])
    assert code == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if "not square" in line]
    assert lines == [f"{image}: its metadata gives pixels of 0.5 µm in y and 0.25 µm in x, not square, and "
                     "detection reads them as square: particles look stretched 2 times along x; resample the image "
                     "to square pixels first, or the sizes and positions found may be off"]


def test_square_pixels_are_not_warned_of(tmp_path, capsys, tiny_model):
    image = _imagej_tiff(tmp_path / "square.tif", 0.25, 0.25)
    assert main(["-q", "detect", str(image), "-o", str(tmp_path / "c.csv"), "--model", str(tiny_model),
                 "--diameter", "7"]) == 0
    assert "not square" not in capsys.readouterr().err
