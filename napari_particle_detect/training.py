"""Training and fine-tuning: synthetic and/or annotated examples, validation F1, best checkpoint.

One loop serves the command line (fresh training, ``--from`` fine-tuning, ``--resume``) and the
napari worker (fine-tuning on corrected frames). It reports progress through a callback and stops
within one step when the ``cancel`` callable returns true.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .devices import select_device
from .errors import ParticleDetectError
from .evaluation import score
from .heatmap import decode, encode
from .models import DetectorModel, build_network, load_model, save_model
from .models.registry import ModelCard
from .prediction import predict_heatmap
from .preprocessing import normalise
from .sizing import estimate_diameter, rescale_centres, rescale_frame, scale_for_diameter
from .synthetic import random_training_config, synthesize

VALIDATION_SEED_BASE = 10_000_000  # training seeds stay below this, so validation images are unseen
# Share of the less crowded synthetic images drawn small and enlarged by a factor in
# ENLARGED_FACTORS, as detection enlarges images of small particles (crowded ones stay sharp:
# enlarged, they teach too little and cost the crowded accuracy).
ENLARGED_SHARE = 0.5
ENLARGED_BELOW_AREA_FRACTION = 0.3
ENLARGED_FACTORS = (1.5, 3.5)


@dataclass
class Example:
    """One annotated frame: an image and its particle centres (y, x), optionally rescaled for the model."""

    image: np.ndarray
    centres: np.ndarray
    scale: float = 1.0
    name: str = ""

    def prepared(self) -> tuple[np.ndarray, np.ndarray]:
        image, factors = rescale_frame(self.image, self.scale)
        return normalise(image), rescale_centres(self.centres, factors)


@dataclass
class TrainConfig:
    architecture: str = "unet"
    channels: tuple[int, ...] | None = None
    epochs: int = 20
    steps_per_epoch: int = 200
    batch_size: int = 16
    crop: int = 96
    learning_rate: float = 2e-3
    sigma: float = 1.5
    # Share of each batch drawn from the generator when annotated examples are given.
    synthetic_fraction: float = 0.5
    radius_range: tuple[float, float] = (3.5, 9.0)
    validation_images: int = 24
    validation_size: int = 128
    tolerance: float = 3.0
    seed: int = 0
    device: str = "auto"
    time_limit_s: float | None = None
    threads: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainResult:
    model: DetectorModel
    best_f1: float
    history: list[dict] = field(default_factory=list)
    cancelled: bool = False
    path: Path | None = None


class TrainingCancelled(Exception):
    """Raised out of :func:`train` when the cancel flag was set; nothing new is saved."""


def _augment(image: np.ndarray, centres: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random flips, 90 degree rotations, polarity, gamma and added noise; centres follow."""
    h, w = image.shape
    centres = centres.copy()
    k = int(rng.integers(4))
    for _ in range(k):
        # rot90 counter-clockwise: (y, x) -> (W - 1 - x, y)
        image = np.rot90(image)
        centres = np.stack([w - 1 - centres[:, 1], centres[:, 0]], axis=1) if len(centres) else centres
        h, w = w, h
    if rng.random() < 0.5:
        image = image[:, ::-1]
        if len(centres):
            centres[:, 1] = w - 1 - centres[:, 1]
    image = np.ascontiguousarray(image, dtype=np.float32)
    if rng.random() < 0.25:
        image = 1.0 - image
    if rng.random() < 0.3:
        gamma = float(np.exp(rng.uniform(-0.4, 0.4)))
        image = np.clip(image, 0, None) ** gamma
    if rng.random() < 0.2:
        image = image + rng.uniform(0.0, 0.08) * rng.standard_normal(image.shape).astype(np.float32)
    return image, centres


