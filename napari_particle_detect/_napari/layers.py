"""Centre tables <-> napari Points layers: one look for detections everywhere (dock, reader, samples), rings coloured
by source; a table opened from a file in squares (READ_TABLE_SYMBOL)."""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from napari.layers import Image
from napari.layers.base import ActionType

from ..files.tables import TABLE_COLUMNS, Placement, empty_table, normalise_table
from ..projects.chain_edits import RING_BEADS

SOURCE_COLOURS = {"model": "yellow", "added": "cyan", "accepted": "lime"}
DEFAULT_SIZE = 10.0
# Rings half a particle wide: napari picks the last point whose marker box holds the click, so
# particle-wide markers let a click on one centre select an overlapping neighbour (one 9 px away
# on 18 px particles). At half the diameter only a neighbour under a quarter diameter away can
# be picked instead, closer than the network ever places two centres.
MARKER_SHARE = 0.5
RING_SYMBOL = "disc"
# A table opened from a file is drawn in squares, coloured by source as the docks' rings are: in rings, a detect CSV
# opened over the dock's own centres of the image drew a second set of yellow rings no one could tell apart.
READ_TABLE_SYMBOL = "square"
RING_WIDTH = 0.12  # of the marker size
# What a point placed with napari's add tool gets.
ADDED_DEFAULTS = {"score": np.nan, "source": "added"}
# A point's row in the table it was read from (-1: placed since), a feature of a layer read from a table: napari gives
# a point placed with the add tool the features of the one point selected (its source, score, measurements), and a
# second point of that row tells the copy (napari adds at the end) from the point (:func:`copies_as_added`).
READ_ROW = "read_row"
# One rule for File > Save and Export, stated in both dialogs.
SAVE_RULE = "saves the centres shown: network points hidden by the threshold are left out"


def read_table_path(layer) -> Path | None:
    """The CSV this plugin's reader read ``layer`` from (napari's record of it); None for any other layer."""
    source = getattr(layer, "source", None)
    path = getattr(source, "path", None)
    if path is None or getattr(source, "reader_plugin", None) != "napari-particle-detect":
        return None
    return Path(str(path)) if str(path).lower().endswith(".csv") else None


def points_data(table: pd.DataFrame, ndim: int) -> np.ndarray:
    """(frame, y, x) rows for stacks, (y, x) for single images: a writable array of their own, as napari writes into
    the data it is given (a point moved) and pandas' copy-on-write hands out read-only views of a table's blocks."""
    columns = ["frame", "y", "x"] if ndim == 3 else ["y", "x"]
    if not len(table):
        return np.zeros((0, ndim))
    return table[columns].to_numpy(float, copy=True)


def marker_size(diameter: float | None) -> float:
    """The ring drawn (and picked) around a centre, for particles ``diameter`` px across."""
    return float(diameter or DEFAULT_SIZE / MARKER_SHARE) * MARKER_SHARE


def unit_suffix_of(units) -> str:
    """Column suffix for physical coordinates from a layer's units: 'um' for micrometres, the unit's
    symbol otherwise, '' for pixels or none."""
    if not units:
        return ""
    symbol = f"{units[-1]:~}".replace("µ", "u").replace(" ", "")
    return "" if symbol in ("px", "pixel") else symbol


def extra_columns(table: pd.DataFrame, placement: Placement | None = None) -> list[str]:
    """A table's columns beyond the centre table's and the physical coordinates ``placement`` (its
    :func:`physical_placement`) was read from: measurements, track ids."""
    physical = {f"y_{placement.unit}", f"x_{placement.unit}"} if placement is not None else set()
    # READ_ROW is the layer's bookkeeping, never a column of the table saved.
    return [c for c in table.columns if c not in TABLE_COLUMNS and c not in physical and c != READ_ROW]


def points_features(table: pd.DataFrame) -> pd.DataFrame:
    table = normalise_table(table) if len(table) else empty_table()
    return pd.DataFrame({"score": table["score"].to_numpy(float), "source": table["source"].astype(str).to_numpy()})


