"""A folder run said each file's doubtful size estimate twice: as the file was done (files.distributed, since
805e981) and again after the run (the command line's own repeat, from before the library said it)."""

import numpy as np
import pytest
import tifffile

from napari_particle_detect.cli.main import main

from helpers import tiny_model_file


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("doubt-model"))


def test_a_folder_run_says_a_doubtful_size_once_per_file(tmp_path, capsys, tiny_model):
    noise = np.random.default_rng(0).integers(0, 255, (96, 96)).astype(np.uint8)  # no particles: a doubtful size
    tifffile.imwrite(tmp_path / "noise.tif", noise)
    code = main(["-q", "detect", str(tmp_path / "noise.tif"), "-o", f"{tmp_path}/folder/", "--model", str(tiny_model),
                 "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 0, err
    said = [line for line in err.splitlines() if "noise.tif: particle diameter" in line]
    assert len(said) == 1 and "low confidence" in said[0], err
