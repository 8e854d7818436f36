"""What each axis of an image file means: from ``--axes``, else from the file's metadata (ImageJ
hyperstack, OME-TIFF, OME-Zarr), else the old rule (a 3D image is a stack of 2D frames).

Also the voxel size the metadata gives (ImageJ ``spacing`` and resolution, OME ``PhysicalSize*``,
OME-Zarr ``scale``), and a reader that keeps every axis (a one-slice volume stays a volume, so it
can be refused by name rather than silently read as one frame).
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ParticleDetectError
from .io import AXES_CHOICES

if TYPE_CHECKING:
    from .io import ChannelAxis

# The hint logged when a 3D image is read as frames for lack of axes in its metadata.
STACK_HINT = "give --axes ZYX if it is one volume"
# What a micrometre is called in metadata, and the lengths converted to it. Anything else ("pixel",
# ImageJ's word for an uncalibrated image, or no unit at all) is not a length: its voxel size still
# gives the z/xy aspect, but nothing is labelled in micrometres from it.
MICROMETRE = "µm"
LENGTHS_IN_UM = {
    "nm": 1e-3, "nanometer": 1e-3, "nanometre": 1e-3, "nanometers": 1e-3, "nanometres": 1e-3,
    "um": 1.0, "µm": 1.0, "μm": 1.0, "micron": 1.0, "microns": 1.0, "micrometer": 1.0, "micrometre": 1.0,
    "micrometers": 1.0, "micrometres": 1.0,
    "mm": 1e3, "millimeter": 1e3, "millimetre": 1e3, "millimeters": 1e3, "millimetres": 1e3,
}


@dataclass(frozen=True)
class Axes:
    """The axes of an image file (one of AXES_CHOICES), where they came from, and the voxel size
    (z, y, x) where the metadata gives it: in micrometres when ``voxel_unit`` is MICROMETRE (a known
    length unit, converted), else in the file's own unit (``voxel_unit`` "pixel", or None: none given)."""

    axes: str
    source: str  # "--axes", "metadata" or "default"
    voxel_size: tuple[float, float, float] | None = None
    voxel_unit: str | None = None
    channel: int | None = None  # the channel read of a file of several (its channel axis is not among ``axes``)

    @property
    def is_volume(self) -> bool:
        return "Z" in self.axes

    @property
    def voxel_um(self) -> tuple[float, float, float] | None:
        """The voxel size in micrometres; None when it is unknown or not in a length unit."""
        return self.voxel_size if self.voxel_unit == MICROMETRE else None


def _clean_unit(unit: object) -> str:
    text = str(unit).strip()
    for escaped in ("\\u00B5", "\\u00b5", "\\u03BC", "\\u03bc"):  # ImageJ writes µ escaped
        text = text.replace(escaped, "µ")
    return text


def in_micrometres(values: Iterable[float], unit: str | None) -> tuple[tuple[float, ...], str | None]:
    """``values`` in micrometres and MICROMETRE when ``unit`` is a known length ("nm", "micron",
    ImageJ's escaped µm, "mm"); else the values as they are and the unit as given (None: none)."""
    values = tuple(float(v) for v in values)
    text = _clean_unit(unit) if unit is not None else ""
    factor = LENGTHS_IN_UM.get(text.lower())
    if factor is None:
        return values, text or None
    return tuple(v * factor for v in values), MICROMETRE


def _zyx_voxel(sizes: Sequence[object],
               units: Sequence[str | None]) -> tuple[tuple[float, ...], tuple[str | None, ...]]:
    """z, y, x ``sizes`` each given in its own unit: in micrometres where every unit is a length, else as
    written (three different units are not converted to one); with each axis's unit as
    :func:`in_micrometres` names it (MICROMETRE for a length), so the caller can name a mix its own way."""
    converted = [in_micrometres((size,), unit) for size, unit in zip(sizes, units)]
    named = tuple(unit for _, unit in converted)
    if set(named) == {MICROMETRE}:
        return tuple(values[0] for values, _ in converted), named
    return tuple(float(size) for size in sizes), named


