"""Detect: run the network in a worker thread, frame by frame, into the centres layer."""

from __future__ import annotations

import math
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path

import numpy as np
from napari.qt.threading import create_worker
from .notify import show_info
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QApplication, QCheckBox, QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QProgressBar,
    QPushButton, QSlider, QWidget,
)
from superqt.utils import ensure_main_thread

from ..detection.devices import DEVICE_CHOICES
from ..errors import ParticleDetectError
from ..files.calibration import SQUARE_TOLERANCE, file_calibration, not_square
from ..frame_runs import runs_text
from ..learning.eta import Eta
from ..models import load_model
from ..projects.project import RoundInfo
from ..projects.shipped_rounds import (
    THIS_VERSION, add_this_versions_model, origin_label, other_version_note, this_versions_model_added,
)
from ..projects.size_estimate import RememberedEstimate, remember_estimate, remembered_estimate
from ..detection.prediction import iter_detect
from ..detection.unreadable import check_any_read, said_once
from ..detection.sizing import SAME_DETECTION, SQUARE_PIXELS_ADVICE, with_advice
from .exact_spin_box import ExactSpinBox
from .image_views import VIEW_KEY, file_read_from, layer_pixels
from .labels import ElidedComboBox, WholeLabel, plain_tip
from .notify import report, reports_errors, show_warnings, warn_once, warnings_logged
from .state import CHOSEN_ELSEWHERE, DockState

# Peaks are decoded down to this score, so the threshold slider can show or hide them without re-running
# the network (decoding at a lower threshold and filtering gives exactly the peaks of the higher one).
SCORE_FLOOR = 0.1
SLIDER_STEPS = 100
APPLY_INTERVAL_S = 0.5
MODEL_LIST_CHARACTERS = 20  # the Model list's least width, in characters: a round's name and the start of its note


def detect_frames(image, model_path, device: str, diameter: float | None, polarity: str, frames: list[int], name: str,
                  stop: threading.Event, ended: threading.Event, said: list[str] | None = None,
                  stage: Callable[[str], None] = lambda text: None):
    """Worker body: yields (frame, FrameResult, Sizing used) as each frame finishes, until ``stop`` is set;
    sets ``ended`` when it is done (the generator is always run to its end, never dropped half-way). The
    warnings detection logs go into ``said``. A frame of several that cannot be read from its file is yielded
    too (``FrameResult.unreadable``: counted, not saved as a frame found empty) and all such frames are named in
    one line of ``said``; where none of the frames can be read, a ParticleDetectError says so. ``stage`` is told
    what it does before its first frame."""
    said = said if said is not None else []
    unreadable = []
    try:
        with warnings_logged(said):
            # Said as it happens: before the first frame the bar only spun, without a word, for 3-6 s.
            stage(LOADING)
            model = load_model(model_path, "cpu")
            stage(preparing_words(diameter))
            # One run over every frame, skipping the damaged ones: restarting after each re-prepared the network
            # and sized the frames after it as given a diameter rather than as estimated.
            for item in iter_detect(image, model, device, SCORE_FLOOR, diameter, polarity, frames=frames, name=name,
                                    skip_unreadable=len(frames) > 1):
                if stop.is_set():
                    break
                unreadable += [item[0]] if item[1].unreadable else []
                yield item
        check_any_read(unreadable, len(frames), name)
    finally:  # the skipped frames said in one line however the run ends (stopped, failed or done)
        said[:] = said_once(said, unreadable, len(frames), whole=not stop.is_set())
        ended.set()


LOADING = "loading the model…"


def preparing_words(diameter: float | None) -> str:
    """What a detection does between loading its model and its first frame's centres."""
    sizing = "" if diameter is not None else ", estimating the particles' size"
    return f"preparing the network{sizing} and detecting (the first run takes a few seconds longer)…"


