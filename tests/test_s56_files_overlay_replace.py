"""detect --overlay over a file it did not draw (a picture of the user's, an image of the data not given as input)
is refused before any work, as the CSV beside it is; an overlay it drew, of every format it draws, is replaced by
the same command run again."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from napari_particle_detect.cli.main import main

from helpers import tiny_model_file


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("cli-model"))


def _command(tmp_path, model, overlay) -> list[str]:
    image = tmp_path / "a.tif"
    if not image.exists():
        tifffile.imwrite(image, np.random.default_rng(0).integers(0, 255, (48, 48), dtype=np.uint8))
    return ["-q", "detect", str(image), "-o", str(tmp_path / "res.csv"), "--model", str(model), "--diameter", "7",
            "--overlay", str(overlay)]


@pytest.mark.parametrize("name", ["notes.png", "other_image.tif"])
def test_an_overlay_over_a_file_detect_did_not_draw_is_refused(tmp_path, capsys, tiny_model, name):
    precious = tmp_path / name
    if name.endswith(".tif"):
        tifffile.imwrite(precious, np.full((32, 32), 7, np.uint8))
    else:
        precious.write_bytes(b"the user's own picture")
    before = precious.read_bytes()

    assert main(_command(tmp_path, tiny_model, precious)) == 2
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [f"particle-detect: error: {precious}: exists and is not an overlay detect drew; "
                                "move it or give --overlay another name"]
    assert precious.read_bytes() == before
    assert not (tmp_path / "res.csv").exists()  # refused before any work


@pytest.mark.parametrize("suffix", ["png", "jpg", "tif", "pdf", "svg"])
def test_the_same_command_again_replaces_the_overlay_it_drew(tmp_path, capsys, tiny_model, suffix):
    command = _command(tmp_path, tiny_model, tmp_path / f"overlay.{suffix}")
    assert main(command) == 0, capsys.readouterr().err
    assert main(command) == 0, capsys.readouterr().err
