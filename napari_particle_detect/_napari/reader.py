"""Open centre CSVs (ours, napari's Points CSV, trackpy's) as a Points layer of rings."""

from __future__ import annotations

import re
import uuid
import weakref
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..files.centre_csv import finite_column, read_centres
from ..kinds.columns import is_tips_table, table_kind as kind_of_columns, tips_note
from ..files.tables import TABLE_COLUMNS, Placement, normalise_table, physical_misses, physical_placement
from ..files.tables import physical_units
from ..files.tables import recorded_of_files, shared_value, table_voxel_placement, table_voxel_size
from ..files.tracks import CHAIN_TRACK, tracks_layer_data
from .layers import PHYSICAL_COLUMNS_KEY, READ_ROW, SPHERE_DEPTH_KEY, extra_columns, is_dock_output
from .layers import show_spheres_slab
from .layers import read_table_path, with_extra_features
from .table_sliders import count_sliders_from_origin_in
from .layers import READ_TABLE_SYMBOL, keep_placed_defaults_in, points_data, points_layer_kwargs, named_axis_labels

if TYPE_CHECKING:
    from napari.layers import Image

_CENTRE_COLUMNS = ({"y", "x"}, {"axis-0", "axis-1"})
# The xy diameter (voxels) volume centres are drawn at where nothing records the one they were detected at.
DEFAULT_VOLUME_DIAMETER = 10.0
# In the metadata of a volume's points drawn in voxels (over an image at scale 1) that its table placed by its
# z_um, y_um, x_um columns: their voxel size and origin (micrometres, files.tables.table_voxel_placement), so File >
# Save writes those columns again (the layer's scale, 1 in pixels, gives none) from where the points are.
VOXEL_COLUMNS_KEY = "napari_particle_detect_voxel_columns"
# In the metadata of a table's points (lines, beads) and its Tracks layer read together: what pairs them in a viewer.
TRACKS_PAIR_KEY = "napari_particle_detect_tracks_pair"
# In the metadata of each layer of a table read over an image it is the table of (its name, its file's part, the input
# its .json names; :func:`own_image`): that image's napari unique_id, so ``particle-detect gui`` hides and shows the
# table with it. Paired by recomputing, a napari 4D points CSV was taken for 2D and hidden with another image, and a
# table merely laid over the top image was hidden with that image, the image it belongs to left without it.
PLACED_OVER_KEY = "napari_particle_detect_placed_over"


@dataclass(frozen=True)
class DrawnOver:
    """How a table with physical columns (``y_um, x_um``; ``z_um, y_um, x_um``) is drawn: by them (their
    scale and translate, in their unit where ``units``) or, ``by_columns`` False, in the pixels (voxels)
    of its own ``y, x`` (``z, y, x``). The default, by them in their unit, is what :func:`get_reader`
    gives with no viewer open (a script's call), as before a viewer could tell."""

    by_columns: bool = True
    units: bool = True
    # A table with no physical columns to place it: the scale, translate and units (z, y, x; y, x) of the image it is
    # read over, whose voxels (pixels) its z, y, x (y, x) are (:func:`pixels_over_image`); None: at scale 1.
    over: dict | None = None
    # A 2D table's physical_placement as :func:`placed_over` found it (None: none), where ``placement_known``: a fit
    # over every row, not done again for the layer (:func:`table_placement`).
    placement: Placement | None = None
    placement_known: bool = False


def looks_like_centres(header: pd.Index | None) -> bool:
    """A cheap check of a CSV's columns (:func:`_header`), so other plugins still get the CSVs that are not
    centre tables (None: unreadable or not CSV, not ours to claim). A rods table of tips alone (ImageJ's line
    selections) is one: napari's own reader refused it."""
    columns = {str(c).strip() for c in header} if header is not None else set()
    return any(needed <= columns for needed in _CENTRE_COLUMNS) or is_tips_table(columns)


def is_chain_summary(header: pd.Index | None) -> bool:
    """The columns of the per-chain table written beside a chains table (NAME.chains.csv), which holds
    no bead positions."""
    from ..kinds.chains import CHAIN_SUMMARY_COLUMNS

    columns = {str(c).strip() for c in header} if header is not None else set()
    return set(CHAIN_SUMMARY_COLUMNS) <= columns and not any(needed <= columns for needed in _CENTRE_COLUMNS)


def get_reader(path: str | list[str]):
    """npe2 reader hook: a reader function for centre CSVs, None for anything else. A per-chain table is
    claimed too, its reader saying what to open instead: napari's own reader said only that it returned
    no data."""
    paths = [path] if isinstance(path, str) else list(path)
    if not paths or not all(str(p).lower().endswith(".csv") and _claimed(_header(Path(p))) for p in paths):
        return None
    return read_centre_files


def _claimed(header: pd.Index | None) -> bool:
    return looks_like_centres(header) or is_chain_summary(header)


def centres_layers_data(path: str | Path) -> list[tuple]:
    """One centre CSV's layers: :func:`layers_of_table` for each file a table of several holds (its ``file``
    column), named for it, so one file's centres are not drawn over another's frames."""
    path = Path(path)
    header = _header(path)
    if is_chain_summary(header):
        beads = path.name[: -len(".chains.csv")] + ".csv" if path.name.endswith(".chains.csv") else None
        from ..errors import ParticleDetectError

        raise ParticleDetectError(f"{path}: a per-chain summary (one row per chain: contour length, end-to-end, "
                                  "radius of gyration), with no bead positions to show; open "
                                  f"{beads or 'the beads table written with it'} (the beads) instead")
    kind = kind_of_columns(header) if header is not None else "spheres"  # unreadable: read_centres says why
    if kind == "spheres":
        table = napari_volume_axes(read_centres(path), header, path)
        # The table's, not the header's: napari's own CSV of (frame, y, x) points names its frames axis-0.
        has_frames = "frame" in table.columns
    else:
        from ..kinds.registry import read_kind_table

        table = read_kind_table(path, kind)
        has_frames = "frame" in header
        if tips_note(header):  # a box detector's corners would be drawn as diagonals without a word
            from .notify import show_warning

            show_warning(f"{path.name}: {tips_note(header)}")
    if "source" not in table.columns:
        table = table.assign(source=unmarked_source(path))
    # An empty cell is someone's point, as normalise_table reads it: a rods table's was saved back as 'nan'.
    table = table.assign(source=table["source"].fillna("added"))
    say_unknown_sources(table, path)
    if "file" in table.columns and table["file"].nunique() > 1:
        parts = [(f"{path.stem} [{Path(str(file)).name}]", group.drop(columns="file").reset_index(drop=True),
                  str(file)) for file, group in table.groupby("file", sort=False)]
    else:
        parts = [(path.stem, table, None)]
    # Each part over its own file's image: placed by the table's name, a folder run's parts all went over the
    # top image (none is named as the table), each file's own image open or not. Rods and chains too: drawn at
    # scale 1, they lay off an image drawn in µm.
    placed = [placed_over(path, part, file) for _, part, file in parts]
    say_placements(path, [(file, note) for (_, _, file), (_, note) in zip(parts, placed)])
    for viewer in _open_viewers():
        keep_placed_defaults_in(viewer)
        say_stale_tracks_in(viewer)
        make_way_for_images_in(viewer)
        show_spheres_slab_in(viewer)
        count_sliders_from_origin_in(viewer)
    layers = [layer for (name, part, file), (drawn, _) in zip(parts, placed)
              for layer in marked_over(layers_of_table(part, name, kind, has_frames, path, drawn, file),
                                       path, file, 3 if "z" in part.columns else 2)]
    return named_apart_from_images(layers, path)


