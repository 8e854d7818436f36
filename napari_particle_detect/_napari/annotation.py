"""One image layer, its project on disk and its centres Points layer, kept in step.

What is shown is what is kept: network points scoring under the threshold are not in the Points
layer at all (napari versions differ in honouring a layer's ``shown`` mask: 0.9.2 ignores it for
2D points); they wait in :attr:`Annotation.hidden`, with the project, and come back into the layer
when the threshold moves down. So the canvas, Export, File > Save and Enter all see one set.
A frame detected by another round than the one in use keeps that round's threshold (:attr:`Annotation.held`)
until it is detected again: one model's scores are never compared with another model's threshold.

No Qt widgets here: napari layers and their events only. Edits made with napari's own point tools
arrive as ``layer.events.data`` and are written to the project at once (moves, which fire on every
mouse step, through ``schedule_save`` so a drag is written once it settles).

Another napari window (or program) may edit the same project: each frame is saved as this window's
edits applied to the file as it is then (projects/frame_merge.py), so neither loses the other's, and
the layer then shows both. A frame shown again (the slider moved onto it) is shown as saved, when
another window saved it since: one stat per frame, a read only when its file changed.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from napari.layers import Image, Points
from napari.layers.base import ActionType
from .notify import show_info

from ..errors import ParticleDetectError
from ..files.io import UnreadableFrameError
from ..detection.prediction import centres_table
from ..projects.frame_merge import FrameSave, FrameSnapshot, FrameStamp, merge_frames, their_changes
from ..projects.project import (
    Project, Region, project_folder_for_data, project_folder_for_image, waiting_as_a_worker,
)
from ..files.tables import empty_table, normalise_table, same_centres
from ..projects.acceptance import AcceptCheck, check_accept
from ..projects.project_state import pixel_fingerprint
from .history import FrameHistory
from .image_views import explain, layer_frames, layer_kind, layer_pixels, source_path
from .notify import report
from .layers import (
    ADDED_DEFAULTS, DOCK_OUTPUT_KEY, PastedPoints, marker_size, place_over_image, points_data, points_features,
    points_layer_kwargs, shown_mask, table_from_points,
)
from .regions import Box, RegionLayers, clip_box

METADATA_KEY = "napari_particle_detect"
# On an image layer without a file: the name it had when its project was first opened (see project_name).
PROJECT_NAME_KEY = "napari_particle_detect_project_name"


def image_path(layer: Image) -> Path | None:
    return source_path(layer)


def check_image_layer(layer: Image) -> None:
    if layer_kind(layer) != "ready":
        raise ParticleDetectError(explain(layer))


def placement(image: Image) -> dict:
    """Scale, translate and units that put another layer exactly over ``image``'s pixels."""
    kwargs = {"scale": image.scale[-image.ndim:], "translate": image.translate[-image.ndim:]}
    units = tuple(getattr(image, "units", ()) or ())
    if len(units) == image.ndim:
        kwargs["units"] = units
    return kwargs


def project_name(image: Image) -> str:
    """The name an image without a file keeps its project under: the layer's name when its project was first
    opened, kept in the layer's metadata. A renamed layer (a sample renamed 'run1') found a new, empty project
    under its new name, and its work looked lost."""
    first = image.metadata.get(PROJECT_NAME_KEY)
    if not isinstance(first, str):
        first = image.metadata[PROJECT_NAME_KEY] = image.name
    return first


def outside_stack_refusal(frames: np.ndarray, objects: tuple[str, str, str], adds: str, image_name: str,
                          n_frames: int) -> str:
    """The one line that says objects made at ``frames`` (one frame index each) outside a stack of ``n_frames``
    were taken off: ``objects`` is (one, many, how they are made), e.g. ("rod", "rods", "drawn"); ``adds``
    what moving the slider back lets the user add. The spheres and the rods and chains docks say it alike."""
    one, many, made = objects
    count = len(frames)
    indices = ", ".join(str(f) for f in sorted(set(np.asarray(frames, int).tolist())))
    return (f"{f'a {one}' if count == 1 else f'{count} {many}'} {made} at frame index {indices} not kept: "
            f"'{image_name}' has {n_frames} frames (index 0-{n_frames - 1}) and the slider stood outside them; move "
            f"it back onto the stack to add {adds}")


def frames_of(table: pd.DataFrame) -> dict[int, pd.DataFrame]:
    """``table``'s rows frame by frame, each normalised (files.tables.normalise_table): the whole normalised once,
    not each frame's rows apart, which a save of every frame did once a frame."""
    if not len(table):
        return {}
    normal = normalise_table(table)
    return {int(frame): rows.reset_index(drop=True) for frame, rows in normal.groupby("frame", sort=False)}


