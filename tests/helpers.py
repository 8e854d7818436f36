"""Shared building blocks for the tests."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import torch

from napari_particle_detect.training import TrainConfig, train

TINY = TrainConfig(epochs=1, steps_per_epoch=3, batch_size=2, crop=32, validation_images=2, validation_size=64,
                   threads=1, device="cpu")


def tiny_model_file(folder: Path) -> Path:
    """A real but barely trained model saved to disk (fast; its accuracy is irrelevant)."""
    torch.set_num_threads(1)
    return train(TINY, out=folder / "tiny").path


@contextmanager
def event_loop_ticks(interval_ms: int = 20):
    """Times a main-thread QTimer fired while the block ran: a frozen viewer shows as a gap."""
    from qtpy.QtCore import QTimer

    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(interval_ms)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    try:
        yield ticks
    finally:
        timer.stop()
