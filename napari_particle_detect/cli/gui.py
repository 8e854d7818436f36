"""``particle-detect gui``: napari with the Particle detection dock docked and the given images open.

The same as ``napari IMAGE ... -w napari-particle-detect``, except that centre CSVs go to this
plugin's reader (napari's own CSV reader would otherwise ask which one to use), a TIFF stack is read a
frame at a time (napari's reader reads the whole file first), a folder opens its images one layer each (as
detect reads a folder), and a file that cannot be opened is one error line, not a dialog.
"""

from __future__ import annotations

import os
import sys
import weakref
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
    return [layer for _, opened in _open_each(viewer, images) for layer in opened]


def _open_each(viewer, images: Sequence[str | Path]) -> list[tuple[Path, list]]:
    """:func:`open_images`, each file with the layers it opened as."""
    from napari.errors import NoAvailableReaderError, ReaderPluginError
    from napari.layers import Image

    files = []
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
        except ParticleDetectError:
            raise  # this plugin's reader's own line (a per-chain summary: which table to open instead)
        except Exception:
            # napari's CSV reader failed on an empty CSV with a bare StopIteration, a traceback instead of a line.
            refusal = _table_refusal(path)
            if refusal is None:
                raise
            raise ParticleDetectError(refusal) from None
        if any(isinstance(layer, Image) for layer in opened):
            say_pixels_not_square(path)
        files.append((Path(path), opened))
    for _, opened in files:
        for layer in opened:
            if isinstance(layer, Image) and not layer.rgb and not layer.multiscale:
                show_grey_levels(layer)
    return files


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
        return _labelled_as_its_file(opened)  # napari showed '-3' beside a stack's frame slider
    try:
        opened = viewer.open(path, plugin=None)  # the user's preferred reader, or the only one
    except MultipleReaderError:
        opened = viewer.open(path, plugin="napari")
    return _labelled_as_its_file(opened)


def _labelled_as_its_file(layers: list) -> list:
    """``layers`` with their sliders labelled as their file names its axes, where the reader left napari's numbers: a
    TZYX hyperstack showed '-4' beside its time slider."""
    from napari.layers import Image

    from .._napari.image_views import name_sliders_as_its_file

    for layer in layers:
        if isinstance(layer, Image):
            name_sliders_as_its_file(layer)
    return layers


def say_pixels_not_square(path: str | Path) -> None:
    """Warn where the metadata of the image at ``path`` gives pixels that are not square, in detect's words: napari
    draws them square (at scale 1, as its own reader does), the particles stretched on the canvas, and the docks
    detect them so; unsaid, the stretched particles passed for the particles' own shape."""
    from .._napari.notify import show_warning

    from ..files.calibration import file_calibration, not_square

    words = not_square(file_calibration(path))
    if words is not None:
        show_warning(f"{Path(path).name}: {words}")


def _cannot_open(path: str, exc: BaseException) -> ParticleDetectError:
    """Why the file at ``path`` did not open: for a TIFF, files.io's reason where it has one (a damaged or
    truncated file), not napari's reader's (which suggested installing video backends for a damaged TIFF)."""
    from .._napari.tiff_stacks import tiff_refusal

    return ParticleDetectError(tiff_refusal(path) or _table_refusal(path)
                               or f"{path}: cannot open ({type(exc).__name__}: {exc})")


def _table_refusal(path: str) -> str | None:
    """Why the CSV at ``path`` is no table this plugin reads, in detect's and evaluate's words (files.centre_csv):
    left to napari's own reader, a table without y, x columns failed as "Reader 'napari' was selected to open
    ['cells.csv'], but returned no data". None for any other file, or a table that reads."""
    from ..files.centre_csv import read_centres

    if not path.lower().endswith(".csv"):
        return None
    try:
        read_centres(path)
    except ParticleDetectError as exc:
        return str(exc)
    except Exception:  # noqa: BLE001 - unread here, napari's reader's words stand
        return None
    return None


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

    from .._napari.image_picks import show_picked

    viewer = napari.Viewer(show=show, title="napari-particle-detect")
    try:
        if show:
            fit_window_to_screen(viewer)
        viewer.window.add_plugin_dock_widget(PLUGIN, DOCK)
        files = _open_each(viewer, paths)
        opened = [layer for _, layers in files for layer in layers if isinstance(layer, Image)]
        _follow_picks(viewer, _tables_over_images(viewer, files))
        _dock_kinds_of(viewer, files)
        if not opened:
            _fit_tables_alone(viewer, files)
        else:  # fitted by napari as the first image came, to a canvas the docks' contents then narrowed, it was cut
            viewer.canvas.events.size.connect(_FittedUntilMoved(viewer, 0.05))
        # The dock picks the first image, the one napari draws under the others: a folder's last image covered it,
        # and its Detect ran on pixels the canvas did not show. The tables read over the others go with them: a
        # 640 px image's centres, left shown, ran past the 512 px image shown.
        if len(opened) > 1:
            show_picked(viewer, opened[0], opened)
            viewer.layers.selection.active = opened[0]  # not a hidden layer's controls beside the canvas
    except BaseException:
        try:
            viewer.close()
        except Exception:  # noqa: BLE001 - a layer napari half-added failed its close with a KeyError traceback
            pass  # that hid the one line saying which file did not open
        raise
    return viewer


