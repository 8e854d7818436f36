"""Training and fine-tuning: synthetic and/or annotated examples, validation F1, best checkpoint.

One loop serves the command line (fresh training, ``--from`` fine-tuning, ``--resume``) and the
napari worker (fine-tuning on corrected frames). It reports progress through a callback and stops
within one step when the ``cancel`` callable returns true.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import math
import re
import numbers
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from itertools import islice
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, NamedTuple, NoReturn, TypeVar

import numpy as np
import torch
from scipy import ndimage
from torch import nn

from .. import __version__
from ..detection.devices import select_device, training_dtype
from ..errors import ParticleDetectError
from ..kinds.evaluation import Counts, best_threshold_index, count_in_area
from ..kinds.heatmap import decode, encode
from ..models import DetectorModel, build_network, load_model, save_model
from ..models.registry import (  # resume_state_path: this module's API too, as ever
    ModelCard, network_for_weights, read_saved_tensors, require_kind, resume_state_path, save_tensors,
)
from ..shipped import refuse_shipped_output
from ..stop_signals import held_stop_signals
from ..detection.prediction import predict_heatmap
from ..detection.preprocessing import as_frames, check_frame, normalise
from ..detection.sizing import estimate_diameter, rescale_centres, rescale_frame, scale_for_diameter
from ..detection.steps import network_input
from ..detection.stages import CHANNELS_LAST_DEVICES, laid_out_for
from ..synthetic.spheres import SynthConfig, random_training_config, synthesize
from ..detection.threads import keeps_torch_threads

if TYPE_CHECKING:
    import pandas as pd

T = TypeVar("T")
log = logging.getLogger(__name__)
VALIDATION_SEED_BASE = 10_000_000  # training seeds stay below this, so validation images are unseen
# Share of the less crowded synthetic images drawn small and enlarged by a factor in
# ENLARGED_FACTORS, as detection enlarges images of small particles (crowded ones stay sharp:
# enlarged, they teach too little and cost the crowded accuracy).
ENLARGED_SHARE = 0.5
ENLARGED_BELOW_AREA_FRACTION = 0.3
ENLARGED_FACTORS = (1.5, 3.5)


class PreparedExample(NamedTuple):
    """An example as the network sees it: normalised, at the model's working scale."""

    image: np.ndarray
    centres: np.ndarray
    area: np.ndarray | None  # where the centres are complete; None: everywhere
    focus: np.ndarray | None = None  # points worth more crops (a parent model's mistakes)


@dataclass
class Example:
    """One annotated frame: an image and its particle centres (y, x), rescaled for the model.

    ``scale`` is the factor that brings the image's particles to the model's working size (1: as it
    is). None, the default, means the scale detection would use: the particles' diameter estimated
    from the image, as :func:`~detection.prediction.detect` estimates it, brought to the model's
    ``canonical_diameter`` (:func:`with_detection_scale`; ``fine_tune`` and ``train`` resolve it), so a
    round trains and is scored on the frames as detection will see them.

    ``area`` (a boolean mask of the image's pixels) says where ``centres`` are the whole truth: a
    region the user reviewed. Outside it nothing is known, so training neither rewards nor punishes
    the network there. None means the whole image was reviewed.
    """

    image: np.ndarray
    centres: np.ndarray
    scale: float | None = None
    name: str = ""
    area: np.ndarray | None = None
    # (y, x) points where training should look harder: where the model being tuned was wrong.
    focus: np.ndarray | None = None
    # Its file as the user gave its path, and frame (``a/img.tif[0]``): what is said of it where another example of
    # the run has its ``name`` (:func:`said_names`). ``name`` stays the file's name: a round draws its held-out
    # tiles by it, the same wherever the folder is and however its path is typed.
    given_as: str = ""

    def prepared(self) -> PreparedExample:
        if self.scale is None:
            raise ParticleDetectError(f"{self.name or 'example'}: its scale is not resolved yet; "
                                      "with_detection_scale gives it the scale detection would use")
        image, factors = network_input(self.image, self.scale)
        area = None
        if self.area is not None:
            area = np.asarray(self.area, dtype=bool)
            if factors is not None and tuple(image.shape) != area.shape:
                area = resampled_area(area, image.shape, factors)
        focus = rescale_centres(self.focus, factors) if self.focus is not None and len(self.focus) else None
        return PreparedExample(image, rescale_centres(self.centres, factors), area, focus)


def resampled_area(area: np.ndarray, shape: tuple[int, int], factors: np.ndarray) -> np.ndarray:
    """A reviewed ``area`` (bool) on the grid of its image resampled to ``shape`` by ``factors``: each pixel the
    nearest pixel of the original grid."""
    rows, cols = (_source_index(n, f, source) for n, f, source in zip(shape, factors, area.shape))
    return np.asarray(area, dtype=bool)[np.ix_(rows, cols)]


def _source_index(size: int, factor: float, source_size: int) -> np.ndarray:
    return np.clip(np.floor((np.arange(size) + 0.5) / factor).astype(int), 0, source_size - 1)


def detection_scale(image: np.ndarray, working_diameter: float, name: str = "image") -> float:
    """The factor detection rescales a single frame by: its particles' diameter estimated as
    :func:`~detection.prediction.resolve_sizing` estimates one frame's, brought to ``working_diameter``."""
    return scale_for_diameter(estimate_diameter(check_frame(image, name)), working_diameter)


def with_detection_scale(examples: Iterable[Example], working_diameter: float) -> list[Example]:
    """``examples`` with each unset ``scale`` (None) set to :func:`detection_scale` for a model working at
    ``working_diameter`` (its card's ``canonical_diameter``); a scale given stays as it is."""
    return [example if example.scale is not None
            else replace(example, scale=detection_scale(example.image, working_diameter, example.name or "example"))
            for example in examples]


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
    # torch CPU threads; None: torch's count in training, what the CPU's load leaves free in a round
    # (detection.threads.round_threads).
    threads: int | None = None
    # Fine-tuning rounds also learn which candidates the user keeps (rescoring.Criterion).
    learn_criterion: bool = True
    # Share of annotated crops centred near a focus point (a mistake of the model being tuned).
    focus_share: float = 0.5
    # What fine-tuning updates: "all" layers, or only the "decoder" (the encoder frozen).
    trainable: str = "all"
    # Distillation: a trained model whose heatmap is mixed into the targets with this weight (the
    # rest is the truth's), so a smaller network learns the teacher's calibrated scores too.
    teacher: str | None = None
    teacher_weight: float = 0.5
    # Only near the true particles (where the truth's heatmap exceeds TEACHER_NEAR): the teacher's shapes
    # and overlaps are taught, not its faint responses to empty background and noise.
    teacher_near_particles: bool = False
    # Fine-tuning rounds: how many unreviewed frames the teacher pseudo-labels (0: none;
    # learning/pseudo_labels.py), the share of each batch cropped from them (seen under strong
    # augmentation), and the teacher's thresholds: a particle at or above pseudo_high, background
    # under pseudo_low, masked out between.
    unlabelled_frames: int = 0
    pseudo_share: float = 0.5
    pseudo_high: float = 0.5
    pseudo_low: float = 0.15
    # Which unreviewed frames: "spread" over the stack, or "confident" (those projects/review.py ranks least uncertain).
    pseudo_choice: str = "spread"
    # Share of the round's steps trained on the reviewed areas alone before the teacher labels the
    # unreviewed frames: the teacher is the student so far (0: the parent, before any training).
    pseudo_teacher_at: float = 0.5
    # Pseudo-labelled crops seen under strong augmentation (strong_augment below): off,
    # measured worse (benchmarks/results/loop_semi.txt: dim spheres 0.871 vs 0.878, bright-field 0.876 vs 0.883).
    pseudo_strong: bool = False
    # Diffraction-limited spots: the share of synthetic crops drawn as Gaussian or Airy spots whatever
    # the look drawn, and the range their closest pairs may come to (x mean radius; None: the
    # generator's 0.7-1.2), so a run can teach splitting spots closer than other particles come.
    spot_share: float = 0.0
    spot_min_separation: tuple[float, float] | None = None
    # Number format of the forward pass (devices.training_dtype): float32, bfloat16, or auto (bfloat16 on a
    # CPU that computes in it natively). Rounds use auto (finetune.FINE_TUNE); a recipe's phase may set it.
    precision: str = "float32"
    # Which epoch the run hands back: the "best" on the validation images (the start too, when fine-tuning), or
    # the "last": for a settling phase whose validation set can no longer tell its epochs apart.
    keep: str = "best"

    def to_dict(self) -> dict:
        return asdict(self)


def check_train_config(config: TrainConfig, stride: int) -> None:
    """Refuse, before any work, a config training cannot run with: one ParticleDetectError naming the field
    and what it may be. ``stride`` is the network's (``network.stride``): it halves a crop that many times
    over, so a crop must be a multiple of it, and at least two of it so its deepest layer still holds a
    2x2 map (1x1 breaks batch norm on a batch of one)."""
    for name in ("epochs", "steps_per_epoch", "batch_size"):
        value = getattr(config, name)
        if not _whole(value) or value < 1:
            raise ParticleDetectError(f"TrainConfig.{name} must be a whole number of at least 1, got {value!r:.40}")
    crop, smallest = config.crop, 2 * stride
    if not _whole(crop) or crop < smallest or crop % stride:
        raise ParticleDetectError(f"TrainConfig.crop must be a multiple of {stride} of at least {smallest} px (this "
                                  f"network halves a crop {int(math.log2(stride))} times), got {crop!r:.40}")
    rate = config.learning_rate
    if not (isinstance(rate, numbers.Real) and not isinstance(rate, bool) and math.isfinite(rate) and rate > 0):
        raise ParticleDetectError(f"TrainConfig.learning_rate must be a number above 0, got {rate!r:.40}")
    at = config.pseudo_teacher_at
    # At 1 (of the steps) or later no step reaches the teacher: the unreviewed frames would be offered, never labelled.
    if not (isinstance(at, numbers.Real) and not isinstance(at, bool) and 0 <= at < 1):
        raise ParticleDetectError("TrainConfig.pseudo_teacher_at must be a share of the steps from 0 (the parent "
                                  f"teaches) up to but not including 1, got {at!r:.40}")


