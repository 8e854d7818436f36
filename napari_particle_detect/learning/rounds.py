"""A project's next model round: the user's reviewed frames and regions as examples, a fine-tuning
round on them (:mod:`finetune`), and its commit into the project.

Safe to run off the main thread: building a round only reads the project, and the round waits in
a workspace of its own until :func:`commit` publishes it in one step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import numpy as np

from ..errors import ParticleDetectError
from ..files.io import UnreadableFrameError
from .finetune import FINE_TUNE, RoundResult, fine_tune, unreviewed_note, unreviewed_record
from ..models import DetectorModel, load_model, save_model
from ..detection.preprocessing import as_frames
from ..projects.project import Project, RoundInfo, WaitCancelled, waiting_cancellably
from ..projects.project_state import image_mismatch, pixel_fingerprint
from ..detection.sizing import scale_for_diameter
from .training import Example, TrainConfig, TrainingCancelled, _frames_named

C = TypeVar("C")  # a round's settings: TrainConfig, or a volume round's


@dataclass
class RoundOutcome:
    """A trained round waiting in its workspace; nothing in the project points at it yet."""

    workspace: Path
    info: RoundInfo
    result: RoundResult


def project_examples(project: Project, stack, scale: float) -> list[Example]:
    """Every reviewed frame, and every frame with reviewed regions, as one example each.

    A whole reviewed frame teaches everywhere; a frame with regions only inside them (its
    ``area``), with the centres saved there. Dark particles are inverted as detection inverted them.
    """
    frames = as_frames(stack)
    check_round_image(project, frames)
    shape = tuple(frames.shape[1:])
    whole = set(project.reviewed_frames)
    by_frame: dict[int, np.ndarray | None] = {}
    for frame, region in project.reviewed_areas():
        if frame in whole:
            by_frame[frame] = None
            continue
        area = by_frame.get(frame)
        if area is None:
            area = np.zeros(shape, dtype=bool)
        rows = slice(max(0, int(np.ceil(region.y0))), max(0, int(np.ceil(region.y1))))
        cols = slice(max(0, int(np.ceil(region.x0))), max(0, int(np.ceil(region.x1))))
        area[rows, cols] = True
        by_frame[frame] = area
    examples = []
    held = project.held_thresholds()  # frames another round detected are shown at its threshold
    for frame in sorted(by_frame):
        table = project.load_frame(frame)
        if table is None:
            continue  # its file is gone: Project.open reports it, and TrainedOn leaves it out of the round's record
        threshold = held.get(frame, project.threshold)
        if by_frame[frame] is not None and threshold is not None:
            # Outside its regions a frame still holds the network's points; hidden ones are not particles.
            table = table[(table["source"] != "model") | (table["score"] > threshold)]
        examples.append(Example(round_image(project, frames, frame), table[["y", "x"]].to_numpy(float), scale=scale,
                                name=frame_name(frame), area=by_frame[frame]))
    return examples


def check_round_image(project: Project, frames) -> None:
    """One clear line, before anything is trained, when ``frames`` (T, Y, X) cannot be the image the project
    reviewed: another frame count or frame shape, other pixels in its first frame (where the project
    recorded them), or a reviewed frame beyond its end. A round trained on them would learn the
    centres of one image over the pixels of another."""
    state = project.state()
    shape = tuple(int(v) for v in frames.shape[1:])
    fingerprint = _first_frame_fingerprint(frames) if state.fingerprint is not None else None
    mismatch = image_mismatch(state, len(frames), shape, fingerprint, "the image to train on")
    beyond = sorted({f for f, _ in state.accepted if f >= len(frames)})
    if mismatch is None and beyond:
        mismatch = (f"frame {beyond[0]} is reviewed, but the image to train on has {len(frames)} "
                    f"frame{'s' if len(frames) != 1 else ''}")
    if mismatch is not None:
        raise ParticleDetectError(f"{project.folder}: {mismatch}; no round was trained (open the project with the "
                                  "image it was made for)")


def _first_frame_fingerprint(frames) -> str | None:
    """pixel_fingerprint of frame 0; None where it cannot be read (a page garbled since the project was made): the
    image is then matched by frame count and shape alone, as a project made over it records no fingerprint
    (projects.project._readable_fingerprint), and the round trains on the frames that read."""
    try:
        return pixel_fingerprint(frames[0])
    except UnreadableFrameError:
        return None


def round_image(project: Project, frames, frame: int) -> np.ndarray:
    """Frame ``frame`` of ``frames`` as a round reads it: float32, dark particles inverted as detection
    inverted them."""
    if not 0 <= frame < len(frames):
        raise ParticleDetectError(f"{project.folder}: frame {frame} is beyond the {len(frames)} frames of the image; "
                                  "no round was trained (open the project with the image it was made for)")
    image = np.asarray(frames[frame], dtype=np.float32)
    return -image if project.polarity == "dark" else image


def unlabelled_frames(project: Project, stack, scale: float, how: str = "spread") -> Callable[[int], list[Example]]:
    """A callable giving ``n`` frames nobody reviewed whole (read only when asked), for the teacher to pseudo-label:
    those :func:`unlabelled_frame_numbers` chooses."""
    frames = as_frames(stack)
    choose = unlabelled_frame_numbers(project, len(frames), how)
    return lambda count: [unlabelled_example(project, frames, frame, scale) for frame in choose(count)]


def unlabelled_frame_numbers(project: Project, n_frames: int, how: str = "spread") -> Callable[[int], list[int]]:
    """A callable giving the numbers of ``n`` frames of ``n_frames`` nobody reviewed whole, for the teacher to
    pseudo-label: spread over the stack, or (``how="confident"``) those the saved detections rank least uncertain.
    Numbers, not frames, so that a caller reads only those it keeps (a remote round chooses spares among more).
    A frame with reviewed regions is among them unless the user edited it: the
    round labels it only outside its regions and held-out tiles (finetune.fine_tune knows it by its
    pixels). A frame the project holds as edited (Project.edited_frames) is not, whatever regions of it
    were accepted: the teacher could find the points deleted there again, and the round learn them back.
    The dock clears that mark where every edit lies inside the frame's accepted regions (those are learned),
    and keeps it where it cannot tell."""
    from .pseudo_labels import choose_frames

    left_out = set(project.reviewed_frames) | set(project.edited_frames)

    def choose(count: int) -> list[int]:
        detections = None
        if how == "confident" and project.threshold is not None:
            detections = {}
            # Another round's frames are weighed against its threshold: their scores shifted to put it on ours.
            held = project.held_thresholds()
            for frame in project.saved_frames():
                table = project.load_frame(frame)
                if table is not None and "score" in table:
                    shift = project.threshold - held[frame] if frame in held else 0.0
                    detections[frame] = (table[["y", "x"]].to_numpy(float), table["score"].to_numpy(float) + shift)
        return choose_frames(n_frames, count, left_out, how, detections, project.threshold or 0.5)

    return choose


def unlabelled_example(project: Project, frames, frame: int, scale: float) -> Example:
    """Frame ``frame`` of ``frames`` (T, Y, X) as an unreviewed example for the teacher: no centres."""
    return Example(round_image(project, frames, frame), np.zeros((0, 2)), scale=scale, name=frame_name(frame))


def prepare_round(project: Project, stack) -> tuple[RoundInfo, DetectorModel, list[Example]]:
    """(the round in use, its model, the reviewed examples) for the next round; clear errors when
    there is nothing to train on yet."""
    parent = project.current_round
    if parent is None:
        raise ParticleDetectError("run Detect first: there is no model round to fine-tune yet")
    if project.diameter is None:
        raise ParticleDetectError("run Detect first, so the particle size of this image is known")
    if not project.reviewed_areas():
        raise ParticleDetectError("accept at least one corrected frame or region before fine-tuning")
    base = load_model(project.round_path(parent.number), "cpu")
    scale = scale_for_diameter(float(project.diameter), base.card.canonical_diameter)
    return parent, base, project_examples(project, stack, scale)


def retry_seed(project: Project, parent: RoundInfo, config: C) -> C:
    """``config`` (a round's, with a ``seed``) drawing anew for each round already fine-tuned from ``parent``: asked
    again (after a round that was not better, nothing new reviewed) a round drew the crops of the last and came out
    the same model, byte for byte. The held-out tiles do not follow the seed, so its verdict compares alike; the
    first round from a parent keeps the seed, as ``train --from`` and the benchmarks run it."""
    tries = sum(info.parent == parent.number for info in project.rounds)
    return replace(config, seed=config.seed + tries) if tries else config


@dataclass(frozen=True)
class TrainedOn:
    """What was reviewed when a round gathered its examples: frames accepted while it trains are not in it."""

    frames: list[int]
    regions: int
    # Frames edited but not accepted whole, regions of them accepted or not: no unreviewed frame for the teacher
    # (unlabelled_frames leaves them out), and edits the round does not learn, there or outside those regions.
    edited: list[int] = field(default_factory=list)
    # Those of ``edited`` with accepted regions: the round learns what lies inside them.
    edited_in_regions: list[int] = field(default_factory=list)
    # Those of ``edited_in_regions`` whose edits are not known to reach outside them (Project.edited_where_unknown).
    where_unknown: list[int] = field(default_factory=list)
    # The frame of each of the ``regions``: a region of a frame the round leaves out (a twin) is not counted.
    region_frames: list[int] = field(default_factory=list)

    @classmethod
    def now(cls, project: Project) -> TrainedOn:
        """What is reviewed now, less what a round cannot train on: frames (and regions of frames) whose
        centres file is gone (project_examples leaves them out)."""
        saved = set(project.saved_frames())
        reviewed = set(project.reviewed_frames)
        regions = project.regions()
        edited = sorted(set(project.edited_frames) - reviewed)
        with_regions = [f for f in edited if f in {r.frame for r in regions}]
        unknown = set(project.edited_where_unknown)
        region_frames = [r.frame for r in regions if r.frame in saved]
        return cls(sorted(f for f in reviewed if f in saved), len(region_frames),
                   edited, with_regions, [f for f in with_regions if f in unknown], region_frames)

    def less(self, left_out: set[int]) -> TrainedOn:
        """What the round trained on once the frames ``left_out`` (twins of others: finetune.distinct_frames) are
        taken away: listed, a frame left out was counted as learned in the round's record and the dock."""
        if not left_out:
            return self
        return replace(self, frames=[f for f in self.frames if f not in left_out],
                       regions=self.regions - sum(f in left_out for f in self.region_frames),
                       region_frames=[f for f in self.region_frames if f not in left_out])


def round_info(parent: RoundInfo, result: RoundResult, trained_on: TrainedOn) -> RoundInfo:
    """What the project records of a round (its number is given when it is committed); ``trained_on``:
    what was reviewed when it gathered its examples. The unreviewed frames it learned from are read from
    its model's card, which a remote round's model brings back too."""
    names, asked, unsure = unreviewed_record(result.model)
    trained_on = trained_on.less(twins_left_out(result.model))
    return RoundInfo(
        number=0, origin="fine-tuned", parent=parent.number,
        trained_frames=trained_on.frames, trained_regions=trained_on.regions,
        held_out=result.held_out_tiles, f1=result.score.f1 if result.score else None,
        parent_f1=result.parent_score.f1 if result.parent_score else None,
        threshold=result.model.card.threshold, improved=result.improved, seconds=round(result.seconds, 1),
        unreviewed_frames=sorted(frame_number(name) for name in names), unreviewed_asked=asked,
        unreviewed_unsure=unsure, edited_left_out=trained_on.edited if asked else [],
        edited_not_accepted=[f for f in trained_on.edited if f not in trained_on.edited_in_regions],
        edited_in_regions=list(trained_on.edited_in_regions), edited_where_unknown=list(trained_on.where_unknown),
    )


def twins_left_out(model: DetectorModel) -> set[int]:
    """The frames the round that made ``model`` left out as twins of others (its card's ``identical_frames``,
    named by :func:`frame_name`); none for any other model."""
    record = model.card.training.get("fine_tuned") or {}
    return {frame_number(name) for name in record.get("identical_frames", {})
            if name.startswith("frame ") and name.removeprefix("frame ").isdigit()}


def unreviewed_text(info: RoundInfo) -> str:
    """Which unreviewed frames a round also learned from, of how many asked, and why fewer ("" for a round that
    asked none)."""
    return unreviewed_note([frame_name(f) for f in info.unreviewed_frames], info.unreviewed_asked,
                           info.unreviewed_unsure, len(info.edited_left_out))


def unlearned_edits_count(info: RoundInfo) -> int:
    """How many edited frames' edits ``info``'s round did not learn (the rounds tables' "3e not learned")."""
    return len(info.edited_not_accepted) + len(info.edited_in_regions)


def unlearned_edits_text(info: RoundInfo) -> str:
    """Which frames the user had edited without the round learning the edits, said after the round's name
    ("" when it learned them all, and for rounds recorded before this was): the Fine-tune button takes only
    what was accepted, so a user who deleted false points and pressed it without accepting believed otherwise."""
    known = [f for f in info.edited_in_regions if f not in info.edited_where_unknown]
    unknown = [f for f in info.edited_in_regions if f in info.edited_where_unknown]
    # Where the project did not know that a frame's edits reach outside its regions, they may all lie inside
    # (learned): "any edits" of it, not "the edits", which told such a user the round had missed them.
    parts = [(what, frames) for what, frames in (("the edits of {} (not accepted)", info.edited_not_accepted),
                                                 ("the edits of {} outside {} accepted regions", known),
                                                 ("any edits of {} outside {} accepted regions", unknown)) if frames]
    if not parts:
        return ""
    said = [what.format(_frames_named(frames, True), "its" if len(frames) == 1 else "their") for what, frames in parts]
    # A second "the edits of" reads "those of", as it always did.
    said = [said[0]] + [s.replace("the edits of", "those of", 1) for s in said[1:]]
    them = "it" if unlearned_edits_count(info) == 1 else "them"
    return f"did not learn {' nor '.join(said)}: accept {them} (or regions around the edits) to teach a round"


def frame_name(frame: int) -> str:
    """A project frame's name in a round: it picks the frame's held-out tiles, so it never changes."""
    return f"frame {frame}"


def frame_number(name: str) -> int:
    """The frame :func:`frame_name` named."""
    return int(name.removeprefix("frame "))


def run_round(
    project: Project,
    stack,
    config: TrainConfig = FINE_TUNE,
    device: str = "auto",
    progress: Callable[[dict], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> RoundOutcome:
    """Fine-tune the project's current round on everything reviewed, into a workspace.

    On error or cancel the workspace is removed and the project is as it was.
    """
    trained_on = TrainedOn.now(project)
    parent, base, examples = prepare_round(project, stack)
    config = retry_seed(project, parent, config)
    workspace = project.new_workspace()
    try:
        unlabelled = unlabelled_frames(project, stack, examples[0].scale, config.pseudo_choice) if examples else None
        result = fine_tune(base, examples, config, device, progress=progress, cancel=cancel, unlabelled=unlabelled)
        save_model(result.model, workspace / "model")
        info = round_info(parent, result, trained_on)
    except BaseException:
        project.discard_workspace(workspace)
        raise
    return RoundOutcome(workspace, info, result)


def commit(project: Project, outcome: RoundOutcome) -> RoundInfo:
    """Publish a finished round; it becomes the one in use only if it beat its parent on held-out
    particles. An unscored round (nothing held out, or no particle in what was) is kept, not used:
    nothing says it is better, and a round trained on a frame accepted empty would find nothing."""
    return project.commit_round(outcome.workspace, outcome.info, make_current=outcome.info.improved is True)


def commit_unless_cancelled(project: Project, outcome: RoundOutcome, cancel: Callable[[], bool]) -> RoundInfo:
    """:func:`commit`, unless ``cancel()`` came too late for the round to notice: then its workspace is
    dropped and TrainingCancelled raised, leaving the project as it was."""
    if cancel():
        project.discard_workspace(outcome.workspace)
        raise TrainingCancelled("fine-tuning cancelled")
    return commit(project, outcome)


def with_time_waited(outcome: RoundOutcome, started: float) -> RoundOutcome:
    """``outcome``, a remote round's recording the seconds waited for it since ``started`` (RoundInfo.waited): its
    own "seconds" are the worker's, and a dock opened again said "finished in 3 s" of a round its end had said was
    waited for 19 s. A round trained here is left as it is."""
    if trained_on_worker(outcome.result):
        outcome.info = replace(outcome.info, waited=round(time.monotonic() - started, 1))
    return outcome


def trained_on_worker(result: object) -> bool:
    """Whether ``result``'s model was trained on a dask worker (learning.remote names it in the model's card)."""
    training = getattr(getattr(getattr(result, "model", None), "card", None), "training", None)
    record = training.get("fine_tuned") if isinstance(training, dict) else None
    return isinstance(record, dict) and bool(record.get("worker"))


def run_and_commit_cancellably(project: Project, run: Callable[[], RoundOutcome], cancel: Callable[[], bool],
                               report: Callable[[dict], None]) -> RoundInfo:
    """A docks' round: ``run()`` trains it into a workspace and :func:`commit_unless_cancelled` adds it. While
    another window or program holds the project, ``report`` hears ``{"phase": "waiting"}`` and ``cancel()``
    ends the wait within a poll of the lock (not after its timeout); cancelled anywhere, TrainingCancelled is
    raised and the project is as it was."""
    try:
        with waiting_cancellably(cancel, lambda: report({"phase": "waiting"})):
            started = time.monotonic()
            outcome = with_time_waited(run(), started)
            try:
                return commit_unless_cancelled(project, outcome, cancel)
            except WaitCancelled:  # cancelled while the commit waited: the finished round goes too
                project.discard_workspace(outcome.workspace)
                raise
    except WaitCancelled:
        raise TrainingCancelled("fine-tuning cancelled") from None