def fit_window_to_screen(viewer) -> None:
    """``viewer``'s window over its screen's free area, where napari restored no size the user left it at: at napari's
    first size (its layout's, about 1090 x 630 px) the docks took all but a strip of canvas 240 px wide. It is
    maximised too: the geometry set is the window's inside, so a window manager's title bar landed above the screen;
    maximised, the window manager fits frame and window in the free area (with none, the geometry stands), and the
    window brought back from maximised has the free area's size."""
    from napari.settings import get_settings
    from qtpy.QtCore import QPoint, Qt
    from qtpy.QtGui import QGuiApplication

    application = get_settings().application
    if application.save_window_geometry and application.window_size:
        return
    left, top, width, height = viewer.window.geometry()
    screen = QGuiApplication.screenAt(QPoint(left + width // 2, top + height // 2)) or QGuiApplication.primaryScreen()
    if screen is None:
        return
    free = screen.availableGeometry()
    viewer.window.set_geometry(free.left(), free.top(), free.width(), free.height())
    # As showMaximized, without showing a window not shown yet (it is maximised once shown).
    window = viewer.window._qt_window
    window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)


def _dock_kinds_of(viewer, files: list[tuple[Path, list]]) -> None:
    """The dock that works on the kind of the tables among ``files``, docked in front: the Rods and chains dock (its
    kind the first such table's) for a rods or chains table, the Volume detection (3D) dock for a 3D one. Their layers
    opened with the spheres dock alone, which neither detects nor reviews them, and nothing said which dock does."""
    from ..kinds.columns import table_kind
    from .._napari.kinds_widget import DOCK_TITLE as KINDS_DOCK
    from .._napari.volume_panel import DOCK_TITLE as VOLUME_DOCK

    tables = [(_csv_columns(path), layers) for path, layers in files if path.suffix.lower() == ".csv"]
    kinds = [table_kind(columns) for columns, _ in tables]
    kind = next((kind for kind in kinds if kind in ("rods", "chains")), None)
    # By the layers the reader made, not the header: napari's own 4D points CSV (axis-0..axis-3) is read as a volume's.
    if any(each == "spheres" and any(_volume_points(layer) for layer in layers)
           for each, (_, layers) in zip(kinds, tables)):
        viewer.window.add_plugin_dock_widget(PLUGIN, VOLUME_DOCK, tabify=True)
    if kind is not None:
        _, dock = viewer.window.add_plugin_dock_widget(PLUGIN, KINDS_DOCK, tabify=True)
        dock.kind_combo.setCurrentText(kind)


def _volume_points(layer) -> bool:
    """Whether ``layer`` is a volume's 3D centres as the reader draws them (layers.VOLUME_POINTS_KEY)."""
    from .._napari.layers import VOLUME_POINTS_KEY

    return isinstance(layer.metadata, dict) and bool(layer.metadata.get(VOLUME_POINTS_KEY))


def _fit_tables_alone(viewer, files: list[tuple[Path, list]]) -> None:
    """Tables opened with no image: said, where drawn in pixels, that no image lies under them and how to open it
    (they opened on a blank canvas without a word), and the view fitted to their points, rings and all (napari
    fits their centres, and the rings at the edges were cut)."""
    from .._napari.notify import show_info

    tables = [(path, layers) for path, layers in files if path.suffix.lower() == ".csv" and layers]
    if not tables:
        return
    in_pixels = [path for path, layers in tables if all(_in_pixels(layer) for layer in layers)]
    if in_pixels:
        names = " ".join(path.name for path in in_pixels)
        show_info(f"{names}: drawn in pixels, with no image under {'it' if len(in_pixels) == 1 else 'them'}; "
                  f"to see the particles open the image too (particle-detect gui IMAGE {names}, or File > Open)")
    viewer.canvas.events.size.connect(_FittedUntilMoved(viewer, _margin_for_rings(viewer)))


class _FittedUntilMoved:
    """The view of ``viewer`` fitted to its layers (napari's reset_view, with ``margin``) now, and again each time its
    canvas is resized while the view is still as fitted (the user has not zoomed or panned, nor opened a layer): fitted
    to the canvas as built, a window shown or maximised after showed the points cut off or tiny. Holds the viewer
    weakly, so a closed viewer is not kept alive by its canvas's callback."""

    def __init__(self, viewer, margin: float) -> None:
        self._viewer, self._margin = weakref.ref(viewer), margin
        self._fitted = self._fit(viewer)

    def _fit(self, viewer) -> tuple:
        viewer.reset_view(margin=self._margin)
        return self._view_of(viewer)

    @staticmethod
    def _view_of(viewer) -> tuple:
        from .._napari.docked_view import camera_view

        return *camera_view(viewer), len(viewer.layers)

    def __call__(self, event=None) -> None:
        viewer = self._viewer()
        if viewer is None or self._fitted is None:
            return
        # Moved by the user since: their view stays, as napari keeps it at any resize.
        self._fitted = self._fit(viewer) if self._view_of(viewer) == self._fitted else None


def _in_pixels(layer) -> bool:
    """Whether ``layer`` is drawn in pixels at scale 1 (not by a table's physical columns)."""
    units = tuple(getattr(layer, "units", ()) or ())
    return np.allclose(layer.scale, 1.0) and all(str(unit) == "pixel" for unit in units)


def _margin_for_rings(viewer) -> float:
    """The margin (of the canvas) that keeps the rings of the points at the edges of ``viewer``'s layers on it."""
    from napari.layers import Points

    spans = np.ptp(viewer.layers.extent.world[:, -2:], axis=0)
    sizes = [float(np.max(layer.size)) * float(np.max(layer.scale[-2:])) for layer in viewer.layers
             if isinstance(layer, Points) and len(layer.data)]
    size = max(sizes, default=0.0)
    # A ring's width more on each side than the centres span, kept clear of the canvas's edge.
    return float(np.clip(2 * size / (float(np.min(spans)) + 2 * size), 0.05, 0.5)) if size else 0.05


class _TablesOfImages:
    """The layers of the tables opened with the images, each with the image the reader marked it as the table of, as
    image_picks knows a dock's layers: an image picked in any dock shows its tables and hides the others' (they are no
    dock's, and another image's centres stayed drawn over the image picked)."""

    def __init__(self, viewer, pairs: list[tuple]) -> None:
        self._viewer = weakref.ref(viewer)
        self._pairs = [(weakref.ref(layer), weakref.ref(image)) for layer, image in pairs]

    @property
    def viewer(self):
        return self._viewer()

    @property
    def closed(self) -> bool:
        return self._viewer() is None

    def outputs_by_image(self) -> list[tuple]:
        viewer = self._viewer()
        pairs = [(layer(), image()) for layer, image in self._pairs]
        return [(layer, image) for layer, image in pairs
                if viewer is not None and layer in viewer.layers and image in viewer.layers]


# By viewer: image_picks holds its docks weakly, and these tables have no dock to keep them.
_TABLES: dict[int, _TablesOfImages] = {}


def _follow_picks(viewer, pairs: list[tuple]) -> None:
    """Each of ``pairs`` (a table's layer, the image it lies on) shown and hidden with its image as a dock picks it."""
    from .._napari.image_picks import register_dock

    for key in [key for key, tables in _TABLES.items() if tables.closed]:
        del _TABLES[key]
    if pairs:
        _TABLES[id(viewer)] = tables = _TablesOfImages(viewer, pairs)
        register_dock(tables)


def _tables_over_images(viewer, files: list[tuple[Path, list]]) -> list[tuple]:
    """Each layer of the CSVs among ``files`` with the image the reader marked it as the table of
    (reader.placed_over_image: by its name, its file's part, the input its .json names). A table the reader merely
    laid over the top image is no image's: hidden with that image, its own was left shown without it."""
    from .._napari.reader import placed_over_image

    pairs = []
    for path, layers in files:
        if path.suffix.lower() != ".csv":
            continue
        for layer in layers:
            image = placed_over_image(layer, viewer)
            if image is not None:
                pairs.append((layer, image))
    return pairs


def _csv_columns(path: Path) -> set[str]:
    """The column names of the CSV at ``path`` (empty where it does not read; the reader said why)."""
    import pandas as pd

    try:
        return {str(name).strip() for name in pd.read_csv(path, nrows=0).columns}
    except Exception:  # noqa: BLE001 - the reader opened it, or said why not
        return set()


def run(images: Sequence[str | Path] = ()) -> int:
    """Open the viewer and run napari's event loop until its window is closed."""
    _check_files(images)
    _check_display()
    napari = _napari()
    viewer = build_viewer(images)  # noqa: F841  (kept referenced while napari runs)
    napari.run()
    return 0
