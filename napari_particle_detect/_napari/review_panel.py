"""Review: accept whole frames or drawn regions as training data, and ask what to review next."""

from __future__ import annotations

import weakref
from html import escape

from napari.layers.base import ActionType
from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import QApplication, QComboBox, QGridLayout, QGroupBox, QMessageBox, QPushButton

from ..errors import ParticleDetectError
from .image_picks import forget_hidden, hidden_by_pick
from .labels import PathLabel, WholeLabel
from .notify import ask_no_default, reports_errors, show_info
from .proposals import MODES, key, next_proposal, proposal_box
from .regions import box_text, zoom_to_box
from .state import DockState

# Under the buttons: the keys a user needs first; all of them in its tooltip.
SHORT_HINT = ("Enter accept · U un-accept · , . frames · R box, Shift+Enter accept it · N next · P add, S select, "
              "Delete · Ctrl+Z undo (hover: all keys)")
SHORTCUTS = (
    "Enter: accept frame, go to the next · U: un-accept (the frame just accepted) · , / . : previous / next frame · "
    "Ctrl+Z / Ctrl+Shift+Z: undo / redo this frame's edits · H: heatmap on/off\n"
    "R: draw a review box · Shift+Enter: accept the box · N: what to review next\n"
    "Edit with the Points tools: P add, S select, Delete remove, drag to move. Every edit is saved at once."
)


