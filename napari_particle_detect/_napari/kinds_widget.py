"""The Rods and chains dock: detect rods or bead chains with the kind's model in use (the shipped
one, or a fine-tuned round of the image's project) into editable layers (rods: lines; chains: beads
and paths), review them (accept a frame or a box, undo, review next), fine-tune, export.

A thin skin: kinds_prediction.detect_kind finds, kind_review.KindSession keeps the image's rods or
chains project and its layers in step, kind_review_panel and kind_rounds_panel are its two boxes.
Choosing an image and a kind opens that project, so what was reviewed comes back when the dock
(or napari) is opened again. An image it cannot take as it is (a file's channels, 4D, colour) is offered
as the Particle detection dock offers it (image_views): why, and a view to Use.
"""

from __future__ import annotations

import weakref
from functools import partial

import numpy as np
import pandas as pd
from napari.layers import Image
from napari.qt.threading import create_worker
from qtpy.QtWidgets import (
    QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QPushButton, QVBoxLayout, QWidget,
)

from ..errors import ParticleDetectError
from ..projects.project import image_record, pixels_record
from .annotation import image_path
from .detect_panel import pixels_not_square
from .dock_closing import STOP_WAIT_S, ClosingDock, boxes_not_kept, put_away_words
from .docked_view import keep_layers_whole_as_docked
from .image_picks import last_worked_on, register_dock, remember_worked_on, show_picked
from .image_views import (
    START_HINT, add_view_layer, explain, kind_suffix, layer_kind, layer_pixels, remember_copied_files,
    show_view_choice,
)
from .kind_review import KindSession
from .kind_review_panel import KindReviewPanel
from .kind_rounds_panel import KindRoundsPanel
from .labels import DockScroll, NameList, PathLabel
from .layers import guard_canvas_from_removed_layers, is_dock_output, viewer_closing
from .notify import (
    found_elsewhere_note, report, reports_errors, say_problems, show_info, show_warnings, telling, warn_once,
)


def detect_in(image: np.ndarray, kind: str, model, threshold: float | None, frame: int | None,
              name: str = "image") -> pd.DataFrame:
    """Worker body: the kind's table for one frame (a stack's ``frame``) or the image, ``name`` the layer's
    (what an error names)."""
    from ..detection.kinds_prediction import detect_kind

    frames = None if frame is None else [frame]
    return detect_kind(image, kind, model, "cpu", threshold, frames=frames, name=name)


DOCK_TITLE = "Rods and chains"


