"""A fine-tuning round: a model and the user's annotated examples in, a scored model out.

Knows nothing of projects, napari or files, so the dock, the command line (``train --from``) and
the benchmarks run the same round.

Honest scoring: a fixed share of every reviewed area is held out of training, in tiles chosen by
a fixed rule from the frame number and the tile's position, so the same tiles stay out in every
round and no round ever trains on them. The new model and the model it started from are both
scored there, each at the threshold that suits it best, against the user's corrections. A round
that does not beat its parent there says so (``RoundResult.improved``). Held-out tiles with no
corrected particle in them score nothing: F1 there is 1 for a model that finds nothing and 0 for
one that finds anything, so a round whose held-out tiles hold no particle is unscored, never
"better" (a frame accepted empty by mistake would otherwise teach a model to find nothing and
switch it in).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import itertools
import logging
import math
import numbers
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from ..detection.devices import select_device, training_dtype
from ..errors import ParticleDetectError
from ..kinds.evaluation import Counts, as_points, best_threshold_index, counts_by_threshold, mask_value_at, match
from ..models import DetectorModel, load_model
from ..detection.networks import prepare_network
from ..detection.prediction import detect_frame
from ..detection.rescoring import Criterion, candidate_features
from ..detection.runtimes import inherit_bfloat16_gate
from ..detection.sizing import rescale_centres
from ..detection.steps import network_input
from .training import (NAMED_FRAMES, BatchSource, Example, TrainConfig, TrainingCancelled, adam, all_outside,
                       check_train_config, detection_scale, forward_in, lineage_with, made_ahead,
                       refuse_validating_on_training_frames, require_sphere_model, said_names, session_fields,
                       standard_layout, take_step, training_layout, weighted_mse)
from ..detection.threads import keeps_torch_threads, round_threads

log = logging.getLogger(__name__)

# What a round trains, chosen by measurement (benchmarks/loop_options.py): every layer (the
# decoder alone learned less and saved little time), from the user's frames alone (synthetic
# images in the batch slowed learning on unfamiliar optics), 200 steps at 2e-3 after a short
# warm-up, then a cosine decay.
FINE_TUNE = TrainConfig(
    epochs=1, steps_per_epoch=200, batch_size=8, crop=64, learning_rate=2e-3, synthetic_fraction=0.0,
    validation_images=0, seed=0,
    # bfloat16 forward passes where the CPU computes in bfloat16: the same unseen F1 on loop.py's four
    # domains (within 0.002 either way), a round on two 512 px frames 15-17 s against 21 s
    # (benchmarks/results/loop_bf16.txt); float32 everywhere else.
    precision="auto",
)
WARMUP_SHARE = 0.1
# A round's length is what the device affords, not what the user's frames hold: 2000 steps on the
# same two corrected frames took dim spheres from 0.876 to 0.902 on unseen frames (ceiling 0.909;
# benchmarks/results/loop_steps.txt). On a CPU that is minutes, so 200 stay the default there; a
# GPU takes the same number of crops (16,000) in 500 steps of 32 at twice the learning rate: on an
# H200 a step costs about the same at 8 or 32 crops, the round took 11.0 s against 19.2 s for 2000
# steps of 8, with unseen F1 as good (benchmarks/results/round_time_gpu_h200.txt, loop_gpu_round.txt).
# With that many steps the unreviewed frames pay too (bright-field rims 0.901 -> 0.915, large
# absorbing spheres 0.956 -> 0.960, bulk water 0.867 -> 0.870, dim spheres 0.902 -> 0.900), at 200
# they did not (results/loop_semi.txt): a GPU round learns from GPU_ROUND_UNLABELLED of them by default.
GPU_ROUND_STEPS = 500
GPU_ROUND_BATCH = 32
GPU_ROUND_LEARNING_RATE = 4e-3
GPU_ROUND_UNLABELLED = 8


def round_defaults(device: str | torch.device = "auto") -> dict[str, int | float]:
    """The TrainConfig fields a round takes by default on ``device`` (``replace(FINE_TUNE, **...)``):
    FINE_TUNE's own on a CPU; on a GPU GPU_ROUND_STEPS of GPU_ROUND_BATCH crops at
    GPU_ROUND_LEARNING_RATE, learning from GPU_ROUND_UNLABELLED unreviewed frames."""
    if _on_gpu(device):
        return {"steps_per_epoch": GPU_ROUND_STEPS, "batch_size": GPU_ROUND_BATCH,
                "learning_rate": GPU_ROUND_LEARNING_RATE, "unlabelled_frames": GPU_ROUND_UNLABELLED}
    return {"steps_per_epoch": FINE_TUNE.steps_per_epoch, "batch_size": FINE_TUNE.batch_size,
            "learning_rate": FINE_TUNE.learning_rate, "unlabelled_frames": FINE_TUNE.unlabelled_frames}


def _on_gpu(device: str | torch.device) -> bool:
    return select_device(device).type != "cpu"
# The encoder's modules in this project's networks (UNet: down; ResNet: stem, stages).
ENCODER_PARTS = ("down", "stem", "stages")
# Share of every reviewed area held out of training to score rounds on.
HOLD_OUT_SHARE = 0.2
# Held-out tiles are this many particle diameters wide (at least MIN_TILE px): big enough to
# hold whole particles with context, small enough that a proposed region (projects/review.py: eight
# diameters) spans several.
TILE_DIAMETERS = 4.0
# Neither trained on nor scored: a band this many diameters wide around held-out tiles. A target
# peak reaches about 0.3 diameters (three heatmap sigmas at the working size), so no held-out
# particle's label leaks into training.
GUARD_DIAMETERS = 0.5
MIN_TILE = 32
# Heatmap score down to which candidates are decoded when tuning a threshold.
SCORE_FLOOR = 0.05
TIE = 1e-9  # F1s this close are equal
THRESHOLDS = tuple(np.round(np.arange(0.1, 0.71, 0.05), 2))
# How the dock and ``rounds`` say a round that won only on the tie-break (train --from gives the numbers).
TIED_BETTER = " (tied at the best threshold, better across thresholds)"


def tied_at_best(f1: float, parent_f1: float) -> bool:
    """Whether a round and its parent score the same at their best thresholds, so the mean F1 across the
    thresholds decides which is better (RoundResult.improved)."""
    return abs(f1 - parent_f1) <= TIE


def tie_note(improved: bool | None, f1: float | None, parent_f1: float | None) -> str:
    """TIED_BETTER for a round that beat its parent only across the thresholds, else ""."""
    return TIED_BETTER if improved and f1 is not None and parent_f1 is not None and tied_at_best(f1, parent_f1) else ""


@dataclass
class Scored:
    """A model's result on the held-out areas at its best threshold."""

    f1: float
    threshold: float
    counts: Counts
    # Mean F1 over THRESHOLDS: breaks a tie at the best threshold, common when few particles are held out.
    f1_across_thresholds: float = 0.0


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
    pseudo_frames: int = 0  # unreviewed frames the teacher labelled for this round

    @property
    def improved(self) -> bool | None:
        """Whether the round beats its parent on the held-out areas (None: nothing to tell by): a higher
        F1 at its best threshold or, tied there, a higher F1 across the thresholds."""
        if self.score is None or self.parent_score is None:
            return None
        if not tied_at_best(self.score.f1, self.parent_score.f1):
            return self.score.f1 > self.parent_score.f1
        return self.score.f1_across_thresholds > self.parent_score.f1_across_thresholds + TIE


