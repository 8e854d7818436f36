"""Volume detection dock: 3D centres of a ZYX or TZYX image layer as a 3D (or 4D) Points layer, and
their review: edits saved at once, volumes and 3D boxes accepted (Undo), review-next, fine-tuning
rounds of the 3D model and export (volume_review_panel, volume_round_panel).

A thin skin over :mod:`volume_detection` and :mod:`volume_review`: the axes come from the layer (4D:
TZYX; 3D: asked, since a 3D layer may be a volume or a stack of frames), the voxel size from the
layer's scale, and the points are drawn on every slice their sphere crosses and in the 3D view.
The review lives in the image's project (beside its file, or under the projects home), so closing
the dock or napari loses nothing: selecting the image again brings the points, boxes and rounds back.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from napari.layers import Image, Points
from napari.layers.base import ActionType
from napari.qt.threading import thread_worker
from qtpy.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QPushButton, QWidget

from ..errors import ParticleDetectError
from ..projects.project import project_folder_for_data
from ..detection.volume_detection import VolumeOptions, load_volume_model
from ..projects.volume_review import VolumeReview, detect_for_review
from ..learning.volume_rounds import (
    VolumeSettings, ensure_volume_round, open_volume_project, read_settings, remember_settings, volume_project_folder,
)
from .annotation import image_path
from .layers import points_layer_kwargs
from .notify import report
from .volume_review_panel import VolumeReviewPanel
from .volume_round_panel import VolumeRoundPanel

AXES_FOR_3D = ("ZYX (one volume)", "TYX (frames: use the Particle detection dock)")


def volume_points_kwargs(table: pd.DataFrame, name: str, ndim: int, scale, size: float) -> tuple[np.ndarray, dict]:
    """Points data ((z, y, x) or (frame, z, y, x)) and layer keywords for a table of 3D centres."""
    columns = ["z", "y", "x"] if ndim == 3 else ["frame", "z", "y", "x"]
    data = table[columns].to_numpy(float) if len(table) else np.zeros((0, ndim))
    kwargs = points_layer_kwargs(table.assign(source="model"), name, size, ndim=ndim, scale=tuple(scale))
    return data, kwargs


class VolumeDetectWidget(QWidget):
    def __init__(self, napari_viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.worker = None
        self.review: VolumeReview | None = None  # the selected volume image's project, once it is a volume
        self.points: Points | None = None
        self._quiet = False  # True while the dock itself rewrites the points (not a user's edit)
        self._shown_layer: Image | None = None
        self.layer_combo = QComboBox()
        self.axes_combo = QComboBox()
        self.axes_note = QLabel("")
        self.voxel = [QDoubleSpinBox() for _ in range(3)]
        for spin in self.voxel:
            spin.setRange(0.0, 1e4)
            spin.setDecimals(3)
            spin.setSpecialValueText("unknown")
        self.diameter = QDoubleSpinBox()
        self.diameter.setRange(0.0, 500.0)
        self.diameter.setSpecialValueText("auto")
        self.diameter.setSuffix(" px (xy)")
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 0.99)
        self.threshold.setSingleStep(0.05)
        self.threshold.setSpecialValueText("model's")
        self.button = QPushButton("Detect 3D centres")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("Image", self.layer_combo)
        form.addRow("Axes", self.axes_combo)
        form.addRow("", self.axes_note)
        for axis, spin in zip("ZYX", self.voxel):
            form.addRow(f"Voxel {axis}", spin)
        form.addRow("Diameter", self.diameter)
        form.addRow("Threshold", self.threshold)
        form.addRow(self.button)
        form.addRow(self.status)
        self.review_panel = VolumeReviewPanel(self)
        self.round_panel = VolumeRoundPanel(self)
        form.addRow(self.review_panel)
        form.addRow(self.round_panel)
        self.layer_combo.currentTextChanged.connect(self._layer_changed)
        self.axes_combo.currentTextChanged.connect(lambda *_: self._open_review())
        self.viewer.dims.events.current_step.connect(lambda *_: self.review_panel.update_status())
        self.viewer.dims.events.ndisplay.connect(lambda *_: self.review_panel.show_accepted())
        self.button.clicked.connect(self.detect)
        self.viewer.layers.events.inserted.connect(self._refresh)
        self.viewer.layers.events.removed.connect(self._refresh)
        self._refresh()

    def _images(self) -> list[Image]:
        return [layer for layer in self.viewer.layers if isinstance(layer, Image) and layer.ndim in (3, 4)
                and not layer.rgb]

    def _refresh(self, *_) -> None:
        current = self.layer_combo.currentText()
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        self.layer_combo.addItems([layer.name for layer in self._images()])
        if current:
            self.layer_combo.setCurrentText(current)
        self.layer_combo.blockSignals(False)
        self._layer_changed(self.layer_combo.currentText())

    def layer(self) -> Image | None:
        name = self.layer_combo.currentText()
        return self.viewer.layers[name] if name in self.viewer.layers else None

    def _layer_changed(self, _name: str) -> None:
        layer = self.layer()
        if layer is not None and layer is self._shown_layer:
            return  # another layer came or went (the points, the boxes): the choices made stay
        self._shown_layer = layer
        self.axes_combo.blockSignals(True)  # a half-filled list must not close the review
        self.axes_combo.clear()
        self.axes_combo.blockSignals(False)
        if layer is None:
            self.axes_note.setText("open a ZYX or TZYX image")
            self._open_review()
            return
        self.axes_combo.blockSignals(True)
        if layer.ndim == 4:
            self.axes_combo.addItems(["TZYX"])
            self.axes_note.setText("4D layer: a time series of volumes")
        else:
            # A 3D layer is a volume or a stack of frames; nothing in the layer says which.
            self.axes_combo.addItems(list(AXES_FOR_3D))
            self.axes_note.setText("3D layer: a volume, or frames? choose")
        self.axes_combo.blockSignals(False)
        scale = np.asarray(layer.scale[-3:], dtype=float)
        for spin, value in zip(self.voxel, scale if not np.allclose(scale, 1.0) else (0, 0, 0)):
            spin.setValue(float(value))
        self._open_review()

    def options(self) -> VolumeOptions:
        voxel = tuple(s.value() for s in self.voxel)
        return VolumeOptions(threshold=self.threshold.value() or None,
                             diameter=(self.diameter.value(),) if self.diameter.value() else None,
                             voxel_size=voxel if all(voxel) else None, device="cpu")

    def detect(self) -> None:
        layer = self.layer()
        if layer is None:
            self.status.setText("no ZYX or TZYX image layer")
            return
        if self.axes_combo.currentText().startswith("TYX"):
            self.status.setText("frames: detect them in the Particle detection dock")
            return
        volumes = self.volumes()
        options = self.options()
        try:
            review = self.require_review()
            ensure_volume_round(review.project)
            model_path = review.project.round_path(review.project.current_round.number)
        except ParticleDetectError as exc:
            report(exc)
            return
        self.button.setEnabled(False)
        self.status.setText(f"detecting in {len(volumes)} volume(s) with {review.project.current_round.name}…")

        @thread_worker
        def run():
            model = load_volume_model(model_path)
            parts, hidden, sizing = [], [], None
            for t, volume in enumerate(volumes):
                shown, near, sizing = detect_for_review(volume, model, options, t, f"{layer.name} volume {t}", sizing)
                parts.append(shown)
                hidden.append(near)
            return pd.concat(parts, ignore_index=True), pd.concat(hidden, ignore_index=True), sizing

        def done(result) -> None:
            table, hidden, sizing = result
            try:
                remember_settings(review.project, VolumeSettings(sizing.diameter, options.voxel_size,
                                                                 tuple(volumes.shape[1:])))
                review.remember_hidden(hidden)
                table = self._keep_reviewed(review, table)
            except ParticleDetectError as exc:
                report(exc)
            self.show_points(layer, table, sizing.diameter[1], sizing.diameter[0])
            z, y, x = sizing.diameter
            self.status.setText(f"{len(table)} centres; diameter z {z:.1f}, y {y:.1f}, x {x:.1f} voxels "
                                f"({sizing.source})")
            self.review_panel.refresh()
            self.round_panel.refresh()

        def failed(exc) -> None:
            self.status.setText(f"error: {exc}")

        self.worker = run()
        self.worker.returned.connect(done)
        self.worker.errored.connect(failed)
        self.worker.finished.connect(lambda: self.button.setEnabled(True))
        self.worker.start()

    def show_points(self, layer: Image, table: pd.DataFrame, size: float, size_z: float | None = None):
        """The centres as points on ``layer``; each drawn on the slices its sphere crosses (the z
        slab one diameter thick), shrinking away from its centre."""
        name = f"{layer.name} 3D centres"
        data, kwargs = volume_points_kwargs(table, name, layer.ndim, layer.scale, size)
        if name in self.viewer.layers:
            self.viewer.layers.remove(name)
        self._quiet = True
        try:
            points = self.viewer.add_points(data, **kwargs)
            if len(table) and "source" in table:  # the saved sources, not the detector's default
                points.features = points.features.assign(source=table["source"].astype(str).to_numpy(),
                                                          score=table["score"].to_numpy(float))
                points.refresh_colors()
        finally:
            self._quiet = False
        points.projection_mode = "rescale_spherical"
        self.points = points
        points.events.data.connect(self._on_points_edited)
        if size_z is not None:
            axis = self.viewer.dims.ndim - 3  # z in world axes (the points' and the image's last three)
            thickness = list(self.viewer.dims.thickness)
            thickness[axis] = float(size_z * layer.scale[-3])
            self.viewer.dims.thickness = tuple(thickness)
        return points

    # ---- the review's project ----------------------------------------------------------------------
    def _is_volume(self) -> bool:
        layer = self.layer()
        return layer is not None and (layer.ndim == 4 or self.axes_combo.currentText().startswith("ZYX"))

    def _open_review(self) -> None:
        """Open the selected volume image's project; its saved centres come back as points."""
        layer = self.layer()
        if not self._is_volume():
            self.review = None
        else:
            volumes = self.volumes()
            path = image_path(layer)
            # Named apart from the 2D dock's project of the same image: frames there are slices.
            target = path if path is not None else project_folder_for_data(f"{layer.name}.volumes",
                                                                           np.asarray(layer.data))
            folder = volume_project_folder(path) if path is not None else target
            if self.review is None or self.review.project.folder != folder:
                try:
                    self.review = VolumeReview(open_volume_project(target, volumes), tuple(volumes.shape[1:]))
                except ParticleDetectError as exc:
                    self.review = None
                    report(exc)
                else:
                    self._restore_points(layer)
        self.review_panel.refresh()
        self.round_panel.refresh()

    def _restore_points(self, layer: Image) -> None:
        project = self.review.project
        if not project.saved_frames():
            return
        settings = read_settings(project)
        diameter = settings.diameter if settings else (5.0, 10.0, 10.0)
        if settings is not None and not self.diameter.value():
            self.diameter.setValue(float(diameter[1]))  # detecting again sizes as the review did
        self.show_points(layer, project.load_all(), diameter[1], diameter[0])
        self.status.setText(f"{len(project.load_all())} saved centres of {len(project.saved_frames())} volume(s) "
                            f"from the project {project.folder.name}")

    def _keep_reviewed(self, review: VolumeReview, table: pd.DataFrame) -> pd.DataFrame:
        """Save the new detections, except where the user reviewed: an accepted volume keeps its
        centres, an accepted box the centres inside it. Returns every volume's table."""
        project = review.project
        parts = []
        for frame in range(self.volumes().shape[0]):
            found = table[table["frame"] == frame].assign(source="model")
            saved = project.load_frame(frame)
            if project.is_reviewed(frame) and saved is not None:
                parts.append(saved)
                continue
            boxes = project.regions(frame)
            if boxes and saved is not None:
                inside = lambda t: np.any([r.contains(t["y"], t["x"], t["z"]) for r in boxes], axis=0)  # noqa: E731
                found = pd.concat([saved[inside(saved)], found[~inside(found)]], ignore_index=True)
            project.save_frame(frame, found)
            parts.append(project.load_frame(frame))
        return pd.concat(parts, ignore_index=True)

    def require_review(self) -> VolumeReview:
        if self.review is None:
            raise ParticleDetectError("select a ZYX or TZYX image layer (a 3D layer: choose 'ZYX (one volume)')")
        return self.review

    def volumes(self) -> np.ndarray:
        data = self.layer().data
        return data[None] if self.layer().ndim == 3 else data

    def current_frame(self) -> int:
        layer = self.layer()
        if layer is None or layer.ndim == 3:
            return 0
        return int(np.clip(self.viewer.dims.current_step[self.viewer.dims.ndim - 4], 0, layer.data.shape[0] - 1))

    def current_slice(self) -> float:
        step = self.viewer.dims.point[self.viewer.dims.ndim - 3]
        return float(np.rint(step / self.layer().scale[-3]))

    def go_to(self, frame: int) -> None:
        if self.layer() is not None and self.layer().ndim == 4:
            self.viewer.dims.set_current_step(self.viewer.dims.ndim - 4, int(frame))

    def go_to_slice(self, z: float) -> None:
        self.viewer.dims.set_current_step(self.viewer.dims.ndim - 3, int(round(z)))

    def diameter_zyx(self) -> tuple[float, float, float]:
        settings = read_settings(self.require_review().project)
        return settings.diameter if settings else (5.0, 10.0, 10.0)

    def review_threshold(self) -> float:
        """The threshold the points were shown at: the dock's, else the round's own."""
        if self.threshold.value():
            return float(self.threshold.value())
        project = self.require_review().project
        ensure_volume_round(project)
        return float(load_volume_model(project.round_path(project.current_round.number)).card.threshold)

    def table_of(self, frame: int) -> pd.DataFrame:
        """The points of volume ``frame`` as a table (z, y, x in voxels, score, source)."""
        if self.points is None:
            raise ParticleDetectError("detect first: there are no 3D centres to accept")
        data = np.asarray(self.points.data, float)
        features = self.points.features
        rows = np.ones(len(data), bool) if data.shape[1] == 3 else np.rint(data[:, 0]) == frame
        zyx = data[rows][:, -3:]
        return pd.DataFrame({"frame": frame, "z": zyx[:, 0], "y": zyx[:, 1], "x": zyx[:, 2],
                             "score": features["score"].to_numpy(float)[rows],
                             "source": features["source"].astype(str).to_numpy()[rows]})

    def reload_points(self) -> None:
        """The points as the project has them now (after an accept or an undo)."""
        layer = self.layer()
        if layer is None or self.review is None:
            return
        diameter = self.diameter_zyx()
        self.show_points(layer, self.review.project.load_all(), diameter[1], diameter[0])

    def _on_points_edited(self, event) -> None:
        """A user's edit is saved at once: points placed by hand are 'added', the volumes touched are
        written to the project."""
        if self._quiet or self.review is None or event.action not in (ActionType.ADDED, ActionType.REMOVED,
                                                                      ActionType.CHANGED):
            return
        if event.action == ActionType.ADDED:
            rows = list(event.data_indices)
            features = self.points.features.copy()
            features.loc[features.index[rows], "source"] = "added"
            features.loc[features.index[rows], "score"] = np.nan
            self._quiet = True
            try:
                self.points.features = features
            finally:
                self._quiet = False
        frames = range(self.volumes().shape[0])
        if event.action != ActionType.REMOVED and self.points.ndim == 4:  # only the time points edited
            rows = np.asarray(list(event.data_indices), dtype=int)
            frames = sorted({int(f) for f in np.rint(self.points.data[rows, 0])}) if len(rows) else frames
        try:
            for frame in frames:
                self.review.save_edits(frame, self.table_of(frame))
        except ParticleDetectError as exc:
            report(exc)

    def default_export_path(self):
        from pathlib import Path

        path = image_path(self.layer())
        stem = path.stem if path is not None else self.layer().name
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem).strip("._") or "volume"
        return (path.parent if path is not None else Path.cwd()) / f"{safe}_3d_centres.csv"