@dataclass(frozen=True)
class ImageLayout:
    """What a TIFF's or zarr's metadata says of its image: its axes (None: none of AXES_CHOICES), its shape, the
    voxel size and its unit, and its channels (io.ChannelAxis; None: one channel)."""

    known: str | None
    shape: tuple[int, ...]
    voxel: tuple[float, float, float] | None
    unit: str | None
    channels: ChannelAxis | None = None

    @property
    def shape_of_a_channel(self) -> tuple[int, ...]:
        """The shape once one channel is chosen (the whole shape for a file of one channel)."""
        if self.channels is None:
            return self.shape
        return tuple(n for i, n in enumerate(self.channels.shape) if i != self.channels.index)


def _known_axes(letters: str, shape: tuple[int, ...], channels: ChannelAxis | None) -> str | None:
    """The axes of an image (of each channel, for one of several) when they are one of AXES_CHOICES, else None."""
    # Length-1 axes other than Y, X say nothing (an OME-TIFF of one time point is still ZYX).
    kept = "".join(a for a, n in zip(letters, shape) if n != 1 or a in "YX")
    if channels is not None and channels.axes:
        kept = channels.other_axes  # the axes of each channel: a CZYX file's channels are volumes
    # Q (unknown) and I (a plain page sequence) are what files without axes metadata give.
    return kept if kept in AXES_CHOICES else None


def _tiff_layout(path: Path, channel: int | None = None) -> ImageLayout:
    """A TIFF's axes, shape, voxel size and channels, from its metadata (``channel``: the one to be read,
    io.tiff_channel_axis)."""
    import tifffile

    from .io import _quiet_tifffile, check_not_empty, tiff_channel_axis, tiff_cut_short

    check_not_empty(Path(path))
    try:
        with _quiet_tifffile(), tifffile.TiffFile(path) as tif:
            cut = tiff_cut_short(path, tif)
            if cut is not None:  # its series describe what is left, not the file
                return _cut_tiff_layout(tif, cut, channel)
            series = tif.series[0]
            raw, shape = series.axes.upper(), tuple(series.shape)
            voxel, unit = _ome_voxel(tif.ome_metadata) if tif.is_ome else _imagej_voxel(tif)
            channels = tiff_channel_axis(path, tif, channel)
    except ParticleDetectError:
        raise
    except Exception as exc:  # corrupt files: the reader names them
        raise ParticleDetectError(f"{path}: cannot read image ({type(exc).__name__}: {exc})") from None
    return ImageLayout(_known_axes(raw, shape, channels), shape, voxel, unit, channels)


def _cut_tiff_layout(tif, cut, channel: int | None) -> ImageLayout:
    """The layout of a TIFF cut short (io.CutShort) as its reader reads it: a plain stack of the frames the file
    says (io.cut_stack_layout), each missing one refused as it is read; any other cut file refused here, its metadata
    describing what is no longer there."""
    from .io import cut_stack_layout

    layout = cut_stack_layout(tif)
    if layout is None or channel is not None:
        raise ParticleDetectError(cut.refusal())
    shape = (cut.frames, *layout[0])
    voxel, unit = _imagej_voxel(tif)
    return ImageLayout(_known_axes("TYX" if tif.is_imagej else "IYX", shape, None), shape, voxel, unit, None)


def _imagej_voxel(tif) -> tuple[tuple[float, float, float] | None, str | None]:
    """ImageJ's z spacing and y, x pixel size, in micrometres when its ``unit`` is a length. y from its own
    resolution tag: read from x's, a volume of non-square pixels had its y size wrong, and was detected as if its
    pixels were square."""
    meta = tif.imagej_metadata or {}
    if "spacing" not in meta:
        return None, None
    tags = tif.pages[0].tags
    x = _pixel_length(tags.get("XResolution"))
    y = _pixel_length(tags.get("YResolution")) if "YResolution" in tags else x
    return in_micrometres((meta["spacing"], y, x), meta.get("unit"))


def _pixel_length(tag) -> float:
    """A resolution tag's pixel size in its unit (the tag holds pixels per unit as a fraction); 1 without one."""
    if tag is None:
        return 1.0
    num, den = tag.value
    return den / num if num else 1.0


