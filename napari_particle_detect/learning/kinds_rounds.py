"""A fine-tuning round of a rods or chains project: the heads of the round in use trained on the
reviewed frames and regions, scored honestly on held-out tiles, committed into the project.

The same round as for spheres (learning/rounds.py, learning/finetune.py), with the kind's encoding and metric:

* what is reviewed: rounds.project_examples (whole frames, regions as areas), each paired with
  the frame's saved rods or beads, and brought to the pixels detection gives the network (chains whose
  beads it resamples: :func:`at_detection_scale`), where everything below happens;
* what is held out: finetune.split_for_scoring, with tiles and guard bands sized by the objects
  (a rod's median length, a chain's bond), and the body of every held-out rod kept out of training
  (:func:`round_splits`: a long rod reached past the guard band), so a held-out rod's or bead's maps never
  reach training;
* training: the kind's loss (kinds_training.loss_of) on crops of the training areas, with the
  heatmaps, the size and orientation maps all masked to zero outside them (nothing is known
  there), mixed with a share of the kind's generator (kinds_training.batch);
* two candidates: the trained model, and the same with the batch-norm statistics of the reviewed
  frames and a few unreviewed ones (batch_norm_adaptation); the higher on the held-out tiles is the
  new round (the trained one on a tie);
* the verdict: the parent and the new round are scored on the held-out tiles with the kind's
  metric (rods: F1 of rods.match_rods; chains: the mean of bead F1 and bond F1), each at its best
  threshold, and the round is used only when it strictly beats its parent there
  (finetune.RoundResult.improved). Held-out tiles with nothing in them score nothing.

Progress events are those of finetune.fine_tune (round_progress.describe reads them); cancel is
seen within one step. Nothing here imports Qt.
"""

from __future__ import annotations

import copy
import itertools
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch

from ..kinds import chains
from ..kinds import rods
from ..detection.devices import select_device
from ..errors import ParticleDetectError
from ..kinds.evaluation import Counts, best_threshold_index, mask_value_at
from .batch_norm_adaptation import with_frame_statistics
from .finetune import (GUARD_DIAMETERS, RoundResult, Scored, Split, _tiles, distinct_frames, split_for_scoring,
                       train_steps, twins_record)
from ..kinds.registry import Kind, get_kind
from ..detection.kinds_prediction import predict_maps
from ..detection.sizing import rescale_centres
from ..projects.kinds_project import kind_model_path, load_kind_frame, project_kind, typical_size
from .kinds_training import (THRESHOLDS, KindTrainConfig, annotated_at_scale, batch, check_training_frame,
                             detection_input, frame_detection_scale, frame_files, loss_of, resampled_as_detection)
from ..models import DetectorModel, load_model, save_model
from ..detection.preprocessing import as_frames
from ..detection.runtimes import inherit_bfloat16_gate
from ..projects.project import Project, RoundInfo
from .pseudo_labels import choose_frames
from .rounds import (RoundOutcome, TrainedOn, frame_name, project_examples, round_image, round_info,
                     run_and_commit_cancellably)
from .training import (Example, TrainConfig, TrainingCancelled, _augment, lineage_with, resampled_area,
                       session_fields)
from ..detection.threads import keeps_torch_threads, round_threads

log = logging.getLogger("napari_particle_detect")

