"""Fine-tune: train a new round on the accepted frames in a worker; swap it in only when it is done."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from napari.qt.threading import create_worker
from napari.utils.notifications import show_info
from qtpy.QtCore import QObject, Signal
from qtpy.QtWidgets import (
    QAbstractItemView, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton, QSpinBox,
    QTableWidget, QTableWidgetItem,
)

from ..session import FineTuneOutcome, FineTuneSettings, fine_tune
from ..training import TrainingCancelled
from .notify import report, reports_errors

if TYPE_CHECKING:
    from .widget import ParticleDetectWidget

ROUND_COLUMNS = ["round", "from", "trained", "held out", "F1", "before"]
HOLD_OUT_NOTE = ("F1: the round on the frame accepted last before it was trained, which was held out of its "
                 "training; 'before': the round it started from, on the same frame.")


class _ProgressRelay(QObject):
    """Carries training progress from the worker thread to the main thread (queued signal)."""

    event = Signal(dict)


def _frames_text(frames: list[int]) -> str:
    if len(frames) > 6:
        return f"{len(frames)} frames"
    return ", ".join(map(str, frames)) or "–"


class FineTunePanel(QGroupBox):
    def __init__(self, host: ParticleDetectWidget) -> None:
        super().__init__("Fine-tune")
        self.host = host
        self.worker = None
        self._target = None  # the annotation whose project a running fine-tune belongs to
        self.settings = FineTuneSettings(threads=max(1, (os.cpu_count() or 2) - 1))
        self._cancel = threading.Event()
        self._relay = _ProgressRelay()
        self._relay.event.connect(self._on_progress)

        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 200)
        self.epochs_spin.setValue(self.settings.epochs)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, 5000)
        self.steps_spin.setValue(self.settings.steps_per_epoch)
        self.run_button = QPushButton("Fine-tune on reviewed frames")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setValue(0)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, len(ROUND_COLUMNS))
        self.table.setHorizontalHeaderLabels(ROUND_COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setToolTip(HOLD_OUT_NOTE + " Double-click a row to detect with that round.")
        self.table.setMaximumHeight(150)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        note = QLabel(HOLD_OUT_NOTE)
        note.setWordWrap(True)
        note.setStyleSheet("color: gray; font-size: 10px")

        sizes = QHBoxLayout()
        sizes.addWidget(QLabel("epochs"))
        sizes.addWidget(self.epochs_spin)
        sizes.addWidget(QLabel("steps/epoch"))
        sizes.addWidget(self.steps_spin)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button, 1)
        buttons.addWidget(self.cancel_button)
        form = QFormLayout(self)
        form.addRow(sizes)
        form.addRow(buttons)
        form.addRow(self.progress)
        form.addRow(self.status)
        form.addRow(self.table)
        form.addRow(note)

        self.run_button.clicked.connect(lambda *_: self.run())
        self.cancel_button.clicked.connect(lambda *_: self.cancel())
        self.table.cellDoubleClicked.connect(lambda row, _col: self._use_row(row))

    def running(self) -> bool:
        return self.worker is not None

    def refresh(self) -> None:
        annotation = self.host.annotation
        rounds = annotation.project.rounds if annotation is not None else []
        current = annotation.project.current_round if annotation is not None else None
        self.table.setRowCount(len(rounds))
        for row, info in enumerate(rounds):
            marker = " ◀" if current is not None and info.number == current.number else ""
            cells = [
                f"{info.number:03d}{marker}",
                f"{info.parent:03d}" if info.parent else info.origin.split()[0],
                _frames_text(info.trained_frames),
                str(info.held_out) if info.held_out else "–",
                f"{info.f1:.3f}" if info.f1 is not None else "–",
                f"{info.parent_f1:.3f}" if info.parent_f1 is not None else "–",
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(0x0100, info.number)  # Qt.UserRole
                self.table.setItem(row, col, item)
        n_reviewed = len(annotation.project.reviewed_frames) if annotation is not None else 0
        self.run_button.setText(f"Fine-tune on {n_reviewed} reviewed frame{'s' if n_reviewed != 1 else ''}")
        self.run_button.setEnabled(annotation is not None and n_reviewed > 0 and not self.running())

    @reports_errors
    def _use_row(self, row: int) -> None:
        number = self.table.item(row, 0).data(0x0100)
        self.host.use_round(number)
        show_info(f"detecting with round-{number:03d} from now on")

    @reports_errors
    def run(self, settings: FineTuneSettings | None = None) -> None:
        """Start training in a worker; ``settings`` overrides the panel's (tests use tiny ones)."""
        if self.running():
            return
        annotation = self.host.require_annotation()
        self.host.flush()
        self.host.ensure_round()
        if settings is None:
            self.settings.epochs, self.settings.steps_per_epoch = self.epochs_spin.value(), self.steps_spin.value()
            settings = self.settings
        self._cancel.clear()
        self._target = annotation
        self.progress.setRange(0, settings.epochs * settings.steps_per_epoch)
        self.progress.setValue(0)
        self.status.setText(f"training from {annotation.project.current_round.name}…")
        self.worker = create_worker(
            fine_tune, annotation.project, annotation.image.data, settings,
            self.host.detect.device_combo.currentText(), progress=self._relay.event.emit, cancel=self._cancel.is_set,
            _ignore_errors=True,
        )
        self.worker.returned.connect(self._on_done)
        self.worker.errored.connect(self._on_error)
        self.worker.finished.connect(self._on_finished)
        self._set_running(True)
        self.worker.start()

    def cancel(self) -> None:
        if self.running():
            self._cancel.set()
            self.status.setText("cancelling…")

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    def _on_progress(self, event: dict) -> None:
        if event["event"] == "step":
            self.progress.setValue((event["epoch"] - 1) * event["steps"] + event["step"])
            self.status.setText(f"epoch {event['epoch']}/{event['epochs']}, step {event['step']}/{event['steps']}: "
                                f"loss {event['loss']:.4f}")
        else:
            self.progress.setValue(event["epoch"] * self.progress.maximum() // max(event["epochs"], 1))
            self.status.setText(f"epoch {event['epoch']}/{event['epochs']}: loss {event['loss']:.4f}, "
                                f"validation F1 {event['val_f1']:.3f} ({event['seconds']:.0f} s)")

    def _on_done(self, outcome: FineTuneOutcome) -> None:
        info = self._target.project.commit_round(outcome.workspace, outcome.info)
        if self._target is self.host.annotation:
            self.host.use_round(info.number)
        self.progress.setValue(self.progress.maximum())
        if info.f1 is not None:
            score = f"held-out F1 {info.f1:.3f} (round-{info.parent:03d}: {info.parent_f1:.3f})"
        else:
            score = "no held-out frame yet (accept two or more frames to score rounds)"
        self.status.setText(f"{info.name} ready and in use: {score}. Run Detect on unreviewed frames to use it.")
        show_info(f"{info.name} ready: {score}")

    def _on_error(self, exc: BaseException) -> None:
        current = self._target.project.current_round
        if isinstance(exc, TrainingCancelled):
            self.status.setText(f"cancelled; still using {current.name}")
            show_info(f"fine-tuning cancelled; still using {current.name}")
        else:
            self.status.setText(f"failed; still using {current.name}")
            report(exc)

    def _on_finished(self) -> None:
        self.worker = None
        self._set_running(False)
        self.host.refresh()
