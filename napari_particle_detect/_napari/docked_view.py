"""The viewer's layers kept whole on the canvas as a dock takes its room beside it.

napari keeps the camera's zoom when its canvas narrows, so an image fitted to the canvas before a dock docked (opened
from the Plugins menu, or with ``napari IMAGE -w napari-particle-detect``, whose window shows only after the dock is
in it) was cut at both sides: the docks take about 450 px of the canvas's width."""

from __future__ import annotations

import weakref

import numpy as np


def keep_layers_whole_as_docked(viewer) -> None:
    """Fit ``viewer``'s view to its layers (napari's reset_view) each time its canvas is resized so that layers lying
    whole on it no longer do, until the view is moved (zoomed, panned: by the user or a dock). Not where they were
    not whole as the dock is made: a view zoomed into part of an image is the user's, left as it is."""
    if not len(viewer.layers) or viewer.dims.ndisplay != 2 or viewer.grid.enabled or not _layers_whole_on(viewer):
        return
    viewer.canvas.events.size.connect(_WholeUntilMoved(viewer))


class _WholeUntilMoved:
    """The canvas's resize callback of :func:`keep_layers_whole_as_docked`. Holds the viewer weakly, so a closed
    viewer is not kept alive by its canvas's callback, and does nothing once the view was moved."""

    def __init__(self, viewer) -> None:
        self._viewer = weakref.ref(viewer)
        self._view: tuple | None = _view_of(viewer)
        self._whole = True  # the layers lay whole on the canvas before this resize

    def __call__(self, event=None) -> None:
        viewer = self._viewer()
        if viewer is None or self._view is None:
            return
        if _view_of(viewer) != self._view:  # moved since: napari keeps the user's view at any resize
            self._view = None
            return
        # A layer opened since that does not fit (napari fits the first one only) is not fitted at a later resize.
        whole = viewer.dims.ndisplay == 2 and _layers_whole_on(viewer)
        if self._whole and viewer.dims.ndisplay == 2 and not whole:
            viewer.reset_view()
            whole = True
        self._view, self._whole = _view_of(viewer), whole


def camera_of(viewer):
    """``viewer``'s camera: napari 0.9 moved it to ``viewer.scene.camera``, and ``viewer.camera`` warns there that it
    is deprecated; earlier versions have it on the viewer alone."""
    scene = getattr(viewer, "scene", None)
    return scene.camera if scene is not None and hasattr(scene, "camera") else viewer.camera


def camera_view(viewer) -> tuple[float, tuple[float, ...]]:
    """Where ``viewer``'s camera looks (its zoom and centre): a view unchanged since it was fitted has not been moved
    by the user."""
    camera = camera_of(viewer)
    return float(camera.zoom), tuple(float(value) for value in camera.center)


def _view_of(viewer) -> tuple:
    return *camera_view(viewer), viewer.dims.ndisplay


def _layers_whole_on(viewer) -> bool:
    """Whether the displayed extent of ``viewer``'s layers (pixels to their edges) lies on its canvas, give or take
    a screen pixel."""
    displayed = list(viewer.dims.displayed)
    extent = viewer.layers.extent
    world, step = np.asarray(extent.world, dtype=float)[:, displayed], np.asarray(extent.step, dtype=float)[displayed]
    if not np.isfinite(world).all():
        return True  # nothing drawn yet: nothing to cut
    low, high = world[0] - step / 2, world[1] + step / 2
    camera = camera_of(viewer)
    zoom = float(camera.zoom)
    centre = np.asarray(camera.center, dtype=float)[-2:]
    half_view = np.asarray(viewer.canvas.size, dtype=float)[-2:] / (2 * zoom)
    slack = 1.0 / zoom
    return bool(np.all(low >= centre - half_view - slack) and np.all(high <= centre + half_view + slack))
