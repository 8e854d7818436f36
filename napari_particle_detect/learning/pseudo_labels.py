"""Pseudo-labels: what a round learns from the frames nobody reviewed.

A teacher detects on unreviewed frames: the student itself after ``TrainConfig.pseudo_teacher_at``
of the round's steps (half, by default; 0: the model the round starts from). Where it is sure, its
answer becomes a training target: a candidate scoring at least ``high`` is a particle, a pixel
whose heatmap stays under ``low`` far from any candidate is background. Where it hesitates (a
candidate between ``low`` and ``high``, within about one particle radius of it, or a heatmap
above ``low`` that no confident particle explains) nothing is known, and the loss is masked
there, as it is outside a reviewed region. Reviewed areas are never pseudo-labelled: the caller
passes them (and the held-out tiles with their guard bands) as ``exclude``; their own labels win.
A reviewed frame is known by its pixels (training.frame_digest), whatever its file is called.

The student can see these crops under strong augmentation (:func:`training.strong_augment`: noise, blur,
brightness and contrast, small shifts; ``TrainConfig.pseudo_strong``), so it must give the
teacher's clean-view answer on a harder view; measured, that did worse than the ordinary
augmentation (benchmarks/results/loop_semi.txt), so it is off by default. No Qt, no files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

from ..errors import ParticleDetectError
from ..models import DetectorModel
from ..detection.networks import prepare_network
from ..detection.prediction import detect_frame
from ..detection.preprocessing import BlankFrameError
from ..projects.review import rank_frames
from ..detection.sizing import resampled_shape
from ..kinds.evaluation import mask_value_at
from .training import Example, with_detection_scale

log = logging.getLogger(__name__)

# Unreviewed frames a round labels when asked to and no count is given (train --unlabelled).
DEFAULT_FRAMES = 8
# Teacher thresholds (TrainConfig.pseudo_high / pseudo_low use the same) and the masked band's reach.
HIGH = 0.5
LOW = 0.15
# Around a hesitant candidate this many particle radii are masked out of the loss.
BAND_RADII = 1.0
# Around a confident candidate this many radii are trusted even where the heatmap is above LOW
# (its own peak and shoulders are the target there).
PEAK_RADII = 1.0


@dataclass
class PseudoLabel:
    """One unreviewed frame (or the unreviewed part of a frame) labelled by the teacher."""

    example: Example  # centres: confident particles; area: where the loss counts (confident everywhere)
    confident: int  # particles taken as true
    hesitant: int  # candidates masked out
    masked_share: float  # share of the allowed pixels masked out


def label_frame(
    teacher: DetectorModel,
    image: np.ndarray,
    scale: float,
    name: str,
    device: torch.device | str = "cpu",
    high: float = HIGH,
    low: float = LOW,
    exclude: np.ndarray | None = None,
    network=None,
) -> PseudoLabel:
    """The teacher's confident answer on one frame, as an :class:`~training.Example`.

    ``scale`` brings the frame to the teacher's working size (as in detection); ``exclude``
    marks pixels never pseudo-labelled (reviewed areas, held-out tiles and their guards).
    """
    if not low < high:
        raise ParticleDetectError(f"the pseudo-label thresholds must satisfy low < high, got {low} and {high}")
    image = np.asarray(image, dtype=np.float32)
    try:
        found = detect_frame(teacher, image, device, low, scale, name=name or "unreviewed frame",
                             network=network if network is not None else prepare_network(teacher, device))
    except BlankFrameError as exc:
        # A dropped or shutter frame of a movie nobody reviewed teaches nothing: failing here threw away the round's
        # training, done before the teacher's pass. Masked all over, it is passed over as a frame the teacher was
        # unsure of everywhere, and another takes its place (finetune.label_with_spares).
        log.warning("%s: %s (a blank frame): nothing to learn from it", name or "unreviewed frame", exc.held)
        return PseudoLabel(Example(image, np.zeros((0, 2)), scale, name, np.zeros(image.shape, bool)), 0, 0, 1.0)
    heat = _on_grid(found.heatmap, image.shape, scale)
    radius = teacher.card.canonical_diameter / scale / 2.0  # a particle's radius in the frame's pixels
    centres, area = pseudo_targets(found.centres, found.scores, heat, radius, high, low, exclude)
    allowed = image.size if exclude is None else int((~np.asarray(exclude, bool)).sum())
    sure = found.scores >= high
    confident = int((sure & mask_value_at(area, found.centres)).sum())
    return PseudoLabel(Example(image, centres, scale, name, area), confident,
                       int(((found.scores >= low) & ~sure).sum()), float(1.0 - area.sum() / max(allowed, 1)))


def pseudo_targets(
    centres: np.ndarray, scores: np.ndarray, heat: np.ndarray, radius: float, high: float = HIGH, low: float = LOW,
    exclude: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(particles, area where the loss counts) from a teacher's candidates and heatmap on one frame.

    Particles: candidates scoring ``high`` or more. The area: confident background (heatmap under
    ``low``) and the surroundings of confident particles (their peaks are the target there), less
    ``BAND_RADII`` particle radii around every hesitant candidate (``low`` <= score < ``high``)
    and less ``exclude``. Every confident centre is a target, even one just outside the area: its
    peak's shoulders reach in.
    """
    centres = np.asarray(centres, dtype=float).reshape(-1, 2)
    scores = np.asarray(scores, dtype=float)
    shape = heat.shape
    sure = scores >= high
    unsure = (scores >= low) & ~sure
    near_sure = _near(centres[sure], shape, PEAK_RADII * radius)
    near_unsure = _near(centres[unsure], shape, BAND_RADII * radius)
    allowed = np.ones(shape, dtype=bool) if exclude is None else ~np.asarray(exclude, dtype=bool)
    area = allowed & ~near_unsure & ((heat < low) | near_sure)
    return centres[sure], area


