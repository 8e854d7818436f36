"""A 3D round from the command line (train --axes ZYX --from a 3D model) draws its steps on the 2D round's bar
(bars.RoundBar): a Ctrl-C during its training leaves the bar closed on a line of its own before the line saying
the run was interrupted, not that line written onto the bar's (and the bar drawn again after it); and the bar
says what the round is doing from its first state on."""
from __future__ import annotations

import _thread
import io
import re
import signal

import pandas as pd
import tifffile
import torch

from napari_particle_detect.cli.main import main
from napari_particle_detect.models.registry import default_model_path
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume


class CtrlCWhenTraining(io.StringIO):
    """stderr as a person watching it sees it, who presses Ctrl-C once the bar says the round is training."""

    pressed = False

    def write(self, text: str) -> int:
        written = super().write(text)
        if not self.pressed and "training:" in text:
            self.pressed = True
            _thread.interrupt_main(signal.SIGINT)
        return written


def test_a_3d_round_stopped_by_ctrl_c_closes_its_bar_before_the_interrupted_line(tmp_path, monkeypatch):
    torch.set_num_threads(1)
    sample = synthesize_volume(VolumeConfig(shape=(16, 48, 48), volume_fraction=0.3), seed=3)
    tifffile.imwrite(tmp_path / "vol.tif", sample.image)
    c = sample.centres
    pd.DataFrame({"frame": 0, "z": c[:, 0], "y": c[:, 1], "x": c[:, 2]}).to_csv(tmp_path / "vol.csv", index=False)
    err = CtrlCWhenTraining()
    monkeypatch.setattr("sys.stderr", err)

    code = main(["train", str(tmp_path / "vol.tif"), "--from", str(default_model_path("unet3d")), "--axes", "ZYX",
                 "--diameter", "10", "--voxel-size", "2", "1", "1", "-o", str(tmp_path / "tuned"),
                 "--steps-per-epoch", "50", "--batch-size", "1", "--crop", "16", "--threads", "1"])

    said = err.getvalue()
    assert code == 128 + signal.SIGINT and err.pressed and not (tmp_path / "tuned.pt").exists(), said
    before, interrupted, after = said.rpartition("particle-detect: interrupted")
    # No bar state on its line, none after it: only what became of the round (nothing was saved).
    assert interrupted and before.endswith("\n"), said
    assert after == f"; nothing saved to {tmp_path / 'tuned'}.pt; run the same command again\n", said
    assert re.search(r"training:.*\| \d+/50 \[[^\n]*\n$", before), said  # the bar, closed where it stopped
    assert not re.search(r"(^|[\r\n]) *0%\|", said), said  # each state of the bar names what the round is doing