def _whole(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


@dataclass
class TrainResult:
    model: DetectorModel
    best_f1: float
    history: list[dict] = field(default_factory=list)
    cancelled: bool = False
    path: Path | None = None


class TrainingCancelled(Exception):
    """Raised out of :func:`train` when the cancel flag was set: the steps of the epoch under way are kept in
    the resume state only (a resume goes on at the next step); the model saved stays as it was."""


def _augment(
    image: np.ndarray, centres: np.ndarray, rng: np.random.Generator, weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random flips, 90 degree rotations, polarity, gamma and added noise; centres (and weights) follow."""
    h, w = image.shape
    centres = centres.copy()
    k = int(rng.integers(4))
    for _ in range(k):
        # rot90 counter-clockwise: (y, x) -> (W - 1 - x, y)
        image = np.rot90(image)
        weight = np.rot90(weight) if weight is not None else None
        centres = np.stack([w - 1 - centres[:, 1], centres[:, 0]], axis=1) if len(centres) else centres
        h, w = w, h
    if rng.random() < 0.5:
        image = image[:, ::-1]
        weight = weight[:, ::-1] if weight is not None else None
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
    if weight is None:
        return image, centres
    return image, centres, np.ascontiguousarray(weight, dtype=np.float32)


def _random_crop(
    image: np.ndarray, centres: np.ndarray, size: int, rng: np.random.Generator,
    area: np.ndarray | None = None, area_pixels: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A ``size`` square crop, its centres and its loss weights (1 inside the reviewed area, else 0).

    With an area, the crop is centred on a random pixel of it (``area_pixels``: its flat indices),
    so every crop teaches something.
    """
    h, w = image.shape
    target = None
    if area_pixels is not None and len(area_pixels):
        target = divmod(int(area_pixels[rng.integers(len(area_pixels))]), w)
    if h < size or w < size:
        ph, pw = max(size - h, 0), max(size - w, 0)
        mode = "reflect" if min(h, w) > max(ph, pw) else "edge"
        image = np.pad(image, ((0, ph), (0, pw)), mode=mode)
        if area is not None:
            area = np.pad(area, ((0, ph), (0, pw)), mode="constant")
        h, w = image.shape
    if target is not None:
        cy, cx = target
        y0 = int(np.clip(cy - size // 2 + rng.integers(-size // 4, size // 4 + 1), 0, h - size))
        x0 = int(np.clip(cx - size // 2 + rng.integers(-size // 4, size // 4 + 1), 0, w - size))
    else:
        y0 = int(rng.integers(0, h - size + 1))
        x0 = int(rng.integers(0, w - size + 1))
    crop = image[y0 : y0 + size, x0 : x0 + size]
    weight = (area[y0 : y0 + size, x0 : x0 + size].astype(np.float32) if area is not None
              else np.ones((size, size), np.float32))
    shifted = centres - (y0, x0) if len(centres) else centres.reshape(0, 2)
    keep = (shifted[:, 0] >= -0.5) & (shifted[:, 0] < size - 0.5) & (shifted[:, 1] >= -0.5) & (shifted[:, 1] < size - 0.5)
    return crop, shifted[keep], weight


class BatchSource:
    """Builds training batches (images, target heatmaps, loss weights); synthetic images are drawn
    fresh, never repeated; annotated ones are cropped inside their reviewed areas, half of the
    time around one of their focus points when they have some."""

    def __init__(self, config: TrainConfig, examples: list[Example] | None, seed: int,
                 prepared: list[PreparedExample] | None = None, pseudo: list[Example] | None = None) -> None:
        self.config = config
        self.examples = prepared if prepared is not None else [ex.prepared() for ex in (examples or [])]
        self.area_pixels = [np.flatnonzero(ex.area) if ex.area is not None else None for ex in self.examples]
        self.rng = np.random.default_rng(seed)
        self.next_seed = int(seed) * 1_000_003 % VALIDATION_SEED_BASE
        self.set_pseudo(pseudo or [])

    def set_pseudo(self, pseudo: list[Example]) -> None:
        """Pseudo-labelled examples (learning/pseudo_labels.py): config.pseudo_share of the crops from now on,
        strongly augmented."""
        self.pseudo = [ex.prepared() for ex in pseudo]
        self.pseudo = [ex for ex in self.pseudo if ex.area is None or ex.area.any()]
        self.pseudo_pixels = [np.flatnonzero(ex.area) if ex.area is not None else None for ex in self.pseudo]

    def _synthetic(self) -> tuple[np.ndarray, np.ndarray]:
        crop = self.config.crop
        cfg = random_training_config(self.rng, shape=(crop, crop), radius_range=self.config.radius_range)
        cfg = with_spot_options(cfg, self.config, self.rng)
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

    def batch(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        images, targets, weights = [], [], []
        size = self.config.crop
        for _ in range(self.config.batch_size):
            if self.pseudo and (not self.examples or self.rng.random() < self.config.pseudo_share):

                k = int(self.rng.integers(len(self.pseudo)))
                example = self.pseudo[k]
                image, centres, weight = _random_crop(example.image, example.centres, size, self.rng,
                                                      example.area, self.pseudo_pixels[k])
                if self.config.pseudo_strong:
                    image, centres, weight = strong_augment(image, centres, weight, self.rng)
            elif self.examples and self.rng.random() >= self.config.synthetic_fraction:
                k = int(self.rng.integers(len(self.examples)))
                example = self.examples[k]
                pixels = self.area_pixels[k]
                if example.focus is not None and self.rng.random() < self.config.focus_share:
                    point = example.focus[int(self.rng.integers(len(example.focus)))]
                    y, x = np.clip(np.rint(point).astype(int), 0, np.array(example.image.shape) - 1)
                    pixels = np.array([y * example.image.shape[1] + x])
                image, centres, weight = _random_crop(example.image, example.centres, size, self.rng,
                                                      example.area, pixels)
            else:
                image, centres = self._synthetic()
                weight = np.ones(image.shape, np.float32)
            image, centres, weight = _augment(image, centres, self.rng, weight)
            images.append(image)
            targets.append(encode(centres, image.shape, self.config.sigma))
            weights.append(weight)
        return np.stack(images)[:, None], np.stack(targets)[:, None], np.stack(weights)[:, None]


def forward_in(network: nn.Module, x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The network's output in float32, its forward pass run in ``dtype`` (devices.training_dtype) on
    ``x`` laid out as the network is (:func:`training_layout`)."""
    if trains_channels_last(network, x.device):
        x = laid_out_for(network, x)
    with torch.autocast(x.device.type, dtype=dtype, enabled=dtype != torch.float32):
        return network(x).float()


def strided_pointwise(network: nn.Module) -> bool:
    """Whether ``network`` has a 2D convolution whose kernel is smaller than its stride (the ResNet's
    1x1, stride-2 shortcuts): see :func:`trains_channels_last`."""
    return any(isinstance(m, nn.Conv2d) and any(k < s for k, s in zip(m.kernel_size, m.stride))
               for m in network.modules())


def trains_channels_last(network: nn.Module, device: torch.device) -> bool:
    """Whether ``network`` trains in channels-last on ``device``: 2D networks on CPUs and CUDA, except,
    on a CPU, one with a convolution whose kernel is smaller than its stride. With torch 2.13.0+cpu
    (oneDNN) the weight gradient of such a convolution in channels-last corrupts the heap and ends the
    process ("double free or corruption (!prev)" or a segmentation fault in ``loss.backward()``);
    minimal trigger: ``Conv2d(12, 12, 1, stride=2)``, weight and a 1x12x96x96 input in channels-last,
    ``.sum().backward()`` (scripts/torch_channels_last_strided_conv_crash.py). The ResNet's shortcuts
    are such convolutions, so it trains in the usual layout on a CPU; the UNet keeps channels-last.
    Its forward pass in channels-last is sound: detection keeps the layout."""
    if device.type not in CHANNELS_LAST_DEVICES or any(p.dim() == 5 for p in network.parameters()):
        return False
    return not (device.type == "cpu" and strided_pointwise(network))


def training_layout(network: nn.Module, device: torch.device) -> nn.Module:
    """``network`` (on ``device``) in the memory layout its training steps run fastest in and safely
    (:func:`trains_channels_last`): channels-last for 2D networks on CPUs and CUDA. One step on 8 crops
    of 64 px with the shipped UNet, 2 CPU threads: 46-50 ms against 65-68 ms in bfloat16, 79 against
    88 ms in float32. Undo with :func:`standard_layout` before a network leaves training (exports and
    saved files keep the usual layout)."""
    layout = torch.channels_last if trains_channels_last(network, device) else torch.contiguous_format
    return network.to(memory_format=layout)


def standard_layout(network: nn.Module) -> nn.Module:
    """``network`` back in the usual (contiguous) memory layout."""
    return network.to(memory_format=torch.contiguous_format)


FUSED_ADAM_DEVICES = ("cpu", "cuda")


def adam(parameters: Iterable[nn.Parameter], learning_rate: float) -> torch.optim.Adam:
    """Adam as every training loop here uses it: one fused kernel per step where torch has one for
    the parameters' device. On a CPU, with the shipped UNet's 50 tensors, 0.4 ms a step against 2.9 ms
    for the tensor-by-tensor loop (0.5 s of a 200-step round); the same update up to rounding."""
    parameters = list(parameters)
    fused = bool(parameters) and all(p.device.type in FUSED_ADAM_DEVICES for p in parameters)
    return torch.optim.Adam(parameters, lr=learning_rate, fused=fused or None)


def take_step(loss: torch.Tensor, optimiser: torch.optim.Optimizer, scheduler, diverged: str, advice: str) -> float:
    """One optimiser and schedule step on ``loss``; its value. A loss that is not finite stops training
    with "``diverged`` (the loss is nan); ``advice``": saving would hand back a model that finds nothing."""
    if not torch.isfinite(loss):
        raise ParticleDetectError(f"{diverged} (the loss is {loss.item()}); {advice}")
    loss.backward()
    optimiser.step()
    scheduler.step()
    return float(loss.item())


def made_ahead(pool: ThreadPoolExecutor, make: Callable[[], T], count: int) -> Iterator[T]:
    """``count`` results of ``make()``, each made on ``pool`` while the one before is in use: the next
    batch is drawn while a step trains. ``make`` runs on the pool's thread, one call at a time, in
    order, so a random stream it draws from gives what calling it in the loop would."""
    pending = pool.submit(make) if count > 0 else None
    for k in range(count):
        ready = pending.result()
        if k + 1 < count:
            pending = pool.submit(make)
        yield ready


def distilled_target(truth: torch.Tensor, taught: torch.Tensor, config: TrainConfig) -> torch.Tensor:
    """The truth's heatmap mixed with the teacher's (``config.teacher_weight`` of it), the teacher's only near
    true particles where ``config.teacher_near_particles``."""
    if config.teacher_near_particles:
        taught = taught * (truth > TEACHER_NEAR)
    return (1 - config.teacher_weight) * truth + config.teacher_weight * taught


def weighted_mse(prediction: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the pixels whose weight is not zero (unreviewed pixels teach nothing)."""
    return ((prediction - target) ** 2 * weight).sum() / weight.sum().clamp(min=1.0)


SPOT_LOOKS = ("gaussian", "airy")


def with_spot_options(cfg: SynthConfig, config: TrainConfig, rng: np.random.Generator) -> SynthConfig:
    """``cfg`` turned into spots for ``config.spot_share`` of the draws, and spots' closest pairs drawn
    from ``config.spot_min_separation``; with neither option set, ``cfg`` itself and no draw from ``rng``."""
    if config.spot_share and rng.random() < config.spot_share:
        cfg = replace(cfg, look=str(rng.choice(SPOT_LOOKS)))
    if config.spot_min_separation and cfg.look in SPOT_LOOKS:
        cfg = replace(cfg, min_separation=float(rng.uniform(*config.spot_min_separation)))
    return cfg


# Where the truth's heatmap (a Gaussian of the model's sigma at each centre) exceeds this, a particle is
# near: within about 3 sigma (4.5 px at sigma 1.5) of a centre.
TEACHER_NEAR = 0.01
# The thresholds a trained model's own is chosen from, on its validation images.
TRAINING_THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)


def synthetic_validation_set(config: TrainConfig) -> list[Example]:
    """Fixed, varied synthetic images from seeds no training batch uses."""
    rng = np.random.default_rng(VALIDATION_SEED_BASE)
    # The spot options draw from their own stream, so without them the set is what it always was.
    spot_rng = np.random.default_rng(VALIDATION_SEED_BASE + 1)
    shape = (config.validation_size, config.validation_size)
    out = []
    for i in range(config.validation_images):
        cfg = with_spot_options(random_training_config(rng, shape=shape, radius_range=config.radius_range),
                                config, spot_rng)
        sample = synthesize(cfg, seed=VALIDATION_SEED_BASE + i)
        # Drawn at the size training crops are: no rescaling.
        out.append(Example(sample.image, sample.centres, 1.0, name=f"synthetic-val-{i}"))
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
    totals = [Counts() for _ in thresholds]
    for image, truth in validation:
        heat = predict_heatmap(network, image, device, tile=1024)
        for k, thr in enumerate(thresholds):
            pred, _ = decode(heat, thr, min_distance)
            totals[k] = totals[k] + count_in_area(pred, truth, None, tolerance)
    network.train()
    return [total.f1 if total.tp else 0.0 for total in totals]


def tuned_threshold(network: nn.Module, validation: list[tuple[np.ndarray, np.ndarray]], device: torch.device,
                    min_distance: int, tolerance: float) -> tuple[float, list[float]]:
    """The best of TRAINING_THRESHOLDS on the validation images (the middle of a tie) and each one's F1."""
    f1s = validation_f1(network, validation, device, list(TRAINING_THRESHOLDS), min_distance, tolerance)
    return float(TRAINING_THRESHOLDS[best_threshold_index(f1s)]), f1s


class EpochCut(NamedTuple):
    """Where a run's time limit cut the epoch it resumes in (:func:`read_epoch_cut`)."""

    steps_done: int = 0  # 0: the epoch starts afresh
    losses: tuple[float, ...] = ()  # those steps', so the resumed epoch's record is its whole one
    # The finished epochs' best weights, where the cut's own replaced them at the output; else None.
    best_network: dict | None = None
    # The sessions a cancel or Ctrl-C stopped in the epoch (:func:`session_pause`), for its record to carry.
    paused: tuple[dict, ...] = ()


def epoch_cut_fields(steps_done: int = 0, losses: Iterable[float] = (), best_network: dict | None = None,
                     paused: Sequence[dict] = ()) -> dict:
    """A resume state's record of the epoch the run resumes in: none of its steps done, or those before its time
    limit cut it (see :class:`EpochCut`)."""
    fields = {"step": steps_done, "epoch_losses": [float(loss) for loss in losses]}
    if best_network is not None:
        fields["best_network"] = best_network
    if paused:
        fields["paused_sessions"] = list(paused)
    return fields


def session_pause(session: dict, started: float, epoch: int, steps: int) -> dict:
    """What a session that a cancel or Ctrl-C stopped ``steps`` steps into ``epoch`` (0-based) trained, kept until
    the epoch's record carries it (:func:`paused_mark`): that session writes no epoch record of its own, and a
    model's lineage (recipes.sessions_of) lost its device and hours."""
    return {"epoch": epoch + 1, "seconds": round(time.monotonic() - started, 1), **session, "steps": steps}


def paused_mark(paused: Sequence[dict]) -> dict:
    """What an epoch's record adds for the sessions paused in it (:func:`session_pause`)."""
    return {"paused_sessions": list(paused)} if paused else {}


def read_epoch_cut(state: dict, epochs_finished: int, steps_per_epoch: int, epochs: int) -> EpochCut:
    """The :func:`epoch_cut_fields` of a resume state after ``epochs_finished`` epochs of ``steps_per_epoch`` steps
    (of ``epochs``); a state written before cuts were kept resumes at its next epoch's start. Raises ValueError
    naming a field that is not what a training loop wrote."""
    steps_done, losses = state.get("step", 0), state.get("epoch_losses", [])
    best_network = state.get("best_network")
    paused = state.get("paused_sessions", [])
    if isinstance(steps_done, bool) or not isinstance(steps_done, int) or not 0 <= steps_done < steps_per_epoch:
        raise ValueError(f"step {steps_done!r:.40} is not between 0 and {steps_per_epoch - 1}")
    if steps_done and epochs_finished >= epochs:
        raise ValueError(f"step {steps_done} of epoch {epochs_finished + 1} is beyond the run's {epochs} epochs")
    if not isinstance(losses, list) or len(losses) != steps_done or not all(isinstance(x, float) for x in losses):
        raise ValueError(f"epoch_losses is not the {steps_done} losses of the steps done")
    if best_network is not None and not isinstance(best_network, dict):
        raise ValueError("best_network is not a network's weights")
    if not isinstance(paused, list) or not all(isinstance(p, dict) for p in paused):
        raise ValueError("paused_sessions is not a list of records")
    return EpochCut(steps_done, tuple(losses), best_network, tuple(paused))


def steps_from(batches: Iterable[T], first_step: int) -> Iterator[tuple[int, T]]:
    """(step, batch) of an epoch's batches from ``first_step`` on. The steps before (those a time limit cut the
    epoch after) are drawn again from the epoch's random stream and not trained: the rest are the batches an
    uninterrupted run trains on."""
    return islice(enumerate(batches), first_step, None)


@contextmanager
def ctrl_c_between_steps() -> Iterator[Callable[[], bool]]:
    """Hold a Ctrl-C that comes while the block runs until the loop asks whether one came (the callable yielded),
    so a training loop stops between two steps and keeps the steps done: one landing between a step's update and
    its schedule's would leave a state no run resumes from. So are the other stop signals that a Python handler acts
    on (stop_signals.py's :func:`held_stop_signals`): the command line stops on SIGTERM (a batch system's time limit)
    and SIGHUP as on Ctrl-C. The loop asking runs the held signal's own handler: one that raises KeyboardInterrupt
    (Ctrl-C's; the command line's, noting the signal for its line and status) makes the callable true, and the
    loop stops; one that returns lets it go on. A signal repeated at once is the same stop; one held when the block
    ends is handled then. Off the main thread (the dock's worker), nothing is held: the callable stays false; nor is
    a signal left to the system (its default, or ignored)."""
    with held_stop_signals() as held:
        yield held.stop_requested
    # One that came after the loop last asked (a stop it acted on already ended the block).
    if held and held.stop_requested():
        raise KeyboardInterrupt


def stop_between_steps(out: Path | None, save_resume_state: Callable[[int, dict], None], epoch: int,
                       trained_now: int, losses: list[float], interrupted: bool,
                       paused: Sequence[dict] = ()) -> NoReturn:
    """Stop a training loop before a step of ``epoch`` (0-based), at a Ctrl-C (KeyboardInterrupt) or a cancel
    (TrainingCancelled), once the ``trained_now`` steps this session trained in it are in the resume state
    (``save_resume_state(epochs finished, epoch_cut_fields)``), as a time limit's cut keeps them: else a run whose
    sessions are shorter than an epoch never advances. Unscored, they leave the model at ``out`` as it is.
    ``losses``: all the epoch's steps' so far; ``paused``: the sessions stopped in it, this one last
    (:func:`session_pause`)."""
    if trained_now and out is not None:
        save_resume_state(epoch, epoch_cut_fields(len(losses), losses, paused=paused))
    if interrupted:
        raise KeyboardInterrupt
    kept = out is not None and resume_state_path(out).exists()
    raise TrainingCancelled(f"training stopped in epoch {epoch + 1}" + (
        f"; the state after {state_after(epoch, len(losses))} is kept: resume to go on" if kept else ""))


def tell_step(progress: Callable[[dict], None] | None, config, epoch: int, step: int, losses: list[float],
              stop_early: bool, first_session_step: int) -> None:
    """A training step's progress event (every kind's training): every tenth step, and the epoch's last, so a
    progress bar ends full; the one a time limit stops at; the session's first too, so a run resumed inside an
    epoch opens its bar where its steps stand."""
    done = epoch * config.steps_per_epoch + step + 1
    if progress is not None and (step % 10 == 0 or step + 1 == config.steps_per_epoch or stop_early
                                 or done == first_session_step + 1):
        progress({"event": "step", "epoch": epoch + 1, "epochs": config.epochs, "step": step + 1,
                  "steps": config.steps_per_epoch, "loss": float(np.mean(losses[-10:]))})


def state_after(epochs_finished: int, steps_done: int) -> str:
    """Where a resume state stands, as messages name it: after a step of the next epoch, or after a whole epoch."""
    return f"step {steps_done} of epoch {epochs_finished + 1}" if steps_done else f"epoch {epochs_finished}"


def resume_point(out: Path, epochs: int) -> str | None:
    """Where a resume of the run of ``epochs`` epochs saving to ``out`` goes on ("step 5 of epoch 2", "epoch 3"),
    read from its resume state; None when there is none, or the run had finished."""
    try:
        state = read_training_state(resume_state_path(Path(out).with_suffix(".pt")))
        epochs_finished, steps_done = state["epoch"], state.get("step", 0)
    except (ParticleDetectError, OSError, KeyError, TypeError, AttributeError):
        return None
    if not (_whole(epochs_finished) and _whole(steps_done)) or epochs_finished >= epochs:
        return None
    return state_after(epochs_finished, steps_done + 1) if steps_done else f"epoch {epochs_finished + 1}"


@contextmanager
def resume_hint_at_ctrl_c(out: str | Path, epochs: int) -> Iterator[None]:
    """Re-raise a Ctrl-C (KeyboardInterrupt) out of the block with where ``--resume`` goes on (:func:`resume_point`)
    as its message, for the command line to say: the training kept the steps done before it stopped."""
    try:
        yield
    except KeyboardInterrupt:
        where = resume_point(Path(out), epochs)
        raise KeyboardInterrupt(f"--resume continues at {where}" if where else "") from None


def cut_epoch_mark(steps_done: int, steps: int) -> dict:
    """What the record of an epoch its time limit cut adds: how many of its steps ran. The record of that epoch
    resumed, later, is its whole one."""
    return {"stopped_at_time_limit": {"steps_done": steps_done, "steps": steps}}


def was_cut(record: dict) -> bool:
    """Whether an epoch record is that of an epoch its time limit cut (:func:`cut_epoch_mark`)."""
    return "stopped_at_time_limit" in record


def cut_epoch_note(record: dict) -> str:
    """' (2 of 4 steps)' for an epoch record a time limit cut (:func:`cut_epoch_mark`), '' for a whole one: its
    loss and F1 are those of the steps it ran."""
    cut = record.get("stopped_at_time_limit")
    return f" ({cut['steps_done']} of {cut['steps']} steps)" if cut else ""


def restore_finished_best(out: Path, network: nn.Module, card: ModelCard, weights: dict) -> None:
    """Put the finished epochs' best (``weights``, ``card`` carrying its record) back at ``out``, where the weights a
    time limit cut an epoch at were the session's result: the resumed run chooses among its whole epochs, as an
    uninterrupted run does."""
    save_model(DetectorModel(_cpu_copy(card, weights), card), out)


# TrainConfig and KindTrainConfig fields a resume may change: how long, where and how fast a run trains,
# not what it learns (more epochs extend a run). A teacher is named by its path, which moves with a
# recipe's run folder.
RESUMABLE_SETTINGS = ("epochs", "time_limit_s", "threads", "device", "teacher")
# The command line's option for a setting, named beside it when a resume changes it.
SETTING_OPTIONS = {"architecture": "--arch", "steps_per_epoch": "--steps-per-epoch", "batch_size": "--batch-size",
                   "crop": "--crop", "learning_rate": "--lr", "synthetic_fraction": "--synthetic-fraction",
                   "seed": "--seed", "diameter": "--diameter"}


def run_settings(config: dict) -> dict:
    """The settings that shape a run (``config``, a TrainConfig's or KindTrainConfig's ``to_dict()``, but
    RESUMABLE_SETTINGS) as plain values, for its resume state."""
    return json.loads(json.dumps({k: v for k, v in config.items() if k not in RESUMABLE_SETTINGS}))


def check_same_settings(path: Path, state: dict, settings: dict) -> None:
    """Refuse to resume the run of the state at ``path`` with ``settings`` (:func:`run_settings`) other than it
    started with, naming the first that differs: its epochs so far trained with the old ones, and its card
    would say the new. A state written before settings were kept resumes as before."""
    saved = state.get("settings") if isinstance(state, dict) else None
    if not isinstance(saved, dict):
        return
    for name, value in settings.items():
        if name in saved and saved[name] != value:
            option = f" ({SETTING_OPTIONS[name]})" if name in SETTING_OPTIONS else ""
            raise ParticleDetectError(f"{path}: the interrupted run trained with other settings: {name} "
                                      f"{json.dumps(saved[name])} -> {json.dumps(value)}{option}; resume it with the "
                                      "settings it started with, or start again (--overwrite)")


def run_progress(epochs_done: int, epochs: int, finished: bool = False,
                 time_limit_steps: tuple[int, int] | None = None) -> dict:
    """How far the run behind a saved model got, for its card's training record: a model saved mid-run, or
    at a time limit (``time_limit_steps``: the steps done of all), is marked unfinished, so it is not taken
    for the run's result."""
    progress = {"finished": finished, "epochs_done": epochs_done, "epochs": epochs}
    if time_limit_steps is not None:
        progress["stopped_at_time_limit"] = {"steps_done": time_limit_steps[0], "steps": time_limit_steps[1]}
    return progress


def log_time_limit_stop(out: Path | None, steps_done: int, steps: int, scheduled: bool = True) -> None:
    """Say that a run stopped at its time limit, which else looks like a finished one. ``scheduled``: its learning
    rate decays over the run's steps (a sphere run's always; a rods or chains run's only with final_lr_fraction
    below 1), so a stop cut the schedule short; a constant rate has none to cut, and saying so misled."""
    cut = ", before its learning rate schedule ended" if scheduled else ""
    log.warning("%s: stopped at the time limit after %d of %d steps%s%s", out or "training", steps_done, steps, cut,
                "; --resume continues" if out is not None else "")


def log_already_finished(out: Path, epochs: int) -> None:
    """Say that a resumed run had already finished: its model stays as it was."""
    log.info("%s: already finished (%d of %d epochs): nothing to resume", out, epochs, epochs)


def run_card_fields(out: Path | None, resume: bool, extra_card: dict | None) -> dict:
    """The caller's fields for a run's card record (``extra_card``, its ``command`` among them), as the run's resume
    state keeps them (``card_fields``): a resumed run keeps those of the session that started it, whose command set
    its options, and lists the command of each session that resumed it in ``resumed_with``. Before, its card named
    only the last ``--resume`` command, and the options the run started with were lost from it and its lineage.
    A state written before these were kept gives this session's fields, as then."""
    fields = dict(extra_card or {})
    if not resume or out is None or not resume_state_path(out).exists():
        return fields
    started = read_training_state(resume_state_path(out)).get("card_fields")
    if not isinstance(started, dict):
        return fields
    earlier = started.get("resumed_with")
    resumed = [c for c in earlier if isinstance(c, str)] if isinstance(earlier, list) else []
    command = fields.get("command")
    return {**started, "resumed_with": resumed + [command]} if isinstance(command, str) else dict(started)


def session_fields(device: torch.device) -> dict:
    """What every epoch record of this session carries, so a model's lineage can say where and how
    long it trained (a run resumed over several sessions and machines): the session's start (UTC),
    the device, on a CPU the torch threads, and the package version whose decoder scored the epoch
    (a run resumed after an upgrade compares its scores with those of another: :func:`say_other_scorers`)."""
    from datetime import datetime, timezone

    # To the microsecond: sessions are told apart by their start (recipes.sessions_of), and two started in the same
    # second (a script resuming a recipe at once, a fast paused session) read as one. Older records' seconds still read.
    return {"session": datetime.now(timezone.utc).isoformat(timespec="microseconds"), "device": device.type,
            "threads": torch.get_num_threads() if device.type == "cpu" else None, "version": __version__}


def frame_digest(image: np.ndarray) -> bytes:
    """The pixels of one frame, as a round reads them (float32), in a short digest: two frames with the same
    digest are the same frame, whatever file or name they came with."""
    pixels = np.ascontiguousarray(np.asarray(image, dtype=np.float32) + np.float32(0.0))  # -0.0 as 0.0
    digest = hashlib.blake2b(str(pixels.shape).encode(), digest_size=16)
    digest.update(pixels.tobytes())
    return digest.digest()


def refuse_validating_on_training_frames(examples: Iterable[tuple[str, np.ndarray]],
                                         validation: Iterable[tuple[str, np.ndarray]]) -> None:
    """Refuse, in one line, a validation frame with the pixels of a training frame (``(name, image)`` pairs; whatever
    their files' names, e.g. DATA a folder that holds the --validate image too): scored on what it trained on, a run
    keeps the epoch that learned it best, and a round's verdict reads "better" for a model that only memorised it."""
    trained = {frame_digest(image): name for name, image in examples}
    for name, image in validation:
        twin = trained.get(frame_digest(image))
        if twin is not None:
            raise ParticleDetectError(f"{name}: a validation image that is also trained on (the pixels of {twin}); "
                                      "validate on images kept out of the training data")


def working_diameter(config: TrainConfig) -> float:
    """The particle size a new model works at: the upper part of its trained range, measured to
    separate crowded particles best."""
    return float(0.85 * 2 * config.radius_range[1])


@keeps_torch_threads
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
    """Train (or fine-tune from ``init``) and return the best model by validation F1 (the last epoch's with
    ``config.keep == "last"``).

    With ``out``, the best model so far is saved there after every improving epoch, plus a
    ``.state.pt`` with optimiser state for ``resume`` (and which epoch is the best so far: 0 when it is
    still the starting model, which is never saved there, so a resumed run ends where an uninterrupted
    one does; resuming from another start, or with other settings (:func:`run_settings`), is refused, and
    resuming a finished run hands back its model untouched). Every save mid-run writes this run's training
    record in the card marked unfinished (:func:`run_progress`); the last marks it finished, or stopped at the
    time limit (said in the log too). A time limit that cuts an epoch scores the weights it stopped at as a
    candidate for this session's result (the epoch's record says how many of its steps ran), and the resume
    goes on at the next step with the epoch's own batches, choosing among whole epochs only. The learning rate
    follows the steps alone, never the time limit, which only stops the run. Raises :class:`TrainingCancelled`
    when ``cancel()`` becomes true, and KeyboardInterrupt at a Ctrl-C (:func:`ctrl_c_between_steps`), between two
    steps: the resume state keeps the steps done (the epoch's too, unscored), the model saved stays as it was. An
    example whose ``scale`` is None is rescaled as detection would rescale it for the model trained
    (:func:`with_detection_scale`); a ``config`` it cannot run with is refused before any work
    (:func:`check_train_config`).
    """
    if config.threads:
        torch.set_num_threads(int(config.threads))
    device = select_device(config.device)
    torch.manual_seed(config.seed)
    if init is not None:
        base = init if isinstance(init, DetectorModel) else load_model(init, "cpu")
        require_sphere_model(base, init)
        card = replace(base.card)
        network = build_network(card)
        network.load_state_dict(base.network.state_dict())
        # The network trained is the starting model's, whatever the config named: the card says so.
        config = replace(config, architecture=card.architecture, channels=tuple(card.channels))
    else:
        card = ModelCard(architecture=config.architecture, sigma=config.sigma)
        if config.channels:
            card.channels = tuple(config.channels)
        else:
            card.channels = tuple(ModelCard().channels) if config.architecture == "unet" else (12, 24, 48, 96)
        network = build_network(card)
    check_train_config(config, network.stride)
    # Taken now: the card's training record becomes this run's at its first save.
    lineage = lineage_with(card.training) if init is not None else []
    card.trained_diameter_range = (2 * config.radius_range[0], 2 * config.radius_range[1])
    # Fine-tuning keeps the size its examples were rescaled to.
    card.canonical_diameter = base.card.canonical_diameter if init is not None else working_diameter(config)
    # Before anything is written: an image no size can be read from is refused while the old state stands.
    examples = with_detection_scale(examples or [], card.canonical_diameter)
    validation_examples = with_detection_scale(validation_examples or [], card.canonical_diameter)
    trained_names, validation_names = said_names(examples, validation_examples)
    refuse_validating_on_training_frames(zip(trained_names, (e.image for e in examples)),
                                         zip(validation_names, (e.image for e in validation_examples)))
    data = examples_record(examples, validation_examples)
    training_layout(network.to(device).train(), device)
    optimiser = adam(network.parameters(), config.learning_rate)
    total_steps = config.epochs * config.steps_per_epoch
    # By the steps alone, never the wall clock: a time limit only stops the run, so a run paused and resumed
    # ends with the weights of an uninterrupted one, and a limit that is never reached changes nothing.
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(step / max(total_steps, 1), 1.0)))
    )
    start_epoch, best_f1, history = 0, -1.0, []
    cut = EpochCut()
    out = Path(out).with_suffix(".pt") if out is not None else None
    if out is not None:
        refuse_shipped_output(out)
        # Fail before any training, not at the first save an epoch later.
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ParticleDetectError(f"{out}: cannot create its folder ({error.strerror})") from error
    # The start is a candidate too (fine-tuning keeps it when no epoch beats it); epoch 0 stands for it.
    start_state = {k: v.detach().clone() for k, v in network.state_dict().items()}
    start = _start_record(init, start_state)
    best_state, best_epoch = start_state, 0

    card_fields = run_card_fields(out, resume, extra_card)

    def training_record(validation_f1: float, progress_mark: dict) -> dict:
        """This run's record for its card (never the starting model's), with how far it got."""
        return {"lineage": lineage, **card_fields, "config": config.to_dict(),
                "annotated_examples": len(examples or []),
                "annotated_validation_examples": len(validation_examples or []),
                "validation_f1": validation_f1, "best_epoch": best_epoch, "history": history,
                "generator": "napari_particle_detect.synthetic.spheres.random_training_config", **progress_mark}

    if resume:
        if out is None or not resume_state_path(out).exists():
            raise ParticleDetectError(f"nothing to resume: {out and resume_state_path(out)} does not exist")
        start_epoch, best_f1, history, best_epoch, cut = _resume(out, network, optimiser, scheduler, config, start,
                                                                  data)
        if start_epoch == config.epochs:
            log_already_finished(out, config.epochs)
            saved = load_model(out, "cpu")
            return TrainResult(model=saved, best_f1=float(saved.card.training.get("validation_f1", best_f1)),
                               history=history, path=out)
        if cut.best_network is not None:
            best_state = cut.best_network
            card.training = training_record(best_f1, run_progress(start_epoch, config.epochs))
            restore_finished_best(out, network, card, best_state)
        elif best_epoch > 0:
            # The best epoch so far is the saved model, not the last epoch's state the run resumes from.
            best_state = _saved_best(out)
    elif out is not None:
        # A state left by an earlier run would pair that run's epochs with this run's model.
        resume_state_path(out).unlink(missing_ok=True)
    validation = [ex.prepared()[:2] for ex in synthetic_validation_set(config)]
    validation += [ex.prepared()[:2] for ex in (validation_examples or [])]
    prepared = [ex.prepared() for ex in (examples or [])]
    if init is not None and not resume:
        # The starting model is a candidate too: fine-tuning must not hand back something worse.
        (best_f1,) = validation_f1(network, validation, device, [card.threshold], card.min_distance, config.tolerance)
        history.append({"event": "epoch", "epoch": 0, "epochs": config.epochs, "loss": float("nan"),
                        "val_f1": float(best_f1), "seconds": 0.0, "version": __version__})
    teacher = _teacher_network(config, device)
    dtype = training_dtype(config.precision, device)
    started = time.monotonic()
    session = session_fields(device)
    stop_early = False
    epochs_done, steps_done = start_epoch, start_epoch * config.steps_per_epoch + cut.steps_done
    first_session_step = steps_done

    def save_resume_state(epochs_finished: int, cut_fields: dict) -> None:
        # best_epoch says where the best so far is on resuming: the start (0) or the saved model.
        save_tensors({"network": network.state_dict(), "optimiser": optimiser.state_dict(),
                      "scheduler": scheduler.state_dict(), "epoch": epochs_finished, "best_f1": float(best_f1),
                      "history": history, "best_epoch": best_epoch, "settings": run_settings(config.to_dict()),
                      "version": __version__, "card_fields": card_fields, "data": data, **start, **cut_fields},
                     resume_state_path(out))

    with ctrl_c_between_steps() as interrupted, ThreadPoolExecutor(max_workers=1) as pool:
        for epoch in range(start_epoch, config.epochs):
            # Each epoch's batches come from its own seed, so a run resumed at an epoch draws what an
            # uninterrupted run would have drawn there: the two end with the same weights.
            source = BatchSource(config, None, seed=config.seed + 7919 * epoch, prepared=prepared)
            first_step = cut.steps_done if epoch == start_epoch else 0
            losses = list(cut.losses) if epoch == start_epoch else []
            paused = list(cut.paused) if epoch == start_epoch else []
            batches = made_ahead(pool, source.batch, config.steps_per_epoch)
            for step, (images, targets, weights) in steps_from(batches, first_step):
                if interrupted() or (cancel is not None and cancel()):
                    stop_between_steps(out, save_resume_state, epoch, step - first_step, losses, interrupted(),
                                       paused + [session_pause(session, started, epoch, step - first_step)])
                x, y, w = (torch.from_numpy(a).to(device) for a in (images, targets, weights))
                if teacher is not None:
                    with torch.no_grad():
                        y = distilled_target(y, teacher(x), config)
                optimiser.zero_grad(set_to_none=True)
                loss = weighted_mse(forward_in(network, x, dtype), y, w)
                losses.append(take_step(loss, optimiser, scheduler, f"training diverged at epoch {epoch + 1}, step "
                                        f"{step + 1}", "check the images or lower the learning rate"))
                steps_done = epoch * config.steps_per_epoch + step + 1
                stop_early = bool(config.time_limit_s and time.monotonic() - started > config.time_limit_s)
                tell_step(progress, config, epoch, step, losses, stop_early, first_session_step)
                if stop_early:
                    break
            # Cut by the time limit: its weights are scored, as this session's result may be them.
            cut_short = len(losses) < config.steps_per_epoch
            (f1,) = validation_f1(network, validation, device, [card.threshold], card.min_distance, config.tolerance)
            record = {"event": "epoch", "epoch": epoch + 1, "epochs": config.epochs, "loss": float(np.mean(losses)),
                      "val_f1": float(f1), "seconds": round(time.monotonic() - started, 1), **session,
                      **(cut_epoch_mark(len(losses), config.steps_per_epoch) if cut_short else {}),
                      **paused_mark(paused)}
            history.append(record)
            improved = improves(f1, best_f1, config.keep)
            if cut_short and out is not None:
                # Written before the cut's weights may replace the best at out: a resume goes on inside this
                # epoch and chooses among the finished epochs' best (kept here where out no longer holds it).
                replaced = best_state if improved and best_epoch > 0 else None
                save_resume_state(epoch, epoch_cut_fields(len(losses), losses, replaced))
            epochs_done = epoch if cut_short else epoch + 1
            if improved:
                best_f1, best_epoch = float(f1), epoch + 1
                best_state = {k: v.detach().clone() for k, v in network.state_dict().items()}
                if out is not None:
                    card.training = training_record(best_f1, run_progress(epochs_done, config.epochs))
                    save_model(DetectorModel(_cpu_copy(card, best_state), card), out)
            if not cut_short and out is not None:
                save_resume_state(epoch + 1, epoch_cut_fields())
            if progress is not None:
                progress(record)
            if stop_early:
                break
        # Inside the block: a Ctrl-C during the last epoch's scoring stops the run once its model is written whole.
        network.load_state_dict(best_state)
        card.threshold, f1s = tuned_threshold(network, validation, device, card.min_distance, config.tolerance)
        best_f1 = float(max(f1s))
        all_steps = config.epochs * config.steps_per_epoch
        finished = steps_done >= all_steps
        if not finished:
            log_time_limit_stop(out, steps_done, all_steps)
        card.training = training_record(best_f1, run_progress(epochs_done, config.epochs, finished,
                                                              None if finished else (steps_done, all_steps)))
        model = DetectorModel(_cpu_copy(card, best_state), card)
        if out is not None:
            save_model(model, out)
    return TrainResult(model=model, best_f1=best_f1, history=history, path=out)


def _teacher_network(config: TrainConfig, device: torch.device) -> nn.Module | None:
    """The teacher's network for distillation, frozen. It reads the same crops as the student."""
    if not config.teacher:
        return None
    network = load_model(config.teacher, "cpu").network.to(device).eval()
    for parameter in network.parameters():
        parameter.requires_grad_(False)
    return network


def read_training_state(path: Path) -> dict:
    """A resume state as written by a training loop here: tensors and plain values only, never code."""
    return read_saved_tensors(path, "training state file", "delete it and train without --resume")


def _resume(out: Path, network: nn.Module, optimiser: torch.optim.Optimizer, scheduler,
            config: TrainConfig, start: dict, data: dict) -> tuple[int, float, list[dict], int, EpochCut]:
    """Restore the interrupted run saving to ``out`` from its ``.state.pt``: tensors and plain values only,
    never code. (epochs finished, best F1, history, best epoch: 0 for the starting model, where the time limit
    cut the next epoch)."""
    path = resume_state_path(out)
    state = read_training_state(path)
    _check_same_start(path, state, start)
    # The data first: a resume that left out DATA was refused for --synthetic-fraction, a setting nobody gave, whose
    # default follows whether DATA is given.
    check_same_data(path, state, data)
    check_same_settings(path, state, run_settings(config.to_dict()))
    try:
        if not isinstance(state, dict) or not {"network", "optimiser", "scheduler", "epoch", "best_f1", "history"} <= set(state):
            raise ValueError("keys are missing")
        epoch, best_f1, history = state["epoch"], state["best_f1"], state["history"]
        check_epochs_to_resume(path, epoch, config.epochs)
        if not isinstance(best_f1, float) or not -1.0 <= best_f1 <= 1.0:
            raise ValueError(f"best_f1 {best_f1!r:.40} is not a score")
        if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
            raise ValueError("history is not a list of records")
        # States written before best_epoch was kept: their run saved the model at out by the same rule.
        best_epoch = state["best_epoch"] if "best_epoch" in state else kept_epoch(history, config.keep)
        if isinstance(best_epoch, bool) or not isinstance(best_epoch, int) or not 0 <= best_epoch <= epoch:
            raise ValueError(f"best_epoch {best_epoch!r:.40} is not between 0 and {epoch}")
        cut = read_epoch_cut(state, epoch, config.steps_per_epoch, config.epochs)
        if cut.best_network is not None:
            network.load_state_dict(cut.best_network)  # refused here, in one line, if they are another network's
        network.load_state_dict(state["network"])
        optimiser.load_state_dict(state["optimiser"])
        scheduler.load_state_dict(state["scheduler"])
    except (ValueError, KeyError, TypeError, RuntimeError, AttributeError, IndexError) as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:120]
        raise ParticleDetectError(f"{path}: cannot resume from it ({first})") from None
    say_other_scorers(path, history)
    say_schedule_stretched(path, history, config.epochs)
    return epoch, best_f1, history, best_epoch, cut


def say_schedule_stretched(path: Path, history: list[dict], epochs: int) -> None:
    """Warn, in one line, when a run resumes with other ``epochs`` than its epochs so far were scheduled over (their
    records' ``epochs``): its learning rate decays by the share of the run's steps, so it jumps where the run
    resumes, and the run ends with the weights of neither an uninterrupted run of the epochs it started with nor
    one of those it ends with, while its card's config names only the latter."""
    planned = [record["epochs"] for record in history if _whole(record.get("epochs"))]
    if planned and planned[-1] != epochs:
        log.warning("%s: resumed with %d epochs, started with %d: its learning rate schedule is now set for %d, so "
                    "the rate jumps here and the run ends unlike an uninterrupted one (each epoch's record keeps the "
                    "epochs it was scheduled over)", path, epochs, planned[-1], epochs)


def improves(f1: float, best_f1: float, keep: str) -> bool:
    """Whether an epoch scoring ``f1`` becomes a run's model: it beats the best so far (a tie keeps the first), or
    the run keeps its last epoch (``keep``, TrainConfig's)."""
    return f1 > best_f1 or keep == "last"


def kept_epoch(history: list[dict], keep: str) -> int:
    """The epoch whose model a run saved, read from its epoch records (``history``) by the rule it saved by
    (:func:`improves`); 0 when it is the starting model's (epoch 0's record) or no epoch was scored."""
    best_f1, best_epoch = -1.0, 0
    for record in history:
        f1, epoch = record.get("val_f1"), record.get("epoch")
        if isinstance(f1, numbers.Real) and _whole(epoch) and improves(f1, best_f1, keep):
            best_f1, best_epoch = float(f1), epoch
    return best_epoch


def scored_by(record: dict) -> str:
    """Which version of this package scored an epoch record (records from before versions were kept: an older)."""
    version = record.get("version")
    return f"version {version}" if isinstance(version, str) else "an older version (unrecorded)"


def say_other_scorers(path: Path, history: list[dict]) -> None:
    """Say, in one line, when the run resumed from ``path`` had epochs scored by another version of this package
    (``history``'s records): its best epoch is chosen among their scores and this version's, which another decoder
    may not have given alike."""
    # Spheres' epochs are scored by val_f1, rods' and chains' by score.
    scorers = list(dict.fromkeys(scored_by(record) for record in history if "val_f1" in record or "score" in record))
    earlier = [scorer for scorer in scorers if scorer != f"version {__version__}"]
    if earlier:
        log.warning("%s: started by %s, resumed by version %s: scores of earlier epochs came from the decoder of %s",
                    path, scorers[0], __version__, " and ".join(earlier))


def check_epochs_to_resume(path: Path, epochs_finished: object, epochs: int) -> None:
    """Refuse, in one line, to resume a run that already trained more epochs than ``epochs`` (--epochs); raise
    ValueError for an ``epochs_finished`` no training loop wrote."""
    if isinstance(epochs_finished, bool) or not isinstance(epochs_finished, int) or epochs_finished < 0:
        raise ValueError(f"epoch {epochs_finished!r:.40} is not a number of epochs")
    if epochs_finished > epochs:
        raise ParticleDetectError(f"{path}: the run already trained {epochs_finished} epochs; --epochs must be "
                                  f"{epochs_finished} or more to resume it")


def _start_record(init: DetectorModel | str | Path | None, start_state: dict) -> dict:
    """What a resume state keeps of the model a run started from: its name and a digest of its weights
    (None, None from scratch), so resuming from another start is refused."""
    if init is None:
        return {"start": None, "start_sha256": None}
    name = init.path if isinstance(init, DetectorModel) else init
    return {"start": str(name) if name is not None else "a model", "start_sha256": weights_sha256(start_state)}


def weights_sha256(state: dict) -> str:
    """A digest of a network's weights (names, shapes and values)."""
    digest = hashlib.sha256()
    for key in sorted(state):
        tensor = state[key].detach().cpu().contiguous()
        digest.update(f"{key}{tuple(tensor.shape)}{tensor.dtype}".encode())
        digest.update(tensor.numpy().tobytes() if tensor.dtype != torch.bfloat16 else tensor.float().numpy().tobytes())
    return digest.hexdigest()


def _check_same_start(path: Path, state: dict, start: dict) -> None:
    """Refuse to resume a run from a start other than its own: the card would lose its parent's lineage
    and size, and the start's score would be another model's."""
    if not isinstance(state, dict) or "start_sha256" not in state:
        return  # a state written before starts were recorded
    was = state.get("start")
    if was is not None and start["start"] is None:
        raise ParticleDetectError(f"{path}: the interrupted run fine-tuned {was}; resume it with --from {was}")
    if was is None and start["start"] is not None:
        raise ParticleDetectError(f"{path}: the interrupted run trained a new network; resume it without --from")
    if state.get("start_sha256") != start["start_sha256"]:
        raise ParticleDetectError(f"{path}: the interrupted run started from other weights ({was}); resume it "
                                  "from the same model")


def frames_digest(*parts: object) -> str:
    """A digest of what one annotated frame teaches (its pixels, truth table, reviewed area, ...): the same files read
    again give the same digest; an edited table or another image, another. Its scale is kept beside it
    (:func:`data_record`): a digest cannot tell a scale's last digit from another diameter."""
    import pandas as pd

    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        if isinstance(part, pd.DataFrame):  # a kind's table may hold text (its source column)
            digest.update(",".join(map(str, part.columns)).encode())
            part = pd.util.hash_pandas_object(part, index=False).to_numpy()
        array = np.ascontiguousarray(np.asarray(part if part is not None else np.empty(0)))
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def data_record(training: Iterable[tuple[str, str, float]], validation: Iterable[tuple[str, str, float]]) -> dict:
    """What a resume state keeps of a run's annotated frames, in order: each one's name, :func:`frames_digest` of
    all it teaches but its scale, and that scale (compared within SCALE_TOLERANCE: :func:`check_same_data`)."""
    return {"training": [[name, digest, float(scale)] for name, digest, scale in training],
            "validation": [[name, digest, float(scale)] for name, digest, scale in validation]}


def examples_record(examples: Sequence[Example], validation: Sequence[Example]) -> dict:
    """:func:`data_record` of a sphere run's examples (named by :func:`said_names`), their scales resolved."""
    def named(example: Example, name: str) -> tuple[str, str, float]:
        return name, frames_digest(example.image, example.centres, example.area, example.focus), example.scale

    trained_names, validation_names = said_names(examples, validation)
    return data_record(map(named, examples, trained_names), map(named, validation, validation_names))


def said_names(examples: Sequence[Example], validation: Sequence[Example]) -> tuple[list[str], list[str]]:
    """How what is said of a run's examples and validation frames names each: its file and frame (``img.tif[0]``),
    but where another has that name too, the path the user gave (``a/img.tif[0]``, ``b/img.tif[0]``): named
    alike, a refusal of one read as of the other. Read by attribute, so a rods or chains run's frames read from files
    (kinds_training.NamedFrame) are named alike."""
    shared = Counter(getattr(example, "name", "") for example in (*examples, *validation))

    def said(example: Example) -> str:
        name, given_as = getattr(example, "name", ""), getattr(example, "given_as", "")
        if shared[name] > 1 and given_as:
            return given_as
        return name or "an example"

    return [said(example) for example in examples], [said(example) for example in validation]


# Two readings of a frame's scale this close are one: a scale is worked out in floats (a diameter estimated, divided
# into the model's), whose last digits may differ on another machine or library (1.2500000000000002 against 1.25),
# and hashed with the pixels such a resume was refused. Another --diameter moves it by far more.
SCALE_TOLERANCE = 1e-6


def check_same_data(path: Path, state: dict, data: dict) -> None:
    """Refuse to resume the run of the state at ``path`` on other annotated frames than it started with (``data``:
    :func:`data_record`), naming the first that differs: its epochs so far learned the old ones, so the resumed run
    would end as no uninterrupted run on either, and its card would count the new. A table edited, an image replaced
    or a folder given with more or fewer files between the sessions was taken silently. A state written before data
    were kept resumes as before."""
    saved = state.get("data") if isinstance(state, dict) else None
    if not isinstance(saved, dict):
        return
    for role in ("training", "validation"):
        old = saved.get(role)
        change = _first_change(list(map(_frame_entry, old)), list(map(_frame_entry, data[role]))) \
            if isinstance(old, list) else None
        if change is not None:
            raise ParticleDetectError(f"{path}: the interrupted run started on other {role} data: {change}; resume it "
                                      "with the files (and --diameter) it started with, or start again (--overwrite)")


def _frame_entry(entry: Sequence) -> tuple[str, str | None, float | None]:
    """(name, digest, scale) of a frame in a resume state. A state written before the scale was kept apart (name and
    one digest of both) names its frames only: that digest moved with a scale's last digit. But a rods or chains
    state of that time (frames named by place) digested each frame as resampled, which at scale 1 is the frame as
    given: its digest is kept, scale unknown, for :func:`_frame_change` to compare where today's scale is 1."""
    name, *rest = entry
    if len(rest) == 2:
        return str(name), str(rest[0]), float(rest[1])
    kept = str(rest[0]) if len(rest) == 1 and _named_by_place(str(name)) else None
    return str(name), kept, None


def _first_change(old: list[tuple], new: list[tuple]) -> str | None:
    """How the (name, digest, scale) frames ``new`` differ from ``old``, for the first frame that does; None where
    they are the same."""
    # Frame by frame first: two files of one name in two folders share a name, not a digest.
    if len(old) == len(new) and all(_frame_change(was, now) is None for was, now in zip(old, new)):
        return None
    old_frames, new_frames = _FramesByName(old), _FramesByName(new)
    for place, now in enumerate(new):
        was = old_frames.counterpart(now[0], place)
        if was is None:
            return f"{now[0]} is new"
        change = _frame_change(was, now)
        if change is not None:
            return change
    gone = next((name for place, (name, _, _) in enumerate(old) if new_frames.counterpart(name, place) is None), None)
    if gone is not None:
        return f"{gone} is gone"
    return "its frames come in another order"


class _FramesByName:
    """A resume state's (name, digest, scale) frames looked up by name and by file and frame: a run over
    thousands of frames took seconds to refuse when each frame searched all the others."""

    def __init__(self, frames: list[tuple]) -> None:
        self._frames = frames
        self._named: dict[str, list[tuple]] = {}
        self._filed: dict[str, list[tuple]] = {}
        for frame in frames:
            self._named.setdefault(frame[0], []).append(frame)
            self._filed.setdefault(_file_and_frame(frame[0]), []).append(frame)

    def counterpart(self, name: str, place: int) -> tuple | None:
        """The frame named ``name``; else of its file and frame (:func:`_file_and_frame`), the one at ``place``
        (two files of one name, in their order) or the only one; None where there is none."""
        same = self._named.get(name, [])
        if len(same) == 1:
            return same[0]
        file_and_frame = _file_and_frame(name)
        if place < len(self._frames) and (_file_and_frame(self._frames[place][0]) == file_and_frame
                                          or _named_by_place(self._frames[place][0])):
            return self._frames[place]
        alike = self._filed.get(file_and_frame, [])
        return alike[0] if len(alike) == 1 else None


def _file_and_frame(name: str) -> str:
    """A frame's name without the folders of its path (``a/img.tif[0]``: ``img.tif[0]``). A state written before
    frames of one file name were named by their path names them so, and a run's folder moved (a recipe's, another
    machine) names them by another path: the same frames still, their digests say."""
    return PurePath(name).name


def _named_by_place(name: str) -> bool:
    """Whether a frame of a resume state is named by its place alone: rods and chains states written before their
    frames were named by file ("annotated frame 3", "validation frame 0"), matched by place to today's names."""
    return re.fullmatch(r"(annotated|validation) frame \d+", name) is not None


def _frame_change(was: tuple, now: tuple) -> str | None:
    """How frame ``now`` (name, digest, scale) differs from ``was``; None where it is the same frame."""
    (name, was_digest, was_scale), (now_name, digest, scale) = was, now
    if _file_and_frame(name) != _file_and_frame(now_name) and not _named_by_place(name):
        return f"{now_name} is where {name} was"
    # A digest of unknown scale (an old rods or chains state's) is of the frame as given only where it was not
    # resampled: matched by place alone, any other files of as many frames were taken unchecked.
    comparable = was_scale is not None or scale == 1.0
    if was_digest is not None and comparable and was_digest != digest:
        return f"{now_name} changed since (its image or its table)"
    if was_scale is not None and not math.isclose(was_scale, scale, rel_tol=SCALE_TOLERANCE):
        return f"{now_name} changed since (its scale: {was_scale:.6g} then, {scale:.6g} now)"
    return None


def _saved_best(out: Path) -> dict:
    """The best epoch's weights of an interrupted run: the model it saved at ``out``."""
    if not out.exists():
        raise ParticleDetectError(f"{out}: the interrupted run's best model is missing; train again without --resume")
    return {k: v.detach().clone() for k, v in load_model(out, "cpu").network.state_dict().items()}


def require_sphere_model(model: DetectorModel, source: object = None) -> None:
    """Sphere training (fresh, a round, a recipe) starts only from a 2D sphere model: a rods or chains
    model's heads would be trained as one centre heatmap and saved as that kind."""
    where = model.path or (source if isinstance(source, (str, Path)) else "the model")
    require_kind(model, "spheres", where, f"give a sphere model or --kind {model.card.kind}")
    if model.card.spatial_dims != 2:
        raise ParticleDetectError(f"{where}: a 3D model; train it on volumes (--axes ZYX)")


# What a model's lineage keeps of each ancestor's training record: how it was made, how far it got (a parent
# stopped after 1 of 4 epochs is no 4-epoch model: run_progress) and how it scored.
# validation_score, score, parent_score and metric: the rods and chains models' (their score is not always F1).
# init_sha256: which weights a recipe's model started from (its init's name alone may since hold others);
# pseudo_labelled, pseudo_unsure and scored_on: whether a round also learnt from unreviewed frames (and how many its
# teacher was unsure all over), and what its verdict measured;
# device, threads and worker: where a round trained (a remote round's dask worker).
# resumed_with: the commands that resumed an ancestor's run (its command is the one that started it).
LINEAGE_KEYS = ("command", "resumed_with", "recipe", "recipe_sha256", "init", "init_sha256", "finished",
                "epochs_done", "epochs", "best_epoch", "stopped_at_time_limit", "validation_f1", "validation_score",
                "annotated_examples", "threshold_tuning", "exported")
ROUND_LINEAGE_KEYS = ("examples", "held_out_tiles", "scored_on", "f1", "parent_f1", "score", "parent_score", "metric",
                      "pseudo_labelled_frames", "pseudo_labelled", "pseudo_unsure", "device", "threads", "worker")


def lineage_with(training: dict) -> list[dict]:
    """A child's lineage: its parent's own, then the parent's record (``training``, its card's)."""
    entry = {k: training[k] for k in LINEAGE_KEYS if k in training}
    if isinstance(training.get("fine_tuned"), dict):
        entry["fine_tuned"] = {k: training["fine_tuned"][k] for k in ROUND_LINEAGE_KEYS if k in training["fine_tuned"]}
    lineage = training.get("lineage", [])
    return (list(lineage) if isinstance(lineage, list) else []) + ([entry] if entry else [])


def _cpu_copy(card: ModelCard, state: dict) -> nn.Module:
    # Its initial weights are replaced at once: drawing them would shift a seeded caller's random stream.
    copy = network_for_weights(card)
    copy.load_state_dict({k: v.detach().cpu() for k, v in state.items()})
    return copy.eval()


def annotated_files(paths: list[str | Path], table: str = "centre table") -> Iterator[tuple[Path, Path]]:
    """(image, CSV beside it) pairs from image files and folders of them; a named image without its
    CSV is one error (``table`` says what was expected), an image in a folder without one is skipped. A file
    given twice (its folder and itself, overlapping globs) is one pair: each copy was trained on and held out of,
    weighing that file twice and counting its held-out tiles twice in the verdict."""
    seen: set[Path] = set()
    for path in map(Path, paths):
        images = sorted(p for p in path.iterdir() if p.suffix.lower() in (".tif", ".tiff", ".png")) if path.is_dir() else [path]
        for image_path in images:
            csv = image_path.with_suffix(".csv")
            if csv.exists():
                if image_path.resolve() not in seen:
                    seen.add(image_path.resolve())
                    yield image_path, csv
            elif not path.is_dir():
                raise ParticleDetectError(f"{image_path}: no {table} {csv.name} beside it")


def frame_beyond(csv: Path, index: int, count: int, image: str, frames: Iterable[int] = (),
                 volumes: bool = False) -> ParticleDetectError:
    """The refusal of a training table naming frame ``index`` of an image of ``count`` frames: "beyond the 1
    frames of" a single 2D image read as a slip. ``frames``: all the table names; where they run from 1 to the
    image's count, the table was numbered from 1 (ImageJ numbers its slices so), which the refusal asks.
    ``volumes``: each frame of the file is a volume (ZYX or TZYX), said so."""
    if volumes:
        held = (f"{image}, one volume (frame 0)" if count == 1
                else f"the {count} volumes of {image} (frames 0 to {count - 1})")
    else:
        held = f"{image}, one image (frame 0)" if count == 1 else f"the {count} frames of {image} (0 to {count - 1})"
    named = sorted(set(int(f) for f in frames))
    from_one = bool(named) and named[0] == 1 and named[-1] == count and index == count
    numbered = "its frames" if volumes else "its slices"  # a volume's slices are its z
    hint = (f"; {_said_frames(named)}: numbered from 1, as ImageJ numbers {numbered}? Frames count from 0"
            if from_one else "")
    return ParticleDetectError(f"{csv}: frame {index} is beyond {held}{hint}")


def _said_frames(frames: list[int]) -> str:
    return f"its frames run 1 to {frames[-1]}" if len(frames) > 1 else "its frame is 1"


def say_unlabelled_images(paths: list[str | Path], table: str = "centre table") -> None:
    """Warn, one line a folder, of the images in ``paths``' folders that :func:`annotated_files` skips (no CSV beside
    them): the card counts only the pairs, so an image (or a folder) the user meant to train on was left out
    unseen beside the others."""
    for folder in (Path(path) for path in paths if Path(path).is_dir()):
        images = [p for p in folder.iterdir() if p.suffix.lower() in (".tif", ".tiff", ".png")]
        skipped = sorted(p for p in images if not p.with_suffix(".csv").exists())
        if skipped:
            log.warning("%s: %s left out: no %s beside %s%s", folder, _names([p.name for p in skipped]), table,
                        "it" if len(skipped) == 1 else "them", _misnamed_table(skipped))


def _misnamed_table(images: list[Path]) -> str:
    """Where a CSV beside one of ``images`` is named after it but not as its table (``img_truth.csv`` beside
    ``img.tif``, as a generator or another program names truth), the rename that pairs them: the user saw the
    table right there and the image left out for want of one. "" where there is none."""
    for image in images:
        named_after = sorted(p for p in image.parent.glob(f"{glob.escape(image.stem)}?*.csv")
                             if p.stem[len(image.stem)] in "_-. ")
        if named_after:
            return f" (an image's table is NAME.csv: rename {named_after[0].name} to {image.stem}.csv to pair them)"
    return ""


def _names(names: list[str]) -> str:
    """File names in one line: the first NAMED_FRAMES, the rest counted."""
    shown = ", ".join(names[:NAMED_FRAMES])
    return shown + (f" and {len(names) - NAMED_FRAMES} more" if len(names) > NAMED_FRAMES else "")


def load_examples(
    paths: list[str | Path], working_diameter: float | None = None, diameter: float | None = None
) -> list[Example]:
    """Annotated examples from ``image.tif`` + ``image.csv`` pairs, or folders of them.

    A CSV with a ``frame`` column annotates the frames of a stack; without one it annotates a 2D image.
    A CSV with a ``source`` column (the dock's Export) gives only the frames a person reviewed
    (:func:`reviewed_indices`). With ``working_diameter`` (the model's), each file's examples are rescaled
    from its particle size, ``diameter`` or else estimated from its first reviewed frame, as detection would.
    """
    from ..files.io import read_image
    from ..files.centre_csv import read_centres

    say_unlabelled_images(paths, "centre table")
    examples = []
    for image_path, csv in annotated_files(paths, "centre table"):
        stack = read_image(image_path)
        table = read_centres(csv)
        frames = as_frames(stack, str(image_path))  # an RGB image is refused as detect refuses it
        indices = annotated_frames(csv, table, len(frames), image_path.name)
        for index in indices:
            if index >= len(frames):
                raise frame_beyond(csv, index, len(frames), image_path.name, indices)
        indices = reviewed_indices(csv, table, indices, stack.ndim == 3)
        scale = 1.0
        if working_diameter is not None:
            size = diameter if diameter is not None else estimate_diameter(frames[indices[0]])
            scale = scale_for_diameter(size, working_diameter)
            check_rescaled_size(image_path, frames.shape[1:], size, scale, working_diameter, diameter is None)
        for index in indices:
            rows = table[table["frame"] == index] if "frame" in table else table
            name = f"{image_path}" + (f" frame {index}" if stack.ndim == 3 else "")
            check_frame(frames[index], name)  # a NaN or blank image would train a model that finds nothing
            centres = rows[["y", "x"]].to_numpy(float)
            check_centres_inside(csv, centres, frames.shape[1:], f" frame {index}" if stack.ndim == 3 else "")
            examples.append(Example(frames[index], centres, scale=scale, name=f"{image_path.name}[{index}]",
                                    given_as=f"{image_path}[{index}]"))
        trained = table[table["frame"].isin(indices)] if "frame" in table else table
        check_centres_spread(csv, trained[["y", "x"]].to_numpy(float), frames.shape[1:])
    if not examples:
        raise ParticleDetectError(f"no image + CSV pairs found in {', '.join(map(str, paths))}")
    say_no_centres(paths, [len(example.centres) for example in examples])
    return examples


def say_no_centres(paths: list[str | Path], counts: Sequence[int], particle: str = "centre") -> None:
    """Warn when not one of the frames read holds a particle (``counts``: each frame's, a ``particle`` a row):
    frames reviewed empty teach (or score) that there is nothing to find, which is right for empty fields but, for a
    table exported or written wrongly, trains a model that finds nothing, and a round then had no particle to be
    scored on, said only as "nothing to score"."""
    if not any(counts):
        read = "its 1 frame is" if len(counts) == 1 else f"its {len(counts)} frames are"
        log.warning("%s: not one %s in its tables: %s read as holding no particles (a table meant to list them "
                    "that lists none?)", ", ".join(map(str, paths)), particle, read)


def annotated_frames(csv: Path, table: pd.DataFrame, count: int, image: str) -> list[int]:
    """The frames of a ``count``-frame ``image`` that its truth table annotates: those its ``frame`` column names.
    A table without that column annotates a single frame, and one of no rows a single frame reviewed empty (nothing
    to find there), with or without the column: a header-only ``frame,y,x`` once failed with an IndexError. A stack's
    table of no rows names no frame to train on, and one without a frame column does not say which frame each row is
    (every frame's particles were taught as frame 0's, the mistake shown only as a starting model scoring near 0):
    both refused in one line, as evaluate refuses such a table against a stack's."""
    if "frame" in table and len(table):
        return sorted(set(table["frame"]))
    if count == 1:
        return [0]
    if "frame" not in table and len(table):
        raise ParticleDetectError(f"{csv}: no frame column, while {image} holds {count} frames: its {len(table)} rows "
                                  "would be taught as frame 0's; give it a frame column (the frame of each row, 0 "
                                  "for the first frame's)")
    raise ParticleDetectError(f"{csv}: no rows, so it names none of the {count} frames of {image} to train on; give "
                              "its rows for the frames reviewed, or leave the file out")


# Who put a row of the dock's Export there (files.tables.SOURCES): "model" is the network's detection nobody
# confirmed; accepting a frame or a region turns the model's points in it "accepted" (projects/project.py).
UNCONFIRMED_SOURCE = "model"
ACCEPTED_SOURCE = "accepted"
# Frames a warning names one by one; the rest are counted.
NAMED_FRAMES = 8


def reviewed_indices(csv: Path, table: pd.DataFrame, indices: list[int], stacked: bool) -> list[int]:
    """The frames among ``indices`` of a truth table that a person reviewed, read as the dock's rounds read
    its project (learning/rounds.py: frames and regions accepted, never frames only edited). Without a
    ``source`` column every frame is truth. A frame whose rows are all the model's was never reviewed,
    and one that mixes the model's with added points but none accepted was edited, never accepted: both
    are left out, since a missed particle there would be taught as background. A frame that mixes the
    model's rows with accepted ones had a region accepted, which the CSV does not locate: it is kept
    whole. One warning names what was left out or kept whole; a table with no reviewed frame is refused."""
    if "source" not in table:
        return indices
    sources = table["source"].astype(str)
    say_unknown_sources(csv, table["source"])
    never_reviewed, never_accepted, partly_accepted = [], [], []
    for index in indices:
        rows = sources[table["frame"] == index] if "frame" in table else sources
        unconfirmed = rows == UNCONFIRMED_SOURCE
        if len(rows) and unconfirmed.all():
            never_reviewed.append(index)
        elif unconfirmed.any():
            (partly_accepted if (rows == ACCEPTED_SOURCE).any() else never_accepted).append(index)
    left_out = set(never_reviewed) | set(never_accepted)
    kept = [index for index in indices if index not in left_out]
    if indices and not kept:
        raise ParticleDetectError(f"{csv}: no frame of it was reviewed (its rows are the model's detections, source "
                                  "'model', or edits never accepted); accept the frames in the dock, then Export")
    notes = []
    if never_reviewed:
        notes.append(f"{_frames_named(never_reviewed, stacked)} left out: never reviewed (every row's source is "
                     "'model')")
    if never_accepted:
        notes.append(f"{_frames_named(never_accepted, stacked)} left out: edited but never accepted (the dock's rounds "
                     "leave such frames out too)")
    if partly_accepted:
        notes.append(f"{_frames_named(partly_accepted, stacked)} kept whole: accepted in a region the CSV does not "
                     "locate, so the model's points outside it are taught as truth")
    if notes:
        log.warning("%s: %s; accept whole frames in the dock, then Export, to train on them", csv, "; ".join(notes))
    return kept


def say_unknown_sources(csv: Path, sources: pd.Series) -> None:
    """Warn of ``source`` values none of the dock's (files.tables.SOURCES): such rows are read as a person's, which
    for a misspelt 'model' teaches detections nobody checked as truth. An empty cell is named as one, not 'nan'."""
    import pandas as pd

    from ..files.tables import SOURCES

    unknown = sorted({"" if pd.isna(value) else str(value) for value in sources} - set(SOURCES))
    if unknown:
        log.warning("%s: source %s %s %s none of %s: %s rows are read as reviewed points", csv,
                    "value" if len(unknown) == 1 else "values",
                    _names([f"{u!r:.40}" if u else "(empty)" for u in unknown]),
                    "is" if len(unknown) == 1 else "are", ", ".join(SOURCES), "its" if len(unknown) == 1 else "their")


def _frames_named(frames: list[int], stacked: bool) -> str:
    if not stacked:
        return "the image"
    named = ", ".join(map(str, frames[:NAMED_FRAMES]))
    more = f" and {len(frames) - NAMED_FRAMES} more" if len(frames) > NAMED_FRAMES else ""
    return f"frame{'s' if len(frames) > 1 else ''} {named}{more}"


# A training image must span this many particles (at the model's working size) once rescaled: smaller,
# a round has no room to hold tiles out and train beside them, and training crops are mostly padding.
MIN_SIDE_DIAMETERS = 2


def check_rescaled_size(image_path: Path, shape: tuple[int, ...], diameter: float, scale: float,
                        working: float, estimated: bool) -> None:
    """Refuse an image that shrinks below MIN_SIDE_DIAMETERS particles across at the model's working size
    (a --diameter too large for it), naming the image, its size and the diameter."""
    rescaled = [int(round(n * scale)) for n in shape]
    if min(rescaled) >= MIN_SIDE_DIAMETERS * working:
        return
    said = "estimated" if estimated else "given"
    raise ParticleDetectError(
        f"{image_path}: at a particle diameter of {diameter:.0f} px ({said}) the {shape[0]}x{shape[1]} image shrinks "
        f"to {rescaled[0]}x{rescaled[1]} px at the model's working size ({working:.0f} px particles), too small to "
        f"train on; check the diameter (--diameter)")


def all_outside(count: int, noun: str = "centre") -> str:
    """'its 3 centres all lie outside' ("its 1 centres all lie" of a table of one centre read as a slip)."""
    return f"its one {noun} lies outside" if count == 1 else f"its {count} {noun}s all lie outside"


def check_centres_inside(csv: Path, centres: np.ndarray, shape: tuple[int, ...], where: str = "") -> None:
    """Refuse a truth table whose centres all lie outside its image (training would teach that everything
    is background); warn when some do (they are ignored). Centres of three columns are a volume's (z, y, x)."""
    if not len(centres):
        return
    dims = np.asarray(centres).shape[1]
    inside = np.all((centres >= -0.5) & (centres < np.asarray(shape[:dims], float) - 0.5), axis=1)
    check_inside(csv, inside, shape[:dims], where)


def check_inside(csv: Path, inside: np.ndarray, shape: tuple[int, ...], where: str = "",
                 noun: str = "centre") -> None:
    """Refuse a truth table none of whose rows (``inside``: one bool each, a ``noun`` each) lies in its image or
    volume of ``shape``; warn, in one line, when some do not (they are ignored)."""
    if not len(inside):  # a frame reviewed empty: nothing to find there
        return
    size = "x".join(str(int(n)) for n in shape)
    what, hint = (("(z, y, x) volume", "check that the table is this volume's (z, y and x columns, voxels)")
                  if len(shape) == 3 else ("image", "check the table's y and x columns (pixels, y first)"))
    if not inside.any():
        raise ParticleDetectError(f"{csv}{where}: {all_outside(len(inside), noun)} the {size} {what}; {hint}")
    outside = int((~inside).sum())
    if outside:
        # "1 of its 115 centres lie outside ...; they are ignored" read as a slip.
        verb, ignored = ("lies", "it is") if outside == 1 else ("lie", "they are")
        log.warning("%s%s: %d of its %d %ss %s outside the %s %s; %s ignored", csv, where, outside, len(inside), noun,
                    verb, size, what, ignored)


# Centres given in micrometres (0.25 µm per pixel: a quarter of each side) crowd into the image's top-left
# corner. Below this share of the image along both axes, with at least CRAMPED_MIN_CENTRES of them (so a
# sparse field cannot look like that by chance), a table is said to look like it.
CRAMPED_SHARE = 0.5
CRAMPED_MIN_CENTRES = 20


def check_centres_spread(csv: Path, centres: np.ndarray, shape: tuple[int, ...]) -> None:
    """Warn (one line) when a table's (y, x) centres, CRAMPED_MIN_CENTRES or more, all lie within less than
    CRAMPED_SHARE of the image along both axes: centres in other units than pixels, which training would
    take as truth over the wrong particles."""
    points = np.asarray(centres, dtype=float)
    if len(points) < CRAMPED_MIN_CENTRES:
        return
    reach = points[:, -2:].max(axis=0)
    size = np.asarray(shape[-2:], dtype=float)
    if np.all(reach < CRAMPED_SHARE * size):
        covered = "x".join(str(int(np.ceil(n))) for n in reach)
        log.warning("%s: its centres cover only the top-left %s px of the %s image: are they in µm? centres are in "
                    "pixels", csv, covered, "x".join(str(int(n)) for n in size))


def strong_augment(image: np.ndarray, centres: np.ndarray, weight: np.ndarray,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A harder view of a pseudo-labelled crop (a normalised image): a small shift (image, targets and
    mask together), blur, brightness and contrast, and noise. The targets stay the teacher's."""
    shift = rng.uniform(-2.0, 2.0, size=2)
    image = ndimage.shift(image, shift, order=1, mode="reflect")
    weight = ndimage.shift(weight, shift, order=0, mode="constant", cval=0.0)
    centres = centres + shift if len(centres) else centres
    if rng.random() < 0.5:
        image = ndimage.gaussian_filter(image, rng.uniform(0.4, 1.2))
    image = image * float(np.exp(rng.uniform(-0.35, 0.35))) + float(rng.uniform(-0.15, 0.15))
    image = image + rng.uniform(0.02, 0.1) * rng.standard_normal(image.shape)
    return image.astype(np.float32), centres, weight.astype(np.float32)
