"""Review: step through frames and accept them; accepted frames are the training data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from napari.utils.notifications import show_info
from qtpy.QtWidgets import QGridLayout, QGroupBox, QLabel, QPushButton

from .notify import reports_errors

if TYPE_CHECKING:
    from .widget import ParticleDetectWidget

SHORTCUTS = ("Enter: accept frame and go to the next · , / . : previous / next frame · H: heatmap on/off\n"
             "Edit with the Points tools: P add, S select, Delete remove, drag to move. Every edit is saved at once.")


class ReviewPanel(QGroupBox):
    def __init__(self, host: ParticleDetectWidget) -> None:
        super().__init__("Review")
        self.host = host
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.previous_button = QPushButton("◀ Previous")
        self.accept_button = QPushButton("Accept frame")
        self.accept_button.setToolTip("This frame's centres are right: keep them as training data (Enter)")
        self.next_button = QPushButton("Next ▶")
        self.unaccept_button = QPushButton("Un-accept")
        self.unaccept_button.setToolTip("Back to unreviewed: Detect may then replace this frame's centres")
        hint = QLabel(SHORTCUTS)
        hint.setWordWrap(True)
        hint.setStyleSheet("color: gray; font-size: 10px")
        grid = QGridLayout(self)
        grid.addWidget(self.status, 0, 0, 1, 4)
        grid.addWidget(self.previous_button, 1, 0)
        grid.addWidget(self.accept_button, 1, 1, 1, 2)
        grid.addWidget(self.next_button, 1, 3)
        grid.addWidget(self.unaccept_button, 2, 1, 1, 2)
        grid.addWidget(hint, 3, 0, 1, 4)
        self.previous_button.clicked.connect(lambda *_: self.previous_frame())
        self.next_button.clicked.connect(lambda *_: self.next_frame())
        self.accept_button.clicked.connect(lambda *_: self.accept_and_next())
        self.unaccept_button.clicked.connect(lambda *_: self.unaccept())

    def refresh(self) -> None:
        annotation = self.host.annotation
        for button in (self.previous_button, self.accept_button, self.next_button, self.unaccept_button):
            button.setEnabled(annotation is not None)
        if annotation is None:
            self.status.setText("")
            return
        frame, project = annotation.current_frame(), annotation.project
        reviewed = project.is_reviewed(frame)
        visible = annotation.visible_table()
        count = int((visible["frame"] == frame).sum())
        self.status.setText(
            f"Frame {frame + 1} of {annotation.n_frames} (index {frame}): "
            f"{'<b>reviewed ✓</b>' if reviewed else 'not reviewed'}, {count} centres shown · "
            f"{len(project.reviewed_frames)} of {annotation.n_frames} frames reviewed"
        )
        self.unaccept_button.setEnabled(reviewed)

    @reports_errors
    def accept_and_next(self) -> None:
        annotation = self.host.require_annotation()
        frame = annotation.current_frame()
        accepted = annotation.accept(frame)
        show_info(f"frame {frame} accepted with {len(accepted)} centres")
        if frame + 1 < annotation.n_frames:
            annotation.go_to_frame(frame + 1)
        self.host.refresh()

    @reports_errors
    def unaccept(self) -> None:
        annotation = self.host.require_annotation()
        annotation.unaccept(annotation.current_frame())

    def next_frame(self) -> None:
        if self.host.annotation is not None:
            self.host.annotation.go_to_frame(self.host.annotation.current_frame() + 1)

    def previous_frame(self) -> None:
        if self.host.annotation is not None:
            self.host.annotation.go_to_frame(self.host.annotation.current_frame() - 1)

    def toggle_heatmap(self) -> None:
        if self.host.annotation is not None and not self.host.annotation.toggle_heatmap():
            show_info("no heatmap yet: tick 'show heatmap' and run Detect")