def _ome_voxel(xml: str | None) -> tuple[tuple[float, float, float] | None, str | None]:
    """OME's PhysicalSize{Z,Y,X}, in micrometres (the schema's default unit) unless their units say
    otherwise; three different units are not converted to one."""
    if not xml:
        return None, None
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        return None, None
    for element in root.iter():
        if element.tag.endswith("Pixels"):
            sizes = [element.get(f"PhysicalSize{a}") for a in "ZYX"]
            if all(sizes):
                voxel, units = _zyx_voxel(sizes, [element.get(f"PhysicalSize{a}Unit", MICROMETRE) for a in "ZYX"])
                # A mix is named whole ("nm/pixel"); micrometres alone join to MICROMETRE.
                return voxel, "/".join(sorted(str(u) for u in set(units)))
    return None, None


def _zarr_layout(path: Path) -> ImageLayout:
    """A zarr's axes, shape, channels (io.zarr_channel_axis) and the z, y, x scale of its full-resolution
    level and its unit, from its OME-Zarr metadata (a plain zarr has none)."""
    from .io import zarr_array, zarr_axes, zarr_channel_axis

    node, multiscale = zarr_array(path)
    shape = tuple(int(n) for n in node.shape)
    letters = zarr_axes(multiscale, len(shape))
    channels = zarr_channel_axis(path, node, multiscale)
    voxel, unit = _zarr_voxel(multiscale, letters) if multiscale else (None, None)
    return ImageLayout(_known_axes(letters, shape, channels), shape, voxel, unit, channels)


def _zarr_voxel(multiscale: dict, letters: str) -> tuple[tuple[float, float, float] | None, str | None]:
    """The z, y, x scale of an OME-Zarr's full-resolution level and its unit (``letters``: io.zarr_axes)."""
    axes = multiscale.get("axes") or []
    units = {a: (axis.get("unit") if isinstance(axis, dict) else None) for a, axis in zip(letters, axes)}
    scale = None
    for transform in multiscale["datasets"][0].get("coordinateTransformations", []):
        if transform.get("type") == "scale":
            scale = dict(zip(letters, transform["scale"]))
    if not (scale and all(a in scale for a in "ZYX")):
        return None, None
    voxel, named = _zyx_voxel([scale[a] for a in "ZYX"], [units.get(a) for a in "ZYX"])
    # A mix is named by its first axis not in a length unit (None: that axis has no unit).
    return voxel, MICROMETRE if set(named) == {MICROMETRE} else next(u for u in named if u != MICROMETRE)


def file_axes(path: str | Path, given: str | None = None, channel: int | None = None) -> Axes:
    """The axes of ``path``: ``given`` (``--axes``), else the metadata's, else 2D/TYX by dimensions.

    ``given`` must match the data's dimensions (length-1 axes count), else one ParticleDetectError.
    A file of several channels (io.channel_axis) has the axes of each channel (CZYX: ZYX): ``channel``
    says which one is read (checked against the file; the readers refuse such a file without one).
    """
    from .io import check_channel_number, is_zarr, no_channels

    path = Path(path)
    channel = check_channel_number(channel)
    if not path.exists():
        raise ParticleDetectError(f"{path}: file not found")
    known, voxel, shape, unit, channels = None, None, None, None, None
    layout = None
    if is_zarr(path):
        layout = _zarr_layout(path)
    elif path.suffix.lower() in (".tif", ".tiff"):
        layout = _tiff_layout(path, channel)
    if layout is not None:
        known, shape, voxel, unit, channels = (layout.known, layout.shape_of_a_channel, layout.voxel, layout.unit,
                                               layout.channels)
        if channel is not None and channels is None:
            raise no_channels(path, channel, tuple(n for n in layout.shape if n != 1))
        if channel is not None:
            channels.checked(path, channel)
    if given is not None:
        given = given.upper()
        if given not in AXES_CHOICES:
            raise ParticleDetectError(f"{path}: --axes {given} is not one of {', '.join(AXES_CHOICES)}")
        if channels is not None and channel is None and channels.named_by(given):
            shape, channels = channels.shape, None  # its channel axis is one the user named (read as they say)
        if shape is None:
            from .io import read_image

            shape = tuple(read_image(path, lazy=True, channel=channel, axes=given).shape)
        dims = tuple(n for n in shape)
        # The data's own axes: length-1 axes other than the last two may be dropped (a one-time-point TZYX).
        if len(dims) != len(given):
            squeezed = tuple(n for i, n in enumerate(dims) if n != 1 or i >= len(dims) - 2)
            # A series of one time point whose T its metadata (or tifffile) dropped: read_volumes adds it back.
            one_time_point = given == "TZYX" and known == "ZYX"
            if len(squeezed) != len(given) and not one_time_point:
                image = "the image has" if channels is None else f"each of its {channels.count} channels has"
                raise ParticleDetectError(f"{path}: --axes {given} names {len(given)} axes, but {image} "
                                          f"{len(squeezed)} (shape {'x'.join(map(str, squeezed))})")
        return Axes(given, "--axes", voxel, unit, channel)
    if known is not None:
        return Axes(known, "metadata", voxel, unit, channel)
    return Axes("", "default", voxel, unit, channel)


