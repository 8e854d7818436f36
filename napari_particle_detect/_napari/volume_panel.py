"""Volume detection dock: 3D centres of a ZYX or TZYX image layer as a 3D (or 4D) Points layer.

A thin skin over :mod:`volume_detection`: the axes come from the layer (4D: TZYX; 3D: asked, since a
3D layer may be a volume or a stack of frames), the voxel size from the layer's scale, and the
points are drawn on every slice their sphere crosses and in the 3D view.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from napari.layers import Image
from napari.qt.threading import thread_worker
from qtpy.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QPushButton, QWidget

from ..volume_detection import VolumeOptions, detect_volume, load_volume_model, volume_table
from .layers import points_layer_kwargs

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
        self.layer_combo.currentTextChanged.connect(self._layer_changed)
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
        self.axes_combo.clear()
        if layer is None:
            self.axes_note.setText("open a ZYX or TZYX image")
            return
        if layer.ndim == 4:
            self.axes_combo.addItems(["TZYX"])
            self.axes_note.setText("4D layer: a time series of volumes")
        else:
            # A 3D layer is a volume or a stack of frames; nothing in the layer says which.
            self.axes_combo.addItems(list(AXES_FOR_3D))
            self.axes_note.setText("3D layer: a volume, or frames? choose")
        scale = np.asarray(layer.scale[-3:], dtype=float)
        for spin, value in zip(self.voxel, scale if not np.allclose(scale, 1.0) else (0, 0, 0)):
            spin.setValue(float(value))

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
        data = np.asarray(layer.data)
        volumes = data[None] if layer.ndim == 3 else data
        options = self.options()
        self.button.setEnabled(False)
        self.status.setText(f"detecting in {len(volumes)} volume(s)…")

        @thread_worker
        def run():
            model = load_volume_model(None)
            parts, sizing = [], None
            for t, volume in enumerate(volumes):
                centres, scores, sizing = detect_volume(volume, model, options, f"{layer.name} volume {t}", sizing)
                parts.append(volume_table(t, centres, scores, options.voxel_size))
            return pd.concat(parts, ignore_index=True), sizing

        def done(result) -> None:
            table, sizing = result
            self.show_points(layer, table, sizing.diameter[1], sizing.diameter[0])
            z, y, x = sizing.diameter
            self.status.setText(f"{len(table)} centres; diameter z {z:.1f}, y {y:.1f}, x {x:.1f} voxels "
                                f"({sizing.source})")

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
        points = self.viewer.add_points(data, **kwargs)
        points.projection_mode = "rescale_spherical"
        if size_z is not None:
            axis = self.viewer.dims.ndim - 3  # z in world axes (the points' and the image's last three)
            thickness = list(self.viewer.dims.thickness)
            thickness[axis] = float(size_z * layer.scale[-3])
            self.viewer.dims.thickness = tuple(thickness)
        return points
