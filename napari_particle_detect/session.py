"""Fine-tuning the current round of a project on its reviewed frames, into a workspace of its own.

The project store itself (frames, reviews, rounds) is :mod:`.project`; the table schema is :mod:`.tables`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ParticleDetectError
from .evaluation import evaluate_frames
from .models import DetectorModel, load_model
from .prediction import as_frames, centres_table, iter_detect
from .project import Project, RoundInfo
from .sizing import scale_for_diameter
from .training import Example, TrainConfig, train


def project_examples(project: Project, stack: np.ndarray, frames: list[int], scale: float) -> list[Example]:
    """Reviewed frames as training examples, rescaled like detection rescaled them."""
    stack = as_frames(stack)
    truth = project.corrections(frames)
    examples = []
    for frame in frames:
        image = np.asarray(stack[frame], dtype=np.float32)
        if project.polarity == "dark":
            image = -image  # detection inverted dark particles; train on what the network saw
        centres = truth.loc[truth["frame"] == frame, ["y", "x"]].to_numpy(float)
        examples.append(Example(image, centres, scale=scale, name=f"frame {frame}"))
    return examples


# ---- fine-tuning -------------------------------------------------------------------------------
@dataclass
class FineTuneSettings:
    epochs: int = 5
    steps_per_epoch: int = 60
    batch_size: int = 8
    crop: int = 64
    learning_rate: float = 5e-4
    # Half of every batch stays synthetic, so the model keeps what it knew.
    synthetic_fraction: float = 0.5
    validation_images: int = 4
    validation_size: int = 96
    hold_out: bool = True
    threads: int | None = None
    seed: int = 0

    def train_config(self, device: str) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs, steps_per_epoch=self.steps_per_epoch, batch_size=self.batch_size, crop=self.crop,
            learning_rate=self.learning_rate, synthetic_fraction=self.synthetic_fraction,
            validation_images=self.validation_images, validation_size=self.validation_size, device=device,
            threads=self.threads, seed=self.seed,
        )


@dataclass
class FineTuneOutcome:
    """A trained round waiting in its workspace; nothing in the project points at it yet."""

    workspace: Path
    info: RoundInfo
    history: list[dict]


def scoring_tolerance(diameter: float) -> float:
    """Match radius for held-out scoring: a quarter particle diameter, at least 1.5 px."""
    return max(1.5, diameter / 4.0)


def held_out_f1(model: DetectorModel, stack: np.ndarray, truth: pd.DataFrame, frames: list[int], diameter: float,
                polarity: str = "auto", device: str = "auto") -> float | None:
    """Pooled F1 of ``model`` on ``frames`` against the user's reviewed centres."""
    if not frames:
        return None
    parts = [centres_table(i, r.centres, r.scores)
             for i, r, _ in iter_detect(stack, model, device, None, diameter, polarity, frames=frames)]
    pooled = evaluate_frames(pd.concat(parts, ignore_index=True), truth[truth["frame"].isin(frames)],
                             scoring_tolerance(diameter))
    return float(pooled.iloc[-1]["f1"])


def fine_tune(
    project: Project,
    stack: np.ndarray,
    settings: FineTuneSettings | None = None,
    device: str = "auto",
    progress: Callable[[dict], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> FineTuneOutcome:
    """Train the current round further on the reviewed frames, into a workspace of its own.

    Safe to run off the main thread: it only reads the project. Publish the result with
    ``project.commit_round(outcome.workspace, outcome.info)``; on error or cancel the workspace
    is removed and the project is as it was.
    """
    settings = settings or FineTuneSettings()
    parent = project.current_round
    if parent is None:
        raise ParticleDetectError("run Detect first: there is no model round to fine-tune yet")
    train_frames, held_out = project.training_split(settings.hold_out)
    if not train_frames:
        raise ParticleDetectError("accept at least one corrected frame before fine-tuning")
    if project.diameter is None:
        raise ParticleDetectError("run Detect first, so the particle size of this image is known")
    base = load_model(project.round_path(parent.number), "cpu")
    diameter, polarity = float(project.diameter), project.polarity
    examples = project_examples(project, stack, train_frames, scale_for_diameter(diameter, base.card.canonical_diameter))
    workspace = project.new_workspace()
    try:
        # The user's training frames steer which epoch is kept and the tuned threshold; held-out frames stay unseen.
        result = train(settings.train_config(device), examples=examples, validation_examples=examples, init=base,
                       out=workspace / "model", progress=progress, cancel=cancel,
                       extra_card={"fine_tuned_from": parent.name, "trained_frames": train_frames})
        for leftover in workspace.glob("*.state.pt"):
            leftover.unlink()
        truth = project.corrections(held_out)
        info = RoundInfo(
            number=0, origin="fine-tuned", parent=parent.number, trained_frames=train_frames,
            held_out=len(held_out), threshold=result.model.card.threshold,
            f1=held_out_f1(result.model, stack, truth, held_out, diameter, polarity, device),
            parent_f1=held_out_f1(base, stack, truth, held_out, diameter, polarity, device),
        )
    except BaseException:
        project.discard_workspace(workspace)
        raise
    return FineTuneOutcome(workspace=workspace, info=info, history=result.history)
