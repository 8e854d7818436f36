"""A fine-tuning round: a model and the user's annotated examples in, a scored model out.

Knows nothing of projects, napari or files, so the dock, the command line (``train --from``) and
the benchmarks run the same round.

Honest scoring: a fixed share of every reviewed area is held out of training, in tiles chosen by
a fixed rule from the frame number and the tile's position, so the same tiles stay out in every
round and no round ever trains on them. The new model and the model it started from are both
scored there, each at the threshold that suits it best, against the user's corrections. A round
that does not beat its parent there says so (``RoundResult.improved``).
"""

from __future__ import annotations

import copy
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from .devices import select_device
from .errors import ParticleDetectError
from .evaluation import Counts, count_in_area
from .models import DetectorModel
from .prediction import detect_frame, prepare_network
from .training import BatchSource, Example, TrainConfig, TrainingCancelled, weighted_mse

# What a round trains, chosen by measurement (benchmarks/loop.py): every layer, from the user's
# frames alone (synthetic images in the batch slowed learning on unfamiliar optics and protected
# nothing the user needs), a short warm-up then a cosine decay.
FINE_TUNE = TrainConfig(
    epochs=1, steps_per_epoch=200, batch_size=8, crop=64, learning_rate=2e-3, synthetic_fraction=0.0,
    validation_images=0, seed=0,
)
WARMUP_SHARE = 0.1
# Share of every reviewed area held out of training to score rounds on.
HOLD_OUT_SHARE = 0.2
# Held-out tiles are this many particle diameters wide (at least MIN_TILE px): big enough to
# hold whole particles with context, small enough that a region of a frame has several.
TILE_DIAMETERS = 6.0
MIN_TILE = 32
# Heatmap score down to which candidates are decoded when tuning a threshold.
SCORE_FLOOR = 0.05
THRESHOLDS = tuple(np.round(np.arange(0.1, 0.71, 0.05), 2))


@dataclass
class Scored:
    """A model's result on the held-out areas at its best threshold."""

    f1: float
    threshold: float
    counts: Counts


@dataclass
class RoundResult:
    """A fine-tuned model and how it and its parent score on the same held-out areas."""

    model: DetectorModel
    trained_examples: int
    held_out_tiles: int
    score: Scored | None  # None when nothing could be held out (too little reviewed)
    parent_score: Scored | None
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def improved(self) -> bool | None:
        """Whether the round beats its parent on the held-out areas (None: nothing to tell by)."""
        if self.score is None or self.parent_score is None:
            return None
        return self.score.f1 > self.parent_score.f1


def hold_out_mask(shape: tuple[int, int], frame: int, tile: int, share: float = HOLD_OUT_SHARE) -> np.ndarray:
    """The held-out pixels of a frame: whole tiles picked by a hash of (frame, tile row, tile column).

    The same frame always gives the same tiles, so an area once held out is held out in every round.
    """
    rows, cols = math.ceil(shape[0] / tile), math.ceil(shape[1] / tile)
    picked = np.zeros((rows, cols), dtype=bool)
    for r in range(rows):
        for c in range(cols):
            digest = hashlib.blake2b(f"{frame}:{r}:{c}".encode(), digest_size=8).digest()
            picked[r, c] = int.from_bytes(digest, "little") / 2**64 < share
    return np.repeat(np.repeat(picked, tile, axis=0), tile, axis=1)[: shape[0], : shape[1]]


def split_for_scoring(
    example: Example, frame: int, diameter: float, share: float = HOLD_OUT_SHARE
) -> tuple[Example | None, Example | None]:
    """(the part to train on, the part held out to score on) of one reviewed frame or region.

    A guard band of one diameter around held-out tiles is used by neither, so no held-out
    particle's label leaks into training through the edge of its heatmap peak.
    """
    from scipy import ndimage

    shape = example.image.shape
    reviewed = np.ones(shape, dtype=bool) if example.area is None else np.asarray(example.area, dtype=bool)
    tile = max(MIN_TILE, int(round(TILE_DIAMETERS * diameter)))
    held = hold_out_mask(shape, frame, tile, share) & reviewed
    guard = ndimage.distance_transform_edt(~held) <= diameter if held.any() else held
    train_area = reviewed & ~guard
    train = replace(example, area=train_area) if train_area.any() else None
    scored = replace(example, area=held) if held.any() else None
    return train, scored


