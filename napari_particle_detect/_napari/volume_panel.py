"""Volume detection dock: 3D centres of a ZYX or TZYX image layer as a 3D (or 4D) Points layer, and
their review: edits saved at once, volumes and 3D boxes accepted (Undo), review-next, fine-tuning
rounds of the 3D model and export (volume_review_panel, volume_round_panel).

A thin skin over :mod:`volume_detection` and :mod:`volume_review`: the axes come from the file's
metadata where it names them (a layer holding a file's channels, ZCYX, is refused with how to split
it), else from the layer (4D: TZYX; 3D: asked, since a 3D layer may be a volume or a stack of frames),
the voxel size from the layer's scale in its units, and the points are drawn on every slice their
sphere crosses and in the 3D view.
The review lives in the image's project (beside its file, or under the projects home), so closing
the dock or napari loses nothing: selecting the image again brings the points, boxes and rounds back.
As the Particle detection dock's, the dock's layers leave with their image, or with the dock (its X),
and come back once when either is opened again.
"""

from __future__ import annotations

import math
import threading
import weakref
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from napari.layers import Image, Points
from napari.layers.base import ActionType
from napari.qt.threading import create_worker
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QPushButton, QWidget

from ..errors import ParticleDetectError
from ..files.axes import MICROMETRE, Axes, ConstantVolumeError, file_axes
from ..files.calibration import SQUARE_TOLERANCE
from ..files.io import ChannelAxis
from ..projects.project import image_record, project_folder_for_data
from ..detection.volume_detection import (
    VolumeOptions, blank_volume, diameter_by_voxel_size, load_volume_model, notes_gathered, volume_name,
)
from ..projects.volume_review import VolumeReview, check_recorded_volume_shape, detect_for_review, sizing_doubt
from ..learning.volume_rounds import (
    VolumeSettings, ensure_volume_round, open_volume_project, read_settings, remember_settings, volume_project_folder,
)
from .annotation import image_path, placement, project_name
from .export_panel import safe_stem
from .image_picks import last_worked_on, register_dock, remember_worked_on, show_picked
from .image_views import file_read_from, labelled_3d_axes, layer_file_layout, layer_pixels, remember_copied_files
from .exact_spin_box import ExactSpinBox
from .labels import DockScroll, NameList, PathLabel
from .layers import (
    VOLUME_POINTS_KEY, PastedPoints, guard_canvas_from_removed_layers, is_dock_output, place_over_image,
    points_layer_kwargs, show_spheres_slab, viewer_closing,
)
from .detect_panel import pixels_not_square
from .notify import found_elsewhere_note, report, say_problems, show_info, show_warnings, warn_once, warnings_logged
from .volume_review_panel import VolumeReviewPanel
from .volume_round_panel import VolumeRoundPanel
from .dock_closing import STOP_WAIT_S, ClosingDock, put_away_words
from .docked_view import keep_layers_whole_as_docked
from .round_progress import noun

AXES_FOR_3D = ("ZYX (one volume)", "TYX (frames: use the Particle detection dock)")
AXES_QUESTION = "3D layer: a volume, or frames? choose"  # nothing in the layer says which
SAVED_AS_VOLUME = "3D layer: ZYX, as its project's saved 3D centres are"
# A voxel size is typed a keystroke or an arrow step at a time: the project's settings file is written
# once the typing pauses this long (or at once when the box is left, or before anything reads it).
VOXEL_SAVE_DELAY_MS = 500
# The dock's title, as image_picks remembers the image it closed on: reopened, it picks that image again (a file's
# second channel's centres came back only once picked by hand).
DOCK_TITLE = "Volume detection (3D)"


def volume_points_kwargs(table: pd.DataFrame, name: str, ndim: int, size: float,
                         **placed) -> tuple[np.ndarray, dict]:
    """Points data ((z, y, x) or (frame, z, y, x)) and layer keywords for a table of 3D centres, the network's
    (source 'model') unless its ``source`` column says whose; ``placed``: the scale, translate and units that put
    them where their image is (annotation.placement)."""
    columns = ["z", "y", "x"] if ndim == 3 else ["frame", "z", "y", "x"]
    # Writable, of its own (layers.points_data): napari writes into it.
    data = table[columns].to_numpy(float, copy=True) if len(table) else np.zeros((0, ndim))
    # A table's own sources stand: read back, an export's added and accepted centres all came back as 'model'.
    sourced = table if "source" in table.columns else table.assign(source="model")
    # Each drawn on the slices its sphere crosses, shrinking away from its centre: an export read back drew a full ring
    # on the slices two above and below a centre, as if a particle were centred there.
    kwargs = points_layer_kwargs(sourced, name, size, ndim=ndim, metadata={VOLUME_POINTS_KEY: True},
                                 projection_mode="rescale_spherical", **placed)
    return data, kwargs


def name_volume_axes(viewer, ndim: int) -> None:
    """Label the sliders of a layer taken as a volume (ndim 3: z, y, x; 4: t too) where napari numbered them: a file
    opened with channel_axis showed '-3' beside its z slider. Labels the user or a reader gave stay."""
    labels = list(viewer.dims.axis_labels)
    named = "tzyx"[-ndim:]
    start = len(labels) - ndim
    if start < 0 or any(letter in labels for letter in named if letter not in labels[start:]):
        return  # another axis already bears one of these names
    renamed = [letter if label.lstrip("-").isdigit() else label for label, letter in zip(labels[start:], named)]
    if renamed != labels[start:] and len(set(labels[:start] + renamed)) == len(labels):
        viewer.dims.axis_labels = tuple(labels[:start] + renamed)


def centres_name(image: Image) -> str:
    return f"{image.name} 3D centres"


def detect_volumes(volumes: np.ndarray, model_path: str | Path, options: VolumeOptions, name: str,
                   stop: threading.Event, ended: threading.Event) -> tuple | None:
    """Worker body: (shown centres, hidden near misses, sizing, volumes detected, notes on the blank
    volumes skipped, the lines saying the voxels read as missing, the slices refilled and the spikes left out, if
    any) of every volume, or None once ``stop`` is set; ``ended`` is set when it is done."""
    try:
        model = load_volume_model(model_path)
        parts, hidden, detected, notes, sizing = [], [], [], [], None
        # A mosaic's gaps, dropped slices and a hot line said once for the press, as the command line says them once
        # a file: not once a volume.
        with notes_gathered() as gathered:
            for t in range(volumes.shape[0]):
                if stop.is_set():
                    return None
                try:
                    # One volume is named as the image alone, as detect_volumes names it: "vol volume 0" it had not.
                    shown, near, sizing = detect_for_review(np.asarray(volumes[t]), model, options, t,
                                                            volume_name(name, volumes, t), sizing)
                except ConstantVolumeError as exc:
                    notes.append(blank_volume(volumes, t, exc))
                    continue
                parts.append(shown)
                hidden.append(near)
                detected.append(t)
        if sizing is None:
            raise ParticleDetectError(f"{name}: every volume is constant; nothing to detect")
        said: list[str] = []
        with warnings_logged(said):
            gathered.say(name)
        return (pd.concat(parts, ignore_index=True), pd.concat(hidden, ignore_index=True), sizing, detected, notes,
                said)
    finally:
        ended.set()


