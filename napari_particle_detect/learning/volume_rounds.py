"""A review project of volumes: each frame is one ZYX volume (a time point), its centres saved with
their z, accepted whole or as 3D boxes (a Region with a z range); its next 3D model round.

The Project (projects/project.py) keeps frames, regions, rounds and locks as for 2D images; this module adds
what a volume needs beside it: the particle size per axis and the voxel size (``volume.json``,
written atomically under the project lock), the reviewed areas as examples on the 3D model's
working grid, the round (:mod:`volume_finetune`) and its commit (rounds.commit: in use only when it
beats its parent on the held-out tiles), and which volume or box to review next. No Qt here.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import rounds
from ..errors import ParticleDetectError
from ..files.axes import MICROMETRE
from ..projects.project import PROJECT_SUFFIX, Project, Region, RoundInfo, project_folder_for_image
from ..projects.project_state import FieldChecker
from ..projects.review import hesitation
from .training import Example
from .volume_finetune import VOLUME_FINE_TUNE, VolumeRoundConfig, fine_tune_volumes, volume_example
from ..detection.volume_resampling import normalise_volume, resample_volume, to_working, working_factors

SETTINGS_FILE = "volume.json"  # listed in project.SIDE_FILES, so a half-written one is tidied away
# A proposed box is this many particle diameters along every axis: a few dozen spheres.
BOX_DIAMETERS = 5.0


@dataclass(frozen=True)
class VolumeSettings:
    """What a volume project remembers besides the 2D settings: sizes per axis."""

    diameter: tuple[float, float, float]  # z, y, x voxels
    voxel_size: tuple[float, float, float] | None = None  # z, y, x, in voxel_unit
    volume_shape: tuple[int, int, int] | None = None  # z, y, x voxels of one volume
    # MICROMETRE, else not a length ("pixel": a file's uncalibrated spacing): the size still gives z's
    # diameter from xy's, but the export writes no micrometres from it.
    voxel_unit: str = MICROMETRE

    @property
    def voxel_um(self) -> tuple[float, float, float] | None:
        return self.voxel_size if self.voxel_unit == MICROMETRE else None


def as_volumes(data) -> np.ndarray:
    """(T, Z, Y, X) from one ZYX volume or a TZYX series (views, not copies)."""
    data = data if hasattr(data, "ndim") else np.asarray(data)
    if data.ndim == 3:
        return data[None]
    if data.ndim != 4:
        raise ParticleDetectError(f"a volume project needs ZYX or TZYX data, got {data.ndim} dimensions")
    return data


def volume_project_folder(image: str | Path) -> Path:
    """``IMAGE.volumes.particle-detect`` beside the image: its review as volumes never mixes with a
    review of the same file as 2D frames (``IMAGE.particle-detect``, the Particle detection dock's)."""
    image = Path(image)
    return project_folder_for_image(image.with_name(f"{image.stem}.volumes{image.suffix}"))


def open_volume_project(target: str | Path, volumes) -> Project:
    """The project of a ZYX/TZYX image (``target``: the image file, or a project folder): frames are
    its volumes, regions 3D boxes."""
    volumes = as_volumes(volumes)
    target = Path(target)
    image = None
    if not (target.suffix == PROJECT_SUFFIX or target.is_dir()):
        image, target = str(target), volume_project_folder(target)
    return Project.open(target, image=image, n_frames=volumes.shape[0], frame_shape=tuple(volumes.shape[1:]),
                        first_frame=volumes[0], folder_choosable=False)


def settings_path(project: Project) -> Path:
    return project.folder / SETTINGS_FILE


def read_settings(project: Project, report_damaged: bool = False) -> VolumeSettings | None:
    """The saved sizes (None until a detection saved them); a damaged file is one clear error. ``report_damaged``:
    for a caller that can go on at the default sizes, a file that does not decode (cut short by a copy or a sync) is
    reported in the project's problems instead, and read as none saved; the next Detect writes it anew."""
    path = settings_path(project)
    if path.is_symlink():
        raise ParticleDetectError(f"{path}: is a symbolic link; a project never reads or writes through links")
    if not path.exists():
        return None
    check = FieldChecker(path)
    try:
        data = check.mapping(json.loads(path.read_text("utf-8")), "volume settings")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        unreadable = f"{path}: unreadable volume settings ({str(exc)[:80]})"
        if not report_damaged or isinstance(exc, OSError):  # a disk's refusal is no damaged file
            raise ParticleDetectError(unreadable) from None
        project.report_problem(f"{unreadable}; the default particle sizes are used until a Detect writes "
                               "them again")
        return None

    def triple(key: str, optional: bool, whole: bool = False):
        value = data.get(key)
        if value is None and optional:
            return None
        value = check.array(value, key)
        if len(value) != 3:
            raise check.fail(key, "must be three numbers z, y, x")
        if whole:
            return tuple(check.integer(v, key, 1, 10**6) for v in value)
        return tuple(check.number(v, key, 0.0, 1e6, open_low=True) for v in value)

    unit = data.get("voxel_unit", MICROMETRE)  # projects from before units were kept: typed or scaled in micrometres
    if not isinstance(unit, str) or not unit or len(unit) > 40:
        raise check.fail("voxel_unit", "must be a unit's name")
    return VolumeSettings(triple("diameter", False), triple("voxel_size", True), triple("volume_shape", True, True),
                          unit)


def remember_settings(project: Project, settings: VolumeSettings) -> None:
    """Save the sizes per axis (atomically, under the project lock)."""
    check = FieldChecker(project.folder)
    for value in settings.diameter + (settings.voxel_size or ()):
        check.number(value, "volume size", 0.0, 1e6, open_low=True)
    data = {"diameter": list(map(float, settings.diameter)),
            "voxel_size": list(map(float, settings.voxel_size)) if settings.voxel_size else None,
            "volume_shape": list(map(int, settings.volume_shape)) if settings.volume_shape else None,
            "voxel_unit": settings.voxel_unit}
    project.save_side_file(SETTINGS_FILE, json.dumps(data, indent=2))
    project.remember_detection(float(settings.diameter[1]), "bright")


def ensure_volume_round(project: Project, model_path: str | Path | None = None) -> RoundInfo:
    """Round 1 of a volume project: a copy of the shipped 3D model (or ``model_path``)."""
    if project.rounds:
        return project.current_round or project.rounds[-1]
    from ..models.registry import default_model_path
    from ..detection.volume_detection import DEFAULT_VOLUME_MODEL, load_volume_model

    source = Path(model_path) if model_path is not None else default_model_path(DEFAULT_VOLUME_MODEL)
    load_volume_model(source)  # a 2D model is refused before anything is copied
    return project.import_model(source, origin=f"shipped {DEFAULT_VOLUME_MODEL}" if model_path is None
                                else f"from {source}")


def region_box(region: Region, depth: int) -> np.ndarray:
    """A region's (z0, y0, x0, z1, y1, x1) edges in voxels; without a z range it spans all ``depth`` slices."""
    z0, z1 = region.z_range or (-0.5, depth - 0.5)
    return np.array([z0, region.y0, region.x0, z1, region.y1, region.x1], float)


def working_area(boxes: list[np.ndarray], shape: tuple[int, int, int], applied: np.ndarray) -> np.ndarray:
    """The working-grid voxels whose centres lie in any of ``boxes`` (edges in the volume's voxels)."""
    area = np.zeros(shape, bool)
    for box in boxes:
        lo = to_working(box[:3], applied)[0]
        hi = to_working(box[3:], applied)[0]
        area[tuple(slice(max(0, int(np.ceil(a))), max(0, int(np.ceil(b)))) for a, b in zip(lo, hi))] = True
    return area


def project_volume_examples(project: Project, volumes, diameter: tuple[float, float, float],
                            working_diameter: float,
                            voxel_size: tuple[float, float, float] | None = None) -> list[Example]:
    """Every reviewed volume, and every volume with reviewed boxes, on the working grid (one example
    each, named "volume T"); a volume with boxes teaches only inside them. Volumes that are not the ones the
    project reviewed (another count, depth or size, other voxels) are refused in one line first: their
    examples would put the reviewed centres on other voxels. So are particles under half a voxel along an
    axis (``voxel_size``: the one they were sized with, named in the refusal). Each volume is prepared as detect
    prepares it (dropped slices refilled, a hot line left out of the range), said once for the round in a warning
    as detect says it: done silently, the user never learnt the round trained on slices it made up."""
    from ..detection.volume_detection import Prepared

    refuse_subvoxel_sizes(project, diameter, voxel_size)
    volumes = as_volumes(volumes)
    rounds.check_round_image(project, volumes)
    whole = set(project.reviewed_frames)
    boxes: dict[int, list[Region] | None] = {}
    for frame, region in project.reviewed_areas():
        if frame in whole:
            boxes[frame] = None
        elif boxes.get(frame, []) is not None:
            boxes.setdefault(frame, []).append(region)
    factors = working_factors(diameter, working_diameter)
    examples, prepared = [], Prepared()
    for frame in sorted(boxes):
        table = project.load_frame(frame)
        if table is None:
            continue  # reported in project.problems
        if "z" not in table.columns:
            raise ParticleDetectError(f"{project.frame_path(frame)}: no z column; this project's frames are 2D")
        volume = prepared.training_volume(f"volume {frame} (reviewed)", np.asarray(volumes[frame]))
        # As detect prepares it: a hot line resampled first would squash the volume's contrast, unlike detect's.
        volume, applied = resample_volume(prepared.despike(volume, None), factors)
        area = None if boxes[frame] is None else working_area(
            [region_box(r, volumes.shape[1]) for r in boxes[frame]], volume.shape, applied)
        examples.append(volume_example(normalise_volume(volume), to_working(table[["z", "y", "x"]].to_numpy(float),
                                                                            applied), f"volume {frame}", area))
    prepared.say("the round's reviewed volumes")
    return examples


def refuse_subvoxel_sizes(project: Project, diameter: tuple[float, float, float],
                          voxel_size: tuple[float, float, float] | None) -> None:
    """A ParticleDetectError for saved sizes under half a voxel along an axis, before anything is resampled.
    Detect refuses them now, but a project detected before it did (or a hand-edited settings file) can hold
    them: a voxel size in mixed units made z 0.005 voxels, and the round enlarged every volume over a thousand
    times along z, running out of memory instead of saying why."""
    from ..detection.volume_detection import VolumeSizing, refuse_subvoxel

    try:
        refuse_subvoxel(VolumeSizing(tuple(diameter), "saved at the last Detect"), voxel_size,
                        str(settings_path(project)))
    except ParticleDetectError as exc:
        raise ParticleDetectError(f"{exc}, then Detect again so a round trains on sizes it can use") from None


def run_volume_round(project: Project, volumes, config: VolumeRoundConfig = VOLUME_FINE_TUNE, device: str = "cpu",
                     progress: Callable[[dict], None] | None = None,
                     cancel: Callable[[], bool] | None = None) -> rounds.RoundOutcome:
    """Fine-tune the project's current 3D round on everything reviewed, into a workspace (removed on
    error or cancel, leaving the project as it was)."""
    from ..models import load_model, save_model

    parent = project.current_round
    if parent is None:
        raise ParticleDetectError("run Detect first: there is no 3D model round to fine-tune yet")
    try:
        settings = read_settings(project)  # strict: a round trains at the sizes the last Detect found
    except ParticleDetectError as exc:  # the project opens over a damaged file: say how to get past it here too
        raise ParticleDetectError(f"{exc}; press Detect to write it again (centres it detects over your edits "
                                  "stay one Undo away), then fine-tune") from None
    if settings is None:
        raise ParticleDetectError("run Detect first, so the particle size of these volumes is known")
    if not project.reviewed_areas():
        raise ParticleDetectError("accept at least one corrected volume or 3D box before fine-tuning")
    base = load_model(project.round_path(parent.number), "cpu")
    if base.card.spatial_dims != 3:
        raise ParticleDetectError(f"{parent.name} is a 2D model; volumes need a 3D round")
    trained_on = rounds.TrainedOn.now(project)
    examples = project_volume_examples(project, volumes, settings.diameter, base.card.canonical_diameter,
                                       settings.voxel_size)
    config = rounds.retry_seed(project, parent, config)
    workspace = project.new_workspace()
    try:
        result = fine_tune_volumes(base, examples, config, device, progress=progress, cancel=cancel)
        save_model(result.model, workspace / "model")
        info = rounds.round_info(parent, result, trained_on)
    except BaseException:
        project.discard_workspace(workspace)
        raise
    return rounds.RoundOutcome(workspace, info, result)


def train_volume_round(project: Project, volumes, config: VolumeRoundConfig = VOLUME_FINE_TUNE, device: str = "cpu",
                       progress: Callable[[dict], None] | None = None, cancel: Callable[[], bool] | None = None,
                       ended: threading.Event | None = None) -> RoundInfo:
    """The dock's job: a round trained and recorded (in use only when it beat its parent); cancelled,
    the project is as it was. ``ended`` is set when it stops, whichever way. While another window or
    program holds the project, it says it waits, and Cancel ends the wait at once (not after the lock's
    timeout)."""
    stop = cancel or (lambda: False)
    report = progress or (lambda event: None)
    try:
        return rounds.run_and_commit_cancellably(
            project, lambda: run_volume_round(project, volumes, config, device, progress, stop), stop, report)
    finally:
        if ended is not None:
            ended.set()


# ---- what to review next --------------------------------------------------------------------------
@dataclass(frozen=True)
class VolumeProposal:
    """A volume (box None) or a 3D box of it (z0, y0, x0, z1, y1, x1 voxel edges) worth reviewing next."""

    frame: int
    box: tuple[float, float, float, float, float, float] | None
    uncertainty: float  # the summed hesitation (review.hesitation) of the centres inside
    hesitant: int

    @property
    def why(self) -> str:
        # z as the dock's slice boxes and its accept message give it: first and last slice (the edge after
        # the last named a slice past the volume's end).
        where = f"volume {self.frame}" if self.box is None else (
            f"volume {self.frame}, z {self.box[0] + 0.5:.0f}-{self.box[3] - 0.5:.0f}, "
            f"y {self.box[1] + 0.5:.0f}-{self.box[4] + 0.5:.0f}, x {self.box[2] + 0.5:.0f}-{self.box[5] + 0.5:.0f}")
        return f"{where}: {self.hesitant} centre{'s' if self.hesitant != 1 else ''} scored near the threshold"


def _reviewed(project: Project, frame: int, point: np.ndarray, depth: int) -> bool:
    for region in project.regions(frame):
        box = region_box(region, depth)
        if np.all((point >= box[:3]) & (point < box[3:])):
            return True
    return False


def rank_volume_areas(project: Project, shape: tuple[int, int, int], threshold: float, boxes: bool = True,
                      detections: dict[int, pd.DataFrame] | None = None) -> list[VolumeProposal]:
    """Unreviewed volumes (``boxes`` False) or 3D boxes of them about BOX_DIAMETERS particles wide,
    most hesitant first, from the saved detections (``detections``: frame -> table, default the
    project's saved frames). A box whose middle lies in an accepted box is left out."""
    settings = read_settings(project, report_damaged=True)  # proposals at the default sizes beat none
    diameter = np.array(settings.diameter if settings else (5.0, 10.0, 10.0), float)
    whole = set(project.reviewed_frames)
    if detections is None:
        detections = {f: project.load_frame(f) for f in project.saved_frames()}
    side = np.maximum(1, np.minimum(np.rint(BOX_DIAMETERS * diameter), shape)).astype(int)
    # Boxes per axis: what is left at the far end joins the last box, so no box is a sliver a few voxels wide.
    count = np.maximum(1, np.floor(np.array(shape) / side)).astype(int)
    out = []
    for frame, table in detections.items():
        if frame in whole or table is None or "z" not in table.columns:
            continue
        points = table[["z", "y", "x"]].to_numpy(float)
        h = hesitation(table["score"].to_numpy(float), threshold)
        if not boxes:
            out.append(VolumeProposal(frame, None, float(h.sum()), int((h > 0).sum())))
            continue
        cell = np.clip(np.floor((points + 0.5) / side).astype(int), 0, count - 1)
        for key in {tuple(c) for c in cell[h > 0]}:
            lo = np.array(key) * side - 0.5
            hi = np.where(np.array(key) == count - 1, np.array(shape) - 0.5, lo + side)
            if _reviewed(project, frame, (lo + hi) / 2, shape[0]):
                continue
            inside = np.all(cell == key, axis=1)
            out.append(VolumeProposal(frame, tuple(float(v) for v in (*lo, *hi)), float(h[inside].sum()),
                                      int((h[inside] > 0).sum())))
    return sorted(out, key=lambda p: (-p.uncertainty, p.frame, p.box or ()))