def score_model(
    model: DetectorModel,
    examples: list[Example],
    device: torch.device,
    tolerance: float,
    ringed: bool = False,
    cancel: Callable[[], bool] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Scored | None:
    """Pooled F1 inside the examples' areas at the best of THRESHOLDS (one network pass each)."""
    if not examples:
        return None
    network = prepare_network(model, device)
    totals = [Counts() for _ in THRESHOLDS]
    for done, example in enumerate(examples, start=1):
        if cancel is not None and cancel():
            raise TrainingCancelled("fine-tuning cancelled")
        result = detect_frame(model, example.image, device, SCORE_FLOOR, example.scale, ringed=ringed,
                              network=network, name=example.name or "example")
        for k, threshold in enumerate(THRESHOLDS):
            keep = result.scores > threshold
            totals[k] = totals[k] + count_in_area(result.centres[keep], example.centres, example.area, tolerance)
        if progress is not None:
            progress(done)
    best = int(np.argmax([c.f1 for c in totals]))
    return Scored(totals[best].f1, float(THRESHOLDS[best]), totals[best])


def fine_tune(
    model: DetectorModel,
    examples: list[tuple[int, Example]],
    diameter: float,
    config: TrainConfig = FINE_TUNE,
    device: str | torch.device = "auto",
    ringed: bool = False,
    hold_out: float = HOLD_OUT_SHARE,
    progress: Callable[[dict], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> RoundResult:
    """Fine-tune ``model`` on ``examples`` ((frame number, example) pairs) and score the round.

    ``diameter`` is the particles' size in the examples' pixels (it sizes the held-out tiles and
    the matching tolerance); each example's ``scale`` brings it to the model's working size, as
    detection does. Progress events have a ``phase`` (preparing, training, scoring, done); raises
    :class:`TrainingCancelled` within a step of ``cancel()`` turning true. The input model is
    left as it was.
    """
    started = time.monotonic()
    report = progress or (lambda event: None)
    if not examples:
        raise ParticleDetectError("accept at least one corrected frame or region before fine-tuning")
    report({"phase": "preparing"})
    device = select_device(config.device if device == "auto" else device)
    if config.threads:
        torch.set_num_threads(int(config.threads))
    train_part, held_part = [], []
    for frame, example in examples:
        train, held = split_for_scoring(example, frame, diameter, hold_out)
        if train is not None:
            train_part.append(train)
        if held is not None:
            held_part.append(held)
    if not train_part:
        raise ParticleDetectError("the reviewed areas are too small to train on; review a larger region or a frame")
    tolerance = scoring_tolerance(diameter)
    history: list[dict] = []

    parent_score = _scoring_phase(model, held_part, device, tolerance, ringed, "parent", report, cancel)
    child = train_steps(model, train_part, config, device, report, cancel, history)
    score = _scoring_phase(child, held_part, device, tolerance, ringed, "new model", report, cancel)
    if score is not None:
        child.card.threshold = score.threshold
    child.card.training = {
        **{k: v for k, v in child.card.training.items() if k != "history"},
        "fine_tuned": {"examples": len(train_part), "held_out_tiles": sum(_tiles(e) for e in held_part),
                       "config": config.to_dict(), "hold_out": hold_out,
                       "f1": score.f1 if score else None, "parent_f1": parent_score.f1 if parent_score else None},
    }
    result = RoundResult(model=child, trained_examples=len(train_part),
                         held_out_tiles=sum(_tiles(e) for e in held_part), score=score,
                         parent_score=parent_score, history=history, seconds=time.monotonic() - started)
    report({"phase": "done", "seconds": result.seconds})
    return result


def scoring_tolerance(diameter: float) -> float:
    """Match radius for scoring rounds: a quarter particle diameter, at least 1.5 px."""
    return max(1.5, diameter / 4.0)


def _tiles(example: Example) -> int:
    from scipy import ndimage

    return int(ndimage.label(example.area)[1]) if example.area is not None else 1


def _scoring_phase(model, held, device, tolerance, ringed, which, report, cancel) -> Scored | None:
    if not held:
        return None
    report({"phase": "scoring", "model": which, "done": 0, "total": len(held)})
    return score_model(model, held, device, tolerance, ringed, cancel,
                       lambda done: report({"phase": "scoring", "model": which, "done": done, "total": len(held)}))


def train_steps(
    model: DetectorModel,
    examples: list[Example],
    config: TrainConfig,
    device: torch.device,
    report: Callable[[dict], None],
    cancel: Callable[[], bool] | None,
    history: list[dict],
) -> DetectorModel:
    """A copy of ``model`` trained for ``config``'s steps on ``examples`` (warm-up, cosine decay)."""
    torch.manual_seed(config.seed)
    network = copy.deepcopy(model.network).to(device).train()
    card = copy.deepcopy(model.card)
    optimiser = torch.optim.Adam(network.parameters(), lr=config.learning_rate)
    steps = max(1, config.epochs * config.steps_per_epoch)
    warmup = max(1, int(WARMUP_SHARE * steps))

    def rate(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, rate)
    source = BatchSource(config, examples, seed=config.seed)
    losses: list[float] = []
    for step in range(steps):
        if cancel is not None and cancel():
            raise TrainingCancelled("fine-tuning cancelled")
        images, targets, weights = source.batch()
        x, y, w = (torch.from_numpy(a).to(device) for a in (images, targets, weights))
        optimiser.zero_grad(set_to_none=True)
        loss = weighted_mse(network(x), y, w)
        loss.backward()
        optimiser.step()
        scheduler.step()
        losses.append(float(loss.item()))
        if step % 5 == 4 or step == steps - 1:
            event = {"phase": "training", "step": step + 1, "steps": steps, "loss": float(np.mean(losses[-5:]))}
            history.append(event)
            report(event)
    network.eval()
    trained = copy.deepcopy(network).cpu() if device.type != "cpu" else network
    return DetectorModel(trained, card)
