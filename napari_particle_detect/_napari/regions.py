"""Rectangles over an image: the review box the user draws (or the dock proposes) and the regions
already accepted, as two napari Shapes layers. No Qt widgets here.

Boxes are ``(y0, x0, y1, x1)`` in the image's pixel coordinates, pixel centres at whole numbers,
as :class:`~napari_particle_detect.projects.project.Region` keeps them: a point is inside when
``y0 <= y < y1`` and ``x0 <= x < x1``, so a drawn rectangle holds exactly the points seen inside it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import numpy as np
from napari.layers import Image, Shapes
from napari.layers.base import ActionType

from ..projects.project import Region
from .layers import place_over_image

DRAFT_COLOUR = "orange"
ACCEPTED_COLOUR = "lime"
Box = tuple[float, float, float, float]
# The review box layers the docks made, known as such whatever the user renames them: a dock closing removes its box,
# and a box renamed was said to come back with the layers its project keeps (dock_closing.put_away_words).
REVIEW_BOXES: weakref.WeakSet = weakref.WeakSet()


def mark_review_box(layer: Shapes) -> Shapes:
    """``layer``, a dock's review box, known as one from now on (REVIEW_BOXES)."""
    REVIEW_BOXES.add(layer)
    return layer


def frame_extent(shape: tuple[int, int]) -> Box:
    """The box of a whole frame: pixels span half a pixel either side of their centres."""
    return (-0.5, -0.5, shape[0] - 0.5, shape[1] - 0.5)


def clip_box(box: Box, shape: tuple[int, int]) -> Box | None:
    """``box`` cut to the frame; None when nothing of it is left."""
    lo_y, lo_x, hi_y, hi_x = frame_extent(shape)
    y0, x0, y1, x1 = (float(v) for v in box)
    y0, y1 = sorted((y0, y1))
    x0, x1 = sorted((x0, x1))
    y0, x0, y1, x1 = max(y0, lo_y), max(x0, lo_x), min(y1, hi_y), min(x1, hi_x)
    return (y0, x0, y1, x1) if y1 > y0 and x1 > x0 else None


def box_text(box: Box) -> str:
    """'y 0-140, x 80-160': the pixel rows and columns a box spans, half-open as proposals say them
    (a box drawn from a frame's edge starts at -0.5, which must not read '-0')."""
    y0, x0, y1, x1 = (int(np.ceil(v)) for v in box)
    return f"y {max(y0, 0)}-{y1}, x {max(x0, 0)}-{x1}"


def rectangle(frame: int, box: Box, stack: bool) -> np.ndarray:
    """A Shapes rectangle's four corners ((frame,) y, x) for ``box``."""
    y0, x0, y1, x1 = box
    corners = np.array([[y0, x0], [y0, x1], [y1, x1], [y1, x0]], dtype=float)
    return np.column_stack([np.full(4, float(frame)), corners]) if stack else corners


def bounding_box(vertices: np.ndarray) -> Box:
    yx = np.asarray(vertices, dtype=float)[:, -2:]
    return (float(yx[:, 0].min()), float(yx[:, 1].min()), float(yx[:, 0].max()), float(yx[:, 1].max()))


