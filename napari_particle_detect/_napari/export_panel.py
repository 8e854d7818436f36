"""Export: every frame's visible centres to one CSV, in pixels and physical units, plus counts per frame."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from .notify import show_info
from qtpy.QtWidgets import QFileDialog, QGroupBox, QPushButton, QVBoxLayout

from ..errors import ParticleDetectError
from ..files.calibration import file_calibration
from ..files.centre_csv import centres_csv_text
from ..files.io import atomic_write_texts
from ..files.tables import Placement, export_tables
from .annotation import Annotation, image_path
from .image_views import pixels_file
from .labels import PathLabel
from .layers import SAVE_RULE, unit_suffix_of
from .notify import reports_errors, written_to
from .state import DockState


def unit_suffix(annotation: Annotation) -> str:
    """Column suffix for physical coordinates: 'um' for micrometres, the unit's symbol otherwise."""
    return unit_suffix_of(getattr(annotation.image, "units", None))


def counts_path(path: Path) -> Path:
    return path.with_name(path.stem + "_counts.csv")


# The columns an export's per-frame counts begin with (``detected`` follows since a stopped Detect's export).
COUNTS_HEADER = ("frame", "count", "reviewed")


def check_counts_replaceable(path: Path) -> None:
    """The save dialog asks before replacing ``path`` alone: the counts written beside it may replace an earlier
    export's counts, never another file of that name (someone's own counts, notes). One ParticleDetectError
    naming it, before anything is written."""
    beside = counts_path(path)
    if not (beside.exists() or beside.is_symlink()) or _is_export_counts(beside):
        return
    raise ParticleDetectError(f"{beside}: already there and not an export's counts, which would replace it; move "
                              "it, or export the centres under another name")


