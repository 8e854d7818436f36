"""Images the detector cannot take as they are (colour, 4D, several channels), and what it can work on instead.

The detector works on one grey 2D image or a stack of them (T or Z frames). A colour (RGB) layer
offers its greyscale or one of its channels; a 4D layer (TZYX) offers the frames along either of its
first two axes at the current index of the other. A layer holding a file's channels (napari opens an
OME or ImageJ TCYX as 4D, a CYX as 3D: their metadata says so, as the command line reads it) offers
one channel at a time, never its channels as frames. The chosen view becomes a new image layer the
dock works on. A layer napari opened as one of a file's channels (channel_axis) is that channel's view: its
project is the one the dock's view of that channel has. No Qt here.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from napari.layers import Image

from ..errors import ParticleDetectError
from ..files.axes import ImageLayout
from ..projects.project import pixels_record
from ..shipped import SAMPLE_DATA_DIR
from .layers import place_over_image

VIEW_KEY = "napari_particle_detect_view"
# On a copy made with napari's Duplicate Layer: the file of the image it copies (the copy has none of its own).
COPIED_FROM_KEY = "napari_particle_detect_copied_from"
RGB_CHANNELS = ("red", "green", "blue")


@dataclass(frozen=True)
class View:
    """One way to read a layer as greyscale frames."""

    key: str  # short and file-name safe: names the view's project
    label: str  # what the dock offers
    short: str  # added to the new layer's name


@dataclass(frozen=True)
class LayerAxes:
    """What the file a layer was read from says of the layer's axes."""

    letters: str = ""  # one per axis of the layer (TCYX); '' where its metadata names them not, or not for it
    channel: int | None = None  # the layer's axis holding the file's channels; None: one channel

    def name(self, axis: int) -> str:
        return self.letters[axis] if self.letters else "C" if axis == self.channel else ""


# Each layer's file layout, read once (a TIFF's metadata is read again only for another file): the dock asks for
# every layer each time a layer comes or goes.
_LAYOUTS: weakref.WeakKeyDictionary[Image, tuple[Path | None, ImageLayout | None]] = weakref.WeakKeyDictionary()
# Which of its file's channels a layer napari opened as one of them shows, found once by its pixels: its project must
# not change under the user while it is worked on.
_CHANNELS: weakref.WeakKeyDictionary[Image, tuple[Path, int | None]] = weakref.WeakKeyDictionary()


# What a dock says while no image is open: how to get one.
START_HINT = "open an image (File > Open, or File > Open Sample) to start"


def labelled_3d_axes(layer) -> str:
    """'ZYX' or 'TYX' where a 3D layer's axis labels name its first axis as the Volume dock names its sliders (z: a
    volume, t: frames; volume_panel.name_volume_axes), else '' (napari's numbers, '0' or '-3', say nothing)."""
    labels = tuple(getattr(layer, "axis_labels", ()) or ())
    if len(labels) != 3:
        return ""
    first = str(labels[0]).strip()
    return {"z": "ZYX", "t": "TYX"}.get(first, "")


def layer_axes(layer: Image) -> LayerAxes:
    """The axes of ``layer`` as its file's metadata names them (:func:`layer_file_layout`, as the command line
    reads it): napari's reader opens a file's channels as one more axis, a TCYX OME-TIFF as a 4D layer; a layer
    opened as one of its channels (channel_axis) has the file's other axes. Nothing for a layer of no file, a
    colour one, or one whose shape is not its file's."""
    if layer.rgb or layer.ndim < 3:  # a 2D grey layer holds no channels; napari's colour ones are said apart
        return LayerAxes()
    layout = _known_layout(layer)
    shape = tuple(int(n) for n in layer.data.shape)
    if layout is None:
        return LayerAxes()
    channels = layout.channels
    if channels is not None and channels.shape == shape:
        return LayerAxes(channels.axes, channels.index)
    if channels is not None:
        one = layout.shape_of_a_channel == shape and len(channels.other_axes) == len(shape)
        return LayerAxes(channels.other_axes if one else "")
    squeezed = tuple(n for n in layout.shape if n != 1)
    return LayerAxes(layout.known if layout.known and squeezed == shape else "")


