"""Export and Delete for the round picked in the Fine-tune panel's table: a round used outside the
dock (``particle-detect detect --model``, *Add...* in another project), or one no longer wanted."""

from __future__ import annotations

from pathlib import Path

from .notify import show_info
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QFileDialog, QHBoxLayout, QMessageBox, QPushButton, QTableWidget, QWidget

from ..errors import ParticleDetectError
from ..projects.round_files import deletable, delete_round, deletion_refusal, export_round
from .annotation import image_path
from .notify import ask_no_default, reports_errors, written_to
from .state import DockState

ROUND_ROLE = Qt.ItemDataRole.UserRole  # where the Fine-tune table keeps each row's round number


def round_change_refusal(state: DockState, doing: str) -> str | None:
    """Why the rounds cannot be switched or deleted now (``doing``: which, in words), or None. A running Detect goes
    on with the round it started with, as the Detect panel's Model list, disabled meanwhile, says: a round chosen in
    the table then was told "in use from now on" while the frames left were still detected with the other, and the
    round Detect was reading could be deleted from under it."""
    if state.is_busy("detecting"):
        return f"Detect is running: wait for it to end (or Stop it) before {doing}"
    return None


class RoundActions(QWidget):
    def __init__(self, state: DockState, table: QTableWidget) -> None:
        super().__init__()
        self.state = state
        self.table = table
        self.dialog: QMessageBox | None = None  # the question being asked, while it is
        self.export_button = QPushButton("Export round…")
        self.export_button.setToolTip("Save the selected round as a model file (.pt with its .json card) for "
                                      "'particle-detect detect --model' or Add… in another project")
        self.delete_button = QPushButton("Delete round")
        self.delete_button.setToolTip("Remove the selected round from this project (not the one in use, not "
                                      "the shipped model)")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.export_button, 1)
        row.addWidget(self.delete_button)
        self.export_button.clicked.connect(lambda *_: self.export())
        self.delete_button.clicked.connect(lambda *_: self.delete())
        table.itemSelectionChanged.connect(self.refresh)
        state.project_changed.connect(self.refresh)
        state.busy_changed.connect(self.refresh)
        self.refresh()

    def selected(self) -> int | None:
        """The round number of the selected row, if one is."""
        rows = {index.row() for index in self.table.selectedIndexes()}
        if len(rows) != 1:
            return None
        item = self.table.item(rows.pop(), 0)
        return item.data(ROUND_ROLE) if item is not None else None

    def refresh(self) -> None:
        annotation, number = self.state.annotation, self.selected()
        self.export_button.setEnabled(annotation is not None and number is not None)
        reason = None
        if annotation is not None and number is not None:
            try:
                reason = round_change_refusal(self.state, "deleting a round") or deletable(annotation.project, number)
            except ParticleDetectError as exc:
                reason = str(exc)
        self.delete_button.setEnabled(annotation is not None and number is not None and reason is None
                                      and not self.state.is_busy("fine-tuning"))
        self.delete_button.setToolTip(reason or "Remove the selected round from this project")

    def confirm(self, title: str, text: str) -> bool:
        """Ask a yes/no question; No is the default: the selection stays on the row that slid up with Delete
        still on, so Delete, Enter, Delete, Enter must not remove two rounds (as ReviewPanel.confirm)."""
        return ask_no_default(self, title, text)

    def _chosen(self) -> int:
        number = self.selected()
        if number is None:
            raise ParticleDetectError("select a round in the table first")
        return number

    @reports_errors
    def export(self, path: str | Path | None = None) -> Path | None:
        project = self.state.require_annotation().project
        number = self._chosen()
        if path is None:
            image = image_path(self.state.annotation.image)
            stem = image.stem if image is not None else self.state.annotation.image.name
            folder = image.parent if image is not None else Path.cwd()
            suggested = folder / f"{stem}-round-{number:03d}.pt"
            path, _ = QFileDialog.getSaveFileName(self, "Export the round as a model (its name is the file's)",
                                                  str(suggested), "Model weights (*.pt)")
            if not path:
                return None
        with written_to(path, f"round-{number:03d}"):
            written = export_round(project, number, path)
        show_info(f"round-{number:03d} exported to {written} (use it with particle-detect detect --model, "
                  "or Add… in another project)")
        return written

    @reports_errors
    def delete(self, confirm: bool = True) -> bool:
        project = self.state.require_annotation().project
        number = self._chosen()
        if self.state.is_busy("fine-tuning"):
            raise ParticleDetectError("wait for the running round to finish before deleting one")
        refused = round_change_refusal(self.state, "deleting a round")
        if refused is not None:
            raise ParticleDetectError(refused)
        reason = deletable(project, number)
        if reason is not None:
            raise ParticleDetectError(deletion_refusal(reason))
        if confirm and not self.confirm("Delete round", f"Delete round-{number:03d} and its model files from this "
                                        "project? This cannot be undone (export it first to keep it)."):
            return False
        info = delete_round(project, number)
        self.state.project_changed.emit()
        show_info(f"{info.name} deleted")
        return True