class DetectPanel(QGroupBox):
    def __init__(self, state: DockState) -> None:
        super().__init__("Detect")
        self.state = state
        self.worker = None
        self._stop = threading.Event()
        self._ended = threading.Event()
        self._ended.set()
        self._target = None  # the annotation a running detection writes into
        self._said: list[str] = []  # the warnings its detection logged
        self._pending: dict[int, tuple] = {}  # finished frames not yet on screen
        self._replaced_edits: list[int] = []  # frames whose edits this run replaced (said once, at its end)
        self._last_applied = 0.0
        self._polarity_used = "auto"
        self._round_used: int | None = None  # the round a running detection detects with
        self._progress_text = ""  # the bar's format, before the image it is about is named
        self._other_version_said: set[Path] = set()  # projects told this session that they hold an older model
        # Each image's words on its pixels not being square, as last said: said again only where they change.
        self._not_square_said: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

        # A round's entry names the file it came from: sized to its whole text, a deep folder's path widened the
        # dock past the window.
        self.model_combo = ElidedComboBox(MODEL_LIST_CHARACTERS)
        self.model_combo.setToolTip("Model round to detect with: round-001 is the model the project started "
                                    "from, the shipped one of the version that made it")
        self.load_button = QPushButton("Add…")
        self.load_button.setToolTip("Add a saved model (.pt with its .json card) to this project as a new round")
        # Which round another window put in use: the list and the slider change under the user's eyes.
        self.elsewhere_note = WholeLabel("")
        self.elsewhere_note.setVisible(False)
        self.device_combo = QComboBox()
        self.device_combo.addItems(list(DEVICE_CHOICES))
        self.polarity_combo = QComboBox()
        self.polarity_combo.addItems(["auto", "bright", "dark"])
        self.polarity_combo.setToolTip("auto lets the model handle bright and dark particles; 'dark' inverts first")
        self.diameter_spin = ExactSpinBox()  # the project's estimate has more decimals than it shows
        self.diameter_spin.setRange(0.0, 500.0)
        self.diameter_spin.setDecimals(1)
        self.diameter_spin.setSuffix(" px")
        self.diameter_spin.setSpecialValueText("auto")
        self.diameter_spin.setToolTip(
            "Typical particle diameter as it appears in the image (for particles near the optics' resolution, "
            "the blob's size, not the physical size). For ringed particles (bright-field: a bright core inside "
            "a dark ring) give the ring's outer diameter, not the core's: the core alone finds several centres "
            "around each ring. 0 ('auto') estimates it from the image."
        )
        self.diameter_spin.setMinimumWidth(120)
        # Wraps beside the box: one line, "estimated: 2.3 px, low confidence" (as it read then) widened the dock past its
        # column after Detect, a sideways scrollbar hiding "Add…", "Next ▶" and "Folder…" at its right edge.
        self.estimate_label = WholeLabel("")
        # A diameter guessed from too few particle-like blobs (flat noise, an empty field) must not
        # look like a confident result: its reason, in warning colours, under the field.
        self.estimate_warning = WholeLabel("")
        self.estimate_warning.setStyleSheet("color: #ffb74d")
        self.estimate_warning.setVisible(False)
        self.threshold_slider = QSlider(Qt.Orientation.Horizontal)
        self.threshold_slider.setRange(int(SCORE_FLOOR * SLIDER_STEPS), SLIDER_STEPS - 1)
        self.threshold_slider.setValue(int(round(state.threshold * SLIDER_STEPS)))
        self.threshold_slider.setToolTip("Hide network centres scoring below this; live, no re-run needed")
        self.threshold_label = QLabel(f"{state.threshold:.2f}")
        # Frames still showing an earlier round's detections, each at that round's threshold: which, and why
        # the slider (the round in use's) does not move them.
        self.rounds_note = WholeLabel("")
        self.rounds_note.setVisible(False)
        self.scope_combo = QComboBox()
        self.scope_combo.addItems(["current frame", "all unreviewed frames"])
        self.heatmap_check = QCheckBox("show heatmap (H)")
        self.heatmap_check.setToolTip("Detect shows the network's heatmap of each frame as a layer; "
                                      "H shows or hides it")
        self.run_button = QPushButton("Detect")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")  # until the first run
        # A busy bar shows no text: what a run does before its first frame is said under it.
        self.stage_label = WholeLabel("")
        self.stage_label.setStyleSheet("color: gray")
        self.stage_label.setVisible(False)

        model_row = QHBoxLayout()
        model_row.addWidget(self.model_combo, 1)
        model_row.addWidget(self.load_button)
        diameter_row = QHBoxLayout()
        diameter_row.addWidget(self.diameter_spin)
        diameter_row.addWidget(self.estimate_label, 1)
        threshold_row = QHBoxLayout()
        threshold_row.addWidget(self.threshold_slider, 1)
        threshold_row.addWidget(self.threshold_label)
        # The heatmap is made while detecting: its box goes with the buttons, which leaves the frames row
        # narrow enough for a dock of about 400 px (a wider one took a laptop's canvas).
        buttons = QHBoxLayout()
        buttons.addWidget(self.heatmap_check)
        buttons.addWidget(self.run_button, 1)
        buttons.addWidget(self.stop_button)
        # Two settings to a row: the whole dock, rounds table included, fits a 1000 px high window.
        device_row = QHBoxLayout()
        device_row.addWidget(self.device_combo, 1)
        device_row.addWidget(QLabel("Polarity"))
        device_row.addWidget(self.polarity_combo, 1)
        frames_row = QHBoxLayout()
        frames_row.addWidget(self.scope_combo, 1)
        form = QFormLayout(self)
        form.addRow("Model", model_row)
        form.addRow(self.elsewhere_note)
        form.addRow("Device", device_row)
        form.addRow("Diameter", diameter_row)
        form.addRow(self.estimate_warning)
        form.addRow("Threshold", threshold_row)
        form.addRow(self.rounds_note)
        form.addRow("Frames", frames_row)
        form.addRow(buttons)
        form.addRow(self.progress)
        form.addRow(self.stage_label)

        self.model_combo.activated.connect(lambda index: self._on_model_chosen(index))
        self.load_button.clicked.connect(lambda *_: self.add_model_file())
        self._show_choices()
        self.device_combo.currentTextChanged.connect(self._on_device)
        self.scope_combo.currentIndexChanged.connect(self._on_scope)
        self.heatmap_check.toggled.connect(self._on_heatmap)
        self.threshold_slider.valueChanged.connect(lambda *_: self._on_threshold())
        self.threshold_slider.sliderReleased.connect(lambda *_: self._remember_threshold())
        self.run_button.clicked.connect(lambda *_: self.run())
        self.stop_button.clicked.connect(lambda *_: self.stop())
        state.threshold_changed.connect(self._show_threshold)
        state.threshold_changed.connect(lambda *_: self._show_rounds_note())
        state.project_changed.connect(self.refresh)
        state.annotation_changed.connect(lambda *_: self._show_image_settings())
        state.busy_changed.connect(self.refresh)
        state.round_chosen.connect(self._on_round_chosen)
        state.annotation_changed.connect(lambda *_: self._say_elsewhere(""))
        state.annotation_changed.connect(lambda *_: self._say_other_version())
        QApplication.instance().focusChanged.connect(self._on_focus_changed)
        self.refresh()  # a dock opened with no image: Detect and Add… wait for one (clicked, they said "open an image")

    # ---- values ------------------------------------------------------------------------------------
    def threshold(self) -> float:
        return self.threshold_slider.value() / SLIDER_STEPS

    def set_threshold(self, value: float) -> None:
        self.threshold_slider.setValue(int(round(np.clip(value, SCORE_FLOOR, 0.99) * SLIDER_STEPS)))

    def diameter(self) -> float | None:
        """The diameter Detect uses: the exact one the box was filled with (the box rounds it) until the
        user changes the box; None for 'auto'."""
        value = self.diameter_spin.exact_value()
        return value if value > 0 else None

    def running(self) -> bool:
        return self.worker is not None

    def _show_choices(self) -> None:
        """The device, frames and heatmap the user last chose in this window's dock (a dock opened again)."""
        choices = self.state.choices
        if self.device_combo.findText(choices.device) >= 0:
            self.device_combo.setCurrentText(choices.device)
        self.scope_combo.setCurrentIndex(1 if choices.every_frame else 0)
        self.heatmap_check.setChecked(choices.heatmap)

    def _on_device(self, device: str) -> None:
        self.state.device = device

    def _on_scope(self, index: int) -> None:
        self.state.choices.every_frame = index == 1

    def _on_heatmap(self, shown: bool) -> None:
        self.state.choices.heatmap = shown

    @reports_errors
    def _on_threshold(self) -> None:
        self.threshold_label.setText(f"{self.threshold():.2f}")
        # A drag is remembered once, when released.
        self.state.set_threshold(self.threshold(), remember=not self.threshold_slider.isSliderDown())

    def _show_threshold(self, value: float) -> None:
        if abs(value - self.threshold()) > 1e-9:
            self.threshold_slider.blockSignals(True)
            self.set_threshold(value)
            self.threshold_slider.blockSignals(False)
        self.threshold_label.setText(f"{value:.2f}")

    @reports_errors
    def _remember_threshold(self) -> None:
        self.state.remember_threshold()

    def _show_image_settings(self) -> None:
        """The diameter and polarity this image's project last detected with: its rounds were trained at
        that scale, so a reopened project must not detect at a fresh (different) estimate."""
        annotation = self.state.annotation
        if annotation is not None:
            self.diameter_spin.show_exact(annotation.project.diameter or 0.0)
            if self.polarity_combo.findText(annotation.project.polarity) >= 0:
                self.polarity_combo.setCurrentText(annotation.project.polarity)
        self._show_estimate()

    def _show_estimate(self) -> None:
        annotation = self.state.annotation
        text = warning = ""
        if annotation is not None:
            text, warning = annotation.estimate, annotation.estimate_warning
            if not text and annotation.project.diameter:  # a reopened project: what its diameter came from
                estimate = remembered_estimate(annotation.project, annotation.project.diameter)
                text, warning = (estimate_texts(estimate) if estimate is not None
                                 else (f"last used: {annotation.project.diameter:.1f} px", ""))
        self.estimate_label.setText(text)
        self.estimate_warning.setText(shown_warning(warning))
        self.estimate_warning.setToolTip(plain_tip(warning))
        self.estimate_warning.setVisible(bool(warning))
        if annotation is None or not self.running() or self._target is None:  # None: its image was closed
            self._reset_progress()
        else:
            self._show_progress(self._progress_text)  # the run goes on for its own image, named when not shown

    def _show_progress(self, text: str) -> None:
        """The bar says ``text`` (a QProgressBar format), after the detected image's name when the dock shows
        another: its 40 / 40 frames are not the image shown."""
        self._progress_text = text
        target = self._target
        shown_elsewhere = target is not None and target is not self.state.annotation
        self.progress.setFormat(f"'{target.image.name}': {text}" if shown_elsewhere else text)

    def _reset_progress(self) -> None:
        """An empty bar: what it said was about another image."""
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self._say_stage("")

    def _stage_teller(self, run: threading.Event) -> Callable[[str], None]:
        """How the worker of the run whose stop event is ``run`` says what it does, from its thread: said until the
        run's first frame is done, never once it has ended."""

        @ensure_main_thread
        def tell(text: str) -> None:
            if self._stop is run and self.running() and self._target is not None and self.progress.value() == 0:
                self._say_stage(text)

        return tell

    def _say_stage(self, text: str) -> None:
        """What the run does before its first frame; '' hides the line."""
        self.stage_label.setText(text[:1].upper() + text[1:])
        self.stage_label.setVisible(bool(text))

    # ---- models ------------------------------------------------------------------------------------
    def refresh(self) -> None:
        annotation = self.state.annotation
        self.model_combo.clear()
        rounds = annotation.project.rounds if annotation is not None else []
        if not rounds:
            default = self.state.default_model
            self.model_combo.addItem("shipped model" if default is None else default.name, None)
        current = annotation.project.current_round if annotation is not None else None
        for info in rounds:
            if info.f1 is None:
                label = f"{info.name} ({origin_label(annotation.project, info)})"
            else:
                label = f"{info.name} (held-out F1 {info.f1:.3f}{'' if info.improved is not False else ', not better'})"
            self.model_combo.addItem(label, info.number)
            # An added model file's name in the label is shown as it is, not read as markup.
            self.model_combo.setItemData(self.model_combo.count() - 1, plain_tip(label), Qt.ItemDataRole.ToolTipRole)
        if rounds and other_version_note(annotation.project):
            # After an upgrade the project's rounds all descend from the model the older version shipped.
            self.model_combo.addItem(THIS_VERSION, THIS_VERSION)
            self.model_combo.setItemData(self.model_combo.count() - 1, "The model this version ships: chosen, it "
                                         "is copied into the project as its next round, to detect and fine-tune "
                                         "with", Qt.ItemDataRole.ToolTipRole)
        if current is not None:
            self.model_combo.setCurrentIndex(self.model_combo.findData(current.number))
        self.run_button.setEnabled(annotation is not None and not self.running())
        self.load_button.setEnabled(annotation is not None)
        self.model_combo.setEnabled(not self.running())
        self._show_rounds_note()

    def _show_rounds_note(self) -> None:
        """Which frames show an earlier round's detections, at that round's threshold (hidden when none do)."""
        annotation = self.state.annotation
        text = ""
        if annotation is not None and annotation.points is not None and annotation.project.current_round is not None:
            text = rounds_note(annotation.rounds_shown(), annotation.held, annotation.project.current_round.name)
        self.rounds_note.setText(text)
        self.rounds_note.setVisible(bool(text))

    def _on_round_chosen(self, info: RoundInfo, how: str) -> None:
        """Says which round another window put in use (the list and the slider now show it); a round chosen
        here replaces the line."""
        self._say_elsewhere(f"{info.name} was {how}: Detect uses it from now on, at threshold "
                            f"{self.state.threshold:.2f}" if how == CHOSEN_ELSEWHERE else "")

    def _say_elsewhere(self, text: str) -> None:
        self.elsewhere_note.setText(text)
        self.elsewhere_note.setVisible(bool(text))

    @reports_errors
    def _on_focus_changed(self, old: QWidget | None, now: QWidget | None) -> None:
        """The user comes back from another window (or program): what another window changed of the
        project's rounds is shown before they act here. Focus moving within a window costs nothing."""
        if now is not None and (old is None or old.window() is not now.window()):
            self.state.notice_rounds_elsewhere()

    def _say_other_version(self) -> None:
        """Once a session per project: its rounds start from the model an earlier version shipped, and how
        to use the one this version ships."""
        annotation = self.state.annotation
        if annotation is None or annotation.project.folder in self._other_version_said:
            return
        try:
            note = other_version_note(annotation.project)
        except ParticleDetectError:
            return  # a project that cannot be read says so where it is used
        if note:
            self._other_version_said.add(annotation.project.folder)
            show_info(f"{note}; choose '{THIS_VERSION}' in the Model list to detect and fine-tune with it")

    @reports_errors
    def _on_model_chosen(self, index: int) -> None:
        number = self.model_combo.itemData(index)
        if number == THIS_VERSION:
            if self.state.is_busy("fine-tuning"):  # a round added now is not the one it started from
                self.refresh()
                raise ParticleDetectError(f"a fine-tuning round is running: choose '{THIS_VERSION}' once it ends")
            project = self.state.require_annotation().project
            try:
                info = add_this_versions_model(project)
            finally:
                self.refresh()  # the list shows the round in use, not the entry chosen, even if adding failed
            self.state.use_round(info.number, how="chosen in the Detect panel")
            self.state.adopt_round_threshold(info.number)  # the older model's threshold was tuned for that model
            show_info(this_versions_model_added(project, info))
        elif number is not None:
            self.state.use_round(number, how="chosen in the Detect panel")

    @reports_errors
    def add_model_file(self, path: str | None = None) -> None:
        project = self.state.require_annotation().project
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Add a saved model", "", "Model weights (*.pt)")
            if not path:
                return
        self.state.ensure_round()
        info = project.import_model(path)
        self.state.use_round(info.number, how=f"added from {Path(path).name}")
        show_info(f"added {path} as {info.name}")

    # ---- running -----------------------------------------------------------------------------------
    @reports_errors
    def run(self) -> None:
        if self.running():
            return
        annotation = self.state.require_annotation()
        replaced = annotation.pixels_replaced()
        if replaced is not None:  # its frames would be written past the project's, a traceback each
            raise ParticleDetectError(replaced)
        project = annotation.project
        self.state.notice_rounds_elsewhere()  # the round another window put in use, at its threshold
        info = self.state.ensure_round()
        self._round_used = info.number
        if self.scope_combo.currentIndex() == 0:
            unseen = annotation.frame_off_screen()  # never detect a frame the canvas does not draw
            if unseen is not None:
                raise ParticleDetectError(unseen)
            frames = [annotation.current_frame()]
            if project.is_reviewed(frames[0]):
                raise ParticleDetectError(f"frame {frames[0]} is reviewed; un-accept it to detect it again")
        else:
            frames = [f for f in range(annotation.n_frames) if not project.is_reviewed(f)]
            if not frames:
                show_info("every frame is reviewed; nothing to detect")
                return
        self._target = annotation  # its centres layer comes with the first frame's centres, not before a failure
        self._pending, self._last_applied, self._replaced_edits = {}, 0.0, []
        self._polarity_used = self.polarity_combo.currentText()
        if len(frames) == 1:  # no count to show until the frame is done: a busy bar, not a stuck one
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, len(frames))
        self.progress.setValue(0)
        self._show_progress("%v / %m frames")
        self._say_stage(LOADING)  # at once: the worker's first word comes once its thread is scheduled
        # Once per image: the dock detects the layer's pixels, never reading its file as detect does, and so said
        # nothing while the particles it read were stretched.
        warn_once(self._not_square_said, annotation.image, pixels_not_square(annotation.image))
        self._eta = Eta()
        self._stop, self._ended, self._said = threading.Event(), threading.Event(), []
        self.worker = create_worker(
            detect_frames, layer_pixels(annotation.image), project.round_path(info.number),
            self.device_combo.currentText(), self.diameter(), self._polarity_used, frames, annotation.image.name,
            self._stop, self._ended, self._said, self._stage_teller(self._stop), _ignore_errors=True,
        )
        self.worker.yielded.connect(self._on_frame_done)
        self.worker.errored.connect(report)
        self.worker.finished.connect(self._on_finished)
        self.worker.start()
        self._set_running(True)

    def stop(self, wait_s: float = 0.0) -> bool:
        """Ask a running detection to stop after its current frame; ``wait_s``: wait that long for it.
        Returns whether nothing runs any more."""
        if self.worker is not None:
            self._stop.set()
        return self._ended.wait(wait_s) if wait_s else self._ended.is_set()

    def abandon(self, annotation) -> bool:
        """Stop a detection writing into ``annotation`` (its image was closed) and drop what it has not
        shown yet; returns whether one was running."""
        if self.worker is None or self._target is not annotation:
            return False
        self._target, self._pending = None, {}
        self.stop()
        self._reset_progress()  # the bar was about the closed image; its last frames are not counted
        return True

    def _set_running(self, running: bool) -> None:
        self.stop_button.setEnabled(running)
        self.state.set_busy("detecting", running)
        self.refresh()

    def _on_frame_done(self, item) -> None:
        frame, result, sizing = item
        annotation = self._target
        if annotation is None:
            return  # its image was closed
        self._say_stage("")
        if not result.unreadable:  # no pixels read: saved as detected, it would pass for a frame found empty
            self._pending[frame] = (result.centres, result.scores)
        if self.progress.value() == 0:
            project = annotation.project
            project.remember_detection(sizing.diameter, self._polarity_used)
            annotation.set_diameter(sizing.diameter)
            if sizing.source == "estimated":
                estimate = RememberedEstimate(float(sizing.diameter), bool(sizing.ringed),
                                              getattr(sizing, "confidence", "high") != "low", sizing.reason or "")
                remember_estimate(project, estimate)
                annotation.estimate, annotation.estimate_warning = estimate_texts(estimate)
            else:  # the box holds an earlier estimate (it is reused so every frame is detected alike) or the user's
                estimate = remembered_estimate(project, sizing.diameter)
                annotation.estimate, annotation.estimate_warning = (
                    estimate_texts(estimate) if estimate is not None
                    else (f"given: {sizing.diameter:.1f} px{', ringed' if sizing.ringed else ''}", ""))
            if annotation is self.state.annotation:
                self._show_estimate()
        if self.heatmap_check.isChecked() and not result.unreadable:
            annotation.show_heatmap(frame, result.heatmap)
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)
        self.progress.setValue(self.progress.value() + 1)
        left = self._eta.text(self.progress.value(), self.progress.maximum())
        self._show_progress(f"%v / %m frames, {left}" if left else "%v / %m frames")
        if time.monotonic() - self._last_applied > APPLY_INTERVAL_S:
            self._apply_pending()

    def _apply_pending(self) -> None:
        # Frames are put on screen in batches: updating a big layer once per frame would be quadratic.
        if self._pending and self._target is not None:
            self._target.set_detections(self._pending, detected_by=self._round_used)
            self._replaced_edits += self._target.replaced_edits
        self._pending = {}
        self._last_applied = time.monotonic()

    def _on_finished(self) -> None:
        self._apply_pending()
        if self._target is not None:  # an image closed meanwhile: its detection's warnings are no news
            show_warnings(self._said)
        edited, self._replaced_edits = sorted(self._replaced_edits), []
        if edited and self._target is not None:  # one notice for the run, not one per batch of frames
            frames = ", ".join(str(f) for f in edited[:5]) + (" …" if len(edited) > 5 else "")
            show_info(f"detected again over your edits on frame{'s' if len(edited) != 1 else ''} {frames}: Ctrl+Z on a "
                      "frame brings its edits back")
        if self._target is not None:  # the time left is about frames no longer coming
            done, total = self.progress.value(), self.progress.maximum()
            self._show_progress("%v / %m frames" + (", stopped" if self._stop.is_set() and done < total else ""))
        self.worker, self._target = None, None
        self._say_stage("")  # a run that failed or was stopped before its first frame
        self._set_running(False)