def _known_layout(layer: Image) -> ImageLayout | None:
    """:func:`layer_file_layout`, read again only for another file."""
    path = file_read_from(layer)
    known = _LAYOUTS.get(layer)
    if known is None or known[0] != path:
        known = _LAYOUTS[layer] = (path, layer_file_layout(layer))
        _named_as_its_file(layer, known[1])
    return known[1]


def name_sliders_as_its_file(layer: Image) -> None:
    """``layer``'s sliders named as its file's metadata names its axes (t of a TYX stack, z of a volume), where napari
    numbered them: as ``particle-detect gui`` opens a file, and as a dock lists an image napari's own reader opened
    (:func:`_known_layout`), a stack showed '-3' beside its frame slider under the docks' centres. Labels the user or
    a reader gave stay; a file whose metadata names no axes (frames or a volume: the Volume dock asks which), or
    holds channels, keeps napari's numbers."""
    _named_as_its_file(layer, _known_layout(layer))


def _named_as_its_file(layer: Image, layout: ImageLayout | None) -> None:
    """:func:`name_sliders_as_its_file` of ``layer`` whose file's layout is ``layout`` (None: no file read)."""
    if layout is None or not layout.known or layout.channels is not None:
        return
    if tuple(n for n in layout.shape if n != 1) != tuple(layer.data.shape):
        return  # not the file's shape: a view of it, or one of its channels
    if all(str(label).lstrip("-").isdigit() for label in layer.axis_labels):
        layer.axis_labels = tuple(layout.known.lower())


def frames_axis_of(layer: Image, axes: LayerAxes) -> int | None:
    """The axis of a layer of several channels that gives the frames once one channel is chosen (T of TCYX);
    None where each channel is one 2D image (CYX)."""
    return _frames_axis(layer.ndim, axes.channel)


def _frames_axis(ndim: int, channel_axis: int) -> int | None:
    kept = [axis for axis in range(ndim) if axis != channel_axis]
    return kept[0] if len(kept) == 3 else None


def _channel_view_key(channel_axis: int, frames_axis: int | None, channel: int) -> str:
    """The key of the view of one channel of a layer of several (its project's name): a layer napari opened as
    that channel gets it too (:func:`source_path`), so both are one project."""
    fixed = f"at{channel_axis}_{channel}"
    return fixed if frames_axis is None else f"frames{frames_axis}-{fixed}"


def layer_kind(layer: Image) -> str:
    """'ready' (2D or 3D grey), 'rgb', 'channels' (a file's channels, each a 2D image or a stack), '4d', or
    'unsupported'."""
    if layer.rgb:
        return "rgb" if layer.ndim in (2, 3) else "unsupported"
    if layer_axes(layer).channel is not None:
        return "channels" if layer.ndim - 1 in (2, 3) else "unsupported"
    if layer.ndim in (2, 3):
        return "ready"
    if layer.ndim == 4:
        return "4d"
    return "unsupported"


def kind_suffix(layer: Image) -> str:
    """What a dock's Image list adds to the name of a layer not used as it is."""
    kind = layer_kind(layer)
    if kind == "channels":
        return f" ({layer.data.shape[layer_axes(layer).channel]} channels)"
    return {"rgb": " (colour)", "4d": " (4D)", "unsupported": " (not supported)"}.get(kind, "")


def axis_name(layer: Image, axis: int, axes: LayerAxes | None = None) -> str:
    """The axis's letter in its file (T, C, Z), else napari's label for it, else 'axis N'."""
    named = (axes or layer_axes(layer)).name(axis)
    if named:
        return named
    labels = tuple(getattr(layer, "axis_labels", ()) or ())
    label = str(labels[axis]) if axis < len(labels) else ""
    return label if label and not label.lstrip("-").isdigit() else f"axis {axis}"


# Where the spheres dock's user finds the docks made for other particles (napari's Plugins menu).
PLUGINS_MENU = "Plugins > napari-particle-detect"


def other_dock_note(layer: Image) -> str:
    """One line for the spheres dock on a layer it can tell another dock is made for: a sample of rods or chains (its
    metadata says so), a volume (its axis labels or its file's axes say z). '' for any other layer. Said, not
    refused: Detect still finds sphere centres in it for a user who wants them (a volume's z slices as 2D frames)."""
    from .sample_data import KIND_HINT

    kind = layer.metadata.get(KIND_HINT) if isinstance(layer.metadata, dict) else None
    if kind in ("rods", "chains"):
        return (f"'{layer.name}' shows {kind}: the Rods and chains dock ({PLUGINS_MENU} > Rods and chains) detects "
                f"them; Detect here finds sphere centres in it")
    volume = layer.ndim == 3 and "ZYX" in (labelled_3d_axes(layer), layer_axes(layer).letters)
    if volume and layer_kind(layer) == "ready":
        return (f"'{layer.name}' is a volume (Z, Y, X): the Volume detection (3D) dock ({PLUGINS_MENU} > Volume "
                "detection (3D)) finds its centres in 3D; Detect here reads its z slices as 2D frames")
    return ""