def _is_export_counts(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as handle:
            header = handle.readline().strip().split(",")
    except (OSError, UnicodeDecodeError):
        return False
    return tuple(header[:len(COUNTS_HEADER)]) == COUNTS_HEADER


# Where napari places a layer it was told nothing about: its readers open an ImageJ or OME TIFF so.
UNPLACED = Placement((1.0, 1.0), (0.0, 0.0), "")


def export_placement(annotation: Annotation) -> tuple[Placement, Path | None]:
    """Where the image's pixels lie, for the export's physical columns, and the file that said so (None: the
    layer). The layer's scale, offset and units, where the user (or a reader) set any; else the pixel size its
    file's metadata gives (files.calibration, as detect records it): napari opens a calibrated TIFF at scale 1 in
    pixels, and the export lost its micrometres."""
    image = annotation.image
    scale, translate = (tuple(float(v) for v in pair[-2:]) for pair in (image.scale, image.translate))
    placed = Placement(scale, translate, unit_suffix(annotation))
    path = pixels_file(image) if placed == UNPLACED else None
    pixel_um = file_calibration(path).pixel_um if path is not None else None
    if pixel_um is None:
        return placed, None
    return Placement(pixel_um, (0.0, 0.0), "um"), path


def export_annotation(annotation: Annotation, path: str | Path, placed: Placement | None = None) -> tuple[Path, Path]:
    """Write ``path`` (frame,y,x,score,source[,y_<unit>,x_<unit>]) and ``<path stem>_counts.csv``; ``placed``: the
    image's :func:`export_placement`, when known."""
    annotation.flush()
    placed = placed or export_placement(annotation)[0]
    centres, counts = export_tables(annotation.visible_table(), placed.scale, placed.unit,
                                    annotation.n_frames, annotation.project.reviewed_frames, placed.translate,
                                    annotation.detected_frames())
    measurer = getattr(annotation, "measurer", None)  # set while the Measurements panel measures
    if measurer is not None and len(centres):
        centres = pd.concat([centres, measurer.measure(centres)], axis=1)
    path = Path(path)
    if path.suffix.lower() != ".csv":  # as the tracks' export: a name without it made "cells" and cells_counts.csv
        raise ParticleDetectError(f"{path.name}: centres are exported as CSV; give a name ending in .csv")
    check_counts_replaceable(path)
    texts = {path: centres_csv_text(centres, path), counts_path(path): centres_csv_text(counts, counts_path(path))}
    with written_to(path, "the centres"):
        atomic_write_texts(texts)  # both or neither: never new centres beside an earlier export's counts
    return path, counts_path(path)


def export_summary(annotation: Annotation) -> str:
    """How many centres went out, and from which frames: frames never detected are named apart, not
    counted in the spread (a 24-frame stack with 2 detected read as if every frame held ~470 centres)."""
    table = annotation.visible_table()
    detected = sorted(annotation.detected_frames())
    n = annotation.n_frames
    frames = f"{n} frame{'s' if n != 1 else ''}" if len(detected) == n else f"{len(detected)} of {n} frames ({n - len(detected)} not detected)"
    if not detected:
        return f"{len(table)} centres in {frames}"
    per_frame = table.groupby("frame").size().reindex(detected, fill_value=0)
    which = "per frame" if len(detected) == n else "per detected frame"
    return (f"{len(table)} centres in {frames}; {which} {per_frame.min()}–{per_frame.max()}, "
            f"median {per_frame.median():.0f}")


def calibration_note(placed: Placement, path: Path | None) -> str:
    """Where the export's micrometres came from (:func:`export_placement`) when not from the layer: said, as the
    layer, drawn in pixels, does not show them."""
    if path is None:
        return ""
    size = " x ".join(f"{v:g}" for v in dict.fromkeys(placed.scale))
    return f"\ny_um, x_um at {size} µm per pixel, from {path.name}'s metadata (the layer is at scale 1)"


def safe_stem(name: str, default: str = "image") -> str:
    """A layer's or file's ``name`` fit to start a file's name: a layer named by hand may hold "/" (a path into a
    folder that is not there) or other characters a file system refuses."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("._") or default


def default_export_path(annotation: Annotation, working_folder: Path | None = None) -> Path:
    """Beside the image file; for an image without one (a sample, a view), in the working folder."""
    path = image_path(annotation.image)
    stem = path.stem if path is not None else annotation.image.name
    folder = path.parent if path is not None else (working_folder or Path.cwd())
    return folder / f"{safe_stem(stem)}_centres.csv"


class ExportPanel(QGroupBox):
    def __init__(self, state: DockState) -> None:
        super().__init__("Export")
        self.state = state
        self.button = QPushButton("Export centres to CSV…")
        self.button.setToolTip("All frames: frame,y,x,score,source in pixels (and physical units when the "
                               "layer, or else its file's metadata, gives a pixel size), plus a count per frame in "
                               f"*_counts.csv. {SAVE_RULE}")
        # Names the files written after the image: one long unbroken word, it widened the dock's rows past the
        # dock, a sideways scrollbar hiding every control at its right edge.
        self.summary = PathLabel(hidden_when_empty=True)  # before an export: no blank band under Export
        self._summaries: dict[Path, str] = {}  # the last export's summary per project, shown with its image
        layout = QVBoxLayout(self)
        layout.addWidget(self.button)
        layout.addWidget(self.summary)
        self.button.clicked.connect(lambda *_: self.export())
        state.annotation_changed.connect(lambda *_: self.refresh())

    def refresh(self) -> None:
        """Another image (or none): the summary shown is that image's last export, if any (the dock's texts
        are per image)."""
        annotation = self.state.annotation
        self.button.setEnabled(annotation is not None)
        self.summary.setText(self._summaries.get(annotation.project.folder, "") if annotation is not None else "")

    def default_path(self) -> Path:
        return default_export_path(self.state.require_annotation())

    @reports_errors
    def export(self, path: str | Path | None = None) -> Path | None:
        annotation = self.state.require_annotation()
        if annotation.points is None and not annotation.project.saved_frames():
            raise ParticleDetectError("nothing to export yet: run Detect or add points first")
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, f"Export centres ({SAVE_RULE})", str(self.default_path()),
                                                  "CSV (*.csv)")
            if not path:
                return None
        placed, calibrated_by = export_placement(annotation)
        written, counts = export_annotation(annotation, path, placed)
        summary = (f"{export_summary(annotation)}\n→ {written.name}, {counts.name}"
                   f"{calibration_note(placed, calibrated_by)}")
        self._summaries[annotation.project.folder] = summary
        self.summary.setText(summary)
        show_info(f"exported {len(annotation.visible_table())} centres to {written}")
        return written
