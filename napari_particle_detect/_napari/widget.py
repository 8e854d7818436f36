"""The dock widget: pick an image, then Detect, Review, Fine-tune and Export in one column."""

from __future__ import annotations

import weakref
from pathlib import Path

from napari.layers import Image
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import (
    QApplication, QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget,
)

from ..errors import ParticleDetectError
from ..project import RoundInfo
from .annotation import METADATA_KEY, Annotation
from .detect_panel import DetectPanel
from .export_panel import ExportPanel
from .finetune_panel import FineTunePanel
from .notify import report, reports_errors
from .review_panel import ReviewPanel

# A dragged point fires an event per mouse step; write it to disk once the drag pauses this long.
MOVE_SAVE_DELAY_MS = 150


class ParticleDetectWidget(QWidget):
    """Detect particle centres, correct them, fine-tune the model on the corrections, export."""

    def __init__(self, napari_viewer, default_model: str | Path | None = None) -> None:
        super().__init__()
        self.viewer = napari_viewer
        # The model a new project starts from (round 1); None means the shipped weights.
        self.default_model = Path(default_model) if default_model is not None else None
        self.annotation: Annotation | None = None
        self._annotations: dict[int, Annotation] = {}
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(MOVE_SAVE_DELAY_MS)
        self._pending_save = None
        self._save_timer.timeout.connect(self._run_pending_save)

        self.image_combo = QComboBox()
        self.image_combo.setToolTip("The image or TYX/ZYX stack to work on")
        self.project_label = QLabel("no project yet")
        self.project_label.setWordWrap(True)
        self.project_label.setStyleSheet("color: gray")
        self.project_button = QPushButton("Folder…")
        self.project_button.setToolTip("Keep this image's corrections and models in another folder")
        self.detect = DetectPanel(self)
        self.review = ReviewPanel(self)
        self.finetune = FineTunePanel(self)
        self.export = ExportPanel(self)

        top = QHBoxLayout()
        top.addWidget(QLabel("Image"))
        top.addWidget(self.image_combo, 1)
        project = QHBoxLayout()
        project.addWidget(self.project_label, 1)
        project.addWidget(self.project_button)
        column = QVBoxLayout()
        column.addLayout(top)
        column.addLayout(project)
        for panel in (self.detect, self.review, self.finetune, self.export):
            column.addWidget(panel)
        column.addStretch(1)
        inner = QWidget()
        inner.setLayout(column)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.setMinimumWidth(340)

        self.image_combo.currentIndexChanged.connect(lambda *_: self._on_image_chosen())
        self.project_button.clicked.connect(lambda *_: self.choose_project_folder())
        for event in (self.viewer.layers.events.inserted, self.viewer.layers.events.removed):
            event.connect(self._refresh_images)
        self.viewer.dims.events.current_step.connect(self._on_frame_changed)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.flush)
        bind_shortcuts(self.viewer, self)
        self._refresh_images()

    # ---- images and their projects -------------------------------------------------------------
    def image_layers(self) -> list[Image]:
        return [layer for layer in self.viewer.layers
                if isinstance(layer, Image) and not layer.rgb and layer.ndim in (2, 3)
                and METADATA_KEY not in layer.metadata and not layer.name.endswith(" heatmap")]

    def _refresh_images(self, event=None) -> None:
        layers = self.image_layers()
        chosen = self.annotation.image if self.annotation is not None else None
        self.image_combo.blockSignals(True)
        self.image_combo.clear()
        for layer in layers:
            self.image_combo.addItem(layer.name, id(layer))
        if chosen in layers:
            self.image_combo.setCurrentIndex(layers.index(chosen))
        self.image_combo.blockSignals(False)
        if chosen not in layers:
            self._on_image_chosen()

    def selected_image(self) -> Image | None:
        key = self.image_combo.currentData()
        return next((layer for layer in self.image_layers() if id(layer) == key), None)

    def _on_image_chosen(self) -> None:
        image = self.selected_image()
        if image is None:
            self.set_annotation(None)
            return
        annotation = self._annotations.get(id(image))
        if annotation is None or annotation.image is not image:
            try:
                annotation = Annotation.attach(self.viewer, image, schedule_save=self._schedule_save)
            except ParticleDetectError as exc:
                report(exc)
                self.set_annotation(None)
                return
            self._annotations[id(image)] = annotation
        self.set_annotation(annotation)
        annotation.restore()

    @reports_errors
    def choose_project_folder(self, folder: str | Path | None = None) -> None:
        image = self.selected_image()
        if image is None:
            raise ParticleDetectError("open an image first")
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, "Project folder for this image")
            if not folder:
                return
        if self.annotation is not None:
            self.annotation.close()
        annotation = Annotation.attach(self.viewer, image, project=folder, schedule_save=self._schedule_save)
        self._annotations[id(image)] = annotation
        self.set_annotation(annotation)
        annotation.restore()

    def set_annotation(self, annotation: Annotation | None) -> None:
        if self.annotation is not None and self.annotation is not annotation:
            self.annotation.flush()
            self.annotation.changed_callbacks.clear()
        self.annotation = annotation
        if annotation is not None:
            annotation.changed_callbacks.append(self.refresh)
            if annotation.project.threshold is not None:  # the slider as the user left it in this project
                self.detect.set_threshold(annotation.project.threshold)
            annotation.set_threshold(self.detect.threshold())
            self.project_label.setText(f"Project: {annotation.project.folder}")
        else:
            self.project_label.setText("open an image (File > Open, or File > Open Sample) to start")
        self.refresh()

    def require_annotation(self) -> Annotation:
        if self.annotation is None:
            raise ParticleDetectError("open an image first (File > Open, or a sample from File > Open Sample)")
        return self.annotation

    def ensure_round(self) -> RoundInfo:
        """The model in use; a new project first copies the starting model in as round 1."""
        project = self.require_annotation().project
        info = project.ensure_initial_round(self.default_model)
        self.refresh()
        return info

    def use_round(self, number: int) -> None:
        """Detect with this round from now on, at the threshold tuned for it."""
        self.require_annotation().project.set_current_round(number)
        self.detect.adopt_card_threshold(number)
        self.refresh()

    # ---- keeping the panels and the disk up to date --------------------------------------------
    def refresh(self) -> None:
        for panel in (self.detect, self.review, self.finetune, self.export):
            panel.refresh()

    def _on_frame_changed(self, event=None) -> None:
        self.review.refresh()

    def _schedule_save(self, save) -> None:
        self._pending_save = save
        self._save_timer.start()

    def _run_pending_save(self) -> None:
        save, self._pending_save = self._pending_save, None
        if save is not None:
            try:
                save()
            except ParticleDetectError as exc:
                report(exc)

    def flush(self) -> None:
        """Write anything not yet on disk (a drag that has not settled)."""
        self._save_timer.stop()
        self._run_pending_save()
        for annotation in self._annotations.values():
            annotation.flush()

    def hideEvent(self, event) -> None:
        # Closing the viewer hides the dock first: the last moments of a drag reach the disk too.
        self.flush()
        super().hideEvent(event)

    def closeEvent(self, event) -> None:
        self.finetune.cancel()
        self.detect.stop()
        self.flush()
        super().closeEvent(event)

    def busy(self) -> bool:
        return self.detect.running() or self.finetune.running()


def bind_shortcuts(viewer, widget: ParticleDetectWidget) -> None:
    """Annotator keys on the viewer; they act on whichever dock widget bound them last and is alive."""
    ref = weakref.ref(widget)

    def call(action):
        def handler(viewer_):
            target = ref()
            if target is not None:
                getattr(target.review, action)()
        handler.__name__ = action
        return handler

    viewer.bind_key("Enter", call("accept_and_next"), overwrite=True)
    viewer.bind_key(".", call("next_frame"), overwrite=True)
    viewer.bind_key(",", call("previous_frame"), overwrite=True)
    viewer.bind_key("H", call("toggle_heatmap"), overwrite=True)