class RegionLayers:
    """The review box (drawn by the user or proposed) and the accepted regions of one image."""

    def __init__(self, viewer, image: Image, layer_kwargs: dict,
                 on_deleted: Callable[[list[Region]], None] | None = None, label: str | None = None) -> None:
        self.viewer = viewer
        self.image = image
        # The layers' names start with this (default: the image's name; the rods and chains dock adds its kind).
        self.label = label or image.name
        self.stack = image.ndim == 3
        self.shape = tuple(int(v) for v in image.data.shape[-2:])
        # Placed like the image (scale, translate, units), so shape coordinates are its pixels.
        self._layer_kwargs = layer_kwargs
        self.draft: Shapes | None = None
        self.accepted: Shapes | None = None
        self._accepted_regions: list[Region] = []
        # Outlines deleted in their layer (select, Delete) are un-accepted through this: the outline
        # layer never shows other regions than those accepted.
        self._on_deleted = on_deleted
        self._quiet = False
        self._deleting: list[Region] = []

    @property
    def edge_width(self) -> float:
        return max(1.0, min(self.shape) / 200)

    def _live(self, layer: Shapes | None) -> bool:
        return layer is not None and layer in self.viewer.layers

    # ---- the review box ----------------------------------------------------------------------
    def ensure_draft(self) -> Shapes:
        if not self._live(self.draft):
            self.draft = self.viewer.add_shapes(
                ndim=self.image.ndim, name=f"{self.label} review box", edge_color=DRAFT_COLOUR,
                face_color="transparent", edge_width=self.edge_width, **self._layer_kwargs,
            )
            mark_review_box(self.draft)
            self.draft.current_edge_color = DRAFT_COLOUR
            self.draft.current_face_color = "transparent"
            self.draft.current_edge_width = self.edge_width
            place_over_image(self.viewer, self.draft, self.image)
        return self.draft

    def start_drawing(self) -> Shapes:
        """Make the review box layer active in rectangle mode, ready for a drag."""
        layer = self.ensure_draft()
        self.viewer.layers.selection.active = layer
        layer.mode = "add_rectangle"
        return layer

    def propose(self, frame: int, box: Box) -> None:
        """Replace the review boxes of ``frame`` by ``box``."""
        layer = self.ensure_draft()
        self.clear_draft(frame)
        layer.add_rectangles(rectangle(frame, box, self.stack), edge_color=DRAFT_COLOUR, face_color="transparent",
                             edge_width=self.edge_width)

    def draft_box(self, frame: int) -> Box | None:
        """The box to accept on ``frame``: the selected review box, else the last one drawn there."""
        if not self._live(self.draft):
            return None
        on_frame = self._on_frame(self.draft, frame)
        if not on_frame:
            return None
        selected = [i for i in on_frame if i in self.draft.selected_data]
        index = (selected or on_frame)[-1]
        return clip_box(bounding_box(self.draft.data[index]), self.shape)

    def clear_draft(self, frame: int) -> None:
        if self._live(self.draft):
            doomed = self._on_frame(self.draft, frame)
            if doomed:
                self.draft.selected_data = set(doomed)
                self.draft.remove_selected()

    def _on_frame(self, layer: Shapes, frame: int) -> list[int]:
        if not self.stack:
            return list(range(len(layer.data)))
        return [i for i, vertices in enumerate(layer.data) if int(round(float(np.mean(vertices[:, 0])))) == frame]

    # ---- accepted regions --------------------------------------------------------------------
    def show_accepted(self, regions: list[Region]) -> None:
        """Outline every accepted region (the layer is made when there is a first one)."""
        self._accepted_regions = list(regions)
        if not regions and not self._live(self.accepted):
            return
        shapes = [rectangle(r.frame, r.box, self.stack) for r in regions]
        if not self._live(self.accepted):
            self.accepted = self.viewer.add_shapes(
                shapes, shape_type="rectangle", ndim=self.image.ndim, name=f"{self.label} reviewed regions",
                edge_color=ACCEPTED_COLOUR, face_color="transparent", edge_width=self.edge_width,
                **self._layer_kwargs,
            )
            self.accepted.editable = False  # what was accepted changes through the dock, not by dragging
            self.accepted.events.data.connect(self._on_accepted_data)
            place_over_image(self.viewer, self.accepted, self.image)
        else:
            layer = self.accepted
            self._quiet = True
            try:
                layer.selected_data = set(range(len(layer.data)))
                layer.remove_selected()  # (napari cannot be given an empty list of shapes as data)
                if shapes:
                    layer.add_rectangles(shapes, edge_color=ACCEPTED_COLOUR, face_color="transparent",
                                         edge_width=self.edge_width)
            finally:
                self._quiet = False

    def _on_accepted_data(self, event) -> None:
        if self._quiet:
            return
        action = getattr(event, "action", None)
        if action == ActionType.REMOVING:
            indices = getattr(event, "data_indices", ()) or ()
            self._deleting = [self._accepted_regions[i] for i in indices if 0 <= i < len(self._accepted_regions)]
        elif action == ActionType.REMOVED:
            deleted, self._deleting = self._deleting, []
            self._accepted_regions = [r for r in self._accepted_regions if r not in deleted]
            if deleted and self._on_deleted is not None:
                self._on_deleted(deleted)

    def selected_accepted(self, frame: int) -> list[Region]:
        """The accepted regions of ``frame`` selected in their layer: napari keeps a selection as the slider moves,
        and a region selected on another frame, off screen, was un-accepted unseen."""
        if not self._live(self.accepted):
            return []
        return [self._accepted_regions[i] for i in sorted(self.accepted.selected_data)
                if i < len(self._accepted_regions) and self._accepted_regions[i].frame == int(frame)]

    def owns(self, layer) -> bool:
        return layer is self.draft or layer is self.accepted

    def forget(self, layer) -> None:
        if layer is self.draft:
            self.draft = None
        elif layer is self.accepted:
            self.accepted = None

    def remove_layers(self) -> None:
        for layer in (self.draft, self.accepted):
            if self._live(layer):
                self.viewer.layers.remove(layer)
        self.draft = self.accepted = None


def zoom_to_box(viewer, image: Image, box: Box, fill: float = 0.7) -> None:
    """Centre the camera on ``box`` (image pixels) and zoom so it fills ``fill`` of the canvas."""
    y0, x0, y1, x1 = box
    scale = np.asarray(image.scale[-2:], dtype=float)
    translate = np.asarray(image.translate[-2:], dtype=float)
    centre = translate + scale * np.array([(y0 + y1) / 2, (x0 + x1) / 2])
    size = scale * np.array([max(y1 - y0, 1.0), max(x1 - x0, 1.0)])
    canvas = np.asarray(viewer.canvas.size, dtype=float)
    scene = getattr(viewer, "scene", None)  # napari 0.9 moved the camera there (viewer.camera warns)
    camera = scene.camera if scene is not None and hasattr(scene, "camera") else viewer.camera
    camera.center = (*camera.center[:-2], *centre) if len(camera.center) == 3 else tuple(centre)
    camera.zoom = float(fill * np.min(canvas / size))