def explain(layer: Image) -> str:
    """One line on why the layer needs a choice, and what the dock offers for it, or why it cannot be used; ''
    for a layer used as it is."""
    kind = layer_kind(layer)
    axes = layer_axes(layer)
    shape = " x ".join(str(s) for s in layer.data.shape)
    named = f"{axes.letters}, {shape}" if axes.letters else shape
    if kind == "rgb":
        return (f"{layer.name} is a colour (RGB) image ({shape}): detection works on grey images; pick greyscale or a "
                "channel in the list below and press Use")
    if kind == "channels":
        count = layer.data.shape[axes.channel]
        frames = frames_axis_of(layer, axes)
        read = f"the {axis_name(layer, frames, axes)} frames of one channel" if frames is not None else "one channel"
        return (f"{layer.name} holds {count} channels ({named}), not frames: detection reads {read}; choose which "
                "in the list below and press Use")
    if kind == "4d":
        return (f"{layer.name} has 4 dimensions ({named}): detection works on a stack of 2D frames; pick which "
                f"axis gives the frames in the list below and press Use")
    if kind == "unsupported" and layer.rgb:
        return (f"{layer.name}: a colour stack ({shape}) is not supported: detection takes a 2D image or a T/Z stack "
                "(a colour image or a 4D layer is turned into one here with Use)")
    if kind == "unsupported":
        # Once its channels are layers of their own, each is 4D: volumes for the Volume dock, or frames here.
        split = f"channel_axis={axes.channel}" if axes.channel is not None else "channel_axis=N"
        return (f"{layer.name}: a {layer.ndim}D image ({named}) is not supported here: open it with {split}, one "
                "layer per channel, and detect a channel's volumes in the Volume detection (3D) dock, or its T or Z "
                "frames here")
    return ""


def views(layer: Image, current: tuple[int, ...] | None = None) -> list[View]:
    """What the dock can offer for ``layer``; ``current`` is the layer's current data index (for 4D). A file's
    channels are offered one each, in order, with none taken for the user: detect refuses such a file without
    --channel."""
    kind = layer_kind(layer)
    if kind == "rgb":
        channels = [View(name, f"{name} channel", name) for name in RGB_CHANNELS[: min(3, layer.data.shape[-1])]]
        return [View("grey", "greyscale (mean of the channels)", "grey"), *channels]
    if kind == "channels":
        axes = layer_axes(layer)
        frames_axis = frames_axis_of(layer, axes)
        offered = []
        for at in range(layer.data.shape[axes.channel]):
            key = _channel_view_key(axes.channel, frames_axis, at)
            if frames_axis is None:
                offered.append(View(key, f"channel {at}", f"channel {at}"))
                continue
            frames = axis_name(layer, frames_axis, axes)
            offered.append(View(key,
                                f"frames along {frames} ({layer.data.shape[frames_axis]}), channel {at}",
                                f"{frames} frames, channel {at}"))
        return offered
    if kind == "4d":
        index = tuple(int(v) for v in (current or (0, 0)))[:2]
        offered = []
        for frames_axis, fixed_axis in ((0, 1), (1, 0)):
            at = int(np.clip(index[fixed_axis] if len(index) > fixed_axis else 0, 0, layer.data.shape[fixed_axis] - 1))
            frames, fixed = axis_name(layer, frames_axis), axis_name(layer, fixed_axis)
            offered.append(View(
                f"frames{frames_axis}-at{fixed_axis}_{at}",
                f"frames along {frames} ({layer.data.shape[frames_axis]}), {fixed} = {at}",
                f"{frames} frames, {fixed} = {at}",
            ))
        return offered
    return []


def data_index(viewer, layer: Image) -> tuple[int, ...]:
    """The data index of ``viewer``'s current position along ``layer``'s axes (which T or Z a 4D layer's views
    keep)."""
    point = viewer.dims.point[viewer.dims.ndim - layer.ndim:]
    return tuple(int(round(float(v))) for v in layer.world_to_data(point))