class KindsWidget(ClosingDock, QWidget):
    def __init__(self, napari_viewer) -> None:
        super().__init__()
        self._init_closing()
        # napari hands a plugin dock a PublicOnlyProxy of the viewer; its layers are proxies too, so
        # identity tests against them fail (see widget.py): work on the viewer itself.
        self.viewer = napari_viewer = getattr(napari_viewer, "__wrapped__", napari_viewer)
        guard_canvas_from_removed_layers(self.viewer)  # as the spheres dock: its closing removes its layers
        keep_layers_whole_as_docked(self.viewer)  # napari keeps its zoom as the dock narrows the canvas
        register_dock(self)
        self.worker = None
        self.session: KindSession | None = None
        # Each project's Undo steps while the dock is open (KindSession.share_undo): another image or kind chosen
        # and back, its edits and acceptances stay Undo's to take back.
        self._undo: dict = {}
        self._said_problems: dict = {}  # each project folder's problems last said (notify.say_problems)
        self._said_found: set[str] = set()  # the projects found elsewhere named (found_elsewhere_note)
        # Each image layer's non-square pixels warning last said: once per image, as the spheres dock says it.
        self._not_square_said: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._status_frame: int | None = None  # the frame whose rods or beads the status line counts
        # Elided as the spheres dock's lists: a long layer name (a microscopy export's) shown whole widened the dock.
        self.image_combo = NameList("The image or T/Z stack to find rods or chains in")  # item data: its layer's name
        # The layers listed, in the list's order: renamed, the one chosen is still known (its old name is gone).
        self._listed: list[Image] = []
        # For an image not taken as it is: why, and the views of it offered instead, as in the spheres dock.
        # Path labels, which break a long name after its separators: wrapped only at its spaces, a layer named after
        # its file (150 characters is common) widened the dock past the window.
        self.image_note = PathLabel("")
        self.image_note.setVisible(False)
        self.view_combo = NameList("How to read the image as grey frames")
        self.view_button = QPushButton("Use")
        self.view_button.setToolTip("Add the chosen greyscale image or stack as a new layer and work on it")
        view_row = QHBoxLayout()
        view_row.setContentsMargins(0, 0, 0, 0)
        view_row.addWidget(self.view_combo, 1)
        view_row.addWidget(self.view_button)
        self._view_row = QWidget()
        self._view_row.setLayout(view_row)
        self._view_row.setVisible(False)
        self.kind_combo = QComboBox()
        self.kind_combo.addItems(["rods", "chains"])
        self.kind_combo.setToolTip("rods and ellipsoids: one line per object, tip to tip; chains: beads and their chains")
        self.threshold_spin = QDoubleSpinBox()
        self.threshold_spin.setRange(0.0, 0.95)
        self.threshold_spin.setSingleStep(0.05)
        self.threshold_spin.setSpecialValueText("model's")
        self.detect_button = QPushButton("Detect (this frame)")
        self.status = PathLabel("")
        self.review = KindReviewPanel(lambda: self.session, self.review_threshold)
        self.rounds = KindRoundsPanel(lambda: self.session, self._round_changed)
        form = QFormLayout()
        form.addRow("Image", self.image_combo)
        form.addRow(self.image_note)
        form.addRow(self._view_row)
        form.addRow("Kind", self.kind_combo)
        form.addRow("Threshold", self.threshold_spin)
        column = QVBoxLayout()
        column.addLayout(form)
        column.addWidget(self.detect_button)
        column.addWidget(self.status)
        column.addWidget(self.review)
        column.addWidget(self.rounds)
        column.addStretch(1)
        self._scroll = DockScroll(self, column)  # as the spheres dock's: a 700 px window squeezed its labels cut
        self.detect_button.clicked.connect(self.detect)
        self.view_button.clicked.connect(lambda *_: self.use_view())
        self.viewer.layers.events.inserted.connect(self._refresh_images)
        self.viewer.layers.events.removed.connect(self._refresh_images)
        self.image_combo.currentTextChanged.connect(lambda *_: self._image_chosen())
        # The user's pick, not ours: every dock's layers of other images are hidden, as the spheres dock's pick does.
        self.image_combo.activated.connect(lambda *_: self.show_chosen(self.chosen_image()))
        self.kind_combo.currentTextChanged.connect(lambda *_: self.attach())
        self.viewer.dims.events.current_step.connect(self._frame_changed)
        self._reopen_on: Image | None = None  # the image this dock closed on before: picked first
        reopened = last_worked_on(self.viewer, DOCK_TITLE, self._images())
        if reopened is not None:
            self._reopen_on = reopened[0]
            self.kind_combo.blockSignals(True)  # attached once, with the image
            self.kind_combo.setCurrentText(reopened[1])
            self.kind_combo.blockSignals(False)
        self._refresh_images()
        self._reopen_on = None
        if self.chosen_image() is None:  # no image to choose: the dock says how to open one, Detect waits for it
            self.attach()

    def _frame_changed(self, event=None) -> None:
        self.review.refresh()
        # Only another frame: the step also moves when a layer is added or the view changes, and the line's
        # hints (a detection's, a round's) stand until what they speak of changes.
        if self.session is not None and self.session.current_frame() != self._status_frame:
            self._say_frame()

    def _session_changed(self) -> None:
        """The session saved an edit, an acceptance or an undo: Undo and the counts follow."""
        self.review.refresh()
        self._say_frame()

    def _say_frame(self) -> None:
        session = self.session
        if session is None or self.worker is not None:  # a detection running says so until it ends
            return
        self.status.setText(_frame_text(session))
        self._status_frame = session.current_frame()

    def _say_refused(self, line: str) -> None:
        """An edit not kept (a rod drawn past the stack's last frame), said where the frame's line is: a
        notification alone was cut short, and the line beside it spoke of the frame as if it could be edited."""
        self.status.setText(line)

    def _refresh_images(self, event=None) -> None:
        if viewer_closing(self.viewer):
            # napari quitting removes the layers one by one: moving on to the image left would open its project
            # and draw its layers (every frame read) in a window about to close.
            return
        remember_copied_files(self.viewer.layers)
        images = self._images()
        for layer in images:  # a renamed image is offered under its new name (napari connects each once)
            layer.events.name.connect(self._refresh_images)
        # The image chosen stays chosen by identity: renamed, its old name is no longer in the list (Detect, finding
        # no image of that name, put its layers away and did nothing; a colour or 4D image's list moved on to
        # another image and opened its project).
        session = self.session
        current = (session.image if session is not None and session.image in images
                   else self._listed_chosen(images) or self._reopen_on)
        # Named as the spheres dock names them: "(2 channels)", "(4D)", "(colour)" after an image not used as it is.
        labels = [layer.name + kind_suffix(layer) for layer in images]
        listed_before, self._listed = self._listed, images
        shown = [self.image_combo.itemText(i) for i in range(self.image_combo.count())]
        if labels == shown and listed_before == images:
            return
        self.image_combo.blockSignals(True)
        self.image_combo.clear()
        for label, layer in zip(labels, images):
            self.image_combo.addItem(label, layer.name)
        if current in images:
            self.image_combo.setCurrentIndex(images.index(current))
        else:
            ready = [i for i, layer in enumerate(images) if layer_kind(layer) == "ready"]
            self.image_combo.setCurrentIndex(ready[0] if ready else 0)
        self.image_combo.blockSignals(False)
        chosen = self.chosen_image()
        if chosen is not None and chosen is current and (session is not None and session.image is chosen
                                                         or layer_kind(chosen) != "ready"):
            self._show_note(chosen)  # renamed, or another layer came or went: the views left as the user set them
        else:
            self._image_chosen()
        if session is not None and session.image not in self.viewer.layers and self.chosen_image() is not None:
            # The image the dock moves on to once its own was closed is shown as a pick of it shows it (as the spheres
            # dock does): one the closed image's pick hid stayed hidden, and the dock spoke of it over an empty canvas.
            self.show_chosen(self.chosen_image())

    def _listed_chosen(self, images: list[Image]) -> Image | None:
        """The layer chosen in the list as it was last filled, where it is still one of ``images``."""
        index = self.image_combo.currentIndex()
        layer = self._listed[index] if 0 <= index < len(self._listed) else None
        return layer if layer is not None and layer in images else None

    def _show_note(self, layer: Image) -> None:
        """The line under the image list for ``layer``, naming it as it is called now."""
        note = explain(layer)
        self.image_note.setText(note)
        self.image_note.setVisible(bool(note))

    def _images(self) -> list[Image]:
        """The image layers the dock lists (not the docks' heatmaps)."""
        return [layer for layer in self.viewer.layers if isinstance(layer, Image) and not is_dock_output(layer)]

    def show_chosen(self, image: Image | None) -> list[str]:
        """The user picked ``image`` (in the list, or by Use): show it, hide the images lying over it (an image opened
        after it covered it, and its rods or beads under that, while the dock spoke of it) and every dock's layers
        made for other images (image_picks). Returns the names hidden."""
        return show_picked(self.viewer, image, self._images())

    def chosen_image(self) -> Image | None:
        """The image layer chosen in the list."""
        name = self.image_combo.currentData()
        return self.viewer.layers[name] if name is not None and name in self.viewer.layers else None

    def _image_chosen(self) -> None:
        """A new image: the kind of the project it already has (when it has one kind's only), else the kind
        its layer says it shows (a sample's), then attach. One not taken as it is says why, and offers its views."""
        layer = self.chosen_image()
        self._show_views(layer)
        if layer is not None and layer_kind(layer) == "ready":
            from ..projects.kinds_project import KINDS, existing_kinds
            from .annotation import project_name
            from .sample_data import KIND_HINT

            found = existing_kinds(image_path(layer), project_name(layer), layer_pixels(layer))
            hinted = layer.metadata.get(KIND_HINT)
            wanted = found[0] if len(found) == 1 else hinted if not found and hinted in KINDS else None
            if wanted is not None and wanted != self.kind_combo.currentText():
                self.kind_combo.setCurrentText(wanted)  # attaches
                return
        self.attach()

    def outputs_by_image(self) -> list[tuple]:
        """The session's rods or chains layers and review outlines in the viewer, with its image."""
        session = self.session
        if session is None:
            return []
        made = [self.viewer.layers[name] for name in session.names if name in self.viewer.layers]
        made += [layer for layer in (session.regions.draft, session.regions.accepted)
                 if layer is not None and layer in self.viewer.layers]
        return [(layer, session.image) for layer in made]

    def _show_views(self, layer: Image | None) -> None:
        """For a file's channels, a 4D or a colour layer: why it is not used as it is, and the views offered."""
        show_view_choice(self.viewer, layer, self.image_note, self.view_combo, self._view_row)

    @reports_errors
    def use_view(self) -> Image | None:
        """Add the chosen view of the chosen image (one channel's frames, a 4D layer's T or Z frames, a colour
        image's grey) as a layer just over it, and work on that."""
        image = self.chosen_image()
        if image is None:
            raise ParticleDetectError("open an image first")
        layer, made_before = add_view_layer(self.viewer, image, self.view_combo.currentData())
        self.image_combo.setCurrentIndex(self.image_combo.findData(layer.name))
        # The user's pick as much as one in the list (the spheres dock's Use does the same): other images' centres
        # or rods left shown over the view read as its own.
        self.show_chosen(layer)
        show_info(f"working on '{layer.name}', made from '{image.name}'{' before' if made_before else ''}")
        return layer

    def attach(self) -> KindSession | None:
        """Open the chosen image's project for the chosen kind (its saved layers come back). None for an image not
        taken as it is (a file's channels, 4D, colour): no project is made for it, its views have theirs."""
        layer, kind = self.chosen_image(), self.kind_combo.currentText()
        if self.session is not None and self.session.image is layer and self.session.kind == kind:
            return self.session
        if self.session is not None:
            self._put_away(self.session)  # its layers would lie over the next image or kind
        self.session = None
        if not self.rounds.running():  # a round running keeps reporting: it names its image when it ends
            self.rounds.status.setText("")
        self.status.setText("")
        # Also while a round runs: refused then, the image and kind chosen had no layers, no rounds table and an
        # empty status line, even once the round had ended.
        if layer is not None and layer_kind(layer) == "ready":
            try:
                self.session = KindSession(self.viewer, layer, kind,
                                           on_change=self._session_changed,
                                           on_selection=self.review.show_selected_width,
                                           say_refused=self._say_refused)
                self.session.share_undo(self._undo)
            except ParticleDetectError as exc:
                report(exc)
        if self.session is not None:
            # Each image or kind chosen again opens its project again: the same problems are said once.
            say_problems(self.session.project, self._said_problems, self.session.project.folder)
            self.status.setText(_opened_text(self.session, self._project_text(self.session)
                                             + self._found_elsewhere(self.session) + self._kept_home(self.session)))
            self._status_frame = self.session.current_frame()
        elif layer is None:
            self.status.setText(START_HINT)
        self._show_detect_ready()
        self.review.refresh()
        self.rounds.refresh()
        return self.session

    def _put_away(self, session: KindSession) -> None:
        """``session`` put away for another image or kind, the review box it held said not kept, as closing the dock
        says it: no project keeps a box not accepted, and rods -> chains -> rods lost the one drawn without a word."""
        draft = session.regions.draft
        held = draft.name if draft is not None and draft in self.viewer.layers and len(draft.data) else None
        session.put_away()
        if held is not None:
            show_info(boxes_not_kept([held]))

    def _show_detect_ready(self) -> None:
        # With no image, Detect was enabled and its click did nothing and said nothing.
        self.detect_button.setEnabled(self.worker is None and self.chosen_image() is not None)

    def _found_elsewhere(self, session: KindSession) -> str:
        """'; ' and the projects of this kind made for the image found elsewhere (it was moved or renamed), where
        its own holds nothing yet; '' when none."""
        layer = session.image
        path = image_path(layer)
        # Recorded as open_kind_project records it, so a project elsewhere is known by its pixels too.
        record = partial(image_record, str(path), kind=session.kind, **pixels_record(layer_pixels(layer)))
        note = found_elsewhere_note(layer.name, path, session.project.folder, record, self._said_found)
        return f"; {note}" if note else ""

    def _kept_home(self, session: KindSession) -> str:
        """'; ' and where the project is kept when the image's folder cannot be written (kinds_project.kind_folder_of),
        said in a notification once per folder too; '' when it is beside the image."""
        from ..projects.kinds_project import kind_folder
        from ..projects.locations import home_folder_for_image, home_note

        path, folder = image_path(session.image), session.project.folder
        if path is None or folder != kind_folder(home_folder_for_image(path), session.kind):
            return ""
        note = f"its {session.kind} project {folder} is {home_note(path)} ({path.parent})"
        if note not in self._said_found:
            self._said_found.add(note)
            show_info(f"'{session.image.name}': {note}")
        return f"; {note}"

    def _project_text(self, session: KindSession) -> str:
        """What the image's project holds: frames saved, rounds, the one in use."""
        project, kind, name = session.project, session.kind, session.image.name
        rounds, saved = project.rounds, project.saved_frames()
        if not saved and not rounds:
            return f"Detect finds {kind} in '{name}' with the shipped model"
        current = project.current_round
        in_use = f" ({current.name} in use)" if current is not None else ""
        return (f"{kind} project of '{name}': {len(saved)} frame{'s' * (len(saved) != 1)} saved, "
                f"{len(rounds)} round{'s' * (len(rounds) != 1)}{in_use}")

    def _round_changed(self) -> None:
        """A round ended, was chosen or added: the status line names the project's rounds as they are now."""
        self.review.refresh()
        session = self.session
        if session is None:
            return
        current, found = session.project.current_round, _found_by(session)
        if current is not None and found not in (None, current.number):
            self.status.setText(f"{current.name} in use from now on; the {session.kind} shown were found with "
                                f"{_round_name(found)}: Detect to find them with {current.name}")
        else:
            self.status.setText(self._project_text(session))

    def review_threshold(self) -> float:
        if self.threshold_spin.value():
            return float(self.threshold_spin.value())
        from ..models import load_model

        return float(load_model(self.session.model_path(), "cpu").card.threshold)

    def detect(self) -> None:
        session = self.attach()
        if session is None and self.image_note.text():
            report(ParticleDetectError(self.image_note.text()))  # channels, 4D or colour: the view to Use first
        if session is None or self.worker is not None:
            return
        unseen = session.frame_off_screen()
        if unseen is not None:
            self.status.setText(unseen)
            report(ParticleDetectError(unseen))
            return
        data = layer_pixels(session.image)
        frame = session.current_frame() if data.ndim == 3 else None
        threshold = self.threshold_spin.value() or None
        try:
            model = str(session.model_path())
        except ParticleDetectError as exc:
            report(exc)
            return
        round_used = session.project.current_round
        # The model reads the layer's pixels as square: in stretched pixels, rods' lengths and angles come out off.
        warn_once(self._not_square_said, session.image, pixels_not_square(session.image))
        self.status.setText(f"finding {session.kind} in '{session.image.name}' with {round_used.name}…")
        self.detect_button.setEnabled(False)
        # Its errors are said by _detect_failed, not also raised again as a traceback in the console; its warnings
        # (a blank frame, uneven illumination subtracted, beads resampled) are shown as the other docks' Detect's.
        self.worker = create_worker(telling, detect_in, data, session.kind, model, threshold, frame, session.image.name,
                                    _ignore_errors=True)
        self.worker.returned.connect(lambda result: self._detected(session, result, round_used.number, frame or 0))
        self.worker.errored.connect(lambda exc: self._detect_failed(session, exc))
        self.worker.finished.connect(self._finished)
        self.worker.start()

    def _detect_failed(self, session: KindSession, exc: Exception) -> None:
        """Said, and the status line no longer says the detection is running."""
        report(exc)
        if session is self.session and not self.closed:
            self.status.setText(_frame_text(session))
            self._status_frame = session.current_frame()

    def _detected(self, session: KindSession, result: tuple[pd.DataFrame, list[str]], round_number: int,
                  detected_frame: int) -> None:
        table, said = result
        show_warnings(said)
        self._show(session, table, round_number, detected_frame)

    def _finished(self) -> None:
        self.worker = None
        self._show_detect_ready()

    def _show(self, session: KindSession, table, round_number: int, detected_frame: int) -> None:
        # Nothing found is saved to the frame searched, not to the one on screen when the result arrives.
        frames = sorted(set(table["frame"].astype(int))) or [detected_frame]
        round_name = _round_name(round_number)
        current = self.session
        if current is not None and current.project.folder == session.project.folder:
            # Switched away and back before it ended: the image's new session, the one seen, takes it (and its
            # Undo); the one put away would save it under layers that still show the frames as they were.
            session = current
        if session is not self.session or self.closed:  # another image or kind, or the dock closed: saved, not drawn
            saved = session.set_detections(table, frames, shown=False, detected_by=round_number)
            found = f"{len(table)} {session.kind} found in '{session.image.name}' with {round_name}"
            # An image closed is no longer in the list to choose: it is opened again.
            when = ("the dock is opened again" if self.closed else "it is chosen again"
                    if session.image in self.viewer.layers else "it is opened again")
            text = f"{found}: kept in its project, shown when {when}"
            if session.kept_edits:
                edits = (f"frame{'s' * (len(session.kept_edits) != 1)} {', '.join(map(str, session.kept_edits))} "
                         "kept your edits: Detect again there to replace them")
                text = f"{text}; {edits}" if saved else f"{found}, not saved: {edits}"
            self.status.setText(text)
            if self.closed:  # its status line went with the dock: the rods or chains looked lost until it reopened
                show_info(text)
            return
        kept = session.set_detections(table, frames, detected_by=round_number)
        # What Detect found is shown as a pick of its image shows it: the dock's own choice (the first of two images
        # opened) lay under the other, and the rods or beads the status line counted were not seen.
        self.show_chosen(session.image)
        skipped = [f for f in frames if f not in kept]
        # What the frames show: more than was found where accepted boxes or a reviewed frame keep theirs.
        shown = session.frames_table(frames)
        if not kept:  # nothing the model found is shown: what is counted is what was accepted
            found = ""
        elif len(shown) == len(table):
            found = f" with {round_name}"
        else:
            found = f" shown, {len(table)} found with {round_name}"
        note = ""
        if skipped:
            note = f" (frame {skipped[0]} is reviewed: kept as you accepted it" + (
                ")" if kept else f", not detected with {round_name}; Un-accept it to detect it again)")
        if session.replaced_edits:
            note += f" (detected over your edits on frame {session.replaced_edits[0]}: Undo brings them back)"
        where = f" on frame {frames[0]}" if session.stack and len(frames) == 1 else ""
        self.status.setText(_counted(session.kind, shown, f"{where}{found}{note}"))
        self._status_frame = frames[0]
        self.review.refresh()
        self.rounds.refresh()
        self.rounds.drop_done_advice()

    # ---- closing -----------------------------------------------------------------------------------
    def shut_down(self, put_layers_away: bool = False) -> None:
        """The window or the dock is closing: stop a running round (and wait for it, so no thread outlives
        the viewer), stop hearing the viewer, and save every edit. ``put_layers_away``: the dock alone
        closes (its X), so its session stops hearing its layers and removes them: a reopened dock
        brings them back from the project, its own session hearing them."""
        if self._shut:
            return
        self._shut = True
        self.viewer.layers.events.inserted.disconnect(self._refresh_images)
        self.viewer.layers.events.removed.disconnect(self._refresh_images)
        for layer in self.viewer.layers:
            layer.events.name.disconnect(self._refresh_images)
        self.viewer.dims.events.current_step.disconnect(self._frame_changed)
        self.rounds.cancel(wait_s=STOP_WAIT_S)
        session = self.session
        if session is None:
            return
        # Its edits from now on are saved, not shown in a dock that is going.
        session.on_change = session.on_selection = None
        try:
            if put_layers_away:
                self.session = None
                remember_worked_on(self.viewer, DOCK_TITLE, session.image, session.kind)
                # A review box emptied by accepting it is left unnamed by put_away_words: said "not kept", it read
                # as the acceptance lost (the reviewed regions are kept).
                names = session.put_away()
                if names:
                    show_info(put_away_words(DOCK_TITLE, names, session.kind))
            elif session.main_layer is not None and session.image in self.viewer.layers:
                session.sync()
        except ParticleDetectError as exc:
            report(exc)


