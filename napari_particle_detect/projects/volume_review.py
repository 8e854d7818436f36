"""Reviewing volumes: the edits, acceptances, undo and review-next of the volume dock, without Qt.

Every call is on disk when it returns (the Project's atomic writes under its lock). Accepting keeps
the table it replaced, so Undo takes the acceptance back and restores the points as they were; after
a restart (no such memory) Undo still takes back the newest acceptance, points as saved. Detect over
a volume the user edited since its last detection keeps those edits one Undo away too.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ..errors import ParticleDetectError
from ..files.io import atomic_write_text
from .project import Project, Region
from .project_state import ProjectState, image_mismatch, make_region
from ..files.tables import ORIGIN_COLUMNS, normalise_table, same_centres
from ..detection.choices import applied_threshold
from ..detection.sizing import with_advice
from ..detection.volume_detection import (RINGS_NOTE, VolumeOptions, VolumeSizing, detect_volume, volume_table,
                                          xy_doubt)
from ..learning.volume_rounds import SETTINGS_FILE, VolumeProposal, rank_volume_areas, read_settings
from .review import HESITATION_WIDTH
from .size_estimate import RememberedEstimate, remember_estimate, remembered_estimate

EXPORT_COLUMNS = ["frame", "z", "y", "x", "score"]
# The candidates scored just under the threshold at the last Detect: not shown, but review-next
# weighs them as the 2D dock weighs its hidden points (a particle the model nearly found).
HIDDEN_FILE = "volume_hidden_candidates.csv"
HIDDEN_COLUMNS = ["frame", "z", "y", "x", "score"]
SIZING_ADVICE = "type the diameter or the voxel size if known"


def check_recorded_volume_shape(folder: Path, shape: tuple[int, int, int], name: str = "this image") -> None:
    """Refuse, in one line, a volume of another shape (z, y, x voxels) than the one ``folder``'s project last
    detected in (its volume.json's volume_shape). Checked before the project is opened: a project made before
    projects recorded their volume's depth and fingerprint knows (height, width) only, took a volume of another
    depth unsaid (its accepted boxes then lay at other slices) and recorded that volume's fingerprint, refusing its
    own image from then on."""
    # Only the folder is read: no Project.open, which would record the fingerprint of the volume refused here.
    # A volume.json cut short (by a copy or a sync) only skips this check, said as a warning: refused, it locked
    # the whole review out although the dock's next Detect writes it again.
    try:
        settings = (read_settings(Project(folder, ProjectState()), report_damaged=True)
                    if (folder / SETTINGS_FILE).is_file() else None)
    except ParticleDetectError as exc:
        raise ParticleDetectError(f"{exc}; move it aside to open the project: its centres, accepted volumes and boxes "
                                  "and rounds are kept apart from it, and the next Detect writes the sizes it held "
                                  "again") from None
    if settings is None or settings.volume_shape is None:
        return
    mismatch = image_mismatch(ProjectState(frame_shape=settings.volume_shape), None, shape, None, name)
    if mismatch is not None:
        raise ParticleDetectError(f"{folder}: {mismatch} (its volume.json); open it with that image, or move the "
                                  "project folder aside, then pick another image and this one again in the "
                                  "Volume detection (3D) dock (a new project starts)")


def sizing_doubt(*reasons: str) -> str:
    """The low-confidence note of a volume's size ('' where no reason is given), as the command line words it."""
    reasons = tuple(dict.fromkeys(filter(None, reasons)))  # a reused estimate's z doubt is read again by its Detect
    return f"low confidence: {with_advice('; '.join(reasons), SIZING_ADVICE)}" if reasons else ""


def detect_for_review(volume: np.ndarray, model, options: VolumeOptions, frame: int, name: str = "volume",
                      sizing: VolumeSizing | None = None) -> tuple[pd.DataFrame, pd.DataFrame, VolumeSizing]:
    """One volume's centres above the threshold (shown), those within HESITATION_WIDTH under it
    (hidden), both as ``frame,z,y,x,score`` tables, and the sizing used. Decoding lower keeps the
    shown set as it is: a weaker peak never suppresses a stronger one."""
    threshold = applied_threshold(model.card, options.threshold)
    floor = max(float(model.card.candidate_floor or 0.0), threshold - HESITATION_WIDTH)
    centres, scores, sizing = detect_volume(volume, model, replace(options, threshold=floor), name, sizing)
    shown = scores > threshold
    # No *_um columns: the project keeps voxels, and its export adds micrometres where they are known.
    return (volume_table(frame, centres[shown], scores[shown], None),
            volume_table(frame, centres[~shown], scores[~shown], None), sizing)


@dataclass
class Acceptance:
    frame: int
    region: Region | None  # None: the whole volume
    before: pd.DataFrame | None  # the volume's table before (None: not known, e.g. after a restart)


@dataclass
class Redetection:
    """Detect replaced a volume the user had edited since it was last detected; ``before`` holds the edits."""

    frame: int
    before: pd.DataFrame


@dataclass
class VolumeReview:
    """One volume image's review: its project, and this session's acceptances and detections over the
    user's edits (newest last, for undo). Which volumes hold edits since their last detection is the
    project's (Project.edited_frames), so a later session's Detect keeps them one Undo away too."""

    project: Project
    shape: tuple[int, int, int]  # z, y, x voxels of one volume
    steps: list[Acceptance | Redetection] = field(default_factory=list)
    passed: set = field(default_factory=set)  # proposals already shown (review-next moves on)

    def table(self, frame: int) -> pd.DataFrame:
        saved = self.project.load_frame(frame)
        if saved is None:
            return normalise_table(pd.DataFrame({"frame": [], "z": [], "y": [], "x": []}), frame)
        return saved

    def save_edits(self, frame: int, table: pd.DataFrame) -> bool:
        """The user's edit of one volume's centres, saved at once (an accepted volume stays accepted).
        Returns whether the volume changed."""
        _check_zyx(table, f"volume {frame}")
        saved = self.project.load_frame(frame)
        if saved is not None and same_centres(saved, normalise_table(table, frame), atol=1e-4):
            return False
        self.project.mark_edited(frame)  # before the edit is written: a session closed after it still knows
        self.project.save_frame(frame, table)
        return True

    def set_detections(self, table: pd.DataFrame, frames,
                       shown: bool = True) -> tuple[pd.DataFrame, list[int], list[int]]:
        """Save Detect's centres (``frame,z,y,x,score``) of ``frames`` (a blank volume skipped is not
        among them), except where the user reviewed: an accepted volume keeps its centres, an accepted
        box the centres inside it. A volume the user edited since it was last detected (in this session
        or an earlier one) keeps those edits one :meth:`undo` away, as the 2D dock keeps them
        (annotation.set_detections). ``shown`` False: the detection ended after its image left the dock,
        so an edited volume keeps its edits instead: their Undo would stay in this review, which no dock
        shows again. Returns every saved volume's table, the volumes whose edits were replaced and those
        whose edits were kept. A volume with accepted boxes keeps the record of its edits (Project.clear_edited's
        ``inside``), as the 2D dock's does: the edits inside the boxes stay, and un-accepting a box must find the
        points deleted there again."""
        replaced, kept, marked = [], [], set(self.project.edited_frames)
        marked_inside = set(self.project.edited_inside_frames)
        for frame in sorted(int(f) for f in frames):
            saved = self.project.load_frame(frame)
            if self.project.is_reviewed(frame) and saved is not None:
                continue
            found = table[table["frame"] == frame].assign(source="model")
            boxes = self.project.regions(frame)
            if boxes and saved is not None:
                inside = lambda t: np.any([r.contains(t["y"], t["x"], t["z"]) for r in boxes], axis=0)  # noqa: E731
                found = pd.concat([saved[inside(saved)], found[~inside(found)]], ignore_index=True)
            # Points placed by hand are edits too in a project saved before it recorded which volumes hold edits.
            edited = saved is not None and (frame in marked or (saved["source"] == "added").any())
            if edited and not same_centres(saved, normalise_table(found, frame), atol=1e-4):
                if not shown:  # left as edited: a Detect there, shown, replaces them one Undo away
                    kept.append(frame)
                    continue
                self.steps.append(Redetection(frame, saved))
                replaced.append(frame)
            self.project.save_frame(frame, found)
            # Only once replaced: a detection that could not be saved leaves the volume's edits marked. The table
            # as detected is not kept here, so edits are counted inside the boxes wherever there are boxes: the
            # 2D dock's rule for edits of an earlier session.
            edits_in_boxes = bool(boxes) and saved is not None and (edited or frame in marked_inside)
            self.project.clear_edited([frame], inside=edits_in_boxes)
        return self.project.load_all(), replaced, kept

    def accept_volume(self, frame: int, table: pd.DataFrame) -> pd.DataFrame:
        """The volume's centres are right: all of them become training data."""
        _check_zyx(table, f"volume {frame}")
        before = self.project.load_frame(frame)
        saved = self.project.accept_frame(frame, table)
        self.steps.append(Acceptance(frame, None, before))
        return saved

    def accept_box(self, frame: int, box: tuple[float, float, float, float], z_range: tuple[float, float],
                   table: pd.DataFrame) -> Region:
        """The centres inside the 3D box (y0, x0, y1, x1 over slices z0..z1) are right."""
        _check_zyx(table, f"volume {frame}")
        z0, z1 = max(-0.5, float(z_range[0])), min(self.shape[0] - 0.5, float(z_range[1]))
        if not z0 < z1:
            raise ParticleDetectError(f"volume {frame}: the box's z range {z_range[0]:g}-{z_range[1]:g} is empty "
                                      f"within the volume's {self.shape[0]} slices")
        y0, x0, y1, x1 = box
        clipped = (max(-0.5, y0), max(-0.5, x0), min(self.shape[1] - 0.5, y1), min(self.shape[2] - 0.5, x1))
        region = make_region(frame, clipped, source=f"volume {frame}", z_range=(z0, z1))
        before = self.project.load_frame(frame)
        self.project.accept_region(frame, region, table)
        self.steps.append(Acceptance(frame, region, before))
        return region

    def undo(self) -> Acceptance | Redetection | None:
        """Take back the newest step: an acceptance (un-accepted, the points restored as they were
        before it) or a Detect over the user's edits (the edits back). None when there is nothing.
        After a restart (no steps remembered) the newest acceptance, points as saved."""
        if self.steps:
            last = self.steps.pop()
        else:
            areas = self.project.reviewed_areas()
            if not areas:
                return None
            last = Acceptance(areas[-1][0], areas[-1][1], None)
        if isinstance(last, Redetection):
            self.project.mark_edited(last.frame)  # edits again: the next Detect keeps them one Undo away too
            self.project.save_frame(last.frame, last.before)
            return last
        if last.region is None:
            self.project.unaccept_frame(last.frame)
        else:
            self.project.unaccept_region(last.frame, last.region)
        if last.before is not None:
            self.project.save_frame(last.frame, last.before)
        return last

    def remember_hidden(self, table: pd.DataFrame) -> Path:
        """The candidates Detect found just under the threshold (``frame,z,y,x,score``), kept for
        review-next in place of the last Detect's."""
        out = table[HIDDEN_COLUMNS] if len(table) else pd.DataFrame(columns=HIDDEN_COLUMNS)
        return self.project.save_side_file(HIDDEN_FILE, out.to_csv(index=False, float_format="%.4f"))

    def remember_sizing(self, sizing: VolumeSizing) -> None:
        """Keep how sure a Detect's estimated size was: a reopened project, and the Detects that reuse its diameter
        (sized as given then), still say why it is doubtful. A size the user gave wholly is no estimate."""
        if sizing.source != "given":
            remember_estimate(self.project, RememberedEstimate(float(sizing.diameter[1]), RINGS_NOTE in sizing.reason,
                                                               sizing.confident, sizing.reason))

    def kept_doubt(self, diameter_xy: float, z_by_voxel_size: bool) -> str:
        """Why the estimate that gave ``diameter_xy`` (y voxels) was of low confidence; '' where it was sure, or
        where no estimate gave it. ``z_by_voxel_size``: a voxel size gives z now, and the estimate's doubt of z,
        typed away as its advice says, is no longer said."""
        kept = remembered_estimate(self.project, diameter_xy)
        if kept is None or kept.confident:
            return ""
        return xy_doubt(kept.reason) if z_by_voxel_size else kept.reason

    def hidden(self) -> pd.DataFrame:
        """The hidden candidates of the last Detect (an empty table before any)."""
        path = self.project.folder / HIDDEN_FILE
        if not path.exists():
            return pd.DataFrame(columns=HIDDEN_COLUMNS)
        try:
            table = pd.read_csv(path)
            values = table[HIDDEN_COLUMNS].to_numpy(float)
        except (ValueError, KeyError, pd.errors.ParserError) as exc:
            raise ParticleDetectError(f"{path}: unreadable ({exc}); press Detect to write it again") from exc
        if not np.all(np.isfinite(values)):
            raise ParticleDetectError(f"{path}: non-finite values; press Detect to write it again")
        return table[HIDDEN_COLUMNS]

    def ranked_tables(self) -> dict[int, pd.DataFrame]:
        """Per saved volume, what review-next ranks: its saved centres and the hidden candidates
        farther than half a particle from all of them (one the user placed a point on is settled)."""
        settings = read_settings(self.project, report_damaged=True)  # at the default sizes, said
        diameter = np.array(settings.diameter if settings else (5.0, 10.0, 10.0), float)
        hidden = self.hidden()
        out = {}
        for frame in self.project.saved_frames():
            saved = self.project.load_frame(frame)
            if saved is None:
                continue
            extra = hidden[hidden["frame"] == frame]
            if len(extra) and len(saved):
                near = cKDTree(saved[["z", "y", "x"]].to_numpy(float) / diameter).query(
                    extra[["z", "y", "x"]].to_numpy(float) / diameter, distance_upper_bound=0.5)[0]
                extra = extra[~np.isfinite(near)]
            out[frame] = pd.concat([saved, extra.assign(source="model")], ignore_index=True) if len(extra) else saved
        return out

    def next_area(self, threshold: float, boxes: bool = True) -> VolumeProposal | None:
        """The next unreviewed volume or 3D box where the model hesitates most (not shown before),
        weighing the hidden candidates just under the threshold as well as the centres shown. Every one shown
        and passed over, none accepted: again from the most hesitant, as the Particle detection dock does (they
        were never proposed again, and the end said every hesitant volume was reviewed). None: none to propose."""
        ranked = rank_volume_areas(self.project, self.shape, threshold, boxes, self.ranked_tables())
        fresh = [p for p in ranked if (p.frame, p.box) not in self.passed]
        if not fresh:
            self.passed.clear()
            fresh = ranked
        if not fresh:
            return None
        self.passed.add((fresh[0].frame, fresh[0].box))
        return fresh[0]

    def export(self, path: str | Path, tables: pd.DataFrame | None = None,
               origin: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> Path:
        """Every saved volume's centres to one CSV: frame,z,y,x,score (voxels), z_um,y_um,x_um beside them
        when the voxel size is known in micrometres, then source; ``trackpy.link(df, r, pos_columns=["z","y","x"])`` reads it.
        ``origin``: where the image's voxel (0, 0, 0) lies, in voxels (see :func:`export_volume_table`)."""
        table = self.project.load_all() if tables is None else tables
        try:
            settings = read_settings(self.project)  # strict: the micrometre columns come from it
        except ParticleDetectError as exc:
            raise ParticleDetectError(f"{exc}; press Detect to write it again (centres it detects over your edits "
                                      "stay one Undo away), or move it aside to export in voxels only") from None
        return export_volume_table(table, path, settings.voxel_um if settings else None, origin)


def export_volume_table(table: pd.DataFrame, path: str | Path, voxel_size: tuple[float, float, float] | None,
                        origin: tuple[float, float, float] = (0.0, 0.0, 0.0),
                        extras: pd.DataFrame | None = None) -> Path:
    """Write ``table`` (frame,z,y,x[,score,source]) as the volume CSV, atomically; ``voxel_size`` in
    micrometres adds z_um,y_um,x_um = (position + ``origin``) x voxel size. ``origin``: where the image's voxel
    (0, 0, 0) lies, in voxels (a napari layer's translate over its scale: a crop placed at its stage position),
    so the micrometres are where napari draws the centres, as the 2D export's are (files.tables.with_physical).
    ``extras``: more columns (a layer's measurements, track ids), row for row with ``table``, written last."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise ParticleDetectError(f"{path}: the export must end in .csv")
    if len(table) and "z" not in table.columns:
        raise ParticleDetectError(f"{path}: these centres have no z; export 2D centres from the Particle detection dock")
    out = normalise_table(table if len(table) else pd.DataFrame({"frame": [], "z": [], "y": [], "x": []}))
    order = out.sort_values(["frame", "z", "y", "x"], kind="stable").index
    out = out.loc[order].reset_index(drop=True)
    columns = list(EXPORT_COLUMNS)
    if voxel_size is not None:
        for axis, size, start in zip("zyx", voxel_size, origin):
            out[f"{axis}_um"] = (out[axis] + float(start)) * float(size)
        columns += ["z_um", "y_um", "x_um"]
        if any(origin):  # said, as no table of one particle (or one slice) could tell it from the voxel size
            for name, size, start in zip(ORIGIN_COLUMNS, voxel_size, origin):
                out[name] = float(start) * float(size)
            columns += list(ORIGIN_COLUMNS)
    out = out[columns + ["source"]]
    if extras is not None:  # sorted with their rows (kept apart, so none shadows a column of the table's)
        out = pd.concat([out, extras.reset_index(drop=True).loc[order].reset_index(drop=True)], axis=1)
    return atomic_write_text(path, out.to_csv(index=False, float_format="%.4f"))


def _check_zyx(table: pd.DataFrame, what: str) -> None:
    if "z" not in table.columns:
        raise ParticleDetectError(f"{what}: centres without z; a volume's centres are z, y, x")
    values = table[["z", "y", "x"]].to_numpy(float) if len(table) else np.zeros((0, 3))
    if not np.all(np.isfinite(values)):
        raise ParticleDetectError(f"{what}: centres must have finite z, y and x")