def pixels_not_square(image) -> str | None:
    """Why the pixels of the image layer ``image`` are not square, as detect says it of a file
    (calibration.not_square, after the file's name), else of the layer's own y and x scale (set by a reader that
    reads the pixel size, or by hand); None where both are square or unknown. napari's own reader opens a file at
    scale 1 whatever its metadata says, so the file is asked first."""
    path = _file_of(image)
    words = not_square(file_calibration(path)) if path is not None else None
    if words is not None:
        return f"{path.name}: {words}"
    y, x = (float(v) for v in image.scale[-2:])
    if math.isclose(y, x, rel_tol=SQUARE_TOLERANCE):
        return None
    units = tuple(getattr(image, "units", ()) or ())[-2:]
    unit = f" {units[-1]}" if len(units) == 2 and units[0] == units[1] and str(units[-1]) != "pixel" else ""
    return (f"'{image.name}': the layer's scale gives pixels of {y:.4g}{unit} in y and {x:.4g}{unit} in x, not "
            f"square, and detection reads them as square: particles look stretched {max(y, x) / min(y, x):.2g} "
            f"times along {'x' if y > x else 'y'}; {SQUARE_PIXELS_ADVICE}, or the sizes and positions found may be off")


def _file_of(image) -> Path | None:
    """The file whose metadata gives ``image``'s pixel size: the one read, or the one a dock's view shows."""
    view = image.metadata.get(VIEW_KEY) if isinstance(image.metadata, dict) else None
    if isinstance(view, dict) and view.get("path"):
        return Path(view["path"])
    return file_read_from(image)