def points_layer_kwargs(table: pd.DataFrame, name: str, size: float | None = None, **extra) -> dict:
    """Keyword arguments for ``viewer.add_points``/a layer-data tuple: thin rings coloured by source,
    half a particle (``size``: its diameter) across.

    A transparent disc with a coloured border, not napari's 'ring' marker: that one's band is half
    the radius wide and hides the edges of the very particles being judged.
    """
    return {
        "name": name,
        "features": points_features(table),
        "feature_defaults": ADDED_DEFAULTS,
        "symbol": RING_SYMBOL,
        "size": marker_size(size) if size else DEFAULT_SIZE,
        "face_color": "transparent",
        "border_color": "source",
        "border_color_cycle": SOURCE_COLOURS,
        "border_width": RING_WIDTH,
        "border_width_is_relative": True,
        **extra,
    }


def table_from_points(data: np.ndarray, features: pd.DataFrame | None) -> pd.DataFrame:
    """``frame,y,x,score,source`` from a Points layer's data and features (frame 0 for 2D points)."""
    data = np.asarray(data, dtype=float)
    if data.ndim != 2 or data.shape[1] not in (2, 3):
        raise ValueError(f"expected 2D or 3D points, got data of shape {data.shape}")
    n = len(data)
    frames = np.rint(data[:, 0]).astype(int) if data.shape[1] == 3 else np.zeros(n, dtype=int)
    features = features if features is not None else pd.DataFrame(index=range(n))
    score = features["score"].to_numpy(float) if "score" in features else np.full(n, np.nan)
    source = features["source"].astype(str).to_numpy() if "source" in features else np.full(n, "added", dtype=object)
    table = pd.DataFrame({"frame": frames, "y": data[:, -2], "x": data[:, -1], "score": score, "source": source})
    return table[TABLE_COLUMNS]


def copies_as_added(features: pd.DataFrame, placed: dict) -> pd.DataFrame:
    """``features`` with the points that repeat an earlier point's READ_ROW (napari's copy of the point selected
    when one was placed, in a layer no viewer hook marked as it was placed: :func:`keep_placed_defaults_in`) as
    points placed by hand (:func:`with_rows_placed`)."""
    if READ_ROW not in features or not len(features):
        return features
    row = features[READ_ROW].to_numpy()
    copies = (row >= 0) & pd.Series(row).duplicated().to_numpy()
    return with_rows_placed(features, copies, placed) if copies.any() else features


def with_rows_placed(features: pd.DataFrame, rows: np.ndarray, placed: dict) -> pd.DataFrame:
    """``features`` with its ``rows`` (a mask) as a point placed by hand has them: ``placed`` where it names the
    column, no value (NaN, '') in the others, as :func:`with_extra_features` gives a placed point's
    measurements. The other rows keep their values and their type: an integer or true/false column takes its
    missing value as pandas' nullable one (Int64, boolean), or its track ids and flags were saved 4.0 and 1.0."""
    features = features.copy()
    for column in features.columns:
        series = features[column]
        value = placed.get(column, np.nan if pd.api.types.is_numeric_dtype(series) else "")
        if pd.isna(value):
            series, value = _nullable(series), _missing_of(series)
        features[column] = series.mask(rows, value)
    return features


def _nullable(series: pd.Series) -> pd.Series:
    """``series`` as a type that holds a missing value: numpy's integers and booleans hold none."""
    if pd.api.types.is_bool_dtype(series) and not isinstance(series.dtype, pd.BooleanDtype):
        return series.astype("boolean")
    if pd.api.types.is_integer_dtype(series) and isinstance(series.dtype, np.dtype):
        return series.astype("Int64")
    return series


def _missing_of(series: pd.Series):
    """The missing value of ``series``'s type: pandas' NA for its nullable types, NaN otherwise."""
    return getattr(series.dtype, "na_value", np.nan)


# In the metadata of a layer read from a table: its extra columns of whole numbers (trackpy's particle, a count) and
# of true/false values. napari makes them floats (or objects) for the missing value of a point added, and particle 7
# was saved 7.000 (:func:`extras_as_read`).
WHOLE_NUMBER_EXTRAS_KEY = "whole_number_columns"
TRUE_FALSE_EXTRAS_KEY = "true_false_columns"


