"""The Rods and chains dock's Fine-tune box: a round of the kind's heads on the reviewed frames and
regions in a worker (progress, cancel, the verdict), and the project's rounds (double-click: use one).
A thin skin over kinds_rounds.train_kind_round; words from round_progress, as the sphere dock's."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from napari.qt.threading import create_worker
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QAbstractItemView, QFileDialog, QGridLayout, QGroupBox, QHeaderView, QLabel, QProgressBar, QPushButton, QSpinBox,
    QTableWidget, QTableWidgetItem,
)

from ..errors import ParticleDetectError
from ..learning.kinds_rounds import KIND_ROUND, ROUND_METRIC, round_config, train_kind_round
from ..learning.kinds_training import KindTrainConfig
from ..projects.kinds_project import import_kind_model
from ..projects.project import Project, RoundInfo
from ..projects.shipped_rounds import round_origin
from .image_views import layer_pixels
from .kind_review import KindSession
from .labels import PathLabel, plain_tip
from .notify import reports_errors, show_info, show_warnings, telling
from .round_progress import trained_text
from .round_reports import ProgressRelay, RoundReports, told_again
from .state import viewer_choices
from .this_version_offer import ThisVersionOffer
from .warm_up import warm_up_training

# Narrow enough for the dock: where a round came from and what it learned from are in each row's tooltip.
COLUMNS = ["round", "before", "after", "tiles", "result"]
ROUND_ROLE = Qt.ItemDataRole.UserRole
# What a round's verdict adds when the round is put in use, for a stack and for one image.
TO_USE_FRAMES, TO_USE = "Detect the frames not reviewed to use it.", "Detect again to use it."


def chosen_steps(viewer) -> dict[str, int]:
    """The round steps set in ``viewer``'s docks, by kind (state.DockChoices.kind_steps); a kind not there is at
    its default."""
    return viewer_choices(viewer).kind_steps


def show_steps(spin: QSpinBox, steps: int) -> None:
    """Put ``steps`` in the box without counting it as the user's choice."""
    spin.blockSignals(True)
    spin.setValue(steps)
    spin.blockSignals(False)


