"""trackpy's per-particle measurements (``mass, size, ecc, signal, raw_mass``) at our own centres.

trackpy's ``locate`` finds its own centres; here the centres are the model's (or the user's) and
only the measurements are trackpy's, computed exactly as ``locate`` computes them: the original
image (inverted for dark particles) is band-passed with ``noise_size`` 1 and ``smoothing_size`` the
diameter, converted to integers as ``locate`` does (so ``mass`` and ``signal`` are on trackpy's
scale and its ``minmass`` habits carry over), and each centre's circular neighbourhood of radius
``diameter // 2`` is characterised by ``trackpy.refine_com(..., characterize=True)``. The
neighbourhood sits on the centre's nearest pixel, as it does in trackpy. Centres near the edge are
measured on the part of their neighbourhood inside the image (the rest counts as zero), where
``locate`` would not report them at all.

NaN and infinite pixels (a mosaic's gaps) are missing data, as detection reads them: they are set to the local
background as detection sets them (preprocessing.filled_gaps), so that the band-pass spreads no NaN into the
measurements around them, and a centre whose circle reaches into a gap gets NaN in every measurement: the part of
its particle the gap hides is not measured but made up, so no value of it could be trusted, and NaN is what a
table's ``dropna``, a ``mass > minmass`` filter and a histogram already leave out. Those centres are few: detection
keeps none within half a radius of a gap.

No Qt or torch here.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import ParticleDetectError
from .preprocessing import clear_of_gaps, filled_gaps, missing_pixels

MEASUREMENT_COLUMNS = ("mass", "size", "ecc", "signal", "raw_mass")
# Gaps are filled from the local background read in blocks about this many particle diameters wide, as detection
# reads it (preprocessing.FLATTEN_BLOCK at the model's working scale: 64 px for its 15 px particles).
GAP_BLOCK_DIAMETERS = 4.0


def _frames(stack):
    """A (T, Y, X) view of a 2D image or a stack (lazy stacks stay lazy: frames are read one at a time)."""
    if not hasattr(stack, "ndim"):
        stack = np.asarray(stack)
    if stack.ndim == 2:
        return np.asarray(stack)[None]
    if stack.ndim != 3:
        raise ParticleDetectError(f"measurements need a 2D image or a T/Z stack, got shape {tuple(stack.shape)}")
    return stack


def trackpy_diameter(diameter: float) -> int:
    """trackpy's diameter for a particle of ``diameter`` px: an odd whole number, rounded up, at least 3."""
    if not np.isfinite(diameter) or diameter <= 0:
        raise ParticleDetectError(f"particle diameter must be a positive number, got {diameter!r}")
    size = max(3, int(np.ceil(diameter - 1e-9)))
    return size if size % 2 else size + 1


def particles_are_dark(frame: np.ndarray, centres: np.ndarray) -> bool:
    """Whether the particles at ``centres`` are darker than the frame's typical pixel (bright-field,
    absorbing particles): then they are measured on the inverted image, as trackpy's ``invert``."""
    frame = np.asarray(frame, dtype=np.float64)
    centres = np.asarray(centres, dtype=float).reshape(-1, 2)
    if not len(centres):
        return False
    rows = np.clip(np.rint(centres[:, 0]).astype(int), 0, frame.shape[0] - 1)
    cols = np.clip(np.rint(centres[:, 1]).astype(int), 0, frame.shape[1] - 1)
    # Of the finite pixels only: one NaN (a mosaic's gap) made either median NaN, and dark particles read bright.
    at_centres, everywhere = (values[np.isfinite(values)] for values in (frame[rows, cols], frame))
    if not len(at_centres):
        return False
    return float(np.median(at_centres)) < float(np.median(everywhere))


def _invert(frame: np.ndarray) -> np.ndarray:
    """The frame with dark particles made bright, on the same value range (trackpy's ``invert_image``
    assumes floats span 0..1, which microscopy floats rarely do)."""
    if np.issubdtype(frame.dtype, np.integer):
        import trackpy

        return trackpy.invert_image(frame)
    return (float(np.max(frame)) + float(np.min(frame))) - frame