# A round, chosen by measurement (benchmarks/anisotropic_round.py: two corrected frames of rods in
# optics the shipped model never saw, F1 on unseen frames; one run each, under load). With the first
# rods model: 150 steps at 5e-4 with a quarter of each batch from the generator (none: half the gain;
# 300 steps at 1e-3 or 200 at 2.5e-4: a third or less of it), training the decoder and heads only
# (nearly the gain of all layers in far less time). That stays the chains' round. With the rods model
# shipped on 2026-12-03 afternoon it cost F1 on unseen frames on all three tuning sets (seeds 490000,
# 500000, 510000: -0.006 / -0.014 / -0.032, the last one switched in by its verdict), while all layers
# at 1e-4 changed them by -0.005 / +0.012 / +0.003 (at 2e-4: +0.006 / +0.003 / -0.007), and on the
# benchmark's seeds +0.010 against -0.027 (results/anisotropic_round.txt): rods rounds train all layers at 1e-4.
# Forward passes in bfloat16 where the CPU computes in it natively, as for spheres: the same rods round F1 (0.864 on the
# benchmark's unseen frames either way), 38 s against 52 s side by side (benchmarks/results/anisotropic_round.txt).
# With the batch-norm statistics candidate (2026-12-04 late night), judged on nine seed sets (the benchmark's 480000-530000,
# the tuning 490000-510000, fresh 540000-560000): 100 steps of 96 px crops at 1.5e-4 keep 73 / 9 / 26 % of the gap to the
# ceiling in 8-9 s, 150 steps of 128 px at 1e-4 67 / 38 / 2 % in 13-16 s (a spheres round 7-8 s beside each): the same
# third of the gap on average, in about half the time, so rods rounds take the former.
KIND_ROUND = KindTrainConfig(steps_per_epoch=150, epochs=1, batch_size=4, learning_rate=5e-4,
                             synthetic_fraction=0.25, validation_images=0, threads=None, precision="auto")
ROUND_CHANGES: dict[str, dict] = {"rods": {"learning_rate": 1.5e-4, "steps_per_epoch": 100, "crop": 96}}
ROUND_TRAINABLE = {"rods": "all", "chains": "decoder"}
# What a round of each kind is scored by on its held-out tiles (the card, the dock and `rounds` name it).
ROUND_METRIC = {"rods": "F1", "chains": "mean of bead F1 and bond F1"}


def round_config(kind: str, **changes) -> KindTrainConfig:
    """The round's settings for ``kind`` ("rods" or "chains"), with ``changes`` (e.g. a user's steps) on top."""
    return replace(KIND_ROUND, kind=kind, **{**ROUND_CHANGES.get(kind, {}), **changes})


def round_trainable(kind: str) -> str:
    """Which layers a round of ``kind`` trains: "all", or the "decoder" and heads only."""
    return ROUND_TRAINABLE.get(kind, "decoder")


DEFAULT_WIDTH = 6.0  # px, for hand-drawn rods on a frame with no measured width
# A round's two candidates (fine_tune_kind): the trained model, and the same with the batch-norm
# statistics of the reviewed frames and up to STATISTICS_FRAMES unreviewed ones, spread over the stack.
# On the rods round's benchmark seed sets the second was picked on two of three and took what the user
# keeps from 27 % to 67 % of the gap to the in-domain ceiling (results/anisotropic_round.txt).
TRAINED = "trained"
ADAPTED = "trained, then batch-norm statistics of the frames"
STATISTICS_FRAMES = 8


@dataclass
class Reviewed:
    """One reviewed frame or region: its Example (image, centres, area, name) and the kind's table."""

    example: Example
    table: pd.DataFrame


def reviewed_examples(project: Project, stack) -> list[Reviewed]:
    """Every reviewed frame and frame with reviewed regions, with its saved rods or beads."""
    out = []
    for example in project_examples(project, stack, None):  # None: the scale detection gives (detection_scale)
        frame = int(example.name.split()[-1])
        table = load_kind_frame(project, frame)
        if table is None:
            continue
        if "width" in table:  # a rod drawn by hand has no width: its frame's typical one
            known = table["width"].to_numpy(float)
            known = known[np.isfinite(known)]
            table["width"] = table["width"].fillna(float(np.median(known)) if len(known) else DEFAULT_WIDTH)
        out.append(Reviewed(example, table))
    return out


def detection_scale(kind: str, example: Example, diameter: float | None = None) -> float:
    """The factor detection resamples ``example``'s frame by, its beads ``diameter`` px where given
    (kinds_training.frame_detection_scale). A scale the example gives stays as it is. A refusal names the
    example's file as the user gave it where it has one: 'frame 0' of a round on files was a number nobody gave."""
    if example.scale is not None:
        return float(example.scale)
    return frame_detection_scale(kind, example.image, example.given_as or example.name or "example", diameter)


