"""Reviewing rods or chains of one image in napari: its project (kinds_project), the editable layers
(kind_layers) kept in step with it, accepted frames and regions, undo and what to review next.
No Qt widgets here: the dock (kind_review_panel) drives it, tests can too.

Every edit is saved at once: a Shapes or Points change ends in the frame's table rebuilt from the
layer, checked by the kind's rules, written atomically. The layers are drawn from the project, so
closing the dock (or napari) and opening it again brings back what was there.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from napari.layers import Image
from napari.layers.base import ActionType
from napari.utils.colormaps.standardize_color import transform_color
from qtpy.QtCore import QTimer

from ..errors import ParticleDetectError
from ..kinds import chains
from ..projects.chain_edits import RING_BEADS, bonded_beads, ring_sizes
from ..projects.kinds_project import (
    accept_kind_frame, accept_kind_region, all_kind_frames, detections, kind_model_path, load_kind_frame,
    open_kind_project, save_kind_frame, saved_kind_frames, typical_size,
)
from ..projects.project import Region
from ..projects.review import Proposal, rank_frames, rank_regions
from .annotation import Annotation, check_image_layer, image_path, outside_stack_refusal, placement, project_name
from .history import FrameHistory
from .image_views import layer_pixels
from .kind_layers import (
    DONE_ACTIONS, PATHS_DRAWN_BY_DOCK, PLACED_BEAD, chain_layers_data, chain_paths, draw_paths, refill, rod_line_widths,
    rods_layer_data, table_from_beads, table_from_rod_lines, why_not_a_rod,
)
from .layers import (
    SOURCE_COLOURS, PastedPoints, as_pasted_beads, guard_canvas_from_removed_layers, place_over_image, with_rows_placed,
)
from .notify import show_info
from .proposals import key, nothing_left, proposal_box
from .regions import Box, RegionLayers, mark_review_box, zoom_to_box

# Tools whose drawing napari is still finishing when it reports the shape added: a shape taken off the
# layer then breaks napari's own finishing (it looks the drawn shape up again), so that waits a moment.
MANY_POINT_TOOLS = {"add_path", "add_polyline", "add_polygon", "add_polygon_lasso"}
COMPARED = {"rods": ["y", "x", "angle", "length", "width"], "chains": ["y", "x", "chain", "index", "closed"]}
# A rod drawn by hand is measured where its axis stands out from the frame's background at least this part of
# what the frame's rods' axes do: lines drawn over background reached 0.06 (0.17 in bright-field, whose rods' core
# is near the background), rods 0.22 and more (fluorescent, opaque) on generator frames.
STANDS_OUT = 0.2
ROD_AXES = ["y", "x", "angle", "length", "width"]  # what places a rod's profiles, and its width


class KindSession:
    """One image reviewed for one kind: the project, its layers, the acceptance history."""

    def __init__(self, viewer, image: Image, kind: str, on_change: Callable[[], None] | None = None,
                 on_selection: Callable[[], None] | None = None,
                 say_refused: Callable[[str], None] = show_info) -> None:
        # Before its project is made: a file's channels read as frames (a CYX) made a project of channels.
        check_image_layer(image)
        self.viewer, self.image, self.kind = viewer, image, kind
        # Called once the saved tables or acceptances changed, whoever changed them (an edit in a layer, most
        # often, which no button of the dock sees): the dock's Undo and counts follow.
        self.on_change = on_change
        # Called when the rods selected in the layer change: the dock shows their width.
        self.on_selection = on_selection
        self.say_refused = say_refused  # an edit not kept in the layer, and why, in one line
        self.stack = image.ndim == 3
        # An unsaved image's project is found by the name it had when first opened: renamed, it keeps its work.
        self.project = open_kind_project(kind, image_path(image), project_name(image), layer_pixels(image))
        self.regions = KindRegionLayers(viewer, image, placement(image), on_deleted=self._regions_deleted,
                                        label=f"{image.name} {kind}")
        self.regions.adopt()  # left by a dock closed without its X (its close() called, or removed unshown)
        self.history = FrameHistory()
        # What Undo takes back, last first: ("accept", frame, region or None, table before), ("unaccept", frame,
        # region or None, table accepted, the project's edit record of the frame before: _edit_record) or ("edit",
        # frame, whether the frame held edits before).
        self.actions: list[tuple] = []
        self.tables: dict[int, pd.DataFrame] = {}
        # Which frames the user edited since they were last detected is the project's (Project.edited_frames):
        # a later session's Detect must keep an earlier one's edits one Undo away too.
        self.replaced_edits: list[int] = []  # of those, the frames the last detection replaced
        self.kept_edits: list[int] = []  # of those, the frames the last detection, ending unshown, left alone
        # Each frame edited since it was last detected: its table as detected, None where an earlier session's
        # edits were already there (that table went with it). The project's mark is kept to edits reaching outside
        # the frame's accepted regions, as the spheres dock keeps it (annotation.py _sync_edited): a round learns
        # what lies inside them, and a user who accepted a region around their only edit was told it had not.
        self._detected: dict[int, pd.DataFrame | None] = {}
        self._quiet = False
        self._passed: set = set()
        self._heard: list = []  # the layers whose edits reach this session (until it is put away)
        self._heard_paths: list = []  # the chains' paths layer, whose edits are drawn back from the beads
        self._pastes: list[PastedPoints] = []  # hear napari's paste into those layers
        self._away = False
        self._drawn = False  # the first draw brings back layers left elsewhere in the list: they go over the image
        self._seen = 0  # rods or beads in the main layer after its last finished edit
        self._widths_drawn = np.zeros(0)  # the rods' lines' widths after the last edit: a change is a width set
        self._image_name = image.name  # the name the session's layers are named after
        image.events.name.connect(self._follow_name)
        self.restore()

    # ---- layers ------------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return self._names_after(self.image.name)

    def _names_after(self, image_name: str) -> list[str]:
        return [f"{image_name} rods"] if self.kind == "rods" else [f"{image_name} beads", f"{image_name} chains"]

    def _follow_name(self, event=None) -> None:
        """The image layer was renamed: its rods or chains layers and review outlines take the new name. Left
        under the old one, the rods layer was no longer found as the session's, and edits in it went unsaved."""
        old, self._image_name = self._image_name, self.image.name
        self.regions.label = f"{self.image.name} {self.kind}"
        mine = [self.viewer.layers[n] for n in self._names_after(old) if n in self.viewer.layers]
        for layer in (*mine, self.regions.draft, self.regions.accepted):
            if layer is not None and layer in self.viewer.layers and layer.name.startswith(f"{old} "):
                layer.name = self.image.name + layer.name[len(old):]

    @property
    def main_layer(self):
        """The layer that holds the data (rods' lines, chains' beads), None before the first detection
        and once put away (a layer of that name may be another session's by then)."""
        name = self.names[0]
        return self.viewer.layers[name] if name in self.viewer.layers and not self._away else None

    def _hear(self, layer) -> None:
        if layer not in self._heard:
            layer.events.data.connect(self._on_data)
            # napari's paste sends no data event, in Shapes as in Points (0.9.2): only the pasted rows' selection.
            self._pastes.append(PastedPoints(layer, self._on_pasted))
            if self.kind == "rods":
                # napari's edge-width slider sets the selected lines' widths: their rods' (_on_edge_width).
                layer.events.edge_width.connect(self._on_edge_width)
                layer.selected_data.events.items_changed.connect(self._selection_changed)
            else:  # its paths drawn from what this session saved, not by kind_layers.follow_beads_in meanwhile
                PATHS_DRAWN_BY_DOCK.add(layer)
            self._heard.append(layer)

    def _hear_paths(self, layer) -> None:
        """The chains' paths are drawn from the beads: a path moved, drawn or deleted by hand changed no chain and
        was left on screen as if it had (nothing said, nothing saved), so it is drawn back from the beads."""
        if layer not in self._heard_paths:
            layer.events.data.connect(self._on_paths_data)
            self._heard_paths.append(layer)

    def _on_paths_data(self, event) -> None:
        action = getattr(event, "action", ActionType.CHANGED)
        if self._quiet or self._away or action not in DONE_ACTIONS:
            return
        if action == ActionType.ADDED:  # napari is still finishing the path drawn (see MANY_POINT_TOOLS)
            QTimer.singleShot(0, self._paths_back)
        else:
            self._paths_back()

    def _paths_back(self) -> None:
        if self._away:
            return
        self._redraw_paths()
        self.say_refused(f"'{self.names[1]}' follows the beads and is not edited itself: move, add or delete beads in "
                         f"'{self.names[0]}', and select two beads to Link 2 ends or Cut between 2")

    def _stop_hearing(self) -> None:
        """A session put away (or of a closed dock) hears no more edits: the next one for these layers does."""
        for layer in self._heard_paths:
            layer.events.data.disconnect(self._on_paths_data)
        self._heard_paths = []
        for layer in self._heard:
            layer.events.data.disconnect(self._on_data)
            if self.kind == "rods":
                layer.events.edge_width.disconnect(self._on_edge_width)
                layer.selected_data.events.items_changed.disconnect(self._selection_changed)
            PATHS_DRAWN_BY_DOCK.discard(layer)
        for paste in self._pastes:
            paste.close()
        self._heard, self._pastes = [], []

    def restore(self) -> None:
        """Layers and region outlines as the project holds them."""
        # A damaged frame file is left out (said in project.problems): it locked every other frame out of review.
        self.tables = saved_kind_frames(self.project)
        if self.tables:
            self.redraw()
        self.regions.show_accepted(self.project.regions())
        if self.main_layer is not None:
            self.viewer.layers.selection.active = self.main_layer  # ready to edit, not the outlines

    def whole_table(self) -> pd.DataFrame:
        parts = [t for t in self.tables.values() if len(t)]
        return pd.concat(parts, ignore_index=True) if parts else all_kind_frames(self.project)

    def redraw(self) -> None:
        """(Re)draw the layers from the saved tables, keeping the layers (and their place in the list)."""
        if self._away:  # its layers may be another session's by now
            return
        table = self.whole_table()
        ndim = self.image.ndim
        layers = [rods_layer_data(table, self.names[0], ndim)] if self.kind == "rods" else \
            chain_layers_data(table, self.image.name, ndim)
        self._quiet = True
        try:
            self._set_aside(layers, ndim)
            for data, kwargs, layer_type in layers:
                name = kwargs["name"]
                if name in self.viewer.layers:
                    # Refilled, not replaced: the layer keeps its place and the user's settings, and napari's
                    # canvas can crash under software OpenGL when a layer just drawn in is removed
                    # (scripts/napari_points_removal_segfault.py).
                    layer = self.viewer.layers[name]
                    refill(layer, data, kwargs, layer_type)
                    if not self._drawn:  # a session's first draw shows its layers, wherever they were left
                        layer.visible = True
                        place_over_image(self.viewer, layer, self.image)
                else:
                    layer = getattr(self.viewer, f"add_{layer_type}")(data, ndim=ndim, **kwargs,
                                                                      **placement(self.image))
                    place_over_image(self.viewer, layer, self.image)
                    if layer_type == "shapes" and self.kind == "rods":
                        layer.current_edge_color = "cyan"  # a line drawn by hand is an 'added' rod
                if self.kind == "chains" and name == self.names[1]:
                    self._hear_paths(layer)
                if name == self.names[0]:
                    # Also a layer found in place (left by a dock closed before): its edits reach
                    # this session's project from now on.
                    self._hear(layer)
        finally:
            self._quiet = False
        self._drawn = True
        self._seen = len(self.main_layer.data)
        self._note_widths()
        self.viewer.layers.selection.active = self.main_layer

    def _set_aside(self, layers: list[tuple], ndim: int) -> None:
        """Rename the layers of ``layers``' names (this session's) that are not the dock's to refill, saying so: one
        that cannot hold its data (a table opened with File > Open, its rows by frame over a single image, or none
        over a stack; refilled, it raised and the dock did not open), or a table opened from a file (refilled, its
        rows and the edits made in it since were gone, unsaid). Kept under another name: it is what the user
        opened."""
        said, read = [], {}
        for _, kwargs, layer_type in layers:
            layer = self.viewer.layers[kwargs["name"]] if kwargs["name"] in self.viewer.layers else None
            read_from = getattr(getattr(layer, "source", None), "path", None)
            fits = layer is not None and layer.ndim == ndim and type(layer).__name__.lower() == layer_type
            if layer is None or fits and read_from is None:
                continue
            old, layer.name = layer.name, self._free_name(layer.name)
            # Hidden: shown over the dock's own, its rods or beads read as a second set of the image's.
            layer.visible = False
            if not fits:
                said.append(f"{self._misfit(old, layer, layer_type, ndim)}: renamed '{layer.name}' and hidden, and the "
                            f"dock draws its own '{old}'")
            else:
                read.setdefault(Path(read_from).name, []).append(f"'{old}' as '{layer.name}'")
        said += [f"the table opened from {file} is kept, hidden, with any edits made in it ({', '.join(kept)}; its "
                 f"eye in the layer list shows it): the dock draws its own layers of those names from the project of "
                 f"'{self.image.name}'" for file, kept in read.items()]
        if said:
            show_info("; ".join(said))

    def _misfit(self, name: str, layer, layer_type: str, ndim: int) -> str:
        """Why the layer ``name`` cannot be the dock's: what differs of its dimensions and its layer type alone (a
        points layer named as the chains' shapes is of the image's dimensions: saying those explained nothing)."""
        have, need = [], []
        if layer.ndim != ndim:
            have.append(f"{layer.ndim}D")
            need.append(f"{ndim}D")
        if type(layer).__name__.lower() != layer_type:
            have.append(type(layer).__name__.lower())
            need.append(layer_type)
        return (f"'{name}' is a {' '.join(have)} layer, and the {self.kind} of '{self.image.name}' are drawn in a "
                f"{' '.join(need)} one")

    def _free_name(self, name: str) -> str:
        """``name [n]``, the first such name no layer has."""
        number = 1
        while f"{name} [{number}]" in self.viewer.layers:
            number += 1
        return f"{name} [{number}]"

    def layer_table(self) -> pd.DataFrame:
        """Every frame's rods or beads as the layer shows them now."""
        layer = self.main_layer
        if layer is None:
            return self.whole_table().iloc[:0]
        if self.kind == "rods":
            return table_from_rod_lines(layer.data, layer.features, list(layer.shape_type), layer.metadata)
        return table_from_beads(layer.data, layer.features, layer.metadata)

    def frames_table(self, frames: list[int]) -> pd.DataFrame:
        """The rows of ``frames`` as :meth:`frame_table` gives them, the layer read once (not once a frame)."""
        if self.main_layer is None:
            return pd.concat([self.frame_table(f) for f in frames], ignore_index=True)
        table = self.layer_table()
        return table[table["frame"].isin([int(f) for f in frames])].reset_index(drop=True)

    def frame_table(self, frame: int) -> pd.DataFrame:
        if self.main_layer is None:  # closed: the frame as saved
            saved = self.tables.get(int(frame))
            return saved.reset_index(drop=True) if saved is not None else self.whole_table().iloc[:0]
        table = self.layer_table()
        return table[table["frame"] == int(frame)].reset_index(drop=True)

    def _on_data(self, event) -> None:
        action = getattr(event, "action", ActionType.CHANGED)
        if self._quiet or action not in DONE_ACTIONS or self.main_layer is None:
            return
        if action == ActionType.ADDED and self.kind == "rods" and str(self.main_layer.mode) in MANY_POINT_TOOLS:
            QTimer.singleShot(0, self._take_added)
            return
        if action == ActionType.ADDED:
            self._take_added()
            return
        self._seen = len(self.main_layer.data)
        self._note_widths()
        self.sync()

    def _on_pasted(self, rows: list[int]) -> None:
        """Rods or beads pasted (Ctrl+V) are the user's, saved at once as added ones: napari's paste sends no data
        event, so they were saved only with the next edit, as the model's, and pasted beads joined the chains whose
        numbers they were copied with, their indices repeated there."""
        if not self._quiet:
            self._take_added(pasted=True)

    def _take_added(self, pasted: bool = False) -> None:
        """Mark the rods or beads drawn (or ``pasted``) since the last edit as 'added' (rods: refusing what is not a
        rod), and save. The rows past those seen are the new ones: napari says "added at -1" even for a
        drawing abandoned with Escape, which added nothing (and -1 is then the last rod there was)."""
        if self.main_layer is None:  # put away meanwhile
            return
        new = list(range(self._seen, len(self.main_layer.data)))
        if self.kind == "rods":
            new = self._refuse_non_rods(new)
        self._mark_added(new, pasted)
        self._seen = len(self.main_layer.data)
        self._note_widths()
        self.sync()

    def _refuse_non_rods(self, rows: list[int]) -> list[int]:
        """Take the shapes that are not rods (drawn with another tool than the line, or a click without a
        drag) off the rods layer, saying why, so what it shows is what is saved. Returns the rods left."""
        layer = self.main_layer
        shape_types = list(layer.shape_type)
        refused = {row: why for row in rows if (why := why_not_a_rod(shape_types[row], layer.data[row])) is not None}
        if not refused:
            return rows
        self._quiet = True
        try:
            layer.selected_data = set(refused)
            layer.remove_selected()
        finally:
            self._quiet = False
        show_info(f"only lines are rods: {', '.join(sorted(set(refused.values())))} taken off '{layer.name}'; draw "
                  "rods with the line tool (L), dragging from tip to tip")
        kept = [row for row in rows if row not in refused]
        return [row - sum(gone < row for gone in refused) for row in kept]

    def _mark_added(self, rows: list[int], pasted: bool = False) -> None:
        """A rod drawn or a bead placed by hand is 'added', unscored, with no measurement or track id, a rod as wide
        as the image shows it (drawn so, to be seen and set), and a bead a chain of its own, whatever napari copied
        from the last selection into the new one's features. Beads ``pasted`` keep the chains they were copied from
        as copies of them, numbered apart."""
        layer = self.main_layer
        if not rows:
            return
        mask = np.zeros(len(layer.features), bool)
        mask[rows] = True
        # Measurements and track ids copied from the one selected (a table's extra columns) are not the new one's:
        # blanked, as the reader's hook blanks them in a layer no dock listens to (layers.keep_placed_defaults_in).
        placed = PLACED_BEAD if self.kind == "chains" else {"source": "added", "score": np.nan}
        features = with_rows_placed(layer.features, mask, placed)
        if self.kind == "chains" and pasted:
            features = as_pasted_beads(features, layer.features, rows)
        elif self.kind == "rods":
            features.loc[rows, "width"] = self._drawn_widths(rows, features["width"].to_numpy(float))
        self._quiet = True
        try:
            layer.features = features
            if self.kind == "rods":
                layer.edge_width = list(rod_line_widths(features["width"].to_numpy(float)))
                # napari draws a new line in the colour of the last rod selected, a model's rod's often.
                colours = np.array(layer.edge_color)
                colours[rows] = transform_color(SOURCE_COLOURS["added"])[0]
                layer.edge_color = colours
        finally:
            self._quiet = False

    # ---- rod widths ------------------------------------------------------------------------------
    def _drawn_widths(self, rows: list[int], widths: np.ndarray) -> np.ndarray:
        """For the rods in ``rows`` (drawn by hand), their widths measured in their frame as detection measures
        them (rod_width.measure_widths), not the frame's median whatever the line lies over. They are measured
        with the frame's saved rods: measured alone, a line's one profile chose the look, hence the calibration,
        and a line over background read 16-19 px on a frame of 7 px rods. The :meth:`_typical_widths` are kept
        where the image gives no width (a line near the edge, a blank frame), one wider than the line is long,
        or where the line stands out from the background less than STANDS_OUT x as much as the frame's rods do
        (drawn over nothing, its width is noise)."""
        from ..kinds.rod_width import measure_widths

        typical = self._typical_widths(rows, widths)
        drawn = table_from_rod_lines([self.main_layer.data[r] for r in rows], None).assign(width=typical)
        measured = typical.copy()
        frames = drawn["frame"].to_numpy(int)
        for frame in np.unique(frames):
            if not 0 <= frame < self.n_frames:  # a line drawn with the slider past the stack: no pixels under it
                continue
            here = frames == frame
            data = layer_pixels(self.image)
            pixels = np.asarray(data[frame] if self.stack else data, np.float32)
            saved = self.tables.get(int(frame))
            known = (saved if saved is not None else drawn.iloc[:0])[ROD_AXES]
            known = known.assign(width=known["width"].fillna(float(np.median(typical[here]))))
            together = pd.concat([known, drawn.loc[here, ROD_AXES]], ignore_index=True)
            with warnings.catch_warnings():  # a blank or non-finite frame measures nothing, quietly
                warnings.simplefilter("ignore", RuntimeWarning)
                found = measure_widths(together, pixels)["width"].to_numpy(float)[len(known):]
                measured[here] = np.where(_stand_out(drawn[here], known, pixels), found, np.nan)
        lengths = drawn["length"].to_numpy(float)
        return np.where(np.isfinite(measured) & (measured <= lengths), measured, typical)

    def _typical_widths(self, rows: list[int], widths: np.ndarray) -> np.ndarray:
        """For the rods in ``rows`` (drawn by hand), their frame's median known width among the other rods,
        or the width a round gives a rod on a frame with none known (learning/kinds_rounds.DEFAULT_WIDTH)."""
        from ..learning.kinds_rounds import DEFAULT_WIDTH

        frames = self._drawn_frames()
        others = np.ones(len(widths), bool)
        others[rows] = False
        out = []
        for row in rows:
            known = widths[others & (frames == frames[row]) & np.isfinite(widths)]
            out.append(float(np.median(known)) if len(known) else DEFAULT_WIDTH)
        return np.array(out)

    def _drawn_frames(self) -> np.ndarray:
        """The frame of each rod or bead in the main layer, as its slider placed it (0 in a 2D image)."""
        data = self.main_layer.data
        if self.kind == "rods":
            return np.array([int(round(float(v[0][0]))) if np.shape(v)[1] == 3 else 0 for v in data], int)
        data = np.asarray(data, float).reshape(len(data), -1)
        return np.rint(data[:, 0]).astype(int) if data.shape[1] == 3 else np.zeros(len(data), int)

    def _note_widths(self) -> None:
        layer = self.main_layer
        if self.kind == "rods" and layer is not None:
            self._widths_drawn = np.asarray(layer.edge_width, float)

    def selected_widths(self) -> np.ndarray:
        """The widths of the rods selected in the rods layer (NaN: a rod whose width is not known)."""
        layer = self.main_layer
        if self.kind != "rods" or layer is None or not len(layer.selected_data):
            return np.zeros(0)
        return layer.features["width"].to_numpy(float)[sorted(layer.selected_data)]

    def set_rod_width(self, width: float) -> int:
        """Give the rods selected in the rods layer this width (px), saved at once and undoable like any edit;
        their lines are drawn that wide. Returns how many rods were set."""
        layer = self.main_layer
        if self.kind != "rods" or layer is None:
            raise ParticleDetectError("a width is set on rods: detect rods first")
        rows = sorted(layer.selected_data)
        if not rows:
            raise ParticleDetectError(f"select the rods to set in '{layer.name}' first (select mode: click a rod, "
                                      "Shift+click more)")
        widths = np.full(len(rows), float(width))
        problem = self._width_problem(rows, widths)
        if problem is not None:
            raise ParticleDetectError(problem)
        self._quiet = True
        try:
            layer.current_edge_width = float(width)  # napari's edge-width slider shows it too
        finally:
            self._quiet = False
        self._take_widths(rows, widths)
        return len(rows)

    def _take_widths(self, rows, widths: np.ndarray) -> None:
        """The rods in ``rows`` get ``widths``, their lines drawn so; saved at once."""
        layer = self.main_layer
        features = layer.features.copy()
        features.loc[rows, "width"] = widths
        drawn = np.asarray(layer.edge_width, float)
        drawn[rows] = widths
        self._quiet = True
        try:
            layer.features = features
            layer.edge_width = list(drawn)
        finally:
            self._quiet = False
        self._widths_drawn = drawn
        self.sync()

    def _width_problem(self, rows, widths: np.ndarray) -> str | None:
        """Why these rods cannot take these widths (None when they can): a rod is at least as long as it is wide."""
        lengths = np.array([float(np.hypot(*(np.asarray(v)[-1, -2:] - np.asarray(v)[0, -2:])))
                            for v in (self.main_layer.data[r] for r in rows)])
        if np.any(~(widths > 0)):
            return f"a rod's width must be positive, not {float(widths[np.argmax(~(widths > 0))]):g} px"
        too_wide = widths > lengths
        if too_wide.any():
            i = int(np.argmax(too_wide))
            return (f"a rod {lengths[i]:.1f} px long cannot be {widths[i]:g} px wide (a rod is at least as long as it "
                    "is wide): drag its tips apart first, or give it a smaller width")
        return None

    def _on_edge_width(self, event=None) -> None:
        """Lines drawn wider or narrower (napari's edge-width slider, on the selected ones) set their rods'
        widths, saved at once; a width no rod can have is taken back, saying why."""
        layer = self.main_layer
        if self._quiet or layer is None:
            return
        drawn = np.asarray(layer.edge_width, float)
        if len(drawn) != len(self._widths_drawn):  # mid-edit (a line being drawn): its end notes the widths
            return
        rows = np.flatnonzero(~np.isclose(drawn, self._widths_drawn))
        if not len(rows):
            return  # napari says so on every selection too
        problem = self._width_problem(rows, drawn[rows])
        if problem is None:
            self._take_widths(rows, drawn[rows])
            return
        self._quiet = True
        try:
            layer.edge_width = list(self._widths_drawn)
        finally:
            self._quiet = False
        show_info(f"'{layer.name}': {problem}")

    def _selection_changed(self, event=None) -> None:
        if self.on_selection is not None and not self._away:
            self.on_selection()

    def sync(self) -> list[int]:
        """Save every frame whose rods or beads the user changed; returns those frames. Without the layer
        (closed by the user, or put away) there is nothing to compare: the saved tables stand."""
        if self.main_layer is None:
            return []
        refused = self._take_off_outside_stack()
        try:
            return self._save_changed_frames()
        finally:
            if refused is not None:  # last: the dock's lines refreshed by the saves do not cover it
                self.say_refused(refused)

    def _save_changed_frames(self) -> list[int]:
        table = self.layer_table()
        changed = []
        found_by = self.project.detected_by
        for frame in sorted(set(self.tables) | set(table["frame"].astype(int))):
            now = table[table["frame"] == frame].reset_index(drop=True)
            before = self.tables.get(frame)
            if before is not None and _same(before, now, COMPARED[self.kind]):
                continue
            if before is None and not len(now):
                continue
            before = before if before is not None else now.iloc[:0]
            self.history.record(frame, before, found_by.get(frame))
            held_edits = frame in self.project.edited_frames or frame in self._detected
            if frame not in self._detected:  # the first edit since the frame was detected: what it had
                self._detected[frame] = None if frame in self.project.edited_frames else before
            if self._edited_outside(frame, now):
                # Before the edit is written: a session closed after it still knows. Known outside only where the
                # frame's table as detected is.
                self.project.mark_edited(frame, outside=self._detected[frame] is not None)
            self._save(frame, now)
            self.actions.append(("edit", frame, held_edits))
            self._sync_edited(frame)  # an edit undone by hand, or made inside accepted regions only
            changed.append(frame)
        if changed and self.kind == "chains":
            self._redraw_paths()
        if changed:
            self._changed()
        return changed

    def _take_off_outside_stack(self) -> str | None:
        """Take the rods or beads lying on no frame of the stack off the layer: drawn while the slider stood past
        its last frame (a longer layer lets it go there), one made every later save fail, as the project holds the
        stack's frames only (as the spheres dock does: annotation.py). Returns what to say about them; None when
        there were none."""
        layer = self.main_layer
        if not self.stack or not len(layer.data):
            return None
        frames = self._drawn_frames()
        outside = (frames < 0) | (frames >= self.n_frames)
        if not outside.any():
            return None
        self._quiet = True
        try:
            layer.selected_data = set(np.flatnonzero(outside).tolist())
            layer.remove_selected()
        finally:
            self._quiet = False
        # The rows after the last finished edit are the next one's new rods or beads: none of these.
        self._seen = len(layer.data)
        self._note_widths()
        objects = ("rod", "rods", "drawn") if self.kind == "rods" else ("bead", "beads", "placed")
        return outside_stack_refusal(frames[outside], objects, objects[1], self.image.name, self.n_frames)

    def _changed(self) -> None:
        if self.on_change is not None and not self._away:  # put away, it is no longer what the dock shows
            self.on_change()

    def relink(self, how: str) -> int:
        """Link (``how`` "link") two chain ends, or "cut" the bond between two neighbours, of the two
        beads selected in the beads layer; saved at once. Returns the frame changed."""
        from ..projects.chain_edits import cut_bond, link_ends

        layer = self.main_layer
        if self.kind != "chains" or layer is None:
            raise ParticleDetectError("link and cut are for chains: detect chains first")
        rows = sorted(layer.selected_data)
        if len(rows) != 2:
            raise ParticleDetectError(f"select exactly two beads in '{layer.name}' (select mode, click one, "
                                      f"Shift+click the other); {len(rows)} selected")
        data = np.asarray(layer.data)
        # With their positions: a link is refused across more than a bond (projects.chain_edits.link_ends).
        beads = layer.features.assign(frame=np.rint(data[:, 0]).astype(int) if data.shape[1] == 3 else 0,
                                      y=data[:, -2], x=data[:, -1])
        changed = (link_ends if how == "link" else cut_bond)(beads, *rows)
        features = layer.features.copy()
        for column in ("chain", "index", "closed"):
            features[column] = changed[column].to_numpy()
        features[RING_BEADS] = ring_sizes(changed)  # a ring linked or opened: its size from now on
        self._quiet = True
        try:
            layer.features = features
        finally:
            self._quiet = False
        self.sync()
        return int(changed.at[rows[0], "frame"])

    def _redraw_paths(self) -> None:
        name = self.names[1]
        if name not in self.viewer.layers:
            return
        drawn = chain_paths(self.whole_table(), self.image.ndim)
        quiet, self._quiet = self._quiet, True  # not a user's edit of the paths (_on_paths_data)
        try:
            draw_paths(self.viewer.layers[name], drawn)
        finally:
            self._quiet = quiet

    def _save(self, frame: int, table: pd.DataFrame) -> None:
        save_kind_frame(self.project, frame, table)
        self.tables[frame] = load_kind_frame(self.project, frame)

    # ---- edited frames -----------------------------------------------------------------------
    def _edited_outside(self, frame: int, current: pd.DataFrame, regions: list[Region] | None = None) -> bool:
        """Whether ``current`` differs from ``frame``'s table as detected outside its accepted regions (rods centred
        there, beads there and their bonds), sources aside: accepting turns the model's into 'accepted'.
        ``regions``: other regions than those (none: anywhere on the frame)."""
        regions = self.project.regions(int(frame)) if regions is None else regions
        return self._differs(frame, current, lambda table: ~Annotation._in_any(regions, table))

    def _edited_inside(self, frame: int, current: pd.DataFrame, regions: list[Region]) -> bool:
        """Whether ``current`` differs from ``frame``'s table as detected inside its accepted ``regions`` (what a
        detection keeps there): edits an un-accepted region no longer teaches."""
        return self._differs(frame, current, lambda table: Annotation._in_any(regions, table))

    def _differs(self, frame: int, current: pd.DataFrame, where) -> bool:
        """Whether ``current`` differs from ``frame``'s table as detected at the rows ``where(table)`` picks."""
        detected = self._detected.get(int(frame))
        if detected is None:  # edits of an earlier session: counted, as a missed notice costs the user's edits
            return True
        picked = [where(table) for table in (current, detected)]
        if self.kind == "chains":
            return bonded_beads(current, picked[0]) != bonded_beads(detected, picked[1])
        return not _same(current[picked[0]].assign(source=""), detected[picked[1]].assign(source=""),
                         COMPARED[self.kind])

    def _sync_edited(self, frame: int) -> None:
        """Mark ``frame`` edited in the project while this session's edits of it reach outside its accepted regions,
        and not otherwise (edits undone, by Undo or by hand, or inside those regions). A frame whose table as
        detected is not known (edits of an earlier session) stays as marked."""
        frame = int(frame)
        if self._detected.get(frame) is None or frame not in self.tables:
            return
        if self._edited_outside(frame, self.tables[frame]):
            self.project.mark_edited(frame, outside=True)
        else:  # recorded edited inside the regions where it is: a later session's un-accepting one marks it again
            self.project.clear_edited([frame], inside=self._edited_outside(frame, self.tables[frame], []))

    def _region_unaccepted(self, frame: int, region: Region) -> None:
        """Un-accept ``region``: edits inside it are no longer learned, so its frame is edited again where they
        were. For a frame this session did not edit (its table as detected is gone), the project marks one it
        recorded edited inside its regions, and rods or beads drawn by hand inside the region are edits (as the
        spheres dock judges: annotation.py _region_unaccepted)."""
        self.project.unaccept_region(frame, region)
        if frame in self._detected:
            self._sync_edited(frame)
        elif frame not in self.project.edited_frames and frame in self.tables:
            table = self.tables[frame]
            added = region.contains(table["y"], table["x"]) & (table["source"] == "added").to_numpy()
            if added.any():
                outside = added & ~Annotation._in_any(self.project.regions(frame), table)
                self.project.mark_edited(frame, outside=bool(outside.any()))

    def _detected_again(self, frame: int, regions: list[Region], new: pd.DataFrame) -> None:
        """``frame`` detected again, ``new`` put outside its accepted ``regions``: its table as detected is that,
        with what it was detected as inside them, where this session's edits there stay."""
        old = self._detected.pop(frame, None)
        if old is not None and regions:
            self._detected[frame] = self._joined(self._kept(old, Annotation._in_any(regions, old)), new)

    # ---- detection ---------------------------------------------------------------------------
    def model_path(self):
        return kind_model_path(self.project)

    def set_detections(self, table: pd.DataFrame, frames: list[int] | None = None, shown: bool = True,
                       detected_by: int | None = None) -> list[int]:
        """The model's rods or beads into the project and layers, frame by frame; returns the frames saved.
        A frame reviewed whole is left as reviewed; on a frame with accepted regions what is inside them
        stays. A frame the user had edited since it was last detected, in this session or an earlier one,
        keeps those edits one Undo away (``replaced_edits``). ``shown`` False: the detection ended after
        this session was put away (or its dock closed), so nothing is drawn and an edited frame keeps its
        edits (``kept_edits``): their Undo would stay in this session, which nobody sees again. ``detected_by``: the
        round that found ``table``, recorded for the frames saved (None: not recorded)."""
        self.sync()
        found_by = self.project.detected_by
        kept, self.replaced_edits, self.kept_edits = [], [], []
        marked = set(self.project.edited_frames)  # edits outside accepted regions, which a detection replaces
        edited = marked | set(self._detected)  # and edits inside them: their Undo steps stand
        edited_inside = set(self.project.edited_inside_frames)
        table = table.assign(source="model")
        # A frame detected empty is saved empty: it was detected (and may be accepted as holding nothing).
        for frame in sorted(set(table["frame"].astype(int)) if frames is None else set(map(int, frames))):
            if self.project.is_reviewed(frame):
                continue
            found = table[table["frame"] == frame].reset_index(drop=True)
            regions = self.project.regions(frame)
            saved = self.tables.get(frame)
            replaced, new = saved, found  # what the detection takes off the frame, and what it puts there
            if regions and saved is not None:
                inside, outside = Annotation._in_any(regions, saved), ~Annotation._in_any(regions, found)
                replaced, new = self._kept(saved, ~inside), self._kept(found, outside)
                found = self._joined(self._kept(saved, inside), new)
            # Edits that all lie where the detection changes nothing (inside accepted boxes) are not detected over.
            over_edits = frame in marked and saved is not None and not _same(replaced, new, COMPARED[self.kind])
            if over_edits and not shown:  # still marked edited: Detect there, shown, replaces them one Undo away
                self.kept_edits.append(frame)
                continue
            if over_edits:
                self.history.record(frame, saved, found_by.get(frame))
                self.actions.append(("edit", frame, True))
                self.replaced_edits.append(frame)
            elif frame not in edited:
                self.history.forget(frame)
            # else: the frame's edits stand as they were, and so do their Undo steps.
            inside = bool(regions) and saved is not None and (
                frame in edited_inside or frame in edited and self._edited_inside(frame, saved, regions))
            self._save(frame, found)
            # Only once replaced: a detection that could not be saved leaves the frame's edits marked. Edits kept
            # inside accepted regions stay recorded: un-accepting the region must find the rods or beads deleted there.
            self.project.clear_edited([frame], inside=inside)
            self._detected_again(frame, regions if saved is not None else [], new)
            kept.append(frame)
        if detected_by is not None and kept:
            # Kept in the project, not the dock: the line names the round once the frame is shown again, in a later
            # session too, and Undo past a detection names the round of what it brings back.
            self.project.record_detections(kept, detected_by)
        if shown:
            self.redraw()
            self._changed()
        return kept

    def share_undo(self, kept: dict) -> None:
        """Take this project's Undo steps from ``kept`` (per project folder), or leave this session's there: the
        image or kind worked on again (in the same dock) is undone as far back as before, as the Particle detection
        dock keeps each image's history while another is worked on."""
        self.history, self.actions, self._detected = kept.setdefault(self.project.folder,
                                                                     (self.history, self.actions, self._detected))

    def put_away(self) -> list[str]:
        """Another image or kind is worked on, or the dock closed: save the edits, stop hearing this
        session's layers and remove them, review box and outlines too (its project brings them back when it
        is chosen again). Emptied, hidden and locked instead, as they once were, they crowded the layer list
        with layers that showed nothing and took no edit. Returns the names of the layers removed."""
        if self.image in self.viewer.layers and not self._away:
            self.sync()
        self._stop_hearing()
        self.image.events.name.disconnect(self._follow_name)
        self._away = True
        mine = [self.viewer.layers[n] for n in self.names if n in self.viewer.layers]
        mine += self.regions.release()
        # The viewer's canvas is made current as each leaves (layers.guard_canvas_from_removed_layers): removed
        # from another OpenGL context, a layer just drawn in crashed napari under software OpenGL.
        guard_canvas_from_removed_layers(self.viewer)
        for layer in mine:
            self.viewer.layers.remove(layer)
        return [layer.name for layer in mine]

    def _kept(self, table: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
        """The rows of ``table`` where ``keep``; a chain an accepted box's edge crosses is cut into the runs
        of beads kept (with a gap in its index the frame could not be saved)."""
        return chains.keep_beads(table, keep) if self.kind == "chains" else table[keep]

    def _joined(self, keep: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
        if self.kind == "chains" and len(keep):
            new = new.assign(chain=new["chain"] + int(keep["chain"].max()) + 1)
        return pd.concat([keep, new], ignore_index=True)

    # ---- reviewing ---------------------------------------------------------------------------
    def _check_reviewable(self, frame: int) -> None:
        self._refuse_off_screen()
        if self.main_layer is None and self.tables:  # nothing is accepted unseen
            self.redraw()
            raise ParticleDetectError(f"'{self.names[0]}' was closed: it is back with what the project keeps; look "
                                      "at it, then accept")
        if int(frame) not in self.tables:
            what = "rods" if self.kind == "rods" else "beads"
            raise ParticleDetectError(f"frame {frame} was never detected or edited: run Detect on it, or draw its "
                                      f"{what}, before accepting it")

    def accept_frame(self, frame: int) -> pd.DataFrame:
        self.sync()
        self._check_reviewable(frame)
        before = self.tables.get(frame, self.frame_table(frame).iloc[:0])
        accepted = accept_kind_frame(self.project, frame, self.frame_table(frame))
        self.tables[frame] = load_kind_frame(self.project, frame)
        self.actions.append(("accept", frame, None, before))
        self.regions.clear_draft(frame)  # a proposed box on the frame is moot once all of it is accepted
        self.redraw()
        self._changed()
        return accepted

    def accept_region(self, frame: int, box: Box | None = None) -> Region:
        """Accept the review box drawn (or proposed) on ``frame`` (or ``box``)."""
        self.sync()
        box = box if box is not None else self.regions.draft_box(frame)
        if box is None:
            raise ParticleDetectError("draw a box around what you checked first (Draw box)")
        self._check_reviewable(frame)
        before = self.tables.get(frame, self.frame_table(frame).iloc[:0])
        accept_kind_region(self.project, frame, box, self.frame_table(frame))
        region = self.project.regions(frame)[-1]
        self.tables[frame] = load_kind_frame(self.project, frame)
        self._sync_edited(frame)
        self.actions.append(("accept", frame, region, before))
        self.regions.clear_draft(frame)
        self.regions.show_accepted(self.project.regions())
        self.redraw()
        self._changed()
        return region

    def undo(self) -> str:
        """Take back the last acceptance or edit of this session; says what it did. Not with the slider past the
        stack's last frame, as the spheres dock's Undo: what it takes back would change unseen. A step of another
        frame is taken back on it, the slider moved there (as the spheres dock's Un-accept goes to the frame it
        un-accepts): on frame 2, an Undo un-accepted frame 0 out of sight."""
        self._refuse_off_screen()
        if not self.actions:
            raise ParticleDetectError("nothing to undo")
        action = self.actions.pop()
        frame = action[1]
        self.go_to_frame(frame)
        if action[0] == "accept":
            _, frame, region, before = action
            self._unaccept(frame, region, by_undo=True)
            self._save(frame, before)
            what = f"frame {frame} un-accepted" if region is None else f"a region of frame {frame} un-accepted"
        elif action[0] == "unaccept":
            _, frame, region, accepted, record = action
            if region is None:
                accept_kind_frame(self.project, frame, accepted)
            else:
                accept_kind_region(self.project, frame, region, accepted)
            self.tables[frame] = load_kind_frame(self.project, frame)
            self._restore_edit_record(frame, record)
            what = f"frame {frame} accepted again" if region is None else f"a region of frame {frame} accepted again"
        else:
            _, frame, held_edits = action
            found_by = self.project.detected_by.get(frame)
            restored = self.history.undo(frame, self.tables.get(frame, self.frame_table(frame).iloc[:0]), found_by)
            if restored is None:
                raise ParticleDetectError("nothing to undo")
            # The frame is edited as it was before this edit: its detection again when that edit was the first,
            # and edits brought back from under a detection are edits again (the next Detect keeps them one Undo
            # away, not forgets them).
            if held_edits:
                self.project.mark_edited(frame)
            self._save(frame, restored.table)
            if not held_edits:  # only once saved: a frame that could not be is as edited as it was
                self.project.clear_edited([frame])
            if restored.detected_by != found_by:  # back past a detection: its rods or beads are the earlier round's
                self.project.set_detected_by(frame, restored.detected_by)
            what = f"the last edit of frame {frame} undone"
        self._sync_edited(frame)
        self.regions.show_accepted(self.project.regions())
        self.redraw()
        self._changed()
        return what

    def unaccept_frame(self, frame: int) -> None:
        """``frame`` back to unreviewed, its rods or beads as they are now: also a frame accepted in an earlier
        session, which this session's Undo does not reach. Undo accepts it again."""
        self.sync()
        self._refuse_off_screen()
        frame = int(frame)
        if not self.project.is_reviewed(frame):
            raise ParticleDetectError(f"frame {frame} is not accepted")
        accepted = self.tables[frame] if frame in self.tables else self.frame_table(frame)
        record = self._edit_record(frame)
        self.project.unaccept_frame(frame)
        # An Undo step like Accept: the acceptances before it stay Undo's to take back, once it is undone.
        self.actions.append(("unaccept", frame, None, accepted, record))
        self._changed()

    def unaccept_regions(self, frame: int) -> list[Region]:
        """Un-accept the regions of ``frame`` selected in the outlines layer, else the last one accepted there: also
        those accepted in an earlier session, which this session's Undo does not reach (as the spheres dock's
        Un-accept region). Their rods or beads stay as they are; Undo accepts each again."""
        self.sync()
        self._refuse_off_screen()
        chosen = self.regions.selected_accepted(int(frame)) or self.project.regions(int(frame))[-1:]
        if not chosen:
            raise ParticleDetectError(f"frame {frame} has no accepted region")
        for region in chosen:
            accepted = self.tables[region.frame] if region.frame in self.tables else self.frame_table(region.frame)
            record = self._edit_record(region.frame)
            self._unaccept(region.frame, region)
            self.actions.append(("unaccept", region.frame, region, accepted, record))
        self.regions.show_accepted(self.project.regions())
        self._changed()
        return chosen

    def _edit_record(self, frame: int) -> tuple[bool, bool, bool]:
        """The project's record of ``frame``'s edits: (edited, edits known outside its regions, edited inside them
        only). Un-accepting a region changes it, and a later session's Undo cannot judge it again (_sync_edited
        needs the frame's table as detected): Undo puts it back as it was."""
        project, frame = self.project, int(frame)
        edited = frame in project.edited_frames
        return edited, edited and frame not in project.edited_where_unknown, frame in project.edited_inside_frames

    def _restore_edit_record(self, frame: int, record: tuple[bool, bool, bool]) -> None:
        edited, outside, inside = record
        if edited:
            if not outside and frame in self.project.edited_frames:
                # Marking is written once (Project.mark_edited): an 'edits outside' mark gained since the record
                # stays unless the frame is cleared first, and the rounds' line then spoke of edits outside regions.
                self.project.clear_edited([frame])
            self.project.mark_edited(frame, outside=outside)
        else:
            self.project.clear_edited([frame], inside=inside)

    def _unaccept(self, frame: int, region: Region | None, by_undo: bool = False) -> None:
        if region is None:
            self.project.unaccept_frame(frame)
        else:
            self._region_unaccepted(int(frame), region)
        if not by_undo:
            # Taken back otherwise than by Undo, this session's acceptances of it are no longer Undo's to take
            # back: undoing one would put back the table from before it, over the edits made since.
            # In place: the list may be the dock's, kept for the project's next session (share_undo).
            self.actions[:] = [a for a in self.actions if a[:3] != ("accept", int(frame), region)]

    def _regions_deleted(self, regions: list[Region]) -> None:
        if self._away:
            return
        for region in regions:
            self._unaccept(region.frame, region)
        self.regions.show_accepted(self.project.regions())
        self._changed()

    def reviewed_masks(self) -> dict[int, np.ndarray]:
        masks: dict[int, np.ndarray] = {}
        for region in self.project.regions():
            mask = masks.setdefault(region.frame, np.zeros(self.regions.shape, dtype=bool))
            mask[max(0, int(np.ceil(region.y0))):max(0, int(np.ceil(region.y1))),
                 max(0, int(np.ceil(region.x0))):max(0, int(np.ceil(region.x1)))] = True
        return masks

    def next_proposal(self, threshold: float, mode: str = "region") -> Proposal:
        """The unreviewed region (or frame) where the model's rods or beads score nearest the threshold."""
        detected = detections(self.project)
        found = {f: d for f, d in detected.items() if not self.project.is_reviewed(f)}
        if not found:
            raise ParticleDetectError(self._all_reviewed(detected) if detected
                                      else "nothing to rank yet: run Detect first")
        if mode == "frame":
            ranked = rank_frames(found, threshold)
        else:
            size = typical_size(self.kind, self.whole_table())
            # Regions of about four rod lengths (eight bead diameters), as sphere regions hold a few dozen objects.
            size = size / 2 if self.kind == "rods" else size
            ranked = rank_regions(found, self.regions.shape, threshold, size, self.reviewed_masks())
        if not ranked:
            raise ParticleDetectError(nothing_left("every detected frame is reviewed" if mode == "frame"
                                                   else "no unreviewed region left in the detected frames",
                                                   self._undetected(detected), self.current_frame()))
        fresh = [proposal for proposal in ranked if key(proposal) not in self._passed]
        if not fresh:  # every one shown once: round again from the most uncertain, as the other docks do
            self._passed.clear()
            fresh = ranked
        self._passed.add(key(fresh[0]))
        return fresh[0]

    def _undetected(self, detected: dict) -> list[int]:
        """The frames neither in ``detected`` (saved frames) nor reviewed: Review next has nothing of theirs to rank."""
        reviewed = self.project.is_reviewed
        return [frame for frame in range(self.n_frames) if frame not in detected and not reviewed(frame)]

    def _all_reviewed(self, detected: dict) -> str:
        """Why Review next has nothing to propose once all that was detected is accepted: a single image has no
        other frame to detect, nor a stack whose every frame is reviewed ("run Detect on another frame" sent its
        user looking for one)."""
        if self.stack:
            undetected = self._undetected(detected)
            if undetected:
                return nothing_left("every detected frame is reviewed", undetected, self.current_frame())
            return "every frame is reviewed: nothing left to propose (Un-accept one to review it again)"
        return f"'{self.image.name}' is reviewed: nothing left to propose (Un-accept it to review it again)"

    def go_to_frame(self, frame: int) -> None:
        """Show ``frame`` of the stack (the slider moved there)."""
        if self.stack and self.current_frame() != frame:
            step = list(self.viewer.dims.current_step)
            step[0] = int(frame)
            self.viewer.dims.current_step = tuple(step)

    def show_proposal(self, proposal: Proposal) -> None:
        self.go_to_frame(proposal.frame)
        box = proposal_box(proposal)
        if box is not None:
            self.regions.propose(proposal.frame, box)
            zoom_to_box(self.viewer, self.image, box)
        self.viewer.layers.selection.active = self.main_layer

    def current_frame(self) -> int:
        """The slider's frame: past the stack's last one where a longer layer let the slider go there."""
        return int(self.viewer.dims.current_step[0]) if self.stack else 0

    @property
    def n_frames(self) -> int:
        return self.image.data.shape[0] if self.stack else 1

    def frame_off_screen(self) -> str | None:
        """Why no frame of this stack is on screen, in one line (the spheres dock's, Annotation.frame_off_screen):
        the slider stands outside it, so nothing can be detected, accepted or said of the frame there; None when
        the current frame is one of the stack's."""
        if self.current_frame() < self.n_frames:  # the slider's step is never negative
            return None
        return (f"the slider is past '{self.image.name}''s last frame ({self.n_frames} frames), so none of it is "
                f"drawn: move it back onto frames 0-{self.n_frames - 1}")

    def _refuse_off_screen(self) -> None:
        unseen = self.frame_off_screen()
        if unseen is not None:
            raise ParticleDetectError(unseen)


class KindRegionLayers(RegionLayers):
    """The review box and accepted outlines of one image and kind: removed when their session is put away,
    taken over by the next session of that image and kind when found in place."""

    def _names(self) -> dict[str, str]:
        return {"draft": f"{self.label} review box", "accepted": f"{self.label} reviewed regions"}

    def adopt(self) -> None:
        """Take over the layers of these names (their outlines are redrawn by ``show_accepted``)."""
        names = self._names()
        if names["draft"] in self.viewer.layers:
            # Marked as ensure_draft marks its own: renamed later, a box still held was said to come back on close.
            self.draft = mark_review_box(self.viewer.layers[names["draft"]])
            self.draft.visible = self.draft.editable = True
            place_over_image(self.viewer, self.draft, self.image)
        if names["accepted"] in self.viewer.layers:
            self.accepted = self.viewer.layers[names["accepted"]]
            self.accepted.visible = True  # not editable: accepted regions change through the dock
            self.accepted.events.data.connect(self._on_accepted_data)
            place_over_image(self.viewer, self.accepted, self.image)

    def release(self) -> list:
        """Let go of both layers, for the caller to remove: deleting an outline no longer un-accepts anything.
        Returns those in the viewer."""
        released = [layer for layer in (self.accepted, self.draft) if self._live(layer)]
        if self._live(self.accepted):
            self.accepted.events.data.disconnect(self._on_accepted_data)
        self.draft = self.accepted = None
        return released


def _same(a: pd.DataFrame, b: pd.DataFrame, columns: list[str]) -> bool:
    if len(a) != len(b):
        return False
    if not len(a):
        return True
    order = ["y", "x"]
    a, b = a.sort_values(order).reset_index(drop=True), b.sort_values(order).reset_index(drop=True)
    values = [np.asarray(t[columns], float) for t in (a, b)]
    return bool(np.allclose(values[0], values[1], atol=1e-3, equal_nan=True)) and \
        list(a["source"].astype(str)) == list(b["source"].astype(str))


def _stand_out(drawn: pd.DataFrame, known: pd.DataFrame, pixels: np.ndarray) -> np.ndarray:
    """Which rods of ``drawn`` lie over something: their axes (the middle half, where widths are measured) stand
    out from ``pixels``' background at least STANDS_OUT x as much, and the same way, as the ``known`` rods' do.
    All of them where there are no known rods, or those do not stand out, to compare with."""
    from ..kinds.rod_width import median_over_lines, sampled_profiles

    def axis_levels(table: pd.DataFrame) -> np.ndarray:
        columns = [table[c].to_numpy(float) for c in ROD_AXES]
        profiles = sampled_profiles(pixels, np.stack(columns[:2], axis=1), *columns[2:])
        return median_over_lines(profiles)[:, profiles.shape[-1] // 2]

    if not len(known):
        return np.ones(len(drawn), bool)
    background = float(np.median(pixels))
    rods = axis_levels(known) - background
    sign = -1.0 if np.nanmedian(rods) < 0 else 1.0
    reference = float(np.nanmedian(sign * rods))
    if not reference > 0:
        return np.ones(len(drawn), bool)
    return sign * (axis_levels(drawn) - background) >= STANDS_OUT * reference
