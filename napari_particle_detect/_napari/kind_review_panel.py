"""The Rods and chains dock's Review box: accept a frame or a drawn box, undo, review next, export.
A thin skin over kind_review.KindSession."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from pathlib import Path

import numpy as np
from qtpy.QtWidgets import QComboBox, QDoubleSpinBox, QFileDialog, QGridLayout, QGroupBox, QLabel, QPushButton

from ..errors import ParticleDetectError
from ..kinds.registry import write_kind_table
from .annotation import image_path
from .export_panel import safe_stem
from .kind_review import KindSession
from .labels import PathLabel, WholeLabel
from .notify import reports_errors, show_info
from .proposals import MODES
from .regions import box_text

HINT = {
    "rods": "Edit the rods layer: select a line and drag a tip to fix its length and angle, set the selected "
            "rods' width above (each line is drawn as wide as its rod), draw a line (L) to add a rod, select and "
            "Delete to remove one. Every edit is saved at once.",
    "chains": "Edit the beads layer: drag a bead, add one (P; it starts a chain of its own), select and Delete; "
              "select two beads to link two chain ends or cut the bond between neighbours. Paths follow the "
              "beads. Every edit is saved at once.",
}


class KindReviewPanel(QGroupBox):
    def __init__(self, session: Callable[[], KindSession | None], threshold: Callable[[], float]) -> None:
        super().__init__("Review")
        self._session, self._threshold = session, threshold
        self.status = PathLabel()  # it names the project folder, after the image (a long name breaks there)
        # Review next's proposal, on a line of its own as the spheres dock's: said in the status line, it was gone
        # at the next edit's refresh, before the user had read where to look.
        self.suggestion = WholeLabel(hidden_when_empty=True)
        self._proposed: tuple[weakref.ref, int] | None = None  # (the session, the frame) Review next proposed
        self.hint = WholeLabel()
        self.hint.setStyleSheet("color: gray; font-size: 10px")
        # (label, action, tooltip, row, column, columns spanned): the buttons in their grid.
        buttons = [
            ("Accept frame", self.accept_frame, "This frame's objects are right: keep them as training data", 1, 0, 1),
            ("Un-accept", self.unaccept, "This frame back to unreviewed, its objects as they are now; on a frame not "
             "accepted whole, its regions selected in the reviewed regions layer, else the last one accepted there "
             "(also what was accepted before the dock was last opened)", 1, 1, 1),
            ("Undo", self.undo, "Take back the last acceptance (un-accept) or edit of this image and kind since the "
             "dock was opened", 1, 2, 1),
            ("Draw box", self.draw_box, "Drag a rectangle around the part of the frame you have checked", 2, 0, 1),
            ("Accept box", self.accept_region, "The objects centred inside the box are right: keep that region as "
             "training data (the rest of the frame is not learned from)", 2, 1, 1),
            ("Review next", self.review_next, "Go to where the model hesitates most: objects scored near the "
             "threshold", 2, 2, 1),
            ("Link 2 ends", self.link, "Bond the two selected beads, each an end of its chain or a free bead: "
             "two chains become one (the two ends of one chain close a ring)", 3, 0, 1),
            ("Cut between 2", self.cut, "Remove the bond between the two selected neighbouring beads: the chain "
             "becomes two (a ring opens)", 3, 1, 1),
            ("Set width", self.set_width, "Give the rods selected in the rods layer this width (what fine-tuning "
             "learns as their width); their lines are drawn that wide", 5, 2, 1),
            ("Export CSV…", self.export, "Every frame's objects as the kind's CSV (chains: with the per-chain table "
             "beside it, NAME.chains.csv)", 6, 0, 3),
        ]
        grid = QGridLayout(self)
        grid.addWidget(self.status, 0, 0, 1, 3)
        self.buttons: dict[str, QPushButton] = {}
        for label, action, tip, row, column, span in buttons:
            button = self.buttons[label] = QPushButton(label)
            button.setToolTip(tip)
            button.clicked.connect(lambda *_, action=action: action())
            grid.addWidget(button, row, column, 1, span)
        self.mode_combo = QComboBox()
        self.mode_combo.addItems([f"by {mode}" for mode in MODES])
        grid.addWidget(self.mode_combo, 3, 2)  # under Review next
        self.width_label = QLabel("")
        self.width_spin = QDoubleSpinBox()
        # At 0 the box shows no number: with no rod selected, or none of their widths known, its least width
        # (0.5 px) read as a width measured. Set width refuses it.
        self.width_spin.setRange(0.0, 200.0)
        self.width_spin.setSpecialValueText("–")
        self.width_spin.setDecimals(1)
        self.width_spin.setSingleStep(0.5)
        self.width_spin.setSuffix(" px")
        self.width_spin.setToolTip("The selected rods' width, as saved; change it and press Set width")
        grid.addWidget(self.suggestion, 4, 0, 1, 3)
        grid.addWidget(self.width_label, 5, 0)
        grid.addWidget(self.width_spin, 5, 1)
        grid.addWidget(self.hint, 7, 0, 1, 3)
        self.undo_button, self.unaccept_button = self.buttons["Undo"], self.buttons["Un-accept"]
        self.refresh()

    def session(self) -> KindSession:
        session = self._session()
        if session is None:
            raise ParticleDetectError("choose an image and run Detect first")
        return session

    def refresh(self) -> None:
        session = self._session()
        self._forget_passed_proposal(session)
        for button in self.buttons.values():
            button.setEnabled(session is not None)
        for label in ("Link 2 ends", "Cut between 2"):
            self.buttons[label].setVisible(session is not None and session.kind == "chains")
        for widget in (self.width_label, self.width_spin, self.buttons["Set width"]):
            widget.setVisible(session is not None and session.kind == "rods")
        self.show_selected_width()
        if session is None:
            self.status.setText("")
            self.hint.setText("")
            return
        project = session.project
        frames, regions = len(project.reviewed_frames), len(project.regions())
        here = session.current_frame()
        unseen = session.frame_off_screen() is not None
        state = ("past the stack's last frame" if unseen
                 else "reviewed" if project.is_reviewed(here) else "not reviewed")
        self.status.setText(f"frame {here}: {state} · reviewed so far: {frames} frame{'s' * (frames != 1)}, "
                            f"{regions} region{'s' * (regions != 1)} · project {project.folder.name}")
        self.hint.setText(HINT[session.kind])
        self.undo_button.setEnabled(bool(session.actions))
        # Past the stack's last frame nothing is accepted or un-accepted unseen: the session refuses it.
        self.unaccept_button.setEnabled((project.is_reviewed(here) or bool(project.regions(here))) and not unseen)
        for label in ("Accept frame", "Accept box"):
            self.buttons[label].setEnabled(not unseen)

    @reports_errors
    def accept_frame(self) -> None:
        session = self.session()
        frame = session.current_frame()
        table = session.accept_frame(frame)
        self._proposal_done()
        self.refresh()
        # Not in the status line: the next edit's refresh wrote over it before it was read (as the spheres dock says).
        show_info(f"frame {frame} accepted with {len(table)} {_objects(session.kind)}")

    @reports_errors
    def unaccept(self) -> None:
        session = self.session()
        frame = session.current_frame()
        if session.project.is_reviewed(frame):
            session.unaccept_frame(frame)
            said = f"frame {frame} un-accepted"
        else:  # a region accepted before the dock was reopened was reached by no button (Undo stops at the session)
            regions = session.unaccept_regions(frame)
            said = ", ".join(f"region {box_text(r.box)} of frame {r.frame}" for r in regions) + " un-accepted"
        self.refresh()
        show_info(f"{said}, its {_objects(session.kind)} kept as they are (Undo accepts it again)")

    def show_selected_width(self) -> None:
        """The width box shows the selected rods' width (their median, where they differ)."""
        session = self._session()
        widths = session.selected_widths() if session is not None else np.zeros(0)
        known = widths[np.isfinite(widths)]
        self.width_spin.setValue(float(np.median(known)) if len(known) else 0.0)
        self.width_spin.setEnabled(len(widths) > 0)
        self.buttons["Set width"].setEnabled(len(widths) > 0)
        rods = f"{len(widths)} rods" if len(widths) > 1 else "the rod"
        if not len(widths):
            self.width_label.setText("Width: select rods")
        elif len(known) < len(widths):
            self.width_label.setText(f"Width of {rods}: {len(widths) - len(known)} not known")
        elif np.ptp(known) > 0.05:
            self.width_label.setText(f"{rods}: {known.min():.1f}–{known.max():.1f} px")
        else:
            self.width_label.setText(f"Width of {rods}")

    @reports_errors
    def set_width(self) -> None:
        width = round(self.width_spin.value(), self.width_spin.decimals())
        if width == self.width_spin.minimum():
            raise ParticleDetectError("type the selected rods' width in px first, then press Set width")
        count = self.session().set_rod_width(width)
        show_info(f"{count} rod{'s' * (count != 1)} {width:g} px wide, saved")

    @reports_errors
    def draw_box(self) -> None:
        self.session().regions.start_drawing()

    @reports_errors
    def accept_region(self) -> None:
        session = self.session()
        region = session.accept_region(session.current_frame())
        self._proposal_done()
        self.refresh()
        show_info(f"region {box_text(region.box)} of frame {region.frame} accepted")

    @reports_errors
    def undo(self) -> None:
        what = self.session().undo()
        self.refresh()
        show_info(what)

    @reports_errors
    def link(self) -> None:
        frame = self.session().relink("link")
        self.refresh()
        show_info(f"linked: frame {frame}'s chains saved")

    @reports_errors
    def cut(self) -> None:
        frame = self.session().relink("cut")
        self.refresh()
        show_info(f"cut: frame {frame}'s chains saved")

    @reports_errors
    def review_next(self) -> None:
        session = self.session()
        mode = self.mode_combo.currentText().removeprefix("by ")
        proposal = session.next_proposal(self._threshold(), mode)
        self._proposed = (weakref.ref(session), int(proposal.frame))
        session.show_proposal(proposal)
        self.refresh()
        what = proposal.why.replace("centre", _objects(session.kind)[:-1])
        self.suggestion.setText(f"Next: {what}; correct it, then {'Accept box' if proposal.box else 'Accept frame'}")

    def _forget_passed_proposal(self, session: KindSession | None) -> None:
        """Review next's proposal goes once another image, kind or frame is shown: it no longer speaks of what is
        on screen (Review next proposes again; its box stays drawn on its frame)."""
        if self._proposed is None:
            return
        proposed, frame = self._proposed
        if session is None or proposed() is not session or session.current_frame() != frame:
            self._proposed = None
            self.suggestion.setText("")

    def _proposal_done(self) -> None:
        """The frame or box accepted: what Review next proposed is reviewed."""
        self._proposed = None
        self.suggestion.setText("")

    @reports_errors
    def export(self, path: str | Path | None = None) -> Path | None:
        session = self.session()
        if path is None:
            image = image_path(session.image)
            folder = image.parent if image is not None else Path.cwd()
            # A layer's name as the spheres dock's Export makes it a file's: one named by hand may hold a "/".
            stem = image.stem if image is not None else safe_stem(session.image.name)
            suggested = str(folder / f"{stem}.{session.kind}.csv")
            path, _ = QFileDialog.getSaveFileName(self, f"Export the {session.kind}", suggested,
                                                  "CSV (*.csv)")
            if not path:
                return None
        session.sync()
        path = Path(path)
        write_kind_table(session.whole_table(), path, session.kind)
        extra = f" and {path.with_suffix('.chains.csv').name}" if session.kind == "chains" else ""
        show_info(f"{session.kind} written to {path}{extra}")
        return path


def _objects(kind: str) -> str:
    return "rods" if kind == "rods" else "beads"
