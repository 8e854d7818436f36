"""An image file's calibration, its pixel size in micrometres and the time between its frames (a series of
volumes: between its volumes), as its metadata gives them (ImageJ TIFF, OME-TIFF, OME-Zarr); detect records it
per input in its .json (not as ``y_um, x_um`` columns, by which napari's reader would place the centres off an
image it opens at scale 1), and link takes its MSD's units back from there.

A pixel size counts only where the file names a length for it (:func:`axes.in_micrometres`): ImageJ's
"pixel" (an uncalibrated image), or no unit at all, gives none, as for volumes (files.axes). A frame
interval counts only in a unit of time.
"""

from __future__ import annotations

import logging
import math
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .axes import MICROMETRE, _clean_unit, _zyx_voxel

# Seconds per unit of time, as ImageJ (``tunit``), OME (``TimeIncrementUnit``) and OME-Zarr name them.
SECONDS = {
    "s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0,
    "ms": 1e-3, "msec": 1e-3, "millisecond": 1e-3, "milliseconds": 1e-3,
    "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "microsecond": 1e-6, "microseconds": 1e-6,
    "min": 60.0, "minute": 60.0, "minutes": 60.0, "h": 3600.0, "hr": 3600.0, "hour": 3600.0, "hours": 3600.0,
}
# y and x pixel sizes this close (relative) are one size: ImageJ keeps each as a rounded fraction.
SQUARE_TOLERANCE = 0.01
# Said of pixels that are not square, and of particles read stretched (sizing.stretched): a diameter given would
# not make them round. Here, not in detection.sizing, so that warning of a file's pixels needs no torch.
SQUARE_PIXELS_ADVICE = "resample the image to square pixels first"
# The keys of detect's .json ``inputs[i]`` that hold a Calibration.
PIXEL_KEY, INTERVAL_KEY = "pixel_size_yx_um", "frame_interval_s"


@dataclass(frozen=True)
class Calibration:
    """``pixel_um``: the y and x pixel size in micrometres; ``frame_interval_s``: seconds from one frame to the
    next. None where the file does not say (or says it in no length, no time)."""

    pixel_um: tuple[float, float] | None = None
    frame_interval_s: float | None = None

    def record(self) -> dict:
        """As detect's .json records it in each ``inputs[i]`` (null where unknown)."""
        return {PIXEL_KEY: list(self.pixel_um) if self.pixel_um else None, INTERVAL_KEY: self.frame_interval_s}

    @classmethod
    def from_record(cls, record: dict) -> Calibration:
        """What :meth:`record` wrote (values that are no positive numbers read as unknown)."""
        pixel = record.get(PIXEL_KEY)
        pixel = tuple(pixel) if isinstance(pixel, list) and len(pixel) == 2 and all(map(_positive, pixel)) else None
        interval = record.get(INTERVAL_KEY)
        return cls(pixel, float(interval) if _positive(interval) else None)


def not_square(calibration: Calibration) -> str | None:
    """Words for a calibration whose pixels are not square (a y size other than the x size), which detection
    reads as square: round particles look stretched, and neither a given diameter nor the centres fit them;
    None for square pixels or none known."""
    if calibration.pixel_um is None:
        return None
    y, x = calibration.pixel_um
    if math.isclose(y, x, rel_tol=SQUARE_TOLERANCE):
        return None
    return (f"its metadata gives pixels of {y:.4g} µm in y and {x:.4g} µm in x, not square, and detection reads "
            f"them as square: particles look stretched {max(y, x) / min(y, x):.2g} times along {'x' if y > x else 'y'}; "
            f"{SQUARE_PIXELS_ADVICE}, or the sizes and positions found may be off")


def warn_if_not_square(name: str | Path, calibration: Calibration) -> None:
    """The warning of a file (``name``) whose pixels are not square (:func:`not_square`), as detect and
    read_image give it; nothing for square ones or none known."""
    words = not_square(calibration)
    if words is not None:
        logging.getLogger(__name__).warning("%s: %s", name, words)


