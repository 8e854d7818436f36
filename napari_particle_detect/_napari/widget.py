"""The dock widget: pick an image, then Detect, Review, Fine-tune and Export in one column.

It owns the :class:`DockState` the panels share, turns viewer events (layers added or removed,
frame changes, keys, the window closing) into calls on it and on the panels, and nothing else.
"""

from __future__ import annotations

import weakref
from pathlib import Path

from napari.layers import Image, Points
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import (
    QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget,
)

from ..errors import ParticleDetectError
from ..projects.locations import ProjectLocation, found_note, home_note, project_location, remember_chosen_folder
from ..projects.project import image_record, waiting_as_a_worker
from .annotation import METADATA_KEY, Annotation, image_path
from .dock_closing import STOP_WAIT_S, ClosingDock, put_away_words
from .docked_view import keep_layers_whole_as_docked
from .detect_panel import DetectPanel
from .export_panel import ExportPanel
from .finetune_panel import FineTunePanel
from .image_picks import last_worked_on, register_dock, remember_worked_on, show_picked
from .image_views import (
    START_HINT, add_view_layer, explain, kind_suffix, layer_frames, layer_kind, other_dock_note,
    remember_copied_files, shared_file_projects, show_view_choice,
)
from .labels import DockScroll, NameList, PathLabel, plain_tip
from .layers import guard_canvas_from_removed_layers, is_dock_output, quoted_names, viewer_closing
from .measure_panel import MeasurePanel
from .notify import report, reports_errors, say_problems, show_info
from .review_panel import ReviewPanel
from .state import DockChoices, DockState, viewer_choices
from .tracks_panel import TracksPanel

DOCK_TITLE = "Particle detection"
# A dragged point fires an event per mouse step; write it to disk once the drag pauses this long.
MOVE_SAVE_DELAY_MS = 150
# What an image whose project could not be opened still allows: the project repaired, or another one.
UNOPENED_WAY_OUT = "fix it and open the image again, or choose another folder with Folder…"


class ImageState(DockState):
    """The dock's shared state, which also knows why the image picked has no project: its project could not
    be opened (the panels said "open an image first" over an open image)."""

    def __init__(self, default_model: str | Path | None = None, choices: DockChoices | None = None) -> None:
        super().__init__(default_model, choices=choices)
        self.unopened: str | None = None  # why the picked image's project could not be opened

    def require_annotation(self) -> Annotation:
        if self.annotation is None and self.unopened is not None:
            raise ParticleDetectError(
                f"this image's project could not be opened ({self.unopened}): {UNOPENED_WAY_OUT}")
        return super().require_annotation()


