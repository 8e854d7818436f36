"""Fine-tune: a round on the reviewed frames and regions in a worker, its progress through every
phase, a live loss curve, and the rounds with their held-out F1, before and after."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from napari.qt.threading import create_worker
from .notify import show_info
from qtpy.QtCore import QEvent, QObject, Qt
from qtpy.QtWidgets import (
    QAbstractItemView, QCheckBox, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QProgressBar, QPushButton,
    QSpinBox, QTableWidget, QTableWidgetItem,
)

from ..errors import ParticleDetectError
from ..learning.eta import RoundEta, eta_text
from ..learning.finetune import FINE_TUNE, round_defaults, tie_note
from ..learning.pseudo_labels import DEFAULT_FRAMES
from ..learning.rounds import unlearned_edits_count, unlearned_edits_text, unreviewed_text
from ..projects.project import RoundInfo
from ..projects.shipped_rounds import FROM_FILE, round_origin
from ..learning.training import TrainConfig
from .image_views import layer_pixels
from .labels import PathLabel
from .notify import reports_errors
from .plots import LossCurve, LossPlot, RoundsPlot
from .round_actions import RoundActions, round_change_refusal
from .round_progress import areas_text, train_round, trained_text
from .round_reports import CANCELLING, ProgressRelay, RoundReports, told_again
from .warm_up import warm_up_training
from .state import DockState, round_threshold

ROUND_COLUMNS = ["round", "from", "trained", "held out", "F1 before", "F1 after", "result"]
TRAINED_COLUMN = ROUND_COLUMNS.index("trained")
FROM_COLUMN = ROUND_COLUMNS.index("from")
# Sized by _fit_elastic_columns to the room the others leave: "3f + 2u, 1e not learned", and a model added from a
# long file name ("unet_finetuned_…_view.pt", 441 px), pushed 'F1 after' and 'result' behind a sideways scroll.
# 'trained' first: every round's row says it, and halving the room with a long 'from' cut it to "1 fr…gion" in a
# dock with room for it whole; only the first row's 'from' is long, a file name its tooltip gives whole.
ELASTIC_COLUMNS = (TRAINED_COLUMN, FROM_COLUMN)
# "held out", "F1 before" and "F1 after" on two lines: on one their headers, wider than their numbers, left the
# trained column less than its own header at the dock's usual width (about 490 px).
ROUND_HEADERS = [name.replace(" ", "\n") for name in ROUND_COLUMNS]
HOLD_OUT_NOTE = ("Each round is scored on tiles of the reviewed areas that no round ever trains on: 'F1 before' "
                 "is the round it started from, 'F1 after' the new one, each at its best threshold. A round "
                 "that is not better is kept but not used; double-click a row to detect with that round. Each "
                 "row is scored on the tiles held out when it was made: they grow as you review more, so one "
                 "round can score differently as a later round's 'F1 before'. '2f 1r + 4u': a round trained on "
                 "2 frames and 1 region that also learned from 4 unreviewed frames (hover it for which); "
                 "', 3e not learned': 3 frames you had edited whose edits it did not learn, not accepted or "
                 "outside their accepted regions (hover it for which).")
ROUND_ROLE = Qt.ItemDataRole.UserRole
# On a cell that the table keeps whole however narrow the dock: a word ('shipped', a round's number), not a file name.
WHOLE_ROLE = Qt.ItemDataRole.UserRole + 1
# On a 'trained' cell: its words in full and in short ('1 frame, 1 region', '1f 1r'); the short form is shown where the
# full one would be cut ("1 fr…gion"), as the table already says a round that learned from unreviewed frames.
FULL_ROLE = Qt.ItemDataRole.UserRole + 2
SHORT_ROLE = Qt.ItemDataRole.UserRole + 3
# What a verdict of a round put in use adds while frames still show an earlier round's detections.
TO_USE = "Run Detect on the unreviewed frames to use it."


def trained_cell(info: RoundInfo) -> str:
    """What the rounds table says a round trained on: '2 frames, 1 region'; '2f 1r + 4u' for a round that
    asked for unreviewed frames (4 learned from), '2f 1r, 3e not learned' for one that left 3 edited frames'
    edits unlearned: short so the table still fits the dock's width."""
    if not info.unreviewed_asked and not unlearned_edits_count(info):
        return trained_text(info)
    return short_trained_cell(info)