def marked_over(layers: list[tuple], path: Path, file: str | None, spatial: int) -> list[tuple]:
    """``layers`` of the table at ``path`` (``file``'s part of it) each marked with the image it is the table of
    (PLACED_OVER_KEY, :func:`own_image`); as they are where no such image is open (laid over the top one, or none)."""
    viewer = _current_viewer()
    image = own_image(viewer, path, file, spatial) if viewer is not None else None
    image_id = getattr(image, "unique_id", None)
    if image_id is None:
        return layers
    return [(data, {**kwargs, "metadata": {**kwargs.get("metadata", {}), PLACED_OVER_KEY: str(image_id)}}, kind)
            for data, kwargs, kind in layers]


def placed_over_image(layer, viewer):
    """The image of ``viewer`` the reader marked ``layer`` as the table of (:func:`marked_over`); None: none."""
    from napari.layers import Image

    metadata = layer.metadata if isinstance(layer.metadata, dict) else {}
    image_id = metadata.get(PLACED_OVER_KEY)
    return next((other for other in viewer.layers if isinstance(other, Image) and image_id is not None
                 and str(getattr(other, "unique_id", "")) == image_id), None)


def named_apart_from_images(layers: list[tuple], path: Path) -> list[tuple]:
    """``layers`` of the table at ``path`` with each named as an open image is (detect's IMAGE.csv beside IMAGE.tif)
    named as the file is (IMAGE.csv): napari made it 'IMAGE [1]', read as a second copy of the image. Not as the docks
    name the image's own ('IMAGE centres', 'IMAGE rods'): the dock's own layer then became 'IMAGE centres [1]', and
    the Rods and chains dock took the table for its own."""
    from napari.layers import Image

    images = {layer.name for viewer in _open_viewers() for layer in viewer.layers if isinstance(layer, Image)}
    return [(data, {**kwargs, "name": path.name} if kwargs.get("name") in images else kwargs, layer_type)
            for data, kwargs, layer_type in layers]


def make_way_for_images_in(viewer) -> None:
    """In ``viewer``, an image opened after its own table (the table named as it, or for it: IMAGE.csv,
    IMAGE_centres.csv, the input its .json names) goes under the table, as ``particle-detect gui`` orders them: on top,
    it hid every centre. The table named as it takes its file's name (IMAGE.csv, as :func:`named_apart_from_images`
    names one read after the image), the image its own: napari named the image 'IMAGE [1]', read as a second copy,
    and the docks worked on 'IMAGE [1]'."""
    viewer.layers.events.inserted.connect(_make_way_for_image)  # once: napari connects a callback once


def _make_way_for_image(event) -> None:
    from napari.layers import Image

    image, layers = event.value, event.source
    if not isinstance(image, Image) or is_dock_output(image):
        return
    copy = re.fullmatch(r"(.+) \[\d+\]", image.name)
    name = copy.group(1) if copy is not None else image.name
    images = [name] + [layer.name for layer in layers if isinstance(layer, Image) and not is_dock_output(layer)]
    tables = [layer for layer in layers if _is_table_of(layer, name, images)]
    named_as = [layer for layer in tables if layer.name == name]
    if copy is not None and named_as and read_table_path(named_as[0]).name not in layers:
        named_as[0].name = read_table_path(named_as[0]).name
        image.name = name
    below = min((layers.index(layer) for layer in tables), default=None)
    if below is not None and below < layers.index(image):
        layers.move(layers.index(image), below)


def show_spheres_slab_in(viewer) -> None:
    """In ``viewer``, a volume table's rings drawn on every slice their spheres cross, as the Volume dock draws its
    centres (layers.show_spheres_slab), as the table comes and as an image comes after it: without the slab a ring
    showed on its centre slice alone, the particle seemingly gone one slice off its centre."""
    viewer.layers.events.inserted.connect(_show_spheres_slab)  # once: napari connects a callback once
    viewer.layers.events.removed.connect(_slab_gone_with_centres)


def _show_spheres_slab(event) -> None:
    from napari.layers import Image

    layers = event.source
    if not isinstance(event.value, Image) and SPHERE_DEPTH_KEY not in _metadata_of(event.value):
        return
    depths = [float(_metadata_of(layer)[SPHERE_DEPTH_KEY]) * float(layer.scale[-3]) for layer in layers
              if SPHERE_DEPTH_KEY in _metadata_of(layer)]
    viewer = _viewer_of(layers)
    if not depths or viewer is None or viewer.dims.ndim < 3:
        return
    # Never narrower than it is: each ring's own size bounds the slices it shows on, and the Volume dock's larger
    # spheres, or another table's, would lose their outer slices.
    depth = max(*depths, viewer.dims.thickness[viewer.dims.ndim - 3])
    # Every image, not only the table's own: the slab is the viewer's, and would average any image through it.
    show_spheres_slab(viewer, depth, [layer for layer in layers if isinstance(layer, Image)])


def _slab_gone_with_centres(event) -> None:
    """The z slab back to napari's none once the last volume's centres (the reader's or the Volume dock's) leave:
    kept, a TYX movie opened next showed each frame as the mean of the ten about it."""
    from .layers import VOLUME_POINTS_KEY, set_z_slab, viewer_closing

    layers = event.source
    if not _metadata_of(event.value).get(VOLUME_POINTS_KEY) or any(
            _metadata_of(layer).get(VOLUME_POINTS_KEY) for layer in layers):
        return
    viewer = _viewer_of(layers)
    if viewer is None or viewer_closing(viewer) or viewer.dims.ndim < 3:
        return
    set_z_slab(viewer, 0.0)


