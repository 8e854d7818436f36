"""A fine-tuning round of the 3D model on reviewed volumes and 3D boxes, scored honestly.

The 2D round's rules (:mod:`finetune`) on the 3D model's working grid, where particles are about
WORKING_DIAMETER voxels across along every axis: a fixed share of every reviewed area is held out
in cubic tiles picked by a hash of the volume's name and the tile's position (finetune.hold_out_mask,
so the same tiles stay out in every round), a guard band around them is used by nobody, the loss
is masked outside the reviewed areas (nothing is known there), and the new model and its parent are
both scored on the held-out tiles at their best threshold (finetune.score_in_areas). Knows nothing
of projects, napari or files: the dock, ``train --from MODEL --axes ZYX`` and the benchmark run it.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
from scipy import ndimage

from ..errors import ParticleDetectError
from ..kinds.evaluation import match_points
from .finetune import (
    GUARD_DIAMETERS, HOLD_OUT_SHARE, SCORE_FLOOR, TILE_DIAMETERS, Candidates, RoundResult, Split, hold_out_mask,
    report_training, score_in_areas, warm_cosine,
)
from ..kinds.heatmap3d import decode3d, encode3d
from ..models import DetectorModel
from .training import Example, TrainingCancelled, adam, lineage_with, session_fields, take_step
from ..detection.threads import keeps_torch_threads, round_threads

# Held-out cubes are at least this many working voxels wide (two particles).
MIN_TILE_3D = 12


@dataclass(frozen=True)
class VolumeRoundConfig:
    """What a 3D round trains: every layer, crops of the reviewed areas, half of them around the
    parent's mistakes; a short warm-up then a cosine decay (as the 2D round)."""

    steps: int = 150
    batch_size: int = 4
    crop: int = 32  # working voxels per side (a multiple of the network's stride)
    learning_rate: float = 1e-3
    focus_share: float = 0.5  # crops centred on the parent's mistakes
    seed: int = 0
    threads: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


VOLUME_FINE_TUNE = VolumeRoundConfig()


def volume_example(volume: np.ndarray, centres: np.ndarray, name: str, area: np.ndarray | None = None) -> Example:
    """One reviewed volume (or a volume with reviewed boxes: ``area``) on the working grid, normalised;
    ``centres`` (N, 3) in working voxels. Name it stably ("volume 3"): it picks the held-out tiles."""
    return Example(np.asarray(volume, np.float32), np.asarray(centres, float).reshape(-1, 3), 1.0, name,
                   None if area is None else np.asarray(area, bool))