def pixels_key(data) -> tuple:
    """What tells an image's pixels from others cheaply: their shape and a fingerprint of the first, middle and
    last frames (the frames project_folder_for_data reads; a lazy stack reads a sparse grid of those three)."""
    shape = tuple(int(n) for n in np.shape(data))
    if len(shape) != 3:
        return shape, (_frame_fingerprint(data),)
    # Indexed inside the fingerprint's guard: a lazy stack reads a frame as soon as it is indexed.
    return shape, tuple(_frame_fingerprint(data, index) for index in sorted({0, shape[0] // 2, shape[0] - 1}))


# A damaged frame's fingerprint: its pixels cannot be read, and refusing the whole key made a stack whose middle or
# last frame is damaged impossible to work on in the dock (detect skips and names such a frame). The frames that are
# read still tell other pixels of the same size apart.
UNREADABLE_FINGERPRINT = "unreadable"


def _frame_fingerprint(data, index: int | None = None) -> str:
    try:
        return pixel_fingerprint(data if index is None else data[index])
    except UnreadableFrameError:
        return UNREADABLE_FINGERPRINT


def _weak(data) -> weakref.ref | None:
    try:
        return weakref.ref(data)
    except TypeError:  # an array type that cannot be weakly referenced: its pixels are compared each time
        return None


class Annotation:
    def __init__(self, viewer, image: Image, project: Project,
                 schedule_save: Callable[[Callable[[], None]], None] | None = None,
                 say_refused: Callable[[str], None] = show_info) -> None:
        check_image_layer(image)
        self.viewer = viewer
        self.image = image
        # The pixels its project was opened for: others put in the layer since (layer.data = ...) are not that
        # project's image.
        self._pixels_seen = pixels_key(layer_pixels(image))
        # The array they came in: while the layer holds it, they are not compared again (no frame read). Weakly
        # held, so an array the layer let go of is not kept in memory by it.
        self._pixels_array = _weak(layer_pixels(image))
        self.project = project
        self.threshold = 0.4
        # Frame -> threshold, for frames whose network points another round found (Project.held_thresholds).
        self.held: dict[int, float] = self._held_now()
        self.points: Points | None = None
        self._pasted: PastedPoints | None = None  # hears napari's paste into the centres layer
        self.heatmap_layer: Image | None = None
        self._heatmap: np.ndarray | None = None
        self._schedule_save = schedule_save or (lambda save: save())
        self._say_refused = say_refused  # an edit not kept in the layer, and why, in one line
        self._quiet = False
        # Each frame as this window last read or wrote it, and its file's stamp then: the base of a merge
        # with what another window saved since (a frame in neither: it had no file).
        self._on_disk: dict[int, pd.DataFrame] = {}
        self._stamps: dict[int, FrameStamp] = {}
        self._frame_shown: int | None = None  # the frame last checked against the disk on a slider move
        # Network points under the threshold, of every frame: kept (and saved) but not in the layer.
        self.hidden: pd.DataFrame = empty_table()
        # Each accepted frame's table as it was before its last acceptance (all points, hidden ones
        # included), so an accidental Enter can be taken back; this session only.
        self._before_accept: dict[int, pd.DataFrame] = {}
        self._touched: set[int] = set()  # frames edited since they were last compared with the disk
        # False once the dock gave up on edits it could not save (the image or the dock going): later
        # flushes (detach, close, switching images) neither raise nor say it again.
        self.saving = True
        # The points layer went with edits that could not be saved (said when it went).
        self.edits_lost = False
        # Frames the user edited in this session since they were last detected, each with its table as
        # detected (None: the frame already held an earlier session's edits, so that table is not known).
        # The project keeps which frames hold edits across sessions (Project.edited_frames).
        self._detected: dict[int, pd.DataFrame | None] = {}
        self.replaced_edits: list[int] = []  # frames the last set_detections replaced edits of
        self.history = FrameHistory()
        # One dict, shared with the region layers (made later, on demand): updated in place when the image's pixel
        # size or offset changes, so a layer made after that is placed like the image too.
        self._region_placement = placement(image)
        self.regions = RegionLayers(viewer, image, self._region_placement, on_deleted=self._regions_deleted)
        # What the dock last said about this image's particle size ("estimated: 6.0 px").
        self.estimate = ""
        self.estimate_warning = ""  # and why not to trust it, when the estimate is a guess
        self.changed_callbacks: list[Callable[[], None]] = []
        viewer.layers.events.removed.connect(self._on_layer_removed)
        viewer.dims.events.current_step.connect(self._on_frame_moved)
        for event in self._placement_events():
            event.connect(self._follow_placement)
        image.events.name.connect(self._follow_name)

    @classmethod
    def attach(cls, viewer, image: Image, project: str | Path | None = None, **kwargs) -> "Annotation":
        """Open the image's project (beside its file, or under the user's home for unsaved images)."""
        check_image_layer(image)
        path = image_path(image)
        if project is None:
            # Beside the file (or beside the folder a stack was read from), else under the user's home.
            if path is not None:
                project = project_folder_for_image(path)
            else:
                project = project_folder_for_data(project_name(image), layer_pixels(image))

        project = Project.open(project, image=str(path) if path else image.name, **layer_frames(image))
        return cls(viewer, image, project, **kwargs)

    def restore(self) -> None:
        """Bring back the centres and the accepted regions saved in the project, if there are any.

        The dock (set to this image a moment before) said "centres layer closed" while the layer was still
        to come: a layer brought back here is told to it (reopened dock, image, viewer, or the image
        picked again), as any other change of the centres."""
        brought_back = False
        if self.project.saved_frames() and (self.points is None or self.points not in self.viewer.layers):
            self.ensure_points_layer()
            brought_back = True
        self.regions.show_accepted(self.project.regions())
        self.activate_points()
        if brought_back:
            self._changed()

    def activate_points(self) -> None:
        """Make the centres layer the active one, so the point keys (P, S, Delete) act on it."""
        if self.points is not None and self.points in self.viewer.layers:
            self.viewer.layers.selection.active = self.points

    def close(self) -> None:
        self.flush()
        self.viewer.layers.events.removed.disconnect(self._on_layer_removed)
        self.viewer.dims.events.current_step.disconnect(self._on_frame_moved)
        for event in self._placement_events():
            event.disconnect(self._follow_placement)
        self.image.events.name.disconnect(self._follow_name)

    def detach(self) -> list[str]:
        """The image layer is gone: take its centres, heatmap and region layers with it (the centres and
        regions are saved in the project and come back when the image is opened again; no project keeps the
        heatmap: Detect with the heatmap shown draws it again). Returns the names removed."""
        self.close()
        removed = []
        for layer in (self.points, self.heatmap_layer, self.regions.draft, self.regions.accepted):
            if layer is not None and layer in self.viewer.layers:
                removed.append(layer.name)
                self.viewer.layers.remove(layer)
        self.points = self.heatmap_layer = None
        self.regions.draft = self.regions.accepted = None
        return removed

    # ---- frames ----------------------------------------------------------------------------------
    @property
    def is_stack(self) -> bool:
        return self.image.ndim == 3

    @property
    def n_frames(self) -> int:
        return self.image.data.shape[0] if self.is_stack else 1

    def _frame_axis(self) -> int:
        return self.viewer.dims.ndim - self.image.ndim

    def _slider_frame(self) -> int:
        """The stack's frame index at the slider, which may lie outside the stack (a longer one set it there)."""
        data_point = self.image.world_to_data(self.viewer.dims.point[self._frame_axis():])
        return round(float(data_point[0]))

    def current_frame(self) -> int:
        """The frame the dock describes: the slider's, or the stack's nearest one where the slider stands
        outside it (then napari draws none of the stack: :meth:`frame_off_screen` says so)."""
        if not self.is_stack:
            return 0
        return int(np.clip(self._slider_frame(), 0, self.n_frames - 1))

    def frame_off_screen(self) -> str | None:
        """Why no frame of this stack is on screen, in one line: the slider stands past its last frame (or
        before its first); None when :meth:`current_frame` is the frame drawn."""
        if not self.is_stack:
            return None
        frame = self._slider_frame()
        if 0 <= frame < self.n_frames:
            return None
        where = "past '{}''s last frame" if frame >= self.n_frames else "before '{}''s first frame"
        return (f"the slider is {where.format(self.image.name)} ({self.n_frames} frames), so none of it is "
                "drawn: move it back, or pick the image again in the dock")

    def pixels_replaced(self) -> str | None:
        """Why this image cannot be detected nor accepted: its layer got other pixels (layer.data = ...) since its
        project was opened for the ones it had. Of another size, frames and centres would not fit them; of the same
        size, the centres found on the old pixels were written (and trained on) as the new ones', a file's project
        given centres of pixels that are not the file's. None while the pixels are those it had."""
        data = layer_pixels(self.image)
        if self._pixels_array is not None and self._pixels_array() is data:
            return None
        seen = pixels_key(data)
        if seen == self._pixels_seen:
            return None
        was, now = (" x ".join(str(n) for n in key[0]) for key in (self._pixels_seen, seen))
        other = (f"pixels of another size ({now}, was {was})" if seen[0] != self._pixels_seen[0]
                 else f"other pixels of the same size ({now})")
        return (f"'{self.image.name}' now holds {other}; its centres, kept in its project {self.project.folder}, "
                "are those of the pixels it had, so nothing is detected or accepted on the new ones: add the new "
                "pixels as an image layer of their own to detect them (viewer.add_image in napari's console, or "
                "open their file), or put back the pixels it had")

    def _refuse_replaced(self) -> None:
        replaced = self.pixels_replaced()
        if replaced is not None:
            raise ParticleDetectError(replaced)

    def _refuse_off_screen(self) -> None:
        """Nothing is accepted, undone or un-accepted unseen: the slider past this stack showed another image
        (or a black canvas) while a frame of this one was acted on."""
        unseen = self.frame_off_screen()
        if unseen is not None:
            raise ParticleDetectError(unseen)

    def bring_into_view(self) -> None:
        """Move the frame slider onto this stack when it stands outside it (a longer stack set it there):
        the frame the dock describes is then the one drawn."""
        if self.frame_off_screen() is not None:
            self.go_to_frame(self.current_frame())

    def go_to_frame(self, frame: int) -> None:
        if not self.is_stack:
            return
        frame = int(np.clip(frame, 0, self.n_frames - 1))
        world = self.image.data_to_world([frame, 0, 0])
        self.viewer.dims.set_point(self._frame_axis(), float(world[0]))

    # ---- following the image ---------------------------------------------------------------------
    def _placement_events(self) -> list:
        return [self.image.events.scale, self.image.events.translate, self.image.events.units]

    def _follow_placement(self, event=None) -> None:
        """The image's pixel size, offset or units changed: its centres, regions and heatmap move with it (they
        stayed where they were, spread over twice the image after a pixel size of 0.5 was set)."""
        self._region_placement.update(placement(self.image))
        for layer in (self.points, self.regions.draft, self.regions.accepted):
            if layer is not None and layer in self.viewer.layers:
                for key, value in self._region_placement.items():
                    setattr(layer, key, value)
        if self.heatmap_layer is not None and self.heatmap_layer in self.viewer.layers and self._heatmap is not None:
            self.heatmap_layer.scale, self.heatmap_layer.translate = self._heatmap_placement(self._heatmap.shape[-2:])
            if "units" in self._region_placement:
                self.heatmap_layer.units = self._region_placement["units"]

    def _follow_name(self, event=None) -> None:
        """The image layer was renamed: its centres, heatmap and region layers take the new name with them."""
        old = self.regions.label
        self.regions.label = self.image.name
        for layer in (self.points, self.heatmap_layer, self.regions.draft, self.regions.accepted):
            if layer is not None and layer in self.viewer.layers and layer.name.startswith(f"{old} "):
                layer.name = self.image.name + layer.name[len(old):]

    # ---- the Points layer ------------------------------------------------------------------------
    @property
    def points_name(self) -> str:
        return f"{self.image.name} centres"

    def ensure_points_layer(self) -> Points:
        """The centres layer, re-created from disk if it does not exist (or the user deleted it)."""
        if self.points is not None and self.points in self.viewer.layers:
            return self.points
        stamps = self.project.frame_stamps()  # before reading: a save in between reads as a change later
        table = self.project.load_all()
        shown = self._split(table)
        kwargs = points_layer_kwargs(
            shown, self.points_name, size=self.project.diameter, **placement(self.image),
            metadata={METADATA_KEY: {"project": str(self.project.folder)}},
        )
        self.points = self.viewer.add_points(points_data(shown, self.image.ndim), ndim=self.image.ndim, **kwargs)
        place_over_image(self.viewer, self.points, self.image)
        self.points.events.data.connect(self._on_data)
        self._pasted = PastedPoints(self.points, self._on_pasted)
        loaded = frames_of(table)
        for frame in set(loaded) | set(self._on_disk):  # a layer made again: what others saved meanwhile
            if stamps.get(frame) != self._stamps.get(frame):
                self._rebase(frame, self._on_disk.get(frame, empty_table()), loaded.get(frame, empty_table()))
        self._on_disk, self._stamps = loaded, stamps
        self.viewer.layers.selection.active = self.points
        return self.points

    def _held_now(self) -> dict[int, float]:
        try:
            return self.project.held_thresholds()
        except ParticleDetectError:  # a damaged state is reported where the project is used
            return {}

    def frame_threshold(self, frame: int) -> float:
        """The threshold ``frame``'s network points are shown at: its round's where another round found
        them, else the one in use."""
        return self.held.get(int(frame), self.threshold)

    def shown(self, table: pd.DataFrame) -> np.ndarray:
        """Which rows of ``table`` (frames, hidden points included) are shown, each frame at its threshold."""
        return shown_mask(table, self.threshold, self.held)

    def _split(self, table: pd.DataFrame) -> pd.DataFrame:
        """Keep the points under the threshold in :attr:`hidden`; returns those to put in the layer."""
        table = normalise_table(table) if len(table) else empty_table()
        mask = self.shown(table)
        self.hidden = table[~mask].reset_index(drop=True)
        return table[mask].reset_index(drop=True)

    def _fill_layer(self, table: pd.DataFrame) -> None:
        """Put ``table`` (every frame, hidden points included) into the layer as the threshold says."""
        layer = self.points
        shown = self._split(table)
        self._quiet = True
        try:
            # Indices of a selection would point at other points, or past the end, once the data change.
            layer.selected_data = set()
            layer.data = points_data(shown, self.image.ndim)
            layer.features = points_features(shown)
            layer.feature_defaults = ADDED_DEFAULTS
        finally:
            self._quiet = False

    def layer_table(self) -> pd.DataFrame:
        """The centres in the layer: those the canvas draws."""
        if self.points is None:
            return empty_table()
        return table_from_points(self.points.data, self.points.features)

    def table(self) -> pd.DataFrame:
        """Every centre, those hidden by the threshold included, frame by frame."""
        if self.points is None:
            return self.project.load_all()
        table = pd.concat([self.layer_table(), self.hidden], ignore_index=True)
        return table.sort_values("frame", kind="stable").reset_index(drop=True)

    def frame_table(self, frame: int) -> pd.DataFrame:
        table = self.table()
        return table[table["frame"] == frame].reset_index(drop=True)

    def visible_table(self) -> pd.DataFrame:
        """The centres the user sees: everything but network points below the score threshold."""
        table = self.table()
        return table[self.shown(table)].reset_index(drop=True)

    def replace_frames(self, tables: dict[int, pd.DataFrame], history: str | dict[int, str] = "forget",
                       rounds_before: dict[int, int | None] | None = None) -> None:
        """Swap the points of whole frames for new ones, save those frames, keep every other frame.

        ``history`` (one for all frames, or per frame): 'forget' the frames' undo steps (a new
        detection, an acceptance), 'record' this as one more step, or 'keep' them as they are (an
        undo or redo itself). ``rounds_before``: the round that had found each frame's replaced points,
        where the project already names the new one (a new detection).
        """
        self.ensure_points_layer()
        new = self._with_frames(tables)
        self._fill_layer(new)
        by_frame = frames_of(new)
        merged = {}
        for frame in tables:
            how = history.get(frame, "forget") if isinstance(history, dict) else history
            if how == "forget":
                self.history.forget(frame)
            found_by = (rounds_before if rounds_before is not None else self.project.detected_by).get(frame)
            saved = self._write_frame(frame, by_frame.get(int(frame), empty_table()), record=how == "record",
                                      detected_by=found_by)
            if saved.merged:
                merged[int(frame)] = saved.table
        self._show_merged(merged)
        self._changed()

    def _with_frames(self, tables: dict[int, pd.DataFrame]) -> pd.DataFrame:
        """Every centre, with the frames of ``tables`` swapped for those tables."""
        current = self.table()
        kept = current[~current["frame"].isin(list(tables))]
        new = pd.concat([kept, *(normalise_table(t, f) for f, t in tables.items())], ignore_index=True)
        return new.sort_values("frame", kind="stable").reset_index(drop=True)

    def _show_merged(self, tables: dict[int, pd.DataFrame]) -> None:
        """Show frames as saved with another window's edits in them, and say so once."""
        if tables:
            self._fill_layer(self._with_frames(tables))
            self._say_kept(sorted(tables))

    def _say_kept(self, frames: list[int]) -> None:
        names = f"frame {frames[0]}" if len(frames) == 1 else f"frames {', '.join(map(str, frames))}"
        twin = self._twin_layer()
        if twin is not None:
            show_info(f"the edits of {names} made on '{twin}' (the same file, so the same project) were kept: the "
                      f"centres of '{self.image.name}' show them with its own")
        else:
            show_info(f"another window's edits of {names} were kept: the centres show them with this window's")

    def _twin_layer(self) -> str | None:
        """Another image layer of this viewer read from the same file (napari opens a file twice as 'a' and
        'a [1]'): the one that saved edits into this project, rather than another window."""
        path = source_path(self.image)
        if path is None:
            return None
        return next((layer.name for layer in self.viewer.layers if isinstance(layer, Image)
                     and layer is not self.image and source_path(layer) == path), None)

    def set_detections(self, results: dict[int, tuple[np.ndarray, np.ndarray]],
                       detected_by: int | None = None) -> list[int]:
        """Show the network's (centres, scores) per frame; reviewed frames, and the reviewed regions of
        other frames, are left as they are. Returns the frames shown. ``detected_by``: the round that
        found them (recorded in the project: its frames are shown at its threshold from now on).

        A frame the user had edited since it was last detected keeps those edits one undo away; the
        frames whose edits outside their accepted regions were replaced are in ``replaced_edits``."""
        self.flush()
        tables, self.replaced_edits = {}, []
        edited = set(self._detected) | set(self.project.edited_frames)  # an earlier session's edits too
        edited_inside = set(self.project.edited_inside_frames)
        kept_inside = []  # frames whose edits inside their accepted regions the detection leaves there
        whole = None  # the stack's table, built once and only where a frame needs it (once per frame: quadratic)
        for frame, (centres, scores) in results.items():
            if self.project.is_reviewed(frame):
                continue
            new = centres_table(frame, np.asarray(centres).reshape(-1, 2), np.asarray(scores)).assign(source="model")
            regions = self.project.regions(frame)
            current = None
            if regions or self._detected.get(frame) is not None:
                whole = self.table() if whole is None else whole
                current = whole[whole["frame"] == frame].reset_index(drop=True)
            if regions:
                new = pd.concat([current[self._in_any(regions, current)], new[~self._in_any(regions, new)]],
                                ignore_index=True)
            if frame in edited and self._edited_outside(frame, current, regions):
                self.replaced_edits.append(int(frame))
            if regions and (frame in edited_inside or frame in edited and self._edited_inside(frame, current, regions)):
                kept_inside.append(int(frame))
            tables[frame] = new
        if tables:
            rounds_before = self.project.detected_by
            if detected_by is not None:
                self.project.record_detections(sorted(tables), detected_by)
                self.held = self._held_now()
            self.replace_frames(tables, {f: "record" if f in edited else "forget" for f in tables},
                                {f: rounds_before.get(f) for f in tables})
            # Only once replaced: a detection that could not be saved leaves its frames' edits marked. Edits kept
            # inside accepted regions stay recorded: un-accepting the region must find the points deleted there.
            self.project.clear_edited(sorted(set(tables) - set(kept_inside)))
            self.project.clear_edited(kept_inside, inside=True)
            for frame in tables:
                self._detected.pop(frame, None)
        return sorted(tables)

    def _edited_outside(self, frame: int, current: pd.DataFrame, regions: list[Region]) -> bool:
        """Whether the user's edits of ``frame`` reach outside its accepted regions (what Detect replaces)."""
        detected = self._detected.get(frame)
        if detected is None:
            # Edited in an earlier session: the table as detected went with it, and the points' sources cannot
            # stand in for it (deleting network points leaves only network points). Counted as replaced: a
            # needless notice costs a line and an undo step, a missed one the user's edits.
            return True
        return not same_centres(normalise_table(current[~self._in_any(regions, current)]),
                                normalise_table(detected[~self._in_any(regions, detected)]))

    def _edited_inside(self, frame: int, current: pd.DataFrame, regions: list[Region]) -> bool:
        """Whether the user's edits of ``frame`` include some inside its accepted ``regions`` (what Detect keeps);
        sources aside, as accepting turns the network's points 'accepted'. Edits of an earlier session count (the
        table as detected went with it)."""
        detected = self._detected.get(frame)
        if detected is None:
            return True
        inside = [normalise_table(t[self._in_any(regions, t)], frame).assign(source="") for t in (current, detected)]
        return not same_centres(*inside)

    @staticmethod
    def _in_any(regions: list[Region], table: pd.DataFrame) -> np.ndarray:
        inside = np.zeros(len(table), dtype=bool)
        for region in regions:
            inside |= region.contains(table["y"], table["x"])
        return inside

    def has_centres(self, frame: int) -> bool:
        """Whether ``frame`` was detected or edited (an empty detected frame counts: it holds no particles)."""
        return int(frame) in self._on_disk or int(frame) in self.project.saved_frames()

    def detected_frames(self) -> set[int]:
        """Every frame :meth:`has_centres` says yes to (one look at the project's folder)."""
        return set(self._on_disk) | set(self.project.saved_frames())

    def _check_reviewable(self, frame: int) -> None:
        if not self.has_centres(frame):
            raise ParticleDetectError(f"frame {frame} was never detected or edited: run Detect on it, or add its "
                                      "centres, before accepting it")

    @property
    def layer_closed(self) -> bool:
        """The user closed the centres layer; its centres stay in the project."""
        return self.points is None and bool(self.project.saved_frames())

    def _require_layer(self) -> None:
        """Nothing is accepted unseen: a closed centres layer comes back first, and the user looks again."""
        if self.layer_closed:
            self.ensure_points_layer()
            self._changed()
            raise ParticleDetectError(f"'{self.points_name}' was closed: it is back with the centres kept in the "
                                      "project; look at them, then accept")

    def check_accept(self, frame: int, detected_threshold: float, box: Box | None = None) -> AcceptCheck:
        """What accepting ``frame`` (or the ``box`` of it) now would keep and drop (see
        :func:`..acceptance.check_accept`)."""
        self._refuse_off_screen()
        self._refuse_replaced()
        self._require_layer()
        self.flush()
        self.refresh_from_disk({int(frame)})  # what another window saved of it is judged too
        table = self.frame_table(frame)
        clipped = clip_box(box, self.regions.shape) if box is not None else None
        if clipped is not None:
            table = table[Region(int(frame), *clipped).contains(table["y"], table["x"])]
        return check_accept(table, self.frame_threshold(frame), detected_threshold)

    def accept(self, frame: int) -> pd.DataFrame:
        """Mark a frame reviewed: hidden (below threshold) network points go, the rest are accepted.
        :meth:`unaccept` brings the frame back as it was."""
        self._refuse_off_screen()
        self._refuse_replaced()  # its centres would be trained on as the new pixels'
        self._require_layer()
        self.flush()
        self._check_reviewable(frame)
        self.ensure_points_layer()
        self.refresh_from_disk({int(frame)})  # another window's edits of the frame, shown at this threshold
        before = self.frame_table(frame)
        table = before[self.shown(before)]
        earlier = self._before_accept.get(int(frame))
        self._before_accept[int(frame)] = before  # here already: another window's edits found on saving go into it
        base = self._snapshot(frame)
        try:
            written = self.project.accept_frame_merging(frame, table, base)
        except BaseException:
            # Not accepted (the project busy, the disk full): nothing of this acceptance for an un-accept to undo.
            if earlier is None:
                self._before_accept.pop(int(frame), None)
            else:
                self._before_accept[int(frame)] = earlier
            raise
        saved = self._take(frame, base, written)
        self.replace_frames({frame: saved.table})
        if saved.merged:
            self._say_kept([int(frame)])
        return saved.table

    def can_restore(self, frame: int) -> bool:
        """Whether un-accepting ``frame`` brings back its points as they were before it was accepted."""
        return int(frame) in self._before_accept

    def unaccept(self, frame: int) -> bool:
        """Back to unreviewed; the points it had before its acceptance come back when this session
        accepted it (hidden ones included), the frame as accepted (with any edits made since) one undo
        away. Returns whether they did."""
        self._refuse_off_screen()
        self.flush()
        self.project.unaccept_frame(frame)
        before = self._before_accept.pop(int(frame), None)
        if before is not None:
            self.replace_frames({int(frame): before}, history="record")
        else:
            self._changed()
        return before is not None

    # ---- regions -------------------------------------------------------------------------------
    def accept_region(self, frame: int, box: Box) -> tuple[Region, pd.DataFrame]:
        """Mark a box of a frame reviewed: hidden network points inside it go, those shown are accepted;
        the rest of the frame is left as it is. Returns the region and the centres inside it."""
        self._refuse_off_screen()
        self._refuse_replaced()
        clipped = clip_box(box, self.regions.shape)
        if clipped is None:
            raise ParticleDetectError(f"the box on frame {frame} lies outside the image")
        if self.project.is_reviewed(frame):
            raise ParticleDetectError(f"frame {frame} is already reviewed as a whole")
        self._require_layer()
        self.flush()
        self._check_reviewable(frame)
        self.ensure_points_layer()
        self.refresh_from_disk({int(frame)})  # another window's edits of the frame, shown at this threshold
        table = self.frame_table(frame)
        region = Region(int(frame), *clipped)
        hidden_inside = region.contains(table["y"], table["x"]) & ~self.shown(table)
        base = self._snapshot(frame)
        saved = self._take(frame, base, self.project.accept_region_merging(frame, clipped, table[~hidden_inside], base))
        self.replace_frames({frame: saved.table})
        if saved.merged:
            self._say_kept([int(frame)])
        self._sync_edited(frame)
        self.regions.clear_draft(frame)
        self.regions.show_accepted(self.project.regions())
        self.viewer.layers.selection.active = self.points
        return region, saved.table[region.contains(saved.table["y"], saved.table["x"])]

    def unaccept_region(self, region: Region) -> None:
        self._refuse_off_screen()
        self._region_unaccepted(region)
        self.regions.show_accepted(self.project.regions())
        self._changed()

    def _regions_deleted(self, regions: list[Region]) -> None:
        """Outlines deleted in the reviewed-regions layer: those regions are no longer accepted."""
        for region in regions:
            self._region_unaccepted(region)
        self.regions.show_accepted(self.project.regions())
        show_info(f"{len(regions)} reviewed region{'s' if len(regions) != 1 else ''} deleted from the outlines: "
                  "un-accepted (Draw box and Shift+Enter accept one again)")
        self._changed()

    def _region_unaccepted(self, region: Region) -> None:
        """Un-accept ``region``: edits inside it are no longer learned, so its frame is edited again where they
        were. Not known for a frame this session did not edit (its table as detected is gone): the project marks
        one it recorded edited inside its regions (points deleted there cannot be seen), points the user placed
        inside the region are edits too, and Detect keeps them one undo away."""
        frame = int(region.frame)
        self.project.unaccept_region(frame, region)
        if frame in self._detected:
            self._sync_edited(frame)
        elif frame not in self.project.edited_frames:
            table = self._on_disk.get(frame, empty_table())
            added = region.contains(table["y"], table["x"]) & (table["source"] == "added").to_numpy()
            if added.any():
                self.project.mark_edited(frame, outside=bool((added & ~self._in_any(self.project.regions(frame),
                                                                                     table)).any()))

    def _sync_edited(self, frame: int) -> None:
        """Mark ``frame`` edited in the project while this session's edits of it reach outside its accepted
        regions, and not otherwise: a round learns what lies inside them, and a user who accepted a region around
        their only edit was told the round had not learned it. A frame whose table as detected is not known
        (edits of an earlier session, see _as_detected) stays as marked."""
        frame = int(frame)
        detected = self._detected.get(frame)
        if detected is None:
            return
        current = self._on_disk.get(frame, empty_table())
        if self._edited_outside(frame, current, self.project.regions(frame)):
            self.project.mark_edited(frame, outside=True)
        else:  # recorded edited inside the regions where it is: a later session's un-accepting one marks it again
            # Sources aside: accepting turns the network's points 'accepted'.
            edited = not same_centres(*(normalise_table(t, frame).assign(source="") for t in (current, detected)))
            self.project.clear_edited([frame], inside=edited)

    def reviewed_masks(self) -> dict[int, np.ndarray]:
        """Each frame's pixels inside accepted regions (frames reviewed whole are not listed)."""
        masks: dict[int, np.ndarray] = {}
        for region in self.project.regions():
            mask = masks.setdefault(region.frame, np.zeros(self.regions.shape, dtype=bool))
            rows = slice(max(0, int(np.ceil(region.y0))), max(0, int(np.ceil(region.y1))))
            cols = slice(max(0, int(np.ceil(region.x0))), max(0, int(np.ceil(region.x1))))
            mask[rows, cols] = True
        return masks

    def detections(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """The network's scored centres, hidden ones included, of every frame not reviewed as a whole."""
        table = self.table()
        table = table[np.isfinite(table["score"].to_numpy(float))]
        reviewed = set(self.project.reviewed_frames)
        return {int(f): (t[["y", "x"]].to_numpy(float), t["score"].to_numpy(float))
                for f, t in table.groupby("frame") if int(f) not in reviewed}

    # ---- undo ----------------------------------------------------------------------------------
    def undo(self, frame: int) -> bool:
        """Take back the last edit of ``frame``; False when there is none."""
        return self._step(frame, self.history.undo)

    def redo(self, frame: int) -> bool:
        return self._step(frame, self.history.redo)

    def _step(self, frame: int, take) -> bool:
        self._refuse_off_screen()
        self.flush()
        found_by = self.project.detected_by.get(frame)
        before = self._on_disk.get(frame, empty_table())
        step = take(frame, before, found_by)
        if step is None:
            return False
        if step.detected_by != found_by:
            # Back past a new detection (or forward over it): the points are that round's again.
            self.project.set_detected_by(frame, step.detected_by)
            self.held = self._held_now()
        try:
            self.replace_frames({frame: step.table}, history="keep")
        except BaseException:
            if step.detected_by != found_by:  # not saved: the file still holds the other round's points
                self.project.set_detected_by(frame, found_by)
                self.held = self._held_now()
            raise
        if frame not in self._detected:
            # Edits an undo brought back (from under a new detection) are edits again: Detect must keep them one
            # undo away, not replace them and forget their steps.
            self._detected[frame] = self._as_detected(frame, before)
        self._forget_undone_edits(frame)
        self._sync_edited(frame)
        return True

    def _forget_undone_edits(self, frame: int) -> None:
        """``frame`` is back to its table as detected (its edits all undone): it holds no edits any more, so a
        round's note no longer names it among the edits it did not learn, and it may be learned from as
        unreviewed again. A redo marks it edited again (its first edit since it was detected)."""
        detected, now = self._detected.get(frame), self._on_disk.get(frame)
        if detected is None or now is None or not same_centres(normalise_table(now, frame),
                                                               normalise_table(detected, frame)):
            return
        self.project.clear_edited([frame])
        del self._detected[frame]

    def set_threshold(self, threshold: float) -> None:
        """Move the threshold of the round in use: points now under it leave the layer, hidden ones now
        over it come back; the user's edits stay as they are. Frames another round detected keep its
        threshold (:attr:`held`, read again here: the round in use may have changed)."""
        if self.points is None:
            self.threshold, self.held = float(threshold), self._held_now()
            return
        table = self.table()
        self.threshold, self.held = float(threshold), self._held_now()
        if len(self.hidden) or not self.shown(self.layer_table()).all():
            self._fill_layer(table)

    def rounds_shown(self) -> dict[int, list[int]]:
        """Round number -> the unreviewed frames showing its network points at its threshold, where that
        round is not the one in use (nothing when every frame shows the round in use's)."""
        rounds: dict[int, list[int]] = {}
        for frame, number in sorted(self.frames_of_other_rounds().items()):
            rounds.setdefault(number, []).append(frame)
        return rounds

    def frames_of_other_rounds(self) -> dict[int, int]:
        """Frame -> round, for the unreviewed frames that still show network points another round than the
        one in use found (Detect with the round in use is what changes them). A frame whose network
        points were all edited or deleted is not one: nothing there is the other round's. The one rule
        for the Detect panel's note (:meth:`rounds_shown`) and the Fine-tune verdict's "Run Detect…"."""
        if not self.held:
            return {}
        table = self.table()
        from_model = table[table["source"].astype(str) == "model"]
        frames = set(from_model["frame"].astype(int)) & set(self.held)
        reviewed = set(self.project.reviewed_frames)
        detected_by = self.project.detected_by
        return {frame: detected_by[frame] for frame in sorted(frames - reviewed) if frame in detected_by}

    def set_diameter(self, diameter: float) -> None:
        if self.points is not None and np.isfinite(diameter) and diameter > 0:
            self.points.selected_data = set()  # napari gives the new size to the selected points too
            self.points.size = marker_size(diameter)
            self.points.current_size = marker_size(diameter)

    # ---- heatmap -------------------------------------------------------------------------------
    def show_heatmap(self, frame: int, heat: np.ndarray) -> Image:
        """Put one frame's network output on screen, aligned with the image despite any rescaling."""
        heat = np.asarray(heat, dtype=np.float32)
        shape = (self.n_frames, *heat.shape) if self.is_stack else heat.shape
        if self._heatmap is None or self._heatmap.shape != shape:
            self._heatmap = np.zeros(shape, dtype=np.float32)
        if self.is_stack:
            self._heatmap[frame] = heat
        else:
            self._heatmap[...] = heat
        scale, translate = self._heatmap_placement(heat.shape)
        name = f"{self.image.name} heatmap"
        if self.heatmap_layer is None or self.heatmap_layer not in self.viewer.layers:
            self.heatmap_layer = self.viewer.add_image(
                self._heatmap, name=name, colormap="magma", blending="additive", opacity=0.6,
                contrast_limits=(0.0, 1.0), scale=scale, translate=translate, metadata={DOCK_OUTPUT_KEY: "heatmap"},
                **{k: v for k, v in placement(self.image).items() if k == "units"},  # µm images: no unit warning
            )
            place_over_image(self.viewer, self.heatmap_layer, self.image)
            if self.points is not None:  # keep the rings on top, and the point tools acting on them
                place_over_image(self.viewer, self.points, self.image)
                self.viewer.layers.selection.active = self.points
        else:
            self.heatmap_layer.data = self._heatmap
            self.heatmap_layer.scale, self.heatmap_layer.translate = scale, translate
            self.heatmap_layer.refresh()
        return self.heatmap_layer

    def _heatmap_placement(self, heat_shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """The scale and translate that put a frame's network output of ``heat_shape`` over the image."""
        # Per-axis factors actually applied (whole-pixel output sizes), not the nominal rescale factor.
        factors = np.array(heat_shape, dtype=float) / np.array(self.image.data.shape[-2:], dtype=float)
        scale = np.array(self.image.scale, dtype=float)
        translate = np.array(self.image.translate, dtype=float)
        # Pixel i of the rescaled grid sits at (i + 0.5) / factor - 0.5 of the original one.
        translate[-2:] += scale[-2:] * (0.5 / factors - 0.5)
        scale[-2:] /= factors
        return scale, translate

    def toggle_heatmap(self) -> bool:
        if self.heatmap_layer is None or self.heatmap_layer not in self.viewer.layers:
            return False
        self.heatmap_layer.visible = not self.heatmap_layer.visible
        return True

    # ---- saving --------------------------------------------------------------------------------
    def _write_frame(self, frame: int, table: pd.DataFrame, record: bool = False,
                     detected_by: int | None = None) -> FrameSave:
        """Save one frame, with what another window saved of it since this one last read or wrote it;
        ``record`` keeps what it replaces as an undo step, with the round that had found its points
        (``detected_by``; None: the model the project started from). A merged save (``.merged``) is not
        in the layer yet: the caller shows it (:meth:`_show_merged`), once for all the frames it saves."""
        frame = int(frame)
        base = self._snapshot(frame)
        saved = self._take(frame, base, self.project.save_frame_merging(frame, table, base))  # normalised there
        if record:  # what it replaces is the frame as the other window left it, where one did
            self.history.record(frame, saved.theirs if saved.merged else base.table, detected_by)
        return saved

    def _snapshot(self, frame: int) -> FrameSnapshot:
        """``frame`` as this window last read or wrote it (empty, no stamp: it had no file)."""
        return FrameSnapshot(self._on_disk.get(int(frame), empty_table()), self._stamps.get(int(frame)))

    def _take(self, frame: int, base: FrameSnapshot, saved: FrameSave) -> FrameSave:
        """What a save of ``frame`` from ``base`` left on disk is the frame's snapshot now; another window's
        edits it found go into this window's undo steps too. Returns ``saved``."""
        frame = int(frame)
        if saved.merged:
            self._rebase(frame, base.table, saved.theirs)
        self._on_disk[frame], self._stamps[frame] = saved.table, saved.stamp
        return saved

    def _rebase(self, frame: int, base: pd.DataFrame, theirs: pd.DataFrame) -> None:
        """Another window changed ``frame`` from ``base`` to ``theirs``: this window's undo and redo steps of
        it, and the points an un-accept brings back, take that change in, so going back never undoes it."""
        frame = int(frame)
        if not self.history.has_steps(frame) and frame not in self._before_accept:
            return

        def change(table: pd.DataFrame) -> pd.DataFrame:
            return merge_frames(base, normalise_table(table, frame), theirs)

        self.history.rebase(frame, change)
        if frame in self._before_accept:
            self._before_accept[frame] = change(self._before_accept[frame])

    def refresh_from_disk(self, frames: set[int] | None = None) -> list[int]:
        """Show what another window (or program) saved of ``frames`` (default: all) since this one last read
        or wrote them; this window's own edits of them not yet saved are saved first, merged with those.
        One stat per frame, a read only where its file changed. Returns the frames that changed."""
        if self.points is None or not self.saving:
            return []
        if frames is None:
            frames = set(self.project.saved_frames()) | set(self._stamps)
        stale = [f for f in sorted(frames) if self.project.frame_stamp(f) != self._stamps.get(f)]
        if not stale:
            return []
        self.flush(set(stale))
        changed = {}
        for frame in stale:
            if self.project.frame_stamp(frame) == self._stamps.get(frame):
                continue  # this window's edits were just saved with the other's, and shown
            now = self.project.frame_snapshot(frame)
            if now is None:  # gone, or damaged (said by the project): the layer keeps what it shows
                continue
            base = self._on_disk.get(frame, empty_table())
            theirs = their_changes(base, now.table)
            if theirs is not None:
                self._rebase(frame, base, theirs)
                changed[frame] = theirs
            self._on_disk[frame], self._stamps[frame] = now.table, now.stamp
        if changed:
            self._show_merged(changed)
            self._changed()
        return sorted(changed)

    def _on_frame_moved(self, event=None) -> None:
        """The slider moved onto another frame: show it as saved, where another window saved it since."""
        if self.points is None or not self.is_stack:
            return
        frame = self.current_frame()
        if frame == self._frame_shown:
            return
        self._frame_shown = frame
        try:
            self.refresh_from_disk({frame})
        except (ParticleDetectError, OSError):
            pass  # nothing could be read or saved now: the layer keeps what it shows, the next save says why

    def flush(self, frames: set[int] | None = None) -> list[int]:
        """Write the frames (default: all) whose points differ from what is on disk; returns those frames."""
        if self.points is None or not self.saving:
            return []
        refused = self._take_off_points_outside_stack()
        if frames is None:
            frames, self._touched = None, set()
        else:
            frames, self._touched = frames | self._touched, set()
        table = self.table()
        now = frames_of(table)
        if frames is None:
            frames = set(now) | set(self._on_disk)
        written, merged = [], {}
        try:
            for frame in sorted(frames):
                current = now.get(frame, empty_table())
                saved = self._on_disk.get(frame)
                if (saved is None and len(current)) or (saved is not None and not same_centres(current, saved)):
                    if frame not in self._detected:  # the first edit since the frame was detected: what it had
                        self._detected[frame] = self._as_detected(frame, saved)
                    elif (frame not in self.project.edited_frames
                          and self._edited_outside(frame, current, self.project.regions(frame))):
                        self.project.mark_edited(frame, outside=True)  # before it is written, as _as_detected marks
                    save = self._write_frame(frame, current, record=True,
                                             detected_by=self.project.detected_by.get(frame))
                    if save.merged:
                        merged[frame] = save.table
                    written.append(frame)
        except ParticleDetectError:
            # Not written (another program holds the project, a full disk): the edits stay in the layer and
            # the next save, of whichever frame, writes them too.
            self._touched |= set(frames) - set(written)
            raise
        finally:
            self._show_merged(merged)  # what was written with another window's edits, shown as written
            if written:
                self._changed()
            if refused is not None:  # last: the dock's lines just refreshed do not cover it
                self._say_refused(refused)
        for frame in written:  # once written: edits undone by hand, or made inside accepted regions only
            self._sync_edited(frame)
        return written

    def _take_off_points_outside_stack(self) -> str | None:
        """Take the points lying on no frame of the stack off the layer: placed while the slider stood past its
        last frame (a longer layer lets it go there), one made every later save fail, as the project holds the
        stack's frames only. Returns what to say about them; None when there were none."""
        if not self.is_stack or not len(self.points.data):
            return None
        frames = np.rint(self.points.data[:, 0]).astype(int)
        outside = (frames < 0) | (frames >= self.n_frames)
        if not outside.any():
            return None
        self._quiet = True
        try:
            self.points.selected_data = set(np.flatnonzero(outside).tolist())
            self.points.remove_selected()
        finally:
            self._quiet = False
        return outside_stack_refusal(frames[outside], ("point", "points", "placed"), "centres", self.image.name,
                                     self.n_frames)

    def _as_detected(self, frame: int, saved: pd.DataFrame | None) -> pd.DataFrame | None:
        """Mark ``frame`` edited in the project before its first edit since it was detected is written (a
        session closed after the edit must still know it); returns its table as detected, ``saved``, or None
        where the project already held edits of it from an earlier session."""
        if frame in self.project.edited_frames:
            return None
        self.project.mark_edited(frame)
        return saved if saved is not None else empty_table()

    def _frames_of(self, indices) -> set[int]:
        if not self.is_stack:
            return {0}
        rows = np.asarray(list(indices), dtype=int)
        return {int(f) for f in np.rint(self.points.data[rows, 0])} if len(rows) else set()

    def _on_data(self, event) -> None:
        # Edits touch a few frames: only those are compared with the disk, so big stacks stay quick.
        if self._quiet:
            return
        whole_layer = len(event.data_indices) == len(self.points.data)
        if event.action == ActionType.REMOVING:
            self._touched |= self._frames_of(event.data_indices)
        elif event.action == ActionType.REMOVED:
            self.flush(set())
        elif event.action == ActionType.ADDED:
            self._save_added(event.data_indices, whole_layer)
        elif event.action == ActionType.CHANGED:
            frames = None if whole_layer else self._frames_of(event.data_indices)
            if frames is None:
                self._schedule_save(self.flush)
            else:
                # Dragged by hand: the user's position now, never hidden by the threshold (a network point
                # moved and then hidden was dropped on accept, and a round learned its place as background).
                self._mark_added(event.data_indices)
                self._touched |= frames
                self._schedule_save(lambda: self.flush(set()))

    def _on_pasted(self, rows: list[int]) -> None:
        if not self._quiet:
            self._save_added(rows, len(rows) == len(self.points.data))

    def _save_added(self, indices, whole_layer: bool) -> None:
        """Points placed or pasted are the user's, saved at once."""
        self._mark_added(indices)
        self.flush(None if whole_layer else self._frames_of(indices))

    def _mark_added(self, indices) -> None:
        """Points placed or moved by hand are 'added' with no score, whatever napari copied from the last
        selection or the network scored where they were."""
        layer = self.points
        rows = np.arange(len(layer.data))[list(indices)]
        features = layer.features.copy()
        if (features.loc[rows, "source"] == "added").all() and features.loc[rows, "score"].isna().all():
            return
        features.loc[rows, "source"] = "added"
        features.loc[rows, "score"] = np.nan
        self._quiet = True
        try:
            layer.features = features
        finally:
            self._quiet = False

    def _on_layer_removed(self, event) -> None:
        if event.value is self.points:
            self._save_last_edits()
            self.points.events.data.disconnect(self._on_data)
            self._pasted.close()
            self.points, self._pasted = None, None
            self.hidden = empty_table()  # the layer comes back from the project, hidden points with it
            self._changed()  # the dock stops counting centres nobody sees
        elif event.value is self.heatmap_layer:
            self.heatmap_layer, self._heatmap = None, None
        elif self.regions.owns(event.value):
            self.regions.forget(event.value)

    def _save_last_edits(self) -> None:
        """The points layer is going (deleted, or the viewer closing, which removes its layers first): its
        edits not yet on disk (a save that found the project busy) have their last chance, worth the wait a
        worker makes for the project; what still cannot be saved is said."""
        try:
            with waiting_as_a_worker():
                self.flush()
        except ParticleDetectError as exc:
            self.edits_lost = True
            report(exc)

    def _changed(self) -> None:
        for callback in list(self.changed_callbacks):
            callback()


def follow_changes(watched: Annotation | None, annotation: Annotation | None,
                   callback: Callable[[], None]) -> Annotation | None:
    """Call ``callback`` after every change of ``annotation``'s centres instead of ``watched``'s (the dock's
    image changed); returns the annotation now followed."""
    if watched is not None and callback in watched.changed_callbacks:
        watched.changed_callbacks.remove(callback)
    if annotation is not None:
        annotation.changed_callbacks.append(callback)
    return annotation