def extras_types(extras: pd.DataFrame) -> dict:
    """The layer metadata that keeps which of a table's extra columns hold whole numbers, and which true/false
    (none where it has none)."""
    typed = {WHOLE_NUMBER_EXTRAS_KEY: [c for c in extras.columns if pd.api.types.is_integer_dtype(extras[c])],
             TRUE_FALSE_EXTRAS_KEY: [c for c in extras.columns if pd.api.types.is_bool_dtype(extras[c])]}
    return {key: columns for key, columns in typed.items() if columns}


def extras_as_read(extras: pd.DataFrame, metadata: dict | None) -> pd.DataFrame:
    """``extras`` with the columns read as whole numbers or true/false (:func:`extras_types`) so again, empty for
    a point added since; one given other values since (in napari's features table) stays as it is."""
    metadata = metadata if isinstance(metadata, dict) else {}
    back = {}
    for column in (c for c in metadata.get(WHOLE_NUMBER_EXTRAS_KEY) or [] if c in extras):
        values = pd.to_numeric(extras[column], errors="coerce")
        if not pd.api.types.is_integer_dtype(extras[column]) and (values.dropna() % 1 == 0).all():
            back[column] = values.astype("Int64")
    for column in (c for c in metadata.get(TRUE_FALSE_EXTRAS_KEY) or [] if c in extras):
        values = extras[column]
        if not pd.api.types.is_bool_dtype(values) and values.dropna().isin([True, False]).all():
            back[column] = values.astype("boolean")
    return extras.assign(**back) if back else extras


def keep_placed_defaults_in(viewer) -> None:
    """In ``viewer`` (None: none), each Points layer read from a table (features with READ_ROW) has the points
    placed in it (napari's add tool) marked as placed at once (:func:`with_rows_placed`): napari gives a point
    placed the features of the point selected then (its score, source, measurements, chain), and once that point
    was deleted (select the wrong one, place the right one, delete the wrong one) no second point of its READ_ROW
    told the copy at File > Save (:func:`copies_as_added`), saved as the model's. Its feature defaults are also
    given back whenever its selection empties, so a point placed then is drawn as placed. The layers are found as
    they are inserted: a reader gives napari layer data, and only the viewer makes layers of them."""
    if viewer is not None:
        viewer.layers.events.inserted.connect(_keep_placed_defaults)  # once: napari connects a callback once


_PLACED_DEFAULTS_KEPT: weakref.WeakSet = weakref.WeakSet()


def _keep_placed_defaults(event) -> None:
    layer = event.value
    features = getattr(layer, "features", None)
    if features is None or READ_ROW not in features or layer in _PLACED_DEFAULTS_KEPT:
        return
    _PLACED_DEFAULTS_KEPT.add(layer)
    placed = _PlacedDefaults(layer)
    # Functions, not the object: psygnal and napari keep a callable object (a bound method's too) by a weak
    # reference only.
    layer.selected_data.events.items_changed.connect(lambda *_: placed())
    layer.events.data.connect(lambda data_event: placed.mark_added(data_event))
    # napari's paste (Ctrl+V) sends no data event: a point copied from the model's, pasted, and the original
    # deleted (another way to move one) was saved as the model's, its score and measurements.
    placed.pasted = PastedPoints(layer, placed.mark_pasted)