def hold_out_mask(
    shape: tuple[int, ...], key: str, tile: int, share: float = HOLD_OUT_SHARE, reviewed: np.ndarray | None = None
) -> np.ndarray:
    """The held-out pixels of a frame: whole tiles picked by a hash of (key, tile row, tile column).

    The same frame (key) always gives the same tiles, so an area once held out stays held out in
    every round. When the reviewed part (default: all) covers three tiles or more and chance picked
    none of them, the one with the lowest hash is held out, so every such frame or region is scored.
    A 3D ``shape`` (a volume) is cut into cubic tiles the same way, hashed by (key, slab, row, column).
    """
    grid = tuple(math.ceil(n / tile) for n in shape)
    draws = np.empty(grid)
    for index in itertools.product(*(range(n) for n in grid)):
        digest = hashlib.blake2b(":".join(map(str, (key, *index))).encode(), digest_size=8).digest()
        draws[index] = int.from_bytes(digest, "little") / 2**64
    covered = np.ones(grid, dtype=bool)
    if reviewed is not None:
        padded = np.zeros(tuple(n * tile for n in grid), dtype=bool)
        padded[tuple(slice(0, n) for n in shape)] = reviewed
        covered = padded.reshape([v for n in grid for v in (n, tile)]).mean(axis=tuple(range(1, 2 * len(grid), 2))) > 0.5
    picked = (draws < share) & covered
    if not picked.any() and covered.sum() >= 3:
        picked[np.unravel_index(np.argmin(np.where(covered, draws, np.inf)), draws.shape)] = True
    for axis in range(len(grid)):
        picked = np.repeat(picked, tile, axis=axis)
    return picked[tuple(slice(0, n) for n in shape)]