def axes_hint(path: str | Path) -> str:
    """For a file the 2D reader refuses for its dimensions: which ``--axes`` reads it ('' if none does, and
    for a file of several channels, whose refusal says how to choose one)."""
    if Path(path).suffix.lower() not in (".tif", ".tiff"):
        return ""
    try:
        layout = _tiff_layout(Path(path))
    except ParticleDetectError:
        return ""
    if layout.channels is None and len([n for n in layout.shape if n != 1]) == 4:
        return "its metadata names no axes; give --axes TZYX if it is a time series of volumes"
    return ""


def read_volumes(path: str | Path, axes: Axes):
    """The file as a (T, Z, Y, X) array-like (T = 1 for ZYX): a memory map (uncompressed TIFF), a dask
    array (zarr) or an array (compressed TIFF), so ``data[t]`` reads one volume. At least 2 slices along
    Z and 8 voxels along Y and X are checked here; finite voxels per volume, as each is detected.
    A file of several channels (CZYX) gives the volumes of ``axes.channel``, and is refused without one."""
    from .io import chosen_channel, is_zarr

    path = Path(path)
    given = axes.axes if axes.source == "--axes" else None  # naming every axis, they read the file as they say
    if is_zarr(path):
        from .io import zarr_array, zarr_channel_axis

        node, multiscale = zarr_array(path)
        channels, chosen = chosen_channel(path, zarr_channel_axis(path, node, multiscale), axes.channel, given,
                                          tuple(node.shape))
        try:
            import dask.array as da

            data = da.from_zarr(node)  # read chunk by chunk, as each volume is detected
        except Exception as exc:
            raise ParticleDetectError(f"{path}: cannot read zarr ({type(exc).__name__}: {exc})") from None
        if channels is None:
            # All of the array's axes but the length-1 ones (io's ZarrStack keeps three at most; TZYX has four).
            data = data.reshape([n for i, n in enumerate(data.shape) if n != 1 or i >= data.ndim - 2])
    else:
        import tifffile

        from .io import _quiet_tifffile, check_not_empty, check_tiff_complete, tiff_channel_axis

        check_not_empty(Path(path))
        try:
            with _quiet_tifffile(), tifffile.TiffFile(path) as tif:
                check_tiff_complete(path, tif)
                series = tif.series[0]
                found = tiff_channel_axis(path, tif, axes.channel)
                channels, chosen = chosen_channel(path, found, axes.channel, given, tuple(series.shape))
                # Uncompressed, contiguous pixels (ImageJ hyperstacks, most confocal exports) are mapped,
                # not read: a long TZYX series holds one volume in memory at a time.
                data = None if series.dataoffset is not None else series.asarray()
            if data is None:
                data = tifffile.memmap(path, series=0, mode="r")
        except ParticleDetectError:
            raise
        except Exception as exc:
            raise ParticleDetectError(f"{path}: cannot read image ({type(exc).__name__}: {exc})") from None
    if channels is not None:  # the chosen channel's volumes, still mapped or lazy (a view, not a copy)
        data = data.reshape(channels.shape)[(slice(None),) * channels.index + (chosen,)]
    shape = tuple(data.shape)
    want = len(axes.axes)
    if len(shape) != want:
        squeezed = [n for i, n in enumerate(shape) if n != 1 or i >= len(shape) - 2]
        if len(squeezed) == want:
            data = data.reshape(squeezed)
        elif len(shape) < want and want - len(shape) == 1 and axes.axes == "TZYX":
            data = data[None]
        else:
            raise ParticleDetectError(f"{path}: axes {axes.axes} name {want} axes, but the image has "
                                      f"{len(shape)} (shape {'x'.join(map(str, shape))})")
    if axes.axes == "ZYX":
        data = data[None]
    nz, ny, nx = data.shape[1:]
    if nz < 2:
        raise ParticleDetectError(f"{path}: a volume needs at least 2 slices along Z, this one has {nz}; "
                                  "use --axes YX or TYX for 2D images")
    if min(ny, nx) < 8:
        raise ParticleDetectError(f"{path}: volume slices are too small ({ny}x{nx}); need at least 8x8 voxels")
    return data