class _PlacedDefaults:
    """A Points layer's feature defaults as it was made (its placed point's), set again when its selection is
    empty, and given to each point placed; by a weak reference, so the layer is not kept alive by its own
    callbacks."""

    def __init__(self, layer) -> None:
        self._layer = weakref.ref(layer)
        self._placed = layer.feature_defaults.iloc[0].to_dict()
        self.pasted: PastedPoints | None = None  # kept here: napari holds its bound methods weakly

    def placed_of(self, features: pd.DataFrame) -> dict:
        """The features of a point placed, for each of ``features``' columns: those given since (a dock's
        measurements) have no value for it."""
        return {c: self._placed.get(c, np.nan if pd.api.types.is_numeric_dtype(features[c]) else "")
                for c in features.columns}

    def __call__(self) -> None:
        layer = self._layer()
        # Nor in a layer a dock listens to (as mark_added): the dock keeps its defaults and marks what is placed there.
        if layer is None or len(layer.selected_data) or dock_listens_to(layer, besides=self.pasted):
            return
        placed = self.placed_of(layer.features)
        now = layer.feature_defaults.iloc[0].to_dict()
        if any(not _same_value(placed[c], now.get(c)) for c in placed):
            layer.feature_defaults = placed

    def mark_added(self, event) -> None:
        """The points an add (napari's add tool) appended, as placed by hand, whatever they copied; not in a layer a
        dock listens to (the Rods and chains dock's beads carry READ_ROW too): the dock marks them itself, and two
        handlers of one placement ran in no set order."""
        layer = self._layer()
        if getattr(event, "action", None) == ActionType.ADDED and layer is not None and \
                not dock_listens_to(layer, besides=self.pasted):
            self.mark_rows(event.data_indices)

    def mark_pasted(self, rows: list[int]) -> None:
        """The points napari's paste added, as placed by hand, unless a dock listens to the layer (it marks them
        itself); beads pasted stay copies of their chains, as the Rods and chains dock keeps them, not a chain each."""
        layer = self._layer()
        if layer is not None and not dock_listens_to(layer, besides=self.pasted):
            self.mark_rows(rows, pasted=True)

    def mark_rows(self, indices, pasted: bool = False) -> None:
        """The points at ``indices`` (placed, or ``pasted``), as placed by hand, whatever they copied."""
        layer = self._layer()
        if layer is None:
            return
        features = layer.features
        rows = np.zeros(len(features), dtype=bool)
        rows[np.asarray(indices, dtype=int)] = True
        placed = self.placed_of(features)
        marked = with_rows_placed(features, rows, placed)
        if pasted and {"chain", "index"} <= set(features.columns):
            marked = as_pasted_beads(marked, features, list(indices))
        layer.features = marked
        # Setting the features takes the defaults from the last row; napari selects the new points next anyway.
        layer.feature_defaults = placed
        layer.refresh_colors()


def _same_value(a, b) -> bool:
    """Whether two feature values are one, NaN (a placed point's score) as NaN."""
    return bool((pd.isna(a) and pd.isna(b)) or a == b)


def shown_mask(features: pd.DataFrame, threshold: float, held: dict[int, float] | None = None) -> np.ndarray:
    """Network points not above the score threshold are hidden (as the decoder's ``>``); the user's never are.
    ``held``: frame -> the threshold of the frames another round detected (their scores are that model's),
    in place of ``threshold`` there (``features`` then has a ``frame`` column)."""
    if not len(features):
        return np.zeros(0, dtype=bool)
    from_model = features["source"].astype(str).to_numpy() == "model"
    score = features["score"].to_numpy(float)
    limit = np.full(len(features), float(threshold))
    if held:
        limit = pd.Series(features["frame"].to_numpy(int)).map(held).fillna(float(threshold)).to_numpy(float)
    return ~from_model | (np.nan_to_num(score, nan=0.0) > limit)



# ---- the docks' own layers in the viewer -------------------------------------------------------------
# In the metadata of a layer a dock made as its output (a heatmap): never an image to detect on. napari's
# Duplicate Layer copies metadata, so a copy of it is not offered either.
DOCK_OUTPUT_KEY = "napari_particle_detect_output"


def is_dock_output(layer) -> bool:
    """Whether ``layer`` is a dock's output (or a copy of one), not an image to work on."""
    return isinstance(layer.metadata, dict) and DOCK_OUTPUT_KEY in layer.metadata