class ReviewPanel(QGroupBox):
    def __init__(self, state: DockState, viewer) -> None:
        super().__init__("Review")
        self.state = state
        self.viewer = viewer
        self._passed: set = set()  # proposals already shown (N again moves on to the next)
        self._proposed: tuple | None = None  # (annotation, frame) of the last proposed box
        self._last_accepted: int | None = None  # the frame Enter last accepted (U takes it back)
        # The review-box layers whose drawing we follow, held weakly: by id(), a removed layer's id could be a new
        # layer's, whose boxes then never gave the keys back to the centres.
        self._watched_drafts: weakref.WeakSet = weakref.WeakSet()
        self.dialog: QMessageBox | None = None  # the question being asked, if any

        # Names the image and its centres layer when they are hidden: may break inside a long name, which widened
        # the dock past its column.
        self.status = PathLabel()
        # Rich for its bold "reviewed": whatever it shows of the user's (layer names) goes through html.escape.
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.previous_button = QPushButton("◀ Previous")
        self.accept_button = QPushButton("Accept frame")
        self.accept_button.setToolTip("This frame's centres are right: keep them as training data (Enter)")
        self.next_button = QPushButton("Next ▶")
        self.unaccept_button = QPushButton("Un-accept")
        self.unaccept_button.setToolTip("Back to unreviewed, with the points it had before it was accepted (U; "
                                        "right after Enter: the frame just accepted)")
        self.draw_button = QPushButton("Draw box (R)")
        self.draw_button.setToolTip("Drag a rectangle around the part of the frame you have checked (R)")
        self.accept_region_button = QPushButton("Accept box")
        self.accept_region_button.setToolTip(
            "The centres inside the box are right (hidden ones inside it are dropped): keep that region as "
            "training data; the rest of the frame is not learned from (Shift+Enter)")
        self.unaccept_region_button = QPushButton("Un-accept region")
        self.unaccept_region_button.setToolTip(
            "Un-accept this frame's regions selected in the 'reviewed regions' layer, or else the last one accepted "
            "on it")
        self.suggest_button = QPushButton("Review next (N)")
        self.suggest_button.setToolTip("Go to where the model hesitates most: centres scored near the threshold")
        self.mode_combo = QComboBox()
        self.mode_combo.addItems([f"by {mode}" for mode in MODES])
        self.mode_combo.setToolTip("Propose a region to check (a few dozen particles) or a whole frame")
        self.suggestion = WholeLabel(hidden_when_empty=True)
        hint = WholeLabel(SHORT_HINT)
        hint.setToolTip(SHORTCUTS)
        hint.setStyleSheet("color: gray; font-size: 10px")

        grid = QGridLayout(self)
        grid.addWidget(self.status, 0, 0, 1, 4)
        grid.addWidget(self.previous_button, 1, 0)
        grid.addWidget(self.accept_button, 1, 1)
        grid.addWidget(self.unaccept_button, 1, 2)
        grid.addWidget(self.next_button, 1, 3)
        grid.addWidget(self.draw_button, 3, 0)
        grid.addWidget(self.accept_region_button, 3, 1)
        grid.addWidget(self.unaccept_region_button, 3, 2, 1, 2)
        grid.addWidget(self.suggest_button, 4, 0, 1, 2)  # two columns each, so the dock can be narrow
        grid.addWidget(self.mode_combo, 4, 2, 1, 2)
        grid.addWidget(self.suggestion, 5, 0, 1, 4)
        grid.addWidget(hint, 6, 0, 1, 4)
        self.suggestion.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.previous_button.clicked.connect(lambda *_: self.previous_frame())
        self.next_button.clicked.connect(lambda *_: self.next_frame())
        self.accept_button.clicked.connect(lambda *_: self.accept_and_next())
        self.unaccept_button.clicked.connect(lambda *_: self.unaccept())
        self.draw_button.clicked.connect(lambda *_: self.draw_box())
        self.accept_region_button.clicked.connect(lambda *_: self.accept_region())
        self.unaccept_region_button.clicked.connect(lambda *_: self.unaccept_region())
        self.suggest_button.clicked.connect(lambda *_: self.review_next())
        state.project_changed.connect(self.refresh)
        state.frame_changed.connect(self._on_frame_changed)
        state.annotation_changed.connect(lambda *_: self._forget_image())
        state.threshold_changed.connect(lambda *_: self.refresh())
        self.refresh()  # a dock opened with no image: its buttons wait for one

    def _forget_image(self) -> None:
        """Another image (or none): nothing said about the last one stays."""
        self._passed.clear()
        self._proposed, self._last_accepted = None, None
        self.suggestion.setText("")

    def _on_frame_changed(self, frame: int) -> None:
        """Another frame shown: a proposal ("Next: frame 7, y 0-124 …") for the frame left no longer
        describes what is on screen, so it goes (N proposes again; its box stays drawn on its frame)."""
        if self._proposed is not None and self._proposed[1] != frame:
            self.suggestion.setText("")
        self.refresh()

    @property
    def mode(self) -> str:
        return MODES[self.mode_combo.currentIndex()]

    def refresh(self) -> None:
        annotation = self.state.annotation
        buttons = (self.previous_button, self.accept_button, self.next_button, self.unaccept_button, self.draw_button,
                   self.accept_region_button, self.unaccept_region_button, self.suggest_button)
        for button in buttons:
            button.setEnabled(annotation is not None)
        if annotation is None:
            self.status.setText("")
            return
        frame, project = annotation.current_frame(), annotation.project
        reviewed = project.is_reviewed(frame)
        visible = annotation.visible_table()
        count = int((visible["frame"] == frame).sum())
        regions = project.regions(frame)
        if reviewed:
            review = "<b>reviewed ✓</b>"
        elif regions:
            review = f"<b>{len(regions)} region{'s' if len(regions) != 1 else ''} reviewed</b>"
        elif annotation.has_centres(frame):
            review = "not reviewed"
        else:
            review = "not detected yet"
        all_regions = len(project.regions())
        shown = self._centres_seen(annotation, count)
        earlier = self._earlier_round(annotation, frame)
        if earlier and not reviewed and not annotation.layer_closed:
            shown += f" ({earlier})"
        self.status.setText(
            f"Frame {frame + 1} of {annotation.n_frames} (index {frame}): {review}, {escape(shown, quote=False)} · "
            f"{len(project.reviewed_frames)} of {annotation.n_frames} frame{'s' if annotation.n_frames != 1 else ''}"
            + (f" and {all_regions} region{'s' if all_regions != 1 else ''}" if all_regions else "") + " reviewed"
        )
        # Past the stack's last frame nothing is accepted or un-accepted unseen: the annotation refuses it.
        seen = annotation.frame_off_screen() is None
        self.accept_button.setEnabled(seen)
        self.unaccept_button.setEnabled(seen and (reviewed or self._undoable_accept() is not None))
        self.unaccept_region_button.setEnabled(seen and bool(regions))
        self.accept_region_button.setEnabled(seen and not reviewed)

    def _centres_seen(self, annotation, count: int) -> str:
        """Whether the frame's centres are on screen: a pick of another image in any dock hides them (image_picks),
        and the line went on saying "139 centres shown" over the other image."""
        points = annotation.points
        if annotation.layer_closed:
            return f"centres layer closed ({count} kept; Detect or Accept brings it back)"
        if points is None:
            return f"{count} centres shown"
        points.events.visible.connect(self.refresh)  # once per layer (napari keeps a callback once)
        if points.visible:
            forget_hidden(points)  # shown again by its eye: a later hiding is the user's, not a pick's
            return f"{count} centres shown"
        if hidden_by_pick(points):
            return (f"{count} centres hidden, as another image was picked in a dock (pick "
                    f"'{annotation.image.name}' in Image above to show them)")
        return f"{count} centres hidden (the eye of '{points.name}' in the layer list shows them)"

    # ---- whole frames ------------------------------------------------------------------------
    @reports_errors
    def accept_and_next(self) -> None:
        annotation = self.state.require_annotation()
        frame = annotation.current_frame()
        check = annotation.check_accept(frame, self.state.detected_threshold(frame))
        if check.needs_confirmation and not self.confirm("Accept frame?",
                                                         check.question(frame, annotation.frame_threshold(frame))):
            earlier = self._earlier_round(annotation, frame)
            show_info(f"frame {frame} not accepted: " + (f"it shows {earlier}; Detect it again to see the round in "
                                                         "use's" if earlier else
                                                         "lower the threshold to see the hidden centres"))
            return
        threshold = annotation.frame_threshold(frame)
        accepted = annotation.accept(frame)
        self._last_accepted = frame
        self._drop_proposal_of(annotation, frame)
        dropped = check.dropped_text(threshold)  # said every time: a round learns them as background
        show_info(f"frame {frame} accepted with {len(accepted)} centres{f'; {dropped}' if dropped else ''} "
                  "(U takes it back)")
        if frame + 1 < annotation.n_frames:
            annotation.go_to_frame(frame + 1)
        elif annotation.n_frames > 1:
            show_info(self._last_frame_note(annotation, frame))
        self.state.project_changed.emit()

    def _drop_proposal_of(self, annotation, frame: int) -> None:
        """The frame N proposed, accepted whole: its 'Next: … Shift+Enter to accept it' and orange box went on
        asking for a box that a reviewed frame no longer takes (a single image's Enter stays on the frame)."""
        if self._proposed is None or self._proposed[0] is not annotation or self._proposed[1] != frame:
            return
        self._proposed = None
        self.suggestion.setText("")
        annotation.regions.clear_draft(frame)

    @staticmethod
    def _last_frame_note(annotation, frame: int) -> str:
        """Where Enter cannot move on: the stack's last frame stays shown, and each Enter accepted it again without
        a word of why the frame did not change."""
        left = annotation.n_frames - len(set(annotation.project.reviewed_frames))
        return (f"frame {frame} is the last frame of {annotation.n_frames}: "
                + (f"{left} frame{'s' if left != 1 else ''} not accepted yet" if left else "every frame is accepted"))

    @staticmethod
    def _earlier_round(annotation, frame: int) -> str:
        """"round-001's detections, at 0.35" where ``frame`` shows another round's than the one in use."""
        if int(frame) not in annotation.held:
            return ""
        number = annotation.project.detected_by.get(int(frame))
        if number is None:
            return ""
        return f"round-{number:03d}'s detections, at {annotation.frame_threshold(frame):.2f}"

    def confirm(self, title: str, text: str) -> bool:
        """Ask a yes/no question in a dialog; No is the default (an Enter held down accepts nothing)."""
        return ask_no_default(self, title, text)

    def _undoable_accept(self) -> int | None:
        """The frame Enter last accepted, while it is still accepted and the user is still on the frame Enter moved
        on to: U on a frame reached since (Next, the slider, Review next) jumped back to a frame accepted long
        before, out of sight, and un-accepted it."""
        annotation, frame = self.state.annotation, self._last_accepted
        if annotation is None or frame is None or not annotation.project.is_reviewed(frame):
            return None
        if annotation.current_frame() != min(frame + 1, annotation.n_frames - 1):
            return None
        return frame

    @reports_errors
    def unaccept(self) -> None:
        """Un-accept the current frame; on a frame not accepted (Enter moved on), the one just accepted."""
        annotation = self.state.require_annotation()
        frame = annotation.current_frame()
        if not annotation.project.is_reviewed(frame):
            frame = self._undoable_accept()
            if frame is None:
                raise ParticleDetectError(f"frame {annotation.current_frame()} is not accepted")
            annotation.go_to_frame(frame)
        restored = annotation.unaccept(frame)
        if self._last_accepted == frame:
            self._last_accepted = None
        show_info(f"frame {frame} un-accepted" + (", its points as they were before (Ctrl+Z: as accepted, with any "
                                                  "edits since)" if restored else ""))
        self.refresh()

    def next_frame(self) -> None:
        if self.state.annotation is not None:
            self.state.annotation.go_to_frame(self.state.annotation.current_frame() + 1)

    def previous_frame(self) -> None:
        if self.state.annotation is not None:
            self.state.annotation.go_to_frame(self.state.annotation.current_frame() - 1)

    @reports_errors
    def undo(self) -> None:
        annotation = self.state.require_annotation()
        frame = annotation.current_frame()
        if not annotation.undo(frame):
            show_info(f"nothing to undo on frame {frame}{self._acceptance_undone_by(annotation, frame)}")

    def _acceptance_undone_by(self, annotation, frame: int) -> str:
        """What takes back an acceptance on ``frame`` (or the frame Enter just accepted), said after "nothing to
        undo": Ctrl+Z undoes point edits only, and a user who pressed it right after Shift+Enter was told nothing
        of the button that does."""
        accepted = frame if annotation.project.is_reviewed(frame) else self._undoable_accept()
        what = [f"accepting frame {accepted}"] if accepted is not None else []
        how = ["Un-accept (U)"] if accepted is not None else []
        if annotation.project.regions(frame):
            what.append(f"a region accepted on frame {frame}")
            how.append("Un-accept region")
        return f": {' or '.join(what)} is taken back with {' or '.join(how)}, not Ctrl+Z" if what else ""

    @reports_errors
    def redo(self) -> None:
        annotation = self.state.require_annotation()
        frame = annotation.current_frame()
        if not annotation.redo(frame):
            show_info(f"nothing to redo on frame {frame}")

    def toggle_heatmap(self) -> None:
        if self.state.annotation is not None and not self.state.annotation.toggle_heatmap():
            show_info("no heatmap yet: tick 'show heatmap' and run Detect")

    # ---- regions -----------------------------------------------------------------------------
    @reports_errors
    def draw_box(self) -> None:
        layer = self.state.require_annotation().regions.start_drawing()
        if layer not in self._watched_drafts:
            self._watched_drafts.add(layer)
            layer.events.data.connect(self._on_box_data)

    def _on_box_data(self, event) -> None:
        # A box was drawn: give the keys back to the centres layer (Enter, P, S), once the mouse is up.
        if getattr(event, "action", None) == ActionType.ADDED:
            QTimer.singleShot(0, self._back_to_centres)

    def _back_to_centres(self) -> None:
        if QApplication.mouseButtons() != Qt.MouseButton.NoButton:
            QTimer.singleShot(50, self._back_to_centres)  # still dragging the box out
            return
        annotation = self.state.annotation
        if annotation is None:
            return
        draft = annotation.regions.draft
        if draft is not None and draft.mode == "add_rectangle":
            draft.mode = "select"  # the box stays adjustable; a new one is R again
        if annotation.points is not None and annotation.points in self.viewer.layers:
            self.viewer.layers.selection.active = annotation.points

    @reports_errors
    def accept_region(self) -> None:
        annotation = self.state.require_annotation()
        frame = annotation.current_frame()
        box = annotation.regions.draft_box(frame)
        if box is None:
            raise ParticleDetectError(f"draw a box on frame {frame} first (R, or Draw box), or press N for a "
                                      "proposed one")
        check = annotation.check_accept(frame, self.state.detected_threshold(frame), box)
        # Hidden detections inside the box are learned as background, as Enter's are for a frame: asked alike.
        if check.needs_confirmation and not self.confirm("Accept region?", region_question(
                check, frame, box, annotation.frame_threshold(frame))):
            earlier = self._earlier_round(annotation, frame)
            show_info(f"region {box_text(box)} of frame {frame} not accepted: "
                      + (f"it shows {earlier}; Detect it again to see the round in use's" if earlier else
                         "lower the threshold to see the hidden centres"))
            return
        region, inside = annotation.accept_region(frame, box)
        self.suggestion.setText("")
        self._proposed = None
        dropped = check.dropped_text(annotation.frame_threshold(frame))
        show_info(f"region {box_text(region.box)} of frame {frame} accepted with {len(inside)} centres"
                  + (f"; {dropped}" if dropped else ""))

    @reports_errors
    def unaccept_region(self) -> None:
        annotation = self.state.require_annotation()
        frame = annotation.current_frame()
        chosen = annotation.regions.selected_accepted(frame) or annotation.project.regions(frame)[-1:]
        if not chosen:
            raise ParticleDetectError(f"frame {frame} has no accepted region")
        for region in chosen:
            annotation.unaccept_region(region)
        show_info(f"{len(chosen)} region{'s' if len(chosen) != 1 else ''} un-accepted")

    # ---- what next -----------------------------------------------------------------------------
    @reports_errors
    def review_next(self) -> None:
        """Jump to where the model hesitates most (not shown before), with the reason."""
        annotation = self.state.require_annotation()
        annotation.flush()
        try:
            proposal = next_proposal(annotation, self.state.threshold, self.mode, self._passed)
        except ParticleDetectError:
            if not self._passed:
                raise
            self._passed.clear()  # every proposal was passed over: start again from the top
            proposal = next_proposal(annotation, self.state.threshold, self.mode)
        self._passed.add(key(proposal))
        if self._proposed is not None and self._proposed[0] is annotation:
            annotation.regions.clear_draft(self._proposed[1])  # the box passed over goes
        self._proposed = (annotation, proposal.frame)
        annotation.go_to_frame(proposal.frame)
        box = proposal_box(proposal)
        if box is None:
            self.viewer.reset_view()
            hint = "Correct it, then Enter to accept the frame"
        else:
            annotation.regions.propose(proposal.frame, box)
            zoom_to_box(self.viewer, annotation.image, box)
            hint = "Correct inside the orange box, then Shift+Enter to accept it"
        if annotation.points is not None:
            self.viewer.layers.selection.active = annotation.points
        self.suggestion.setText(f"Next: {proposal.why}. {hint}.")
        self.refresh()


def region_question(check, frame: int, box, threshold: float) -> str:
    """Shift+Enter's question where the threshold hides many of the box's detections (AcceptCheck.question's
    for a region)."""
    own = f" at its own threshold {check.detected_threshold:.2f}" if check.detected_threshold is not None else ""
    return (f"Accept region {box_text(box)} of frame {frame} with {check.kept} centres? The threshold "
            f"{threshold:.2f} hides {check.dropped} of the {check.detected} centres the model detected in it{own}; "
            "accepting drops them, and a round would learn that they are not particles.")