def _viewer_of(layers):
    """The open viewer whose layer list is ``layers``; None where none is."""
    return next((each for each in _open_viewers() if each.layers is layers), None)


def _metadata_of(layer) -> dict:
    return layer.metadata if isinstance(getattr(layer, "metadata", None), dict) else {}


def _is_table_of(layer, name: str, images: list[str]) -> bool:
    """Whether ``layer`` is read from a table of the image ``name``, as :func:`own_image` finds one: named as it, the
    input its .json names, or named for it (:func:`claimed_by`) and for none of the longer-named ``images``."""
    path = read_table_path(layer)
    return path is not None and (layer.name == name or claimed_by(path.stem, images) == name
                                 or recorded_input_stem(path) == name)


# What may follow an image's name in the name of its table: a_centres, a-tracks, 'a centres' (napari's save of the
# dock's layer), a.chains.
_NAME_ENDS = ("_", "-", " ", ".")


def names_table_of(stem: str, image: str) -> bool:
    """Whether a table named ``stem`` is, by its name, a table of the image named ``image``: named as it, or as it and
    a separator. Merely begun by it, image 'a' took all_centres.csv: it was drawn at a's scale, hidden and shown with
    a, and a opened after it was moved under it."""
    return stem == image or (bool(image) and stem.startswith(image) and stem[len(image)] in _NAME_ENDS)


def claimed_by(stem: str, images: list[str]) -> str | None:
    """The one of ``images`` (names) a table named ``stem`` is the table of by name (:func:`names_table_of`): the
    longest such (a_2 for a_2_centres, not a); None where none."""
    named = [image for image in images if names_table_of(stem, image)]
    return max(named, key=len) if named else None


def say_unknown_sources(table: pd.DataFrame, path: Path) -> None:
    """Say, in one line, a ``source`` none of the docks know: drawn all the same, it opened unsaid, and a project
    refused it only once the user had worked on it."""
    from ..errors import ParticleDetectError
    from ..files.tables import check_sources

    try:
        check_sources(table, path.name, "; drawn, but a dock's project would refuse it: set it to one of those")
    except ParticleDetectError as exc:
        from .notify import show_warning

        show_warning(str(exc))


def unmarked_source(path: Path) -> str:
    """The ``source`` of the rows of the table at ``path`` where it has no such column: the model's where detect's
    .json beside it says detect wrote it as it is now, as the docks show their own detections (hidden below the
    score threshold); else 'added', someone else's centres (napari's, trackpy's, a table edited by hand since),
    never hidden. Read as 'added', detect's own output looked hand-made, and its threshold hid none of it."""
    from ..files.file_detection import edited_tables, is_detect_metadata, read_metadata

    detected = linked_input(path) or path
    if is_detect_metadata(read_metadata(detected)) and detected not in edited_tables(detected):
        return "model"
    return "added"


def linked_input(path: Path) -> Path | None:
    """The table ``particle-detect link`` read to write the tracks at ``path``, as its .json records it (relative
    paths: to the folder it ran in); None where ``path`` is no linking's output, or its input is gone. Read as
    'added', the tracks of detect's own table looked hand-made, while that table opened as the model's."""
    from ..files.file_detection import read_metadata
    from ..files.tracks import written_by_linking

    record = read_metadata(path)
    if not written_by_linking(path) or not isinstance(record.get("input"), str):
        return None
    given = Path(record["input"])
    found = given if given.is_absolute() else _linked_in(path, Path(str(record["tracks"]))) / given
    return found if found.is_file() else None


def _linked_in(path: Path, tracks: Path) -> Path:
    """The folder a linking ran in, from where its tracks are (``path``) and the path it was given for them."""
    here, up = path.resolve(), len(tracks.parts) - 1
    if tracks.is_absolute() or ".." in tracks.parts or up >= len(here.parents):
        return path.parent
    return here.parents[up]


def napari_volume_axes(table: pd.DataFrame, header: pd.Index | None, path: Path) -> pd.DataFrame:
    """napari's own CSV of 4D points (``axis-0`` to ``axis-3``: frame, z, y, x, as the Volume dock draws a TZYX
    image's centres) as a volume table; ``table`` as read_centres read it, its first three axes as frame, y, x
    (the z of every centre read as its y)."""
    columns = {str(c).strip() for c in header} if header is not None else set()
    if {"y", "x"} <= columns or not {f"axis-{i}" for i in range(4)} <= columns or "axis-4" in columns:
        return table
    return table.assign(z=table["y"], y=table["x"], x=finite_column(table, "axis-3", str(path))).drop(columns="axis-3")


def layers_of_table(table: pd.DataFrame, name: str, kind: str, has_frames: bool, path: Path,
                    drawn: DrawnOver = DrawnOver(), file: str | None = None) -> list[tuple]:
    """Rods as a Shapes layer of lines; chains as beads (Points) and paths (Shapes); 3D centres as points
    on the slices they cross; 2D centres as (frame, y, x) points when the table has frames, (y, x)
    otherwise, its other columns (measurements, track ids) as features, placed by its physical columns
    where it has them and ``drawn`` says so (:func:`placed_over`; else they are features), and a tracks
    table (``particle``) with its Tracks layer, placed as its points, in 2D as in 3D. ``file``: the input
    whose rows ``table`` holds, of a table of several (its ``file`` column)."""
    if kind != "spheres":
        return kind_layers_data(table, name, kind, has_frames, drawn)
    if "z" in table.columns:
        return volume_layers_data(path, table, name, drawn, file)
    if not has_frames:
        table = table.assign(frame=0)
    if "source" not in table.columns:
        table = table.assign(source="added")  # someone else's centres: never hidden by the score threshold
    found = table_placement(table, drawn)
    placement = found if drawn.by_columns else None
    extras = table[extra_columns(table, placement)].reset_index(drop=True)
    placed = layer_placement(placement, 3 if has_frames else 2, drawn)
    table = normalise_table(table)
    ndim = 3 if has_frames else 2
    kwargs = with_read_rows(with_extra_features(points_layer_kwargs(table, name, symbol=READ_TABLE_SYMBOL, **placed),
                                                extras))
    if has_frames:
        kwargs = {**kwargs, "axis_labels": named_axis_labels(_current_viewer(), "tyx")}
    if not drawn.by_columns:
        kwargs = with_physical_kept(kwargs, extras.assign(y=table["y"].to_numpy(), x=table["x"].to_numpy()), found)
    layers = [(points_data(table, ndim), kwargs, "points")]
    if has_frames and "particle" in extras.columns:
        layers = with_tracks_paired(layers, tracks_layer_of(table, extras["particle"], name, placed))
    return layers