def _random_crop(
    image: np.ndarray, centres: np.ndarray, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    h, w = image.shape
    if h < size or w < size:
        ph, pw = max(size - h, 0), max(size - w, 0)
        image = np.pad(image, ((0, ph), (0, pw)), mode="reflect" if min(h, w) > max(ph, pw) else "edge")
        h, w = image.shape
    y0 = int(rng.integers(0, h - size + 1))
    x0 = int(rng.integers(0, w - size + 1))
    crop = image[y0 : y0 + size, x0 : x0 + size]
    shifted = centres - (y0, x0) if len(centres) else centres.reshape(0, 2)
    keep = (shifted[:, 0] >= -0.5) & (shifted[:, 0] < size - 0.5) & (shifted[:, 1] >= -0.5) & (shifted[:, 1] < size - 0.5)
    return crop, shifted[keep]


class BatchSource:
    """Builds training batches; synthetic images are drawn fresh, never repeated."""

    def __init__(self, config: TrainConfig, examples: list[Example] | None, seed: int) -> None:
        self.config = config
        self.examples = [ex.prepared() for ex in (examples or [])]
        self.rng = np.random.default_rng(seed)
        self.next_seed = int(seed) * 1_000_003 % VALIDATION_SEED_BASE

    def _synthetic(self) -> tuple[np.ndarray, np.ndarray]:
        crop = self.config.crop
        cfg = random_training_config(self.rng, shape=(crop, crop), radius_range=self.config.radius_range)
        self.next_seed = (self.next_seed + 1) % VALIDATION_SEED_BASE
        if cfg.area_fraction >= ENLARGED_BELOW_AREA_FRACTION or self.rng.random() >= ENLARGED_SHARE:
            sample = synthesize(cfg, seed=self.next_seed)
            return normalise(sample.image), sample.centres
        # Small particles are enlarged before detection, and the camera's noise with them, which
        # interpolation turns into soft blobs: draw the same scene small and enlarge it likewise.
        factor = float(np.exp(self.rng.uniform(*np.log(ENLARGED_FACTORS))))
        small = int(np.ceil(crop / factor))
        cfg = replace(cfg, shape=(small, small), radius_range=tuple(r / factor for r in cfg.radius_range),
                      psf_sigma=max(cfg.psf_sigma / factor, 0.3))
        sample = synthesize(cfg, seed=self.next_seed)
        image, factors = rescale_frame(sample.image, factor)
        centres = rescale_centres(sample.centres, factors)
        inside = np.all((centres >= -0.5) & (centres < crop - 0.5), axis=1)
        return normalise(image[:crop, :crop]), centres[inside]

    def batch(self) -> tuple[np.ndarray, np.ndarray]:
        images, targets = [], []
        size = self.config.crop
        for _ in range(self.config.batch_size):
            if self.examples and self.rng.random() >= self.config.synthetic_fraction:
                image, centres = self.examples[int(self.rng.integers(len(self.examples)))]
                image, centres = _random_crop(image, centres, size, self.rng)
            else:
                image, centres = self._synthetic()
            image, centres = _augment(image, centres, self.rng)
            images.append(image)
            targets.append(encode(centres, image.shape, self.config.sigma))
        return np.stack(images)[:, None], np.stack(targets)[:, None]


def synthetic_validation_set(config: TrainConfig) -> list[Example]:
    """Fixed, varied synthetic images from seeds no training batch uses."""
    rng = np.random.default_rng(VALIDATION_SEED_BASE)
    shape = (config.validation_size, config.validation_size)
    out = []
    for i in range(config.validation_images):
        cfg = random_training_config(rng, shape=shape, radius_range=config.radius_range)
        sample = synthesize(cfg, seed=VALIDATION_SEED_BASE + i)
        out.append(Example(sample.image, sample.centres, name=f"synthetic-val-{i}"))
    return out


def validation_f1(
    network: nn.Module,
    validation: list[tuple[np.ndarray, np.ndarray]],
    device: torch.device,
    thresholds: list[float],
    min_distance: int,
    tolerance: float,
) -> list[float]:
    """Pooled F1 over the validation images for each threshold (one network pass per image)."""
    network.eval()
    counts = np.zeros((len(thresholds), 3))
    for image, truth in validation:
        heat = predict_heatmap(network, image, device, tile=1024)
        for k, thr in enumerate(thresholds):
            pred, _ = decode(heat, thr, min_distance)
            s = score(pred, truth, tolerance)
            counts[k] += (s.tp, s.fp, s.fn)
    network.train()
    tp, fp, fn = counts.T
    return list(np.where(tp > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0))


def _state_path(out: Path) -> Path:
    return out.with_suffix(".state.pt")


def working_diameter(config: TrainConfig) -> float:
    """The particle size a new model works at: the upper part of its trained range, measured to
    separate crowded particles best."""
    return float(0.85 * 2 * config.radius_range[1])


def train(
    config: TrainConfig,
    examples: list[Example] | None = None,
    validation_examples: list[Example] | None = None,
    init: DetectorModel | str | Path | None = None,
    out: str | Path | None = None,
    progress: Callable[[dict], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    resume: bool = False,
    extra_card: dict | None = None,
) -> TrainResult:
    """Train (or fine-tune from ``init``) and return the best model by validation F1.

    With ``out``, the best model so far is saved there after every improving epoch, plus a
    ``.state.pt`` with optimiser state for ``resume``. Raises :class:`TrainingCancelled` when
    ``cancel()`` becomes true; whatever was saved before stays as it was.
    """
    if config.threads:
        torch.set_num_threads(int(config.threads))
    device = select_device(config.device)
    torch.manual_seed(config.seed)
    if init is not None:
        base = init if isinstance(init, DetectorModel) else load_model(init, "cpu")
        card = replace(base.card)
        network = build_network(card)
        network.load_state_dict(base.network.state_dict())
    else:
        card = ModelCard(architecture=config.architecture, sigma=config.sigma)
        if config.channels:
            card.channels = tuple(config.channels)
        else:
            card.channels = tuple(ModelCard().channels) if config.architecture == "unet" else (12, 24, 48, 96)
        network = build_network(card)
    card.trained_diameter_range = (2 * config.radius_range[0], 2 * config.radius_range[1])
    # Fine-tuning keeps the size its examples were rescaled to.
    card.canonical_diameter = base.card.canonical_diameter if init is not None else working_diameter(config)
    network.to(device).train()
    optimiser = torch.optim.Adam(network.parameters(), lr=config.learning_rate)
    total_steps = config.epochs * config.steps_per_epoch
    clock = {"start": time.monotonic()}

    def fraction_done(step: int) -> float:
        # With a time limit, anneal by whichever runs out first: steps or wall time.
        done = step / max(total_steps, 1)
        if config.time_limit_s:
            done = max(done, (time.monotonic() - clock["start"]) / config.time_limit_s)
        return min(done, 1.0)

    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * fraction_done(step)))
    )
    start_epoch, best_f1, history = 0, -1.0, []
    out = Path(out).with_suffix(".pt") if out is not None else None
    if out is not None:
        # Fail before any training, not at the first save an epoch later.
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ParticleDetectError(f"{out}: cannot create its folder ({error.strerror})") from error
    if resume:
        if out is None or not _state_path(out).exists():
            raise ParticleDetectError(f"nothing to resume: {out and _state_path(out)} does not exist")
        state = torch.load(_state_path(out), map_location="cpu", weights_only=False)
        network.load_state_dict(state["network"])
        optimiser.load_state_dict(state["optimiser"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, best_f1, history = state["epoch"], state["best_f1"], state["history"]
    validation = [ex.prepared() for ex in synthetic_validation_set(config)]
    validation += [ex.prepared() for ex in (validation_examples or [])]
    source = BatchSource(config, examples, seed=config.seed + 7919 * start_epoch)
    best_state = {k: v.detach().clone() for k, v in network.state_dict().items()}
    if init is not None and not resume:
        # The starting model is a candidate too: fine-tuning must not hand back something worse.
        (best_f1,) = validation_f1(network, validation, device, [card.threshold], card.min_distance, config.tolerance)
        history.append({"event": "epoch", "epoch": 0, "epochs": config.epochs, "loss": float("nan"),
                        "val_f1": float(best_f1), "seconds": 0.0})
    loss_fn = nn.MSELoss()
    started = clock["start"] = time.monotonic()
    stop_early = False
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(source.batch)
        for epoch in range(start_epoch, config.epochs):
            losses = []
            for step in range(config.steps_per_epoch):
                if cancel is not None and cancel():
                    pending.cancel()
                    raise TrainingCancelled("training cancelled")
                images, targets = pending.result()
                pending = pool.submit(source.batch)
                x = torch.from_numpy(images).to(device)
                y = torch.from_numpy(targets).to(device)
                optimiser.zero_grad(set_to_none=True)
                loss = loss_fn(network(x), y)
                loss.backward()
                optimiser.step()
                scheduler.step()
                losses.append(loss.item())
                if progress is not None and step % 10 == 0:
                    progress({"event": "step", "epoch": epoch + 1, "epochs": config.epochs, "step": step + 1,
                              "steps": config.steps_per_epoch, "loss": float(np.mean(losses[-10:]))})
                if config.time_limit_s and time.monotonic() - started > config.time_limit_s:
                    stop_early = True
                    break
            (f1,) = validation_f1(network, validation, device, [card.threshold], card.min_distance, config.tolerance)
            record = {"event": "epoch", "epoch": epoch + 1, "epochs": config.epochs, "loss": float(np.mean(losses)),
                      "val_f1": float(f1), "seconds": round(time.monotonic() - started, 1)}
            history.append(record)
            if f1 > best_f1:
                best_f1 = float(f1)
                best_state = {k: v.detach().clone() for k, v in network.state_dict().items()}
                if out is not None:
                    save_model(DetectorModel(_cpu_copy(network, card, best_state), card), out)
            if out is not None:
                torch.save({"network": network.state_dict(), "optimiser": optimiser.state_dict(),
                            "scheduler": scheduler.state_dict(), "epoch": epoch + 1, "best_f1": best_f1,
                            "history": history}, _state_path(out))
            if progress is not None:
                progress(record)
            if stop_early:
                break
    network.load_state_dict(best_state)
    thresholds = [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6]
    f1s = validation_f1(network, validation, device, thresholds, card.min_distance, config.tolerance)
    card.threshold = float(thresholds[int(np.argmax(f1s))])
    best_f1 = float(max(f1s))
    previous = card.training if init is not None else {}
    lineage = previous.get("lineage", []) + (
        [{k: previous[k] for k in ("command", "validation_f1", "annotated_examples") if k in previous}] if previous else []
    )
    card.training = {
        "lineage": lineage,
        **(extra_card or {}),
        "config": config.to_dict(),
        "annotated_examples": len(examples or []),
        "annotated_validation_examples": len(validation_examples or []),
        "validation_f1": best_f1,
        "history": history,
        "generator": "napari_particle_detect.synthetic.random_training_config",
    }
    model = DetectorModel(_cpu_copy(network, card, best_state), card)
    if out is not None:
        save_model(model, out)
    return TrainResult(model=model, best_f1=best_f1, history=history, path=out)


def _cpu_copy(network: nn.Module, card: ModelCard, state: dict) -> nn.Module:
    copy = build_network(card)
    copy.load_state_dict({k: v.detach().cpu() for k, v in state.items()})
    return copy.eval()


def load_examples(
    paths: list[str | Path], working_diameter: float | None = None, diameter: float | None = None
) -> list[Example]:
    """Annotated examples from ``image.tif`` + ``image.csv`` pairs, or folders of them.

    A CSV with a ``frame`` column annotates the frames of a stack; without one it annotates a 2D image.
    With ``working_diameter`` (the model's), each file's examples are rescaled from its particle
    size, ``diameter`` or else estimated from its first annotated frame, as detection would.
    """
    from .io import read_centres, read_image

    examples = []
    for path in paths:
        path = Path(path)
        images = sorted(p for p in path.iterdir() if p.suffix.lower() in (".tif", ".tiff", ".png")) if path.is_dir() else [path]
        for image_path in images:
            csv = image_path.with_suffix(".csv")
            if not csv.exists():
                if path.is_dir():
                    continue
                raise ParticleDetectError(f"{image_path}: no centre table {csv.name} beside it")
            stack = read_image(image_path)
            table = read_centres(csv)
            frames = stack[None] if stack.ndim == 2 else stack
            indices = sorted(set(table["frame"])) if "frame" in table else [0]
            for index in indices:
                if index >= len(frames):
                    raise ParticleDetectError(f"{csv}: frame {index} is beyond the {len(frames)} frames of {image_path.name}")
            scale = 1.0
            if working_diameter is not None:
                size = diameter if diameter is not None else estimate_diameter(frames[indices[0]])
                scale = scale_for_diameter(size, working_diameter)
            for index in indices:
                rows = table[table["frame"] == index] if "frame" in table else table
                examples.append(Example(frames[index], rows[["y", "x"]].to_numpy(float), scale=scale,
                                        name=f"{image_path.name}[{index}]"))
    if not examples:
        raise ParticleDetectError(f"no image + CSV pairs found in {', '.join(map(str, paths))}")
    return examples