def choice_placeholder(layer: Image, offered: list[View]) -> str:
    """What a dock's list of ``offered`` views says before one is chosen: a file's channels are chosen by the user,
    none beforehand (napari's slider picked a channel of no particles unseen); '' for the other kinds, whose list
    starts on its first view."""
    return f"choose one of its {len(offered)} channels" if offered and layer_kind(layer) == "channels" else ""


def show_view_choice(viewer, layer: Image | None, note, view_combo, view_row) -> None:
    """A dock's lines under its image list for ``layer``: why a file's channels, a 4D or a colour layer is not used as
    it is (``note``, a label), and the views it offers (``view_combo``, in ``view_row``, hidden when none)."""
    text = explain(layer) if layer is not None else ""
    note.setText(text)
    note.setVisible(bool(text))
    offered = views(layer, data_index(viewer, layer)) if layer is not None else []
    placeholder = choice_placeholder(layer, offered)
    # Qt selects no first item while a placeholder is set: the other kinds' lists start on their first view.
    view_combo.setPlaceholderText(placeholder)
    view_combo.clear()
    for view in offered:
        view_combo.addItem(view.label, view)
    view_combo.setCurrentIndex(-1 if placeholder else 0)
    view_row.setVisible(bool(offered))


def add_view_layer(viewer, image: Image, view: View | None) -> tuple[Image, bool]:
    """The layer of ``view`` of ``image``: the one made before, with its project (True), else a new one just over
    ``image``, which it hides as it lies exactly over it (False). Refused in one line where ``image`` offers no
    views, or ``view`` is None (a file's channel not chosen yet)."""
    if not views(image):
        raise ParticleDetectError("choose a colour, 4D or several-channel image layer first")
    if view is None:
        raise ParticleDetectError(f"'{image.name}': choose which of its channels to detect in the list beside Use "
                                  "first")
    kwargs = view_layer_kwargs(image, view)
    made = next((layer for layer in viewer.layers if isinstance(layer, Image) and layer.name == kwargs["name"]
                 and layer.metadata.get(VIEW_KEY) == kwargs["metadata"][VIEW_KEY]), None)
    if made is not None:
        return made, True
    layer = viewer.add_image(view_data(image, view), **kwargs)
    place_over_image(viewer, layer, image)  # not over other images opened since
    image.visible = False
    return layer, False


def _fixed_axis(view: View) -> tuple[int, int]:
    """The axis a 4D or several-channel layer's view keeps at one index, and that index (the key's at<axis>_<index>)."""
    axis, at = view.key.rsplit("at", 1)[1].split("_")
    return int(axis), int(at)


def layer_pixels(layer: Image) -> np.ndarray:
    """The pixels of ``layer`` a dock reads: a pyramid's (multiscale) full-resolution level. numpy reads napari's
    pyramid as its smallest level, so its centres came out at a fraction of their place, and indexing it picks a
    level, not a frame. A TIFF stack read a frame at a time: as tiff_stacks.pixels_to_read gives it."""
    from .tiff_stacks import pixels_to_read

    return layer.data[0] if layer.multiscale else pixels_to_read(layer)


def view_data(layer: Image, view: View) -> np.ndarray:
    """The grey image or stack a view reads (a slice, not a copy, where the data allow)."""
    data = layer_pixels(layer)
    if view.key == "grey":
        return np.asarray(data, dtype=np.float32).mean(axis=-1)
    if view.key in RGB_CHANNELS:
        return data[..., RGB_CHANNELS.index(view.key)]
    axis, at = _fixed_axis(view)
    return data[(slice(None),) * axis + (at,)]


def view_layer_kwargs(layer: Image, view: View) -> dict:
    """The new layer's name and placement (on top of the source's pixels), and where it came from."""
    if view.key in ("grey", *RGB_CHANNELS):
        kept = list(range(layer.ndim))
    else:
        fixed = _fixed_axis(view)[0]
        kept = [axis for axis in range(layer.ndim) if axis != fixed]
    # A copy's file too: a view of a copy had no file, so neither its image's project nor its calibration.
    path = file_read_from(layer)
    units = tuple(getattr(layer, "units", ()) or ())
    kwargs = {
        "name": f"{layer.name} ({view.short})",
        "scale": [layer.scale[i] for i in kept],
        "translate": [layer.translate[i] for i in kept],
        "metadata": {VIEW_KEY: {"source": layer.name, "view": view.key, "path": str(path) if path else None}},
    }
    if len(units) == layer.ndim:
        kwargs["units"] = [units[i] for i in kept]
    return kwargs