def with_tracks_paired(layers: list[tuple], tracks: tuple) -> list[tuple]:
    """``layers`` (the table's points, lines or beads first) and its Tracks layer after them, the first and the tracks
    marked as one pair (TRACKS_PAIR_KEY: napari renames a second copy's layers), for :func:`say_stale_tracks_in`."""
    pair = uuid.uuid4().hex
    (data, kwargs, kind), *others = layers
    marked = [(d, {**k, "metadata": {**k.get("metadata", {}), TRACKS_PAIR_KEY: pair}}, t) for d, k, t in
              ((data, kwargs, kind), tracks)]
    return [marked[0], *others, marked[1]]


def say_stale_tracks_in(viewer) -> None:
    """In ``viewer``, the first edit of a table's points, lines or beads read with its Tracks layer says, once, that
    the tracks stay the file's: they were drawn on as if the centres had never moved. Not redrawn from the edit: a
    point moved, added or deleted may break a track, which only linking again tells. The pair is found as it is
    inserted: a reader gives napari layer data, and only the viewer makes layers of them."""
    viewer.layers.events.inserted.connect(_pair_with_tracks)  # once: napari connects a callback once


def _pair_with_tracks(event) -> None:
    from napari.layers import Tracks

    from .kind_layers import inserted_pair

    pair = inserted_pair(event, TRACKS_PAIR_KEY, lambda layer: isinstance(layer, Tracks))
    if pair is not None:
        edited, tracks = pair
        stale = _StaleTracks(edited, tracks, event.source)
        edited.events.data.connect(lambda data_event: stale(data_event))  # napari holds a bound method weakly


class _StaleTracks:
    """Says once, at the first finished edit of a table's layer, that its Tracks layer (still in the viewer) shows
    the file's tracks; by weak references, so neither layer nor viewer is kept alive by the other."""

    def __init__(self, edited, tracks, layers) -> None:
        self._edited, self._tracks, self._layers = weakref.ref(edited), weakref.ref(tracks), weakref.ref(layers)
        self.said = False

    def __call__(self, event) -> None:
        from .kind_layers import DONE_ACTIONS

        edited, tracks, layers = self._edited(), self._tracks(), self._layers()
        if self.said or getattr(event, "action", None) not in DONE_ACTIONS or None in (edited, tracks, layers):
            return
        if tracks in layers and edited in layers:
            from .notify import show_warning

            self.said = True
            show_warning(f"'{edited.name}' edited: '{tracks.name}' still shows the tracks as its file holds them, not "
                         "the edit; save the table (File > Save Selected Layer(s)) and link it again (particle-detect "
                         "link) for tracks of the positions as they are now")


def tracks_layer_name(name: str) -> str:
    """The Tracks layer's name for the table ``name``: the dock exports image X's tracks as X_tracks.csv, read
    back as 'X_tracks tracks'; named as the dock names X's own ('X tracks'), apart from the points' 'X_tracks';
    a table named 'tracks' alone, 'track lines'."""
    # A folder run's part: 'X_tracks [a.tif]'; DOTALL: a file name may hold a line break.
    stem, part = re.fullmatch(r"(.*?)( \[[^\]]*\])?", name, flags=re.DOTALL).groups()
    base = re.sub(r"[\s_.-]*tracks$", "", stem, flags=re.IGNORECASE)
    # link's tracks.csv: its points are 'tracks', and 'tracks tracks' read as a slip; 'my tracks' as its points are.
    named = f"{base} tracks" if base and f"{base} tracks" != stem else f"{base} track lines".strip()
    return named + (part or "")


def table_placement(table: pd.DataFrame, drawn: DrawnOver) -> Placement | None:
    """A 2D table's physical_placement: as :func:`placed_over` found it where ``drawn`` keeps it, else found now."""
    return drawn.placement if drawn.placement_known else placement_to_draw(table)


def with_read_rows(kwargs: dict) -> dict:
    """Points layer keywords with each point's row in its table as a feature (layers.READ_ROW; -1 for a point
    placed), so File > Save tells napari's copy of the point selected when one was placed (layers.copies_as_added)."""
    features = kwargs["features"]
    return {**kwargs, "features": features.assign(**{READ_ROW: np.arange(len(features))}),
            "feature_defaults": {**kwargs["feature_defaults"], READ_ROW: -1}}


def with_physical_kept(kwargs: dict, table: pd.DataFrame, placement: Placement | None = None) -> dict:
    """Layer keywords with, in its metadata (PHYSICAL_COLUMNS_KEY), the map of ``table``'s physical columns
    (``y, x`` to ``y_<unit>, x_<unit>``) where they are one and the layer keeps them as features; as they are
    where not. ``placement``: that map where already found (None: found here)."""
    if placement is None:
        placement = physical_placement(table) if physical_units(table) else None
    if placement is None or not map_to_keep(table, placement):
        return kwargs
    kept = {"unit": placement.unit, "scale": list(placement.scale), "translate": list(placement.translate),
            "misses": list(physical_misses(table, placement))}
    return {**kwargs, "metadata": {**kwargs.get("metadata", {}), PHYSICAL_COLUMNS_KEY: kept}}


def map_to_keep(table: pd.DataFrame, placement: Placement) -> bool:
    """Whether ``placement``, fitted to ``table``, is a map of its physical columns worth writing them anew from:
    one fitted over rows more than a pixel apart on each axis, and no identity (scale 1, no offset: ``y_raw``, the
    pixels before a correction, equal to them). One row fits a scale to any pair of columns (``y_err, x_err``), and
    a point added was saved with an error invented from its position."""
    if placement.scale + placement.translate == (1.0, 1.0, 0.0, 0.0):
        return False
    return fitted_apart(table, placement)


def fitted_apart(table: pd.DataFrame, placement: Placement) -> bool:
    """Whether ``placement`` was fitted to rows of ``table`` more than a pixel apart on each axis: one position fits
    a scale to any pair of columns."""
    for axis in "yx":
        pixels = pd.to_numeric(table[axis], errors="coerce").to_numpy(float)
        physical = pd.to_numeric(table[f"{axis}_{placement.unit}"], errors="coerce").to_numpy(float)
        fitted = pixels[np.isfinite(pixels) & np.isfinite(physical)]
        if not len(fitted) or np.ptp(fitted) <= 1.0:
            return False
    return True