def at_detection_scale(kind: Kind, reviewed: Reviewed, scale: float) -> Reviewed:
    """``reviewed`` in the pixels detection gives the network at ``scale``: its frame resampled as detection
    resamples it, the table's points and lengths and the reviewed area with it. Trained and scored at the
    image's own scale, a round learnt beads the network never sees in use, and its verdict did not say
    what detection would do. At scale 1, ``reviewed`` itself."""
    if scale == 1.0:
        return reviewed
    example = reviewed.example
    image, table, factors = annotated_at_scale(kind, example.image, reviewed.table, scale)
    area = None if example.area is None else resampled_area(example.area, image.shape, factors)
    return Reviewed(replace(example, image=image, centres=rescale_centres(example.centres, factors), area=area,
                            scale=1.0), table)


# ---- scoring on held-out tiles ------------------------------------------------------------------
def held_out_maps(model: DetectorModel, splits: list[Split], device: torch.device, which: str,
                  report: Callable[[dict], None], cancel: Callable[[], bool] | None) -> list[np.ndarray | None]:
    """The model's maps of each example that has held-out tiles (None for the others)."""
    network = copy.deepcopy(model.network).to(device).eval()
    out = []
    for done, split in enumerate(splits):
        if cancel is not None and cancel():
            raise TrainingCancelled("fine-tuning cancelled")
        report({"phase": "scoring", "model": which, "done": done, "total": len(splits)})
        out.append(predict_maps(network, detection_input(split.example.image), device)
                   if split.held_area.any() else None)
    report({"phase": "scoring", "model": which, "done": len(splits), "total": len(splits)})
    return out


def round_splits(kind: Kind, reviewed: list[Reviewed], size: float) -> list[Split]:
    """Where each reviewed frame or region trains and where it is held out: tiles and their guard band sized by
    the objects (``size``: kinds_project.typical_size), and, of rods, the body of every rod held out kept out of
    training too. A rod is held out by its centre; the guard band, half the median length wide, left the rest of a
    longer one in training (a rod six times the median reached 126 px into it), so its maps were learnt and then
    scored as unseen, and the verdict flattered the round."""
    splits = [split_for_scoring(r.example, size) for r in reviewed]
    if kind.name != "rods":
        return splits
    return [replace(s, train_area=s.train_area & ~held_rod_bodies(r.table, s.held_area, GUARD_DIAMETERS * size))
            if s.held_area.any() else s for s, r in zip(splits, reviewed)]


def held_rod_bodies(table: pd.DataFrame, held_area: np.ndarray, margin: float) -> np.ndarray:
    """The pixels within ``margin`` of the body of each rod of ``table`` centred in ``held_area``: where its maps
    (centre, orientation, sizes, tips) are drawn, and a band as wide as the tiles' guard beyond."""
    reach = np.zeros(held_area.shape, dtype=bool)
    height, width_px = held_area.shape
    held = _inside(table, held_area)
    widths = np.nan_to_num(held["width"].to_numpy(float), nan=DEFAULT_WIDTH) if "width" in held else \
        np.full(len(held), DEFAULT_WIDTH)
    for (y1, x1, y2, x2), width in zip(held[["y1", "x1", "y2", "x2"]].to_numpy(float), widths):
        radius = max(0.5 * width, rods.REGRESSION_RADIUS) + margin
        rows = slice(max(int(np.floor(min(y1, y2) - radius)), 0), min(int(np.ceil(max(y1, y2) + radius)) + 1, height))
        cols = slice(max(int(np.floor(min(x1, x2) - radius)), 0), min(int(np.ceil(max(x1, x2) + radius)) + 1, width_px))
        yy, xx = np.mgrid[rows, cols]
        if not yy.size:
            continue
        axis = np.array([y2 - y1, x2 - x1])
        along = np.clip(((yy - y1) * axis[0] + (xx - x1) * axis[1]) / max(float(axis @ axis), 1e-12), 0.0, 1.0)
        reach[rows, cols] |= np.hypot(yy - (y1 + along * axis[0]), xx - (x1 + along * axis[1])) <= radius
    return reach


def _inside(table: pd.DataFrame, area: np.ndarray) -> pd.DataFrame:
    # A centre saved beyond the frame is outside every area: taken as the edge pixel's, a held-out tile on that
    # edge counted it as a miss no detection could find.
    return table[mask_value_at(area, table[["y", "x"]].to_numpy(float))].reset_index(drop=True)


