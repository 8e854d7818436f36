"""``particle-detect gui``: napari with the Particle detection dock docked and the given images open.

The same as ``napari IMAGE ... -w napari-particle-detect``, except that centre CSVs go to this
plugin's reader (napari's own CSV reader would otherwise ask which one to use), a TIFF stack is read a
frame at a time (napari's reader reads the whole file first), a folder opens its images one layer each (as
detect reads a folder), and a file that cannot be opened is one error line, not a dialog.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import ParticleDetectError

PLUGIN = "napari-particle-detect"
DOCK = "Particle detection"
INSTALL_HINT = "pip install 'napari-particle-detect[napari]'"


def _napari():
    try:
        import napari
    except ImportError as exc:
        raise ParticleDetectError(f"napari is not installed ({exc}); install it with {INSTALL_HINT}") from None
    return napari


def _check_display() -> None:
    """Qt aborts the process without a display; say so before it starts."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")
    ):
        raise ParticleDetectError("no display to open napari on (DISPLAY is not set); "
                                  "use the command line (particle-detect detect) or run under xvfb-run")


def open_images(viewer, images: Sequence[str | Path]) -> list:
    """Open each file with napari's readers; centre CSVs with this plugin's, TIFFs as detect reads them (a stack
    a frame at a time: _napari.tiff_stacks). Returns the new layers."""
    from napari.errors import MultipleReaderError, NoAvailableReaderError, ReaderPluginError
    from napari.layers import Image
    from napari.plugins.utils import get_preferred_reader

    from .._napari.reader import get_reader
    from .._napari.tiff_stacks import open_tiff

    layers = []
    for image in images:
        path = str(image)
        try:
            if get_reader(path) is not None:
                layers += viewer.open(path, plugin=PLUGIN)
                continue
            # A plugin the user chose in napari's settings for such files still reads them; napari's own, chosen
            # so, would read the whole file, so it is passed over.
            opened = open_tiff(viewer, path, PLUGIN) if get_preferred_reader(path) in (None, "napari") else None
            if opened is not None:
                layers += opened
                continue
            try:
                layers += viewer.open(path, plugin=None)  # the user's preferred reader, or the only one
            except MultipleReaderError:
                layers += viewer.open(path, plugin="napari")
        except NoAvailableReaderError:
            raise ParticleDetectError(f"{path}: no napari reader opens this kind of file") from None
        except ReaderPluginError as exc:
            raise _cannot_open(path, exc.original_error or exc) from None
        except (OSError, ValueError) as exc:
            raise _cannot_open(path, exc) from None
    for layer in layers:
        if isinstance(layer, Image) and not layer.rgb and not layer.multiscale:
            show_grey_levels(layer)
    return layers


def _cannot_open(path: str, exc: BaseException) -> ParticleDetectError:
    """Why the file at ``path`` did not open: for a TIFF, files.io's reason where it has one (a damaged or
    truncated file), not napari's reader's (which suggested installing video backends for a damaged TIFF)."""
    from .._napari.tiff_stacks import tiff_refusal

    return ParticleDetectError(tiff_refusal(path) or f"{path}: cannot open ({type(exc).__name__}: {exc})")


def show_grey_levels(layer) -> None:
    """Contrast over the grey levels of an image layer's first frame (its 0.1-99.9th percentiles): napari spans
    an 8 or 16 bit image's whole type, and real frames of grey levels 93-140 showed as a flat grey canvas."""
    data = layer.data
    frame = np.asarray(data[(0,) * (data.ndim - 2)] if data.ndim > 2 else data)
    low, high = (float(v) for v in np.percentile(frame, (0.1, 99.9)))
    if high > low:
        layer.contrast_limits = (low, high)


def _check_files(images: Sequence[str | Path]) -> list[Path]:
    """The files to open: a folder's images each on its own (as detect takes a folder; napari stacked a folder's
    files into one layer, and a centre CSV among them failed the whole folder), centre CSVs last so that their
    points are drawn over the images (named first, an image hid them)."""
    from ..files.file_detection import expand_inputs

    paths = expand_inputs(images)
    for path in paths:
        if not path.exists():
            raise ParticleDetectError(f"{path}: file not found")  # detect's words for it
    return sorted(paths, key=lambda path: path.suffix.lower() == ".csv")


def build_viewer(images: Sequence[str | Path] = (), show: bool = True):
    """A napari viewer with the dock on the right and ``images`` open (the first image is picked, and the only one
    shown)."""
    paths = _check_files(images)
    napari = _napari()
    from napari.layers import Image

    viewer = napari.Viewer(show=show, title="napari-particle-detect")
    try:
        viewer.window.add_plugin_dock_widget(PLUGIN, DOCK)
        opened = [layer for layer in open_images(viewer, paths) if isinstance(layer, Image)]
        # The dock picks the first image, the one napari draws under the others: a folder's last image covered it,
        # and its Detect ran on pixels the canvas did not show.
        for layer in opened[1:]:
            layer.visible = False
        if len(opened) > 1:
            viewer.layers.selection.active = opened[0]  # not a hidden layer's controls beside the canvas
    except BaseException:
        try:
            viewer.close()
        except Exception:  # noqa: BLE001 - a layer napari half-added failed its close with a KeyError traceback
            pass  # that hid the one line saying which file did not open
        raise
    return viewer


def run(images: Sequence[str | Path] = ()) -> int:
    """Open the viewer and run napari's event loop until its window is closed."""
    _check_files(images)
    _check_display()
    napari = _napari()
    viewer = build_viewer(images)  # noqa: F841  (kept referenced while napari runs)
    napari.run()
    return 0