class KindRoundsPanel(RoundReports, QGroupBox):
    def __init__(self, session: Callable[[], KindSession | None], on_round: Callable[[], None]) -> None:
        super().__init__("Fine-tune")
        self._session, self._on_round = session, on_round
        self.worker = None
        self._target: KindSession | None = None
        self._advised: Path | None = None  # the project whose round's verdict says to Detect again
        self._cancel, self._ended = threading.Event(), threading.Event()
        self._ended.set()
        self._relay = ProgressRelay()
        self.phases: list[str] = []  # the phases the running (or last) round went through
        self._relay.event.connect(self._on_progress)
        warm_up_training()  # while the user reviews, so the first round starts as quickly as later ones
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(5, 5000)
        self.steps_spin.setSingleStep(50)
        self.steps_spin.setValue(KIND_ROUND.steps_per_epoch)
        self.steps_spin.setToolTip("Training steps of a round (each kind's measured default until you change it)")
        self._steps_kind: str | None = None  # the kind whose default steps the box shows
        self.run_button = QPushButton("Fine-tune")
        self.run_button.setToolTip("Train the model in use on the reviewed frames and regions; tiles of them are "
                                   "held out to score it, and it is used only if it beats the round it started from")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.add_button = QPushButton("Add…")
        self.add_button.setToolTip("Detect with a saved model of this kind from now on (a round exported from "
                                   "another image with `particle-detect rounds IMAGE --export N`)")
        self.progress = QProgressBar()
        # The status line below says the round's progress in words (as the spheres dock's Fine-tune box): the bar's
        # own "0%" after Add… or a failed round read as a round started and stuck.
        self.progress.setTextVisible(False)
        # It names the image: a long name breaks after its separators. Empty (no round yet), it takes no room:
        # a blank band lay between the bar and the table.
        self.status = PathLabel("", hidden_when_empty=True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)  # the round column names each row: its numbers pushed 'result' out of view
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # 'result' takes the room the numbers leave, elided (each row's tooltip says it whole): sized to its contents,
        # a model added from a long file name ("in use, rods_finetuned_on_….pt") pushed it out of the dock behind a
        # sideways scroll, its header and the verdict with it.
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        # One line elided in its middle: "in use, " and the file's ".pt" both stay (wrapped, the name was lost whole).
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setMaximumHeight(150)
        self.table.cellDoubleClicked.connect(lambda row, _col: self.use_row(row))
        # After an upgrade an older project's rounds start from the model the older version shipped: said
        # whatever the status line says, with the way to this version's.
        self.this_version = ThisVersionOffer(self._project, self.running,
                                             lambda info: self._round_added(info, "the model this version ships"))
        grid = QGridLayout(self)
        grid.addWidget(QLabel("Steps"), 0, 0)
        grid.addWidget(self.steps_spin, 0, 1)
        grid.addWidget(self.run_button, 0, 2)
        grid.addWidget(self.cancel_button, 0, 3)
        grid.addWidget(self.add_button, 0, 4)
        grid.addWidget(self.progress, 1, 0, 1, 5)
        grid.addWidget(self.status, 2, 0, 1, 5)
        grid.addWidget(self.this_version, 3, 0, 1, 5)
        grid.addWidget(self.table, 4, 0, 1, 5)
        self.steps_spin.valueChanged.connect(self._keep_steps)
        self.run_button.clicked.connect(lambda *_: self.run())
        self.add_button.clicked.connect(lambda *_: self.add_model_file())
        self.cancel_button.clicked.connect(lambda *_: self.cancel())
        self.refresh()

    def running(self) -> bool:
        return self.worker is not None

    def _keep_steps(self, steps: int) -> None:
        session = self._session()
        if session is not None and session.kind == self._steps_kind:  # the box shows that kind's steps
            chosen_steps(session.viewer)[session.kind] = steps

    def _project(self) -> Project | None:
        session = self._session()
        return session.project if session is not None else None

    def refresh(self) -> None:
        session = self._session()
        self.run_button.setEnabled(session is not None and not self.running())
        self.add_button.setEnabled(session is not None and not self.running())
        # Steps are a kind's: with no image (no kind yet) a number typed was replaced by the kind's as one was chosen.
        self.steps_spin.setEnabled(session is not None and not self.running())
        self.this_version.refresh()
        self.table.setRowCount(0)
        if session is None:
            return
        if session.kind != self._steps_kind:
            self._steps_kind = session.kind
            kept = chosen_steps(session.viewer).get(session.kind)
            show_steps(self.steps_spin, kept if kept is not None else round_config(session.kind).steps_per_epoch)
        project = session.project
        in_use = project.state().current_round
        self.table.setToolTip(f"Scored on held-out tiles with the {session.kind}' {ROUND_METRIC[session.kind]}, "
                              "each round at its best threshold; double-click a row to detect with that round")
        for info in project.rounds:
            row = self.table.rowCount()
            self.table.insertRow(row)
            # A round whose files were deleted by hand or damaged looked sound until used: its row says so.
            origin = round_origin(project, info)  # its model file read once for the whole row
            problem = origin.problem
            tip = (f"{info.name}: {origin.label}" if not info.parent else
                   f"{info.name}: {info.origin} from round-{info.parent:03d}, trained on {trained_text(info)}, scored on "
                   f"{info.held_out} held-out tiles ('before': round-{info.parent:03d}, 'after': {info.name})"
                   + (f"; {problem}" if problem else ""))
            for col, text in enumerate(_cells(info, info.number == in_use, origin.word, problem)):
                item = QTableWidgetItem(text)
                item.setData(ROUND_ROLE, info.number)
                item.setToolTip(plain_tip(tip))  # a model file's name in it shown as it is
                self.table.setItem(row, col, item)
        last = project.rounds[-1] if project.rounds else None
        if not self.running() and not self.status.text() and last is not None and last.parent:
            self.status.setText(self._reopened_verdict(session, last))

    def _reopened_verdict(self, session: KindSession, last: RoundInfo) -> str:
        """The last round's verdict as its end said it (a dock opened again, the image or kind chosen again), as the
        spheres dock's FineTunePanel._verdict_of tells it: its time while nothing was chosen since, and "Detect again"
        while frames not reviewed show an earlier round (drop_done_advice takes it off once Detect used the round)."""
        project = session.project
        current = project.current_round
        said = told_again(last, current, ROUND_METRIC[session.kind])
        if last.improved and current is not None and current.number == last.number and _earlier_rounds_shown(project):
            said += ". " + (TO_USE_FRAMES if session.stack else TO_USE)
            self._advised = project.folder
        return said

    @reports_errors
    def use_row(self, row: int) -> None:
        session = self._session()
        if session is None or self.running():
            return
        number = self.table.item(row, 0).data(ROUND_ROLE)
        self.show_round_chosen(session.project.set_current_round(number))
        self.refresh()
        self._on_round()
        show_info(f"detecting with round-{number:03d} from now on")

    @reports_errors
    def add_model_file(self, path: str | None = None) -> None:
        """A saved model of the session's kind as the next round, used from now on."""
        session = self._session()
        if session is None or self.running():
            return
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, f"Add a saved {session.kind} model", "", "Model weights (*.pt)")
            if not path:
                return
        info = import_kind_model(session.project, path)
        self._round_added(info, f"added from {Path(path).name}")
        show_info(f"added {path} as {info.name}: detecting with it from now on")

    def _round_added(self, info: RoundInfo, how: str) -> None:
        """A round added (a file, this version's model) is in use: the status line, table and dock say so."""
        self.show_round_chosen(info, how)
        self.refresh()
        self._on_round()

    @reports_errors
    def run(self, config: KindTrainConfig | None = None) -> None:
        """Start a round in a worker; ``config`` overrides the panel's (tests use tiny ones)."""
        if self.running():
            return
        session = self._session()
        if session is None:
            raise ParticleDetectError("choose an image and run Detect first")
        session.sync()
        if not session.project.reviewed_areas():
            raise ParticleDetectError("accept at least one corrected frame or region before fine-tuning")
        session.model_path()  # round 1 (the shipped weights) exists before the worker starts
        config = config or round_config(session.kind, steps_per_epoch=self.steps_spin.value())
        self._cancel, self._ended = threading.Event(), threading.Event()
        self.phases = []
        self._target = session
        self.status.setText(f"fine-tuning {session.project.current_round.name}…")
        self.worker = create_worker(_job, session.project, layer_pixels(session.image), config, self._relay.event.emit,
                                    self._cancel.is_set, self._ended, _ignore_errors=True)
        self.worker.returned.connect(self._on_done)
        self.worker.errored.connect(self._on_error)
        self.worker.finished.connect(self._on_finished)
        self.worker.start()
        self._set_running(True)

    def _set_running(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)
        self.run_button.setEnabled(not running)
        self.steps_spin.setEnabled(not running)
        self.this_version.refresh()

    def _on_progress(self, event: dict) -> None:
        shown = self.show_progress(event)
        if shown is not None:
            self.status.setText(shown.text)

    def _on_done(self, result: tuple[RoundInfo, list[str]]) -> None:
        info, said = result
        show_warnings(said, "fine-tune round")
        target = self._target
        # Every frame reviewed, Detect keeps each as accepted: "Detect again" had nothing to use the round on.
        to_use = (TO_USE_FRAMES if target.stack else TO_USE) if _some_frame_not_reviewed(target) else ""
        self.show_verdict(info, target.project.current_round, ROUND_METRIC[target.kind], to_use=to_use,
                          subject=self._subject())
        self._advised = target.project.folder

    def drop_done_advice(self) -> None:
        """The verdict's "Detect again to use it." goes once a Detect has used the round: no frame not reviewed
        shows an earlier round's rods or beads any more (as the spheres dock's Fine-tune box drops its own). Left,
        it read as the Detect just run not having used the new round."""
        session, said = self._session(), self.status.text()
        ending = next((f". {to_use}" for to_use in (TO_USE_FRAMES, TO_USE) if said.endswith(f". {to_use}")), None)
        if (session is None or self.running() or ending is None or session.project.folder != self._advised
                or _earlier_rounds_shown(session.project)):
            return
        self.status.setText(said[:-len(ending)])

    def _on_error(self, exc: BaseException) -> None:
        self.show_failure(exc, self._target.project.current_round, subject=self._subject())

    def _subject(self) -> str:
        """The running round's image and kind when the dock shows another image or kind by now, else ''."""
        target, shown = self._target, self._session()
        if target is None or (shown is not None and shown.project.folder == target.project.folder):
            return ""
        return f"'{target.image.name}' {target.kind}"

    def _on_finished(self) -> None:
        self.worker, self._target = None, None
        self._set_running(False)
        self.refresh()
        self._on_round()


