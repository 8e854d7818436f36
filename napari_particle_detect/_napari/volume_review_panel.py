"""The volume dock's Review box: accept a whole volume or a 3D box (a rectangle drawn in 2D slicing over
the z range set beside it), Undo, Review next, Export. A thin skin over :mod:`volume_review`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from napari.layers import Shapes
from qtpy.QtWidgets import QComboBox, QDoubleSpinBox, QFileDialog, QGridLayout, QGroupBox, QLabel, QPushButton

from ..errors import ParticleDetectError
from ..projects.volume_review import Redetection, VolumeReview
from .annotation import placement
from .labels import WholeLabel
from .layers import place_over_image
from .notify import reports_errors, show_info
from .regions import bounding_box, box_text, mark_review_box
from .round_progress import noun

BOX_LAYER = "3D review box"
ACCEPTED_LAYER = "accepted 3D boxes"
NO_REVIEW = "detect first; then edit the points (P add, S select, Delete) – every edit is saved"
# The z range's "auto", one below its first slice: unset, Draw box proposes one around the slice shown. Shown as
# "z 0 0" it read as a range set to slice 0 alone.
UNSET_Z = -1


class VolumeReviewPanel(QGroupBox):
    def __init__(self, host) -> None:
        super().__init__("Review (3D)")
        self.host = host  # the VolumeDetectWidget: its review, points, image and current volume
        # Known by identity, not by name: a user's rename made the dock add a second layer of the same boxes and
        # leave the renamed one over the next image chosen; a layer of the user's own named so was taken over.
        self.draft: Shapes | None = None  # the box drawn or proposed
        self.accepted: Shapes | None = None  # the accepted boxes' outlines
        self.status = WholeLabel(NO_REVIEW)
        self.accept_volume_button = QPushButton("Accept volume")
        self.accept_volume_button.setToolTip("This volume's centres are right: all of it becomes training data")
        self.draw_button = QPushButton("Draw box")
        self.draw_button.setToolTip("Drag a rectangle on the slice; the box spans the z range set beside it")
        self.z_from, self.z_to = QDoubleSpinBox(), QDoubleSpinBox()
        for spin in (self.z_from, self.z_to):
            spin.setDecimals(0)
            spin.setRange(UNSET_Z, 1e5)
            spin.setSpecialValueText("auto")
            spin.setValue(UNSET_Z)
            spin.setToolTip("slices the 3D box spans (both included); auto: Draw box proposes them around the slice "
                            "shown")
        self.z_from.valueChanged.connect(lambda *_: self._pair_z(self.z_from, self.z_to))
        self.z_to.valueChanged.connect(lambda *_: self._pair_z(self.z_to, self.z_from))
        self.accept_box_button = QPushButton("Accept box")
        self.accept_box_button.setToolTip("The centres inside the 3D box are right; only the box becomes training data")
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Take back the newest acceptance (its points come back as they were), or a Detect "
                                    "that replaced your edits of a volume (they come back)")
        self.next_button = QPushButton("Review next")
        self.next_button.setToolTip("Go to where the model hesitates most: centres scored near its threshold")
        self.mode_combo = QComboBox()
        self.mode_combo.addItems(["by box", "by volume"])
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("frame,z,y,x,score (voxels), z_um,y_um,x_um when the voxel size is known")
        grid = QGridLayout(self)
        grid.addWidget(self.status, 0, 0, 1, 4)
        grid.addWidget(self.accept_volume_button, 1, 0, 1, 2)
        grid.addWidget(self.undo_button, 1, 2, 1, 2)
        grid.addWidget(self.draw_button, 2, 0)
        grid.addWidget(QLabel("z"), 2, 1)
        grid.addWidget(self.z_from, 2, 2)
        grid.addWidget(self.z_to, 2, 3)
        grid.addWidget(self.accept_box_button, 3, 0, 1, 4)
        grid.addWidget(self.next_button, 4, 0, 1, 3)
        grid.addWidget(self.mode_combo, 4, 3)
        grid.addWidget(self.export_button, 5, 0, 1, 4)
        self.accept_volume_button.clicked.connect(lambda *_: self.accept_volume())
        self.draw_button.clicked.connect(lambda *_: self.draw_box())
        self.accept_box_button.clicked.connect(lambda *_: self.accept_box())
        self.undo_button.clicked.connect(lambda *_: self.undo())
        self.next_button.clicked.connect(lambda *_: self.review_next())
        self.export_button.clicked.connect(lambda *_: self.export())
        self.refresh()

    # ---- state -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """The buttons, the status line and the accepted boxes' outlines as the project has them."""
        self.update_status()
        self.show_accepted()

    def update_status(self) -> None:
        review = self.host.review
        for button in (self.accept_volume_button, self.draw_button, self.accept_box_button, self.next_button,
                       self.export_button):
            button.setEnabled(review is not None)
        # Enabled with nothing to take back, it read as an edit there to undo, and its click only said so.
        self.undo_button.setEnabled(review is not None and _can_undo(review))
        if review is None:
            # The line of the image closed or left is no longer true; a volume refused is still refused.
            self.status.setText(self.host._refused or NO_REVIEW)
            return
        frame = self.host.current_frame()
        project = review.project
        boxes = [r for r in project.regions() if r.frame == frame]
        whole = project.is_reviewed(frame)
        total = len(project.reviewed_areas())
        accepted_boxes = f", {len(boxes)} accepted {'box' if len(boxes) == 1 else 'boxes'}" if boxes else ""
        self.status.setText(f"volume {frame}: {'accepted' if whole else 'not accepted'}{accepted_boxes}; "
                            f"{total} accepted {noun(total, 'area')} in this project")

    def layers(self) -> list[Shapes]:
        """The panel's layers in the viewer now (the review box, the accepted boxes), whatever they are named."""
        viewer = self.host.viewer
        return [layer for layer in (self.draft, self.accepted) if layer is not None and layer in viewer.layers]

    def _box_layer(self, create: bool = True) -> Shapes | None:
        viewer = self.host.viewer
        if self.draft is not None and self.draft in viewer.layers:
            return self.draft
        if not create:
            return None
        image = self.host.layer()
        # Marked: closing the dock tells a review box by the mark (dock_closing._review_boxes), whatever the user
        # renamed it; unmarked and renamed, it was said to come back with the project's layers.
        self.draft = mark_review_box(viewer.add_shapes(ndim=image.ndim, name=BOX_LAYER, **placement(image),
                                                       edge_color="yellow", face_color="transparent", edge_width=1.5))
        place_over_image(viewer, self.draft, image)
        return self.draft

    def show_accepted(self) -> None:
        """Each accepted 3D box outlined on every slice it spans (green; in the 3D view its top and bottom)."""
        review, viewer, image = self.host.review, self.host.viewer, self.host.layer()
        if review is None or image is None:
            return
        shapes = []
        for region in review.project.regions():
            z0, z1 = region.z_range or (-0.5, review.shape[0] - 0.5)
            prefix = [region.frame] if image.ndim == 4 else []
            slices = range(int(np.ceil(z0)), int(np.ceil(z1)))
            if viewer.dims.ndisplay == 3:  # in 3D, outlines on every slice would be a solid slab: top and bottom
                slices = sorted({slices[0], slices[-1]})
            for z in slices:
                corners = [(region.y0, region.x0), (region.y0, region.x1), (region.y1, region.x1), (region.y1, region.x0)]
                shapes.append(np.array([[*prefix, z, y, x] for y, x in corners]))
        if self.accepted is not None and self.accepted in viewer.layers and not shapes:
            # The last box un-accepted: left empty in the list, it read as accepted boxes, and closing the dock said it
            # came back when opened again (it did not: no box to draw).
            self.host.remove_own_layer(self.accepted)
        elif self.accepted is not None and self.accepted in viewer.layers:
            layer = self.accepted  # updated in place: adding a layer moves the dims, which refresh
            layer.data = []
            layer.add_rectangles(shapes, edge_width=1.0, edge_color="lime", face_color="transparent")
        elif shapes:
            self.accepted = viewer.add_shapes(shapes, shape_type="rectangle", ndim=image.ndim, name=ACCEPTED_LAYER,
                                              **placement(image), edge_color="lime", face_color="transparent",
                                              edge_width=1.0, opacity=0.8)
            place_over_image(viewer, self.accepted, image)
            if self.host.points is not None:
                viewer.layers.selection.active = self.host.points

    # ---- actions ---------------------------------------------------------------------------------
    @reports_errors
    def accept_volume(self) -> None:
        review = self.host.require_review()
        frame = self.host.current_frame()
        review.accept_volume(frame, self.host.table_of(frame))
        layer = self._box_layer(create=False)
        if layer is not None:
            layer.data = []  # a proposed or drawn box there is settled by accepting the whole volume
        self.host.reload_points()
        self.refresh()
        show_info(f"volume {frame} accepted")

    def draw_box(self) -> None:
        layer = self._box_layer()
        self.host.viewer.layers.selection.active = layer
        layer.mode = "add_rectangle"
        if self.z_to.value() <= self.z_from.value():
            self.set_z_range(*self.default_z_range())

    def default_z_range(self) -> tuple[float, float]:
        """About four particles deep around the slice shown."""
        review = self.host.require_review()
        z = self.host.current_slice()
        half = max(2.0, 2.0 * self.host.diameter_zyx()[0])
        return max(0.0, z - half), min(review.shape[0] - 1.0, z + half)

    def reset_z_range(self, slices: int | None) -> None:
        """Start the z range afresh for an image of ``slices`` slices (None: no image), kept within them: another
        image's range stayed, out of this one's slices or on slices nobody chose for it, and Draw box kept it."""
        for spin in (self.z_from, self.z_to):
            if slices is not None:
                spin.setRange(UNSET_Z, max(0, slices - 1))
            spin.setValue(UNSET_Z)

    def _pair_z(self, changed: QDoubleSpinBox, other: QDoubleSpinBox) -> None:
        """Both ends of the z range set, or neither: one set beside "auto" makes the other 0, as the range
        started before it could be unset (so Draw box and Accept box treat it as before); one stepped down to
        "auto" unsets both."""
        if changed.value() == UNSET_Z and other.value() != UNSET_Z:
            other.setValue(UNSET_Z)
        elif changed.value() != UNSET_Z and other.value() == UNSET_Z:
            other.setValue(0)

    def _z_range_set(self) -> bool:
        return self.z_from.value() != UNSET_Z and self.z_to.value() != UNSET_Z

    def set_z_range(self, z0: float, z1: float) -> None:
        self.z_from.setValue(round(z0))
        self.z_to.setValue(round(z1))

    @reports_errors
    def accept_box(self, box: tuple[float, float, float, float] | None = None) -> None:
        """Accept ``box`` (y0, x0, y1, x1), default the last rectangle drawn, over the z range set."""
        review = self.host.require_review()
        frame = self.host.current_frame()
        if box is None:
            layer = self._box_layer(create=False)
            if layer is None or not len(layer.data):
                raise ParticleDetectError("draw a box first (Draw box, then drag on the slice)")
            drawn = np.asarray(layer.data[-1])
            drawn_on = int(round(drawn[0, 0])) if drawn.shape[1] == 4 else frame  # (volume, z, y, x) in a stack
            if drawn_on != frame:  # out of sight now: accepted here it would be another volume's box
                raise ParticleDetectError(f"the box was drawn on volume {drawn_on}, and volume {frame} is shown: go "
                                          f"back to volume {drawn_on} to accept it, or draw a box on this one")
            box = bounding_box(drawn[:, -2:])
        if not self._z_range_set():  # it was taken as slice 0 alone
            raise ParticleDetectError("set the z range the box spans first (Draw box proposes one around the slice "
                                      "shown)")
        z0, z1 = self.z_from.value(), self.z_to.value()
        if z1 < z0:
            raise ParticleDetectError(f"the z range {z0:g}-{z1:g} is empty; set the first slice before the last")
        region = review.accept_box(frame, box, (z0 - 0.5, z1 + 0.5), self.host.table_of(frame))
        layer = self._box_layer(create=False)
        if layer is not None:
            layer.data = []
        self.host.reload_points()
        self.refresh()
        show_info(f"volume {frame}: box z {region.z0 + 0.5:.0f}-{region.z1 - 0.5:.0f}, {box_text(region.box)} accepted")

    @reports_errors
    def undo(self) -> None:
        review = self.host.require_review()
        undone = review.undo()
        if undone is None:
            show_info("nothing accepted to undo")
            return
        self.host.go_to(undone.frame)
        self.host.reload_points()
        self.refresh()
        if isinstance(undone, Redetection):
            said = f"volume {undone.frame}: your edits from before the last Detect are back"
            self.host.status.setText(said)  # it said the Detect replaced them
            show_info(said)
            return
        what = "volume" if undone.region is None else "box"
        restored = "points restored" if undone.before is not None else "points as saved"
        show_info(f"volume {undone.frame}: {what} un-accepted ({restored})")

    @reports_errors
    def review_next(self) -> str:
        review = self.host.require_review()
        boxes = self.mode_combo.currentIndex() == 0
        proposal = review.next_area(self.host.review_threshold(), boxes)
        if proposal is None:
            # Only areas left unaccepted are proposed, and "by box" only those with centres scored near the
            # threshold: finding none does not mean every volume was reviewed.
            # Every volume accepted, 'by box' sent the user to review a rest there was not.
            message = ("nothing left to propose: every volume with centres is accepted"
                       if not boxes or _every_volume_accepted(review) else
                       "nothing left to propose: no area left unaccepted holds centres scored near the threshold "
                       "(review the rest with Accept volume or Draw box, or Review next 'by volume')")
            self.status.setText(message)
            return message
        self.host.go_to(proposal.frame)
        stale = self._box_layer(create=False)
        if proposal.box is None and stale is not None:
            # A whole volume proposed: an earlier proposal's box left drawn read as part of this one, and Accept box
            # accepted it (on the volume shown now, wherever it was drawn).
            stale.data = []
        if proposal.box is not None:
            z0, y0, x0, z1, y1, x1 = proposal.box
            self.set_z_range(z0 + 0.5, z1 - 0.5)
            self.host.go_to_slice((z0 + z1) / 2)
            layer = self._box_layer()
            prefix = [proposal.frame] if self.host.layer().ndim == 4 else []
            z = self.host.current_slice()  # the slice the image shows now, so the box is drawn where it is seen
            layer.data = [np.array([[*prefix, z, y, x] for y, x in ((y0, x0), (y0, x1), (y1, x1), (y1, x0))])]
            if self.host.points is not None:
                self.host.viewer.layers.selection.active = self.host.points
        self.status.setText(f"next: {proposal.why}")
        return proposal.why

    @reports_errors
    def export(self, path: str | Path | None = None) -> Path | None:
        review = self.host.require_review()
        if path is None:
            start = str(self.host.default_export_path())
            path, _ = QFileDialog.getSaveFileName(self, "Export 3D centres", start, "CSV (*.csv)")
            if not path:
                return None
        layer = self.host.layer()
        # Where napari draws the image (a crop placed at its stage position), in voxels: the micrometres follow it.
        origin = tuple(float(t) / float(s) for t, s in zip(layer.translate[-3:], layer.scale[-3:]))
        table = review.project.load_all()
        written = review.export(path, tables=table, origin=origin)
        show_info(f"exported {exported_words(len(table), 1 if layer.ndim == 3 else int(layer.data.shape[0]))} "
                  f"to {written}")
        self.status.setText(f"exported to {written}")
        return written


def exported_words(centres: int, volumes: int) -> str:
    """What an export wrote, as the Particle detection dock counts it: 'the centres of every volume' was said of a
    single volume too, and of none, with no count to check the file by."""
    counted = f"{centres} centre{'' if centres == 1 else 's'}"
    return counted if volumes == 1 else f"{counted} of {volumes} volumes"


def _every_volume_accepted(review: VolumeReview) -> bool:
    """Whether every volume holding centres is accepted as a whole (none left for a box to be proposed in)."""
    frames = review.project.saved_frames()
    return bool(frames) and all(review.project.is_reviewed(frame) for frame in frames)


def _can_undo(review: VolumeReview) -> bool:
    """Whether Undo has something to take back: a step of this session, or (a restart, none remembered) an
    accepted area, as VolumeReview.undo finds them."""
    return bool(review.steps) or bool(review.project.reviewed_areas())