def split_volume(example: Example, diameter: float, share: float = HOLD_OUT_SHARE) -> Split:
    """Where one reviewed volume trains and where it is held out (finetune.split_for_scoring in 3D):
    cubes TILE_DIAMETERS particles wide, a guard band GUARD_DIAMETERS wide around them."""
    shape = example.image.shape
    reviewed = np.ones(shape, bool) if example.area is None else np.asarray(example.area, bool)
    # TILE_DIAMETERS particles wide, but a third of the volume at most, so small boxes have several.
    tile = int(np.clip(round(TILE_DIAMETERS * diameter), MIN_TILE_3D, max(MIN_TILE_3D, min(shape) // 3)))
    held = hold_out_mask(shape, example.name, tile, share, reviewed) & reviewed
    guard = ndimage.distance_transform_edt(~held) <= GUARD_DIAMETERS * diameter if held.any() else held
    return Split(example, reviewed & ~guard, held, diameter / 2)  # matched within half a diameter, as evaluate


def propose3d(model: DetectorModel, volume: np.ndarray, device: torch.device) -> Candidates:
    """The model's candidates on a working-grid volume down to SCORE_FLOOR (tiled as detection is)."""
    from ..detection.volume_inference import predict_heatmap3d

    heat = predict_heatmap3d(model.network.to(device), volume, stride=model.network.stride, device=device)
    centres, scores = decode3d(heat, SCORE_FLOOR, model.card.min_distance, sigma=model.card.sigma)
    inside = np.all((centres >= -0.5) & (centres <= np.array(heat.shape) - 0.5), axis=1)
    return Candidates(centres[inside], scores[inside])


def _propose_all(model, splits, device, which, report, cancel) -> list[Candidates]:
    out = []
    for done, split in enumerate(splits):
        if cancel is not None and cancel():
            raise TrainingCancelled("fine-tuning cancelled")
        report({"phase": "scoring", "model": which, "done": done, "total": len(splits)})
        out.append(propose3d(model, split.example.image, device))
    report({"phase": "scoring", "model": which, "done": len(splits), "total": len(splits)})
    return out


def _mistakes(split: Split, found: Candidates, threshold: float) -> np.ndarray:
    """Inside the training area: corrected centres the parent missed, and its shown points nobody kept."""
    from ..kinds.evaluation import mask_value_at  # a mask's value at each point's nearest voxel, in any dimension

    shown = found.centres[found.scores > threshold]
    truth = split.example.centres[mask_value_at(split.train_area, split.example.centres)]
    shown = shown[mask_value_at(split.train_area, shown)]
    pi, ti = match_points(shown, truth, split.tolerance)
    missed = np.setdiff1d(np.arange(len(truth)), ti)
    spurious = np.setdiff1d(np.arange(len(shown)), pi)
    return np.concatenate([truth[missed], shown[spurious]]).reshape(-1, 3)


class CropSource:
    """Random crops of the training areas: a volume, its target heatmap and the loss weights (zero
    outside the training area, heavier near centres as in volume_training)."""

    def __init__(self, examples: list[Example], areas: list[np.ndarray], focus: list[np.ndarray],
                 config: VolumeRoundConfig, sigma: float) -> None:
        self.config, self.sigma = config, sigma
        self.rng = np.random.default_rng(config.seed)
        self.items = []
        for example, area, points in zip(examples, areas, focus):
            pad = [(0, max(0, config.crop - n)) for n in example.image.shape]
            volume = np.pad(example.image, pad, mode="reflect") if any(p[1] for p in pad) else example.image
            area = np.pad(area, pad) if any(p[1] for p in pad) else area
            self.items.append((volume, example.centres, area, np.argwhere(area), points))
        # Volumes with more area to learn from are drawn more often.
        sizes = np.array([len(item[3]) for item in self.items], float)
        self.weights = sizes / sizes.sum()

    def _one(self):
        size = self.config.crop
        volume, centres, area, voxels, focus = self.items[self.rng.choice(len(self.items), p=self.weights)]
        if len(focus) and self.rng.random() < self.config.focus_share:
            middle = focus[self.rng.integers(len(focus))]
        else:
            middle = voxels[self.rng.integers(len(voxels))]
        start = np.clip(np.rint(middle).astype(int) - size // 2, 0, np.array(volume.shape) - size)
        box = tuple(slice(s, s + size) for s in start)
        local = centres - start
        near = np.all((local > -4) & (local < size + 3), axis=1)
        crop, target, weight = volume[box], encode3d(local[near], (size,) * 3, self.sigma), area[box].astype(np.float32)
        for axis in range(3):
            if self.rng.random() < 0.5:
                crop, target, weight = (np.flip(a, axis) for a in (crop, target, weight))
        if self.rng.random() < 0.5:
            crop, target, weight = (a.transpose(0, 2, 1) for a in (crop, target, weight))
        return crop, target, weight

    def batch(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        parts = [self._one() for _ in range(self.config.batch_size)]
        x, y, w = (torch.from_numpy(np.ascontiguousarray(np.stack([p[i] for p in parts])[:, None])) for i in range(3))
        return x, y, w * (1.0 + 4.0 * (y > 0.05).float())


def train_steps3d(model: DetectorModel, source: CropSource, config: VolumeRoundConfig, device: torch.device,
                  report: Callable[[dict], None], cancel: Callable[[], bool] | None, history: list[dict]) -> DetectorModel:
    """A copy of ``model`` trained ``config.steps`` steps on masked crops (warm-up, cosine decay)."""
    torch.manual_seed(config.seed)
    network = copy.deepcopy(model.network).to(device).train()
    optimiser = adam(network.parameters(), config.learning_rate)
    scheduler = warm_cosine(optimiser, config.steps)
    losses: list[float] = []
    for step in range(config.steps):
        if cancel is not None and cancel():
            raise TrainingCancelled("fine-tuning cancelled")
        x, y, w = (t.to(device) for t in source.batch())
        optimiser.zero_grad(set_to_none=True)
        loss = (((network(x) - y) ** 2) * w).sum() / w.sum().clamp(min=1.0)
        losses.append(take_step(loss, optimiser, scheduler, f"fine-tuning diverged at step {step + 1}",
                                "check the reviewed volumes"))
        report_training(step, config.steps, losses, history, report)
    network.eval()
    return DetectorModel(copy.deepcopy(network).cpu() if device.type != "cpu" else network, copy.deepcopy(model.card))


@keeps_torch_threads
def fine_tune_volumes(
    model: DetectorModel,
    examples: list[Example],
    config: VolumeRoundConfig = VOLUME_FINE_TUNE,
    device: str | torch.device = "cpu",
    hold_out: float = HOLD_OUT_SHARE,
    progress: Callable[[dict], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> RoundResult:
    """Fine-tune the 3D ``model`` on reviewed working-grid ``examples`` (:func:`volume_example`) and
    score it and its parent on the held-out tiles. Progress events as the 2D round's (preparing,
    scoring, training, done); raises TrainingCancelled within a step of ``cancel()`` turning true.
    The input model is left as it was."""
    started = time.monotonic()
    report = progress or (lambda event: None)
    if model.card.spatial_dims != 3:
        raise ParticleDetectError(f"{model.path}: a 2D model; a volume round fine-tunes a 3D model")
    if not examples:
        raise ParticleDetectError("accept at least one corrected volume or 3D box before fine-tuning")
    report({"phase": "preparing"})
    device = torch.device(device) if not isinstance(device, torch.device) else device
    if device.type == "cuda" and not torch.cuda.is_available():
        device = torch.device("cpu")
    torch.set_num_threads(round_threads(config.threads))
    session = session_fields(device)
    diameter = float(model.card.canonical_diameter)
    splits = [split_volume(e, diameter, hold_out) for e in examples]
    if not any(s.train_area.any() for s in splits):
        raise ParticleDetectError("the reviewed areas are too small to train on; review a larger box or a volume")
    parents = _propose_all(model, splits, device, "parent", report, cancel)
    parent_score = score_in_areas(splits, parents)
    threshold = parent_score.threshold if parent_score else model.card.threshold
    used = [(s, c) for s, c in zip(splits, parents) if s.train_area.any()]
    source = CropSource([s.example for s, _ in used], [s.train_area for s, _ in used],
                        [_mistakes(s, c, threshold) for s, c in used], config, model.card.sigma)
    history: list[dict] = []
    child = train_steps3d(model, source, config, device, report, cancel, history)
    score = score_in_areas(splits, _propose_all(child, splits, device, "new model", report, cancel))
    if score is not None:
        child.card.threshold = score.threshold
    held_tiles = sum(int(ndimage.label(s.held_area)[1]) for s in splits)
    # The round's own record; the parent's (its training, score, command) goes into the lineage.
    child.card.training = {
        "lineage": lineage_with(model.card.training),
        "fine_tuned": {"examples": len(used), "held_out_tiles": held_tiles, "config": config.to_dict(),
                       "hold_out": hold_out, "f1": score.f1 if score else None,
                       "parent_f1": parent_score.f1 if parent_score else None,
                       **session},  # where it trained (device, CPU threads, version)
    }
    result = RoundResult(model=child, trained_examples=len(used), held_out_tiles=held_tiles, score=score,
                         parent_score=parent_score, history=history, seconds=time.monotonic() - started)
    report({"phase": "done", "seconds": result.seconds})
    return result


def with_config(config: VolumeRoundConfig, **given) -> VolumeRoundConfig:
    """``config`` with the options given (None: keep)."""
    return replace(config, **{k: v for k, v in given.items() if v is not None})
