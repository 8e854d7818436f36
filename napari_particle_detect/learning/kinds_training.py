"""Training the heads of a kind (rods, chains) on its synthetic generator.

The network (models/heads.py) starts from the shipped sphere UNet's body, so it begins knowing
particles; the loss is the heatmaps' squared error everywhere plus the orientation and size maps'
error near centres only (the kind's encode gives that mask). The best epoch by a validation score
on unseen seeds is kept and saved with a card naming the kind and its heads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .. import __version__
from ..kinds.evaluation import best_threshold_index
from ..kinds.registry import Kind, get_kind
from ..models import DetectorModel, build_network, default_model_path, load_model, save_model
from ..models.heads import HEATMAP_HEADS
from ..models.registry import ModelCard, require_kind, save_tensors
from ..detection.choices import check_diameter_fits
from ..detection.kinds_prediction import (bead_sizing, check_bead_diameter, network_frame, predict_maps,
                                          resampled_for_network)
from ..detection.preprocessing import FrameRecord
from ..detection.sizing import rescale_centres
from ..detection.devices import select_device
from ..errors import ParticleDetectError
from ..detection.stages import laid_out_for
from .training import (VALIDATION_SEED_BASE, EpochCut, _augment, _check_same_start, _saved_best, _start_record, adam,
                       check_epochs_to_resume, check_same_data, check_same_settings, ctrl_c_between_steps,
                       cut_epoch_mark, data_record, epoch_cut_fields, frames_digest, lineage_with,
                       log_already_finished, log_time_limit_stop, made_ahead,
                       read_epoch_cut, read_training_state, refuse_validating_on_training_frames, tell_step,
                       restore_finished_best, resume_state_path, run_card_fields, run_progress,
                       run_settings, said_names, say_other_scorers, session_fields, session_pause, paused_mark,
                       steps_from, stop_between_steps, trains_channels_last, training_layout, was_cut)
from ..shipped import refuse_shipped_output
from ..detection.threads import keeps_torch_threads

log = logging.getLogger(__name__)

THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55)


@dataclass
class KindTrainConfig:
    kind: str = "rods"
    steps_per_epoch: int = 100
    epochs: int = 100
    batch_size: int = 8
    crop: int | None = None  # default: the kind's
    learning_rate: float = 1e-3
    regression_weight: float = 0.1
    validation_images: int = 8
    validation_size: int = 192
    seed: int = 0
    time_limit_s: float | None = None
    threads: int | None = 1
    # Share of each batch drawn from the generator when annotated examples are given (a round).
    synthetic_fraction: float = 0.5
    # Learning rate at the end, as a share of learning_rate (cosine decay over the run's steps; a time limit
    # only stops the run); 1.0 keeps it constant. A decayed rate settles the regression heads,
    # which a constant 1e-3 leaves noisy (measured: see weights/rods.json).
    final_lr_fraction: float = 1.0
    # Extra weight of heatmap pixels by their target value (1 + positive_weight * target). 9 helps sparse
    # rod maps start learning; a chains bond map so weighted rises at contacts between chains too, and
    # the shipped chains model was trained (and is fine-tuned) with 0.
    positive_weight: float = 9.0
    # Number format of the forward pass in rounds (devices.training_dtype; TrainConfig.precision).
    precision: str = "float32"
    # Looks the generator's examples are drawn in, each equally often (repeat one to weight it, e.g.
    # bright-field chains, the look furthest from its target); empty: the generator's own spread.
    looks: tuple[str, ...] = ()
    # Chains: the beads' diameter (px) in the annotated frames, as detect takes --diameter (None: estimated per
    # frame). It sets the scale they are trained and scored at (:func:`frame_detection_scale`); rods take none.
    diameter: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _annotated_crop(example: tuple[np.ndarray, pd.DataFrame], crop: int,
                    rng: np.random.Generator) -> tuple[np.ndarray, pd.DataFrame]:
    """A random ``crop`` square of an annotated frame and its whole table shifted into it (objects
    reaching outside stay in the table, so a chain cut by the crop keeps its bonds right)."""
    image, table = example
    h, w = image.shape
    if h < crop or w < crop:
        image = np.pad(image, ((0, max(crop - h, 0)), (0, max(crop - w, 0))), mode="reflect")
        h, w = image.shape
    y0, x0 = int(rng.integers(0, h - crop + 1)), int(rng.integers(0, w - crop + 1))
    shifted = table.copy()
    for y, x in (("y", "x"), ("y1", "x1"), ("y2", "x2")):
        if y in shifted:
            shifted[y] = shifted[y] - y0
            shifted[x] = shifted[x] - x0
    return image[y0 : y0 + crop, x0 : x0 + crop], shifted


def detection_input(image: np.ndarray) -> np.ndarray:
    """A whole 2D ``image`` (at the pixel scale the kind's network reads it) as detection feeds it to the network
    (kinds_prediction.network_frame): normalised, an uneven background subtracted first where there is one.
    Learnt from or scored on anything else, a model is judged on inputs it never gets in use (an unevenly lit
    stack). Evenly lit images come out as plain preprocessing.normalise gives them, bit for bit."""
    return network_frame(image, 1.0, False, FrameRecord())[0]


def resampled_as_detection(image: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """A whole 2D ``image`` resampled by ``scale`` as detection resamples a frame before normalising it
    (kinds_prediction.network_frame), and the per-axis factors applied: :func:`detection_input` of it is the
    network input detection makes at that scale, bit for bit. At scale 1 the image itself."""
    return (image, np.ones(2)) if scale == 1.0 else resampled_for_network(image, scale)


def frame_detection_scale(kind: str, image: np.ndarray, name: str = "example", diameter: float | None = None) -> float:
    """The factor detection resamples a 2D ``image`` of ``kind`` by (kinds_prediction.detect_kind): chains whose
    beads read outside the sizes the model detects as they come, or are given (``diameter``, detect's --diameter)
    as such, are brought to its working size (kinds_prediction.bead_sizing); rods never. A ``diameter`` is refused
    where detection refuses it: with rods, or larger than the image."""
    if diameter is not None:
        check_bead_diameter(diameter, kind)
        check_diameter_fits(diameter, image.shape, name)
    return bead_sizing(image, name, diameter)[0] if kind == "chains" else 1.0


def annotated_at_scale(kind: Kind, image: np.ndarray, table: pd.DataFrame,
                       scale: float) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
    """An annotated frame in the pixels detection gives the network at ``scale`` (:func:`resampled_as_detection`),
    its table's points and lengths resampled with it, and the per-axis factors. At scale 1, as they are."""
    image, factors = resampled_as_detection(image, scale)
    if scale == 1.0:
        return image, table, factors
    table = table.copy()
    for length in ("length", "width"):
        if length in table:
            table[length] = table[length] * float(np.mean(factors))
    return image, kind.rebuild(table, rescale_centres(kind.points(table), factors)), factors


def annotated_at_detection_scale(kind: Kind, examples: list[tuple[np.ndarray, pd.DataFrame]], what: str,
                                 diameter: float | None = None
                                 ) -> tuple[list[tuple[np.ndarray, pd.DataFrame]], dict[str, float]]:
    """Annotated (image, table) frames each at the scale detection reads it at (:func:`frame_detection_scale`),
    and that scale by ``what`` and its number (the card's ``scales``). Trained or scored at the image's own scale,
    chains of beads detection resamples taught bead sizes the network never gets in use, and a validation score
    said nothing of what detection does. A size estimate's warning or a diameter's refusal names the file and frame
    where one was read (:func:`frame_name`): 'annotated example 3' was a number nobody gave."""
    scales = {f"{what} {i}": frame_detection_scale(kind.name, frame[0], frame_name(frame, what, i), diameter)
              for i, frame in enumerate(examples)}
    resampled = [annotated_at_scale(kind, image, table, scale)[:2]
                 for (image, table), scale in zip(examples, scales.values())]
    return resampled, scales


def prepared_examples(examples: list[tuple[np.ndarray, pd.DataFrame]]) -> list[tuple[np.ndarray, pd.DataFrame]]:
    """Annotated (image, table) frames with each image as :func:`detection_input` gives it, for :func:`batch` to
    crop. Prepared whole, as detection prepares a frame: a crop (96 or 128 px) spans too few of the 64 px blocks
    an uneven background is judged in, so prepared after cropping it was not flattened, and it was scaled by
    its own percentiles rather than its frame's. Once per example, not per batch: the flattening is the costly
    part."""
    return [(detection_input(image), table) for image, table in examples]


def batch(kind: Kind, rng: np.random.Generator, size: int, crop: int, seed: int,
          examples: list | None = None, synthetic_fraction: float = 1.0,
          looks: tuple[str, ...] = ()) -> tuple[np.ndarray, ...]:
    """(images, targets, regression masks) of ``size`` augmented crops: of ``examples`` (from
    :func:`prepared_examples`), each by a chance of 1 - ``synthetic_fraction``, else of the kind's generator."""
    images, targets, masks = [], [], []
    for k in range(size):
        if examples and rng.random() >= synthetic_fraction:
            image, table = _annotated_crop(examples[int(rng.integers(len(examples)))], crop, rng)
        else:
            image, table = kind.example(rng, crop, seed + k, looks)
            image = detection_input(image)  # the generator's image is its whole frame
        image, points = _augment(image, kind.points(table), rng)
        table = kind.rebuild(table, points)
        maps, mask = kind.encode(table, image.shape)
        images.append(image)
        targets.append(maps)
        masks.append(mask)
    return np.stack(images)[:, None], np.stack(targets), np.stack(masks)[:, None]


def loss_of(kind: Kind, output: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, weight: float,
            positive_weight: float = 9.0) -> torch.Tensor:
    heat = torch.tensor([h in HEATMAP_HEADS for h in kind.heads])
    # Object pixels weigh ten times the background: with few steps, sparse maps otherwise learn "nothing".
    loss = ((output[:, heat] - target[:, heat]) ** 2 * (1 + positive_weight * target[:, heat])).mean() * heat.sum()
    if (~heat).any():
        err = torch.nn.functional.smooth_l1_loss(output[:, ~heat], target[:, ~heat], reduction="none", beta=0.1)
        loss = loss + weight * (err * mask).sum() / mask.sum().clamp(min=1.0)
    return loss


def validation_set(kind: Kind, config: KindTrainConfig) -> list[tuple[np.ndarray, pd.DataFrame]]:
    rng = np.random.default_rng(VALIDATION_SEED_BASE + 1)
    return [kind.example(rng, config.validation_size, VALIDATION_SEED_BASE + i) for i in range(config.validation_images)]


# What an epoch's validation score is, in the words a log line can say once (the epoch lines give the number alone):
# a rods score below zero, as every epoch of a short run has, read as a fault.
SCORE_MEANING = {
    "rods": "F1 minus the median orientation error / 20 degrees minus the median relative length error (1 is "
            "perfect; below 0 where those errors outweigh F1; each error counts 1 where no rod is matched)",
    "chains": "the mean of bead F1 and bond F1 (1 is perfect)",
}


def validation_scores(kind: Kind, network, validation, device: torch.device | str = "cpu",
                      thresholds=THRESHOLDS) -> list[tuple[float, float | None]]:
    """Per threshold, (the score SCORE_MEANING says, the rods' F1 in it; None for chains, whose score is F1s)."""
    from ..kinds import chains
    from ..kinds import rods

    network.eval()
    maps = [predict_maps(network, detection_input(image), device) for image, _ in validation]
    network.train()
    out = []
    for thr in thresholds:
        if kind.name == "rods":
            errors = rods.empty_errors()
            for m, (_, truth) in zip(maps, validation):
                rods.add_errors(errors, rods.decode(m, thr), truth)
            s = rods.scores_from(errors)
            out.append((s.f1 - (s.angle_median / 20 if np.isfinite(s.angle_median) else 1.0)
                        - (s.length_error_median if np.isfinite(s.length_error_median) else 1.0), s.f1))
        else:
            total: dict = {}
            for m, (_, truth) in zip(maps, validation):
                total = chains.add_counts(total, chains.chain_counts(chains.decode(m, thr), truth))
            s = chains.scores_from(total)
            out.append((0.5 * (s.bead_f1 + s.bond_f1), None))
    return out


def rod_f1(scored: tuple[float, float | None]) -> dict[str, float]:
    """An epoch record's ``rod_f1``: the F1 inside a rods score (:func:`validation_scores`), the number of it a user
    reads; nothing for chains."""
    return {} if scored[1] is None else {"rod_f1": float(scored[1])}


@keeps_torch_threads
def train_kind(config: KindTrainConfig, out, init=None, progress: Callable[[dict], None] | None = None,
               examples: list | None = None, validation_examples: list | None = None,
               device: str | torch.device = "cpu", cancel: Callable[[], bool] | None = None,
               resume: bool = False, extra_card: dict | None = None,
               steps: Callable[[dict], None] | None = None) -> DetectorModel:
    """Train the kind's heads (from ``init``, a model of this kind, or else the shipped sphere UNet's body).

    ``examples``: annotated (image, table) frames mixed into the batches (a fine-tuning round);
    ``validation_examples``: held-out annotated frames that alone then score the epochs. Both are trained on and
    scored at the scale detection reads each frame at (:func:`annotated_at_detection_scale`; chains of beads given
    as ``config.diameter`` px, else estimated), recorded in the card's ``scales``. From ``init``, the starting
    model is scored first and a result no better than it is not saved.

    ``progress`` gets each epoch's record (epoch 0: the starting model's score), with the run's ``epochs``;
    ``steps`` gets training.train's step events (``{"event": "step", "epoch", "epochs", "step", "steps", "loss"}``)
    for a progress bar: at a session's first step, every tenth, an epoch's last and a time limit's stop.

    Every epoch leaves a resume state beside ``out`` (``.state.pt``); ``resume`` continues from it at
    the next epoch, or at the next step of an epoch the time limit cut (whose weights were scored as a
    candidate for that session's result; the resumed run chooses among whole epochs only). Each epoch
    draws its batches from its own seed and the learning rate is constant or follows the steps (never the
    clock: a time limit only stops the run), so a run stopped by ``cancel`` (within one step:
    :class:`TrainingCancelled`) or by its time limit and resumed, in this session or a later one, on this
    machine or a GPU, ends with the weights one uninterrupted run would have. Resuming from a start other
    than the interrupted run's (another ``init``, or none), or with other settings (training.run_settings), is
    refused before any work; resuming a finished run hands back its model untouched. The card's training record is
    this run's, marked unfinished until the last epoch (training.run_progress), its history complete then. A
    cancel or a Ctrl-C keeps the steps done in the resume state, as training.train does (stop_between_steps).
    """
    if config.threads:
        torch.set_num_threads(int(config.threads))
    torch.manual_seed(config.seed)
    device = select_device(device)
    kind = get_kind(config.kind)
    unknown = sorted(set(config.looks) - set(kind.looks))
    if unknown:
        raise ParticleDetectError(f"looks {', '.join(unknown)}: the {kind.name} generator draws "
                                  f"{', '.join(kind.looks)}")
    crop = config.crop or kind.crop
    out = Path(out).with_suffix(".pt")  # as saved: the messages name the file written
    refuse_shipped_output(out)
    if config.diameter is not None and not (examples or validation_examples):
        check_bead_diameter(config.diameter, kind.name)
        raise ParticleDetectError("diameter is the beads' size in the annotated examples; without them it would be "
                                  "ignored (the generator draws beads of the sizes the model learns)")
    given, given_validation = said_frames(examples or [], validation_examples or [])
    refuse_validating_on_training_frames(
        [(frame_name(frame, "annotated example", i), frame[0]) for i, frame in enumerate(given)],
        [(frame_name(frame, "validation example", i), frame[0]) for i, frame in enumerate(given_validation)])
    examples, example_scales = annotated_at_detection_scale(kind, given, "annotated example", config.diameter)
    validation_examples, validation_scales = annotated_at_detection_scale(kind, given_validation,
                                                                          "validation example", config.diameter)
    data = data_record(_named_digests(given, example_scales.values(), "annotated frame"),
                       _named_digests(given_validation, validation_scales.values(), "validation frame"))
    if init is not None:
        base = load_model(init, "cpu")
        # A sphere UNet has no heads to train: unrefused, it failed deep in the first step.
        require_kind(base, kind.name, base.path or init,
                     f"give a {kind.name} model, or leave out --from to start from the shipped sphere UNet")
        card = base.card
        network = build_network(card)
        network.load_state_dict(base.network.state_dict())
    else:
        sphere = load_model(default_model_path(), "cpu")
        card = ModelCard(architecture="unet_heads", channels=tuple(sphere.card.channels), kind=kind.name,
                         heads=tuple(kind.heads), sigma=sphere.card.sigma, threshold=0.4,
                         trained_diameter_range=(4.0, 18.0), canonical_diameter=sphere.card.canonical_diameter)
        network = build_network(card)
        network.start_from_spheres(sphere.network.state_dict())
    lineage = lineage_with(card.training) if init is not None else []
    start = _start_record(init, network.state_dict())
    training_layout(network.to(device).train(), device)
    optimiser = adam(network.parameters(), config.learning_rate)
    best, history, first_epoch, best_epoch = -np.inf, [], 0, 0
    cut = EpochCut()

    card_fields = run_card_fields(out, resume, extra_card)

    def training_record(score: float, progress_mark: dict) -> dict:
        """This run's record for its card (never the starting model's), with how far it got."""
        return {"lineage": lineage, **card_fields, "config": config.to_dict(),
                "validation_score": float(score), "best_epoch": best_epoch, "history": history,
                "annotated_examples": len(examples),
                "annotated_validation_examples": len(validation_examples),
                # The factor each annotated frame was resampled by, as detection resamples it (1: as it came).
                "scales": {**example_scales, **validation_scales},
                **frame_files([*example_scales, *validation_scales], [*given, *given_validation]),
                "generator": f"napari_particle_detect.kinds.registry.KINDS[{kind.name!r}].example",
                "init": str(init) if init is not None else "shipped sphere UNet (weights/unet.pt)", **progress_mark}

    if resume:
        # Before the validation set is drawn: a resume from another start fails at once, in one line.
        first_epoch, best, history, card.threshold, cut = _resume_kind(resume_state_path(out), network, optimiser,
                                                                       config, start, data)
        if first_epoch == config.epochs:
            log_already_finished(out, config.epochs)
            return load_model(out, "cpu")
        # The first whole epoch that reached the best score (a later equal one does not replace it).
        best_epoch = next((r["epoch"] for r in history if r.get("score") == best and not was_cut(r)), 0)
        if cut.best_network is not None:
            card.training = training_record(best, run_progress(first_epoch, config.epochs))
            restore_finished_best(out, network, card, cut.best_network)
    else:
        # A state left by an earlier run (replaced with --overwrite) would pair that run's epochs with this run's
        # model: a --resume after this run stopped before its first epoch ended continued the old one.
        resume_state_path(out).unlink(missing_ok=True)
    validation = list(validation_examples) if validation_examples else validation_set(kind, config)
    started = time.monotonic()
    session = session_fields(device)

    def save_resume_state(epochs_finished: int, cut_fields: dict) -> None:
        state = {"network": network.state_dict(), "optimiser": optimiser.state_dict(), "epoch": epochs_finished,
                 "best_score": float(best), "threshold": float(card.threshold), "history": history,
                 "settings": run_settings(config.to_dict()), "card_fields": card_fields, "data": data, **start,
                 **cut_fields}
        save_tensors(state, resume_state_path(out))  # a full disk: one OSError naming the file

    log.info("%s validation score: %s", kind.name, SCORE_MEANING[kind.name])
    if init is not None and not resume:
        # The starting model is a candidate too: a round must not hand back something worse.
        scored = validation_scores(kind, network, validation, device)
        k = int(np.argmax([score for score, _ in scored]))
        best = float(scored[k][0])
        history.append({"epoch": 0, "loss": float("nan"), "score": best, **rod_f1(scored[k]),
                        "threshold": card.threshold, "seconds": 0.0, "version": __version__})
        if progress is not None:
            progress({**history[-1], "epochs": config.epochs})
        card.training = training_record(best, run_progress(0, config.epochs))
        save_model(DetectorModel(_on_cpu(network), card), out)
    mix = (prepared_examples(examples), config.synthetic_fraction) if examples else (None, 1.0)
    total_steps = max(config.epochs * config.steps_per_epoch, 1)
    epochs_done, steps_done = first_epoch, first_epoch * config.steps_per_epoch + cut.steps_done
    first_session_step = steps_done
    with ctrl_c_between_steps() as interrupted, ThreadPoolExecutor(max_workers=1) as pool:
        for epoch in range(first_epoch, config.epochs):
            first_step = cut.steps_done if epoch == first_epoch else 0
            losses = list(cut.losses) if epoch == first_epoch else []
            paused = list(cut.paused) if epoch == first_epoch else []
            for step, (images, targets, masks) in steps_from(_epoch_batches(pool, kind, config, crop, epoch, mix),
                                                             first_step):
                if interrupted() or (cancel is not None and cancel()):
                    stop_between_steps(out, save_resume_state, epoch, step - first_step, losses, interrupted(),
                                       paused + [session_pause(session, started, epoch, step - first_step)])
                x, y, m = (torch.from_numpy(a).to(device) for a in (images, targets, masks))
                if config.final_lr_fraction != 1.0:
                    done = epoch * config.steps_per_epoch + step
                    for group in optimiser.param_groups:
                        group["lr"] = _scheduled_lr(config, done / total_steps)
                optimiser.zero_grad(set_to_none=True)
                x = laid_out_for(network, x) if trains_channels_last(network, x.device) else x
                loss = loss_of(kind, network(x), y, m, config.regression_weight, config.positive_weight)
                loss.backward()
                optimiser.step()
                losses.append(loss.item())
                steps_done = epoch * config.steps_per_epoch + step + 1
                stop_early = bool(config.time_limit_s and time.monotonic() - started > config.time_limit_s)
                tell_step(steps, config, epoch, step, losses, stop_early, first_session_step)
                if stop_early:
                    break
            # Cut by the time limit: its weights are scored, as this session's result may be them.
            cut_short = len(losses) < config.steps_per_epoch
            scored = validation_scores(kind, network, validation, device)
            scores = [score for score, _ in scored]
            k = best_threshold_index(scores)
            record = {"epoch": epoch + 1, "loss": float(np.mean(losses)), "score": float(scores[k]),
                      **rod_f1(scored[k]), "threshold": THRESHOLDS[k], "seconds": round(time.monotonic() - started, 1),
                      **session,
                      **(cut_epoch_mark(len(losses), config.steps_per_epoch) if cut_short else {}),
                      **paused_mark(paused)}
            history.append(record)
            improved = scores[k] > best
            if cut_short:
                # Written before the cut's weights may replace the best at out: a resume goes on inside this
                # epoch and chooses among the finished epochs' best (kept here where out no longer holds it).
                replaced = _saved_best(out) if improved and np.isfinite(best) else None
                save_resume_state(epoch, epoch_cut_fields(len(losses), losses, replaced))
            epochs_done = epoch if cut_short else epoch + 1
            if improved:
                best, best_epoch = scores[k], epoch + 1
                card.threshold = float(THRESHOLDS[k])
                card.training = training_record(best, run_progress(epochs_done, config.epochs))
                save_model(DetectorModel(_on_cpu(network), card), out)
            if not cut_short:
                save_resume_state(epoch + 1, epoch_cut_fields())
            if progress is not None:
                progress({**record, "epochs": config.epochs})
            if config.time_limit_s and time.monotonic() - started > config.time_limit_s:
                break
        # Inside the block: a Ctrl-C during the last epoch's scoring stops the run once its model is written whole.
        all_steps = config.epochs * config.steps_per_epoch
        finished = steps_done >= all_steps
        if not finished:
            log_time_limit_stop(out, steps_done, all_steps, scheduled=config.final_lr_fraction != 1.0)
        # The best epoch's model, its card now telling the whole run (the epochs after it too).
        model = load_model(out, "cpu")
        model.card.training = training_record(best, run_progress(epochs_done, config.epochs, finished,
                                                                 None if finished else (steps_done, all_steps)))
        save_model(model, out)
    return model


def _epoch_batches(pool: ThreadPoolExecutor, kind: Kind, config: KindTrainConfig, crop: int, epoch: int,
                   mix: tuple) -> Iterator[tuple[np.ndarray, ...]]:
    """The epoch's batches, each made on the pool while the one before trains. The epoch's own
    random stream and image seeds make them the same whenever the epoch runs."""
    rng = np.random.default_rng([config.seed, epoch])
    first = config.seed * 1_000_003 + epoch * config.steps_per_epoch * config.batch_size
    seeds = [(first + step * config.batch_size) % VALIDATION_SEED_BASE for step in range(config.steps_per_epoch)]
    upcoming = iter(seeds)
    yield from made_ahead(pool, lambda: batch(kind, rng, config.batch_size, crop, next(upcoming), *mix,
                                              tuple(config.looks)), config.steps_per_epoch)


def _named_digests(examples: list[tuple[np.ndarray, pd.DataFrame]], scales: Iterable[float],
                   what: str) -> Iterator[tuple[str, str, float]]:
    """Each (image, table) frame as given, named as a resume refusal names it (:func:`frame_name`), with its digest
    and the scale detection reads it at: digested once resampled, a scale's last digit changed its pixels."""
    return ((frame_name(frame, what, i), frames_digest(*frame), scale)
            for i, (frame, scale) in enumerate(zip(examples, scales, strict=True)))


class NamedFrame(tuple):
    """An annotated (image, table) frame read from a file, named as the user knows it (``rods.tif[2]``: the file and
    frame): what is said of it named 'annotated frame 2', a number nobody gave. ``given_as``: its file's path as the
    user gave it (``a/rods.tif[2]``), said where another frame has its name (:func:`said_frames`). It unpacks as
    the pair every reader takes."""

    name: str
    given_as: str

    def __new__(cls, image: np.ndarray, table: pd.DataFrame, name: str, given_as: str = "") -> NamedFrame:
        frame = super().__new__(cls, (image, table))
        frame.name = name
        frame.given_as = given_as
        return frame

    def __getnewargs__(self) -> tuple:  # pickled (a worker process) with its names
        return (*self, self.name, self.given_as)


def said_frames(given: Sequence[tuple], validation: Sequence[tuple]) -> tuple[list[tuple], list[tuple]]:
    """``given`` and ``validation`` with each :class:`NamedFrame` whose name another frame has too (two folders'
    ``rods.tif[0]``) renamed to the path the user gave it, as training.said_names names a sphere run's examples:
    named alike, a refusal of one read as of the other."""
    trained_names, validation_names = said_names(given, validation)

    def renamed(frames: Sequence[tuple], names: list[str]) -> list[tuple]:
        return [NamedFrame(*frame, said, frame.given_as) if isinstance(frame, NamedFrame) else frame
                for frame, said in zip(frames, names)]

    return renamed(given, trained_names), renamed(validation, validation_names)


def frame_files(names: Iterable[str], frames: Iterable) -> dict[str, dict[str, str]]:
    """A card's ``frame_files``: which file and frame each of its ``scales`` keys (``names``, 'frame 0', 'annotated
    example 1') is, the path the user gave of each of ``frames`` read from a file (a NamedFrame's or an Example's
    ``given_as``). The keys stay as they were; without this, nothing in the card said which file's frame was
    resampled. Empty where no frame came from a file (given in Python): nothing to name."""
    files = {name: given for name, given in zip(names, (getattr(frame, "given_as", "") for frame in frames)) if given}
    return {"frame_files": files} if files else {}


def frame_name(frame: tuple, what: str, index: int) -> str:
    """How what is said of an annotated ``frame`` names it: its file and frame where it was read from one
    (:class:`NamedFrame`), else ``what`` and its number among those given."""
    return getattr(frame, "name", None) or f"{what} {index}"


def _on_cpu(network: torch.nn.Module) -> torch.nn.Module:
    """The network to save: itself on a CPU, a CPU copy from a GPU (training goes on there)."""
    import copy

    return network if next(network.parameters()).device.type == "cpu" else copy.deepcopy(network).cpu()


def _resume_kind(path: Path, network: torch.nn.Module, optimiser: torch.optim.Optimizer,
                 config: KindTrainConfig, start: dict, data: dict) -> tuple[int, float, list[dict], float, EpochCut]:
    """(epochs finished, best score, history, threshold of the best, where the time limit cut the next epoch)
    from a kind run's resume state, which must have started from ``start`` (training._start_record) as the
    spheres' does."""
    if not path.exists():
        raise ParticleDetectError(f"nothing to resume: {path} does not exist")
    state = read_training_state(path)
    _check_same_start(path, state, start)
    # The data first: a resume that left out DATA was refused for --synthetic-fraction, a setting nobody gave, whose
    # default follows whether DATA is given.
    check_same_data(path, state, data)
    check_same_settings(path, state, run_settings(config.to_dict()))
    try:
        epoch, best, history = state["epoch"], state["best_score"], state["history"]
        check_epochs_to_resume(path, epoch, config.epochs)
        if not isinstance(best, float) or not isinstance(history, list):
            raise ValueError("the best score or the history is malformed")
        cut = read_epoch_cut(state, epoch, config.steps_per_epoch, config.epochs)
        if cut.best_network is not None:
            network.load_state_dict(cut.best_network)  # refused here, in one line, if they are another network's
        network.load_state_dict(state["network"])
        optimiser.load_state_dict(state["optimiser"])
        threshold = float(state["threshold"])
    except (ValueError, KeyError, TypeError, RuntimeError, AttributeError, IndexError) as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:120]
        raise ParticleDetectError(f"{path}: cannot resume from it ({first})") from None
    say_other_scorers(path, history)
    return epoch, best, history, threshold, cut


def _scheduled_lr(config: KindTrainConfig, step_share: float) -> float:
    """Cosine from learning_rate down to final_lr_fraction of it, by the share of the run's steps done (never
    the time spent: a run resumed after its time limit ends as an uninterrupted one)."""
    progress = step_share
    low = config.final_lr_fraction
    # A plain float: the optimiser's state is saved for resuming, and loading it takes no NumPy objects.
    return float(config.learning_rate * (low + (1.0 - low) * 0.5 * (1.0 + np.cos(np.pi * min(progress, 1.0)))))


def load_kind_examples(paths: list, kind: str) -> list[tuple[np.ndarray, pd.DataFrame]]:
    """Annotated (frame, table) pairs from ``image.tif`` + ``image.csv`` (the kind's table) pairs, or
    folders of them; a ``frame`` column annotates the frames of a stack."""
    from ..files.io import read_image
    from ..kinds.registry import read_kind_table
    from .training import (annotated_files, annotated_frames, check_inside, frame_beyond, reviewed_indices,
                           say_no_centres, say_unlabelled_images)

    say_unlabelled_images(paths, f"{kind} table")
    out = []
    for image_path, csv in annotated_files(paths, f"{kind} table"):
        stack = read_image(image_path)
        frames = stack[None] if stack.ndim == 2 else stack
        _refuse_stack_table_without_frames(csv, kind, len(frames), image_path.name)
        table = read_kind_table(csv, kind)
        # A single frame reviewed empty is an example too (nothing to find here): its table has no rows
        # to name a frame, but an image of one frame has no other; a stack's names none, refused.
        annotated = annotated_frames(csv, table, len(frames), image_path.name)
        # A dock's export: only the frames a person reviewed are truth, as for spheres.
        annotated = reviewed_indices(csv, table, annotated, len(frames) > 1)
        for index in annotated:
            if index >= len(frames):
                raise frame_beyond(csv, index, len(frames), image_path.name, annotated)
            rows = table[table["frame"] == index].reset_index(drop=True)
            where = f" frame {index}" if len(frames) > 1 else ""
            # A NaN or blank frame trained a round that failed as "diverged" (NaN) or learnt that nothing is there.
            check_training_frame(np.asarray(frames[index]), f"{image_path}" + where)
            check_inside(csv, objects_inside(kind, rows, frames.shape[1:]), frames.shape[1:], where,
                         "rod" if kind == "rods" else "bead")
            out.append(NamedFrame(np.asarray(frames[index]), rows, f"{image_path.name}[{index}]",
                                  f"{image_path}[{index}]"))
    if not out:
        raise ParticleDetectError(f"no image + {kind} CSV pairs found in {', '.join(map(str, paths))}")
    say_no_centres(paths, [len(rows) for _, rows in out], kind.removesuffix("s"))
    return out


def check_training_frame(image: np.ndarray, name: str) -> None:
    """One ParticleDetectError naming ``name`` for a frame a round or training cannot learn from: blank, or holding
    NaN or infinite pixels (detection reads those as gaps; a round learns from every pixel, so they made its first
    loss NaN, said as 'diverged' naming no frame). Said as the volumes' refusal says it (files.axes.refuse_gaps)."""
    from ..detection.preprocessing import NonFiniteFrameError, check_frame

    try:
        check_frame(image, name)
    except NonFiniteFrameError:
        raise ParticleDetectError(f"{name}: image contains NaN or infinite pixels; training learns from every pixel: "
                                  "fill them first (numpy.nan_to_num) or leave this frame out") from None


# Points along a rod at which it is looked for in the image: a rod centred outside it may cross it.
ROD_SAMPLES = 9


def objects_inside(kind: str, rows: pd.DataFrame, shape: tuple[int, ...]) -> np.ndarray:
    """One bool per row of a ``kind`` table: whether the object lies in an image of ``shape`` (y, x), in part at
    least: a bead's centre, any point of a rod's axis from tip to tip. Those wholly outside teach nothing (the
    targets are drawn in the frame), and a table of only such rows, in other pixels or another image's, would
    train the round that the frame holds nothing."""
    if kind == "rods" and {"y1", "x1", "y2", "x2"} <= set(rows.columns):
        share = np.linspace(0.0, 1.0, ROD_SAMPLES)[None, :]
        ys = rows["y1"].to_numpy(float)[:, None] * (1 - share) + rows["y2"].to_numpy(float)[:, None] * share
        xs = rows["x1"].to_numpy(float)[:, None] * (1 - share) + rows["x2"].to_numpy(float)[:, None] * share
    else:
        ys, xs = rows["y"].to_numpy(float)[:, None], rows["x"].to_numpy(float)[:, None]
    height, width = shape[-2:]
    return np.any((ys >= -0.5) & (ys < height - 0.5) & (xs >= -0.5) & (xs < width - 0.5), axis=1)


def _refuse_stack_table_without_frames(csv: Path, kind: str, count: int, image: str) -> None:
    """A stack's table whose file has no frame column refused as :func:`annotated_frames` refuses it, read by its
    header before the kind's check_table: that numbers such a table frame 0, so its rows of every frame were taught
    as frame 0's, and a chains table was refused for chains repeated in frame 0, the frames unsaid. Only a table of
    the kind by its header: another kind's is refused as such by the kind's reader, not first asked for frames."""
    from ..files.tables import table_columns
    from ..files.io import read_csv_table
    from .training import annotated_frames

    columns = table_columns(csv)
    if count > 1 and columns is not None and "frame" not in columns and _of_kind(columns, kind):
        annotated_frames(csv, read_csv_table(csv, f"the {kind} columns"), count, image)


def _of_kind(columns, kind: str) -> bool:
    """Whether a table's header holds ``kind``'s own columns (a rods table: also its tips alone), whatever else
    it holds."""
    from ..kinds.columns import KIND_SIGNATURES, is_tips_table

    names = {str(c).strip() for c in columns}
    return set(KIND_SIGNATURES.get(kind, ())) <= names or (kind == "rods" and is_tips_table(names))
