"""The sliders of a viewer holding tables alone (no image) counted from the tables' origin, as over their image.

napari's slider shows the step from the start of its range, and the range of points alone starts at their
lowest position: a volume table whose centres begin at z = 10 showed z = 20 as '10' (and 21 slices where its
volume has 40), the same table over its volume '20'. A frame slider of a table from frame 5 on showed '0'."""

from __future__ import annotations

import weakref

import numpy as np

# Viewers whose dims are already followed (one follower each; held weakly, so a closed viewer goes).
_FOLLOWED: weakref.WeakSet = weakref.WeakSet()


def count_sliders_from_origin_in(viewer) -> None:
    """In ``viewer``, while it holds this plugin's tables and no image (nor any other layer drawn from an origin
    of its own), each slider's range starts at the tables' origin (their voxel 0, frame 0) where it started
    after it, so a slider shows the position in pixels (voxels, frames), as over the image the table is of."""
    if viewer in _FOLLOWED:
        return
    _FOLLOWED.add(viewer)
    follower = _SlidersFromOrigin(viewer)
    # Held by the callbacks alone, which napari holds strongly: the follower lives as long as the viewer's dims.
    viewer.dims.events.range.connect(lambda _event=None: follower.on_range())
    viewer.dims.events.point.connect(lambda _event=None: follower.on_point())
    # After napari's own handler, which sets the sliders to the middle of their ranges as the first layer comes.
    viewer.layers.events.inserted.connect(lambda _event=None: follower.on_inserted(), position="last")


class _SlidersFromOrigin:
    """One viewer's sliders kept counted from its tables' origin, and at the position the user left them.

    napari sets the ranges of the layers' own extent at each change of a layer (a point added) before this widens
    them again, and its slider, narrowed meanwhile, moved the view: a point added at z = 24 of centres from z = 10
    on showed z = 30. The position last seen with the ranges settled is put back."""

    def __init__(self, viewer) -> None:
        self._viewer = weakref.ref(viewer)
        self._point = tuple(viewer.dims.point)

    def on_range(self) -> None:
        viewer = self._viewer()
        started = widened_ranges(viewer) if viewer is not None else None
        if started is None:
            return
        viewer.dims.range = started
        if len(self._point) == viewer.dims.ndim:
            viewer.dims.point = tuple(float(np.clip(value, each.start, each.stop))
                                      for value, each in zip(self._point, started))

    def on_point(self) -> None:
        viewer = self._viewer()
        if viewer is not None and widened_ranges(viewer) is None:  # settled: not napari's passing ranges
            self._point = tuple(viewer.dims.point)

    def on_inserted(self) -> None:
        viewer = self._viewer()
        if viewer is not None:
            centred_on_tables(viewer)


def widened_ranges(viewer) -> tuple | None:
    """``viewer``'s slider ranges started at the origin of its layers where it holds tables alone
    (:func:`count_sliders_from_origin_in`); None where they need no change (or it holds more than tables)."""
    if not _tables_alone(viewer):
        return None
    ranges = list(viewer.dims.range)
    origins = np.array([_world_origin(layer, len(ranges)) for layer in viewer.layers]).T
    started = [_started_on_the_origins_grid(each, column) for each, column in zip(ranges, origins)]
    return tuple(started) if started != ranges else None


def _started_on_the_origins_grid(axis_range, origins: np.ndarray):
    """``axis_range`` started on a whole step from the layers' lowest origin: at the origin, or at the slice below it
    that holds the lowest position where that lies half a step or more below it (a point dragged past the image's
    edge stays reachable). A centre fitted at z = -0.4 lies in slice 0, as over its image: a range started there
    put every slice 0.4 off the voxels (a point added on slice '5' landed at z = 4.6)."""
    if not (np.isfinite(axis_range.start) and np.isfinite(origins).any()):
        return axis_range
    origin, step = float(np.nanmin(origins)), float(axis_range.step or 1.0)
    slices_below = max(0, int(np.floor((origin - axis_range.start) / step + 0.5)))
    start = origin - slices_below * step
    return axis_range._replace(start=start) if start != axis_range.start else axis_range


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
    viewer.dims.point = tuple(_on_a_slice(value, each) for value, each in zip(middle, viewer.dims.range))


def _on_a_slice(position: float, axis_range) -> float:
    """``position`` moved to the nearest of the slider's slices (a table from z = -0.4 opened on z = 5.6 showed slice
    '6' with z = 5.6 under the cursor and points added there)."""
    step = float(axis_range.step or 1.0)
    return float(axis_range.start + step * round((position - axis_range.start) / step))


def _tables_alone(viewer) -> bool:
    """Whether ``viewer`` holds tables this plugin read and nothing drawn from an origin of its own (no image)."""
    from napari.layers import Points, Shapes, Tracks

    from .layers import read_table_path

    layers = list(viewer.layers)
    if not layers or not all(isinstance(layer, (Points, Shapes, Tracks)) for layer in layers):
        return False
    return any(read_table_path(layer) is not None for layer in layers)  # not the user's own points alone


def _world_origin(layer, ndim: int) -> np.ndarray:
    """Where ``layer``'s data origin (its voxel, pixel, frame 0) lies in the viewer's ``ndim`` world axes (its own
    are the last ones; NaN on the others)."""
    origin = np.asarray(layer.data_to_world(np.zeros(layer.ndim)), dtype=float)[-ndim:]
    return np.concatenate([np.full(ndim - len(origin), np.nan), origin])