def kind_score(kind: Kind, splits: list[Split], tables: list[pd.DataFrame], maps: list[np.ndarray | None],
               min_distance: int = 2) -> Scored | None:
    """The kind's score on the held-out tiles at the best of THRESHOLDS: rods, F1; chains, the mean of
    bead F1 and bond F1. None when the tiles hold no reviewed rod or bead: there, finding nothing
    would score 1 and finding anything 0, which tells nothing."""
    truths = [_inside(t, s.held_area) if m is not None else None for s, t, m in zip(splits, tables, maps)]
    if sum(len(t) for t in truths if t is not None) == 0:
        return None
    values, counts = [], []
    for threshold in THRESHOLDS:
        errors = rods.empty_errors()
        total: dict = {}
        for split, truth, m in zip(splits, truths, maps):
            if m is None:
                continue
            found = _inside(kind.decode(m, threshold, min_distance), split.held_area)
            if kind.name == "rods":
                rods.add_errors(errors, found, truth)
            else:
                total = chains.add_counts(total, chains.chain_counts(found, truth))
        if kind.name == "rods":
            values.append(rods.scores_from(errors).f1)
            counts.append(Counts(errors["tp"], errors["fp"], errors["fn"]))
        else:
            s = chains.scores_from(total)
            values.append(0.5 * (s.bead_f1 + s.bond_f1))
            counts.append(Counts(total["bead_tp"], total["bead_fp"], total["bead_fn"]))
    best = best_threshold_index(values)
    return Scored(float(values[best]), float(THRESHOLDS[best]), counts[best], float(np.mean(values)))


