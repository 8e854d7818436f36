"""Images the detector cannot take as they are (colour, 4D), and what it can work on instead.

The detector works on one grey 2D image or a stack of them (T or Z frames). A colour (RGB) layer
offers its greyscale or one of its channels; a 4D layer (TZYX, CZYX, ...) offers the frames along
either of its first two axes at the current index of the other. The chosen view becomes a new
image layer the dock works on. No Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from napari.layers import Image

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


def layer_kind(layer: Image) -> str:
    """'ready' (2D or 3D grey), 'rgb', '4d', or 'unsupported'."""
    if layer.rgb:
        return "rgb" if layer.ndim in (2, 3) else "unsupported"
    if layer.ndim in (2, 3):
        return "ready"
    if layer.ndim == 4:
        return "4d"
    return "unsupported"


def axis_name(layer: Image, axis: int) -> str:
    labels = tuple(getattr(layer, "axis_labels", ()) or ())
    label = str(labels[axis]) if axis < len(labels) else ""
    return label if label and not label.lstrip("-").isdigit() else f"axis {axis}"


def explain(layer: Image) -> str:
    """One line on why the layer needs a choice, or cannot be used; '' for a layer used as it is."""
    kind = layer_kind(layer)
    shape = " x ".join(str(s) for s in layer.data.shape)
    if kind == "rgb":
        return f"{layer.name} is a colour (RGB) image ({shape}): detection works on grey images; pick greyscale or a channel"
    if kind == "4d":
        return (f"{layer.name} has 4 dimensions ({shape}): detection works on a stack of 2D frames; pick which "
                f"axis gives the frames")
    if kind == "unsupported":
        what = "colour stack" if layer.rgb else f"{layer.ndim}D image"
        return (f"{layer.name}: a {what} ({shape}) is not supported; detection takes a 2D image or a T/Z stack "
                f"(RGB images and 4D layers can be converted here)")
    return ""


def views(layer: Image, current: tuple[int, ...] | None = None) -> list[View]:
    """What the dock can offer for ``layer``; ``current`` is the layer's current data index (for 4D)."""
    kind = layer_kind(layer)
    if kind == "rgb":
        channels = [View(name, f"{name} channel", name) for name in RGB_CHANNELS[: min(3, layer.data.shape[-1])]]
        return [View("grey", "greyscale (mean of the channels)", "grey"), *channels]
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


def view_data(layer: Image, view: View) -> np.ndarray:
    """The grey image or stack a view reads (a slice, not a copy, where the data allow)."""
    data = layer.data
    if view.key == "grey":
        return np.asarray(data, dtype=np.float32).mean(axis=-1)
    if view.key in RGB_CHANNELS:
        return data[..., RGB_CHANNELS.index(view.key)]
    frames_axis, fixed = view.key.removeprefix("frames").split("-at")
    fixed_axis, at = (int(v) for v in fixed.split("_"))
    return data[:, int(at)] if int(frames_axis) == 0 else data[int(at)]


def view_layer_kwargs(layer: Image, view: View) -> dict:
    """The new layer's name and placement (on top of the source's pixels), and where it came from."""
    if view.key in ("grey", *RGB_CHANNELS):
        kept = list(range(layer.ndim))
    else:
        frames_axis = int(view.key.removeprefix("frames").split("-at")[0])
        kept = [frames_axis, 2, 3]
    path = getattr(layer.source, "path", None)
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


def source_path(layer: Image) -> Path | None:
    """The file an image layer (or the layer a view was made from) was read from, if any; a view's
    gets its key in the name, so each view of a file has a project of its own beside it."""
    info = layer.metadata.get(VIEW_KEY) if isinstance(layer.metadata, dict) else None
    if info:
        if not info.get("path"):
            return None
        path = Path(info["path"])
        return path.with_name(f"{path.stem}-{info['view']}{path.suffix}")
    path = getattr(layer.source, "path", None) or remember_copied_file(layer)
    return Path(path) if path else None


def remember_copied_file(layer: Image) -> str | None:
    """The file of the image ``layer`` is a copy of (napari's Duplicate Layer), kept in its metadata: a copy has no
    file of its own, so it opened a new, empty project, though it is the same image; kept, as the image copied may be
    closed first. None for a layer that copies no image read from a file."""
    if COPIED_FROM_KEY not in layer.metadata:
        parent = layer.source.parent() if layer.source.parent is not None else None
        path = source_path(parent) if isinstance(parent, Image) else None
        if path is None:
            return None
        layer.metadata[COPIED_FROM_KEY] = str(path)
    return layer.metadata[COPIED_FROM_KEY]
