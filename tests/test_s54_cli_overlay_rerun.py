"""detect over a folder with --overlay drawn into that folder: the same command again passes the overlay over (it
was read as an input: refused as an overlay that would replace an input, and without --overlay a colour image that
failed), while the folder's own PNG images are still detected."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
from PIL import Image

from napari_particle_detect.cli.main import main

from helpers import tiny_model_file


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("cli-model"))


def test_the_same_detect_again_leaves_out_the_overlay_it_drew(tmp_path, capsys, tiny_model):
    folder = tmp_path / "data"
    folder.mkdir()
    grey = np.random.default_rng(0).integers(0, 255, (48, 48), dtype=np.uint8)
    tifffile.imwrite(folder / "a.tif", grey)
    Image.fromarray(grey).save(folder / "b.png")  # a grey PNG of the user's: an image
    command = ["-q", "detect", str(folder), "-o", str(folder / "res.csv"), "--model", str(tiny_model),
               "--diameter", "7", "--overlay", str(folder / "overlay.png")]
    assert main(command) == 0

    assert main(command) == 0, capsys.readouterr().err
    assert main(command[:-2]) == 0, capsys.readouterr().err  # without --overlay: not a failed input either
    record = json.loads((folder / "res.json").read_text())
    assert [entry["file"] for entry in record["inputs"]] == [str(folder / "a.tif"), str(folder / "b.png")]
    assert "failed" not in record
