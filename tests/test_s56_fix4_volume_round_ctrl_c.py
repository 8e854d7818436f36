"""A 3D round from the command line (train --from a 3D model) stopped by Ctrl-C said only 'interrupted', as the 2D
round did: it writes nothing before its model is saved, so it says so and that the same command starts it again."""

import os
import signal

import pandas as pd
import tifffile
import torch

from napari_particle_detect.cli import bars
from napari_particle_detect.cli.main import main
from napari_particle_detect.models.registry import default_model_path
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume


def test_a_3d_round_stopped_by_ctrl_c_says_nothing_was_saved_and_runs_again(tmp_path, capsys, monkeypatch):
    torch.set_num_threads(1)
    sample = synthesize_volume(VolumeConfig(shape=(16, 48, 48), volume_fraction=0.3), seed=3)
    tifffile.imwrite(tmp_path / "vol.tif", sample.image)
    c = sample.centres
    pd.DataFrame({"frame": 0, "z": c[:, 0], "y": c[:, 1], "x": c[:, 2]}).to_csv(tmp_path / "vol.csv", index=False)
    out = tmp_path / "tuned"
    command = ["-q", "train", str(tmp_path / "vol.tif"), "--from", str(default_model_path("unet3d")), "--axes", "ZYX",
               "--diameter", "10", "--voxel-size", "2", "1", "1", "-o", str(out), "--steps-per-epoch", "2",
               "--batch-size", "1", "--crop", "16", "--threads", "1", "--device", "cpu"]
    event = bars.RoundBar.event
    monkeypatch.setattr(bars.RoundBar, "event", lambda bar, e: os.kill(os.getpid(), signal.SIGINT))  # Ctrl-C
    assert main(command) == 128 + signal.SIGINT
    # Before: "particle-detect: interrupted" alone.
    assert f"particle-detect: interrupted; nothing saved to {out}.pt; run the same command again" in \
        capsys.readouterr().err
    assert not out.with_suffix(".pt").exists() and not out.with_suffix(".json").exists()
    monkeypatch.setattr(bars.RoundBar, "event", event)
    assert main(command) == 0 and out.with_suffix(".pt").exists()