def measure_frame(frame: np.ndarray, centres: np.ndarray, diameter: float, invert: bool = False,
                  engine: str = "python") -> pd.DataFrame:
    """trackpy's ``mass, size, ecc, signal, raw_mass`` for each of ``centres`` ((y, x) rows, pixels)
    in one 2D ``frame``, one row per centre in the same order; NaN for a centre whose circle reaches into the
    frame's NaN or infinite pixels (see the module's notes)."""
    import trackpy
    from trackpy.preprocessing import bandpass, convert_to_int

    raw = np.asarray(frame)
    if raw.ndim != 2:
        raise ParticleDetectError(f"measurements need a 2D frame, got shape {raw.shape}")
    centres = np.asarray(centres, dtype=float).reshape(-1, 2)
    if not len(centres):
        return pd.DataFrame({c: pd.Series(dtype=float) for c in MEASUREMENT_COLUMNS})
    if not np.isfinite(centres).all():
        raise ParticleDetectError("centres must have finite y and x to be measured")
    if raw.dtype == bool:
        raw = raw.astype(np.uint8)
    size = trackpy_diameter(diameter)
    radius = size // 2
    missing = missing_pixels(raw)
    if missing is not None:
        if missing.all():
            return pd.DataFrame(np.nan, index=range(len(centres)), columns=list(MEASUREMENT_COLUMNS))
        raw = filled_gaps(raw, missing, GAP_BLOCK_DIAMETERS * diameter)
    if invert:
        raw = _invert(raw)
    is_float = not np.issubdtype(raw.dtype, np.integer)
    threshold = 1 / 255.0 if is_float else 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # trackpy's hints about colour images and float gamuts
        image = bandpass(raw, 1, size, threshold)
    scale_factor, image = convert_to_int(image, np.uint8 if is_float else raw.dtype)
    # The neighbourhood of a centre by the edge reaches outside the frame: zeros there, as if the
    # frame went on dark (trackpy itself does not look so close to the edge).
    image = np.pad(image, radius)
    raw = np.pad(raw, radius)
    nearest = nearest_pixels(centres, frame.shape[-2:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = trackpy.refine_com(raw, image, radius, nearest + radius, max_iterations=1, engine=engine,
                                   characterize=True)
    out = found[list(MEASUREMENT_COLUMNS)].reset_index(drop=True).astype(float)
    # As locate: the integer conversion scaled the band-passed image; raw_mass, size and ecc do not depend on it.
    out["mass"] /= scale_factor
    out["signal"] /= scale_factor
    out.loc[reaching_gaps(centres, missing, diameter), :] = np.nan
    return out


def nearest_pixels(centres: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The pixel of a frame of ``shape`` nearest each of ``centres`` ((y, x) rows), where trackpy's circle sits."""
    return np.clip(np.rint(np.asarray(centres, dtype=float).reshape(-1, 2)), 0, np.array(shape[-2:]) - 1)


def reaching_gaps(centres: np.ndarray, missing: np.ndarray | None, diameter: float) -> np.ndarray:
    """Where the circle trackpy measures around each of ``centres`` ((y, x) rows, px) for particles of ``diameter``
    px reaches one of the frame's ``missing`` pixels: :func:`measure_frame` leaves those centres NaN (see the
    module's notes), and detection says how many it keeps so."""
    centres = np.asarray(centres, dtype=float).reshape(-1, 2)
    if missing is None:
        return np.zeros(len(centres), bool)
    radius = trackpy_diameter(diameter) // 2
    return ~clear_of_gaps(nearest_pixels(centres, missing.shape), missing, (radius, radius), reach=1.0)


def unmeasured_rows(table: pd.DataFrame) -> int:
    """The rows of a measured ``table`` a gap left without measurements (:func:`reaching_gaps`): those NaN in every
    column, as nothing else leaves them (raw_mass, the circle's sum of the filled frame, is finite)."""
    return int(table[list(MEASUREMENT_COLUMNS)].isna().all(axis=1).sum())


def measure_table(stack, table: pd.DataFrame, diameter: float, invert: bool | None = None,
                  engine: str = "python") -> pd.DataFrame:
    """``table`` (``frame, y, x, ...``) with trackpy's measurements as extra columns, rows in the same
    order. ``stack`` is a 2D image or a T/Z stack indexed by ``frame``; ``invert`` None decides per
    stack from the particles' brightness (:func:`particles_are_dark`, judged on the first frame with centres)."""
    frames = _frames(stack)
    out = table.copy()
    for column in MEASUREMENT_COLUMNS:
        out[column] = np.nan
    if not len(table):
        return out
    frame_numbers = table["frame"].to_numpy(int) if "frame" in table else np.zeros(len(table), dtype=int)
    bad = (frame_numbers < 0) | (frame_numbers >= len(frames))
    if bad.any():
        raise ParticleDetectError(f"centre in frame {int(frame_numbers[bad][0])}, but the image has {len(frames)} "
                                  f"frame{'s' if len(frames) != 1 else ''}")
    if invert is None:
        invert = stack_inversion(frames, table)
    for number in np.unique(frame_numbers):
        rows = np.flatnonzero(frame_numbers == number)
        frame = np.asarray(frames[int(number)])
        centres = table[["y", "x"]].to_numpy(float)[rows]
        values = measure_frame(frame, centres, diameter, invert, engine)
        out.iloc[rows, [out.columns.get_loc(c) for c in MEASUREMENT_COLUMNS]] = values.to_numpy()
    return out


def stack_inversion(stack, table: pd.DataFrame) -> bool | None:
    """Whether trackpy should measure ``stack``'s particles inverted (:func:`particles_are_dark`), decided once
    for the whole stack on the first frame with centres, so measurements stay comparable between frames;
    None where ``table`` holds no centre to judge by."""
    if not len(table):
        return None
    frames = _frames(stack)
    first = int(table["frame"].min()) if "frame" in table else 0
    rows = table["frame"] == first if "frame" in table else np.ones(len(table), dtype=bool)
    return particles_are_dark(np.asarray(frames[first]), table.loc[rows, ["y", "x"]].to_numpy(float))


class FrameMeasurer:
    """Measurements of one image's centres, remembered point by point (a centre's measurements depend
    on the image and where it is, not on the other centres): the dock re-measures after every edit
    and threshold move, and only centres it has not seen where they are now cost anything."""

    def __init__(self, stack, diameter: float, invert: bool | None = None) -> None:
        self.stack = stack
        self.diameter = float(diameter)
        self.invert = invert
        self._cache: dict[int, tuple[bytes, pd.DataFrame]] = {}  # frame -> (positions asked, y, x + values)

    def measure(self, table: pd.DataFrame) -> pd.DataFrame:
        """The measurement columns for ``table``'s rows (same order and length)."""
        frames = _frames(self.stack)
        result = pd.DataFrame(np.nan, index=range(len(table)), columns=list(MEASUREMENT_COLUMNS))
        if not len(table):
            return result
        numbers = table["frame"].to_numpy(int) if "frame" in table else np.zeros(len(table), dtype=int)
        positions = table[["y", "x"]].to_numpy(float)
        if self.invert is None:  # judged as stack_inversion judges it, whatever the rows' order
            first = int(numbers.min())
            self.invert = particles_are_dark(np.asarray(frames[first]), positions[numbers == first])
        columns = list(MEASUREMENT_COLUMNS)
        for number in np.unique(numbers):
            rows = np.flatnonzero(numbers == number)
            here = np.ascontiguousarray(positions[rows])
            key = here.tobytes()
            cached = self._cache.get(int(number))
            if cached is not None and cached[0] == key:  # the frame as last asked: nothing moved
                result.iloc[rows] = cached[1][columns].to_numpy()
                continue
            asked = pd.DataFrame(here, columns=["y", "x"])
            known = cached[1] if cached is not None else pd.DataFrame(columns=["y", "x", *columns], dtype=float)
            found = asked.merge(known.drop_duplicates(["y", "x"]), on=["y", "x"], how="left", indicator=True)
            new = (found.pop("_merge") == "left_only").to_numpy()  # not measured where it is now
            if new.any():
                measured = measure_frame(np.asarray(frames[int(number)]), here[new], self.diameter, self.invert)
                found.loc[new, columns] = measured.to_numpy()
            self._cache[int(number)] = (key, found)
            result.iloc[rows] = found[columns].to_numpy(float)
        return result


def describe_columns(columns: Sequence[str] = MEASUREMENT_COLUMNS) -> str:
    """What each measurement means, for tooltips and help texts."""
    meaning = {
        "mass": "integrated brightness of the band-passed image in the particle's circle (trackpy's minmass filters it)",
        "size": "radius of gyration of that brightness, px",
        "ecc": "eccentricity, 0 for round",
        "signal": "peak of the band-passed image",
        "raw_mass": "integrated brightness of the original image in the circle",
    }
    return "; ".join(f"{c}: {meaning[c]}" for c in columns if c in meaning)
