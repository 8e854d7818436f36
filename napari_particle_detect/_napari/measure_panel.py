"""Measurements: trackpy's mass, size, ecc, signal and raw_mass beside each centre, as point features,
and the points coloured by the score or any feature.

The measurements are derived data (the image and the centres decide them), so they live on the
Points layer, not in the project: after every edit or detection the edited frames are measured again
(:class:`measurements.FrameMeasurer` remembers the others), and Export adds them as columns.
"""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd
from matplotlib import colormaps
from qtpy.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox

from ..detection.measurements import MEASUREMENT_COLUMNS, FrameMeasurer, describe_columns
from .annotation import follow_changes
from .image_views import layer_pixels
from .labels import WholeLabel
from .layers import SOURCE_COLOURS, table_from_points
from .notify import report
from .state import DockState

COLOUR_CHOICES = ("source", "score", *MEASUREMENT_COLUMNS)
COLORMAP = "viridis"
MISSING = (0.6, 0.6, 0.6, 1.0)  # points without the value (added by hand: no score)
UNSIZED = "not measured: run Detect on this image first (measuring needs the particle size it finds)"


def feature_colours(values: np.ndarray, colormap: str = COLORMAP) -> tuple[np.ndarray, tuple[float, float] | None]:
    """RGBA per value on ``colormap`` between the 2nd and 98th percentiles (one outlier does not wash
    out the rest); grey where a value is missing. Returns (colours, the limits used)."""
    values = np.asarray(values, dtype=float)
    colours = np.tile(np.asarray(MISSING), (len(values), 1))
    finite = np.isfinite(values)
    if not finite.any():
        return colours, None
    low, high = np.percentile(values[finite], [2, 98])
    if high <= low:
        high = low + 1e-9
    scaled = np.clip((values[finite] - low) / (high - low), 0.0, 1.0)
    colours[finite] = colormaps[colormap](scaled)
    return colours, (float(low), float(high))