def layer_voxel_size(layer: Image) -> tuple[tuple[float, float, float], str] | None:
    """A layer's voxel size (z, y, x) and its unit: its scale when set, in micrometres where its units are
    lengths, else in its units as napari names them ("pixel", napari's default: the scale gives the z/xy
    aspect only, as a file's spacing in "pixel" does); else what the file it was read from says
    (files.axes, as the CLI reads it: napari opens an ImageJ hyperstack at scale 1, 1, 1); None when
    neither tells."""
    scale = tuple(float(v) for v in layer.scale[-3:])
    units = tuple(getattr(layer, "units", ()) or ())[-3:]
    in_um = scale_in_micrometres(scale, units)
    # A scale of 1 in lengths was set (napari's readers leave 1 in "pixel"); 1 in "pixel" says nothing.
    if in_um is not None:
        return in_um, MICROMETRE
    if not np.allclose(scale, 1.0):
        return scale, "/".join(dict.fromkeys(str(u) for u in units)) or "no unit"
    axes = layer_file_axes(layer)
    if axes is None or axes.voxel_size is None:
        return None
    return axes.voxel_size, axes.voxel_unit or "no unit"


def same_voxel_size(shown: tuple[float, ...] | None, saved: tuple[float, ...] | None) -> bool:
    """Whether the dock's voxel size boxes (three decimals) show ``saved``; both None: neither known."""
    if shown is None or saved is None:
        return shown is None and saved is None
    return bool(np.allclose(shown, saved, rtol=1e-3, atol=1e-3))


def not_square_read_as_square(layer: Image, voxel_size: tuple[float, float, float] | None) -> str | None:
    """Why ``layer``'s pixels are not square in y and x (as the spheres dock says it), where the voxel size Detect
    uses reads them as square (none given, or y and x typed alike); None otherwise: 3D detection sizes y and x
    apart by the voxel size, so a warning then would be false."""
    if voxel_size is not None and not math.isclose(voxel_size[1], voxel_size[2], rel_tol=SQUARE_TOLERANCE):
        return None
    words = pixels_not_square(layer)
    return None if words is None else f"{words}; or give the voxel size (z, y, x) in the dock: 3D detection uses it"


def scale_in_micrometres(scale: tuple[float, ...], units: tuple) -> tuple[float, ...] | None:
    """``scale`` in micrometres where each of ``units`` (napari's, pint units) is a length; else None."""
    if len(units) != len(scale):
        return None
    try:
        return tuple(float((value * unit).to("micrometer").magnitude) for value, unit in zip(scale, units))
    except Exception:  # noqa: BLE001 - pint's DimensionalityError ('pixel' is no length), or no pint unit
        return None


def layer_file_axes(layer: Image) -> Axes | None:
    """What the file ``layer`` was read from says of its axes and voxel size (files.axes, as the CLI reads
    it); None for a layer of no file, or of one napari read and we cannot (no error here for that)."""
    path = file_read_from(layer)  # not image_path: a channel opened as a layer of its own names its project apart
    if path is None:
        return None
    try:
        return file_axes(path)
    except ParticleDetectError:
        return None


# What names an unsaved image's volume project apart from its Particle detection dock's project (same pixels).
VOLUMES_SUFFIX = ".volumes"
# project_folder_for_data keeps this many characters of a name: past them, the suffix was cut off, and the volume
# project of a long-named image (napari names a layer after its file) was the spheres project, refused as one.
FOLDER_NAME_CHARACTERS = 100


def project_folder_by_name(layer: Image) -> Path:
    """The volume project of an image without a file, in the projects home under the name the layer had when its
    project was first opened (cut to leave room for VOLUMES_SUFFIX only where, cut whole, it named the spheres
    project) and its pixels' fingerprint."""
    name, pixels = project_name(layer), np.asarray(layer_pixels(layer))
    whole = project_folder_for_data(f"{name}{VOLUMES_SUFFIX}", pixels)
    if whole != project_folder_for_data(name, pixels):  # the folder it always was, where work may be
        return whole
    return project_folder_for_data(f"{name[:FOLDER_NAME_CHARACTERS - len(VOLUMES_SUFFIX)]}{VOLUMES_SUFFIX}", pixels)


def accepted_volumes(project, frames) -> list[int]:
    """The volumes among ``frames`` accepted as a whole: Detect keeps their centres as accepted."""
    return [int(frame) for frame in frames if project.is_reviewed(int(frame))]


def accepted_words(accepted: list[int]) -> str:
    """What a Detect says of the accepted volumes it left as they were."""
    one = len(accepted) == 1
    return (f"{noun(len(accepted), 'volume')} {', '.join(map(str, accepted))} {'is' if one else 'are'} accepted: kept "
            f"as you accepted {'it' if one else 'them'}, not detected again (Undo the acceptance to detect "
            f"{'it' if one else 'them'} again)")


def nothing_to_detect(name: str, volumes: int) -> str:
    """What Detect says of an image whose every volume is accepted."""
    every = f"'{name}' is" if volumes == 1 else f"all {volumes} volumes of '{name}' are"
    return (f"{every} accepted: nothing to detect (Undo the acceptance to detect "
            f"{'it' if volumes == 1 else 'a volume'} again)")


def channels_refusal(layer: Image, channels: ChannelAxis) -> str:
    """Why ``layer`` is not detected in (one line), and how to make volumes of it in napari."""
    axis = channels.index
    split = ("napari's 'Split Stack' on the layer, or open it with channel_axis=0" if axis == 0 else
             f"open it with channel_axis={axis} (viewer.open(path, channel_axis={axis}) in napari's console; "
             f"'Split Stack' splits the first axis, {channels.axes[0]} here)")
    return (f"{layer.name} holds {channels.count} channels ({channels.axes}), not time points: split them first: "
            f"{split}")