# ---- training -----------------------------------------------------------------------------------
def reviewed_crop(image: np.ndarray, table: pd.DataFrame, area: np.ndarray, crop: int,
                  rng: np.random.Generator) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
    """A ``crop`` square around a random pixel of the training ``area`` (reflect-padded at the
    image's edges, which the area marks unknown), the table shifted into it, and the area cut alike."""
    pad = crop // 2
    image = np.pad(image, pad, mode="reflect")
    area = np.pad(area, pad)
    ys, xs = np.nonzero(area)
    k = int(rng.integers(len(ys)))
    y0 = int(np.clip(ys[k] - pad + rng.integers(-pad // 2, pad // 2 + 1), 0, image.shape[0] - crop))
    x0 = int(np.clip(xs[k] - pad + rng.integers(-pad // 2, pad // 2 + 1), 0, image.shape[1] - crop))
    shifted = table.copy()
    for y, x in (("y", "x"), ("y1", "x1"), ("y2", "x2")):
        if y in shifted:
            shifted[y] = shifted[y] - y0 + pad
            shifted[x] = shifted[x] - x0 + pad
    return image[y0 : y0 + crop, x0 : x0 + crop], shifted, area[y0 : y0 + crop, x0 : x0 + crop]


def reviewed_batch(kind: Kind, reviewed: list[tuple[np.ndarray, pd.DataFrame, np.ndarray]], size: int, crop: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """(images, targets, regression masks, areas) of ``size`` augmented crops of the reviewed frames."""
    images, targets, masks, areas = [], [], [], []
    for _ in range(size):
        image, table, area = reviewed_crop(*reviewed[int(rng.integers(len(reviewed)))], crop, rng)
        image, points, area = _augment(image, kind.points(table), rng, weight=area.astype(np.float32))
        table = kind.rebuild(table, points)
        maps, mask = kind.encode(table, image.shape)
        images.append(image)
        targets.append(maps)
        masks.append(mask)
        areas.append(area)
    return np.stack(images)[:, None], np.stack(targets), np.stack(masks)[:, None], np.stack(areas)[:, None]


def training_examples(splits: list[Split],
                      tables: list[pd.DataFrame]) -> list[tuple[np.ndarray, pd.DataFrame, np.ndarray]]:
    """(network input, table, training area) of each reviewed frame or region with somewhere to train: the
    whole frame prepared as detection prepares it (cropped after, so a crop's input is the frame's there)."""
    return [(detection_input(s.example.image), t, s.train_area) for s, t in zip(splits, tables) if s.train_area.any()]


def train_heads(model: DetectorModel, kind: Kind, reviewed: list[tuple[np.ndarray, pd.DataFrame, np.ndarray]],
                config: KindTrainConfig, device: torch.device, report: Callable[[dict], None],
                cancel: Callable[[], bool] | None, history: list[dict], trainable: str) -> DetectorModel:
    """A copy of ``model`` trained for ``config``'s steps on crops of the reviewed areas (loss masked
    outside them) and, ``config.synthetic_fraction`` of each batch, the kind's generator: the
    spheres' round loop (finetune.train_steps: warm-up, cosine decay, cancel, progress) with the
    kind's batches and loss. ``trainable`` "decoder" keeps the encoder as it was."""
    rng = np.random.default_rng(config.seed)
    crop = config.crop or kind.crop
    synthetic = int(round(config.synthetic_fraction * config.batch_size))
    drawn = itertools.count()

    def draw() -> tuple[np.ndarray, ...]:
        parts = reviewed_batch(kind, reviewed, config.batch_size - synthetic, crop, rng)
        if synthetic:
            more = batch(kind, rng, synthetic, crop, config.seed * 7919 + next(drawn) * synthetic)
            more += (np.ones((synthetic, 1, crop, crop), np.float32),)  # the generator's crops are known everywhere
            parts = tuple(np.concatenate([a, b.astype(np.float32)]) for a, b in zip(parts, more))
        return tuple(np.ascontiguousarray(v, dtype=np.float32) for v in parts)

    def masked_loss(output: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, area: torch.Tensor) -> torch.Tensor:
        # Outside the reviewed areas output and target are both zero: neither rewarded nor punished.
        return loss_of(kind, output * area, target * area, mask * area, config.regression_weight)

    loop = TrainConfig(epochs=config.epochs, steps_per_epoch=config.steps_per_epoch, batch_size=config.batch_size,
                       learning_rate=config.learning_rate, seed=config.seed, trainable=trainable, precision=config.precision)
    # The next batch is drawn (crops, generator, maps) while the network trains on this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = [pool.submit(draw)]

        def batches() -> tuple[np.ndarray, ...]:
            ready = pending[0].result()
            pending[0] = pool.submit(draw)
            return ready

        return train_steps(model, [], loop, device, report, cancel, history, batches=batches, loss_of=masked_loss)


@keeps_torch_threads
def fine_tune_kind(model: DetectorModel, reviewed: list[Reviewed], config: KindTrainConfig | None = None,
                   device: str | torch.device = "auto", progress: Callable[[dict], None] | None = None,
                   cancel: Callable[[], bool] | None = None, trainable: str | None = None,
                   unlabelled: Iterable[np.ndarray] | None = None) -> RoundResult:
    """Fine-tune a rods or chains ``model`` on reviewed frames/regions; score it and its parent on the
    held-out tiles. The input model is left as it was; raises TrainingCancelled within a step of
    ``cancel()``. ``config`` and ``trainable`` ("all" layers or the "decoder" and heads only) default
    to the model's kind's round (:func:`round_config`, :func:`round_trainable`).

    A second candidate is the trained model with its batch-norm statistics taken from the reviewed
    frames and the ``unlabelled`` ones (images as the reviewed examples hold them; batch_norm_adaptation):
    the round's model is whichever of the two scores higher on the held-out tiles (the trained one on a
    tie), and the verdict against the parent is the same for either.

    Each reviewed frame is trained on and scored at the scale detection reads it at (:func:`detection_scale`; of
    chains, with beads ``config.diameter`` px where given), recorded in the card's ``scales``; the ``unlabelled``
    frames, of the same images, at the first one's."""
    started = time.monotonic()
    report = progress or (lambda event: None)
    if not reviewed:
        raise ParticleDetectError("accept at least one corrected frame or region before fine-tuning")
    # A round on files names its frames by number ('frame 1'): their files say which copy is left out.
    reviewed = [r for r in reviewed if _trainable(r.example)]
    if not reviewed:
        raise ParticleDetectError("every reviewed frame is blank (one value in every pixel): nothing to learn from; "
                                  "accept a frame or region that shows what the model should find")
    examples = [r.example for r in reviewed]
    kept, twins = distinct_frames(examples, [e.given_as or e.name for e in examples])
    reviewed = [reviewed[i] for i in kept]
    kind = get_kind(model.card.kind)
    config = round_config(kind.name) if config is None else config
    trainable = round_trainable(kind.name) if trainable is None else trainable
    report({"phase": "preparing"})
    device = select_device(device)
    torch.set_num_threads(round_threads(config.threads))
    session = session_fields(device)
    scales = [detection_scale(kind.name, r.example, config.diameter) for r in reviewed]
    reviewed = [at_detection_scale(kind, r, scale) for r, scale in zip(reviewed, scales)]
    size = typical_size(kind.name, pd.concat([r.table for r in reviewed], ignore_index=True))
    splits = round_splits(kind, reviewed, size)
    if not any(s.train_area.any() for s in splits):
        raise ParticleDetectError("the reviewed areas are too small to train on; review a larger region or a frame")
    tables = [r.table for r in reviewed]
    parent_score = kind_score(kind, splits, tables, held_out_maps(model, splits, device, "parent", report, cancel),
                              model.card.min_distance)
    training = training_examples(splits, tables)
    history: list[dict] = []
    child = train_heads(model, kind, training, replace(config, kind=kind.name), device, report, cancel, history,
                        trainable)
    score = kind_score(kind, splits, tables, held_out_maps(child, splits, device, "new model", report, cancel),
                       child.card.min_distance)
    candidate = TRAINED
    counted = []  # the frames the statistics read, counted as they go by (``unlabelled`` may be read lazily)
    frames = (counted.append(image) or image for image in
              itertools.chain((r.example.image for r in reviewed),
                              (resampled_as_detection(image, scales[0])[0] for image in unlabelled or ())))
    adapted = statistics_candidate(child, frames, device, cancel)
    if adapted is not None:
        adapted_score = kind_score(kind, splits, tables,
                                   held_out_maps(adapted, splits, device, "adapted model", report, cancel),
                                   adapted.card.min_distance)
        if adapted_score is not None and (score is None or adapted_score.f1 > score.f1):
            child, score, candidate = adapted, adapted_score, ADAPTED
    if score is not None:
        child.card.threshold = score.threshold
    held_tiles = sum(_tiles(s.held_area) for s in splits)
    # The round's own record; the parent's (its training, score, command) goes into the lineage.
    child.card.training = {
        "lineage": lineage_with(model.card.training),
        "fine_tuned": {"examples": len(training), "held_out_tiles": held_tiles, "config": config.to_dict(),
                       "trainable": trainable, "candidate": candidate,
                       "statistics_frames": len(counted),
                       # The factor each reviewed frame was resampled by, as detection resamples it (1: as it came).
                       "scales": {r.example.name: scale for r, scale in zip(reviewed, scales)},
                       **frame_files([r.example.name for r in reviewed], [r.example for r in reviewed]),
                       "metric": ROUND_METRIC[kind.name],
                       "score": score.f1 if score else None, "parent_score": parent_score.f1 if parent_score else None,
                       **twins_record(twins), **session},  # where it trained (device, CPU threads, version)
    }
    inherit_bfloat16_gate(model, child)
    result = RoundResult(model=child, trained_examples=len(training), held_out_tiles=held_tiles, score=score,
                         parent_score=parent_score, history=history, seconds=time.monotonic() - started)
    report({"phase": "done", "seconds": result.seconds})
    return result


def statistics_candidate(model: DetectorModel, images: Iterable[np.ndarray], device: torch.device,
                         cancel: Callable[[], bool] | None = None) -> DetectorModel | None:
    """``model`` with the batch-norm statistics of ``images`` (each normalised as detection reads it), or None
    where it has no batch norm."""
    network = with_frame_statistics(model.network, (detection_input(image) for image in images), device, cancel)
    if network is None:
        return None
    card = copy.deepcopy(model.card)
    card.training = {k: v for k, v in card.training.items() if k != "history"}
    return DetectorModel(network.cpu(), card)


# ---- a project's round --------------------------------------------------------------------------
def unreviewed_images(project: Project, stack, count: int) -> Iterator[np.ndarray]:
    """Up to ``count`` frames nobody reviewed whole, spread over the stack, read one at a time
    (rounds.round_image, as the reviewed examples hold theirs); a blank one passed over for a spare
    (:func:`usable_images`)."""
    frames = as_frames(stack)
    reviewed = set(project.reviewed_frames)
    picks = choose_frames(len(frames), count, reviewed)
    spares = choose_frames(len(frames), len(picks), reviewed | set(picks))
    yield from usable_images(((frame_name(f), lambda f=f: round_image(project, frames, f)) for f in picks + spares),
                             len(picks))


def _trainable(example) -> bool:
    """Whether a reviewed frame can be trained on. One with NaN pixels is refused (they made the first step's loss NaN,
    said as "diverged", no frame named); a blank one (constant: a dropped or shutter frame, accepted with nothing on
    it) is passed over with a warning naming it: it made every round fail until it was un-accepted, unsaid."""
    from ..detection.preprocessing import ConstantFrameError

    name = example.given_as or example.name or "example"
    try:
        check_training_frame(np.asarray(example.image), name)
    except ConstantFrameError as exc:
        log.warning("%s: %s (a blank frame): nothing to learn from it, passed over", name, exc.held)
        return False
    return True


def usable_images(frames: Iterable[tuple[str, Callable[[], np.ndarray]]], count: int) -> Iterator[np.ndarray]:
    """Up to ``count`` images of ``frames`` ((name, read) pairs, in the order to try them: the frames chosen, then
    spares), each read only when reached and checked as detection checks a frame. A blank one (constant, or NaN or
    infinite all over: a movie's dropped frame) is passed over with a warning naming it, as the sphere round's
    teacher passes it over, and the next taken; a few NaN pixels (a mosaic's gaps) are filled as detection fills
    them. Any NaN left in made the whole frame NaN once normalised, and the statistics candidate with it."""
    from ..detection.preprocessing import BlankFrameError, check_frame

    given = 0
    for name, read in frames:
        if given == count:
            return
        try:
            image = check_frame(np.asarray(read()), name, gaps=True)
        except BlankFrameError as exc:
            log.warning("%s: %s (a blank frame): nothing to learn from it", name, exc.held)
            continue
        given += 1
        yield image


def run_kind_round(project: Project, stack, config: KindTrainConfig | None = None, device: str = "auto",
                   progress: Callable[[dict], None] | None = None,
                   cancel: Callable[[], bool] | None = None) -> RoundOutcome:
    """Fine-tune the project's round in use (round 1: the shipped weights) on everything reviewed, into
    a workspace; on error or cancel the project is as it was. ``config``: default the kind's round."""
    kind = project_kind(project)
    config = round_config(kind) if config is None else config
    kind_model_path(project)  # round 1 exists
    parent = project.current_round
    if not project.reviewed_areas():
        raise ParticleDetectError("accept at least one corrected frame or region before fine-tuning")
    base = load_model(project.round_path(parent.number), "cpu")
    trained_on = TrainedOn.now(project)
    reviewed = reviewed_examples(project, stack)
    # Each round its own draw of crops: asking again after a round that was not better tries anew.
    config = replace(config, seed=config.seed + len(project.rounds))
    # Frames nobody reviewed lend their images (not labels) to the batch-norm statistics candidate.
    unlabelled = unreviewed_images(project, stack, STATISTICS_FRAMES)
    result = fine_tune_kind(base, reviewed, config, device, progress=progress, cancel=cancel, unlabelled=unlabelled)
    # Only a finished round takes a workspace; a failed save leaves none behind.
    workspace = project.new_workspace()
    try:
        save_model(result.model, workspace / "model")
    except BaseException:
        project.discard_workspace(workspace)
        raise
    info = round_info(parent, result, trained_on)
    if result.model.card.training["fine_tuned"]["candidate"] == ADAPTED:
        info = replace(info, origin="fine-tuned, then batch-norm statistics of the stack's frames")
    return RoundOutcome(workspace, info, result)


def train_kind_round(project: Project, stack, config: KindTrainConfig | None = None, device: str = "auto",
                     progress: Callable[[dict], None] | None = None,
                     cancel: Callable[[], bool] | None = None) -> RoundInfo:
    """Run and commit a round (in use only when it beat its parent on the held-out tiles); the
    dock's worker job. Cancelled, even after training, it leaves the project as it was. While another
    window or program holds the project, it says it waits, and Cancel ends the wait at once (not after
    the lock's timeout)."""
    stop = cancel or (lambda: False)
    report = progress or (lambda event: None)
    return run_and_commit_cancellably(project, lambda: run_kind_round(project, stack, config, device, progress, stop),
                                      stop, report)