class ParticleDetectWidget(ClosingDock, QWidget):
    """Detect particle centres, correct them, fine-tune the model on the corrections, export."""

    def __init__(self, napari_viewer, default_model: str | Path | None = None) -> None:
        super().__init__()
        # napari hands a plugin dock a PublicOnlyProxy of the viewer. Every layer reached through it is
        # a proxy too, so `event.value is self.points` never held (a deleted centres layer was not
        # noticed) and libraries touching our layers' private attributes made napari warn "Private
        # attribute access" in the viewer. The dock is one module of this package over public API:
        # it works on the viewer itself.
        self.viewer = napari_viewer = getattr(napari_viewer, "__wrapped__", napari_viewer)
        # Before any of its layers is removed: closing the dock removes them (software OpenGL crashed after).
        guard_canvas_from_removed_layers(napari_viewer)
        keep_layers_whole_as_docked(napari_viewer)  # napari keeps its zoom as the dock narrows the canvas
        self.state = ImageState(default_model, viewer_choices(napari_viewer))
        self._annotations: dict[int, Annotation] = {}
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(MOVE_SAVE_DELAY_MS)
        self._pending_save = None
        self._save_timer.timeout.connect(self._run_pending_save)
        self._init_closing()
        register_dock(self)
        self._chosen: Image | None = None  # the layer the panels were last set up for
        self._closed_pick: weakref.ref | None = None  # the image last chosen, where the dock moved on as it closed
        reopened = last_worked_on(napari_viewer, DOCK_TITLE, self.image_layers())
        self._reopen_on: Image | None = reopened[0] if reopened is not None else None  # picked first, then None
        # What the project line adds about a project folder (kept in the projects home, projects made for its image
        # found elsewhere): each part said once, when first found.
        self._project_notes: dict[Path, tuple[str, ...]] = {}
        self._project_tips: dict[Path, str] = {}  # the notes as notified, whole: the project line's tooltip
        # Folders chosen with Folder… that were gone when their image was opened (said once each).
        self._said_missing: set[Path] = set()
        self._unopened_folder: Path | None = None  # the picked image's project folder that could not be opened
        # The save failure last said for an image's annotation (id), until its edits are written again.
        self._said_unsaved: dict[int, str] = {}
        # The problems said of each opened project: its image picked again (or the dock's own first look at it)
        # repeated them, though nothing new was found.
        self._said_problems: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

        self.image_combo = NameList("The image or T/Z stack to work on")
        self.image_note = PathLabel()  # names the layer: a long file name breaks after its separators
        self.view_combo = NameList("How to read the image as grey frames")
        self.view_button = QPushButton("Use")
        self.view_button.setToolTip("Add the chosen greyscale image or stack as a new layer and work on it")
        self.project_label = PathLabel(START_HINT)
        self.project_label.setStyleSheet("color: gray")
        self.project_button = QPushButton("Folder…")
        self.project_button.setToolTip("Keep this image's corrections and models in another folder")
        self.detect = DetectPanel(self.state)
        self.review = ReviewPanel(self.state, napari_viewer)
        self.finetune = FineTunePanel(self.state)
        self.export = ExportPanel(self.state)
        self.measure = MeasurePanel(self.state)
        self.tracks = TracksPanel(self.state, napari_viewer)

        top = QHBoxLayout()
        top.addWidget(QLabel("Image"))
        top.addWidget(self.image_combo, 1)
        view_row = QHBoxLayout()
        view_row.setContentsMargins(0, 0, 0, 0)  # in line with the rows above and below, not inset within the column
        view_row.addWidget(self.view_combo, 1)
        view_row.addWidget(self.view_button)
        self._view_row = QWidget()
        self._view_row.setLayout(view_row)
        self._view_row.setVisible(False)  # shown for an image with views (show_view_choice): none yet
        project = QHBoxLayout()
        project.addWidget(self.project_label, 1)
        project.addWidget(self.project_button)
        column = QVBoxLayout()
        column.addLayout(top)
        column.addWidget(self.image_note)
        column.addWidget(self._view_row)
        column.addLayout(project)
        for panel in (self.detect, self.review, self.finetune, self.export, self.measure, self.tracks):
            column.addWidget(panel)
        column.addStretch(1)
        self._scroll = DockScroll(self, column)

        self.image_combo.currentIndexChanged.connect(lambda *_: self._on_image_chosen())
        self.image_combo.activated.connect(lambda *_: self.show_chosen())  # the user's pick, not ours
        self.view_button.clicked.connect(lambda *_: self.use_view())
        self.project_button.clicked.connect(lambda *_: self.choose_project_folder())
        self.viewer.layers.events.inserted.connect(self._refresh_images)
        self.viewer.layers.events.inserted.connect(self._disown_copy)
        self.viewer.layers.events.removed.connect(self._on_layer_removed)
        self.viewer.dims.events.current_step.connect(self._on_frame_changed)
        self.state.annotation_changed.connect(self._show_project)
        # After the review panel's own refresh (a lower priority): see _say_off_screen.
        for signal in (self.state.project_changed, self.state.frame_changed, self.state.threshold_changed):
            signal.connect(self._say_off_screen, priority=-1)
        bind_shortcuts(self.viewer, self)
        self._refresh_images()
        self._reopen_on = None
        self._show_project(self.state.annotation)

    # ---- the images offered ----------------------------------------------------------------------
    def image_layers(self) -> list[Image]:
        """Image layers the dock can work on or convert (not its own heatmaps, nor copies of them)."""
        return [layer for layer in self.viewer.layers
                if isinstance(layer, Image) and METADATA_KEY not in layer.metadata and not is_dock_output(layer)]

    @property
    def annotation(self) -> Annotation | None:
        return self.state.annotation

    def _refresh_images(self, event=None) -> None:
        remember_copied_files(self.viewer.layers)
        layers = self.image_layers()
        for layer in layers:  # a renamed image is offered under its new name (napari connects each once)
            layer.events.name.connect(self._refresh_images)
        chosen = self.selected_image() or self._reopen_on
        self.image_combo.blockSignals(True)
        self.image_combo.clear()
        for layer in layers:
            self.image_combo.addItem(layer.name + kind_suffix(layer), id(layer))
        if chosen in layers:
            self.image_combo.setCurrentIndex(layers.index(chosen))
        elif layers:
            ready = [i for i, layer in enumerate(layers) if layer_kind(layer) == "ready"]
            self.image_combo.setCurrentIndex(ready[0] if ready else 0)
        self.image_combo.blockSignals(False)
        if self.selected_image() is not self._chosen:
            self._on_image_chosen()
        else:
            self._show_image_note(self._chosen)  # renamed: its line named it as it was

    def selected_image(self) -> Image | None:
        key = self.image_combo.currentData()
        return next((layer for layer in self.image_layers() if id(layer) == key), None)

    def _on_image_chosen(self) -> None:
        previous, image = self._chosen, self.selected_image()
        if previous is not None and previous is not image and previous not in self.viewer.layers:
            # Moved on from an image being closed, as a layer of it went first (the Tracks panel takes its tracks): the
            # handling of its own removal, still to come, must know it was the one picked.
            self._closed_pick = weakref.ref(previous)
        self._chosen = image
        self._show_views(image)
        self.state.unopened = self._unopened_folder = None
        if image is None or layer_kind(image) != "ready":
            self.state.set_annotation(None)
            self._show_project(None)  # not the line of an image picked before whose project could not be opened
            return
        annotation = self._annotations.get(id(image))
        if annotation is None or annotation.image is not image:
            folder = self._project_folder(image)
            try:
                annotation = self._attach(image, folder)
            except ParticleDetectError as exc:
                self._cannot_open(exc, folder)
                return
            self._annotations[id(image)] = annotation
        annotation.bring_into_view()
        self.state.set_annotation(annotation)
        annotation.restore()
        self._catch_up(annotation)
        # napari makes a layer just opened the active one after telling us of it: take the keys back.
        QTimer.singleShot(0, annotation.activate_points)

    def _attach(self, image: Image, folder: str | Path | None) -> Annotation:
        return Annotation.attach(self.viewer, image, project=folder, schedule_save=self._schedule_save,
                                 say_refused=lambda line: self._say_refused(image, line))

    def _say_refused(self, image: Image, line: str) -> None:
        """An edit of ``image``'s centres not kept (a point placed past the stack's last frame): said on the status
        line when the dock shows that image, else in a notification (the status line is about another)."""
        if self.state.annotation is not None and self.state.annotation.image is image:
            self._say_on_status_line(line)
        else:
            show_info(line)

    def _project_folder(self, image: Image) -> Path | None:
        """An image file's project folder: beside the file, or in the projects home when that folder cannot be
        written (since when, and whether it still cannot be, said once and on the project line). Projects made
        for the image found elsewhere (its folder renamed or copied since, a newer one beside it) are named once
        and on the project line, not opened: one may be someone else's copy. A folder chosen for it with
        Folder… that is gone is said once too. None for an image without a file (Annotation keeps those in the
        projects home)."""
        path = image_path(image)
        if path is None:
            return None
        # Recorded as Annotation.attach opens its project, so projects elsewhere are known by their pixels too.
        location = project_location(path, image_record(str(path), **layer_frames(image)))
        elsewhere = list(location.found)
        if not (location.folder / "state.json").is_file():  # a new project starts: the work of one made before is near
            elsewhere += shared_file_projects(image)
        parts = []
        if location.moved:
            kept = home_note(path)
            parts.append((kept, f"'{image.name}': its project {location.folder} is {kept} ({location.beside.parent}); "
                          "Folder… chooses another place (remembered for this image)"))
        if elsewhere:
            found = f"{found_note(elsewhere)}: Folder… to use it"
            parts.append((found_briefly(elsewhere), f"'{image.name}': {found}"))
        said = self._project_notes.get(location.folder, ())
        for part, line in parts:
            if part not in said:
                show_info(line)
        self._project_notes[location.folder] = tuple(part for part, _ in parts)
        self._project_tips[location.folder] = "\n".join(line for _, line in parts)
        if location.missing_chosen is not None and location.missing_chosen not in self._said_missing:
            self._said_missing.add(location.missing_chosen)
            self._say_missing_chosen(image, location)
        return location.folder

    @staticmethod
    def _say_missing_chosen(image: Image, location: ProjectLocation) -> None:
        """Without a word, the work kept in a moved or renamed project folder looked lost, and new work went to a
        second project."""
        now = "a new project starts" if not (location.folder / "state.json").is_file() else "its project is"
        show_info(f"'{image.name}': the project folder chosen for it, {location.missing_chosen}, is not there any "
                  f"more (moved, renamed or unmounted), so {now} in {location.folder}; Folder… can point to the "
                  "folder where it is now")

    def _cannot_open(self, exc: ParticleDetectError, folder: Path | None) -> None:
        """The picked image's project could not be opened: said, and kept on the project line and in the
        panels' answers until another image (or folder) is worked on, instead of "open an image first"."""
        report(exc)
        self.state.unopened, self._unopened_folder = str(exc), folder
        self.state.set_annotation(None)
        self._show_project(None)  # also when no image had a project before (nothing changed, no event)

    def show_chosen(self) -> list[str]:
        """The user picked an image in the dock: show it and its centres, selected. The layers every dock made for
        other images are hidden wherever they lie (image_picks), as are other images this dock works on lying over
        it, and the status says so; they are shown again when their image is picked. The layer order stays the
        user's. Returns the names hidden."""
        image = self.selected_image()
        if image is None or image not in self.viewer.layers:
            return []
        layers = self.viewer.layers
        annotation = self._annotations.get(id(image))
        hidden = show_picked(self.viewer, image, self.image_layers())
        if annotation is not None and annotation.points is not None and annotation.points in layers:
            annotation.points.visible = True
        if annotation is not None:
            annotation.bring_into_view()  # picked again with the slider past its last frame: its frame is drawn
            self._catch_up(annotation)
            annotation.activate_points()
        if annotation is None or annotation.points is None or annotation.points not in layers:
            layers.selection.active = image
        return hidden

    @staticmethod
    def _catch_up(annotation: Annotation) -> None:
        """An image picked shows what its project holds now: a second layer of the same file (or another window)
        saved into it since this layer last looked, and its frames showed none of that until the next edit."""
        try:
            annotation.refresh_from_disk()
        except (ParticleDetectError, OSError) as exc:
            report(exc)

    def _say_off_screen(self, *_) -> None:
        """With the slider past the chosen stack's last frame, napari draws none of it: the review line says so,
        instead of describing the stack's last frame as if it were on screen (the frame actions refuse alike)."""
        annotation = self.state.annotation
        unseen = annotation.frame_off_screen() if annotation is not None else None
        if unseen is not None:
            self._say_on_status_line(unseen)

    def _say_on_status_line(self, line: str) -> None:
        """Said where the user looks for what the dock made of the frame, until the next change of it."""
        self.review.status.setText(line[0].upper() + line[1:])

    def outputs_by_image(self) -> list[tuple]:
        """Each centres, heatmap, region and tracks layer of the dock's in the viewer, with the image it was made
        for (one image's tracks left shown over another read as that one's)."""
        return [(layer, annotation.image) for annotation in self._annotations.values()
                for layer in self._annotation_layers(annotation)] + self.tracks.outputs_by_image()

    def _annotation_layers(self, annotation: Annotation | None) -> list:
        """The centres, heatmap and region layers of an image's annotation that are in the viewer."""
        if annotation is None:
            return []
        layers = (annotation.points, annotation.heatmap_layer, annotation.regions.draft, annotation.regions.accepted)
        return [layer for layer in layers if layer is not None and layer in self.viewer.layers]

    def _show_views(self, image: Image | None) -> None:
        """For a colour, 4D or several-channel layer: why it is not used as it is, and what can be used instead.
        A file's channels are chosen by the user, none picked beforehand (napari's slider picked a channel of no
        particles unseen)."""
        show_view_choice(self.viewer, image, self.image_note, self.view_combo, self._view_row)
        self._show_image_note(image)

    def _show_image_note(self, image: Image | None) -> None:
        """Under the image list: why ``image`` is not used as it is and what it offers instead, else the dock made
        for it where it is another one (rods, chains, a volume: they were taken without a word, and their sphere
        centres read as what they show). Said again under a new name, the view list left as the user set it."""
        note = ""
        if image is not None:
            note = explain(image) or other_dock_note(image)
        self.image_note.setText(note)
        self.image_note.setVisible(bool(note))

    @reports_errors
    def use_view(self) -> Image | None:
        """Add the chosen greyscale view of a colour, 4D or several-channel layer as a new layer, just over that
        layer, and work on it."""
        image = self.selected_image()
        if image is None:
            raise ParticleDetectError("choose a colour, 4D or several-channel image layer first")
        # A second click gives the view made before, with its project, not a copy of it.
        layer, made_before = add_view_layer(self.viewer, image, self.view_combo.currentData())
        # By the layer, not its place: the list follows the layer order of its last refresh, before the move.
        self.image_combo.setCurrentIndex(self.image_combo.findData(id(layer)))
        self.show_chosen()  # images opened since lie over it
        show_info(f"working on '{layer.name}', made from '{image.name}'{' before' if made_before else ''}")
        return layer

    def _show_project(self, annotation: Annotation | None) -> None:
        if annotation is not None:
            folder = annotation.project.folder
            note = "; ".join(self._project_notes.get(folder, ()))
            self.project_label.setText(f"Project: {folder}" + (f" ({note})" if note else ""))
            if note:  # the notes whole, where the line names several projects found by their count alone
                self.project_label.setToolTip(plain_tip(f"Project: {folder}\n{self._project_tips.get(folder, '')}"))
            say_problems(annotation.project, self._said_problems, annotation.project)
        elif self.selected_image() is None:
            self.project_label.setText(START_HINT)
        elif self.state.unopened is not None:
            folder = f" {self._unopened_folder}" if self._unopened_folder is not None else ""
            self.project_label.setText(f"Project:{folder} cannot be opened (see the message): {UNOPENED_WAY_OUT}")
        else:
            self.project_label.setText("")

    @reports_errors
    def choose_project_folder(self, folder: str | Path | None = None) -> None:
        image = self.selected_image()
        if image is None or layer_kind(image) != "ready":
            raise ParticleDetectError("open an image first")
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, "Project folder for this image")
            if not folder:
                return
        # Opened first: a folder whose project cannot be opened leaves the image on the project it had.
        annotation = self._attach(image, folder)
        if self.state.annotation is not None:
            self.state.annotation.detach()  # its layers show the old project's centres
        self._annotations[id(image)] = annotation
        self.state.unopened = self._unopened_folder = None
        self.state.set_annotation(annotation)
        annotation.restore()
        path = image_path(image)
        if path is not None and not remember_chosen_folder(path, annotation.project.folder):
            show_info(f"'{image.name}': its project is now {annotation.project.folder}, but the projects home "
                      f"cannot be written to remember it: Folder… is needed again next time")

    def _disown_copy(self, event) -> None:
        """A centres layer copied with napari's Duplicate Layer is a scratch copy: the project follows the dock's
        own centres layer only, so the copy's edits are never saved. It stops claiming the project (its metadata
        said it held it), and the user hears so once, before editing it in vain."""
        copy = event.value
        original = copy.source.parent() if isinstance(copy, Points) and copy.source.parent is not None else None
        if original is None or METADATA_KEY not in copy.metadata:
            return
        del copy.metadata[METADATA_KEY]
        show_info(f"'{copy.name}' is a scratch copy of '{original.name}': its edits are not saved in the project "
                  f"(edit '{original.name}' for that; File > Save Selected Layers saves the copy as a CSV)")

    def _on_layer_removed(self, event) -> None:
        # napari quitting removes the layers one by one: no image of the user's was closed, so only a loss is
        # said (each image was said closed, 'nothing comes back' for one whose edits were being saved), and the
        # dock moves on to no image in a window about to close.
        closing = viewer_closing(self.viewer)
        # Before its centres layer goes too (that refreshes the images); its tracks may have gone already.
        closed_pick = self._closed_pick() if self._closed_pick is not None else None
        was_chosen = event.value is self._chosen or event.value is closed_pick
        annotation = self._annotations.pop(id(event.value), None)
        if annotation is not None and annotation.image is event.value:
            stopped = self.detect.abandon(annotation)
            _, failed = self._let_go(annotation)
            if failed or not closing:
                show_info(f"'{event.value.name}' was closed{': detection stopped' if stopped else ''}; "
                          + closing_words(annotation, failed))
        if closing:
            return
        self._refresh_images()
        if was_chosen and self.selected_image() is not None:
            # The image the dock moves on to is shown as a pick of it shows it: one the closed image's pick hid
            # stayed hidden, and the dock spoke of its centres over an empty canvas.
            self.show_chosen()

    # ---- keeping the disk up to date ---------------------------------------------------------------
    def _on_frame_changed(self, event=None) -> None:
        if self.state.annotation is not None:
            self.state.frame_changed.emit(self.state.annotation.current_frame())

    def _schedule_save(self, save) -> None:
        self._pending_save = save
        self._save_timer.start()

    def _run_pending_save(self) -> str | None:
        """Write the edit waiting for its drag to settle; what went wrong, said (None when nothing did)."""
        save, self._pending_save = self._pending_save, None
        if save is not None:
            try:
                save()
            except ParticleDetectError as exc:
                report(exc)
                return str(exc)
        return None

    def _save_all(self, give_up: bool) -> None:
        """Write every image's edits not yet on disk; what cannot be written is said, image by image, and
        never raised (the dock hiding or closing, a window going). ``give_up``: see :meth:`_save_or_say`."""
        self._save_timer.stop()
        said = {self._run_pending_save()}
        for annotation in list(self._annotations.values()):
            self._save_or_say(annotation, give_up, said)

    def _save_or_say(self, annotation: Annotation, give_up: bool = True, said: set | frozenset = frozenset()) -> bool:
        """Write the image's edits not yet on disk; whether they could not be. A failure is said once: not
        when it is in ``said`` (just given) nor when this image's last try said it already (the dock hidden,
        then closed). With ``give_up`` (the image, the dock or the window going) its edits are not tried
        again, so the flushes that follow (detach, close, switching images) neither raise nor say it again."""
        try:
            annotation.flush()
            self._said_unsaved.pop(id(annotation), None)
            return False
        except ParticleDetectError as exc:
            if str(exc) not in said and self._said_unsaved.get(id(annotation)) != str(exc):
                report(exc)
            self._said_unsaved[id(annotation)] = str(exc)
            if give_up:
                annotation.saving = False  # what is not saved now never will be
            return True

    def _let_go(self, annotation: Annotation) -> tuple[list[str], bool]:
        """Save what can be of an image the dock stops working on and take its layers away: the names
        removed, and whether its last edits could not be saved (said once)."""
        with waiting_as_a_worker():  # its edits' last chance: worth a frozen moment while another program finishes
            failed = self._save_or_say(annotation, give_up=True) or annotation.edits_lost
        self._said_unsaved.pop(id(annotation), None)
        return annotation.detach(), failed

    def busy(self) -> bool:
        return self.state.is_busy()

    # ---- closing -----------------------------------------------------------------------------------
    def hideEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        # Closing the viewer hides the dock first: the last moments of a drag reach the disk too.
        # The dock only hidden (tabbed away) tries again later; a closing one has already given up.
        self._save_all(give_up=self._shut)
        super().hideEvent(event)

    def shut_down(self, put_layers_away: bool = False) -> None:
        """The window or the dock is closing: stop a running round and detection (and wait for them, so
        nothing is left half-built in the project and no thread outlives the viewer), and save every
        edit. ``put_layers_away``: the dock alone closes, so its centres, heatmap and region layers
        leave the viewer too (saved in their projects: a reopened dock brings them back)."""
        if self._shut:
            return
        self._shut = True
        self.viewer.layers.events.removed.disconnect(self._on_layer_removed)  # layers go with the window
        self.viewer.layers.events.inserted.disconnect(self._refresh_images)
        self.viewer.layers.events.inserted.disconnect(self._disown_copy)
        for layer in self.image_layers():
            layer.events.name.disconnect(self._refresh_images)
        self.viewer.dims.events.current_step.disconnect(self._on_frame_changed)
        self.finetune.cancel(wait_s=STOP_WAIT_S)
        self.detect.stop(wait_s=STOP_WAIT_S)
        self._save_all(give_up=True)
        if put_layers_away:
            if self.state.annotation is not None:
                remember_worked_on(self.viewer, DOCK_TITLE, self.state.annotation.image)
            heatmaps = [layer.name for annotation in self._annotations.values()
                        for layer in self._annotation_layers(annotation) if layer is annotation.heatmap_layer]
            removed_by = [self._let_go(annotation)[0] for annotation in list(self._annotations.values())]
            removed = [name for names in removed_by for name in names if name not in heatmaps]
            self._annotations.clear()
            self.state.set_annotation(None)
            if removed:
                tracks = [layer.name for layer, _ in self.tracks.outputs_by_image()]
                show_info(put_away_words(DOCK_TITLE, removed, "centres and reviews",
                                         sum(map(bool, removed_by)), tracks) + heatmaps_gone_words(heatmaps))