class VolumeDetectWidget(ClosingDock, QWidget):
    def __init__(self, napari_viewer) -> None:
        super().__init__()
        # napari hands a plugin dock a PublicOnlyProxy of the viewer, and every layer reached through it
        # is a proxy too: `layer is self._shown_layer` never held (any layer added or removed reset the
        # axes and the voxel size) and the dock could not select its own points. As the Particle
        # detection dock does (widget.py), work on the viewer itself.
        self.viewer = getattr(napari_viewer, "__wrapped__", napari_viewer)
        guard_canvas_from_removed_layers(self.viewer)  # as the spheres dock: its closing removes its layers
        keep_layers_whole_as_docked(self.viewer)  # napari keeps its zoom as the dock narrows the canvas
        self.worker = None
        self._stop, self._ended = threading.Event(), threading.Event()
        self._ended.set()
        # Each image layer's non-square pixels warning last said: once per image, as the spheres dock says it.
        self._not_square_said: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.review: VolumeReview | None = None  # the selected volume image's project, once it is a volume
        # Why the selected volume's project was not opened (too few slices, another depth than its project's):
        # Detect says it again, not "select a ZYX image" over the volume selected.
        self._refused: str | None = None
        self._said_found: set[str] = set()  # the projects found elsewhere named (notify.found_elsewhere_note)
        self._said_problems: dict = {}  # each project folder's problems last said (notify.say_problems)
        self.points: Points | None = None
        self._pasted: PastedPoints | None = None  # hears napari's paste into the centres layer
        # The image name the centres layer was named after: it follows the image's renames, not a user's own.
        self._points_named_after: str | None = None
        self._quiet = False  # True while the dock itself rewrites the points (not a user's edit)
        self._putting_away = False  # True while the dock removes its own layers
        self._removing: set[int] = set()  # the volumes of the points being deleted
        self._shown_layer: Image | None = None
        self._channels: ChannelAxis | None = None  # the shown layer's, when it holds a file's channels
        self._one_channel = False  # the shown layer is one of them (opened with channel_axis)
        self._voxel_unit = MICROMETRE
        self._setting_voxel = False
        self._typed_voxel: tuple[VolumeReview, tuple[float, float, float]] | None = None  # not yet saved
        self._voxel_save_timer = QTimer(self)
        self._voxel_save_timer.setSingleShot(True)
        self._voxel_save_timer.setInterval(VOXEL_SAVE_DELAY_MS)
        self._voxel_save_timer.timeout.connect(self._voxel_edit_done)
        self._init_closing()
        register_dock(self)
        self.layer_combo = NameList("The ZYX or TZYX image to detect 3D centres in")
        self.axes_combo = QComboBox()
        # Path labels, as the lines under the spheres dock's list: they name the layer and its project's folder, and a
        # long name (a microscopy export's file) wrapped only at spaces widened the dock past the window.
        self.axes_note = PathLabel("")  # a layer of channels is refused in a sentence
        self.voxel = [QDoubleSpinBox() for _ in range(3)]
        for spin in self.voxel:
            spin.setRange(0.0, 1e4)
            spin.setDecimals(3)
            spin.setSpecialValueText("unknown")
            spin.setSuffix(f" {MICROMETRE}")
            spin.setToolTip("Voxel size: from the layer's scale (in its units), else the file's metadata; typed "
                            "values are micrometres. Sizes z from xy; in µm it adds z_um,y_um,x_um to the export (a "
                            "scale or a file's spacing in 'pixel' units does not)")
            spin.valueChanged.connect(self._voxel_typed)
            spin.editingFinished.connect(self._voxel_edit_done)
        self.diameter = ExactSpinBox()  # a review's estimate, shown rounded, detects again exactly
        self._restored_diameter: tuple[float, ...] | None = None  # (z, y, x) of the review, while the box shows it
        self._restored_voxel: tuple[float, float, float] | None = None  # the voxel size shown as it was put back
        self.diameter.setRange(0.0, 500.0)
        self.diameter.setSpecialValueText("auto")
        self.diameter.setSuffix(" px (xy)")
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 0.99)
        self.threshold.setSingleStep(0.05)
        self.threshold.setSpecialValueText("model's")
        self.button = QPushButton("Detect 3D centres")
        self.status = PathLabel("")
        form = QFormLayout()
        form.addRow("Image", self.layer_combo)
        form.addRow("Axes", self.axes_combo)
        form.addRow("", self.axes_note)
        for axis, spin in zip("ZYX", self.voxel):
            form.addRow(f"Voxel {axis}", spin)
        form.addRow("Diameter", self.diameter)
        form.addRow("Threshold", self.threshold)
        form.addRow(self.button)
        form.addRow(self.status)
        self.review_panel = VolumeReviewPanel(self)
        self.round_panel = VolumeRoundPanel(self)
        form.addRow(self.review_panel)
        form.addRow(self.round_panel)
        # Scrolled, as the Particle detection dock is: in a 1024x700 window the review and round controls below
        # Detect were cut off, out of reach. As wide as its rows (no least width of its own, as before).
        self._scroll = DockScroll(self, form, least_width=0)
        self.layer_combo.currentTextChanged.connect(self._layer_changed)
        # The user's pick, not ours: every dock's layers of other images are hidden, as the spheres dock's pick does, and
        # so are the volumes opened after it: one lying over it hid the picked volume and the centres detected in it.
        self.layer_combo.activated.connect(lambda *_: show_picked(self.viewer, self.layer(), self._images()))
        self.axes_combo.currentTextChanged.connect(lambda *_: self._open_review())
        self.axes_combo.activated.connect(self._axes_chosen)
        self.button.clicked.connect(lambda *_: self.detect())
        self.viewer.dims.events.current_step.connect(self._on_step)
        self.viewer.dims.events.ndisplay.connect(self._on_ndisplay)
        self.viewer.dims.events.range.connect(self._align_slices)
        self.viewer.layers.events.inserted.connect(self._refresh)
        self.viewer.layers.events.removed.connect(self._on_layer_removed)
        self._refresh()

    def _on_step(self, event=None) -> None:
        self.review_panel.update_status()

    def _on_ndisplay(self, event=None) -> None:
        self.review_panel.show_accepted()

    def _align_slices(self, event=None) -> None:
        """Keep the z slider's steps on the image's slices. Centres a little outside the volume (z -0.5)
        start napari's range there, and its slider puts every position at start + k steps: half a slice
        off every slice, the image (rounding half to even) shows every other slice twice and the others
        never, and a box drawn on the slice gone to lies on one not shown. The range starts on the image's
        first slice instead (a whole number of slices from it), so the slider's number is the slice's too:
        started a step earlier, it read 17 on slice 16. Centres before slice 0 are drawn on it."""
        layer = self.layer()
        dims = self.viewer.dims
        axis = dims.ndim - 3
        if layer is None or axis < 0 or dims.ndim < layer.ndim:
            return
        start, stop, step = dims.range[axis]
        origin = float(layer.translate[-3])  # the world z of the image's slice 0
        offset = (start - origin) / step if step else 0.0
        if abs(offset - round(offset)) < 1e-6:
            return
        ranges = list(dims.range)
        ranges[axis] = (origin + np.ceil(offset) * step, stop, step)
        dims.range = tuple(ranges)  # on the grid now: the event this sends changes nothing more

    def _images(self) -> list[Image]:
        return [layer for layer in self.viewer.layers if isinstance(layer, Image) and layer.ndim in (3, 4)
                and not layer.rgb and not is_dock_output(layer)]

    def _refresh(self, *_) -> None:
        remember_copied_files(self.viewer.layers)
        if self._putting_away:
            return  # the dock's own layers leaving: the image chosen stays
        images = self._images()
        for layer in images:  # a renamed image is offered under its new name (napari connects each once)
            layer.events.name.connect(self._refresh)
        # The image shown stays chosen by identity: renamed, its old name is no longer in the list.
        shown = self._shown_layer
        current = shown.name if shown is not None and shown in images else self.layer_combo.currentText()
        if not current and self._shown_layer is None:
            reopened = last_worked_on(self.viewer, DOCK_TITLE, images)
            current = reopened[0].name if reopened is not None else ""
        if shown is not None and shown in images and self.points is not None and self.points in self.viewer.layers \
                and shown.name != self._points_named_after:
            self.points.name = centres_name(shown)  # a renamed image's centres follow its name
            self._points_named_after = shown.name
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        self.layer_combo.addItems([layer.name for layer in images])
        if current:
            self.layer_combo.setCurrentText(current)
        self.layer_combo.blockSignals(False)
        self._layer_changed(self.layer_combo.currentText())

    def layer(self) -> Image | None:
        name = self.layer_combo.currentText()
        return self.viewer.layers[name] if name in self.viewer.layers else None

    def outputs_by_image(self) -> list[tuple]:
        """The 3D centres and boxes in the viewer, with the image they were made for (the one shown)."""
        if self._shown_layer is None:
            return []
        made = [self.points, *self.review_panel.layers()]
        return [(layer, self._shown_layer) for layer in made if layer is not None and layer in self.viewer.layers]

    def _layer_changed(self, _name: str) -> None:
        layer = self.layer()
        self._show_detect_ready()
        if layer is not None and layer is self._shown_layer:
            return  # another layer came or went (the points, the boxes): the choices made stay
        self._shown_layer = layer
        self._clear_status()
        # Sizes are the image's: another image's diameter left in the box was used as if given for this one
        # (its own project, if it has one, puts back the size its review was detected at).
        self.diameter.setValue(0.0)
        self._restored_diameter = self._restored_voxel = None
        self.review_panel.reset_z_range(layer.data.shape[-3] if layer is not None else None)
        self.axes_combo.blockSignals(True)  # a half-filled list must not close the review
        self.axes_combo.clear()
        self.axes_combo.blockSignals(False)
        self._channels, self._one_channel = None, False
        if layer is None:
            self.axes_note.setText("open a ZYX or TZYX image")
            # The image closed had its voxel size shown on: left, it read as that of an image still open.
            self.set_voxel_size((0.0, 0.0, 0.0), MICROMETRE)
            self._open_review()
            return
        self.axes_combo.blockSignals(True)
        # napari reads a file's channels as one more axis (an ImageJ ZCYX is 4D): its metadata says so.
        layout = layer_file_layout(layer)
        channels = layout.channels if layout is not None else None
        shape = tuple(layer.data.shape)
        self._channels = channels if channels is not None and channels.shape == shape else None
        self._one_channel = channels is not None and layout.shape_of_a_channel == shape
        said = layer_file_axes(layer)
        file_letters = said.axes if said is not None and said.source == "metadata" else ""
        if self._channels is not None:
            self.axes_combo.addItems([self._channels.axes])
            self.axes_note.setText(channels_refusal(layer, self._channels))
        elif layer.ndim == 4:
            self.axes_combo.addItems(["TZYX"])
            self.axes_note.setText("4D layer: a time series of volumes")
        else:
            self.axes_combo.addItems(list(AXES_FOR_3D))
            labelled = labelled_3d_axes(layer)
            if file_letters in ("ZYX", "TYX"):
                self.axes_combo.setCurrentIndex(0 if file_letters == "ZYX" else 1)
                self.axes_note.setText(f"3D layer: {file_letters}, as its file's metadata says")
            elif labelled:  # its sliders are named (the volume sample's z, y, x): asking again was a needless question
                self.axes_combo.setCurrentIndex(0 if labelled == "ZYX" else 1)
                self.axes_note.setText(f"3D layer: {labelled}, as its axis labels say")
            else:  # a volume or a stack of frames: nothing in the layer says which
                self.axes_note.setText(AXES_QUESTION)
        self.axes_combo.blockSignals(False)
        found = layer_voxel_size(layer)
        self.set_voxel_size(*(found or ((0.0, 0.0, 0.0), MICROMETRE)))
        self._open_review()
        if self.axes_note.text() == AXES_QUESTION and self._project_holds_work():
            # Answered when its centres were detected and kept: asked again after reopening the dock, or picking the
            # image again, it read as if the saved work were in doubt.
            self.axes_note.setText(SAVED_AS_VOLUME)

    def _clear_status(self) -> None:
        """Forget the status line of the image or project left (its saved centres, its Detect's result), so
        it is not read as this one's; a running detection's line stays, being still true."""
        if self.worker is None:
            self.status.setText("")

    def set_voxel_size(self, values: tuple[float, float, float], unit: str) -> None:
        """Show a voxel size (0: unknown) in ``unit`` (MICROMETRE, or a file's unit that is not a length)."""
        self._setting_voxel = True
        try:
            self._voxel_unit = unit
            for spin, value in zip(self.voxel, values):
                spin.setSuffix(f" {unit}")
                spin.setValue(float(value))
        finally:
            self._setting_voxel = False

    def _voxel_typed(self, *_) -> None:
        if self._setting_voxel:
            return
        if self._voxel_unit != MICROMETRE:
            self.set_voxel_size([s.value() for s in self.voxel], MICROMETRE)  # what is typed is micrometres
        if self.review is not None:
            # The project it was typed for, kept with it: another image chosen before the write must not
            # receive it.
            self._typed_voxel = (self.review, tuple(s.value() for s in self.voxel))
            self._voxel_save_timer.start()

    def _axes_chosen(self, _index: int) -> None:
        """The user's pick answers the question the note asked ("a volume, or frames? choose"): left asking, it
        read as if nothing was chosen yet. Files' channels and 4D layers offer no choice, and keep their note."""
        layer = self.layer()
        if layer is not None and layer.ndim == 3 and self._channels is None:
            self.axes_note.setText(f"3D layer: {self.axes_combo.currentText().split()[0]}, as chosen")

    def _voxel_edit_done(self) -> None:
        """A typed voxel size saved: the centres are redrawn when it changed their z size, as their slab (the
        slices a point shows on) is one diameter deep; it stayed the old depth until the next Detect or reopen."""
        if self.save_typed_voxel_size() and self.points is not None:
            self.reload_points()

    def save_typed_voxel_size(self) -> bool:
        """Write a voxel size typed and not yet saved. A voxel size typed after Detect is the project's from
        now on: Export writes micrometres from it (it read the size saved at the last Detect, so one typed
        later never reached the export) and a reopened project shows it, not the file's uncalibrated spacing.
        Returns whether it changed the z size of the project shown."""
        self._voxel_save_timer.stop()
        if self._typed_voxel is None:
            return False
        (review, typed), self._typed_voxel = self._typed_voxel, None
        try:
            # Damaged (a sync cut it short): said once in the project's problems, not as an error before every
            # Detect, which writes it again with the size typed.
            settings = read_settings(review.project, report_damaged=True)
            if settings is None or not all(typed) or (settings.voxel_size, settings.voxel_unit) == (typed, MICROMETRE):
                return False
            # The saved z came from the old voxel size (or was estimated without one): kept, the next round resampled
            # the reviewed volumes at a depth the voxel size shown no longer gives. Sized as a Detect with it would.
            diameter = diameter_by_voxel_size(settings.diameter[1], typed)
            remember_settings(review.project, replace(settings, diameter=diameter, voxel_size=typed,
                                                      voxel_unit=MICROMETRE))
        except ParticleDetectError as exc:
            report(exc)
            return False
        changed = review is self.review and not math.isclose(diameter[0], settings.diameter[0], rel_tol=0.01)
        if changed:
            self.status.setText(f"voxel size saved: particles are {diameter[0]:.1f} voxels deep by it now (were "
                                f"{settings.diameter[0]:.1f}), for rounds and the next Detect")
        return changed

    def options(self) -> VolumeOptions:
        return VolumeOptions(threshold=self.threshold.value() or None, diameter=self._diameter_option(),
                             voxel_size=self._voxel_option(), device="cpu")

    def _voxel_option(self) -> tuple[float, float, float] | None:
        voxel = tuple(s.value() for s in self.voxel)
        return voxel if all(voxel) else None

    def _diameter_option(self) -> tuple[float, ...] | None:
        """The xy diameter typed, or the (z, y, x) diameter the review detected at while the box still shows
        it untouched (its z was estimated or came from a voxel size: sizing z again could differ)."""
        if self.diameter.holds_exact() and self._restored_diameter is not None:
            if self._voxel_option() == self._restored_voxel:
                return self._restored_diameter
            # A voxel size given since: the review's z came from the old one (or an estimate), and kept, it
            # detected the calibrated volume at the old depth. Its xy stays; z follows the voxel size now.
            return self._restored_diameter[1:2]
        return (self.diameter.value(),) if self.diameter.value() else None

    def detect(self) -> None:
        layer = self.layer()
        if layer is None:
            self.status.setText("no ZYX or TZYX image layer")
            return
        if self.axes_combo.currentText().startswith("TYX"):
            self.status.setText("frames: detect them in the Particle detection dock")
            return
        if self.worker is not None:
            return
        volumes = self.volumes()
        options = self.options()
        unit = self._voxel_unit
        try:
            review = self.require_review()
            ensure_volume_round(review.project)
            model_path = review.project.round_path(review.project.current_round.number)
        except ParticleDetectError as exc:
            self.status.setText(str(exc))  # the line under Detect says why nothing runs, not an earlier result
            report(exc)
            return
        if len(accepted_volumes(review.project, range(len(volumes)))) == len(volumes):
            # Each accepted volume keeps its centres: the network ran over all of them for nothing, and the line said
            # their count as if just detected.
            said = nothing_to_detect(layer.name, len(volumes))
            self.status.setText(said)
            show_info(said)
            return
        warn_once(self._not_square_said, layer, not_square_read_as_square(layer, options.voxel_size))
        self.button.setEnabled(False)
        # Named: the line stays while another image is chosen (it is still true), and unnamed it read as that one's.
        self.status.setText(f"detecting in {len(volumes)} {noun(len(volumes), 'volume')} of '{layer.name}' with "
                            f"{review.project.current_round.name}…")
        self._stop, self._ended = threading.Event(), threading.Event()
        # Errors are ours to tell (one line through report): napari's own would add a traceback.
        self.worker = create_worker(detect_volumes, volumes, model_path, options, layer.name, self._stop,
                                    self._ended, _ignore_errors=True)
        self.worker.returned.connect(lambda result: self._detected(result, review, layer, options, unit,
                                                                   tuple(volumes.shape[1:])))
        self.worker.errored.connect(self._detect_failed)
        self.worker.finished.connect(self._detect_finished)
        self.worker.start()

    def _detected(self, result, review: VolumeReview, layer: Image, options: VolumeOptions, unit: str,
                  shape: tuple[int, int, int]) -> None:
        if self._shut:
            return  # stopped: the dock was closed
        if result is None:  # stopped: its image was closed; 'detecting…' stayed under Detect for good
            self.status.setText(f"'{layer.name}' was closed while detecting: detection stopped, nothing it found was "
                                "saved")
            return
        shown = self.review is not None and self.review.project.folder == review.project.folder
        if shown:
            review = self.review  # its image opened again since Detect: the Undo the user reaches is this one's
        table, hidden, sizing, detected, notes, gaps_said = result
        show_warnings(gaps_said)
        z, y, x = sizing.diameter
        try:
            # A volume.json damaged since it was read (cut short by a sync) is reported and written anew here: it
            # only tells whether the diameter was the project's, and raised out of this slot the detection was lost.
            earlier = read_settings(review.project, report_damaged=True)
            reused = sizing.source.startswith("given") and earlier is not None and abs(earlier.diameter[1] - y) < 0.05
            remember_settings(review.project, VolumeSettings(sizing.diameter, options.voxel_size, shape, unit))
            review.remember_hidden(hidden)
            table, replaced, kept = review.set_detections(table, detected, shown)
        except ParticleDetectError as exc:
            report(exc)
            return
        if shown and self.axes_note.text() == AXES_QUESTION:
            # Detected as one volume: the question is answered, as it is when the dock comes back to these centres
            # (asked on beside them, it read as if nothing had been chosen).
            self.axes_note.setText(SAVED_AS_VOLUME)
        try:
            if not reused:  # a reused size keeps the doubt of the estimate that gave it
                review.remember_sizing(sizing)
        except ParticleDetectError as exc:  # only a label of the size: the detection is saved and shown all the same
            report(exc)
        source = sizing.source
        if source == "given" and options.diameter is not None and len(options.diameter) == 1 and options.voxel_size:
            source = "given xy, z from voxel size"  # 'given' alone claimed a z nobody gave
        if reused:
            # Put in the box by the image's project, not typed: 'given' said the user chose it.
            source = source.replace("given xy", "xy as this image was detected before").replace(
                "given", "as this image was detected before")
        text = f"{len(table)} centres; diameter z {z:.1f}, y {y:.1f}, x {x:.1f} voxels ({source})"
        # Said as the command line says it: without it, centres placed at a doubtful size gave no hint why.
        estimated = review.kept_doubt(y, options.voxel_size is not None) if reused else ""
        doubt = sizing_doubt(estimated, "" if sizing.confident else sizing.reason)
        if doubt:
            text += f"; {doubt}"
        accepted = accepted_volumes(review.project, detected)
        if accepted:  # kept as accepted: unsaid, a Detect with a new round seemed to find the very same centres
            text += f"; {accepted_words(accepted)}"
        if replaced:
            said = (f"detected again over your edits on {noun(len(replaced), 'volume')} {', '.join(map(str, replaced))}: "
                    "Undo brings them back")
            text += f"; {said}"
            show_info(said)
        for note in notes:
            show_info(note)
        if notes:
            text += "; " + "; ".join(notes)
        if not shown:  # closed, or another image chosen
            text = f"{layer.name}: {len(table)} centres kept in its project, shown when it is chosen again"
            if kept:
                text += (f"; volume{'s' * (len(kept) != 1)} {', '.join(map(str, kept))} kept your edits: "
                         "Detect again there to replace them")
            self.status.setText(text)
            return
        self.show_points(self.layer(), table, y, z)  # the image's layer now (it may have been opened again)
        self.status.setText(text)
        self.review_panel.refresh()
        self.round_panel.refresh()

    def _detect_failed(self, exc: BaseException) -> None:
        self.status.setText(f"error: {exc}")
        report(exc)

    def _detect_finished(self) -> None:
        self.worker = None
        self._show_detect_ready()

    def _show_detect_ready(self) -> None:
        """Detect waits for an image (with none, clicked, it only said so under itself) and for a running detection
        to end; the line under Axes says what to open."""
        self.button.setEnabled(self.layer() is not None and self.worker is None)

    def stop(self, wait_s: float = 0.0) -> bool:
        """Ask a running detection to stop after the volume it is on; ``wait_s``: wait that long for it.
        Returns whether nothing runs any more."""
        if self.worker is not None:
            self._stop.set()
        return self._ended.wait(wait_s) if wait_s else self._ended.is_set()

    def show_points(self, layer: Image, table: pd.DataFrame, size: float, size_z: float | None = None):
        """The centres as points on ``layer``; each drawn on the slices its sphere crosses (the z
        slab one diameter thick), shrinking away from its centre."""
        name = centres_name(layer)
        # The image's units too: points in napari's default 'pixel' over a µm image made napari warn of
        # inconsistent units at every Detect and drop the units from the rendering.
        data, kwargs = volume_points_kwargs(table, name, layer.ndim, size, **placement(layer))
        self._putting_away = True  # the old layer goes, the new comes: the image chosen stays
        try:
            for old in (self.points, self.viewer.layers[name] if name in self.viewer.layers else None):
                if old is not None and old in self.viewer.layers:
                    self.viewer.layers.remove(old)
        finally:
            self._putting_away = False
        self._quiet = True
        try:
            points = self.viewer.add_points(data, **kwargs)
            if len(table) and "source" in table:  # the saved sources, not the detector's default
                points.features = points.features.assign(source=table["source"].astype(str).to_numpy(),
                                                          score=table["score"].to_numpy(float))
                points.refresh_colors()
        finally:
            self._quiet = False
        place_over_image(self.viewer, points, layer)
        self.points, self._points_named_after = points, layer.name
        points.events.data.connect(self._on_points_edited)
        self._pasted = PastedPoints(points, self._on_pasted)
        if size_z is not None:
            show_spheres_slab(self.viewer, float(size_z * layer.scale[-3]), [layer])
        return points

    def put_layers_away(self) -> list[str]:
        """Take the dock's layers (the centres, the review boxes) out of the viewer; everything in them
        is saved in the project already. Returns the names removed."""
        removed = []
        self._putting_away = True
        try:
            for layer in (self.points, *self.review_panel.layers()):
                if layer is not None and layer in self.viewer.layers:
                    removed.append(layer.name)
                    self.viewer.layers.remove(layer)
        finally:
            self._putting_away = False
        self.points = None
        return removed

    def remove_own_layer(self, layer) -> None:
        """Take one of the dock's layers out of the viewer, the image chosen staying (as put_layers_away does)."""
        self._putting_away = True
        try:
            self.viewer.layers.remove(layer)
        finally:
            self._putting_away = False

    def _on_layer_removed(self, event) -> None:
        layer = event.value
        if layer is self.points:
            layer.events.data.disconnect(self._on_points_edited)
            self._pasted.close()
            self.points, self._pasted = None, None  # the centres stay in the project; accepting brings them back first
        if self._putting_away:
            return
        if viewer_closing(self.viewer):
            # The user quit napari: no image of theirs was closed (nothing to say), none is left to move on to, and
            # the dock shuts down (stopping its work) as the window closes next.
            return
        if layer is self._shown_layer:
            stopped = self.worker is not None
            self.stop()
            kept = self._project_holds_work()
            self._shown_layer, self.review = None, None  # opened again, the image gets its project back
            self.put_layers_away()
            # As the Particle detection dock says it (widget.closing_words): nothing claimed kept that was not saved.
            fate = ("its 3D centres and reviews are kept in its project and come back when it is opened again"
                    if kept else "no 3D centres nor reviews of it had been saved, so nothing comes back when it "
                                 "is opened again")
            show_info(f"'{layer.name}' was closed{': detection stopped' if stopped else ''}; {fate}")
        self._refresh()

    # ---- the review's project ----------------------------------------------------------------------
    def _project_holds_work(self) -> bool:
        """Whether the shown image's project holds saved centres or accepted areas (an image never detected
        has none, nor any project on disk)."""
        return self.review is not None and self.review.project.holds_work()

    def _is_volume(self) -> bool:
        layer = self.layer()
        return layer is not None and self._channels is None and (
            layer.ndim == 4 or self.axes_combo.currentText().startswith("ZYX"))

    def _open_review(self) -> None:
        """Open the selected volume image's project; its saved centres come back as points."""
        self.save_typed_voxel_size()  # before the project it was typed for is read again, or left
        layer = self.layer()
        self._refused = None
        if not self._is_volume():
            if self.review is not None:
                self.put_layers_away()  # they showed another image's (or these volumes') centres
                self._clear_status()
            self.review = None
        else:
            volumes = self.volumes()
            path = self._project_path(layer)
            # Named apart from the 2D dock's project of the same image: frames there are slices. An unsaved
            # image's is found by the name it had when first opened: renamed, it keeps its work.
            target = path if path is not None else project_folder_by_name(layer)
            folder = volume_project_folder(path) if path is not None else target
            earlier = self._channel_project_kept_by_name(layer, folder)
            if earlier is not None:
                target = folder = earlier
            if self.review is None or self.review.project.folder != folder:
                if self.review is not None:
                    self.put_layers_away()
                self._clear_status()
                name = f"'{Path(path).name}'" if path is not None and not self._one_channel else f"'{layer.name}'"
                try:
                    if volumes.shape[1] < 2:
                        raise ParticleDetectError(f"{name} has 1 slice along z, and a volume needs 2 or more: detect "
                                                  "it as 2D images in the Particle detection dock")
                    check_recorded_volume_shape(folder, tuple(volumes.shape[1:]), name)
                    self.review = VolumeReview(open_volume_project(target, volumes), tuple(volumes.shape[1:]))
                except ParticleDetectError as exc:
                    self.review, self._refused = None, str(exc)
                    if self.worker is None:  # a running detection's line stays, as _clear_status keeps it
                        self.status.setText(self._refused)
                    report(exc)
                else:
                    name_volume_axes(self.viewer, layer.ndim)
                    self._restore_points(layer)
                    # What opening it left out (a damaged volume's centres file, found as its centres are read back),
                    # said as the 2D docks say theirs.
                    say_problems(self.review.project, self._said_problems, self.review.project.folder)
                    self._say_found_elsewhere(layer, path, volumes)
        self.review_panel.refresh()
        self.round_panel.refresh()

    def _say_found_elsewhere(self, layer: Image, path: Path | None, volumes: np.ndarray) -> None:
        """The image's volume projects made elsewhere (it was moved or renamed), named while its own holds nothing:
        as the Particle detection dock names its image's."""
        # Recorded as open_volume_project opens it, so a project elsewhere is known by its pixels too.
        record = partial(image_record, str(path), volumes.shape[0], volumes.shape[1:], first_frame=volumes[0])
        note = found_elsewhere_note(layer.name, path, self.review.project.folder, record, self._said_found)
        if note and self.worker is None:  # a running detection's line stays, as _clear_status keeps it
            self.status.setText(note)

    def _project_path(self, layer: Image) -> Path | None:
        """The path naming the layer's project: its file's, or for one of a file's channels opened as a layer of its
        own that file's with the channel's key (image_views.source_path), so the project follows the file and the
        channel, not the name napari gave the layer ('cells [1]'), which changes with what else is open. None
        where the channel shown cannot be told (the file unreadable now): the file's own path would be every
        channel's project."""
        path = image_path(layer)
        if self._one_channel and path == file_read_from(layer):
            return None
        return path

    def _channel_project_kept_by_name(self, layer: Image, folder: Path) -> Path | None:
        """The project an earlier version kept a split channel's work in (under the projects home, named after the
        layer, as an unsaved image's), where the channel has none of its own in ``folder`` yet: the centres accepted
        there come back instead of a new, empty project starting beside the file."""
        if not self._one_channel or (folder / "state.json").is_file():
            return None
        earlier = project_folder_by_name(layer)
        return earlier if (earlier / "state.json").is_file() else None

    def _restore_points(self, layer: Image) -> None:
        project = self.review.project
        if not project.saved_frames():
            return
        settings = read_settings(project, report_damaged=True)  # the points come back at the default sizes
        diameter = settings.diameter if settings else (5.0, 10.0, 10.0)
        # Typed last time: not in the layer, or the file's spacing is no length (micrometres typed win over it).
        uncalibrated = not any(s.value() for s in self.voxel) or self._voxel_unit != MICROMETRE
        if settings is not None and settings.voxel_size and uncalibrated:
            self.set_voxel_size(settings.voxel_size, settings.voxel_unit)
        if settings is not None and not self.diameter.value():
            self.diameter.show_exact(float(diameter[1]))  # detecting again sizes as the review did
            self._restored_diameter = tuple(float(d) for d in diameter)
            # The review's z holds at the voxel size it was detected at: one the layer says otherwise now never matches.
            shown = self._voxel_option()
            self._restored_voxel = shown if same_voxel_size(shown, settings.voxel_size) else ()
        self.show_points(layer, project.load_all(), diameter[1], diameter[0])
        volumes = len(project.saved_frames())
        text = (f"{len(project.load_all())} saved centres of {volumes} {noun(volumes, 'volume')} from the project "
                f"{project.folder.name}")
        doubt = sizing_doubt(self.review.kept_doubt(diameter[1], bool(settings.voxel_size))) if settings else ""
        self.status.setText(f"{text}; {doubt}" if doubt else text)

    def require_review(self) -> VolumeReview:
        """The selected image's review. Every action on the project (Detect, accept, Export, a round)
        asks for it first, so a voxel size still being typed is written before any of them reads it."""
        self.save_typed_voxel_size()
        if self.review is None and self._channels is not None:
            raise ParticleDetectError(channels_refusal(self.layer(), self._channels))
        if self.review is None and self._refused is not None:
            raise ParticleDetectError(self._refused)
        if self.review is None:
            raise ParticleDetectError("select a ZYX or TZYX image layer (a 3D layer: choose 'ZYX (one volume)')")
        return self.review

    def volumes(self) -> np.ndarray:
        data = layer_pixels(self.layer())
        return data[None] if self.layer().ndim == 3 else data

    def _data_point(self) -> np.ndarray:
        """The viewer's position in the image's voxels (t, z, y, x or z, y, x)."""
        layer = self.layer()
        return np.asarray(layer.world_to_data(self.viewer.dims.point[self.viewer.dims.ndim - layer.ndim:]), float)

    def current_frame(self) -> int:
        layer = self.layer()
        if layer is None or layer.ndim == 3:
            return 0
        return int(np.clip(np.rint(self._data_point()[0]), 0, layer.data.shape[0] - 1))

    def current_slice(self) -> float:
        """The slice the image shows (its data z), whatever the slider's range (centres a little outside
        the volume shift it by a fraction of a slice)."""
        return float(np.rint(self._data_point()[-3]))

    def go_to(self, frame: int) -> None:
        layer = self.layer()
        if layer is not None and layer.ndim == 4:
            self._go_to_data(0, int(frame))

    def go_to_slice(self, z: float) -> None:
        """Show slice ``z`` (data) exactly: a slider step would land half a slice off when the points
        shifted its range, and the image and the review box would show two different slices."""
        self._go_to_data(self.layer().ndim - 3, int(round(z)))

    def _go_to_data(self, axis: int, value: int) -> None:
        layer = self.layer()
        point = self._data_point()
        point[axis] = value
        world = layer.data_to_world(point)
        self.viewer.dims.set_point(self.viewer.dims.ndim - layer.ndim + axis, float(world[axis]))

    def diameter_zyx(self) -> tuple[float, float, float]:
        # Damaged since (a sync), the points and review boxes are drawn at the default sizes, as before any Detect.
        settings = read_settings(self.require_review().project, report_damaged=True)
        return settings.diameter if settings else (5.0, 10.0, 10.0)

    def review_threshold(self) -> float:
        """The threshold the points were shown at: the dock's, else the round's own."""
        if self.threshold.value():
            return float(self.threshold.value())
        project = self.require_review().project
        ensure_volume_round(project)
        return float(load_volume_model(project.round_path(project.current_round.number)).card.threshold)

    def table_of(self, frame: int) -> pd.DataFrame:
        """The points of volume ``frame`` as a table (z, y, x in voxels, score, source)."""
        if self.points is None:
            if self.review is not None and self.review.project.saved_frames():
                # Nothing is accepted unseen (as annotation._require_layer): the layer comes back first.
                self.reload_points()
                raise ParticleDetectError(f"'{self.points.name}' was closed: it is back with the centres kept in "
                                          "the project; look at them, then accept")
            raise ParticleDetectError("detect first: there are no 3D centres to accept")
        data = np.asarray(self.points.data, float)
        features = self.points.features
        rows = np.ones(len(data), bool) if data.shape[1] == 3 else np.rint(data[:, 0]) == frame
        zyx = data[rows][:, -3:]
        return pd.DataFrame({"frame": frame, "z": zyx[:, 0], "y": zyx[:, 1], "x": zyx[:, 2],
                             "score": features["score"].to_numpy(float)[rows],
                             "source": features["source"].astype(str).to_numpy()[rows]})

    def reload_points(self) -> None:
        """The points as the project has them now (after an accept or an undo)."""
        layer = self.layer()
        if layer is None or self.review is None:
            return
        diameter = self.diameter_zyx()
        self.show_points(layer, self.review.project.load_all(), diameter[1], diameter[0])

    def _on_points_edited(self, event) -> None:
        """A user's edit is saved at once: points placed or dragged by hand are 'added' (as the Particle
        detection dock's, annotation.Annotation._on_data), the volumes touched are written to the project."""
        if self._quiet or self.review is None:
            return
        if event.action == ActionType.REMOVING:  # which volumes lose points: known only before they go
            self._removing |= self._frames_of(event.data_indices)
            return
        if event.action not in (ActionType.ADDED, ActionType.REMOVED, ActionType.CHANGED):
            return
        # A drag moves the selected points (napari's CHANGED of a few rows); a whole layer set anew is no drag.
        dragged = event.action == ActionType.CHANGED and len(event.data_indices) < len(self.points.data)
        if event.action == ActionType.ADDED or dragged:
            self._mark_added(list(event.data_indices))
        if event.action == ActionType.REMOVED:
            frames, self._removing = sorted(self._removing), set()
        else:
            frames = sorted(self._frames_of(event.data_indices))
        self._save_volumes(frames)

    def _on_pasted(self, rows: list[int]) -> None:
        """Points pasted are the user's, saved at once as added ones are."""
        if self._quiet or self.review is None:
            return
        self._mark_added(rows)
        self._save_volumes(sorted(self._frames_of(rows)))

    def _save_volumes(self, frames: list[int]) -> None:
        try:
            for frame in frames:
                self.review.save_edits(frame, self.table_of(frame))
        except ParticleDetectError as exc:
            report(exc)

    def _mark_added(self, rows: list[int]) -> None:
        """Points placed or moved by hand are the user's: 'added' with no score, whatever napari copied from
        the last selection or the network scored where they were (a moved network point kept its source
        and old score, and rounds and Review next took it for uncorrected)."""
        features = self.points.features
        index = features.index[rows]
        if (features.loc[index, "source"] == "added").all() and features.loc[index, "score"].isna().all():
            return  # a drag sends an event at every mouse move: marked once
        features = features.copy()
        features.loc[index, "source"] = "added"
        features.loc[index, "score"] = np.nan
        self._quiet = True
        try:
            self.points.features = features
        finally:
            self._quiet = False

    def _frames_of(self, indices) -> set[int]:
        """The volumes of the points at ``indices`` (volume 0 for a single volume)."""
        if self.points.ndim == 3:
            return {0}
        rows = np.asarray(list(indices), dtype=int)
        return {int(f) for f in np.rint(np.asarray(self.points.data)[rows, 0])} if len(rows) else set()

    def default_export_path(self) -> Path:
        path = self._project_path(self.layer())
        stem = path.stem if path is not None else self.layer().name
        return (path.parent if path is not None else Path.cwd()) / f"{safe_stem(stem, 'volume')}_3d_centres.csv"

    # ---- closing -----------------------------------------------------------------------------------
    def shut_down(self, put_layers_away: bool = False) -> None:
        """The window or the dock is closing: stop a running detection and round (and wait for them, so no
        thread outlives the viewer and nothing is left half-written), and stop hearing the viewer.
        ``put_layers_away``: the dock alone closes, so its layers leave too (every edit is saved
        already: a reopened dock brings them back)."""
        if self._shut:
            return
        self._shut = True
        self.save_typed_voxel_size()  # typed a moment before closing: still the project's
        for emitter, callback in ((self.viewer.layers.events.inserted, self._refresh),
                                  (self.viewer.layers.events.removed, self._on_layer_removed),
                                  (self.viewer.dims.events.current_step, self._on_step),
                                  (self.viewer.dims.events.ndisplay, self._on_ndisplay),
                                  (self.viewer.dims.events.range, self._align_slices)):
            emitter.disconnect(callback)
        for layer in self._images():
            layer.events.name.disconnect(self._refresh)
        self.round_panel.cancel(wait_s=STOP_WAIT_S)
        self.stop(wait_s=STOP_WAIT_S)
        if put_layers_away:
            if self._shown_layer is not None and self.review is not None:
                remember_worked_on(self.viewer, DOCK_TITLE, self._shown_layer)
            removed = self.put_layers_away()
            self.review = None
            if removed:
                show_info(put_away_words(DOCK_TITLE, removed, "centres and reviews"))
