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
    from napari.errors import NoAvailableReaderError, ReaderPluginError
    from napari.layers import Image

    layers = []
    for image in images:
        path = str(image)
        try:
            opened = _open_one(viewer, path)
        except NoAvailableReaderError:
            raise ParticleDetectError(f"{path}: no napari reader opens this kind of file") from None
        except ReaderPluginError as exc:
            raise _cannot_open(path, exc.original_error or exc) from None
        except (OSError, ValueError) as exc:
            raise _cannot_open(path, exc) from None
        if any(isinstance(layer, Image) for layer in opened):
            say_pixels_not_square(path)
        layers += opened
    for layer in layers:
        if isinstance(layer, Image) and not layer.rgb and not layer.multiscale:
            show_grey_levels(layer)
    return layers


def _open_one(viewer, path: str) -> list:
    """The layers of the file at ``path``, as :func:`open_images` opens each."""
    from napari.errors import MultipleReaderError
    from napari.plugins.utils import get_preferred_reader

    from .._napari.reader import get_reader
    from .._napari.tiff_stacks import open_tiff

    if get_reader(path) is not None:
        return viewer.open(path, plugin=PLUGIN)
    # A plugin the user chose in napari's settings for such files still reads them; napari's own, chosen so, would
    # read the whole file, so it is passed over.
    opened = open_tiff(viewer, path, PLUGIN) if get_preferred_reader(path) in (None, "napari") else None
    if opened is not None:
        return opened
    try:
        return viewer.open(path, plugin=None)  # the user's preferred reader, or the only one
    except MultipleReaderError:
        return viewer.open(path, plugin="napari")


def say_pixels_not_square(path: str | Path) -> None:
    """Warn where the metadata of the image at ``path`` gives pixels that are not square, in detect's words: napari
    draws them square (at scale 1, as its own reader does), the particles stretched on the canvas, and the docks
    detect them so; unsaid, the stretched particles passed for the particles' own shape."""
    from napari.utils.notifications import show_warning

    from ..files.calibration import file_calibration, not_square

    words = not_square(file_calibration(path))
    if words is not None:
        show_warning(f"{Path(path).name}: {words}")


def _cannot_open(path: str, exc: BaseException) -> ParticleDetectError:
    """Why the file at ``path`` did not open: for a TIFF, files.io's reason where it has one (a damaged or
    truncated file), not napari's reader's (which suggested installing video backends for a damaged TIFF)."""
    from .._napari.tiff_stacks import tiff_refusal

    return ParticleDetectError(tiff_refusal(path) or f"{path}: cannot open ({type(exc).__name__}: {exc})")


def show_grey_levels(layer) -> None:
    """Contrast over the grey levels of an image layer's first frame (its 0.1-99.9th percentiles, a hot line or
    saturated patch left out): napari spans
    an 8 or 16 bit image's whole type, and real frames of grey levels 93-140 showed as a flat grey canvas. Its first
    frame that reads: a damaged first frame (drawn blank, as a damaged frame further on is) raised here."""
    from ..detection.preprocessing import without_spikes

    frame = _first_readable_frame(layer.data)
    if frame is None:
        return  # no frame reads: napari's limits, the frames drawn blank and each named
    # A sensor's hot line (a row at 65535) is more than 0.1 % of a frame: its level, read as the top, showed the
    # particles nearly black. Read without such spikes, as detection normalises.
    frame, _ = without_spikes(frame)
    low, high = (float(v) for v in np.percentile(frame, (0.1, 99.9)))
    if high > low:
        layer.contrast_limits = (low, high)


def _first_readable_frame(data) -> np.ndarray | None:
    """The first 2D frame of ``data`` that can be read (a frame of a TIFF stack whose page is damaged,
    files.io.UnreadableFrameError, is passed over); None where none can."""
    from ..files.io import UnreadableFrameError

    if data.ndim <= 2:
        return np.asarray(data)
    for index in np.ndindex(*data.shape[:-2]):
        try:
            return np.asarray(data[index])
        except UnreadableFrameError:
            continue
    return None


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