def place_over_image(viewer, layer, image: Image) -> None:
    """Move ``layer``, made or brought back by a dock for ``image``, just over ``image`` and the layers already
    lying on it, under the next image up the layer list. napari adds a layer at the top, so with two images
    open one image's centres drew over the other image's particles; a layer taken back stayed where it
    was, under its image opened again."""
    layers = viewer.layers
    if layer not in layers or image not in layers:
        return
    others = [each for each in layers if each is not layer]
    wanted = others.index(image) + 1
    while wanted < len(others) and (not isinstance(others[wanted], Image) or is_dock_output(others[wanted])):
        wanted += 1  # over image's centres, outlines, heatmap, and whatever else the user laid on it
    now = layers.index(layer)
    if wanted != now:
        layers.move(now, wanted if wanted < now else wanted + 1)  # napari's move: before the index it is given


class PastedPoints:
    """Calls ``on_pasted(rows)`` when napari's paste (Ctrl+V in a Points layer) adds points to ``layer``: a
    paste sends no data event, as an added point does (napari 0.9.2), only the selection of what it pasted.
    :meth:`close` stops listening."""

    def __init__(self, layer, on_pasted: Callable[[list[int]], None]) -> None:
        self.layer = layer
        self._on_pasted = on_pasted
        self._rows = len(layer.data)
        # Between an edit's "-ing" event and its "-ed" one, the data may already hold rows no event told yet.
        self._editing = False
        layer.events.data.connect(self._on_data)
        layer.selected_data.events.items_changed.connect(self._on_selection)
        _LISTENING.add(self)

    def _on_data(self, event) -> None:
        self._editing = event.action in (ActionType.ADDING, ActionType.REMOVING, ActionType.CHANGING)
        self._rows = len(self.layer.data)

    def _on_selection(self, *_) -> None:
        rows = len(self.layer.data)
        if self._editing or rows <= self._rows:
            return
        pasted, self._rows = list(range(self._rows, rows)), rows
        self._on_pasted(pasted)

    def close(self) -> None:
        self.layer.events.data.disconnect(self._on_data)
        self.layer.selected_data.events.items_changed.disconnect(self._on_selection)
        _LISTENING.discard(self)


# Every PastedPoints not closed (their owners keep them).
_LISTENING: weakref.WeakSet = weakref.WeakSet()


def dock_listens_to(layer, besides: PastedPoints | None = None) -> bool:
    """Whether a dock listens to ``layer``'s edits: every dock that does hears napari's paste into it with a
    PastedPoints (one other than ``besides``, the reader's own)."""
    return any(each.layer is layer and each is not besides for each in list(_LISTENING))


# In the metadata of a Points layer of a volume's 3D centres (the Volume dock's, or a frame,z,y,x CSV read): its
# (z, y, x) are no (frame, y, x), which a 3D layer's points are otherwise taken for.
VOLUME_POINTS_KEY = "napari_particle_detect_volume_centres"
# In the metadata of a volume table's Points layer (the reader's): its spheres' diameter along z in the layer's own
# data units (voxels), which sets the viewer's z slab once the layer is in a viewer (:func:`show_spheres_slab`).
SPHERE_DEPTH_KEY = "napari_particle_detect_sphere_depth"


def show_spheres_slab(viewer, depth: float, images: Iterable[Image]) -> None:
    """Draw a volume's centres (projection_mode 'rescale_spherical') on every slice their spheres cross: ``viewer``'s
    z slab ``depth`` thick (world units: a sphere's z diameter times the z scale), and each of ``images`` shown as its
    own slice.

    napari keeps a point only on the slab it lies in: without one, a ring showed on its centre slice alone. An image
    projects through the slab (napari 0.9's default projection_mode is 'mean'), so the user would judge centres on
    the mean of about five slices: it shows its own."""
    if viewer.dims.ndim < 3 or not np.isfinite(depth) or depth <= 0:
        return
    set_z_slab(viewer, depth)
    for image in images:
        if image.ndim >= 3:
            image.projection_mode = "none"


def set_z_slab(viewer, depth: float) -> None:
    """``viewer``'s z slab (z: the first of a volume's last three world axes) ``depth`` thick (world units); 0:
    napari's none. ``viewer`` has three axes at least."""
    axis = viewer.dims.ndim - 3
    thickness = list(viewer.dims.thickness)
    thickness[axis] = float(depth)
    viewer.dims.thickness = tuple(thickness)