def heatmaps_gone_words(heatmaps: list[str]) -> str:
    """What a dock closed with its X adds of the heatmaps it closed: no project keeps them, so they are not among
    the layers said to come back (a user reviewing by the heatmap looked for it in vain)."""
    if not heatmaps:
        return ""
    which = f"{quoted_names(heatmaps)} {'is' if len(heatmaps) == 1 else 'are'}"
    return f"; {which} not kept (Detect with 'show heatmap' ticked draws a frame's again)"


def closing_words(annotation: Annotation, failed: bool = False) -> str:
    """What a closed image leaves in its project, said as it is: nothing is claimed kept that was not saved.
    ``failed``: its last edits could not be written."""
    project = annotation.project
    kept = project.holds_work()
    if kept and failed:
        return (f"its last edits could not be saved; what was saved before is kept in {project.folder} and comes "
                "back when it is opened again")
    if kept:
        return "its centres and reviews are kept in its project and come back when it is opened again"
    if failed:
        return "its centres could not be saved, so nothing of it is kept"
    return "no centres nor reviews of it had been saved, so nothing comes back when it is opened again"


def bind_shortcuts(viewer, widget: ParticleDetectWidget) -> None:
    """Annotator keys on the viewer; they act on whichever dock widget bound them last and is alive."""
    ref = weakref.ref(widget)

    def call(action):
        def handler(viewer_):
            target = ref()
            if target is not None and not target.closed:
                getattr(target.review, action)()
        handler.__name__ = action
        return handler

    keys = {
        "Enter": "accept_and_next", "Shift-Enter": "accept_region", ".": "next_frame", ",": "previous_frame",
        "H": "toggle_heatmap", "N": "review_next", "R": "draw_box", "U": "unaccept",
        "Control-Z": "undo", "Control-Shift-Z": "redo",
    }
    for key, action in keys.items():
        viewer.bind_key(key, call(action), overwrite=True)


def found_briefly(found: list[Path]) -> str:
    """The project line's note of projects made for the image found elsewhere: one named with its folder, several
    counted (each with its folder and date in the notification and the line's tooltip), as four paths filled seven
    lines of the dock."""
    if len(found) == 1:
        return f"{found_note(found)}: Folder… to use it"
    return f"found {len(found)} projects made for this image (hover for where): Folder… to use one"