def _opened_text(session: KindSession, summary: str) -> str:
    """The status line of a project just opened (the dock reopened, or its image or kind chosen again): the frame
    shown's line where it holds rods or beads saved, as it was before, else the project's ``summary``, which says
    nothing of what is on screen."""
    if session.frame_off_screen() is None and session.current_frame() in session.tables:
        return _frame_text(session)
    return summary


def _frame_text(session: KindSession) -> str:
    """The status line on the current frame: its rods or beads as saved now, and what the user did to it."""
    unseen = session.frame_off_screen()
    if unseen is not None:
        return unseen
    frame, project = session.current_frame(), session.project
    table = session.tables.get(frame)
    if table is None:
        place = f"frame {frame}" if session.stack else f"'{session.image.name}'"
        return f"{place} not detected yet: Detect finds {session.kind} in it"
    if project.is_reviewed(frame):
        state = "reviewed"
    else:
        done = ["edited"] if frame in project.edited_frames else []
        boxes = len(project.regions(frame))
        if boxes:
            done.append(f"{boxes} box{'es' * (boxes != 1)} accepted")
        state = ", ".join(done) or "not reviewed"
    where = f" on frame {frame}" if session.stack else ""
    found, current = _found_by(session), project.current_round
    if found is not None and current is not None and found != current.number:
        # As the spheres dock says it: rods or beads another round found than the one Detect uses now.
        return _counted(session.kind, table, f"{where} with {_round_name(found)} ({state}; {current.name} in use)")
    return _counted(session.kind, table, f"{where} ({state})")


def _found_by(session: KindSession) -> int | None:
    """The round whose rods or beads the current frame shows, as the project recorded it; None for a frame reviewed
    whole (what it shows is what was accepted) or one no detection was recorded for."""
    if session.frame_off_screen() is not None:
        return None
    frame, project = session.current_frame(), session.project
    return None if project.is_reviewed(frame) else project.detected_by.get(frame)


def _round_name(number: int) -> str:
    """A round's name, also a deleted round's (RoundInfo.name)."""
    return f"round-{number:03d}"


def _counted(kind: str, table: pd.DataFrame, said: str) -> str:
    """The status line's count of ``table``'s rods or beads, ``said`` after it, then how to edit them."""
    if table.empty:  # "0 beads in 0 chains ... (free beads are chains of one)" told of none what to do with some
        return (f"no rods{said}: draw a line to add one" if kind == "rods"
                else f"no beads{said}: add one with P")
    if kind == "rods":
        return (f"{len(table)} rods{said}: drag a tip to fix a rod, draw a line to add one, select and Delete to "
                "remove")
    chains = int(table.groupby("frame")["chain"].nunique().sum()) if len(table) else 0
    return f"{len(table)} beads in {chains} chains{said} (free beads are chains of one)"