def rounds_note(rounds: dict[int, list[int]], held: dict[int, float], in_use: str) -> str:
    """The Detect panel's line on frames detected by other rounds than ``in_use`` (``rounds``: round ->
    its frames, ``held``: frame -> threshold shown at); empty when there are none."""
    parts = []
    for number, frames in sorted(rounds.items()):
        word = "frame" if len(frames) == 1 else "frames"
        parts.append(f"{word} {runs_text(frames, '–')}: round-{number:03d}'s, at {held[frames[0]]:.2f}")
    if not parts:
        return ""
    return ("Detections of other rounds keep their own threshold until detected again (" + "; ".join(parts)
            + f"). The slider is {in_use}'s.")


# A doubt that changes no centre (sizing.SAME_DETECTION) asks nothing of the user: said in a line, its why on hover,
# so the four lines of its reasons do not push the dock's rounds table out of a 1000 px window.
SAME_CENTRES_WARNING = "⚠ Low confidence in the estimated diameter, but either size gives the same centres (hover: why)"


def shown_warning(warning: str) -> str:
    """The estimate's ``warning`` as the dock shows it: in one line where the doubt changes no centre."""
    return SAME_CENTRES_WARNING if SAME_DETECTION in warning else warning


def estimate_texts(estimate: RememberedEstimate) -> tuple[str, str]:
    """The diameter box's label for an estimated diameter, and the warning when the estimate is a guess."""
    look = ", ringed" if estimate.ringed else ""
    low = not estimate.confident
    # A guess is marked, not said again: the warning under the box says it ("⚠ Low confidence ..."), and said here
    # too the line wrapped beside the box, pushing the rounds table out of a 1000 px window.
    text = f"estimated: {estimate.diameter:.1f} px{look}{' ⚠' if low else ''}"
    if not low:
        return text, ""
    reason = estimate.reason or "few particle-like blobs"
    # Crowded particles that are surely there already get their advice in the reason; few blobs
    # over noise may mean there is nothing to find.
    advice = "" if with_advice(reason, "") == reason else \
        " The centres may be noise: give the particles' diameter and Detect again."
    return text, f"⚠ Low confidence in the estimated diameter: {reason}.{advice}"
