"""A run resumed with other --epochs than it started with says that its learning rate schedule changed."""

import logging
from dataclasses import replace

import pytest
import torch

from napari_particle_detect.learning.training import TrainConfig, TrainingCancelled, train

TINY = TrainConfig(architecture="unet", channels=(4, 8), epochs=2, steps_per_epoch=2, batch_size=1, crop=32,
                   validation_images=1, validation_size=48, threads=1)


def _stopped_after_one_epoch(out) -> None:
    epochs = []
    with pytest.raises(TrainingCancelled):
        train(TINY, out=out, cancel=lambda: len(epochs) >= 1,
              progress=lambda r: epochs.append(r) if r.get("event") == "epoch" else None)


def test_a_run_resumed_with_more_epochs_warns_that_its_rate_schedule_changed(tmp_path, caplog):
    # `train -o m --epochs 2`, Ctrl-C, then `train -o m --resume --epochs 3`: the cosine decay, set for 2 epochs,
    # was stretched to 3 unsaid, the rate jumping up at the resume, and the card's config said one 3-epoch run.
    torch.set_num_threads(1)
    _stopped_after_one_epoch(tmp_path / "m")
    with caplog.at_level(logging.WARNING):
        record = train(replace(TINY, epochs=3), out=tmp_path / "m", resume=True).model.card.training
    assert (f"{tmp_path / 'm.state.pt'}: resumed with 3 epochs, started with 2: its learning rate schedule is now "
            "set for 3, so the rate jumps here") in caplog.text
    assert [h["epochs"] for h in record["history"]] == [2, 3, 3]  # the card keeps what each epoch was scheduled over


def test_a_run_resumed_with_its_own_epochs_says_nothing_of_its_schedule(tmp_path, caplog):
    torch.set_num_threads(1)
    _stopped_after_one_epoch(tmp_path / "m")
    with caplog.at_level(logging.WARNING):
        train(TINY, out=tmp_path / "m", resume=True)
    assert "learning rate schedule" not in caplog.text
