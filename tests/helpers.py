"""Shared fixtures' building blocks for the engine tests."""

from __future__ import annotations

from pathlib import Path

import torch

from napari_particle_detect.training import TrainConfig, train

TINY = TrainConfig(epochs=1, steps_per_epoch=3, batch_size=2, crop=32, validation_images=2, validation_size=64,
                   threads=1, device="cpu")


def tiny_model_file(folder: Path) -> Path:
    """A real but barely trained model saved to disk (fast; its accuracy is irrelevant)."""
    torch.set_num_threads(1)
    return train(TINY, out=folder / "tiny").path