def placement_to_draw(table: pd.DataFrame) -> Placement | None:
    """A 2D table's physical_placement where it can place the table: fitted over rows apart (:func:`fitted_apart`),
    or, of one position, in columns whose suffix names a length (``y_um``, one detection). A one-row table's
    ``y_err, x_err`` fit a scale as well, and by them its point was drawn at (y_err, x_err), in a corner of the
    image, the errors themselves dropped."""
    placement = physical_placement(table)
    if placement is None or fitted_apart(table, placement) or _names_a_length(placement.unit):
        return placement
    return None


def _names_a_length(unit: str) -> bool:
    """Whether a physical column's suffix is a unit of length as pint reads it (um, nm, mm), not 'err' or 'sd'."""
    try:
        from pint import get_application_registry

        return get_application_registry().Unit(unit).dimensionality == {"[length]": 1}
    except Exception:  # noqa: BLE001 - a suffix that names no unit (err, scaled), or a table read with no pint
        return False


def kept_voxel_placement(metadata: dict | None) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """The voxel size and origin (z, y, x; micrometres) a volume layer's ``metadata`` keeps (VOXEL_COLUMNS_KEY); None
    where it keeps none (a layer drawn at its voxel size, or not read from a table)."""
    kept = metadata.get(VOXEL_COLUMNS_KEY) if isinstance(metadata, dict) else None
    try:
        size, origin = (tuple(float(v) for v in kept[key]) for key in ("size", "origin"))
    except (TypeError, KeyError, ValueError):
        return None
    return (size, origin) if len(size) == len(origin) == 3 and all(v > 0 for v in size) else None


def tracks_layer_of(table: pd.DataFrame, particle: pd.Series, name: str, placed: dict,
                    colour_by: str | None = None) -> tuple:
    """The Tracks layer of a table's rows with a track id (``particle``, row for row with ``table``): (id,
    frame, y, x), or (id, frame, z, y, x) for a volume's tracks, placed as its points are. ``colour_by``: a
    column of ``table`` the tracks are coloured by (a chains table's ``chain_track``), kept as their feature."""
    ids = pd.to_numeric(particle, errors="coerce").to_numpy(float)
    tracks = table.reset_index(drop=True).assign(particle=ids).dropna(subset=["particle"])
    # In the order tracks_layer_data gives the rows (its sort is stable), so a feature stays with its vertex.
    tracks = tracks.sort_values(["particle", "frame"], kind="stable")
    kwargs = {"name": tracks_layer_name(name), "tail_width": 2, "tail_length": int(max(2, tracks["frame"].nunique())),
              "colormap": "turbo", **placed}
    if colour_by is not None and colour_by in tracks.columns:
        colours = pd.to_numeric(tracks[colour_by], errors="coerce").fillna(-1).to_numpy(float)
        kwargs = {**kwargs, "features": pd.DataFrame({colour_by: colours}), "color_by": colour_by}
    return tracks_layer_data(tracks), kwargs, "tracks"


def layer_placement(placement: Placement | None, ndim: int, drawn: DrawnOver) -> dict:
    """Layer scale, translate (and units) of a 2D table's points: by its physical columns' ``placement`` where
    it is drawn by them (:func:`placement_kwargs`), else over the image ``drawn`` says its pixels are of."""
    if placement is None and drawn.over is not None:
        return over_image_kwargs(drawn.over, ndim - 2)
    return placement_kwargs(placement, ndim, drawn.units)


def over_image_kwargs(over: dict, lead: int) -> dict:
    """Layer scale, translate (and units where the image has them) that draw points in the pixels (voxels) of the
    image ``over`` (DrawnOver.over) was taken from, after ``lead`` axes (frames) at scale 1."""
    kwargs = {"scale": (1.0,) * lead + over["scale"], "translate": (0.0,) * lead + over["translate"]}
    return {**kwargs, "units": ("pixel",) * lead + over["units"]} if "units" in over else kwargs


def placement_kwargs(placement: Placement | None, ndim: int, units: bool = True) -> dict:
    """Layer scale, translate (and, where ``units``, the units where napari knows them) that draw a table's
    pixels where its physical columns say; {} where it has none."""
    if placement is None:
        return {}
    lead = ndim - 2
    kwargs = {"scale": (1.0,) * lead + placement.scale, "translate": (0.0,) * lead + placement.translate}
    if not units:
        return kwargs
    try:
        from pint import get_application_registry

        get_application_registry().Unit(placement.unit)
    except Exception:  # noqa: BLE001 - 'scaled' and other suffixes that name no unit: placed, but unitless
        return kwargs
    return {**kwargs, "units": ("pixel",) * lead + (placement.unit,) * 2}


def read_centre_files(path: str | list[str]) -> list[tuple]:
    paths = [path] if isinstance(path, str) else list(path)
    return [layer for p in paths for layer in centres_layers_data(p)]


def _header(path: Path) -> pd.Index | None:
    """A CSV's column names, or None where it cannot be read as one. One that is not UTF-8 (Excel's Latin-1, "µm" in
    a column name) is claimed by its columns read as Latin-1, for its reader to refuse it saying how to save it
    (files.io.read_csv_table): left to napari's own reader, it failed with a bare UnicodeDecodeError."""
    for encoding in ("utf-8", "latin-1"):  # Latin-1 decodes any bytes
        try:
            return pd.read_csv(path, nrows=0, encoding=encoding).columns
        except UnicodeDecodeError:
            continue
        except Exception:  # noqa: BLE001 - read_centres says what is wrong with it
            return None
    return None


def kind_layers_data(table: pd.DataFrame, name: str, kind: str, has_frames: bool,
                     drawn: DrawnOver = DrawnOver()) -> list[tuple]:
    """A rods table as a Shapes layer of lines; a chains table as beads (Points) and paths (Shapes); their data in
    pixels, every layer placed as a 2D centre table's points are (``drawn``: :func:`placed_over`, by its physical
    columns or over the image its pixels are of; :func:`layer_placement`). A tracks table of either (``particle``,
    from ``particle-detect link``) with its Tracks layer, of the rods' centres or the beads, as a spheres' one."""
    from .kind_layers import chain_layers_data, follow_beads_in, rods_layer_data

    if "source" not in table.columns:
        table = table.assign(source="added")
    ndim = 3 if has_frames else 2
    found = table_placement(table, drawn)
    placed = layer_placement(found if drawn.by_columns else None, ndim, drawn)
    # Their physical columns stay features, placed by them or not: the rods and chains writers write the data's
    # pixels and those columns as they are (the map is kept for the rows moved; the first layer, the lines or
    # beads, holds the table), never from the layer's scale.
    if kind == "rods":
        layers = [rods_layer_data(table, name, ndim)]
    else:
        layers = chain_layers_data(table, name, ndim)
        for viewer in _open_viewers():
            follow_beads_in(viewer)
    (data, kwargs, layer_type), *others = [(data, {**kwargs, **placed}, kind_) for data, kwargs, kind_ in layers]
    if has_frames:  # its frames' slider named, as a centre table's (layers_of_table)
        kwargs = {**kwargs, "axis_labels": named_axis_labels(_current_viewer(), "tyx")}
    layers = [(data, with_physical_kept(kwargs, table, found), layer_type), *others]
    if has_frames and "particle" in table.columns:
        # A rod is followed by its centre, a chain's bead by its own position; one chain's beads share a colour.
        layers = with_tracks_paired(layers, tracks_layer_of(table, table["particle"], name, placed, CHAIN_TRACK))
    return layers


