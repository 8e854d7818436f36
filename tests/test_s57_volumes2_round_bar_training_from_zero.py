"""A 3D round's bar says 'training' from where the steps stand when they start (none done): the first step's event
comes five steps in, so the bar read 'scoring (parent)' through them and first showed the training at 50 %."""

from __future__ import annotations

import io
import re

import pandas as pd
import tifffile
import torch

from napari_particle_detect.cli.main import main
from napari_particle_detect.models.registry import default_model_path
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume


def test_the_3d_rounds_bar_shows_its_training_from_step_0(tmp_path, monkeypatch):
    torch.set_num_threads(1)
    sample = synthesize_volume(VolumeConfig(shape=(12, 40, 40), volume_fraction=0.3), seed=3)
    tifffile.imwrite(tmp_path / "vol.tif", sample.image)
    c = sample.centres
    pd.DataFrame({"frame": 0, "z": c[:, 0], "y": c[:, 1], "x": c[:, 2]}).to_csv(tmp_path / "vol.csv", index=False)
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)

    code = main(["train", str(tmp_path / "vol.tif"), "--from", str(default_model_path("unet3d")), "--axes", "ZYX",
                 "--diameter", "10", "--voxel-size", "2", "1", "1", "-o", str(tmp_path / "tuned"),
                 "--steps-per-epoch", "10", "--batch-size", "1", "--crop", "16", "--threads", "1"])

    said = err.getvalue()
    assert code == 0, said
    training = re.findall(r"training: *(\d+)%\|[^|]*\| (\d+)/10", said)
    assert training and training[0] == ("0", "0"), said
    assert ("100", "10") in training, said