class MeasurePanel(QGroupBox):
    def __init__(self, state: DockState) -> None:
        super().__init__("Measurements")
        self.state = state
        self._watched = None  # the annotation whose changes re-measure
        # The layers whose rings show something other than their source: one per image, each restored on its
        # own (one flag for all, the image switched to took another image's restore and kept its colours).
        self._recoloured: weakref.WeakSet = weakref.WeakSet()
        self.measure_check = QCheckBox("trackpy's measurements per centre")
        self.measure_check.setToolTip(", ".join(MEASUREMENT_COLUMNS) + " of each centre, measured on the original "
                                      "image as trackpy.locate measures its features; shown as point features, "
                                      "and in Export. " + describe_columns())
        self.colour_combo = QComboBox()
        self.colour_combo.addItems(list(COLOUR_CHOICES))
        self.colour_combo.setToolTip("Colour the centres' rings by their source, score or a measurement")
        self.legend = WholeLabel(hidden_when_empty=True)
        self.legend.setStyleSheet("color: gray; font-size: 10px")
        form = QFormLayout(self)
        form.addRow(self.measure_check)
        form.addRow("Colour by", self.colour_combo)
        form.addRow(self.legend)

        self.measure_check.toggled.connect(lambda *_: self.apply())
        self.colour_combo.currentTextChanged.connect(lambda *_: self.apply())
        state.annotation_changed.connect(self._on_annotation)
        # A threshold move may rebuild the layer's points (and so their features and colours).
        state.threshold_changed.connect(lambda *_: self.apply())

    # ---- following the image worked on -------------------------------------------------------------
    def _on_annotation(self, annotation) -> None:
        self._watched = follow_changes(self._watched, annotation, self.apply)
        self.apply()

    def measuring(self) -> bool:
        return self.measure_check.isChecked()

    # ---- measuring and colouring ----------------------------------------------------------------
    def _measurer(self, annotation) -> FrameMeasurer | None:
        """The annotation's measurer for its image at the project's diameter (a new one if that changed); None
        before its first Detect (centres placed by hand), which finds the size measuring needs."""
        diameter = annotation.project.diameter
        if diameter is None:
            return None
        measurer = getattr(annotation, "measurer", None)
        pixels = layer_pixels(annotation.image)
        if measurer is None or measurer.diameter != float(diameter) or measurer.stack is not pixels:
            polarity = annotation.project.polarity
            measurer = FrameMeasurer(pixels, float(diameter),
                                     {"dark": True, "bright": False}.get(polarity))
        return measurer

    def apply(self) -> None:
        """Measure (when asked) and colour the current image's centres; called after every change.
        A failure here is reported and measuring stops: it must never break the edit that called it."""
        try:
            self._apply()
        except Exception as exc:  # noqa: BLE001 (reported, not swallowed)
            if self.measuring():
                self.measure_check.blockSignals(True)
                self.measure_check.setChecked(False)
                self.measure_check.blockSignals(False)
                if self.state.annotation is not None:
                    self.state.annotation.measurer = None
            report(exc)

    def _apply(self) -> None:
        annotation = self.state.annotation
        if annotation is None:
            self.legend.setText("")
            return
        layer = annotation.points
        present = layer is not None and layer in annotation.viewer.layers
        if not self.measuring():
            annotation.measurer = None  # Export leaves the columns out
            # Left on the layer they would go stale with the next edit, yet still colour the rings, show in
            # the status bar and be saved by File > Save.
            dropped = present and drop_measurements(layer)
            if not dropped and self.colour_combo.currentText() == "source" and layer not in self._recoloured:
                return  # nothing to do: the layer looks as the dock made it
        if not present:
            self.legend.setText("")  # the last image's range of values would pass for this one's
            return
        features = layer.features
        if self.measuring():
            annotation.measurer = self._measurer(annotation)
            if annotation.measurer is None:
                # This image alone: unticking the box for it stopped the measuring of every other image.
                drop_measurements(layer)
                self._colour(layer, layer.features)
                coloured_by = "" if self.colour_combo.currentText() in MEASUREMENT_COLUMNS else self.legend.text()
                self.legend.setText(f"{UNSIZED}; {coloured_by}" if coloured_by else UNSIZED)
                return
            # The layer's own rows (not the annotation's whole table): the features go row by row.
            table = table_from_points(layer.data, layer.features)
            measured = annotation.measurer.measure(table)
            features = layer.features.reset_index(drop=True).copy()
            for column in MEASUREMENT_COLUMNS:
                features[column] = measured[column].to_numpy()
            layer.features = features
            # What napari gives a point added by hand: no measurement until the next pass.
            layer.feature_defaults = {**{c: layer.feature_defaults[c].iloc[0] for c in ("score", "source")},
                                      **{c: np.nan for c in MEASUREMENT_COLUMNS}}
        self._colour(layer, features)

    def _colour(self, layer, features: pd.DataFrame) -> None:
        by = self.colour_combo.currentText()
        if by in MEASUREMENT_COLUMNS and by not in features:
            self.legend.setText(f"tick the box above to measure {by}")
            by = "source"
        if by == "source":
            if layer in self._recoloured:
                layer.border_color_cycle = SOURCE_COLOURS
                layer.border_color = "source"
                self._recoloured.discard(layer)
            if self.colour_combo.currentText() == "source":
                self.legend.setText("yellow: network, lime: accepted, cyan: added")
            return
        colours, limits = feature_colours(features[by].to_numpy(float))
        if len(colours):
            layer.border_color = colours
            self._recoloured.add(layer)
        text = f"{by}: {limits[0]:.4g} (purple) to {limits[1]:.4g} (yellow)" if limits else f"no {by} values"
        self.legend.setText(text + ("; grey: none (added by hand)" if by == "score" else ""))




def drop_measurements(layer) -> bool:
    """Take the measurement features off a Points layer; returns whether it had any."""
    stale = [c for c in MEASUREMENT_COLUMNS if c in layer.features]
    if not stale:
        return False
    defaults = {c: layer.feature_defaults[c].iloc[0] for c in layer.feature_defaults if c not in stale}
    layer.features = layer.features.drop(columns=stale)
    layer.feature_defaults = defaults
    return True