# Canvases whose viewer makes them current before a layer leaves (one hook each).
_GUARDED_CANVASES: weakref.WeakSet = weakref.WeakSet()


def viewer_closing(viewer) -> bool:
    """Whether napari's Viewer.close is under way (a script's, or File > Exit's for every viewer): it shuts its
    slicer down before removing the layers one by one, and those removals are no user's closing of an image.
    False where this napari keeps its slicer otherwise: each image is then said closed, as before."""
    executor = getattr(getattr(viewer, "_layer_slicer", None), "_executor", None)
    return bool(getattr(executor, "_shutdown", False))


def scene_canvas(viewer):
    """The vispy canvas a napari viewer draws in; None for a viewer without a window."""
    qt_viewer = getattr(getattr(viewer, "window", None), "_qt_viewer", None)
    return getattr(getattr(qt_viewer, "canvas", None), "_scene_canvas", None)


def guard_canvas_from_removed_layers(viewer) -> None:
    """Make ``viewer``'s canvas the current OpenGL context whenever a layer is about to leave it (one of a
    dock's, or the user's).

    napari's layer removal (0.9.2) runs vispy's queued commands at once (``context.finish()``), outside a
    paint, in whichever context is current: once the window has been composed on screen, Qt's compositing
    context, not the canvas's. The removed layers' buffers were deleted from there while the canvas's context
    still had them bound (the centres' and review box's marker attributes); under Mesa's software renderer
    (llvmpipe: VMs, remote desktops) the canvas's next draw after a resize (closing the dock widens it) then
    died in glDrawArrays, as did scripts/napari_points_removal_segfault.py. Deleted in the canvas's own
    context, bound buffers are unbound as they go. Once per canvas: it outlives the dock, whose closing
    removes its layers."""
    canvas = scene_canvas(viewer)
    if canvas is None or canvas in _GUARDED_CANVASES:
        return
    _GUARDED_CANVASES.add(canvas)
    ref = weakref.ref(canvas)

    def on_removing(_event=None) -> None:
        live = ref()
        if live is None:
            return
        # A closed canvas has no backend (AttributeError) or Qt widget (RuntimeError) left to make current.
        with contextlib.suppress(AttributeError, RuntimeError):
            live.set_current()

    viewer.layers.events.removing.connect(on_removing)


def quoted_names(names: list[str], shown: int = 3) -> str:
    """Layer names for a one-line notice: the first ``shown`` quoted, then '…' for the rest (a long list would
    fill the notification and hide what it says of them)."""
    return ", ".join(f"'{name}'" for name in names[:shown]) + (" …" if len(names) > shown else "")


# The slider labels this plugin's tables and samples gave in each viewer (by id, with the viewer held weakly): the next
# one names those axes again as it names napari's numbers; a label the user or a file's metadata gave is never one.
_OUR_LABELS: dict[int, tuple[weakref.ref, set[str]]] = {}
# The labels that name another axis than each letter does: over a movie labelled 't', a volume's table or sample took
# its 't' for their z, and the Volume dock read the volume as frames. A stack's frames may be T or Z (the spheres dock
# reads a volume's slices as frames).
_OTHER_AXES = {"t": {"y", "x"}, "z": {"t", "y", "x"}, "y": {"t", "z", "x"}, "x": {"t", "z", "y"}}


def named_axis_labels(viewer, letters: str) -> tuple[str, ...]:
    """The axis labels of a layer of a table or sample of ``len(letters)`` axes (``letters``: 'tyx' for frames,
    'zyx', 'tzyx'), lined up with ``viewer``'s last axes as napari lines layers up: its label of an axis where one
    was given otherwise, else the letter (napari numbered it, or a table named it). napari shows the labels of the
    layer added last: a table named its axes 'z, y, x' over a volume the user had labelled, and their labels were
    gone; a table with frames named none, and its slider read '-3'."""
    held = _OUR_LABELS.get(id(viewer)) if viewer is not None else None
    named = held[1] if held is not None and held[0]() is viewer else set()
    shown = tuple(str(label) for label in viewer.dims.axis_labels) if viewer is not None else ()
    labels = []
    for axis, letter in enumerate(letters):
        at = len(shown) - len(letters) + axis
        label = shown[at] if at >= 0 else ""
        given = (bool(label) and not label.lstrip("-").isdigit() and label not in named
                 and label.lower() not in _OTHER_AXES.get(letter, ()))
        labels.append(label if given else letter)
    if viewer is not None:
        for key in [key for key, (ref, _) in _OUR_LABELS.items() if ref() is None]:
            del _OUR_LABELS[key]
        named |= {label for label in labels if label in letters and label not in shown}
        _OUR_LABELS[id(viewer)] = (weakref.ref(viewer), named)
    return tuple(labels)