class ConstantVolumeError(ParticleDetectError):
    """A volume with one value in every voxel, or NaN or infinite in (almost) every one: nothing to detect (a
    dropped time point of a series, skipped there as a stack's blank frame is: detection.stages.prepare_frame)."""


def check_volume(volume: np.ndarray, name: str, gaps: bool = False) -> np.ndarray:
    """A finite, non-constant float32 volume, or one ParticleDetectError naming ``name`` (ConstantVolumeError for
    a constant one). ``gaps``: NaN and infinite voxels read as missing (:func:`volume_and_gaps`' volume), as
    detection reads them; else refused, as training and rounds need them: they learn from every voxel, and a
    filled gap would teach the background where particles may lie (2D training refuses them alike)."""
    if not gaps:
        refuse_gaps(volume, name)
    return volume_and_gaps(volume, name)[0]


def refuse_gaps(volume: np.ndarray, name: str) -> None:
    """One ParticleDetectError naming ``name`` where ``volume`` holds NaN or infinite voxels, for what learns from
    its voxels (training, rounds)."""
    if np.issubdtype(np.asarray(volume).dtype, np.inexact) and not np.all(np.isfinite(volume)):
        raise ParticleDetectError(f"{name}: volume contains NaN or infinite voxels; training learns from every "
                                  "voxel: fill them first (numpy.nan_to_num) or leave this volume out")


def volume_and_gaps(volume: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`check_volume`'s volume, its NaN and infinite voxels (a mosaic's gaps) read as missing and set to
    the local background (detection.preprocessing.filled_gaps, in blocks of FLATTEN_BLOCK voxels), and the mask
    of those voxels (None where there are none). A volume with too few other voxels (MIN_FINITE_SHARE) is
    blank, as a constant one is: a ConstantVolumeError. Detection then refills a slice missing whole between others
    from its neighbours and clears it from the mask (detection.volume_resampling.refilled_gaps): a dropped slice."""
    from ..detection.preprocessing import FLATTEN_BLOCK, filled_gaps, missing_pixels, mostly_missing, non_finite_note

    volume = np.asarray(volume)
    # A bool mask (tifffile writes them) reads as 0 and 1, as a 2D frame's does (preprocessing.frame_and_gaps).
    if not (np.issubdtype(volume.dtype, np.number) or volume.dtype == bool) or np.iscomplexobj(volume):
        raise ParticleDetectError(f"{name}: unsupported voxel type {volume.dtype}")
    volume = volume.astype(np.float32, copy=False)
    missing = missing_pixels(volume)
    if missing is not None:
        if mostly_missing(missing):
            held = non_finite_note(int(np.count_nonzero(missing)), missing.size, "voxel")
            raise ConstantVolumeError(f"{name}: {held}; nothing to detect")
        volume = filled_gaps(volume, missing, FLATTEN_BLOCK)
    lo, hi = float(volume.min()), float(volume.max())
    if lo == hi:
        held = " but the NaN or infinite ones" if missing is not None else ""
        raise ConstantVolumeError(f"{name}: volume is constant (every voxel is {lo:g}{held}); nothing to detect")
    return volume, missing