def tile_size(shape: tuple[int, int], diameter: float) -> int:
    """Held-out tiles: TILE_DIAMETERS particles wide, but a third of the image at most, so small
    images have several."""
    return int(np.clip(round(TILE_DIAMETERS * diameter), MIN_TILE, max(MIN_TILE, min(shape) // 3)))


@dataclass
class Split:
    """One reviewed frame or region: where it trains and where it is held out to score on."""

    example: Example
    train_area: np.ndarray  # may be empty
    held_area: np.ndarray  # may be empty
    tolerance: float  # match radius in the example's pixels


def split_for_scoring(example: Example, diameter: float, share: float = HOLD_OUT_SHARE) -> Split:
    """Where one reviewed frame or region trains and where it is held out.

    Tiles are picked by the example's name (a frame's is stable across rounds); a guard band
    around them (GUARD_DIAMETERS) is used by neither.
    """
    from scipy import ndimage

    shape = example.image.shape
    reviewed = np.ones(shape, dtype=bool) if example.area is None else np.asarray(example.area, dtype=bool)
    held = hold_out_mask(shape, example.name, tile_size(shape, diameter), share, reviewed) & reviewed
    guard = ndimage.distance_transform_edt(~held) <= GUARD_DIAMETERS * diameter if held.any() else held
    return Split(example, reviewed & ~guard, held, scoring_tolerance(diameter))


@dataclass
class Candidates:
    """What one model proposes on one example's whole image, down to SCORE_FLOOR."""

    centres: np.ndarray  # (N, 2) in the example's pixels
    scores: np.ndarray
    features: np.ndarray | None = None  # rescoring.candidate_features, when a criterion is to be learned


def propose(model: DetectorModel, example: Example, device: torch.device, ringed: bool = False,
            measure: bool = False) -> Candidates:
    """The model's candidates on the example's whole image (context as in detection), optionally measured.

    In float32, not the round's training precision: torch's bfloat16 moves candidates across the
    threshold, so a parent scored in it no longer finds exactly the centres a user accepted as
    detected (held-out F1 0.93 instead of 1.0), and the verdict would judge another model than the
    one detection runs."""
    # The path the user gave: two folders' img.tif[0] said alike could not be told apart.
    said = example.given_as or example.name or "example"
    result = detect_frame(model, example.image, device, SCORE_FLOOR, example.scale, ringed=ringed,
                          network=prepare_network(model, device), name=said, heatmap=False)
    features = None
    if measure:
        image, factors = network_input(example.image, example.scale)
        features = candidate_features(image, rescale_centres(result.centres, factors), result.scores,
                                      model.card.canonical_diameter)
    return Candidates(result.centres, result.scores, features)


def score_in_areas(splits: list[Split], candidates: list[Candidates], scores: list[np.ndarray] | None = None,
                   area: str = "held_area") -> Scored | None:
    """Pooled F1 inside each split's ``area`` at the best of THRESHOLDS (``scores`` replace the
    candidates' own, e.g. a criterion's probabilities). None when the areas hold no corrected
    particle: there, finding nothing would score 1 and finding anything 0, which tells nothing."""
    totals = [Counts() for _ in THRESHOLDS]
    counted = False
    for k, (split, found) in enumerate(zip(splits, candidates)):
        mask = getattr(split, area)
        if not mask.any():
            continue
        counted = True
        values = found.scores if scores is None else scores[k]
        counts = counts_by_threshold(found.centres, values, split.example.centres, mask, THRESHOLDS, split.tolerance)
        totals = [total + c for total, c in zip(totals, counts)]
    if not counted or totals[0].tp + totals[0].fn == 0:
        return None
    f1s = [c.f1 for c in totals]
    best = best_threshold_index(f1s, TIE)
    return Scored(totals[best].f1, float(THRESHOLDS[best]), totals[best], float(np.mean(f1s)))


def round_model(model: DetectorModel | str | Path) -> DetectorModel:
    """The model a round starts from: ``model`` itself, or the model a file's path or a shipped model's
    name gives (as ``train(init=...)`` takes it)."""
    if isinstance(model, DetectorModel):
        return model
    if isinstance(model, (str, os.PathLike)):
        return load_model(model, "cpu")
    raise TypeError(f"fine_tune: model must be a DetectorModel, a model file's path or a shipped model's name "
                    f"(\"unet\"), got {type(model).__name__}")


def checked_examples(examples: Sequence[Example], working_diameter: float, what: str = "examples",
                     truth: bool = True) -> list[Example]:
    """``examples`` as a round can use them, or one ParticleDetectError naming the example and what is wrong.

    Each needs a 2D image, a positive ``scale`` or None (then the scale detection would use for a model
    working at ``working_diameter``: :func:`training.detection_scale`), an ``area`` (when given) of the
    image's shape and, with ``truth``, ``centres`` as (N, 2) y, x pixels (an (N, 2) array, or a table with
    y and x columns, taken as that array) not all outside the image: a round on those would learn that the
    frame holds no particle.
    """
    if isinstance(examples, (Example, str, bytes, np.ndarray)) or not hasattr(examples, "__iter__"):
        raise TypeError(f"fine_tune: {what} must be a list of Example, got {type(examples).__name__}"
                        + ("; pass [example]" if isinstance(examples, Example) else ""))
    checked = []
    for i, example in enumerate(list(examples)):
        # The path the user gave where there is one: two folders' img.tif[0] read alike by name.
        said = (example.given_as or example.name) if isinstance(example, Example) else ""
        where = f"{what}[{i}]" + (f" ({said})" if said else "")
        if not isinstance(example, Example):
            raise TypeError(f"fine_tune: {where} must be an Example, got {type(example).__name__}")
        shape = tuple(np.shape(example.image))
        if len(shape) != 2:
            raise ParticleDetectError(f"{where}: expected a 2D image, got shape {shape}")
        scale = example.scale
        if scale is not None and not (isinstance(scale, numbers.Real) and not isinstance(scale, bool)
                                      and math.isfinite(scale) and scale > 0):
            raise ParticleDetectError(f"{where}: scale must be a number > 0 (the factor that brings the image to the "
                                      f"model's working size; 1: as it is; None: as detection would), got {scale!r}")
        if example.area is not None and tuple(np.shape(example.area)) != shape:
            raise ParticleDetectError(f"{where}: its area is {_size(np.shape(example.area))} but its image is "
                                      f"{_size(shape)}; the area marks the image's reviewed pixels, so it is the "
                                      "image's shape")
        if truth:
            example = replace(example, centres=_checked_centres(example.centres, shape, where))
        if scale is None:  # last: the size estimate is the one costly check
            example = replace(example, scale=detection_scale(example.image, working_diameter, where))
        checked.append(example)
    return checked


def _size(shape: tuple[int, ...]) -> str:
    return "x".join(str(n) for n in shape) if shape else "a scalar"


def _checked_centres(centres: object, shape: tuple[int, int], where: str) -> np.ndarray:
    """An example's centres as an (N, 2) float array of y, x pixels (as scoring reads points:
    kinds.evaluation.as_points), or one ParticleDetectError."""
    try:
        points = as_points(centres, f"{where}: centres")
    except (TypeError, ValueError) as exc:  # a round's examples are data: one error type for all of them
        raise ParticleDetectError(str(exc)) from None
    inside = np.all((points >= -0.5) & (points < np.asarray(shape, float) - 0.5), axis=1)
    if len(points) and not inside.any():
        raise ParticleDetectError(f"{where}: {all_outside(len(points))} the {_size(shape)} image; check the centres "
                                  "(pixels, y first)")
    return points


@keeps_torch_threads
def fine_tune(
    model: DetectorModel | str | Path,
    examples: list[Example],
    config: TrainConfig = FINE_TUNE,
    device: str | torch.device = "auto",
    ringed: bool = False,
    hold_out: float = HOLD_OUT_SHARE,
    progress: Callable[[dict], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    validation: list[Example] | None = None,
    unlabelled: Sequence[Example] | Callable[[int], Sequence[Example]] | None = None,
) -> RoundResult:
    """Fine-tune ``model`` on ``examples`` and score the round on their held-out tiles.

    ``model`` is a DetectorModel, a model file's path or a shipped model's name ("unet"). An example's
    ``centres`` are (N, 2) y, x pixels, or a table with y and x columns; examples a round cannot learn
    from (centres all outside the image, an area not of the image's shape, a scale not above 0) are
    refused up front (:func:`checked_examples`), as is a ``config`` training cannot run with
    (:func:`training.check_train_config`) or a ``hold_out`` share not between 0 and 1. Each example's
    ``scale`` brings it to the model's working size, so the particles' size in its own pixels is the
    model's working size over that scale; left at None it is the scale detection would use (the
    particles' diameter estimated from the image, as :func:`detect` does), so the round trains and is
    scored on the frames as detection will see them. Its ``name``
    picks its held-out tiles (keep names stable across rounds: "frame 3"). Training crops are
    drawn half around the parent's mistakes there (the points the user had to add, delete or
    move), half anywhere in the reviewed areas. With ``config.learn_criterion`` the round also
    learns which candidates the user keeps (:mod:`rescoring`), kept only where it scores better
    on the held-out tiles. Progress events have a ``phase`` (preparing, scoring, training,
    criterion, done); raises :class:`TrainingCancelled` within a step of ``cancel()`` turning
    true. ``validation`` examples (the user's own annotated images, scored whole, never trained on) are then
    what the verdict rests on alone: the examples' held-out tiles stay out of training, so a later round
    scored on them is still honest, but count in neither score, nor the ``held_out_tiles`` (the
    validation areas' tiles, a whole image one); the card's ``fine_tuned`` record says which
    (``scored_on``: "validation" or "held-out tiles"). The input model is left as it was.

    ``unlabelled``: frames nobody reviewed (Examples with no centres; an ``area`` says where they
    may be labelled), or a callable giving ``n`` of them. With ``config.unlabelled_frames`` > 0 a
    teacher pseudo-labels up to that many (spread over a list; phase "teacher"): the student after
    ``config.pseudo_teacher_at`` of the steps (0: the parent), and ``config.pseudo_share`` of the
    training crops come from them from then on (:mod:`pseudo_labels`). A frame
    with the pixels of a reviewed example (whatever its name) is labelled only outside its reviewed
    area and its held-out tiles' guard bands; pseudo-labels never reach the held-out scores. The
    model's card records the frames learned from (``fine_tuned``: ``pseudo_labelled``, their names),
    how many were asked (``unlabelled_asked``) and how many the teacher was unsure all over, so left
    nothing to learn (``pseudo_unsure``): :func:`unreviewed_note` says it.
    """
    started = time.monotonic()
    report = progress or (lambda event: None)
    if not (isinstance(hold_out, numbers.Real) and not isinstance(hold_out, bool) and 0 < hold_out < 1):
        raise ParticleDetectError(f"fine_tune: hold_out must be a share between 0 and 1 (both excluded; default "
                                  f"{HOLD_OUT_SHARE}), got {hold_out!r:.40}")
    model = round_model(model)
    require_sphere_model(model)
    check_train_config(config, model.network.stride)
    working = model.card.canonical_diameter
    examples = checked_examples(examples, working)
    validation = checked_examples(validation, working, "validation") if validation is not None else None
    if unlabelled is not None and not callable(unlabelled):
        unlabelled = checked_examples(unlabelled, working, "unlabelled", truth=False)
    if not examples:
        raise ParticleDetectError("accept at least one corrected frame or region before fine-tuning")
    kept, twins = distinct_frames(examples)
    examples = [examples[i] for i in kept]
    trained_names, validation_names = said_names(examples, validation or [])
    refuse_validating_on_training_frames(zip(trained_names, (e.image for e in examples)),
                                         zip(validation_names, (e.image for e in validation or [])))
    # The round trains the parent's network: its card records that architecture, not the config's default.
    config = replace(config, architecture=model.card.architecture, channels=tuple(model.card.channels))
    report({"phase": "preparing"})
    device = select_device(config.device if device == "auto" else device)
    torch.set_num_threads(round_threads(config.threads))
    session = session_fields(device)
    splits = [split_for_scoring(e, example_diameter(model, e), hold_out) for e in examples]
    splits += [Split(e, np.zeros(e.image.shape, bool), np.ones(e.image.shape, bool) if e.area is None else e.area,
                     scoring_tolerance(example_diameter(model, e))) for e in validation or []]
    if not any(s.train_area.any() for s in splits):
        raise ParticleDetectError("the reviewed areas are too small to train on; review a larger region or a frame")
    # Given, the user's validation images alone judge the round (pooled with the examples' held-out tiles they
    # were only a part of the verdict asked to rest on them); they are the last splits.
    judged = len(examples) if validation else 0
    history: list[dict] = []

    parents = _propose_all(model, splits, device, ringed, False, "parent", report, cancel)
    parent_score = score_in_areas(splits[judged:], parents[judged:])
    threshold = parent_score.threshold if parent_score else model.card.threshold
    train_examples = [replace(s.example, area=s.train_area, focus=_mistakes(s, c, threshold))
                      for s, c in zip(splits, parents) if s.train_area.any()]
    frames = unreviewed_frames(model, splits, unlabelled, config)
    pseudo: list[Example] = []
    labelled: list[int] = []  # how many frames the teacher labelled (none when it never came)

    def teach(teacher: DetectorModel) -> list[Example]:
        tried = label_with_spares(teacher, frames, lambda need, tried: more_unreviewed(
            model, splits, unlabelled, need, tried), pseudo, config, device, report, cancel)
        labelled.append(tried)
        return pseudo

    child = train_steps(model, train_examples, config, device, report, cancel, history, teach if frames else None)
    children = _propose_all(child, splits, device, ringed, config.learn_criterion, "new model", report, cancel)
    score = score_in_areas(splits[judged:], children[judged:])
    if config.learn_criterion:
        report({"phase": "criterion"})
        with_criterion = learn_criterion(child, splits, children)
        if with_criterion is not None:
            probabilities = [with_criterion.criterion.probabilities(c.features) for c in children[judged:]]
            criterion_score = score_in_areas(splits[judged:], children[judged:], probabilities)
            if criterion_score is not None and (score is None or criterion_score.f1 > score.f1 + CRITERION_MARGIN):
                child, score = with_criterion, criterion_score
    if score is not None:
        child.card.threshold = score.threshold
    held_tiles = sum(_tiles(s.held_area) for s in splits[judged:])
    # The round's own record; the parent's (its threshold tuning, score, command) goes into the lineage.
    child.card.training = {
        "lineage": lineage_with(model.card.training),
        "fine_tuned": {"examples": len(train_examples), "held_out_tiles": held_tiles, "config": config.to_dict(),
                       "scored_on": "validation" if judged else "held-out tiles",
                       "hold_out": hold_out, "criterion": child.criterion is not None,
                       "f1": score.f1 if score else None, "parent_f1": parent_score.f1 if parent_score else None,
                       "pseudo_labelled_frames": len(pseudo),
                       # Which unreviewed frames, of how many asked: a round that found none left is a supervised one.
                       "pseudo_labelled": [e.name for e in pseudo],
                       "unlabelled_asked": int(config.unlabelled_frames) if unlabelled is not None else 0,
                       # Frames the teacher labelled but was unsure all over: offered, yet nothing learned from them.
                       "pseudo_unsure": sum(labelled) - len(pseudo),
                       **twins_record(twins),
                       # Where it trained: a GPU worker's round and a laptop's CPU one read alike without it.
                       **session},
    }
    inherit_bfloat16_gate(model, child)
    result = RoundResult(model=child, trained_examples=len(train_examples), held_out_tiles=held_tiles, score=score,
                         parent_score=parent_score, history=history, seconds=time.monotonic() - started,
                         pseudo_frames=len(pseudo))
    report({"phase": "done", "seconds": result.seconds})
    return result


def distinct_frames(examples: Sequence[Example],
                    names: Sequence[str] | None = None) -> tuple[list[int], dict[str, str]]:
    """Which of a round's ``examples`` it keeps, by index, and {left out: kept} for each frame with the pixels of an
    earlier one (training.frame_digest), said in the log by ``names`` (default: training.said_names). The same image
    copied into two folders, both reviewed, was learned twice, and its held-out tiles, drawn by name, differed: one
    copy trained where the other was scored, so the verdict was not honest."""
    from .training import frame_digest

    names = said_names(examples, [])[0] if names is None else names
    first: dict[bytes, tuple[str, Example]] = {}
    kept, twins, other_reviews = [], {}, []
    for i, (example, name) in enumerate(zip(examples, names)):
        digest = frame_digest(example.image)
        if digest in first:
            kept_as, original = first[digest]
            twins[name] = kept_as
            if not _same_review(example, original):
                other_reviews.append(name)
            continue
        first[digest] = (name, example)
        kept.append(i)
    if twins:
        copies = "; ".join(f"{twin} has the pixels of {kept_as}" for twin, kept_as in twins.items())
        log.warning("%s: a round learns and scores each frame once, so the %s left out", copies,
                    "copy is" if len(twins) == 1 else "copies are")
    if other_reviews:
        # Reviewed apart (other areas or centres), the copy's reviews are not learned: said, not lost in silence.
        log.warning("%s: reviewed otherwise than the frame kept, and those reviews are not learned this round: "
                    "review the frame in one place (its reviews saved there are kept)", ", ".join(other_reviews))
    return kept, twins


def _same_review(example: Example, other: Example) -> bool:
    """Whether two examples of the same pixels were reviewed alike: the same area and the same centres."""
    if (example.area is None) != (other.area is None):
        return False
    if example.area is not None and not np.array_equal(example.area, other.area):
        return False
    ours, theirs = (np.asarray(e.centres, float).reshape(-1, 2) for e in (example, other))
    if ours.shape != theirs.shape:
        return False
    rows = (lambda c: c[np.lexsort(c.T[::-1])])  # in order of y, then x: the same centres in any order
    return bool(np.allclose(rows(ours), rows(theirs)))


def twins_record(twins: dict[str, str]) -> dict[str, dict[str, str]]:
    """The card's ``identical_frames`` ({left out: kept}, :func:`distinct_frames`); nothing where none was."""
    return {"identical_frames": dict(twins)} if twins else {}


def unreviewed_frames(model: DetectorModel, splits: list[Split], unlabelled, config: TrainConfig) -> list[Example]:
    """Up to ``config.unlabelled_frames`` unreviewed frames spread over those left, each with the area a
    teacher may label: never inside a reviewed area, a held-out tile or its guard band. A frame is
    known as reviewed by its pixels (training.frame_digest), not its name, so the same image under
    another file name is no way round the held-out tiles, and another image under the same name loses
    nothing. A callable is asked for more frames while reviewed ones take the place of unreviewed ones."""
    return more_unreviewed(model, splits, unlabelled, int(config.unlabelled_frames))


def more_unreviewed(model: DetectorModel, splits: list[Split], unlabelled, need: int,
                    tried: Sequence[Example] = ()) -> list[Example]:
    """Up to ``need`` unreviewed frames other than those ``tried`` (known by their pixels), spread over those left,
    as :func:`unreviewed_frames` gives them; the spares for frames the teacher was unsure all over."""
    from .pseudo_labels import spread
    from .training import frame_digest

    if need <= 0 or unlabelled is None:
        return []
    kept_out = _ReviewedPixels(model, splits)
    seen = {frame_digest(frame.image) for frame in tried}

    def new(offered: Sequence[Example]) -> list[Example]:
        ready = _labellable(offered, kept_out)
        return [f for f in ready if frame_digest(f.image) not in seen] if seen else ready

    if not callable(unlabelled):
        ready = new(unlabelled)
        return [ready[i] for i in spread(need, range(len(ready)))]
    asked = len(tried) + need
    while True:
        offered = checked_examples(list(unlabelled(asked)), model.card.canonical_diameter, "unlabelled", truth=False)
        ready = new(offered)
        if len(ready) >= need or len(offered) < asked:  # enough, or the source has no other frame
            return [ready[i] for i in spread(need, range(len(ready)))]
        asked += need - len(ready)


def label_with_spares(teacher: DetectorModel, frames: list[Example],
                      spares: Callable[[int, list[Example]], list[Example]], pseudo: list[Example],
                      config: TrainConfig, device: torch.device, report: Callable[[dict], None],
                      cancel: Callable[[], bool] | None) -> int:
    """The teacher's pass over ``frames``, its labels added to ``pseudo``; each frame it was unsure all over
    is made up for by another unreviewed frame (``spares(need, tried)``) while the stack has more, up to as
    many spares as frames asked (the pass costs twice its frames at most): asked for 8 frames of a stack of
    200, a round learned from 6 where two were blank. Returns how many frames the teacher labelled."""
    asked, tried, batch = len(frames), [], frames
    while batch:
        done_before = len(tried)
        tried += batch
        pseudo.extend(label_unreviewed(teacher, batch, config, device, lambda event: report(
            {**event, "done": done_before + event["done"], "total": done_before + event["total"]}), cancel))
        batch = spares(min(asked - len(pseudo), 2 * asked - len(tried)), tried)
    return len(tried)


class _ReviewedPixels:
    """Each reviewed frame's pixels no pseudo-label may touch (reviewed_and_guarded), by the frame's digest.
    A frame's pixels (a distance transform of the whole frame) are worked out only once that frame is offered
    to the teacher, as few are: a frame reviewed whole is never offered."""

    def __init__(self, model: DetectorModel, splits: list[Split]) -> None:
        from .training import frame_digest

        self._model = model
        self._splits: dict[bytes, list[Split]] = {}
        for split in splits:
            self._splits.setdefault(frame_digest(split.example.image), []).append(split)
        self._kept_out: dict[bytes, np.ndarray] = {}

    def get(self, digest: bytes) -> np.ndarray | None:
        """The pixels kept out of the frame of ``digest``; None for a frame nobody reviewed."""
        splits = self._splits.get(digest)
        if splits is None:
            return None
        if digest not in self._kept_out:
            guarded = [reviewed_and_guarded(split, example_diameter(self._model, split.example)) for split in splits]
            self._kept_out[digest] = functools.reduce(np.bitwise_or, guarded)  # a frame given twice: both areas
        return self._kept_out[digest]


def _labellable(frames: Sequence[Example], kept_out: _ReviewedPixels) -> list[Example]:
    """``frames`` with the area a teacher may label (their own ``area``, less any reviewed pixels of the same
    frame); those left with none are dropped."""
    from .training import frame_digest

    ready = []
    for frame in frames:
        allowed = np.ones(frame.image.shape, bool) if frame.area is None else np.asarray(frame.area, bool)
        reviewed = kept_out.get(frame_digest(frame.image))
        if reviewed is not None:
            allowed = allowed & ~reviewed
        if allowed.any():
            ready.append(replace(frame, centres=np.zeros((0, 2)), area=allowed, focus=None))
    return ready


def unreviewed_note(names: Sequence[str], asked: int, unsure: int = 0, edited: int = 0) -> str:
    """How many unreviewed frames a round learned from (``names``: as its card records them,
    ``pseudo_labelled``), of the ``asked`` ones, said after the round's name ("the round also learned
    from..."); "" when none were asked. ``unsure``: frames the teacher was unsure all over (``pseudo_unsure``),
    said as made up for by others where it got all it asked. Fewer than asked says why: those unsure,
    ``edited`` frames left out as edited but not accepted whole (a frame with accepted regions among them:
    rounds.unlabelled_frames), or no other frame unreviewed."""
    if asked <= 0:
        return ""
    short = _shortfall(len(names), asked, unsure, edited)
    if not names:
        if not unsure and not edited:
            return f"found no unreviewed frame left to learn from ({asked} asked): a supervised round"
        return f"learned from no unreviewed frame, of {asked} asked: {short}; a supervised round"
    more = f" and {len(names) - NAMED_FRAMES} more" if len(names) > NAMED_FRAMES else ""
    learned = (f"also learned from {len(names)} unreviewed frame{'s' if len(names) != 1 else ''} "
               f"({', '.join(names[:NAMED_FRAMES])}{more})")
    if short:
        return f"{learned}, of {asked} asked: {short}"
    if unsure:  # got them all: other frames took the place of those (finetune.label_with_spares)
        return (f"{learned}, of {asked} asked, other frames taken in place of {_frames(unsure)} the teacher was "
                "unsure all over")
    return learned


def _shortfall(learned: int, asked: int, unsure: int, edited: int) -> str:
    """Why a round learned from ``learned`` unreviewed frames of ``asked`` ("" when it got them all)."""
    if learned >= asked:
        return ""
    reasons = [f"the teacher was unsure all over {_frames(unsure)}"] if unsure else []
    if learned + unsure < asked:  # the frames given ran out
        # "Not accepted whole": an edited frame is left out even where regions of it were accepted.
        reasons.append(f"{_frames(edited)} edited but not accepted whole {'were' if edited != 1 else 'was'} left out"
                       if edited else "no other frame is unreviewed")
    return "; ".join(reasons)


def _frames(count: int) -> str:
    return f"{count} frame{'s' if count != 1 else ''}"


def unreviewed_record(model: DetectorModel) -> tuple[list[str], int, int]:
    """The unreviewed frames the round that made ``model`` learned from, how many it was asked for and how many
    the teacher was unsure all over, as its card records them (none, 0, 0 for any other model)."""
    record = model.card.training.get("fine_tuned") or {}
    return (record.get("pseudo_labelled", []), int(record.get("unlabelled_asked", 0)),
            int(record.get("pseudo_unsure", 0)))




def label_unreviewed(teacher: DetectorModel, frames: list[Example], config: TrainConfig, device: torch.device,
                     report: Callable[[dict], None], cancel: Callable[[], bool] | None) -> list[Example]:
    """The teacher's pass (phase "teacher"): ``frames`` pseudo-labelled (pseudo_labels.label_frames), less
    those it was unsure all over: their loss is masked everywhere, so nothing is learned from them (and
    training drops them), and a round must not say it learned from them."""
    from .pseudo_labels import label_frames

    labels = label_frames(teacher, frames, device, config.pseudo_high, config.pseudo_low,
                          progress=lambda done, total: report({"phase": "teacher", "done": done, "total": total}),
                          cancel=cancel)
    return [label.example for label in labels if label.example.area.any()]


def pseudo_examples(
    model: DetectorModel, splits: list[Split], unlabelled, config: TrainConfig, device: torch.device,
    report: Callable[[dict], None], cancel: Callable[[], bool] | None,
) -> list[Example]:
    """``model``'s pseudo-labels on up to ``config.unlabelled_frames`` unreviewed frames, none of them
    inside a reviewed area, a held-out tile or its guard band."""
    return label_unreviewed(model, unreviewed_frames(model, splits, unlabelled, config), config, device, report,
                            cancel)


def reviewed_and_guarded(split: Split, diameter: float) -> np.ndarray:
    """A reviewed example's pixels no pseudo-label may touch: its reviewed area, and its held-out
    tiles with their guard bands (which may reach past a reviewed region's edge)."""
    from scipy import ndimage

    shape = split.example.image.shape
    reviewed = np.ones(shape, bool) if split.example.area is None else np.asarray(split.example.area, bool)
    if not split.held_area.any():
        return reviewed
    return reviewed | (ndimage.distance_transform_edt(~split.held_area) <= GUARD_DIAMETERS * diameter)


def _propose_all(model, splits, device, ringed, measure, which, report, cancel) -> list[Candidates]:
    out = []
    for done, split in enumerate(splits):
        if cancel is not None and cancel():
            raise TrainingCancelled("fine-tuning cancelled")
        report({"phase": "scoring", "model": which, "done": done, "total": len(splits)})
        out.append(propose(model, split.example, device, ringed, measure))
    report({"phase": "scoring", "model": which, "done": len(splits), "total": len(splits)})
    return out


def _mistakes(split: Split, found: Candidates, threshold: float) -> np.ndarray:
    """Where the parent was wrong inside the training area: corrected centres it missed or placed
    badly, and its shown points nobody kept."""
    shown = found.centres[found.scores > threshold]
    truth = split.example.centres
    # A centre saved beyond the frame is in no training area: taken as the edge pixel's, crops were drawn at
    # that edge around a miss no crop shows.
    inside_truth = truth[mask_value_at(split.train_area, truth)]
    inside_shown = shown[mask_value_at(split.train_area, shown)]
    pi, ti = match(inside_shown, inside_truth, split.tolerance)
    off = np.linalg.norm(inside_shown[pi] - inside_truth[ti], axis=1) > split.tolerance / 3
    missed = np.setdiff1d(np.arange(len(inside_truth)), ti)
    spurious = np.setdiff1d(np.arange(len(inside_shown)), pi)
    return np.concatenate([inside_truth[missed], inside_truth[ti[off]], inside_shown[spurious]]).reshape(-1, 2)


def example_diameter(model: DetectorModel, example: Example) -> float:
    """The particles' size in the example's own pixels."""
    return model.card.canonical_diameter / example.scale


def learn_criterion(model: DetectorModel, splits: list[Split], candidates: list[Candidates]) -> DetectorModel | None:
    """``model`` with a criterion learned from its measured candidates in the training areas: one
    matched to a corrected centre was kept, one deep inside an area with none near was dropped.
    None when there are too few of either kind to learn a rule from."""
    from scipy import ndimage

    features, kept = [], []
    for split, found in zip(splits, candidates):
        if not split.train_area.any() or found.features is None:
            continue
        deep = ndimage.distance_transform_edt(split.train_area) > split.tolerance
        inside = mask_value_at(deep, found.centres)
        matched = np.zeros(len(found.centres), dtype=bool)
        pi, _ = match(found.centres, split.example.centres, split.tolerance)
        matched[pi] = True
        features.append(found.features[inside])
        kept.append(matched[inside])
    if not features:
        return None
    features, kept = np.concatenate(features), np.concatenate(kept)
    if min(kept.sum(), (~kept).sum()) < MIN_CRITERION_CASES:
        return None
    return DetectorModel(model.network, copy.deepcopy(model.card), criterion=Criterion.fit(features, kept))


# A criterion needs this many kept and this many dropped candidates to learn from.
MIN_CRITERION_CASES = 20
# ... and must beat the network's own scores by this much F1 on the held-out tiles: a few
# hundred held-out particles cannot tell smaller differences from chance.
CRITERION_MARGIN = 0.01


def scoring_tolerance(diameter: float) -> float:
    """Match radius for scoring rounds: a quarter particle diameter, from 1.5 to 3 px.

    Capped, so a round that places large particles better is seen to be better: at a quarter of a
    28 px particle, centres 6 px off still count as found (benchmarks/loop.py scores at 3 px).
    """
    return float(np.clip(diameter / 4.0, MIN_TOLERANCE, MAX_TOLERANCE))


MIN_TOLERANCE, MAX_TOLERANCE = 1.5, 3.0


def _tiles(area: np.ndarray) -> int:
    from scipy import ndimage

    return int(ndimage.label(area)[1])


def train_steps(
    model: DetectorModel,
    examples: list[Example],
    config: TrainConfig,
    device: torch.device,
    report: Callable[[dict], None],
    cancel: Callable[[], bool] | None,
    history: list[dict],
    teach: Callable[[DetectorModel], list[Example]] | None = None,
    batches: Callable[[], tuple[np.ndarray, ...]] | None = None,
    loss_of: Callable[..., torch.Tensor] | None = None,
) -> DetectorModel:
    """A copy of ``model`` trained for ``config``'s steps on ``examples`` (warm-up, cosine decay).

    With ``teach``, after ``config.pseudo_teacher_at`` of the steps (rounded; before the last step at the latest)
    the student so far is handed to it and the pseudo-labelled examples it returns join the batches from then on.
    Other kinds (learning/kinds_rounds.py) bring their own ``batches`` (arrays, the images first) and ``loss_of(output,
    *the other arrays as tensors)`` instead of ``examples`` and the heatmap's weighted error."""
    torch.manual_seed(config.seed)
    network = training_layout(copy.deepcopy(model.network).to(device).train(), device)
    card = copy.deepcopy(model.card)
    encoder = [m for name, m in network.named_children() if name in ENCODER_PARTS]
    if config.trainable == "decoder":
        for module in encoder:
            module.requires_grad_(False)
    elif config.trainable != "all":
        raise ParticleDetectError(f"trainable must be 'all' or 'decoder', got {config.trainable!r}")
    optimiser = adam((p for p in network.parameters() if p.requires_grad), config.learning_rate)
    steps = config.epochs * config.steps_per_epoch
    scheduler = warm_cosine(optimiser, steps)
    dtype = training_dtype(config.precision, device)
    source = BatchSource(config, examples, seed=config.seed) if batches is None else None
    # Never past the last step: a share just under 1 of a few steps (0.96 of 10) rounds to the step count, which
    # no step reaches, and the unreviewed frames offered would never be labelled. The share is in [0, 1): fine_tune,
    # the one caller that teaches, checks it (training.check_train_config).
    teach_at = min(steps - 1, int(round(config.pseudo_teacher_at * steps))) if teach else -1
    make = source.batch if batches is None else batches
    losses: list[float] = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        for step in range(steps):
            if cancel is not None and cancel():
                raise TrainingCancelled("fine-tuning cancelled")
            if step == teach_at:
                network.eval()
                source.set_pseudo(teach(DetectorModel(network, card, criterion=model.criterion if step == 0 else None)))
                network.train()
            if step in (0, teach_at):
                # Batches are drawn ahead only up to the teacher's step: from there on they hold its labels.
                upcoming = made_ahead(pool, make, (teach_at if step < teach_at else steps) - step)
            x, *rest = (torch.from_numpy(a).to(device) for a in next(upcoming))
            if config.trainable == "decoder":
                for module in encoder:
                    module.eval()  # frozen means its batch statistics too
            optimiser.zero_grad(set_to_none=True)
            loss = (weighted_mse if loss_of is None else loss_of)(forward_in(network, x, dtype), *rest)
            losses.append(take_step(loss, optimiser, scheduler, f"fine-tuning diverged at step {step + 1}",
                                    "check the reviewed images"))
            report_training(step, steps, losses, history, report)
    network = standard_layout(network).eval()
    trained = copy.deepcopy(network).cpu() if device.type != "cpu" else network
    return DetectorModel(trained, card)


def warm_cosine(optimiser: torch.optim.Optimizer, steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """A round's learning rate: up over its first WARMUP_SHARE of ``steps``, then down a half cosine to 0."""
    warmup = max(1, int(WARMUP_SHARE * steps))

    def rate(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))

    return torch.optim.lr_scheduler.LambdaLR(optimiser, rate)


def report_training(step: int, steps: int, losses: list[float], history: list[dict],
                    report: Callable[[dict], None]) -> None:
    """Every fifth step and the last: a "training" event with the mean loss since the last one."""
    if step % 5 == 4 or step == steps - 1:
        event = {"phase": "training", "step": step + 1, "steps": steps, "loss": float(np.mean(losses[-5:]))}
        history.append(event)
        report(event)