def volume_layers_data(path: Path, table: pd.DataFrame, name: str, drawn: DrawnOver = DrawnOver(),
                       file: str | None = None) -> list[tuple]:
    """A 3D centre table's points (:func:`volume_centres_layer_data`) with its other columns (measurements,
    track ids, drift-corrected positions) as features, and a tracks table's Tracks layer (particle, frame,
    z, y, x), both in voxels drawn at the voxel size where ``drawn`` says so (:func:`volume_placement`).
    ``z_um, y_um, x_um`` that are the voxel size times the positions (as detect writes them) say nothing
    the positions and that scale do not, so they are left out, as a 2D table's are once placed; drawn in
    voxels, they are features, and their map is kept for File > Save (VOXEL_COLUMNS_KEY)."""
    data, kwargs, kind = volume_centres_layer_data(path, table, name, drawn, file)
    voxels = table_voxel_placement(table)
    placed = drawn.by_columns and voxels is not None
    physical = {"z_um", "y_um", "x_um"} if placed else set()
    extras = table[[c for c in table.columns if c not in {*TABLE_COLUMNS, "z", *physical}]].reset_index(drop=True)
    kwargs = with_read_rows(with_extra_features(kwargs, extras))
    if voxels is not None and not placed:
        kept = {"size": list(voxels[0]), "origin": list(voxels[1])}
        kwargs = {**kwargs, "metadata": {**kwargs.get("metadata", {}), VOXEL_COLUMNS_KEY: kept}}
    layers = [(data, kwargs, kind)]
    if "frame" in table.columns and "particle" in extras.columns:
        numeric = table.assign(z=pd.to_numeric(table["z"], errors="coerce"))  # checked by the points above
        layers = with_tracks_paired(layers, tracks_layer_of(numeric, extras["particle"], name,
                                                            volume_placement(table, 4, drawn)))
    return layers


def volume_placement(table: pd.DataFrame, ndim: int, drawn: DrawnOver = DrawnOver()) -> dict:
    """Layer scale, translate and units that draw a 3D table's voxel positions where an image of the voxel size
    and origin its ``z_um, y_um, x_um`` columns give (files.tables.table_voxel_placement) is drawn, in micrometres
    (no units where ``drawn`` says so); {} where they give none or ``drawn`` says voxels."""
    placed = table_voxel_placement(table) if drawn.by_columns else None
    lead = ndim - 3
    if placed is None and drawn.over is not None:
        return over_image_kwargs(drawn.over, lead)
    if placed is None:
        return {}
    scale = {"scale": (1.0,) * lead + placed[0], "translate": (0.0,) * lead + placed[1]}
    return {**scale, "units": ("pixel",) * lead + ("micrometer",) * 3} if drawn.units else scale


def volume_centres_layer_data(path: Path, table: pd.DataFrame, name: str | None = None,
                              drawn: DrawnOver = DrawnOver(), file: str | None = None) -> tuple:
    """A 3D centre table (``z`` column) as (z, y, x) points, or (frame, z, y, x) for a table of volumes after
    the first, drawn on every slice they cross; in voxels, like the image they came from, drawn at the
    table's voxel size where it gives one and ``drawn`` says so (:func:`volume_placement`)."""
    from .volume_panel import volume_points_kwargs

    table = table.assign(z=finite_column(table, "z", str(path)))
    frames = table["frame"] if "frame" in table.columns else pd.Series(0, index=table.index)
    # One later time point is still a time point: read as a single volume it showed on every one.
    ndim = 4 if (frames != 0).any() else 3
    table = table.assign(frame=frames)
    if "score" not in table.columns:
        table = table.assign(score=np.nan)
    if "source" not in table.columns:
        table = table.assign(source="added")  # someone else's centres, as a 2D table's (layers_of_table)
    recorded_depth, recorded_size = recorded_diameters(path, file)
    size = recorded_size or DEFAULT_VOLUME_DIAMETER
    placed = volume_placement(table, ndim, drawn)
    data, kwargs = volume_points_kwargs(table, name or path.stem, ndim, size, **placed)
    kwargs = {**kwargs, "symbol": READ_TABLE_SYMBOL}  # told from the Volume dock's own rings
    # The z slab the rings need to show on every slice their spheres cross is the viewer's, set as the layer joins
    # one (:func:`show_spheres_slab_in`). Where nothing records the z diameter, the xy one in the table's lengths.
    scale = placed.get("scale") or (1.0,) * ndim
    depth = recorded_depth or size * float(scale[-2]) / float(scale[-3])
    kwargs = {**kwargs, "metadata": {**kwargs.get("metadata", {}), SPHERE_DEPTH_KEY: depth}}
    # Its sliders named as the Volume dock names them (volume_panel.name_volume_axes): napari numbered them, and a
    # table opened alone showed '-3' beside its z slider, read as where z starts.
    return data, {**kwargs, "axis_labels": named_axis_labels(_current_viewer(), "tzyx"[-ndim:])}, "points"


def recorded_diameters(path: Path, file: str | None = None) -> tuple[float | None, float | None]:
    """The diameters (voxels; z, then y, which is x's too) the centres of the volume table at ``path`` were detected
    at, so they are drawn as the Volume dock draws them: as detect's .json beside it records them (``file``'s, of a
    folder run's table: each input is sized on its own; else those shared by every input), else as the volume
    project of the image it is read over records them (a dock's Export); None for each neither tells. Both from one
    reading of the .json (or the project's settings): asked axis by axis, each was read twice."""
    from ..files.file_detection import is_detect_metadata, read_metadata

    meta = read_metadata(path)
    if is_detect_metadata(meta):
        def recorded(axis: int) -> float | None:
            along = partial(_diameter_along, axis=axis)
            return shared_value(file is not None and recorded_of_files(meta, "diameter_voxels_zyx", along, {file})
                                or recorded_of_files(meta, "diameter_voxels_zyx", along))

        return recorded(0), recorded(1)
    viewer = _current_viewer()
    image = _image_of(viewer, path, file, 3) if viewer is not None else None
    return project_diameters(image) if image is not None else (None, None)