def label_frames(
    teacher: DetectorModel,
    frames: Sequence[Example],
    device: torch.device | str = "cpu",
    high: float = HIGH,
    low: float = LOW,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> list[PseudoLabel]:
    """:func:`label_frame` on each unreviewed frame (an Example whose ``area``, when given, is where
    pseudo-labels may go; a ``scale`` of None is the one detection would use: :func:`training.detection_scale`).
    ``progress(done, total)`` before each; stops (raising :class:`training.TrainingCancelled`) within one
    frame of ``cancel()``."""
    from .training import TrainingCancelled

    frames = with_detection_scale(frames, teacher.card.canonical_diameter)
    network = prepare_network(teacher, device)
    out = []
    for done, frame in enumerate(frames):
        if cancel is not None and cancel():
            raise TrainingCancelled("fine-tuning cancelled")
        if progress is not None:
            progress(done, len(frames))
        exclude = None if frame.area is None else ~np.asarray(frame.area, dtype=bool)
        out.append(label_frame(teacher, frame.image, frame.scale, frame.name, device, high, low, exclude, network))
    if progress is not None:
        progress(len(frames), len(frames))
    return out


def read_unlabelled(paths: Sequence, working_diameter: float,
                    diameter: float | None = None) -> Callable[[int], list[Example]]:
    """The frames of the images or stacks at ``paths``, as a callable giving ``n`` of them spread over
    all (read only then: long stacks stay on disk), rescaled to the model's ``working_diameter``
    from ``diameter`` or each file's estimate on its first frame that is not blank, and named "PATH[frame]" (the
    round's record says which were learned from). A frame also annotated in the round's data is
    pseudo-labelled only where it was not reviewed, whatever the file is called: finetune.fine_tune
    knows it by its pixels. Bad files fail here, before any training (a blank frame of a stack is passed over when
    labelled: :func:`label_frame`)."""
    from ..detection.sizing import scale_for_diameter

    where = []  # (frames, index, scale, name)
    blank: list[BlankUnlabelled] = []
    for path, frames in stacks_at(paths):
        try:
            size = diameter if diameter is not None else _first_frames_diameter(frames, str(path))
        except BlankUnlabelled as exc:  # one file of several with nothing in it fails no round: the others teach
            blank.append(exc)
            continue
        scale = scale_for_diameter(size, working_diameter)
        for index in range(len(frames)):
            where.append((frames, index, scale, f"{path}[{index}]"))

    if blank and not where:
        raise blank[0]
    for exc in blank:
        log.warning("%s: %s: nothing to learn from it; the other --unlabelled files are used", exc.name, exc.what)

    def give(count: int) -> list[Example]:
        return [Example(np.asarray(where[k][0][where[k][1]], dtype=np.float32), np.zeros((0, 2)), where[k][2],
                        where[k][3]) for k in spread(count, range(len(where)))]

    return give


class BlankUnlabelled(ParticleDetectError):
    """An --unlabelled file with nothing in it to learn from: ``what`` it holds instead, in words."""

    def __init__(self, name: str, what: str) -> None:
        super().__init__(f"{name}: {what}: nothing to learn from; give --unlabelled images with particles in them, "
                         "or leave --unlabelled out")
        self.name, self.what = name, what


def _first_frames_diameter(frames, name: str) -> float:
    """The particles' diameter (px) estimated on the first of ``frames`` that is not blank: a movie's dark or dropped
    first frame (a shutter's) read as the most the model may enlarge, and every frame was pseudo-labelled at that
    scale, unsaid. A file with no such frame fails, naming it."""
    from ..detection.constant_frames import next_unblank_frame
    from ..detection.preprocessing import check_frame
    from ..detection.sizing import estimate_diameter

    # Said in the round's words: "nothing to detect" (detection's) of a file given to learn from, and "img.tif[0]"
    # of a single image, left the user unsure what the round wanted.
    if len(frames) == 1:
        try:
            return estimate_diameter(check_frame(np.asarray(frames[0]), name, gaps=True))
        except BlankFrameError as exc:
            raise BlankUnlabelled(name, f"a blank image ({exc.held})") from None
    try:
        index = next_unblank_frame(frames, name)
    except BlankFrameError:  # not frames that cannot be read: those are said as they are
        raise BlankUnlabelled(name, "every frame is blank (constant, or NaN or infinite all over)") from None
    return estimate_diameter(check_frame(np.asarray(frames[index]), f"{name}[{index}]", gaps=True))


def stacks_at(paths: Sequence) -> list[tuple[Path, np.ndarray]]:
    """(path, its frames as a lazy (T, Y, X) stack) of each image or stack at ``paths`` (``--unlabelled``'s); a
    file that cannot be read, holds no frame, is a volume by its metadata (as detect reads it) or holds
    several channels fails here, naming it."""
    from ..files.axes import file_axes
    from ..files.io import read_image
    from ..detection.preprocessing import as_frames

    out = []
    for path in map(Path, paths):
        axes = file_axes(path)
        if axes.is_volume:  # its slices are no time frames: detect reads it as one volume
            raise ParticleDetectError(f"{path}: a {axes.axes} volume (from its {axes.source}); --unlabelled takes "
                                      "2D images or TYX stacks")
        try:
            frames = as_frames(read_image(path, lazy=True), str(path))
        except ParticleDetectError as exc:
            raise _without_channel_advice(path, exc) from None
        if not len(frames):
            raise ParticleDetectError(f"{path}: holds no frames")
        out.append((path, frames))
    return out


def _without_channel_advice(path: Path, refusal: ParticleDetectError) -> ParticleDetectError:
    """``refusal`` of a file of several channels, with advice train can follow: the readers' "give channel=N
    (--channel N)" is detect's, and train has no --channel. Any other refusal as it is."""
    from ..files.io import read_image

    try:
        read_image(path, lazy=True, channel=0)
    except ParticleDetectError:
        return refusal  # not a file of channels: its own refusal says what is wrong
    what = str(refusal).split("; ")[0]
    return ParticleDetectError(f"{what}; --unlabelled takes greyscale images or stacks (train has no --channel): "
                               "convert it to greyscale, or save the channel to learn from as a file of its own")


def spread(count: int, available: Sequence[int]) -> list[int]:
    """``count`` of ``available`` spread evenly over it (all when there are fewer)."""
    available = list(available)
    if count <= 0 or not available:
        return []
    if count >= len(available):
        return available
    picks = np.linspace(0, len(available) - 1, count).round().astype(int)
    return [available[i] for i in np.unique(picks)]


def choose_frames(
    n_frames: int,
    count: int,
    reviewed: set[int] | Sequence[int] = (),
    how: str = "spread",
    detections: dict[int, tuple[np.ndarray, np.ndarray]] | None = None,
    threshold: float = 0.5,
) -> list[int]:
    """Which unreviewed frames the teacher labels: ``spread`` evenly over the stack, or ``confident``:
    those :mod:`review` ranks least uncertain (needs the frames' ``detections``; frames without
    any are taken spread after them)."""
    skip = set(reviewed)
    available = [f for f in range(n_frames) if f not in skip]
    if how == "spread" or not detections:
        if how not in ("spread", "confident"):
            raise ParticleDetectError(f"how must be 'spread' or 'confident', got {how!r}")
        return spread(count, available)
    if how != "confident":
        raise ParticleDetectError(f"how must be 'spread' or 'confident', got {how!r}")
    known = {f: d for f, d in detections.items() if f in available}
    ranked = [p.frame for p in reversed(rank_frames(known, threshold))][:count]
    rest = [f for f in available if f not in known]
    return sorted(ranked + spread(count - len(ranked), rest))


def _on_grid(heat: np.ndarray, shape: tuple[int, int], scale: float) -> np.ndarray:
    """The heatmap (made at the working size) on the frame's own pixel grid, nearest pixel."""
    heat = np.asarray(heat, dtype=np.float32)
    if heat.ndim > 2:
        heat = heat.reshape(heat.shape[-2:])
    if heat.shape == tuple(shape):
        return heat
    _, zoom = resampled_shape(shape, scale) if scale != 1.0 else (shape, np.ones(2))
    zoom = np.asarray(zoom, dtype=float).reshape(-1)
    if zoom.size == 1:
        zoom = np.repeat(zoom, 2)
    rows = np.clip(np.floor((np.arange(shape[0]) + 0.5) * zoom[0]).astype(int), 0, heat.shape[0] - 1)
    cols = np.clip(np.floor((np.arange(shape[1]) + 0.5) * zoom[1]).astype(int), 0, heat.shape[1] - 1)
    return heat[np.ix_(rows, cols)]


def _near(points: np.ndarray, shape: tuple[int, int], radius: float) -> np.ndarray:
    """Pixels within ``radius`` of any of ``points``."""
    seeds = np.zeros(shape, dtype=bool)
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    if not len(points):
        return seeds
    iy = np.clip(np.rint(points[:, 0]).astype(int), 0, shape[0] - 1)
    ix = np.clip(np.rint(points[:, 1]).astype(int), 0, shape[1] - 1)
    seeds[iy, ix] = True
    return ndimage.distance_transform_edt(~seeds) <= radius
