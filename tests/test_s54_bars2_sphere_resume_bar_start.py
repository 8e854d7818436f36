"""A sphere training resumed inside an epoch opens its bar where its steps stand, at this session's first step, as
the rods' and chains' do: it opened up to nine steps late, at the next tenth step (the wait of those steps shown as
nothing)."""
from __future__ import annotations

import re
from dataclasses import replace

from napari_particle_detect.cli.main import main
from napari_particle_detect.learning import training

TINY = ["--batch-size", "2", "--crop", "32", "--threads", "1", "--device", "cpu"]


def test_a_sphere_run_resumed_inside_an_epoch_opens_its_bar_at_its_first_step(tmp_path, capsys, monkeypatch):
    # Two validation images, not train's 24: the network's passes over them were most of the test; the bar is the
    # same.
    validation_set = training.synthetic_validation_set
    monkeypatch.setattr(training, "synthetic_validation_set",
                        lambda config: validation_set(replace(config, validation_images=2)))
    command = ["train", "-o", str(tmp_path / "s.pt"), "--epochs", "1", "--steps-per-epoch", "12", *TINY]
    assert main([*command, "--minutes", "1e-6"]) == 0  # stops after its first step
    assert "epoch 1/1 (1 of 12 steps): loss" in capsys.readouterr().err

    assert main([*command, "--resume"]) == 0
    counts = re.findall(r"\b(\d+)/12 \[", capsys.readouterr().err)
    # Its first step this session is the run's second: counted done, as the one before it.
    assert counts[0] == "2" and counts[-1] == "12", counts