def _positive(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def _pixel_um(sizes: Iterable[object], units: Iterable[object]) -> tuple[float, float] | None:
    """y, x ``sizes`` in micrometres where both ``units`` are lengths and both sizes positive, else None."""
    try:
        values, named = _zyx_voxel(list(sizes), list(units))
    except (TypeError, ValueError):
        return None
    return (values[0], values[1]) if set(named) == {MICROMETRE} and all(map(_positive, values)) else None


def _seconds(value: object, unit: object) -> float | None:
    factor = SECONDS.get(_clean_unit(unit).lower()) if unit is not None else None
    try:
        seconds = float(value) * factor if factor is not None else None
    except (TypeError, ValueError):
        return None
    return seconds if _positive(seconds) else None


def file_calibration(path: str | Path) -> Calibration:
    """What ``path``'s metadata says of its pixel size and frame interval (:class:`Calibration`); nothing for
    files of other formats, or whose metadata cannot be read (the image itself was read, and is detected)."""
    from .io import _quiet_tifffile, is_zarr

    path = Path(path)
    try:
        if is_zarr(path):
            return _zarr_calibration(path)
        if path.suffix.lower() in (".tif", ".tiff"):
            import tifffile

            with _quiet_tifffile(), tifffile.TiffFile(path) as tif:
                return _ome_calibration(tif.ome_metadata) if tif.is_ome else _imagej_calibration(tif)
    except Exception:  # noqa: BLE001 - metadata beyond reading gives no calibration, not a failed detection
        pass
    return Calibration()


def _imagej_calibration(tif) -> Calibration:
    """ImageJ's pixel size (the resolution tags, in its ``unit``) and ``finterval`` (in its ``tunit``, seconds
    by default)."""
    meta = tif.imagej_metadata or {}
    pixel = None
    tags = tif.pages[0].tags
    if "unit" in meta and "XResolution" in tags and "YResolution" in tags:
        # Resolution is pixels per unit, a fraction (numerator, denominator).
        per_unit = [tags[name].value for name in ("YResolution", "XResolution")]
        if all(numerator for numerator, _ in per_unit):
            pixel = _pixel_um([den / num for num, den in per_unit], [meta["unit"]] * 2)
    interval = _seconds(meta["finterval"], meta.get("tunit", "s")) if "finterval" in meta else None
    return Calibration(pixel, interval)


def _ome_calibration(xml: str | None) -> Calibration:
    """OME's PhysicalSize{Y,X} (micrometres unless their units say otherwise) and TimeIncrement (seconds unless
    its unit says otherwise)."""
    if not xml:
        return Calibration()
    for element in ElementTree.fromstring(xml).iter():
        if element.tag.endswith("Pixels"):
            sizes = [element.get(f"PhysicalSize{axis}") for axis in "YX"]
            pixel = _pixel_um(sizes, [element.get(f"PhysicalSize{axis}Unit", MICROMETRE) for axis in "YX"]) \
                if all(sizes) else None
            increment = element.get("TimeIncrement")
            interval = _seconds(increment, element.get("TimeIncrementUnit", "s")) if increment else None
            return Calibration(pixel, interval)
    return Calibration()


def _zarr_calibration(path: Path) -> Calibration:
    """An OME-Zarr's y, x and t scale of its full-resolution level, in the units its axes name."""
    from .io import zarr_array, zarr_axes

    node, multiscale = zarr_array(path)
    if not multiscale:
        return Calibration()
    letters = zarr_axes(multiscale, len(node.shape))
    units = {a: (axis.get("unit") if isinstance(axis, dict) else None)
             for a, axis in zip(letters, multiscale.get("axes") or [])}
    scale = {}
    for transform in multiscale["datasets"][0].get("coordinateTransformations", []):
        if transform.get("type") == "scale":
            scale = dict(zip(letters, transform["scale"]))
    pixel = _pixel_um([scale["Y"], scale["X"]], [units.get("Y"), units.get("X")]) if {"Y", "X"} <= set(scale) \
        else None
    interval = _seconds(scale["T"], units.get("T")) if "T" in scale else None
    return Calibration(pixel, interval)


def recorded_calibrations(meta: dict, files: Iterable[str] | None = None) -> dict[str, Calibration]:
    """Each input's calibration as detect's .json ``meta`` records it, by the file it names; ``files``: those
    alone (a table's ``file`` column), None for every input. A volume's records its y, x voxel size and the time
    between its volumes, as a 2D image's its pixel size and frame interval. Inputs of earlier versions (without
    the keys, volumes' among them) are left out: they say nothing of this."""
    wanted = None if files is None else set(map(str, files))
    found = {}
    for record in meta.get("inputs") or []:
        if isinstance(record, dict) and "file" in record and PIXEL_KEY in record and INTERVAL_KEY in record:
            if wanted is None or str(record["file"]) in wanted:
                found[str(record["file"])] = Calibration.from_record(record)
    return found