def short_trained_cell(info: RoundInfo) -> str:
    """:func:`trained_cell` in its short form: '2f 1r', '2f 1r + 4u', '2f 1r, 3e not learned'."""
    unlearned = unlearned_edits_count(info)
    reviewed = [f"{n}{unit}" for n, unit in ((len(info.trained_frames), "f"), (info.trained_regions, "r")) if n]
    said = " ".join(reviewed) + (f" + {len(info.unreviewed_frames)}u" if info.unreviewed_asked else "")
    return f"{said}, {unlearned}e not learned" if unlearned else said


def trained_tooltip(info: RoundInfo) -> str:
    """The rounds table's trained cell in words: what the round trained on, the unreviewed frames it learned
    from, the edits it did not learn ("" for a round not trained here). Always said, as the cell may be elided
    to leave the other columns room."""
    if info.parent is None:
        return ""
    learned, unlearned = unreviewed_text(info), unlearned_edits_text(info)
    said = f"{info.name} trained on {trained_text(info)}" + (f"; it {learned}" if learned else "")
    return f"{said}. It {unlearned}" if unlearned else said


class FineTunePanel(RoundReports, QGroupBox):
    def __init__(self, state: DockState) -> None:
        super().__init__("Fine-tune")
        self.state = state
        self.worker = None
        self._target = None  # the annotation whose project a running round belongs to
        self._running_line = ""  # what the running round last said, without its image's name
        self._verdicts: dict[Path, str] = {}  # the last round's verdict per project, shown with its image
        # The round each of those speaks of: deleted, its verdict went on offering it ("double-click round-002").
        self._verdict_rounds: dict[Path, int] = {}
        # The last finished round's loss curve per project, shown with its image beside its verdict (picking
        # another image and back cleared it, a round ending for an image not shown left it drawn under another).
        self._curves: dict[Path, LossCurve] = {}
        # No thread count: the round takes the cores the machine's load leaves free (detection.threads;
        # the interface itself takes about 5 % of a core while a round trains, benchmarks/dock_round.py).
        self.config = replace(FINE_TUNE, **round_defaults())
        self._cancel = threading.Event()
        self._ended = threading.Event()
        self._ended.set()
        self._relay = ProgressRelay()
        self._relay.event.connect(self._on_progress)
        self.phases: list[str] = []  # the phases the running (or last) round went through
        self._eta = RoundEta()  # time left in the running round
        warm_up_training()  # while the user reviews, so the first round starts as quickly as later ones

        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(5, 5000)
        self.steps_spin.setSingleStep(50)
        self.steps_spin.setValue(self.config.steps_per_epoch)
        self.steps_spin.setToolTip("Training steps per round (batches of the reviewed areas): 200 on a CPU, "
                                   "500 of 32 crops on a GPU by default; more steps learn more from the same corrections")
        # Semi-supervised rounds (learning/pseudo_labels.py): on by default where they measured better,
        # in the longer rounds of a GPU (finetune.round_defaults).
        self.unlabelled_check = QCheckBox("also learn from unreviewed frames")
        self.unlabelled_check.setChecked(self.config.unlabelled_frames > 0)
        self.unlabelled_check.setToolTip("Halfway through its steps the new round labels the unreviewed frames it is "
                                         "sure of (confident particles and background; where it hesitates nothing is "
                                         "learned) and learns from them too for the rest. Reviewed frames are never "
                                         "labelled, and rounds are still scored on your reviewed tiles only")
        self.unlabelled_spin = QSpinBox()
        self.unlabelled_spin.setRange(1, 1000)
        self.unlabelled_spin.setValue(self.config.unlabelled_frames or DEFAULT_FRAMES)
        self.unlabelled_spin.setToolTip("How many unreviewed frames, spread over the stack")
        self.unlabelled_spin.setEnabled(self.unlabelled_check.isChecked())
        self.unlabelled_check.toggled.connect(lambda on: self.unlabelled_spin.setEnabled(on and not self.running()))
        self.where_edit = QLineEdit()
        self.where_edit.setPlaceholderText("this computer")
        self.where_edit.setToolTip("Blank: train here. Or a dask scheduler's address (tcp://gpu-node:8786): the round "
                                   "trains on one of its workers, on its GPU if it has one")
        self.run_button = QPushButton("Fine-tune")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        # A PathLabel: "(added from unet_finetuned_…_view.pt)" was one unbreakable word, and widened the dock to it.
        self.status = PathLabel("")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.loss_plot = LossPlot()
        self.rounds_plot = RoundsPlot()
        self.table = QTableWidget(0, len(ROUND_COLUMNS))
        self.table.setHorizontalHeaderLabels(ROUND_HEADERS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setToolTip(HOLD_OUT_NOTE)
        self.table.setMaximumHeight(146)  # three rows and a half under the two-line header
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        for col in ELASTIC_COLUMNS:
            self.table.horizontalHeader().setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
        # One line cut in its middle, as the Rods and chains rounds table does: a file's start and its ".pt" both stay.
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.viewport().installEventFilter(self)  # the dock resized, or a vertical scrollbar came or went
        self._rows_of: tuple[Path | None, int] = (None, 0)  # the project the table shows, and its rounds then

        size_row = QHBoxLayout()
        size_row.addWidget(QLabel("steps"))
        size_row.addWidget(self.steps_spin)
        size_row.addWidget(QLabel("train on"))
        size_row.addWidget(self.where_edit, 1)
        unlabelled_row = QHBoxLayout()
        unlabelled_row.addWidget(self.unlabelled_check)
        self.unlabelled_spin.setSuffix(" frames")  # rather than a label beside it: a narrower row
        unlabelled_row.addWidget(self.unlabelled_spin, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button, 1)
        buttons.addWidget(self.cancel_button)
        plots = QHBoxLayout()
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.rounds_plot)
        form = QFormLayout(self)
        form.addRow(size_row)
        form.addRow(unlabelled_row)
        form.addRow(buttons)
        form.addRow(self.progress)
        form.addRow(self.status)
        form.addRow(self.table)  # HOLD_OUT_NOTE is its tooltip: the dock fits a 1000 px high window
        self.round_actions = RoundActions(state, self.table)
        form.addRow(self.round_actions)
        form.addRow(plots)

        self._show_choices()
        self.steps_spin.valueChanged.connect(lambda *_: self._keep_choices())
        self.unlabelled_check.toggled.connect(lambda *_: self._keep_choices())
        self.unlabelled_spin.valueChanged.connect(lambda *_: self._keep_choices())
        self.where_edit.textChanged.connect(lambda *_: self._keep_choices())
        self.run_button.clicked.connect(lambda *_: self.run())
        self.cancel_button.clicked.connect(lambda *_: self.cancel())
        self.table.cellDoubleClicked.connect(lambda row, _col: self._use_row(row))
        state.project_changed.connect(self.refresh)
        state.busy_changed.connect(self.refresh)
        state.annotation_changed.connect(lambda *_: self._forget_image())
        state.round_chosen.connect(self._on_round_chosen)
        self.refresh()  # a dock opened with no image: no project is said until one is picked (Fine-tune was enabled)

    def running(self) -> bool:
        return self.worker is not None

    def _show_choices(self) -> None:
        """The steps, unreviewed frames and place to train the user last chose in this window's dock (a dock
        opened again); those never changed stay this computer's defaults."""
        chosen = self.state.choices.fine_tune
        if chosen.steps is not None:
            self.steps_spin.setValue(chosen.steps)
        if chosen.unreviewed is not None:
            self.unlabelled_check.setChecked(chosen.unreviewed)
        if chosen.unreviewed_frames is not None:
            self.unlabelled_spin.setValue(chosen.unreviewed_frames)
        self.where_edit.setText(chosen.train_on)

    def _keep_choices(self) -> None:
        chosen = self.state.choices.fine_tune
        chosen.steps = self.steps_spin.value()
        chosen.unreviewed = self.unlabelled_check.isChecked()
        chosen.unreviewed_frames = self.unlabelled_spin.value()
        chosen.train_on = self.where_edit.text()

    def _forget_image(self) -> None:
        """Another image (or none): the last image's verdict, bar and loss curve go (a round still
        running for it keeps reporting, as it is about that image)."""
        if self.running():
            # Its last line, naming its image now that another is picked (or no more, picked again): the next
            # progress shown could be a long phase away.
            self._say_running(CANCELLING if self._cancel.is_set() else self._running_line)
            return
        annotation = self.state.annotation
        said = self._verdict_of(annotation) if annotation is not None else ""
        self.status.setText(said)  # the last round's of this image, wherever the dock was when it ended
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if said else 0)
        self._show_curve()
        self.phases = []

    def _show_curve(self) -> None:
        annotation = self.state.annotation
        self.loss_plot.show_curve(self._curves.get(annotation.project.folder) if annotation is not None else None)

    def _verdict_of(self, annotation) -> str:
        """The last verdict said for ``annotation``'s project in this session; else (a dock or viewer opened
        again) its last round's, as the round's end said it."""
        project = annotation.project
        if project.folder in self._verdicts:
            return self._verdicts[project.folder]
        last = project.rounds[-1] if project.rounds else None
        if last is None or not last.parent:
            return ""
        current = project.current_round
        said = told_again(last, current)
        if last.improved and current is not None and current.number == last.number and self._detect_to_use(annotation):
            said += ". " + TO_USE
        self._keep_verdict(project.folder, said, last)
        return said

    @staticmethod
    def _detect_to_use(annotation) -> bool:
        """Whether an unreviewed frame still shows another round's detections than the one in use (the
        frames the Detect panel's note names: Annotation.frames_of_other_rounds)."""
        try:
            return bool(annotation.frames_of_other_rounds())
        except ParticleDetectError:  # a damaged project is reported where it is used
            return False

    def _drop_done_advice(self) -> None:
        """"Run Detect on the unreviewed frames to use it." goes from the verdict once no unreviewed frame
        shows an earlier round's detections any more (Detect has run with the round)."""
        annotation = self.state.annotation
        if annotation is None or self.running():
            return
        folder = annotation.project.folder
        said = self._verdicts.get(folder, "")
        ending = ". " + TO_USE
        if not said.endswith(ending) or self.state.is_busy("detecting") or self._detect_to_use(annotation):
            return
        self._verdicts[folder] = said[:-len(ending)]
        if self.status.text() == said:
            self.status.setText(self._verdicts[folder])

    def _keep_verdict(self, folder: Path, said: str, info: RoundInfo) -> None:
        self._verdicts[folder] = said
        self._verdict_rounds[folder] = info.number

    def _drop_deleted_verdict(self, project) -> None:
        """The last verdict goes, from the status line too, once the round it speaks of is deleted: it offered a
        row no longer in the table. The last round left is told in its place, as a dock opened again tells it
        (the line was blank until then, and a reopened dock then told another verdict)."""
        folder = project.folder
        number = self._verdict_rounds.get(folder)
        if number is None or any(info.number == number for info in project.rounds):
            return
        said = self._verdicts.pop(folder, "")
        del self._verdict_rounds[folder]
        annotation = self.state.annotation
        if said and self.status.text() == said and not self.running():
            told = self._verdict_of(annotation) if annotation is not None and annotation.project is project else ""
            self.status.setText(told)
            self.progress.setValue(1 if told else 0)

    # ---- the rounds ------------------------------------------------------------------------------
    def refresh(self) -> None:
        annotation = self.state.annotation
        project = annotation.project if annotation is not None else None
        rounds = project.rounds if project is not None else []
        current = project.current_round if project is not None else None
        self.table.setRowCount(len(rounds))
        for row, info in enumerate(rounds):
            in_use = current is not None and info.number == current.number
            # Its model file read once for the whole row (gone or damaged: its problem), not once per cell's words.
            origin = round_origin(project, info)
            for col, text in enumerate(self._cells(info, in_use, origin.word, origin.problem)):
                item = QTableWidgetItem(text)
                item.setData(ROUND_ROLE, info.number)
                if origin.other_version or origin.problem:  # the starred 'from', or the file's problem, in words
                    item.setToolTip(f"{info.name}: {origin.label}")
                elif tie_note(info.improved, info.f1, info.parent_f1):
                    item.setToolTip(f"{info.name} scored the same held-out F1 as round-{info.parent:03d} at the best "
                                    "threshold and better across thresholds, so it was switched in")
                elif info.improved is False:
                    item.setToolTip(f"{info.name} did not beat round-{info.parent:03d} on the held-out tiles, so it "
                                    "was not switched in; double-click to detect with it anyway")
                elif info.improved is None and info.parent is not None:
                    item.setToolTip(f"{info.name} could not be scored (no held-out particle), so it was not switched "
                                    "in; double-click to detect with it anyway")
                if col == TRAINED_COLUMN:
                    item.setToolTip("\n".join(filter(None, [trained_tooltip(info), item.toolTip()])))
                    if info.parent:
                        item.setData(FULL_ROLE, text)
                        item.setData(SHORT_ROLE, short_trained_cell(info))
                elif col == FROM_COLUMN and not item.toolTip() and not info.parent:  # its file's name, maybe elided
                    item.setToolTip(f"{info.name}: {origin.label}")
                if col == FROM_COLUMN:
                    item.setData(WHOLE_ROLE, bool(info.parent) or not info.origin.startswith(FROM_FILE))
                self.table.setItem(row, col, item)
        self._fit_elastic_columns()
        self._show_newest(project, len(rounds))
        self.rounds_plot.show_rounds(rounds)
        areas = project.reviewed_areas() if project is not None else []
        frames = sum(1 for _, region in areas if region is None)
        regions = len(areas) - frames
        self.run_button.setText(f"Fine-tune on {areas_text(frames, regions)}" if areas
                                else "Fine-tune (accept frames or regions first)")
        self.run_button.setEnabled(bool(areas) and not self.running())
        self.round_actions.refresh()  # the rows moved (a round deleted): Delete and Export judge the row now there
        if project is not None:
            self._drop_deleted_verdict(project)
        self._drop_done_advice()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.table.viewport():
            self._fit_elastic_columns()
        return super().eventFilter(watched, event)

    def _fit_elastic_columns(self) -> None:
        """The 'trained' and 'from' columns as wide as their cells, or only as wide as the other columns leave them
        (their cells elided, their tooltips say it all), 'trained' served first, never narrower than their headers
        nor than their cells kept whole: round-001's 'shipped' read "sh…ed" at the dock's usual width."""
        header = self.table.horizontalHeader()
        trained = [item for row in range(self.table.rowCount())
                   if (item := self.table.item(row, TRAINED_COLUMN)) is not None and item.data(FULL_ROLE)]
        for item in trained:  # measured in full, so a wider dock shows the full words again
            if item.text() != item.data(FULL_ROLE):
                item.setText(item.data(FULL_ROLE))
        others = sum(self._column_width(col) for col in range(len(ROUND_COLUMNS)) if col not in ELASTIC_COLUMNS)
        room = self.table.viewport().width() - others
        for left, col in enumerate(ELASTIC_COLUMNS):
            later = sum(self._least_width(after) for after in ELASTIC_COLUMNS[left + 1:])
            width = max(self._least_width(col), min(self._column_width(col), room - later))
            header.resizeSection(col, width)
            room -= width
        grid = 1 if self.table.showGrid() else 0
        for item in trained:
            if self.table.sizeHintForIndex(self.table.indexFromItem(item)).width() + grid > header.sectionSize(
                    TRAINED_COLUMN):
                item.setText(item.data(SHORT_ROLE))

    def _least_width(self, col: int) -> int:
        """The narrowest a column goes: its header, and its cells marked whole (WHOLE_ROLE) uncut."""
        table = self.table
        grid = 1 if table.showGrid() else 0  # its line takes a pixel of the section, as in sizeHintForColumn
        whole = [table.sizeHintForIndex(table.model().index(row, col)).width() + grid for row in range(table.rowCount())
                 if table.item(row, col) is not None and table.item(row, col).data(WHOLE_ROLE)]
        return max([self.table.horizontalHeader().sectionSizeHint(col), *whole])

    def _column_width(self, col: int) -> int:
        """The width a column's cells and header ask for, as QHeaderView.ResizeToContents gives it."""
        header = self.table.horizontalHeader()
        return max(self.table.sizeHintForColumn(col), header.sectionSizeHint(col), header.minimumSectionSize())

    def _show_newest(self, project, count: int) -> None:
        """The newest rounds scrolled into view when rounds were added or another project is shown: the table
        holds three rows, and a fourth round's verdict spoke of a row below them, out of sight."""
        folder = project.folder if project is not None else None
        shown, before = self._rows_of
        self._rows_of = (folder, count)
        if folder != shown or count > before:
            self.table.scrollToBottom()

    @staticmethod
    def _cells(info: RoundInfo, in_use: bool, origin: str = "", problem: str | None = None) -> list[str]:
        """The table's row of ``info``; ``origin``: its 'from' cell where it has no parent (default: the first
        word of its origin); ``problem``: what is wrong with its model file (Project.round_model_problem)."""
        if info.parent is None:
            result = ""
        elif info.improved is None:
            result = "unscored"
        elif info.improved and tie_note(info.improved, info.f1, info.parent_f1):
            result = "better (tie-break)"  # the same F1 at the best threshold: better across thresholds
        else:
            result = "better" if info.improved else "not better"
        if problem:
            result = f"{result}; {problem}" if result else problem
        return [
            f"{info.number:03d}{' ◀' if in_use else ''}",
            f"{info.parent:03d}" if info.parent else origin or info.origin.split()[0],
            trained_cell(info) if info.parent else "–",
            f"{info.held_out} tiles" if info.held_out else "–",
            f"{info.parent_f1:.3f}" if info.parent_f1 is not None else "–",
            f"{info.f1:.3f}" if info.f1 is not None else "–",
            result,
        ]

    @reports_errors
    def _use_row(self, row: int) -> None:
        number = self.table.item(row, 0).data(ROUND_ROLE)
        current = self.state.require_annotation().project.current_round
        if current is not None and current.number == number:
            # Put in use again, it was told "in use from now on" and went back to its tuned threshold.
            show_info(f"round-{number:03d} is already in use")
            return
        refused = round_change_refusal(self.state, f"switching to round-{number:03d}")
        if refused is not None:
            raise ParticleDetectError(refused)
        self.state.use_round(number, how="chosen in the table")  # the line and its image's verdict: _on_round_chosen
        show_info(f"detecting with round-{number:03d} from now on")

    def _on_round_chosen(self, info: RoundInfo, how: str) -> None:
        """A round put in use, here or elsewhere (the Detect panel's Model list, Add…): the last verdict's
        "still using round-N" or "in use" would now be wrong, on this image and when it comes back."""
        annotation = self.state.annotation
        if annotation is not None:
            self._keep_verdict(annotation.project.folder, self.show_round_chosen(info, how), info)

    # ---- running ---------------------------------------------------------------------------------
    @reports_errors
    def run(self, config: TrainConfig | None = None) -> None:
        """Start a round in a worker; ``config`` overrides the panel's (tests use tiny ones)."""
        if self.running():
            return
        annotation = self.state.require_annotation()
        replaced = annotation.pixels_replaced()
        if replaced is not None:  # the reviews are the old pixels' centres: a round would learn them on the new
            raise ParticleDetectError(replaced)
        annotation.flush()
        if not annotation.project.reviewed_areas():
            raise ParticleDetectError("accept at least one corrected frame or region before fine-tuning")
        self.state.ensure_round()
        config = config or self.round_config(replace(self.config, steps_per_epoch=self.steps_spin.value()))
        self._cancel, self._ended = threading.Event(), threading.Event()
        self._target = annotation
        self.phases = []
        self._eta = RoundEta()
        self.loss_plot.start(config.epochs * config.steps_per_epoch)
        scheduler = self.where_edit.text().strip() or None
        self._say_running(f"fine-tuning {annotation.project.current_round.name}"
                          f"{f' on {scheduler}' if scheduler else ''}…")
        self.worker = create_worker(
            train_round, annotation.project, layer_pixels(annotation.image), config,
            "auto" if scheduler else self.state.device,  # a remote round uses the worker's own device
            progress=self._relay.event.emit, cancel=self._cancel.is_set, ended=self._ended, scheduler=scheduler,
            worker_defaults=bool(scheduler) and self._at_defaults(config), _ignore_errors=True,
        )
        self.worker.returned.connect(self._on_done)
        self.worker.errored.connect(self._on_error)
        self.worker.finished.connect(self._on_finished)
        self.worker.start()
        self._set_running(True)

    def _at_defaults(self, config: TrainConfig) -> bool:
        """Whether the round's steps and unreviewed frames are still this computer's defaults (then a
        remote worker takes its own)."""
        return (config.steps_per_epoch == self.config.steps_per_epoch
                and config.unlabelled_frames == self.config.unlabelled_frames)

    def round_config(self, base: TrainConfig) -> TrainConfig:
        """``base`` with the panel's choice of unreviewed frames to learn from (0: none)."""
        return replace(base, unlabelled_frames=self.unlabelled_spin.value() if self.unlabelled_check.isChecked() else 0)

    def _set_running(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)
        self.steps_spin.setEnabled(not running)
        self.unlabelled_check.setEnabled(not running)
        self.unlabelled_spin.setEnabled(not running and self.unlabelled_check.isChecked())
        self.where_edit.setEnabled(not running)
        self.state.set_busy("fine-tuning", running)

    def _on_progress(self, event: dict) -> None:
        if event.get("phase") == "preparing" and "steps" in event:
            self.loss_plot.start(event["steps"])  # a remote worker may train its own number of steps
        phase = event.get("phase", "")
        left = eta_text(self._eta.update(event))
        # A step told "again" (learning.remote: its scheduler answers after a silence) is on the curve already.
        if phase == "training" and not self._cancel.is_set() and not event.get("again"):
            self.loss_plot.add(event["step"], event["loss"])
        shown = self.show_progress(event)
        if shown is None:
            return
        text = f"{shown.text} ({left})" if left else shown.text
        self._say_running(text)

    def _say_running(self, text: str) -> None:
        """A running round's line, led by its image's name while the dock shows another image."""
        self._running_line = text
        self.status.setText(f"{self._subject()}: {text}" if self._subject() else text)

    def _subject(self) -> str:
        """The image a running round is for, quoted, when the dock now shows another one; else empty."""
        target = self._target
        return f"'{target.image.name}'" if target is not None and not self._shows_target() else ""

    def _shows_target(self) -> bool:
        """Whether the dock shows the running round's project: its image, or that image closed and opened again
        while the round ran (a new annotation of the same project), which was told "pick 'cells'" over itself."""
        target, shown = self._target, self.state.annotation
        return target is not None and shown is not None and (
            shown is target or shown.project.folder == target.project.folder)

    def _on_done(self, info: RoundInfo) -> None:
        project = self._target.project
        if info.improved is True:
            if self._shows_target():
                self.state.use_round(info.number, how="fine-tuned")  # and its threshold; its verdict follows
            else:  # in use for its image, which the dock does not show: its threshold waits there for it
                project.remember_threshold(round_threshold(project, info.number))
        self._curves[project.folder] = self.loss_plot.kept()
        image = self._target.image
        said = self.show_verdict(info, project.current_round, to_use=TO_USE, subject=self._subject(),
                                 subject_closed=image not in self._target.viewer.layers)
        self._keep_verdict(project.folder, said, info)

    def _on_error(self, exc: BaseException) -> None:
        # Cancelled or failed, the round left nothing in the project: its curve, left drawn, read as a round
        # that happened; the last finished round's comes back (dropped, the plot stayed empty beside its verdict).
        self.loss_plot.show_curve(self._curves.get(self._target.project.folder))
        self.show_failure(exc, self._target.project.current_round, subject=self._subject())

    def _on_finished(self) -> None:
        elsewhere = not self._shows_target()
        self.worker, self._target = None, None
        self._set_running(False)
        if elsewhere:
            self._show_curve()  # the picked image's, not the round's other image
        self.state.project_changed.emit()