def _stem(path: Path, file: str | None) -> str:
    """The name of the image a table's rows (``file``'s, of a folder run's table) are read over is sought by."""
    return Path(str(file)).stem if file is not None else path.stem


def _image_of(viewer, path: Path, file: str | None, spatial: int):
    """The image the table at ``path`` (``file``'s part of it) is read over: its own (:func:`own_image`), else, of a
    whole table, the top one with ``spatial`` axes (:func:`image_to_place_over`); a part never over another file's
    image, which would draw it at that image's scale."""
    image = own_image(viewer, path, file, spatial)
    return image if image is not None or file is not None else image_to_place_over(viewer, path.stem, spatial)


def own_image(viewer, path: Path, file: str | None, spatial: int):
    """The image of ``viewer`` the table at ``path`` (``file``'s part of it) is the table of: ``file``'s own, else the
    input detect's .json beside it names (of the table a linking read, for its tracks), else the one it is named
    for (:func:`names_table_of`); None where none is open. A table of a.tif named centres.csv was laid over whichever
    image was on top."""
    if file is not None:
        return image_to_place_over(viewer, _stem(path, file), spatial, own_only=True)
    recorded = recorded_input_stem(path)
    image = image_to_place_over(viewer, recorded, spatial, own_only=True) if recorded is not None else None
    return image if image is not None else named_image(viewer, path.stem, spatial)


def recorded_input_stem(path: Path) -> str | None:
    """The stem of the one input detect's .json beside the table at ``path`` names (or beside the table a linking
    read to write it); None where it records none, or several."""
    from ..files.file_detection import is_detect_metadata, read_metadata

    meta = read_metadata(linked_input(path) or path)
    if not is_detect_metadata(meta):
        return None
    records = meta.get("inputs") or []
    files = {str(record["file"]) for record in records if isinstance(record, dict) and "file" in record}
    return Path(files.pop()).stem if len(files) == 1 else None


def _named(path: Path, file: str | None) -> str:
    """The table (``file``'s part of it) as its info lines name it: as its layer is named."""
    return path.name if file is None else f"{path.name} [{Path(str(file)).name}]"


def project_diameters(image: Image) -> tuple[float | None, float | None]:
    """The diameters (z, then xy) the Volume dock's project of ``image`` (a layer of a file) detected at; None for
    each without one."""
    from ..errors import ParticleDetectError
    from ..learning.volume_rounds import SETTINGS_FILE, read_settings, volume_project_folder
    from ..projects.project import Project, ProjectState
    from .annotation import image_path

    path = image_path(image)
    folder = volume_project_folder(path) if path is not None else None
    if folder is None or not (folder / SETTINGS_FILE).is_file():
        return None, None
    try:  # only its settings are read: no Project.open, which would record this image in it
        settings = read_settings(Project(folder, ProjectState()))
    except ParticleDetectError:
        return None, None  # a damaged project is the dock's to say; the rings are drawn at the default size
    if settings is None:
        return None, None
    return _diameter_along(settings.diameter, 0), _diameter_along(settings.diameter, 1)


def _diameter_along(diameter, axis: int) -> float | None:
    """The diameter along ``axis`` of a recorded (z, y, x) one; None for anything else."""
    try:
        value = float(diameter[axis])
    except (TypeError, ValueError, IndexError):
        return None
    return value if np.isfinite(value) and value > 0 else None


@dataclass(frozen=True)
class PlacementNote:
    """The info line on how a table is drawn (:func:`placed_over`): ``line`` as said of one table (or part) alone;
    ``of_parts`` the same of several parts of a folder run's table drawn alike, said once after their names."""

    line: str
    of_parts: str


def placed_over(path: Path, table: pd.DataFrame, file: str | None = None) -> tuple[DrawnOver, PlacementNote | None]:
    """How a centre table with physical columns is drawn, from the image of the viewer it is read into
    (:func:`image_to_place_over`), and the note that says so (None: nothing to say). napari's own reader opens an
    ImageJ or OME TIFF at scale 1 in pixels, whatever pixel size its metadata gives: drawn in µm over it, the table
    lay squeezed into its corner. So: in pixels (voxels), as its own ``y, x`` (``z, y, x``) are, over an image
    drawn at scale 1 in pixels; by its physical columns over an image drawn in lengths (their unit too)
    or at another scale (set without a unit: the table's unit left out, so napari sees one unit); by its
    columns where no image is open, or no viewer (:class:`DrawnOver`'s default). ``file``: the input whose rows
    ``table`` holds, of a folder run's table, read over that file's image. A 2D table's physical_placement, found
    here, goes with it (DrawnOver.placement). A table with no physical columns to place it is drawn in the pixels
    (voxels) of that image, at its scale (:func:`pixels_over_image`)."""
    if "z" in table.columns:
        columns = physical_columns(table, 3)
        return _placed_by_columns(path, columns, 3, file) if columns is not None else pixels_over_image(path, 3, file)
    placement = placement_to_draw(table)
    drawn, note = (_placed_by_columns(path, _columns_named(placement), 2, file) if placement is not None
                   else pixels_over_image(path, 2, file))
    return replace(drawn, placement=placement, placement_known=True), note


def _placed_by_columns(path: Path, columns: str, spatial: int,
                       file: str | None = None) -> tuple[DrawnOver, PlacementNote | None]:
    """:func:`placed_over` of a table whose physical ``columns`` (as a user reads them) can place it."""
    viewer = _current_viewer()
    if viewer is None:
        return DrawnOver(), None
    pixels, own = ("voxels", "z,y,x") if spatial == 3 else ("pixels", "y,x")
    image = _image_of(viewer, path, file, spatial)
    name = _named(path, file)
    if image is None:
        missing = f"its image {Path(str(file)).name} not being open" if file is not None else "no image being open"
        advice = f"(napari's own reader draws a TIFF in {pixels}, and the table then lies on it)"
        return DrawnOver(), PlacementNote(
            f"{name}: drawn by its {columns} columns, {missing} to place it over; open its image first {advice}",
            f"drawn by their {columns} columns, their images not being open to place them over; open them first "
            f"{advice}")
    scale = tuple(float(v) for v in image.scale[-spatial:])
    units = tuple(getattr(image, "units", ()) or ())[-spatial:]
    if np.allclose(scale, 1.0) and all(str(u) == "pixel" for u in units):
        why = "drawn at scale 1 in pixels (as napari's own reader opens a TIFF)"
        return DrawnOver(by_columns=False), PlacementNote(
            f"{name}: drawn in {pixels}, as its {own} columns are, not by its {columns}: '{image.name}' is {why}",
            f"drawn in {pixels}, as their {own} columns are, not by their {columns}: their images are {why}")
    from .volume_panel import scale_in_micrometres

    in_lengths = scale_in_micrometres(scale, units) is not None
    how = f"in {units[-1]}" if in_lengths else f"at scale {' x '.join(f'{v:g}' for v in scale)}"
    return DrawnOver(units=in_lengths), PlacementNote(
        f"{name}: drawn by its {columns} columns, as '{image.name}' is drawn {how}",
        f"drawn by their {columns} columns, as their images are drawn {how}")


