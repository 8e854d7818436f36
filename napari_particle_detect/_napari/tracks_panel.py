"""Tracks: the centres shown linked into trajectories with trackpy (search range, memory), drawn as
a napari Tracks layer, the field's drift subtracted, the ensemble MSD plotted, all exported as CSV, each
with a .json of the parameters and units beside it, as ``particle-detect link`` writes them.

The library does the work (:mod:`tracks`); this panel runs it in a worker and shows the result.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import NullFormatter
from napari.layers import Image, Tracks
from napari.qt.threading import create_worker
from .notify import show_info
from qtpy.QtWidgets import (
    QCheckBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QPushButton, QSpinBox,
)

from ..errors import ParticleDetectError, one_line
from ..files.calibration import Calibration, file_calibration
from ..files.file_detection import metadata_path
from ..files.tables import TABLE_COLUMNS, with_physical
from ..files.tracks import (
    DOCK_EXPORT, PIXEL_SIZE_TOLERANCE, LinkOptions, compute_drift, describe_msd, describe_tracks, ensemble_msd,
    fit_power_law, fitted_lags, link_centres, link_output_paths, link_record, msd_units, subtract_drift,
    tracks_layer_data, write_link_outputs, written_by_linking,
)
from .annotation import follow_changes, image_path, placement
from .exact_spin_box import ExactSpinBox
from .export_panel import safe_stem, unit_suffix
from .image_views import pixels_file
from .labels import PathLabel
from .notify import report, reports_errors, written_to
from .plots import BETTER, INK, SmallPlot
from .sample_data import sample_file
from .state import DockState

MAX_LAG = 100


@dataclass(frozen=True)
class LinkSettings:
    """How one Link ran, as its export records it: the linking, the drift, and what the MSD is measured in
    (``microns_per_pixel`` None: px²; ``frames_per_second`` None: lag times in frames). ``seconds_per_frame``:
    the frame interval where the user gave one rather than a rate (a time-lapse's 600 s): lag times are then
    its exact multiples, not multiples of 1 / fps, which rounds. ``mpp_from``, ``fps_from``: where each came
    from, as the export's .json records them."""

    options: LinkOptions
    drift: bool
    microns_per_pixel: float | None = None
    mpp_from: str | None = None
    frames_per_second: float | None = None
    seconds_per_frame: float | None = None
    fps_from: str | None = None

    def units(self) -> dict[str, str]:
        return msd_units(self.microns_per_pixel, self.frames_per_second)

    def frame_interval(self) -> float | None:
        """Seconds between frames: the interval given, else 1 / fps; None without a frame rate."""
        if self.seconds_per_frame:
            return self.seconds_per_frame
        return 1.0 / self.frames_per_second if self.frames_per_second else None

    def lag_times(self, lags: np.ndarray) -> np.ndarray:
        """Lags in frames as the MSD's lag times: in s with a frame rate, else frames."""
        if self.seconds_per_frame:
            return lags * self.seconds_per_frame
        return lags / self.frames_per_second if self.frames_per_second else lags


@dataclass
class Linked:
    """What one Link produced: the tracks (``particle`` column; ``y_corrected, x_corrected`` with the
    drift taken off), the drift per frame (or None) and the ensemble MSD (or None: nothing moved), with the
    settings they were made with (the boxes may have changed since)."""

    tracks: pd.DataFrame
    drift: pd.DataFrame | None
    msd: pd.DataFrame | None
    fit: tuple[float, float] | None
    settings: LinkSettings


def link_and_measure(table: pd.DataFrame, settings: LinkSettings) -> Linked:
    """The worker's job: link, subtract the drift if asked, and the MSD of what moved."""
    tracks = link_centres(table, settings.options)
    field_drift = compute_drift(tracks) if settings.drift and len(tracks) else None
    if field_drift is not None:
        tracks = subtract_drift(tracks, field_drift)
    try:
        # In frames first (trackpy divides lags by the rate), then seconds as the settings give them.
        msd = ensemble_msd(tracks, settings.microns_per_pixel or 1.0, 1.0, MAX_LAG)
        msd["lagt"] = settings.lag_times(msd["lagt"].to_numpy(float))
    except ParticleDetectError:
        msd = None  # no track spans two frames: the panel says so
    return Linked(tracks, field_drift, msd, fit_power_law(msd) if msd is not None else None, settings)


@dataclass
class KeptLink:
    """An image's last Link, kept while other images are picked (linking again was the only way back to its
    status, MSD and Export): ``centres``, those it linked, tell whether they changed since."""

    linked: Linked
    centres: pd.DataFrame
    drawn: bool = True  # False: it finished while another image was picked, its layer drawn when it comes back


class MsdPlot(SmallPlot):
    """The ensemble MSD against lag time, log-log, with its power-law fit."""

    def __init__(self) -> None:
        super().__init__("mean squared displacement", height=2.0)
        self.show_msd(None, None, None)

    def show_msd(self, msd: pd.DataFrame | None, fit: tuple[float, float] | None,
                 units: dict[str, str] | None) -> None:
        """``units``: of ``lagt`` and ``msd``, as :func:`msd_units` gives them."""
        placeholder = msd is None or not len(msd)
        if self.already_shows("placeholder" if placeholder else object()):
            return
        axes = self.axes
        axes.clear()
        self._style()
        if placeholder:
            axes.text(0.5, 0.5, "shown after Link", ha="center", va="center", fontsize=7, color=INK,
                      transform=axes.transAxes)
            axes.set_xticks([])
            axes.set_yticks([])
            self.draw_idle()
            return
        shown = msd[(msd["lagt"] > 0) & (msd["msd"] > 0)]
        axes.loglog(shown["lagt"], shown["msd"], "o", markersize=3, color=BETTER)
        if fit is not None:
            exponent, amplitude = fit
            lags = fitted_lags(shown)["lagt"].to_numpy(float)  # drawn over the lags fitted, not beyond
            axes.loglog(lags, amplitude * lags ** exponent, color=INK, linewidth=0.8,
                        label=f"{amplitude:.3g} t^{exponent:.2f}")
            axes.legend(fontsize=7, frameon=False, labelcolor=INK)
        for axis in (axes.xaxis, axes.yaxis):  # decades only: minor labels crowd a plot this small
            axis.set_minor_formatter(NullFormatter())
        axes.set_xlabel(f"lag time ({units['lagt']})", fontsize=7, color=INK)
        axes.set_ylabel(f"MSD ({units['msd']})", fontsize=7, color=INK)
        self.draw_idle()



# Marks the Tracks layers a Link drew: a tracks table the user opened (the reader names `movie_tracks.csv`'s layer
# "movie tracks", as a Link on 'movie' names its own) is theirs, never removed by a Link nor adopted by a dock.
DOCK_TRACKS_KEY = "particle_detect_linked"


def _dock_drawn(layer) -> bool:
    return isinstance(layer, Tracks) and bool(layer.metadata.get(DOCK_TRACKS_KEY))


class TracksPanel(QGroupBox):
    def __init__(self, state: DockState, viewer) -> None:
        super().__init__("Tracks")
        self.state = state
        self.viewer = viewer
        self.worker = None
        self.linked: Linked | None = None
        self.layer = None  # the Tracks layer last drawn
        # Each Tracks layer drawn, with its image: hidden when another image is picked, as its centres are.
        self._made: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._annotation = None  # the image the tracks belong to
        self._kept: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # each image's KeptLink
        self._linking_centres: pd.DataFrame | None = None  # the centres of the Link running

        self.range_spin = QDoubleSpinBox()
        self.range_spin.setRange(0.5, 500.0)
        self.range_spin.setValue(5.0)
        self.range_spin.setToolTip("How far a particle may move between frames (trackpy's search_range)")
        self.memory_spin = QSpinBox()
        self.memory_spin.setRange(0, 1000)
        self.memory_spin.setValue(3)
        self.memory_spin.setToolTip("For how many frames a particle may vanish and still be the same one")
        self.length_spin = QSpinBox()
        self.length_spin.setRange(1, 100_000)
        self.length_spin.setValue(1)
        self.length_spin.setToolTip("Drop tracks seen in fewer frames (trackpy's filter_stubs)")
        self.drift_check = QCheckBox("subtract drift")
        self.drift_check.setToolTip("Take the whole field's motion off before the MSD (trackpy's compute_drift)")
        # Boxes filled by the program (the image's pixel size, the rate from an interval) keep the exact value:
        # rounded to the box, 1/600 fps read 0.002 and every lag time came out 17 % short.
        self.mpp_spin = UnitBox("none (px)")
        self.mpp_spin.setToolTip("Microns per pixel, for the MSD (none: pixels); read from the image when it has "
                                 "a micrometre scale, else from its file's metadata")
        self.fps_spin = UnitBox("none (frames)")
        self.fps_spin.setToolTip("Frames per second, for the MSD's lag times (none: frames); or give the frame "
                                 "interval below")
        self.interval_spin = UnitBox("none (frames)")
        self.interval_spin.setSuffix(" s")
        self.interval_spin.setToolTip("Seconds between frames, for a time-lapse (600: one frame every 10 min); "
                                      "the lag times are its exact multiples. It and fps fill each other; read "
                                      "from the image file's metadata where it has one")
        # Where the boxes' values came from (the image file's metadata, or nowhere: typed, or none).
        # Names the image's file (its status line names the image): may break inside a long name, which widened the
        # dock past its column.
        # Hidden while empty, as the status line: each kept a blank band in the box's rows.
        self.calibration_note = PathLabel(hidden_when_empty=True)
        self.calibration_note.setStyleSheet("color: gray; font-size: 10px")
        self._file_calibration: tuple[str, Calibration] | None = None  # the image file's name and calibration
        self._filling_rate = False
        self._show_choices()
        for box in (self.range_spin, self.memory_spin, self.length_spin):
            box.valueChanged.connect(lambda *_: self._keep_choices())
        self.drift_check.toggled.connect(lambda *_: self._keep_choices())
        self.fps_spin.valueChanged.connect(lambda value: self._fill_rate(self.interval_spin, value))
        self.interval_spin.valueChanged.connect(lambda value: self._fill_rate(self.fps_spin, value))
        self.link_button = QPushButton("Link")
        self.link_button.setToolTip("Link the centres shown (hidden ones are left out) into trajectories")
        self.export_button = QPushButton("Export tracks…")
        self.export_button.setToolTip("frame,y,x,score,source (then y_um,x_um, as Export, when the image has a "
                                      "pixel size),...,particle (and the drift-corrected positions), plus the "
                                      "MSD in *_msd.csv; the parameters and units in a .json beside each")
        self.export_button.setEnabled(False)
        self.status = PathLabel(hidden_when_empty=True)
        self.plot = MsdPlot()

        buttons = QHBoxLayout()
        buttons.addWidget(self.link_button, 1)
        buttons.addWidget(self.export_button)
        form = QFormLayout(self)
        # One setting a row: six label and box pairs side by side made the dock 575 px wide (a laptop's canvas
        # then had 359 px of 1280).
        form.addRow("search px", self.range_spin)
        form.addRow("memory", self.memory_spin)
        form.addRow("min length", self.length_spin)
        form.addRow("µm/px", self.mpp_spin)
        form.addRow("fps", self.fps_spin)
        form.addRow("frame interval", self.interval_spin)
        form.addRow(self.calibration_note)
        form.addRow(self.drift_check)
        form.addRow(buttons)
        form.addRow(self.status)
        form.addRow(self.plot)

        self.link_button.clicked.connect(lambda *_: self.link())
        self.export_button.clicked.connect(lambda *_: self.export())
        self._watched = None  # the image whose edits put its tracks out of date
        self._changes = 0  # edits, detections and threshold moves seen: tracks linked before the last are stale
        self._linked_at = 0
        state.annotation_changed.connect(lambda *_: self._forget())
        state.annotation_changed.connect(self._watch)
        state.annotation_changed.connect(lambda *_: self._enable_link())
        state.threshold_changed.connect(lambda *_: self._on_centres_changed())
        viewer.layers.events.removed.connect(self._on_layer_removed)
        self._adopt_tracks()
        self._enable_link()

    def running(self) -> bool:
        return self.worker is not None

    def _enable_link(self) -> None:
        """Link only with an image to link and none linking, as Detect's button (clicked with no image open, it
        offered to link and answered with an error)."""
        self.link_button.setEnabled(self.state.annotation is not None and not self.running())

    def _show_choices(self) -> None:
        """How the user last linked in this window's dock (a dock opened again)."""
        choices = self.state.choices
        self.range_spin.setValue(choices.link.search_range)
        self.memory_spin.setValue(choices.link.memory)
        self.length_spin.setValue(choices.link.min_length)
        self.drift_check.setChecked(choices.drift)

    def _keep_choices(self) -> None:
        self.state.choices.link = self.options()
        self.state.choices.drift = self.drift_check.isChecked()

    def _fill_rate(self, other: UnitBox, value: float) -> None:
        """fps typed fills the interval with its exact reciprocal, and the interval the fps."""
        if self._filling_rate:
            return  # the other box, being filled
        self._filling_rate = True
        try:
            other.show_exact(_reciprocal(value))
        finally:
            self._filling_rate = False

    def _show_interval(self, seconds: float) -> None:
        """The frame interval the program found (0: none), and fps its exact reciprocal: filled through the boxes'
        signal, which carries the interval rounded to the box's decimals, 1/24 s gave 23.999808 fps."""
        self._filling_rate = True
        try:
            self.interval_spin.show_exact(seconds)
            self.fps_spin.show_exact(_reciprocal(seconds))
        finally:
            self._filling_rate = False

    def _forget(self) -> None:
        """Another image: its tracks are not these (the layer stays in the viewer, named for its image)."""
        if self.running():
            return  # the status says what is linking until it ends (_on_linked)
        self._show_picked()

    def _show_picked(self) -> None:
        """The picked image's last Link, or nothing, and the boxes filled with its calibration."""
        self.linked, self._annotation = None, None
        self.export_button.setEnabled(False)
        self.status.setText("")
        self.plot.show_msd(None, None, None)
        annotation = self.state.annotation
        if annotation is not None:
            self._prefill(annotation)
            self._show_kept(annotation)
        if self.linked is None and self._drawn_for(annotation):
            # A closed dock's Link (or another project's), drawn but unknown here: an empty panel read as never linked.
            self.status.setText(f"'{annotation.image.name} tracks' is from an earlier Link: Link again to see its MSD "
                                "and export it")

    def _drawn_for(self, annotation) -> bool:
        return annotation is not None and any(image is annotation.image for _, image in self.outputs_by_image())

    def _show_kept(self, annotation) -> None:
        """The image's last Link shown as it was left, out of date where its centres changed while another image
        was picked (edited in the layer list, or by another window)."""
        kept = self._kept.get(annotation)
        if kept is None:
            return
        self.linked, self._annotation, self._linked_at = kept.linked, annotation, self._changes
        if not kept.drawn:
            kept.drawn = True
            self.layer = self._show(annotation, kept.linked.tracks)
        self._show_linked(annotation, kept.linked)
        if not kept.centres.equals(annotation.visible_table()):
            self._on_centres_changed()

    def _adopt_tracks(self) -> None:
        """The Tracks layers a dock closed since drew (its X leaves them to look at, the centres put away): each
        is its image's, hidden with that image's other layers when another image is picked."""
        images = {layer.name: layer for layer in self.viewer.layers if isinstance(layer, Image)}
        for layer in self.viewer.layers:
            image = images.get(layer.name.removesuffix(" tracks")) if _dock_drawn(layer) else None
            if image is not None:
                self._made[layer] = image
                image.events.name.connect(self._follow_name)

    def _prefill(self, annotation) -> None:
        """The boxes filled with the image's calibration, and where it came from said under them: its layer's
        micrometre scale, else its file's metadata (files.calibration, as ``particle-detect link`` reads it from
        detect's .json): an ImageJ TIFF of 0.2 µm/px, 0.5 s apart opened by napari's own reader comes at scale 1,
        and its MSD came out in px² and frames. The image knows its pixel size: one with none is in pixels,
        whatever µm/px the last image had (its MSD came out in that image's µm², labelled as such). A frame
        interval the user typed stays for an image whose file has none (a folder of movies of one camera);
        one the program filled for the last image is cleared. The file is the one whose pixels the image shows,
        as Export reads it: a view's (a channel of a hyperstack) is its image's; a bundled sample's, its image's."""
        path = pixels_file(annotation.image) or sample_file(annotation.image)
        found = file_calibration(path) if path is not None else Calibration()
        self._file_calibration = (path.name, found) if path is not None else None
        from_file = _square_pixel_um(found)
        self.mpp_spin.show_exact(_image_microns_per_pixel(annotation) or from_file or 0.0)
        if found.frame_interval_s:
            self._show_interval(found.frame_interval_s)
        elif self.interval_spin.holds_exact() and self.fps_spin.holds_exact():
            self._show_interval(0.0)
        said = [f"{from_file:.6g} µm/px" if from_file and _image_microns_per_pixel(annotation) is None else "",
                f"frames {found.frame_interval_s:.6g} s apart" if found.frame_interval_s else ""]
        said = [text for text in said if text]
        if found.pixel_um and not from_file:
            said.append(f"pixels {found.pixel_um[0]:.4g} x {found.pixel_um[1]:.4g} µm, not square: µm/px left to you")
        self.calibration_note.setText(f"from {self._file_source()}: {', '.join(said)}" if said else "")

    def _file_source(self) -> str | None:
        """The image file's metadata, as the export's .json names where a value came from."""
        return f"{self._file_calibration[0]}'s metadata" if self._file_calibration is not None else None

    def _watch(self, annotation) -> None:
        self._watched = follow_changes(self._watched, annotation, self._on_centres_changed)

    def _on_centres_changed(self) -> None:
        """The centres shown changed (an edit, a detection, the threshold): tracks linked before are theirs
        no longer, so they are marked out of date and not exported until linked again."""
        self._changes += 1
        if self.linked is not None and self._linked_at != self._changes:
            self._show_out_of_date()

    def _show_out_of_date(self) -> None:
        self.export_button.setEnabled(False)
        if not self.status.text().startswith(OUT_OF_DATE):
            self.status.setText(f"{OUT_OF_DATE} {self.status.text()}")
            self._say_layer_stale()

    def _say_layer_stale(self) -> None:
        """Said where the user looks, once a Link: the panel's line lies below the fold of the dock, and the Tracks
        layer on the canvas kept drawing the tracks of centres since moved or deleted as if they were these."""
        annotation = self._annotation
        drawn = self._tracks_of(annotation.image) if annotation is not None else []
        if drawn:
            show_info(f"'{drawn[0].name}' shows the tracks of the centres as they were linked, not as they are "
                      "now: Link again (Tracks panel) for tracks of these centres; Export tracks waits for it")

    def _on_layer_removed(self, event) -> None:
        """Closing an image takes its tracks with it, as it takes its centres."""
        for layer in self._tracks_of(event.value):
            try:
                self.viewer.layers.remove(layer)
            except ValueError:
                pass  # the viewer is closing and took it already
        if self.layer is not None and self.layer not in self.viewer.layers:
            self.layer = None

    def _follow_name(self, event) -> None:
        """An image renamed: its tracks take its new name, as its centres do. Under the old one, they named no image:
        a dock opened again did not know them as its (shown over another image picked, left when it closed)."""
        image = event.source
        for layer, made_for in self.outputs_by_image():
            if made_for is image:
                layer.name = f"{image.name} tracks"

    def _tracks_of(self, image) -> list:
        """The image's Tracks layers in the viewer: those drawn for it, also under the name it had before a rename
        (its 'a tracks' stayed beside a new Link's 'c tracks', and after 'c' was closed), and any named for it."""
        name = f"{image.name} tracks"
        drawn = [layer for layer, made_for in self.outputs_by_image() if made_for is image]
        return drawn + [layer for layer in self.viewer.layers
                        if layer.name == name and _dock_drawn(layer) and layer not in drawn]

    def outputs_by_image(self) -> list[tuple]:
        """Each Tracks layer the panel drew that is in the viewer, with the image it was linked on."""
        return [(layer, image) for layer, image in list(self._made.items()) if layer in self.viewer.layers]

    def options(self) -> LinkOptions:
        return LinkOptions(self.range_spin.value(), self.memory_spin.value(), self.length_spin.value())

    def _settings(self, annotation) -> LinkSettings:
        """The boxes' settings, unrounded; 'none' (0) µm/px or fps: px² or frames."""
        mpp, fps = self.mpp_spin.exact_value() or None, self.fps_spin.exact_value() or None
        found = self._file_calibration[1] if self._file_calibration is not None else Calibration()
        mpp_from = _source_of(mpp, [(_image_microns_per_pixel(annotation), "the image's pixel size"),
                                     (_square_pixel_um(found), self._file_source())], "the panel's µm/px")
        # fps still holding what the interval filled it with: the interval was given, the lags its multiples.
        interval = self.interval_spin.exact_value() if fps is not None and self.fps_spin.holds_exact() else None
        file_fps = 1.0 / found.frame_interval_s if found.frame_interval_s else None
        fps_from = _source_of(fps, [(file_fps, self._file_source())],
                              "the panel's frame interval" if interval else "the panel's fps")
        return LinkSettings(self.options(), self.drift_check.isChecked(), mpp, mpp_from, fps, interval, fps_from)

    # ---- linking ---------------------------------------------------------------------------------
    @reports_errors
    def link(self) -> None:
        if self.running():
            return
        annotation = self.state.require_annotation()
        if not annotation.is_stack:
            raise ParticleDetectError("linking needs a stack of frames (T, Y, X); this image is a single frame")
        annotation.flush()
        table = self._linking_centres = annotation.visible_table()
        measurer = getattr(annotation, "measurer", None)
        if measurer is not None and len(table):
            table = pd.concat([table, measurer.measure(table)], axis=1)
        if table["frame"].nunique() < 2:
            raise ParticleDetectError("run Detect on all frames first: linking needs centres in at least two frames")
        self._annotation = annotation
        self._linked_at = self._changes
        self.status.setText(f"linking {len(table)} centres in {table['frame'].nunique()} frames…")
        self.worker = create_worker(link_and_measure, table, self._settings(annotation), _ignore_errors=True)
        self.worker.returned.connect(self._on_linked)
        self.worker.errored.connect(self._on_error)
        self.worker.finished.connect(self._on_finished)
        self.link_button.setEnabled(False)
        self.worker.start()

    def _on_linked(self, linked: Linked) -> None:
        annotation = self._annotation
        if annotation is None or annotation is not self.state.annotation or annotation.image not in self.viewer.layers:
            # Another image was picked meanwhile (its line read "linking…" for good): this Link waits for its own.
            if annotation is not None and annotation.image in self.viewer.layers:
                self._kept[annotation] = KeptLink(linked, self._linking_centres, drawn=False)
            self._show_picked()
            return
        self.linked = linked
        self._kept[annotation] = KeptLink(linked, self._linking_centres)
        self.layer = self._show(annotation, linked.tracks)
        self._show_linked(annotation, linked)
        if self._linked_at != self._changes:  # edited while it linked
            self._show_out_of_date()

    def _show_linked(self, annotation, linked: Linked) -> None:
        """What a Link made of the image: its status line, MSD plot and Export."""
        drift = ""
        if linked.drift is not None and len(linked.drift):
            last = linked.drift.iloc[-1]
            drift = f"; drift over the stack y {last['y']:+.1f} px, x {last['x']:+.1f} px (subtracted)"
        units = linked.settings.units()
        if not len(linked.tracks):
            self.status.setText(no_tracks_text(linked.settings.options, annotation.n_frames))
            self.plot.show_msd(None, None, None)
            self.export_button.setEnabled(False)  # an empty table, even after an earlier Link's tracks
            return
        if linked.msd is None:
            msd = "; no track spans two frames, so no MSD"
        else:
            said = describe_msd(linked.fit, units, linked.msd)
            msd = f"; {said}" if linked.fit is not None else f"; MSD: {said}"
        self.status.setText(f"{describe_tracks(linked.tracks)}{drift}{msd}")
        self.plot.show_msd(linked.msd, linked.fit, units)
        self.export_button.setEnabled(True)

    def _show(self, annotation, tracks: pd.DataFrame):
        """The image's Tracks layer, made or refreshed (napari needs at least one point to draw one)."""
        name = f"{annotation.image.name} tracks"
        data = tracks_layer_data(tracks)
        for existing in self._tracks_of(annotation.image):
            self.viewer.layers.remove(existing)
        if not len(data):
            return None
        layer = self.viewer.add_tracks(data, name=name, tail_length=int(max(2, annotation.n_frames)),
                                       tail_width=2, colormap="turbo", metadata={DOCK_TRACKS_KEY: True},
                                       **placement(annotation.image))
        self._made[layer] = annotation.image
        annotation.image.events.name.connect(self._follow_name)  # napari connects a method once
        if annotation.points is not None and annotation.points in self.viewer.layers:
            self.viewer.layers.selection.active = annotation.points  # the point tools keep acting on the centres
        return layer

    def _on_error(self, exc: BaseException) -> None:
        # The reason stays on the line: the notification saying it goes away.
        why = str(exc) if isinstance(exc, ParticleDetectError) else f"unexpectedly: {type(exc).__name__}: {exc}"
        self.status.setText(f"linking failed: {one_line(why)}")
        report(exc)

    def _on_finished(self) -> None:
        self.worker = None
        self._enable_link()

    # ---- export ----------------------------------------------------------------------------------
    def default_path(self) -> Path:
        annotation = self.state.require_annotation()
        path = image_path(annotation.image)
        stem = path.stem if path is not None else annotation.image.name
        folder = path.parent if path is not None else Path.cwd()
        return folder / f"{safe_stem(stem)}_tracks.csv"

    @reports_errors
    def export(self, path: str | Path | None = None) -> Path | None:
        if self.linked is None:
            raise ParticleDetectError("nothing to export yet: Link first")
        if self._linked_at != self._changes:
            raise ParticleDetectError("the centres changed since they were linked: Link again before exporting")
        if not len(self.linked.tracks):
            raise ParticleDetectError(f"nothing to export: {self.status.text()}")
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export tracks", str(self.default_path()), "CSV (*.csv)")
            if not path:
                return None
        path = Path(path)
        if path.suffix.lower() != ".csv":
            raise ParticleDetectError(f"{path.name}: tracks are exported as CSV; give a name ending in .csv")
        linked, settings, annotation = self.linked, self.linked.settings, self._annotation
        record = link_record(DOCK_EXPORT, image_path(annotation.image) or annotation.image.name, path,
                             settings.options, settings.drift, msd=msd_path(path) if linked.msd is not None else None,
                             microns_per_pixel=settings.microns_per_pixel, mpp_from=settings.mpp_from,
                             frames_per_second=settings.frames_per_second, fps_from=settings.fps_from,
                             max_lag=MAX_LAG)
        record = with_frame_interval(record, settings.frame_interval())
        check_beside_replaceable(path, record)
        with written_to(path, "the tracks"):
            written = write_link_outputs(tracks_with_physical(linked.tracks, annotation), record, linked.msd)
        units = record["units"]
        msd = (f" and the MSD ({units['msd']} against lag in {units['lagt']}) to {msd_path(written).name}"
               if linked.msd is not None else "")
        show_info(f"exported {linked.tracks['particle'].nunique()} tracks to {written}{msd}; parameters and units in "
                  f"{metadata_path(written).name}")
        return written


def no_tracks_text(options: LinkOptions, n_frames: int) -> str:
    """Why Link made no track: the minimum length is the usual cause, and the stack's length says by how much."""
    if options.min_length > 1:
        return (f"no tracks: none is seen in {options.min_length} frames or more (min length; the stack has "
                f"{n_frames} frames); lower min length and Link again")
    return "no tracks"


def with_frame_interval(record: dict, seconds: float | None) -> dict:
    """``record`` with ``frame_interval_s`` after its ``fps``, the interval a time-lapse was given in (``fps``,
    its reciprocal, reads 0.0016666666666666668 for 600 s); None where the record has no fps."""
    out = {}
    for key, value in record.items():
        out[key] = value
        if key == "fps":
            out["frame_interval_s"] = seconds if value is not None else None
    return out


def tracks_with_physical(tracks: pd.DataFrame, annotation) -> pd.DataFrame:
    """``tracks`` with the physical ``y_<unit>, x_<unit>`` the centres export writes, after the centre columns
    as there: the reader places a tracks CSV over its image by them, as it does a centres CSV."""
    scale, translate = (tuple(float(v) for v in pair[-2:]) for pair in (annotation.image.scale,
                                                                         annotation.image.translate))
    placed = with_physical(tracks, scale, translate, unit_suffix(annotation))
    physical = [c for c in placed.columns if c not in tracks.columns]
    centre = [c for c in TABLE_COLUMNS if c in tracks.columns]
    rest = [c for c in tracks.columns if c not in centre]
    return placed[centre + physical + rest]


def check_beside_replaceable(path: Path, record: dict) -> None:
    """The save dialog asks before replacing ``path`` alone: the files written beside it (the MSD, the .json
    of each) may replace an earlier tracks export's, never another file of the same name (someone's MSD,
    notes, detect's .json). One ParticleDetectError naming the first such file, before anything is written."""
    for beside in link_output_paths(record):
        if beside != path and (beside.exists() or beside.is_symlink()) and not written_by_linking(beside):
            raise ParticleDetectError(f"{beside}: already there and not from a tracks export; move it, or export the "
                                      "tracks under another name")


class UnitBox(ExactSpinBox):
    """A positive number for the MSD's units, 0 shown as ``none_text`` (not set: px or frames), shown with the
    decimals it needs (0.01625 µm/px, 1/600 fps) and no trailing zeros."""

    def __init__(self, none_text: str) -> None:
        super().__init__()
        self.setDecimals(6)
        self.setRange(0.0, 1_000_000.0)
        self.setSpecialValueText(none_text)
        self.setValue(0.0)

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt's name)
        text = super().textFromValue(value)
        point = self.locale().decimalPoint()
        return text.rstrip("0").rstrip(point) if point in text else text


def _image_microns_per_pixel(annotation) -> float | None:
    """The image's own pixel size where its scale is in micrometres."""
    return float(annotation.image.scale[-1]) if unit_suffix(annotation) == "um" else None


def _square_pixel_um(calibration: Calibration) -> float | None:
    """The µm per pixel of a file's calibration where its pixels are square (the MSD takes one length)."""
    pixel = calibration.pixel_um
    return pixel[0] if pixel is not None and _same_size(*pixel) else None


def _source_of(value: float | None, known: list[tuple[float | None, str | None]], otherwise: str) -> str | None:
    """Where ``value`` came from: the first of ``known`` (value, where) that it is, else ``otherwise``; None
    without a value."""
    if value is None:
        return None
    return next((where for candidate, where in known if candidate is not None and _same_size(value, candidate)),
                otherwise)


def _reciprocal(value: float) -> float:
    """An fps of an interval, or an interval of an fps; 0 (none) of 0."""
    return 1.0 / value if value > 0 else 0.0


def _same_size(first: float, second: float) -> bool:
    return math.isclose(first, second, rel_tol=PIXEL_SIZE_TOLERANCE)


OUT_OF_DATE = "⚠ out of date (the centres changed since Link; Link again):"


def msd_path(path: Path) -> Path:
    return Path(path).with_name(Path(path).stem + "_msd.csv")