def layer_file_layout(layer: Image) -> ImageLayout | None:
    """What the metadata of the TIFF or zarr ``layer`` was read from says of its shape and channels (an
    ImageJ ZCYX, an OME CZYX); None for a layer of no such file, or of one napari read and we cannot."""
    path = file_read_from(layer)
    if path is None:
        return None
    # file_axes gives the axes of each channel (ZYX), not where the channels are; its layouts do.
    from ..files.axes import _tiff_layout, _zarr_layout
    from ..files.io import is_zarr

    try:
        if is_zarr(path):
            return _zarr_layout(path)
        if path.suffix.lower() in (".tif", ".tiff") and path.is_file():
            return _tiff_layout(path)
    except ParticleDetectError:
        pass
    return None


def pixels_file(layer: Image) -> Path | None:
    """The file whose pixels ``layer`` shows: its own, the one of the image it copies, or for a view the file of
    the image it was made from, or for one of a file's channels opened as a layer of its own that file
    (:func:`source_path` names a view's or a channel's project instead, beside that file)."""
    info = layer.metadata.get(VIEW_KEY) if isinstance(layer.metadata, dict) else None
    if info:
        return Path(info["path"]) if info.get("path") else None
    return file_read_from(layer)


def source_path(layer: Image) -> Path | None:
    """The path that names an image layer's project: the file it was read from, if any; a view's gets its key
    in the name, so each view of a file has a project of its own beside it, and so does each channel napari
    opened as a layer of its own (channel_axis), under the key of the dock's view of that channel: every channel
    read from the same file had one project, one channel's edits and rounds shown on another."""
    info = layer.metadata.get(VIEW_KEY) if isinstance(layer.metadata, dict) else None
    if info:
        named = _view_path(Path(info["path"]), info["view"]) if info.get("path") else None
    else:
        path = file_read_from(layer)
        channel_key = _split_channel_key(layer, path) if path is not None else None
        named = _view_path(path, channel_key) if channel_key is not None else path
    # A sample image the package ships, opened with File > Open: its project went beside it, inside the installed
    # package (and into the checkout's package data); it goes to the projects home, as File > Open Sample's does.
    return None if named is not None and _shipped_sample(named) else named


def _shipped_sample(path: Path) -> bool:
    try:
        return path.resolve().parent == SAMPLE_DATA_DIR.resolve()
    except OSError:
        return False


def shared_file_projects(layer: Image, kind: str = "spheres") -> list[Path]:
    """The ``kind`` projects beside the file of a view or of a channel napari opened as a layer of its own that were
    made for its pixels under the file's own name: every such channel had the file's project until each got its
    own, and the channel that made it left its work there, not opened now."""
    path, file = source_path(layer), pixels_file(layer)
    if path is None or file is None or path == file:
        return []
    from ..projects.locations import projects_made_for_image
    from ..projects.project import image_record

    return projects_made_for_image([file.parent], image_record(str(file), kind=kind, **layer_frames(layer)))


def layer_frames(layer: Image) -> dict:
    """What a project records of ``layer``'s pixels, as Project.open and image_record take them: its frame count
    (1 for a 2D image), frame shape and first frame (the 2D image itself)."""
    return pixels_record(layer_pixels(layer))


def _view_path(path: Path, key: str) -> Path:
    return path.with_name(f"{path.stem}-{key}{path.suffix}")


def file_read_from(layer: Image) -> Path | None:
    """The file napari read ``layer`` from, or the one of the image it copies; None for a view (its file is its
    image's) or a layer of no file."""
    path = getattr(layer.source, "path", None) or remember_copied_file(layer)
    return Path(path) if path else None


def _split_channel_key(layer: Image, path: Path) -> str | None:
    """The key of the dock's view of the channel of ``path`` that ``layer`` shows, where napari opened that
    channel as a layer of its own; None for any other layer."""
    layout = _known_layout(layer) if not layer.rgb else None
    channels = layout.channels if layout is not None else None
    if channels is None or layout.shape_of_a_channel != tuple(int(n) for n in layer.data.shape):
        return None
    known = _CHANNELS.get(layer)
    if known is None or known[0] != path:
        known = _CHANNELS[layer] = (path, _channel_of(layer, path, channels))
    if known[1] is None:
        return None
    return _channel_view_key(channels.index, _frames_axis(len(channels.shape), channels.index), known[1])


