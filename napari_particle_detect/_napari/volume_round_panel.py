"""The volume dock's Fine-tune box: a 3D round on the accepted volumes and boxes in napari's worker
thread, its progress, Cancel (within one step) and the honest verdict (round_progress.verdict)."""

from __future__ import annotations

import threading
from dataclasses import replace

from napari.qt.threading import create_worker
from pathlib import Path

from qtpy.QtWidgets import QGridLayout, QGroupBox, QProgressBar, QPushButton, QSpinBox

from ..errors import ParticleDetectError
from ..projects.project import Project, RoundInfo
from ..projects.shipped_rounds import origin_label
from ..learning.volume_finetune import VOLUME_FINE_TUNE, VolumeRoundConfig
from ..learning.volume_rounds import train_volume_round
from .kind_rounds_panel import chosen_steps, show_steps
from .labels import WholeLabel
from .notify import reports_errors, show_warnings, telling
from .round_reports import CANCELLING, ProgressRelay, RoundReports, told_again
from .this_version_offer import ThisVersionOffer
from .warm_up import warm_up_training

TO_USE = "Detect again to use it."  # what a verdict of a round put in use adds
VOLUME = "volume"  # the volume rounds' steps among the kinds' (kind_rounds_panel.chosen_steps)


class VolumeRoundPanel(RoundReports, QGroupBox):
    def __init__(self, host) -> None:
        super().__init__("Fine-tune (3D)")
        self.host = host
        self.worker = None
        self._project, self._subject = None, ""  # the project a running round trains, and its image
        self._verdicts: dict[Path, str] = {}  # the last round's verdict per project, shown with its image
        self._status_for: Path | None = None  # the project whose image the status line speaks of
        self._running_line = ""  # what the running round last said, without its image's name
        self.phases: list[str] = []
        self._cancel, self._ended = threading.Event(), threading.Event()
        self._ended.set()
        self._relay = ProgressRelay()
        self._relay.event.connect(self._on_progress)
        warm_up_training()  # while the user reviews, so the first round starts as quickly as later ones
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(10, 5000)
        # As the user last set them in this window (the dock closed and opened again went back to the default).
        show_steps(self.steps_spin, chosen_steps(host.viewer).get(VOLUME, VOLUME_FINE_TUNE.steps))
        self.steps_spin.setSuffix(" steps")
        self.steps_spin.valueChanged.connect(lambda steps: chosen_steps(host.viewer).update({VOLUME: steps}))
        self.run_button = QPushButton("Fine-tune")
        self.run_button.setToolTip("Train the 3D model on the accepted volumes and boxes; part of them is held out "
                                   "to judge the new round, used only if it beats the current one there")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.status = WholeLabel("")
        self.rounds_label = WholeLabel("")
        # After an upgrade an older project's round 1 is the 3D model the older version shipped: said whatever
        # the status line says, with the way to this version's.
        self.this_version = ThisVersionOffer(self._shown_project, self.running, self._this_version_added)
        grid = QGridLayout(self)
        grid.addWidget(self.steps_spin, 0, 0)
        grid.addWidget(self.run_button, 0, 1)
        grid.addWidget(self.cancel_button, 0, 2)
        grid.addWidget(self.progress, 1, 0, 1, 3)
        grid.addWidget(self.status, 2, 0, 1, 3)
        grid.addWidget(self.this_version, 3, 0, 1, 3)
        grid.addWidget(self.rounds_label, 4, 0, 1, 3)
        self.run_button.clicked.connect(lambda *_: self.run())
        self.cancel_button.clicked.connect(lambda *_: self.cancel())
        self.refresh()

    def running(self) -> bool:
        return not self._ended.is_set()

    def refresh(self) -> None:
        review = self.host.review
        self.run_button.setEnabled(review is not None and not self.running())
        self.this_version.refresh()
        self._show_image_verdict()
        if review is None:
            self.rounds_label.setText("")
            return
        project = review.project
        current = project.current_round
        lines = []
        for info in project.rounds:
            score = f", held-out F1 {info.f1:.3f} vs {info.parent_f1:.3f}" if info.f1 is not None and info.parent_f1 is not None else ""
            lines.append(f"{'▶ ' if current and info.number == current.number else '   '}{info.name}: "
                         f"{origin_label(project, info)}{score}")
        self.rounds_label.setText("\n".join(lines))

    def _show_image_verdict(self) -> None:
        """Another image (or none) in the dock: the line says its last round's verdict, not the image left's
        (a running round keeps reporting: it is about its own image)."""
        review = self.host.review
        folder = self._shown_folder()
        if self.running():
            # Its last line, naming its image now that another is shown (or no more, shown again): under another
            # image, 'training: step 5 of 10' read as a round of that image, its Cancel as stopping one there.
            self._say_running(CANCELLING if self._cancel.is_set() else self._running_line)
            return
        if folder == self._status_for:
            return
        self._status_for = folder
        said = self._verdict_of(review.project) if review is not None else ""
        self.status.setText(said)
        self.progress.setRange(0, 1)
        if said:
            self.progress.setValue(1)
        else:
            self.progress.reset()  # no text: "0%" under an image never trained (or none) read as a round stuck

    def _verdict_of(self, project) -> str:
        """The last verdict said for ``project`` in this session; else (a dock opened again) its last round's,
        worded as the round's end said it, its time included: no rounds table here (table=False)."""
        if project.folder in self._verdicts:
            return self._verdicts[project.folder]
        last = project.rounds[-1] if project.rounds else None
        if last is None or last.origin != "fine-tuned":
            return ""
        current = project.current_round
        said = told_again(last, current, table=False)
        if last.improved is True and current is not None and current.number == last.number:
            said += ". " + TO_USE
        self._verdicts[project.folder] = said
        return said

    @reports_errors
    def run(self, config: VolumeRoundConfig | None = None) -> None:
        """Start a round in a worker; ``config`` overrides the panel's (tests use tiny ones)."""
        if self.running():
            return
        review = self.host.require_review()
        if not review.project.reviewed_areas():
            raise ParticleDetectError("accept at least one corrected volume or 3D box before fine-tuning")
        config = config or replace(VOLUME_FINE_TUNE, steps=self.steps_spin.value())
        self._cancel, self._ended = threading.Event(), threading.Event()
        self.phases = []
        self._status_for = review.project.folder
        self._project, self._subject = review.project, self.host.layer().name
        self._say_running(f"fine-tuning {review.project.current_round.name}…")
        # Its warnings (its volumes' dropped slices refilled, a hot line left out) are shown as a Detect's are.
        self.worker = create_worker(telling, train_volume_round, review.project, self.host.volumes(), config, "cpu",
                                    progress=self._relay.event.emit, cancel=self._cancel.is_set, ended=self._ended,
                                    _ignore_errors=True)
        self.worker.returned.connect(self._on_done)
        self.worker.errored.connect(self._on_error)
        self.worker.finished.connect(self._on_finished)
        self.worker.start()
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.this_version.refresh()

    def _on_progress(self, event: dict) -> None:
        shown = self.show_progress(event)
        if shown is not None:
            self._say_running(shown.text.replace("frames", "volumes"))

    def _say_running(self, text: str) -> None:
        """A running round's line, led by its image's name while the dock shows another image (as its verdict is)."""
        self._running_line = text
        subject = self._elsewhere()
        self.status.setText(f"{subject}: {text}" if subject else text)

    def _elsewhere(self) -> str:
        """The round's image, when the dock shows another one (or none) by the time it ends."""
        review = self.host.review
        return "" if review is not None and review.project.folder == self._project.folder else self._subject

    def _on_done(self, result: tuple[RoundInfo, list[str]]) -> None:
        info, said = result
        show_warnings(said, "fine-tune round")
        # No rounds table here to pick a round from: the verdict does not offer one (table=False).
        subject = self._elsewhere()
        message = self.show_verdict(info, self._project.current_round, to_use=TO_USE, table=False, subject=subject)
        self._verdicts[self._project.folder] = message.removeprefix(f"{subject}: ") if subject else message
        self._status_for = self._shown_folder()  # said on the image shown now, until another one is

    def _shown_folder(self) -> Path | None:
        project = self._shown_project()
        return project.folder if project is not None else None

    def _shown_project(self) -> Project | None:
        review = self.host.review
        return review.project if review is not None else None

    def _this_version_added(self, info: RoundInfo) -> None:
        folder = self._shown_folder()
        # Said of this project until its next round ends: back on its image, its older verdict is not true now.
        self._verdicts[folder] = self.show_round_chosen(info, "the model this version ships")
        self._status_for = folder
        self.refresh()

    def _on_error(self, exc: BaseException) -> None:
        self.show_failure(exc, self._project.current_round, subject=self._elsewhere())
        self._status_for = self._shown_folder()

    def _on_finished(self) -> None:
        self.worker = None
        self.cancel_button.setEnabled(False)
        self.refresh()