def pixels_over_image(path: Path, spatial: int, file: str | None = None) -> tuple[DrawnOver, PlacementNote | None]:
    """How a table with no physical columns to place it (``z_um, y_um, x_um`` of a volume's, ``spatial`` 3;
    ``y_um, x_um`` of a 2D one's) is drawn: in the voxels (pixels) of the image it is read over
    (:func:`image_to_place_over`), at that image's scale and translate, and the note that says so. Its z, y, x (y, x)
    are that image's voxels (pixels): the Volume dock exports no such columns for an image drawn at a z/xy aspect in
    napari's 'pixel' (``scale=(2, 1, 1)``), and read back at scale 1 every centre lay at half its depth; a trackpy
    table in pixels lay 3x off the bulk-water sample, drawn at 0.351 µm a pixel. ``file``: as :func:`placed_over`'s."""
    viewer = _current_viewer()
    image = _image_of(viewer, path, file, spatial) if viewer is not None else None
    if image is None:
        return DrawnOver(), None
    from .annotation import placement

    over = {key: tuple(value[-spatial:]) for key, value in placement(image).items()}
    if np.allclose(over["scale"], 1.0) and np.allclose(over["translate"], 0.0):
        return DrawnOver(), None  # drawn in pixels at scale 1 either way
    scale = " x ".join(f"{float(v):g}" for v in over["scale"])
    pixels, axes = ("voxels", "z,y,x") if spatial == 3 else ("pixels", "y,x")
    physical = ",".join(f"{axis}_um" for axis in axes.split(","))
    return DrawnOver(over=over), PlacementNote(
        f"{_named(path, file)}: drawn in the {pixels} of '{image.name}' (at scale {scale}), as its {axes} columns "
        f"are, having no {physical} columns to place it by",
        f"drawn in the {pixels} of their images (at scale {scale}), as their {axes} columns are, having no "
        f"{physical} columns to place them by")


def say_placements(path: Path, notes: list[tuple[str | None, PlacementNote | None]]) -> None:
    """The notes of how the table at ``path`` (``file``, note: each part of a folder run's table) is drawn, in an
    info line per way of drawing it: a folder run's table of a hundred files, drawn alike, said it a hundred
    times."""
    by_how: dict[str, list[tuple[str | None, PlacementNote]]] = {}
    for file, note in notes:
        if note is not None:
            by_how.setdefault(note.of_parts, []).append((file, note))
    if not by_how:
        return
    from .notify import show_info

    from ..errors import listed

    for how, parts in by_how.items():
        if len(parts) == 1:
            show_info(parts[0][1].line)
        else:
            show_info(f"{path.name} [{listed([Path(str(file)).name for file, _ in parts])}]: {how}")


def physical_columns(table: pd.DataFrame, spatial: int) -> str | None:
    """The physical columns that can place a table (``z_um,y_um,x_um`` of a volume's, ``y_<unit>,x_<unit>``
    of a 2D one's), as a user reads them; None where it has none that do."""
    if spatial == 3:
        return "z_um,y_um,x_um" if table_voxel_size(table) is not None else None
    placement = placement_to_draw(table)
    return _columns_named(placement) if placement is not None else None


def _columns_named(placement: Placement) -> str:
    """A 2D table's physical columns that ``placement`` was read from, as a user reads them."""
    return f"y_{placement.unit},x_{placement.unit}"


def image_to_place_over(viewer, stem: str, spatial: int, own_only: bool = False):
    """The image layer of ``viewer`` a table named ``stem`` is read over: the one it is named for (vol for
    vol_3d_centres; :func:`claimed_by`), else the top one with ``spatial`` axes at least; None where
    there is none. ``own_only`` (a folder run's part, ``stem`` its input file's): that file's image alone (its
    channels too), never another file's (img1 for img10's part), which would draw the part at that image's scale.
    Never a dock's output (a heatmap, drawn in its own pixels over the image it was made of)."""
    named = named_image(viewer, stem, spatial, own_only)
    if named is not None or own_only:
        return named
    images = _placeable_images(viewer, spatial)
    return images[-1] if images else None


def named_image(viewer, stem: str, spatial: int, own_only: bool = False):
    """:func:`image_to_place_over`'s image found by name alone (never the top one): None where none is so named."""
    images = _placeable_images(viewer, spatial)
    if own_only:
        named = [layer for layer in images if layer.name == stem or layer.name.startswith(f"{stem} [")]
    else:
        name = claimed_by(stem, [layer.name for layer in images])
        named = [layer for layer in images if layer.name == name]
    return max(named, key=lambda layer: len(layer.name)) if named else None


def _placeable_images(viewer, spatial: int) -> list:
    """The image layers of ``viewer`` of ``spatial`` axes at least a table can be read over: none of a dock's
    outputs."""
    from napari.layers import Image

    return [layer for layer in viewer.layers
            if isinstance(layer, Image) and layer.ndim >= spatial and not is_dock_output(layer)]


def _open_viewers() -> list:
    """Every open viewer, any of which may be the one a reader's layers go into: napari asks a reader for layer
    data, and a script's ``viewer.open`` reads into its own viewer, not napari's current one (the last made)."""
    try:
        from napari import Viewer

        viewers = list(Viewer._instances)
    except Exception:  # noqa: BLE001 - no Qt: read as a script reads, with no viewer to follow
        viewers = []
    current = _current_viewer()
    return viewers + [current] if current is not None and current not in viewers else viewers


def _current_viewer():
    """The viewer napari reads into, None where there is none (a script calling get_reader)."""
    try:
        from napari import current_viewer

        return current_viewer()
    except Exception:  # noqa: BLE001 - no Qt: read as a script reads, with no viewer to follow
        return None
