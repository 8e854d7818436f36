"""Rods and chains tables <-> napari layers (the kinds' layer adaptors, thin over kinds/rods.py and kinds/chains.py).

* Rods: a Shapes layer of lines, tip to tip, each as wide as its rod (feature ``width``). Dragging a tip
  changes the rod's length and angle, a new line is a new rod, deleting a line removes it: the table is
  rebuilt from the lines.
* Chains: a Points layer of beads (features ``chain``, ``index``, ``score``, ``source``, ``closed``,
  ``ring_beads``, a ring's bead count when drawn, and ``read_row``, layers.READ_ROW) holding the data, and a
  Shapes layer of paths drawn through each chain's beads (a ring's path closes).

A table's other columns (measurements, track ids, physical positions, notes) are features of its lines or beads,
saved back with them.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Callable

import numpy as np
import pandas as pd
from napari.layers.base import ActionType

from ..files.tables import with_physical_refreshed
from ..kinds import rods
from ..kinds.columns import KIND_COLUMNS
from ..projects.chain_edits import RING_BEADS, close_index_gaps, ring_sizes
from ..synthetic.rods import rod_table, tips
from .layers import READ_ROW, SOURCE_COLOURS, copies_as_added, extras_as_read, kept_physical, with_extra_features

# Unlike the beads' rings (SOURCE_COLOURS) and the review box and regions (regions.DRAFT_COLOUR, ACCEPTED_COLOUR):
# orange paths hid Review next's orange box on a frame crowded with chains.
PATH_COLOUR = "magenta"

# Marks a chains image's paths layer (its metadata): drawn from the beads, it is no table of its own, and
# File > Save of it through the rods writer wrote its 2-bead chains as rods and dropped the rest.
CHAIN_PATHS_KEY = "chain_paths"
# In the metadata of a chains image's beads and paths layers made together: what pairs them once in a viewer (napari
# renames a second copy's layers 'NAME beads [1]'), so that the paths follow the beads (follow_beads_in).
CHAINS_PAIR_KEY = "chains_pair"
# The beads layers a Rods and chains dock hears: it draws their paths from what it saved (kind_review.KindSession).
PATHS_DRAWN_BY_DOCK: weakref.WeakSet = weakref.WeakSet()
# A layer's edits finished (napari also sends ADDING, CHANGING while a bead is dragged, REMOVING).
DONE_ACTIONS = {ActionType.ADDED, ActionType.REMOVED, ActionType.CHANGED}

# A rod's line is drawn as wide as the rod, see-through, so the rod under it shows whether its width is right
# (the width a round learns); a rod of unknown width (drawn before widths could be set) at its table's
# typical width, or ROD_EDGE_WIDTH where none is known.
ROD_EDGE_WIDTH = 2.0
ROD_OPACITY = 0.3
# A rod is at least as long as it is wide (its caps are part of its length), and the generator draws
# no rod narrower than 4 px (synthetic/rods.py, RodConfig.width_range): a shorter line is a click of the
# line tool, not a rod.
MIN_ROD_LENGTH = 4.0
# A rod's own centre, angle and length, kept in its layer's metadata (under ROD_GEOMETRY_KEY, by frame): recomputed
# from tips written with three decimals, a rods table opened and saved unchanged drifted by 0.001 px and degrees
# in each. Not as the lines' features: a tip dragged left them at their old values in napari's features table
# (where no dock listens to the layer: a table opened alone), beside a line elsewhere.
ROD_GEOMETRY = ["y", "x", "angle", "length"]
ROD_GEOMETRY_KEY = "rod_geometry"
# Frames apart in the tips' search tree (_OwnGeometry): no rod's tips on one frame come near another frame's.
_FRAME_APART = 1e9
# A bead placed with napari's add tool while one bead was selected took its features (layers.READ_ROW): it joined
# that bead's chain at its index, scored as it was. Those of a bead placed by hand:
PLACED_BEAD = {"chain": -1, "index": 0, "closed": 0, RING_BEADS: 0, "score": np.nan, "source": "added", READ_ROW: -1}


def _with_frame(table: pd.DataFrame) -> pd.DataFrame:
    return table if "frame" in table else table.assign(frame=0)


def _extra_names(columns, kind: str) -> list[str]:
    """A rods or chains table's (or layer's features') columns beyond its kind's own and the layer's: a user's
    measurements, track ids, notes, physical positions, carried from File > Open to File > Save."""
    own = {*KIND_COLUMNS[kind], "source", "closed", RING_BEADS, READ_ROW}
    return [c for c in columns if c not in own]


def _with_extras(table: pd.DataFrame, features: pd.DataFrame, rows: list[int], kind: str,
                 metadata: dict | None) -> pd.DataFrame:
    """``table`` with the extra columns of ``features`` (its ``rows``, in the order of ``table``'s rows) after its
    own, those of whole numbers or true/false when read so again (layers.extras_as_read), the physical ones (``y_um``,
    ``x_um``) of a rod or bead moved or added since written anew from its pixels (the map its layer's
    ``metadata`` keeps, layers.kept_physical)."""
    extras = _extra_names(features.columns, kind)
    if not extras:
        return table
    carried = extras_as_read(features[extras].iloc[rows].reset_index(drop=True), metadata)
    return with_physical_refreshed(pd.concat([table.reset_index(drop=True), carried], axis=1),
                                   **kept_physical(metadata))


def rods_layer_data(table: pd.DataFrame, name: str, ndim: int = 2) -> tuple:
    """(lines, kwargs, 'shapes'): one line per rod from tip 1 to tip 2 ((frame, y, x) vertices for stacks)."""
    table = _with_frame(table).reset_index(drop=True)
    lines = []
    for _, r in table.iterrows():
        ends = np.array([[r.y1, r.x1], [r.y2, r.x2]], float)
        lines.append(np.column_stack([np.full(2, r.frame), ends]) if ndim == 3 else ends)
    source = table["source"].astype(str) if "source" in table else pd.Series(["model"] * len(table), dtype=object)
    extras = table[_extra_names(table.columns, "rods")]
    features = pd.DataFrame({"score": table["score"].to_numpy(float) if "score" in table else np.full(len(table), np.nan),
                             "width": table["width"].to_numpy(float) if "width" in table else np.full(len(table), np.nan),
                             "source": source.to_numpy()})
    widths = rod_line_widths(features["width"].to_numpy(float))
    kwargs = {"name": name, "shape_type": "line", "features": features,
              "feature_defaults": {"score": np.nan, "width": np.nan, "source": "added"},
              "metadata": {ROD_GEOMETRY_KEY: rods_geometry(table)},
              "edge_width": list(widths) if len(widths) else ROD_EDGE_WIDTH, "opacity": ROD_OPACITY,
              # One colour per line by source (Shapes take no colour-cycle dictionary); new lines: 'added'.
              "edge_color": [SOURCE_COLOURS.get(s, "cyan") for s in source] if len(table) else SOURCE_COLOURS["added"]}
    return lines, with_extra_features(kwargs, extras), "shapes"


def rods_geometry(table: pd.DataFrame) -> pd.DataFrame:
    """Each rod's frame and own ROD_GEOMETRY, as its table gives them (none where the table lacks them), for a rods
    layer's metadata: :func:`table_from_rod_lines` keeps them for a line whose tips are still theirs."""
    if not set(ROD_GEOMETRY) <= set(table.columns):
        return pd.DataFrame(columns=["frame", *ROD_GEOMETRY])
    return _with_frame(table)[["frame", *ROD_GEOMETRY]].astype({"frame": int}).reset_index(drop=True)


def rod_line_widths(widths: np.ndarray) -> np.ndarray:
    """How wide each rod's line is drawn: its width, or for a rod of unknown width the others' median."""
    widths = np.asarray(widths, float)
    known = np.isfinite(widths) & (widths > 0)
    return np.where(known, widths, float(np.median(widths[known])) if known.any() else ROD_EDGE_WIDTH)


def is_rod_shape(shape_type: str, vertices: np.ndarray) -> bool:
    """A line, or a path of two points (what napari's path tool draws for one segment), is a rod."""
    return shape_type == "line" or (shape_type == "path" and len(vertices) == 2)


def why_not_a_rod(shape_type: str, vertices: np.ndarray) -> str | None:
    """Why a shape drawn on the rods layer cannot be saved as a rod (None when it can)."""
    v = np.asarray(vertices, float)
    if not is_rod_shape(shape_type, v):
        return f"a {shape_type}" + (f" of {len(v)} points" if shape_type == "path" else "")
    length = float(np.hypot(*(v[-1, -2:] - v[0, -2:])))
    if length < MIN_ROD_LENGTH:
        return f"a line {length:.1f} px long (a rod is at least {MIN_ROD_LENGTH:g} px)"
    return None


def table_from_rod_lines(data: list, features: pd.DataFrame | None, shape_types: list[str] | None = None,
                         metadata: dict | None = None) -> pd.DataFrame:
    """The rods table (frame, y, x, angle, length, width, tips, score, source, then the extra columns its
    ``features`` carry) from a Shapes layer's lines (its ``metadata``: the rods' own geometry,
    :func:`rods_geometry`, kept where a line's tips are still theirs)."""
    rows, kept_lines = [], []
    n = len(data)
    features = features if features is not None else pd.DataFrame(index=range(n))
    own_geometry = _OwnGeometry((metadata or {}).get(ROD_GEOMETRY_KEY))
    for i, vertices in enumerate(data):
        v = np.asarray(vertices, float)
        if shape_types is not None and not is_rod_shape(shape_types[i], v):
            continue  # rectangles or polygons drawn by mistake are not rods
        kept_lines.append(i)
        frame = int(round(v[0, 0])) if v.shape[1] == 3 else 0
        (y1, x1), (y2, x2) = v[0, -2:], v[-1, -2:]
        rows.append({"frame": frame, "y": (y1 + y2) / 2, "x": (x1 + x2) / 2,
                     "angle": np.degrees(np.arctan2(y2 - y1, x2 - x1)), "length": float(np.hypot(y2 - y1, x2 - x1)),
                     "width": float(features["width"].iloc[i]) if "width" in features else np.nan,
                     "score": float(features["score"].iloc[i]) if "score" in features else np.nan,
                     "source": str(features["source"].iloc[i]) if "source" in features else "added",
                     "ends": v[[0, -1], -2:].ravel(), "own": own_geometry.of(frame, v[[0, -1], -2:])})
    if not rows:  # typed columns: an empty frame is still a valid rods table (accepted as holding none)
        return rods.empty_table().assign(source=pd.Series(dtype=object))
    table = pd.DataFrame(rows)
    kept = table["own"].notna().to_numpy()
    if kept.any():
        table.loc[kept, ROD_GEOMETRY] = np.vstack(table.loc[kept, "own"].to_numpy())
    geometry = rod_table(table["y"], table["x"], table["angle"], table["length"], table["width"])
    # Its tips where the line's ends are, as they were read: recomputed, they too could move by a rounding.
    geometry.loc[kept, ["y1", "x1", "y2", "x2"]] = np.vstack(table["ends"].to_numpy())[kept]
    return _with_extras(pd.concat([table[["frame"]], geometry, table[["score", "source"]]], axis=1), features,
                        kept_lines, "rods", metadata)


class _OwnGeometry:
    """The rods' own geometry (:func:`rods_geometry`) found by their tips: found by place, not by row, it holds
    for a line whatever lines were deleted, drawn or pasted before it."""

    def __init__(self, geometry: pd.DataFrame | None) -> None:
        from scipy.spatial import cKDTree

        own = geometry[ROD_GEOMETRY].to_numpy(float) if isinstance(geometry, pd.DataFrame) and len(geometry) else \
            np.empty((0, len(ROD_GEOMETRY)))
        known = np.all(np.isfinite(own), axis=1)
        self.own = own[known]
        frames = geometry["frame"].to_numpy(float)[known] if len(self.own) else np.empty(0)
        self.tree = cKDTree(np.column_stack([frames * _FRAME_APART, *tips(*self.own.T)])) if len(self.own) else None

    def of(self, frame: int, ends: np.ndarray) -> np.ndarray | None:
        """The own y, x, angle, length of the rod whose tips are ``ends`` (within a rounding of them) on ``frame``;
        None where no rod's are (a tip dragged, a line drawn)."""
        if self.tree is None:
            return None
        distance, row = self.tree.query([frame * _FRAME_APART, *np.ravel(ends)], p=np.inf,
                                        distance_upper_bound=rods.TIP_LENGTH_TOLERANCE)
        return self.own[row] if np.isfinite(distance) else None


def chain_layers_data(table: pd.DataFrame, name: str, ndim: int = 2) -> list[tuple]:
    """[(beads, kwargs, 'points'), (paths, kwargs, 'shapes')] for a chains table."""
    table = _with_frame(table).sort_values(["frame", "chain", "index"]).reset_index(drop=True)
    columns = ["frame", "y", "x"] if ndim == 3 else ["y", "x"]
    source = table["source"].astype(str) if "source" in table else pd.Series(["model"] * len(table), dtype=object)
    features = pd.DataFrame({"chain": table["chain"].to_numpy(int), "index": table["index"].to_numpy(int),
                             "score": table["score"].to_numpy(float) if "score" in table else np.full(len(table), np.nan),
                             "source": source.to_numpy(),
                             "closed": table["closed"].to_numpy(int) if "closed" in table else np.zeros(len(table), int)})
    features[RING_BEADS] = ring_sizes(features.assign(frame=table["frame"].to_numpy(int)))
    features[READ_ROW] = np.arange(len(table))
    extras = table[_extra_names(table.columns, "chains")]
    pair = uuid.uuid4().hex
    kwargs = {"name": f"{name} beads", "features": features, "size": 6.0, "face_color": "transparent",
              "border_color": "source", "border_color_cycle": SOURCE_COLOURS, "border_width": 0.15,
              "feature_defaults": PLACED_BEAD, "metadata": {CHAINS_PAIR_KEY: pair}}
    beads = (table[columns].to_numpy(float).reshape(-1, ndim), with_extra_features(kwargs, extras), "points")
    return [beads, (chain_paths(table, ndim), {"name": f"{name} chains", "shape_type": "path", "edge_width": 1.5,
                                               "edge_color": PATH_COLOUR,
                                               "metadata": {CHAIN_PATHS_KEY: True, CHAINS_PAIR_KEY: pair}},
                    "shapes")]


def follow_beads_in(viewer) -> None:
    """In ``viewer`` (None: none), a chains image's paths drawn anew from its beads at each finished edit of them (a
    bead placed, moved or deleted) where no Rods and chains dock draws them (PATHS_DRAWN_BY_DOCK): opened from a CSV
    alone, the paths stayed where the beads had been until the file was opened again. The pair is found as it is
    inserted: a reader gives napari layer data, and only the viewer makes layers of them."""
    if viewer is not None:
        viewer.layers.events.inserted.connect(_pair_paths_with_beads)  # once: napari connects a callback once


def inserted_pair(event, key: str, is_second: Callable[[object], bool]) -> tuple | None:
    """(first, second) of the two layers a reader marked as one pair (metadata ``key``), once ``event`` (a layer
    inserted) brings the second into the viewer; ``is_second`` tells the second's kind. None otherwise."""
    pair = getattr(event.value, "metadata", {}).get(key)
    if pair is None:
        return None
    mates = [layer for layer in event.source if layer.metadata.get(key) == pair]
    seconds = [layer for layer in mates if is_second(layer)]
    firsts = [layer for layer in mates if not is_second(layer)]
    return (firsts[0], seconds[0]) if len(firsts) == 1 and len(seconds) == 1 else None


def _pair_paths_with_beads(event) -> None:
    pair = inserted_pair(event, CHAINS_PAIR_KEY, lambda layer: bool(layer.metadata.get(CHAIN_PATHS_KEY)))
    if pair is not None:
        beads, paths = pair
        follow = _PathsFollowBeads(beads, paths, event.source)
        beads.events.data.connect(follow)
        # napari's paste sends no data event: beads pasted as a chain's copy (layers.mark_pasted) are told by
        # their features, set as they are marked; a lambda, as napari holds a bound method weakly.
        beads.events.features.connect(lambda _event: follow.redraw())


class _PathsFollowBeads:
    """A beads layer's data events drawing its paths anew; by weak references, so neither layer nor viewer is
    kept alive by the other."""

    def __init__(self, beads, paths, layers) -> None:
        self._beads, self._paths, self._layers = weakref.ref(beads), weakref.ref(paths), weakref.ref(layers)

    def __call__(self, event) -> None:
        if getattr(event, "action", None) in DONE_ACTIONS:
            self.redraw()

    def redraw(self) -> None:
        """The paths drawn from the beads as they are now, where no dock draws them."""
        beads, paths, layers = self._beads(), self._paths(), self._layers()
        if None in (beads, paths, layers) or len(beads.features) != len(beads.data):
            return
        if paths in layers and beads not in PATHS_DRAWN_BY_DOCK:
            draw_paths(paths, chain_paths(table_from_beads(beads.data, beads.features), beads.ndim))


def draw_paths(paths, drawn: list[np.ndarray]) -> None:
    """The paths layer showing ``drawn`` (:func:`chain_paths`), every one a path."""
    paths.selected_data = set()
    paths.data = drawn
    if drawn:
        paths.shape_type = ["path"] * len(drawn)
        # napari draws the paths beyond those the layer held (a chain split or pasted) 1 wide, not as the others.
        paths.edge_width = [paths.current_edge_width] * len(drawn)


def chain_paths(table: pd.DataFrame, ndim: int = 2) -> list[np.ndarray]:
    """One path per chain of two or more beads, in index order; a ring's path ends where it began."""
    columns = ["frame", "y", "x"] if ndim == 3 else ["y", "x"]
    paths = []
    for _, group in _with_frame(table).groupby(["frame", "chain"], sort=True):
        group = group.sort_values("index")
        if len(group) < 2:
            continue
        pts = group[columns].to_numpy(float)
        if "closed" in group and int(group["closed"].iloc[0]):
            pts = np.vstack([pts, pts[:1]])
        paths.append(pts)
    return paths


def table_from_beads(data: np.ndarray, features: pd.DataFrame | None, metadata: dict | None = None) -> pd.DataFrame:
    """The chains table (frame, y, x, score, chain, index, closed, source, then the extra columns its ``features``
    carry, as its ``metadata`` says they were read: :func:`_with_extras`) from a beads Points layer.

    Beads the user added (chain -1, or napari's copy of the bead selected then: layers.copies_as_added) become
    chains of one; each chain's indices are renumbered 0..n-1
    in their order, a deleted bead's neighbours (a ring's too, its first or last bead included) bonded
    only where they touch, the chain split (a ring opened) there otherwise
    (:func:`~napari_particle_detect.projects.chain_edits.close_index_gaps`).
    """
    data = np.asarray(data, float).reshape(-1, np.shape(data)[-1] if np.ndim(data) == 2 else 2)
    n = len(data)
    features = copies_as_added(features if features is not None else pd.DataFrame(index=range(n)), PLACED_BEAD)
    table = pd.DataFrame({
        "frame": np.rint(data[:, 0]).astype(int) if data.shape[1] == 3 else np.zeros(n, int),
        "y": data[:, -2], "x": data[:, -1],
        "score": features["score"].to_numpy(float) if "score" in features else np.full(n, np.nan),
        "chain": features["chain"].to_numpy(int) if "chain" in features else np.full(n, -1),
        "index": features["index"].to_numpy(int) if "index" in features else np.zeros(n, int),
        "closed": features["closed"].to_numpy(int) if "closed" in features else np.zeros(n, int),
        "source": features["source"].astype(str).to_numpy() if "source" in features else np.full(n, "added"),
    })
    if RING_BEADS in features:  # a ring's last beads deleted leave no gap in its indices: its size tells
        table[RING_BEADS] = features[RING_BEADS].fillna(0).to_numpy(int)
    free = table["chain"] < 0
    start = int(table["chain"].max()) + 1 if (~free).any() else 0
    table.loc[free, "chain"] = np.arange(start, start + int(free.sum()))
    table = _with_extras(table, features, list(range(n)), "chains", metadata)
    table = close_index_gaps(table).sort_values(["frame", "chain", "index"], kind="stable").reset_index(drop=True)
    return table[["frame", "y", "x", "score", "chain", "index", "closed", "source",
                  *_extra_names(features.columns, "chains")]]


def refill(layer, data, kwargs: dict, layer_type: str) -> None:
    """Give an existing layer the data and per-object looks of ``rods_layer_data`` or ``chain_layers_data``
    (one the user hid stays hidden)."""
    layer.selected_data = set()
    if layer_type == "points":
        layer.data = data
        layer.features = kwargs["features"]
        layer.feature_defaults = kwargs["feature_defaults"]
        layer.refresh_colors()
        return
    layer.data = (list(data), [kwargs["shape_type"]] * len(data)) if len(data) else []
    layer.metadata = {**layer.metadata, **kwargs.get("metadata", {})}
    if "features" in kwargs:
        layer.features = kwargs["features"]
        layer.feature_defaults = kwargs["feature_defaults"]
    if len(data):
        layer.edge_width = kwargs["edge_width"]
        colour = kwargs["edge_color"]
        layer.edge_color = colour if isinstance(colour, str) else list(colour)
