"""A 3D round's wrong ``--crop`` is said before its volumes are read: it came after reading every one (minutes for
large ones), and a volume with a problem of its own hid it until that was fixed, a second try to learn of it."""

from __future__ import annotations

import numpy as np
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.models.registry import default_model_path


def test_a_wrong_crop_is_refused_before_the_volumes_are_read(tmp_path, capsys):
    tifffile.imwrite(tmp_path / "vol.tif", np.zeros((8, 32, 32), np.uint16))  # no vol.csv: it cannot be read in
    code = main(["train", str(tmp_path / "vol.tif"), "--from", str(default_model_path("unet3d")), "--axes", "ZYX",
                 "--diameter", "10", "-o", str(tmp_path / "tuned"), "--crop", "17"])
    err = capsys.readouterr().err
    assert code == 2 and "--crop 17: must be a multiple of 4" in err and "vol.csv" not in err, err