def _job(project, stack, config, progress, cancel, ended) -> tuple[RoundInfo, list[str]]:
    """Worker body: the round and the warnings it logged (beads resampled to the size the chains model reads,
    its held-out tiles detected), for the window to show as the volume dock's round shows them (notify.telling);
    ``ended`` is set however it ends."""
    try:
        return telling(train_kind_round, project, stack, config, "auto", progress=progress, cancel=cancel)
    finally:
        ended.set()


def _earlier_rounds_shown(project: Project) -> bool:
    """Whether a frame not reviewed shows what another round than the one in use found."""
    in_use = project.current_round
    if in_use is None:
        return False
    reviewed = set(project.reviewed_frames)  # read once: asked per frame, a 10 000-frame project froze the dock 1.5 s
    return any(number != in_use.number for frame, number in project.detected_by.items() if frame not in reviewed)


def _some_frame_not_reviewed(session: KindSession) -> bool:
    """Whether a Detect on ``session``'s image would detect a frame (one not accepted whole) with the round in use."""
    reviewed = set(session.project.reviewed_frames)
    return any(frame not in reviewed for frame in range(session.n_frames))


def _cells(info: RoundInfo, in_use: bool, origin: str = "", problem: str | None = None) -> list[str]:
    """The table's row of ``info``; ``origin``: what its 'result' says of a round not fine-tuned (default: its
    origin), after "in use" for the one in use (a starred origin, another version's model, must show there);
    ``problem``: why its model cannot be used (Project.round_model_problem), after the result."""
    score = (lambda v: f"{v:.3f}" if v is not None else "–")
    lower = info.f1 is not None and info.parent_f1 is not None and info.f1 < info.parent_f1
    if not info.parent:
        result = ("in use, " if in_use else "") + (origin or info.origin)
    else:
        result = "in use" if in_use else ("kept" if info.improved else ("worse" if lower else "not better")
                                          if info.improved is False else "unscored")
    if problem:
        result += f"; {problem}"
    return [info.name + (" ✓" if in_use else ""), score(info.parent_f1), score(info.f1),
            str(info.held_out) if info.parent else "–", result]
