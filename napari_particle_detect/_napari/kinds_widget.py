"""The Rods and chains dock: detect rods or bead chains in an image with the shipped kind models,
into editable layers (rods: lines; chains: beads and paths), in a worker thread. A thin skin over
kinds_prediction.detect_kind; the layers are those of kind_layers, which the reader and writer share.
"""

from __future__ import annotations

import numpy as np
from napari.qt.threading import create_worker
from qtpy.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .kind_layers import chain_layers_data, chain_paths, rods_layer_data, table_from_beads
from .notify import report


def detect_in(image: np.ndarray, kind: str, threshold: float | None, frame: int | None):
    """Worker body: the kind's table for one frame (a stack's ``frame``) or the image."""
    from ..kinds_prediction import detect_kind

    frames = None if frame is None else [frame]
    return detect_kind(image, kind, None, "cpu", threshold, frames=frames)


class KindsWidget(QWidget):
    def __init__(self, napari_viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.worker = None
        self.image_combo = QComboBox()
        self.kind_combo = QComboBox()
        self.kind_combo.addItems(["rods", "chains"])
        self.kind_combo.setToolTip("rods and ellipsoids: one line per object, tip to tip; chains: beads and their chains")
        self.threshold_spin = QDoubleSpinBox()
        self.threshold_spin.setRange(0.0, 0.95)
        self.threshold_spin.setSingleStep(0.05)
        self.threshold_spin.setSpecialValueText("model's")
        self.detect_button = QPushButton("Detect (this frame)")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Image", self.image_combo)
        form.addRow("Kind", self.kind_combo)
        form.addRow("Threshold", self.threshold_spin)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.detect_button)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.detect_button.clicked.connect(self.detect)
        self.viewer.layers.events.inserted.connect(self._refresh_images)
        self.viewer.layers.events.removed.connect(self._refresh_images)
        self._refresh_images()

    def _refresh_images(self, event=None) -> None:
        from napari.layers import Image

        current = self.image_combo.currentText()
        names = [layer.name for layer in self.viewer.layers if isinstance(layer, Image) and not layer.rgb]
        self.image_combo.clear()
        self.image_combo.addItems(names)
        if current in names:
            self.image_combo.setCurrentText(current)

    def detect(self) -> None:
        name = self.image_combo.currentText()
        if not name or self.worker is not None:
            return
        layer = self.viewer.layers[name]
        data = layer.data
        frame = int(self.viewer.dims.current_step[0]) if data.ndim == 3 else None
        kind = self.kind_combo.currentText()
        threshold = self.threshold_spin.value() or None
        self.status.setText(f"finding {kind} in {name}…")
        self.detect_button.setEnabled(False)
        self.worker = create_worker(detect_in, data, kind, threshold, frame)
        self.worker.returned.connect(lambda table: self._show(table, kind, name, data.ndim))
        self.worker.errored.connect(report)
        self.worker.finished.connect(self._finished)
        self.worker.start()

    def _finished(self) -> None:
        self.worker = None
        self.detect_button.setEnabled(True)

    def _show(self, table, kind: str, name: str, ndim: int) -> None:
        table = table.assign(source="model")
        if kind == "rods":
            layers = [rods_layer_data(table, f"{name} rods", ndim)]
            self.status.setText(f"{len(table)} rods: drag a tip to fix a rod, draw a line to add one, delete to remove")
        else:
            layers = chain_layers_data(table, f"{name}", ndim)
            chains = table["chain"].nunique() if len(table) else 0
            self.status.setText(f"{len(table)} beads in {chains} chains (free beads are chains of one)")
        for data, kwargs, layer_type in layers:
            if kwargs["name"] in self.viewer.layers:
                self.viewer.layers.remove(kwargs["name"])
            added = getattr(self.viewer, f"add_{layer_type}")(data, **kwargs)
            if layer_type == "points":
                beads = added
        if kind == "chains":
            paths = self.viewer.layers[f"{name} chains"]
            # The beads hold the data; the paths follow them when beads are moved, added or deleted.
            beads.events.data.connect(lambda event: _redraw_paths(beads, paths))


def _redraw_paths(beads, paths) -> None:
    table = table_from_beads(beads.data, beads.features)
    ndim = beads.data.shape[1] if len(beads.data) else paths.ndim
    drawn = chain_paths(table, ndim)
    paths.data = drawn
    if drawn:
        paths.shape_type = ["path"] * len(drawn)