def _channel_of(layer: Image, path: Path, channels) -> int | None:
    """Which of the ``channels`` (files.axes' of ``path``) ``layer`` shows: the part of the file's array it views,
    else the channel of the layer it copies (napari's Duplicate Layer copies the pixels, not where they lay), else
    the channel whose pixels it holds (:func:`_channel_shown`)."""
    viewed = _channel_viewed(layer_pixels(layer), channels.shape, channels.index)
    if viewed is not None:
        return viewed
    parent = layer.source.parent() if layer.source.parent is not None else None
    if isinstance(parent, Image) and _split_channel_key(parent, path) is not None:
        return _CHANNELS[parent][1]
    return _channel_shown(layer, path, channels.count)


def _channel_viewed(data, shape: tuple[int, ...], channel_axis: int) -> int | None:
    """Which channel of an array of the file's ``shape`` (channels along ``channel_axis``) ``data`` is a view of, as
    napari's channel_axis slices the array its reader read: told by where it lies in that array, so channels of the
    same pixels (a file whose channels are copies) are told apart, which comparing pixels cannot do (each was
    channel 0, one project for all). None where ``data`` is no such view."""
    whole = data.base if isinstance(data, np.ndarray) else None
    while isinstance(whole, np.ndarray) and whole.shape != tuple(shape):
        whole = whole.base
    if not isinstance(whole, np.ndarray):
        return None
    start = data.__array_interface__["data"][0]
    for channel in range(whole.shape[channel_axis]):
        sliced = whole[(slice(None),) * channel_axis + (channel,)]
        if sliced.__array_interface__["data"][0] == start and sliced.strides == data.strides:
            return channel
    return None


def _channel_shown(layer: Image, path: Path, count: int) -> int | None:
    """Which of the ``count`` channels of ``path`` holds ``layer``'s pixels, compared a frame at a time until one
    is left (napari records no channel index); the first of channels alike in every frame, the same image. None
    where the file cannot be read now, or no channel holds them (pixels changed since)."""
    from ..files.io import read_image

    data = layer_pixels(layer)
    try:
        with ExitStack() as opened:
            stacks = {}
            for channel in range(count):
                stacks[channel] = read_image(path, lazy=True, channel=channel)
                if hasattr(stacks[channel], "close"):
                    opened.callback(stacks[channel].close)
            frames = range(data.shape[0]) if data.ndim == 3 else (None,)
            candidates = list(stacks)
            for frame in frames:
                shown = np.asarray(data if frame is None else data[frame])
                candidates = [c for c in candidates
                              if np.array_equal(shown, np.asarray(stacks[c] if frame is None else stacks[c][frame]))]
                if len(candidates) <= 1:
                    break
    except ParticleDetectError:
        return None
    return candidates[0] if candidates else None


def remember_copied_files(layers: Iterable) -> None:
    """Keep the file of each copy among ``layers`` (:func:`remember_copied_file`), called by every dock as layers
    come: a copy knows its original only while that lives, and the user may close it before picking the copy in
    any dock."""
    for layer in layers:
        if isinstance(layer, Image):
            remember_copied_file(layer)


def remember_copied_file(layer: Image) -> str | None:
    """The file of the image ``layer`` is a copy of (napari's Duplicate Layer), kept in its metadata: a copy has no
    file of its own, so it opened a new, empty project, though it is the same image; kept, as the image copied may be
    closed first. None for a layer that copies no image read from a file.
    The file itself, not the path naming the copied image's project: a copy of a channel napari opened as a layer of
    its own took that project's name for its file, which is no file, and found no calibration; from the file, the
    copy finds the channel it shows, and so the same project, as its original does (:func:`source_path`)."""
    if COPIED_FROM_KEY not in layer.metadata:
        parent = layer.source.parent() if layer.source.parent is not None else None
        path = file_read_from(parent) if isinstance(parent, Image) else None
        if path is None:
            return None
        layer.metadata[COPIED_FROM_KEY] = str(path)
    return layer.metadata[COPIED_FROM_KEY]
