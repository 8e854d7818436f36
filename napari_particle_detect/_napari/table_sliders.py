"""The sliders of a viewer holding tables alone (no image) counted from the tables' origin, as over their image.

napari's slider shows the step from the start of its range, and the range of points alone starts at their
lowest position: a volume table whose centres begin at z = 10 showed z = 20 as '10' (and 21 slices where its
volume has 40), the same table over its volume '20'. A frame slider of a table from frame 5 on showed '0'."""

from __future__ import annotations

import weakref

import numpy as np

# Viewers whose dims are already followed (one hook each; held weakly, so a closed viewer goes).
_FOLLOWED: weakref.WeakSet = weakref.WeakSet()


def count_sliders_from_origin_in(viewer) -> None:
    """In ``viewer``, while it holds this plugin's tables and no image (nor any other layer drawn from an origin
    of its own), each slider's range starts at the tables' origin (their voxel 0, frame 0) where it started
    after it, so a slider shows the position in pixels (voxels, frames), as over the image the table is of."""
    if viewer in _FOLLOWED:
        return
    _FOLLOWED.add(viewer)
    ref = weakref.ref(viewer)

    def on_range(_event=None) -> None:
        live = ref()
        if live is not None:
            start_at_tables_origin(live)

    def on_inserted(_event=None) -> None:
        live = ref()
        if live is not None:
            centred_on_tables(live)

    viewer.dims.events.range.connect(on_range)
    # After napari's own handler, which sets the sliders to the middle of their ranges as the first layer comes.
    viewer.layers.events.inserted.connect(on_inserted, position="last")


def start_at_tables_origin(viewer) -> None:
    """``viewer``'s slider ranges started at the origin of its layers where it holds tables alone
    (:func:`count_sliders_from_origin_in`); as napari set them otherwise. Started earlier, never later: a
    position below the origin (a point dragged past the image's edge) keeps its slider reachable."""
    if not _tables_alone(viewer):
        return
    ranges = list(viewer.dims.range)
    origins = [_world_origin(layer, len(ranges)) for layer in viewer.layers]
    started = [
        each._replace(start=min(each.start, float(np.nanmin(column))))
        if np.isfinite(each.start) and np.isfinite(column).any() and np.nanmin(column) < each.start else each
        for each, column in zip(ranges, np.array(origins).T)]
    if started != ranges:
        viewer.dims.range = tuple(started)


def centred_on_tables(viewer) -> None:
    """``viewer``'s sliders, as its first layer (a table alone) comes, in the middle of the table's positions, as
    napari puts them in the middle of their ranges: those ranges started at the origin, a table of frames 5 to 7
    opened on frame 3, which holds none of its centres."""
    if len(viewer.layers) != 1 or not _tables_alone(viewer):
        return
    extent = viewer.layers.extent
    (lows, highs), steps = np.asarray(extent.world, dtype=float), np.asarray(extent.step, dtype=float)
    if not (np.isfinite(lows).all() and np.isfinite(highs).all()):
        return  # an empty table: napari's middle stands
    middle = lows + steps * ((((highs - lows) / steps).astype(int)) // 2)
    viewer.dims.point = tuple(float(value) for value in middle)


def _tables_alone(viewer) -> bool:
    """Whether ``viewer`` holds tables this plugin read and nothing drawn from an origin of its own (no image)."""
    from napari.layers import Points, Shapes, Tracks

    from .reader import _read_table_path

    layers = list(viewer.layers)
    if not layers or not all(isinstance(layer, (Points, Shapes, Tracks)) for layer in layers):
        return False
    return any(_read_table_path(layer) is not None for layer in layers)  # not the user's own points alone


def _world_origin(layer, ndim: int) -> np.ndarray:
    """Where ``layer``'s data origin (its voxel, pixel, frame 0) lies in the viewer's ``ndim`` world axes (its own
    are the last ones; NaN on the others)."""
    origin = np.asarray(layer.data_to_world(np.zeros(layer.ndim)), dtype=float)[-ndim:]
    return np.concatenate([np.full(ndim - len(origin), np.nan), origin])
