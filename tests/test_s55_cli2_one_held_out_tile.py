"""A round from the command line scored on one held-out tile says so in the singular: it said "on 1 held-out
tiles" (train --from on a small image, a 3D round on one volume), where the dock says "1 held-out tile"."""

from __future__ import annotations

import re

from napari_particle_detect.cli.main import main
from napari_particle_detect.models.registry import default_model_path


def test_a_round_on_one_held_out_tile_says_tile(tmp_path, capsys):
    assert main(["-q", "synth", str(tmp_path / "small"), "--n", "1", "--shape", "64", "64"]) == 0
    code = main(["train", "--from", str(default_model_path("unet")), str(tmp_path / "small"), "-o",
                 str(tmp_path / "round"), "--steps-per-epoch", "5", "--batch-size", "2", "--crop", "32",
                 "--threads", "1"])
    err = capsys.readouterr().err
    assert code == 0 and re.search(r" on 1 held-out tile: ", err), err