# In the metadata of a layer drawn in pixels that keeps its table's physical columns (y_um, x_um) as features: the
# map they were read on (unit, scale, translate) and how far its rows missed it (their rounding), so File > Save
# writes those of the points moved or added since from where they are (files.tables.with_physical_refreshed).
PHYSICAL_COLUMNS_KEY = "napari_particle_detect_physical_columns"


def with_extra_features(kwargs: dict, extras: pd.DataFrame) -> dict:
    """Points (or Shapes) layer keywords with a table's other columns (measurements, track ids, flags) as features
    too, its whole number and true/false columns named in its metadata (:func:`extras_types`) for File > Save."""
    typed = extras_types(extras)
    # A column of numpy's booleans holds no missing value: napari made a point added with nothing selected True.
    extras = extras.astype({c: "boolean" for c in typed.get(TRUE_FALSE_EXTRAS_KEY, [])})
    features = pd.concat([kwargs["features"], extras], axis=1)
    # A point added by hand has no measurement or track yet.
    defaults = {c: np.nan if pd.api.types.is_numeric_dtype(extras[c]) else "" for c in extras.columns}
    return {**kwargs, "features": features, "feature_defaults": {**kwargs["feature_defaults"], **defaults},
            "metadata": {**kwargs.get("metadata", {}), **typed}}


def kept_physical(metadata: dict | None) -> dict:
    """The keywords of files.tables.with_physical_refreshed (placement, misses) that a layer's ``metadata``
    keeps (reader.with_physical_kept); {} where it keeps none (a layer not read from a table, or read by an
    older version): the columns are then saved as they are."""
    kept = metadata.get(PHYSICAL_COLUMNS_KEY) if isinstance(metadata, dict) else None
    try:
        placement = Placement(tuple(float(v) for v in kept["scale"]), tuple(float(v) for v in kept["translate"]),
                              str(kept["unit"]))
        return {"placement": placement, "misses": tuple(float(v) for v in kept["misses"])}
    except (TypeError, KeyError, ValueError):
        return {}


def renumbered_copies(chains: np.ndarray, rows: list[int]) -> np.ndarray:
    """New chain numbers for the beads in ``rows``, copies of chains numbered ``chains[rows]``: each chain copied
    gets a number no other bead has, its beads' indices (and a ring's closure) kept, so the copy is the chain's
    shape; a part of a chain is split or opened where beads are missing (kind_layers.table_from_beads). A bead
    of no chain yet (below 0) stays a chain of its own."""
    copied = chains[rows]
    others = np.delete(chains, rows)
    first = int(others.max(initial=-1)) + 1
    _, which = np.unique(copied, return_inverse=True)
    return np.where(copied < 0, copied, first + which)


def as_pasted_beads(placed: pd.DataFrame, copied: pd.DataFrame, rows: list[int]) -> pd.DataFrame:
    """``placed`` (a beads layer's features with the beads at ``rows`` marked as placed by hand: added, unscored,
    no measurement) with those beads the copies napari's paste made of ``copied``'s chains, as the Rods and chains
    dock keeps them (:func:`renumbered_copies`): a chain pasted stays a chain, not a bead each."""
    placed = placed.copy()
    shape = [c for c in ("index", "closed", RING_BEADS) if c in copied and c in placed]
    placed.loc[rows, shape] = copied.loc[rows, shape].to_numpy()
    placed.loc[rows, "chain"] = renumbered_copies(copied["chain"].to_numpy(int), rows)
    return placed
