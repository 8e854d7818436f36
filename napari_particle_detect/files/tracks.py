"""Centres linked into trajectories with trackpy, the ensemble drift, and the mean squared displacement.

What colloid users do next with the centres (trackpy's walkthrough): ``trackpy.link`` with a search
range and a memory, short stubs dropped (``filter_stubs``), the drift of the whole field
subtracted (``compute_drift``/``subtract_drift``), and the ensemble MSD (``emsd``) with its power
law fitted (``MSD = A t^n``; n is 1 for free diffusion). Positions stay in pixels and frames until
the MSD, which is in the microns per pixel and frames per second given. A table from several files
(a ``file`` column) is linked file by file, each its own movie, except an image sequence numbered as one
movie by :func:`sequence_frames` (each file one frame of its own). No Qt or torch here.

A volume's centres (``z, y, x`` in voxels) are linked and measured in units of the y voxel: with a
voxel size, z (and x) are scaled by their voxel's length over y's, so a search range and a
displacement mean the same distance along every axis (a z step twice the pixel otherwise counts a
move along z as half what it is). Where none is given (:data:`FROM_TABLE`), the table's own
``z_um, y_um, x_um`` columns give it, as they do to ``particle-detect link``; ``voxel_size=None`` takes the
voxels for cubes.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__
from ..errors import ParticleDetectError
from ..detection.choices import is_number
from ..kinds.columns import table_kind
from .tables import FROM_COLUMNS, physical_placement, resolve_voxel_size
from ..wording import counted, not_whole, plural

log = logging.getLogger(__name__)

CORRECTED = ("y_corrected", "x_corrected")


class _FromTable:
    """The voxel size where none is given: the table's z_um,y_um,x_um columns' (:func:`voxel_size_of`)."""

    def __repr__(self) -> str:
        return "FROM_TABLE"


# A sentinel, not None: None is a caller's own choice of cubes (link's, having warned of them itself), which
# the library does not warn of again.
FROM_TABLE = _FromTable()
VoxelSizeChoice = tuple[float, float, float] | None | _FromTable


def is_given(voxel_size: VoxelSizeChoice) -> bool:
    """Whether ``voxel_size`` is a size (not None, not FROM_TABLE); ``is``, as an array's == compares values."""
    return voxel_size is not None and voxel_size is not FROM_TABLE


def position_columns(table: pd.DataFrame) -> list[str]:
    """``z, y, x`` for a volume's centres (a z column), else ``y, x``: linking a volume's centres by y, x
    alone pairs particles stacked above each other."""
    return ["z", "y", "x"] if "z" in table.columns else ["y", "x"]


def corrected_columns(table: pd.DataFrame) -> list[str]:
    return [f"{c}_corrected" for c in position_columns(table)]


@dataclass(frozen=True)
class LinkOptions:
    """``search_range``: how far (px) a particle may move between frames; ``memory``: for how many
    frames it may vanish and still be the same particle; ``min_length``: tracks seen in fewer frames
    are dropped (trackpy's ``filter_stubs``)."""

    search_range: float = 5.0
    memory: int = 3
    min_length: int = 1
    # z, y, x of a volume's table (any one unit); FROM_TABLE: its z_um,y_um,x_um columns'; None: cubes
    voxel_size: VoxelSizeChoice = FROM_TABLE

    def check(self) -> None:
        for name in ("search_range", "memory", "min_length"):
            _check_number(getattr(self, name), name)
        check_voxel_size(self.voxel_size)
        if not np.isfinite(self.search_range) or self.search_range <= 0:
            raise ParticleDetectError(f"search range must be a positive number of pixels, got {self.search_range}")
        if int(self.memory) != self.memory or self.memory < 0:
            raise ParticleDetectError(f"memory must be a whole number of frames from 0, got {self.memory}")
        if int(self.min_length) != self.min_length or self.min_length < 1:
            raise ParticleDetectError(f"minimum track length must be a whole number from 1, got {self.min_length}")


def _check_number(value, name: str) -> None:
    """A TypeError naming the argument ``name`` unless ``value`` is a (real) number: NumPy's and int()'s own
    messages about None or text say nothing of which argument was wrong."""
    if not is_number(value):
        raise TypeError(f"{name} must be a number, got {value!r}")


def check_voxel_size(voxel_size) -> None:
    if not is_given(voxel_size):
        return
    if len(voxel_size) != 3 or not all(np.isfinite(v) and v > 0 for v in voxel_size):
        raise ParticleDetectError(f"the voxel size must be three positive numbers z, y, x, got {voxel_size}")


MICRON_COLUMNS = ("y_um", "x_um")
# A pixel size read from 3-decimal columns holds to about 1e-4 of itself; a --mpp further off is another one.
PIXEL_SIZE_TOLERANCE = 1e-3


def table_microns_per_pixel(table: pd.DataFrame) -> float | None:
    """The µm per pixel (per y voxel for a volume's table) of a table's ``y_um, x_um`` columns, as the dock's
    Export and detect of volumes write them beside ``y, x`` (pixels times the pixel size, plus the image's
    offset); None without them (or with nothing in them). One ParticleDetectError where they are no such map,
    or a 2D table's pixels are not square (its MSD takes one length per pixel; a volume's x is scaled by its
    voxel size)."""
    if not set(MICRON_COLUMNS) <= set(table.columns):
        return None
    if table[list(MICRON_COLUMNS)].isna().all().all():  # another file's columns, in a table of several (--file)
        return None
    placement = physical_placement(table[["y", "x", *MICRON_COLUMNS]])
    if placement is None:
        raise ParticleDetectError("its y_um,x_um columns are not y,x times one pixel size (plus an offset): tables "
                                  "of images of several pixel sizes, or edited; link each image's table alone")
    size_y, size_x = placement.scale
    if "z" not in table.columns and not np.isclose(size_y, size_x, rtol=PIXEL_SIZE_TOLERANCE, atol=0):
        raise ParticleDetectError(f"its y_um,x_um columns give pixels of {size_y:.4g} x {size_x:.4g} µm; the MSD "
                                  "takes square pixels")
    return size_y


def scaled_positions(table: pd.DataFrame, voxel_size: tuple[float, float, float] | None,
                     columns: list[str] | None = None) -> np.ndarray:
    """``columns`` (default the table's positions) in units of the y voxel: z and x times their voxel's
    length over y's (as they are without a voxel size, or for a 2D table)."""
    columns = columns or position_columns(table)
    values = table[columns].to_numpy(float)
    if voxel_size is not None and len(columns) == 3:
        values = values * (np.asarray(voxel_size, float) / float(voxel_size[1]))
    return values


# How the library's messages name the table it was given (the command line names its file).
GIVEN_TABLE = "the table"


def voxel_size_of(table: pd.DataFrame, voxel_size: VoxelSizeChoice, done: str) -> tuple[float, float, float] | None:
    """The voxel size a volume's ``table`` is ``done`` in ('linked', 'measured'; None for a 2D table), as
    ``particle-detect link`` resolves it (tables.resolve_voxel_size): ``voxel_size`` as given, refused where its
    proportions are not those of the table's z_um,y_um,x_um columns; FROM_TABLE: the columns' (said in one info
    line), or cubes where there are none (warned); None: cubes, unsaid (the caller's own choice)."""
    if "z" not in table.columns or voxel_size is None:
        return None
    found = resolve_voxel_size(None if voxel_size is FROM_TABLE else voxel_size, [(GIVEN_TABLE, table)], log,
                               f"{done} as if the voxels were cubes; give voxel_size=(z, y, x) if the z step differs "
                               "from the pixel", option="voxel_size")
    if found.source == FROM_COLUMNS:
        log.info("%s: voxel size %s from %s; %s in units of the y voxel", GIVEN_TABLE, found.describe(), FROM_COLUMNS,
                 done)
    return found.size


def _quiet_trackpy() -> None:
    # trackpy logs a line per frame while linking; the dock and the CLI say what matters themselves.
    # (Importing trackpy sets its level, so it is imported first.)
    import trackpy

    trackpy.quiet()


LINKED_AT = ("_link_z", "_link_y", "_link_x")  # the scaled positions trackpy links (dropped after)


def _link_one(table: pd.DataFrame, options: LinkOptions) -> pd.DataFrame:
    import trackpy
    from trackpy.linking import SubnetOversizeException

    columns = position_columns(table)
    at = list(LINKED_AT[-len(columns):])
    table = table.assign(**dict(zip(at, scaled_positions(table, options.voxel_size, columns).T)),
                         **{LINKED_FRAME: _linked_frames(table, options.memory)})
    try:
        # adaptive_stop: in crowded frames trackpy narrows the search where a subnetwork is too big to
        # solve instead of giving up on the whole table.
        linked = trackpy.link(table, float(options.search_range), memory=int(options.memory), pos_columns=at,
                              t_column=LINKED_FRAME, adaptive_stop=min(0.5, float(options.search_range) / 2),
                              adaptive_step=0.9)
    except SubnetOversizeException:
        raise ParticleDetectError(f"search range {options.search_range:g} px is too large for centres this crowded "
                                  "(trackpy could not solve who went where); give a smaller one") from None
    if options.min_length > 1:
        lengths = linked.groupby("particle")["frame"].transform("size")
        linked = _rows_kept(linked, (lengths >= options.min_length).to_numpy())
    return linked.drop(columns=[*at, LINKED_FRAME])


def _rows_kept(linked: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """The rows of ``linked`` where ``keep``. A chains table's beads through keep_beads: a chain that lost a bead
    is cut there into chains of their own, where plain row selection left a gap in its index, which no chains
    table may hold (the tracks could not be written, the error sending a command-line user to a Python function)."""
    if table_kind(linked.columns) != "chains":
        return linked[keep]
    from ..kinds.chains import keep_beads

    return keep_beads(linked, keep)


LINKED_FRAME = "_link_frame"  # the frame numbers trackpy links by (dropped after)


def _frame_step(frames: Iterable[int]) -> int:
    """The step between a table's frames where they are evenly spaced apart, as detect --frames 0:100:10 leaves
    them (frames 0, 10, 20, ...: their differences' greatest common divisor); 1 for fewer than two frames."""
    distinct = np.unique(np.asarray(list(frames), dtype=np.int64))
    return int(np.gcd.reduce(np.diff(distinct))) if len(distinct) > 1 else 1


def _linked_frames(table: pd.DataFrame, memory: int) -> np.ndarray:
    """The frame numbers trackpy links ``table`` by: its own, but for frames every k-th of a movie with k more
    than ``memory`` + 1 (detect --frames 0:100:10): trackpy links only frames up to memory + 1 apart, so every
    track was one frame long, unsaid. Those are numbered 0, 1, 2, ... (one detected frame to the next), said in a
    warning: memory then counts detected frames."""
    frames = table["frame"].to_numpy(np.int64)
    step = _frame_step(frames)
    if step <= int(memory) + 1:
        return frames
    distinct = np.unique(frames)
    whose = f"{table['file'].iloc[0]}'s" if "file" in table.columns else f"{GIVEN_TABLE}'s"
    log.warning("%s frames are every %d%s of the movie (%s%s), farther apart than the memory of %s "
                "bridges: linked from each of them to the next, the memory counted in them (%s)", whose, step,
                _ordinal_suffix(step), ", ".join(map(str, distinct[:3])), ", ..." if len(distinct) > 3 else "",
                counted(int(memory), "frame"), counted(int(memory) * step, "frame"))
    return (frames - distinct[0]) // step


def _ordinal_suffix(number: int) -> str:
    if number % 100 in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")


def link_centres(table: pd.DataFrame, options: LinkOptions | float | None = None, *,
                 search_range: float | None = None, memory: int | None = None, min_length: int | None = None,
                 voxel_size: VoxelSizeChoice = FROM_TABLE) -> pd.DataFrame:
    """``table`` (``frame, y, x, ...``; with a ``z`` column linked in 3D, in units of the y voxel of
    ``options.voxel_size``, by default the table's z_um,y_um,x_um columns', see :func:`voxel_size_of` and the
    module's note) with a ``particle`` column: the
    trajectory each centre belongs to, numbered 0, 1, ... in order of first appearance. Rows of tracks shorter than
    ``options.min_length`` frames are dropped; the rest are sorted by particle, then frame. A chains table's beads
    are linked one by one, and get a ``chain_track`` column besides (their chain followed over frames, where
    ``chain`` numbers each frame's chains afresh); a chain that loses a bead to ``min_length`` is cut there.

    The options as a :class:`LinkOptions`, or as trackpy's ``link`` takes them: ``link_centres(table, 5,
    memory=3)`` or ``link_centres(table, search_range=5)`` (keywords override those of ``options``; the rest
    are LinkOptions' defaults). Frames must be whole numbers (text such as "3" is read as 3) and positions
    numbers, none missing: one ParticleDetectError naming the column otherwise."""
    if options is None:
        options = LinkOptions()
    elif not isinstance(options, LinkOptions):
        _check_number(options, "search_range (link_centres' second argument: a LinkOptions or a number)")
        options = LinkOptions(search_range=options)
    given = {k: v for k, v in (("search_range", search_range), ("memory", memory), ("min_length", min_length))
             if v is not None}
    if voxel_size is not FROM_TABLE:
        given["voxel_size"] = voxel_size
    options = replace(options, **given) if given else options
    options.check()
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"link_centres: table must be a pandas DataFrame with frame, y, x columns, got "
                        f"{type(table).__name__}")
    missing = {"frame", "y", "x"} - set(table.columns)
    if missing:
        raise ParticleDetectError(f"linking needs columns frame, y and x (missing {', '.join(sorted(missing))})")
    table = _numbers(table, "linking")
    if is_given(options.voxel_size) and "z" not in table.columns:
        raise ParticleDetectError("a voxel size is for centres with a z column (frame,z,y,x); these are 2D")
    table = table.drop(columns=[c for c in ("particle", CHAIN_TRACK) if c in table.columns])
    _quiet_trackpy()
    chains = table_kind(table.columns) == "chains"
    if not len(table):
        return table.assign(particle=pd.Series(dtype=np.int64),
                            **({CHAIN_TRACK: pd.Series(dtype=np.int64)} if chains else {}))
    options = replace(options, voxel_size=voxel_size_of(table, options.voxel_size, "linked"))
    parts, offset, chain_offset = [], 0, 0
    for group in _movies(table):
        linked = _link_one(group.reset_index(drop=True), options)
        if len(linked):
            # Renumbered by first appearance (trackpy's numbers have gaps once stubs are dropped).
            order = linked.sort_values(["frame", *position_columns(linked)], kind="stable")
            first = order["particle"].drop_duplicates()
            numbers = {old: offset + new for new, old in enumerate(first)}
            linked = linked.assign(particle=linked["particle"].map(numbers).astype(np.int64))
            offset += len(numbers)
        if chains:
            linked = linked.assign(**{CHAIN_TRACK: chain_offset + _chain_tracks(linked)})
            chain_offset = int(linked[CHAIN_TRACK].max()) + 1 if len(linked) else chain_offset
        parts.append(linked)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["particle", "frame"], kind="stable").reset_index(drop=True)


# A chains table's chains followed over frames: chain is each frame's own numbering (as detect's .chains.csv has it).
CHAIN_TRACK = "chain_track"


def _chain_tracks(linked: pd.DataFrame) -> np.ndarray:
    """Each bead's chain track in one movie's linked beads (a ``particle`` each): its chain followed over frames
    through its beads' own tracks, numbered from 0 in order of first appearance. A chain carries on the chain
    track most of its beads were last seen in; where two chains would, the one with more such beads does (a
    chain broken in two: the larger piece), the other its next choice or a chain track of its own."""
    frames, chains = linked["frame"].to_numpy(np.int64), linked["chain"].to_numpy(np.int64)
    beads = linked["particle"].to_numpy(np.int64)
    tracks = np.zeros(len(linked), np.int64)
    last_seen_in: dict[int, int] = {}  # bead track -> the chain track it was last seen in
    count = 0
    order = np.lexsort((chains, frames))
    for rows in np.split(order, np.flatnonzero(np.diff(frames[order])) + 1):
        carried = _carried_on(chains[rows], beads[rows], last_seen_in)
        for chain in dict.fromkeys(chains[rows].tolist()):
            if chain not in carried:
                carried[chain], count = count, count + 1
        tracks[rows] = [carried[chain] for chain in chains[rows].tolist()]
        last_seen_in.update(zip(beads[rows].tolist(), tracks[rows].tolist()))
    return tracks


def _carried_on(chains: np.ndarray, beads: np.ndarray, last_seen_in: dict[int, int]) -> dict[int, int]:
    """The earlier chain track each of one frame's chains (``chains``, with their ``beads``' tracks) carries on,
    claimed by the most beads first, each taken once; chains none of whose beads was seen before are left out."""
    from collections import Counter

    votes = Counter((chain, last_seen_in[bead]) for chain, bead in zip(chains.tolist(), beads.tolist())
                    if bead in last_seen_in)
    carried: dict[int, int] = {}
    taken: set[int] = set()
    for (chain, track), _ in sorted(votes.items(), key=lambda vote: (-vote[1], vote[0])):
        if chain not in carried and track not in taken:
            carried[chain] = track
            taken.add(track)
    return carried


def _several_movies(table: pd.DataFrame) -> bool:
    """Whether a table holds several movies, each linked and measured on its own: one per file of a table of
    several (a ``file`` column), except an image sequence numbered as one movie (each file one frame of its own)."""
    return "file" in table.columns and table["file"].nunique() > 1 and not _is_numbered_sequence(table)


def movie_files(table: pd.DataFrame) -> list[str]:
    """The files of a table of several movies, each linked and measured on its own, in order of their rows; []
    for a table of one movie (one file, none named, or an image sequence numbered as one movie)."""
    return list(dict.fromkeys(table["file"].astype(str))) if _several_movies(table) else []


def _movies(table: pd.DataFrame) -> list[pd.DataFrame]:
    return [group for _, group in table.groupby("file", sort=False)] if _several_movies(table) else [table]


def _frames_per_file(table: pd.DataFrame) -> pd.Series:
    return table.groupby("file")["frame"].nunique()


def _is_numbered_sequence(table: pd.DataFrame) -> bool:
    per_file = _frames_per_file(table)
    return len(per_file) > 1 and bool((per_file == 1).all()) and table["frame"].nunique() == len(per_file)


def single_frame_files(table: pd.DataFrame) -> int:
    """How many files a table of several names where each holds one frame, numbered as separate images
    (detect's table of a folder of PNG or TIFF frames: each file frame 0, so each is linked alone into
    tracks one frame long); 0 for any other table."""
    if not _several_movies(table):
        return 0
    per_file = _frames_per_file(table)
    return len(per_file) if (per_file == 1).all() else 0


def sequence_note(files: int) -> str:
    """What to do with a table of ``files`` single-frame files (:func:`single_frame_files`), in one line."""
    return (f"its {files} files hold one frame each, as an image sequence detected file by file does; if they are "
            "one field of view over time (never different images), link them as one movie, frames in file name "
            "order, with particle-detect link --sequence (sequence_frames in Python)")


def natural_order(names: Iterable[object]) -> list[str]:
    """``names`` sorted as people number files: frame2 before frame10 (digits compared as numbers)."""
    def key(name: str) -> tuple:
        # re.split alternates text and digits, so each position compares like with like.
        parts = re.split(r"(\d+)", name)
        return [int(p) if i % 2 else p.casefold() for i, p in enumerate(parts)], name

    return sorted(dict.fromkeys(map(str, names)), key=key)


def sequence_order(table: pd.DataFrame, files: Iterable[str] | None = None) -> list[str]:
    """The files of an image sequence's table (one frame per file, a ``file`` column, as detect writes a folder
    of PNG or TIFF frames) in the order of their frames: natural name order (frame2 before frame10). ``files``:
    every file of the sequence, those without centres among them (default: the table's)."""
    if "file" not in table.columns:
        raise ParticleDetectError("an image sequence's table has a file column (one frame per file); this one has "
                                  "none")
    per_file = _frames_per_file(table)
    several = per_file[per_file > 1]
    if len(several):
        raise ParticleDetectError(f"{several.index[0]} holds {several.iloc[0]} frames: a sequence is numbered from "
                                  "files of one frame each")
    named = list(per_file.index.map(str))
    files = named if files is None else list(map(str, files))
    unlisted = sorted(set(named) - set(files))
    if unlisted:
        raise ParticleDetectError(f"{unlisted[0]} has centres but is not among the sequence's files")
    order = natural_order(files)
    if len(order) < 2:
        raise ParticleDetectError("a sequence needs two files or more (a file column naming them)")
    return order


def sequence_frames(table: pd.DataFrame, files: Iterable[str] | None = None) -> pd.DataFrame:
    """An image sequence's centres numbered as one movie's: ``frame`` is the file's place in
    :func:`sequence_order` (from 0); the ``file`` column is kept. ``files``: every file of the sequence, so
    those without centres keep their (empty) frames instead of the later frames closing up on them.
    :func:`link_centres`, :func:`compute_drift` and :func:`ensemble_msd` take the result as one movie."""
    frames = {name: number for number, name in enumerate(sequence_order(table, files))}
    return table.assign(frame=table["file"].astype(str).map(frames).astype(np.int64))


def _numbers(table: pd.DataFrame, what: str) -> pd.DataFrame:
    """``table`` with whole-number frames (int64; "3" read as 3) and finite float positions (y, x, and z where
    it has one); one ParticleDetectError naming the column and the rows otherwise (trackpy's own failures
    come many calls deep: scipy's 'data must be finite', NumPy's dtype errors)."""
    frames = pd.to_numeric(table["frame"], errors="coerce").to_numpy(float)
    bad = ~(np.isfinite(frames) & (frames == np.round(frames)))
    if bad.any():
        first = table["frame"].tolist()[int(np.argmax(bad))]  # 0.5, not np.float64(0.5)
        raise ParticleDetectError(f"{what}: the frame column holds {not_whole(int(bad.sum()))} (the first: "
                                  f"{first!r} at index {table.index[int(np.argmax(bad))]!r})")
    out = table.assign(frame=frames.astype(np.int64))
    for column in position_columns(table):
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(float)
        bad = ~np.isfinite(values)
        if bad.any():
            raise ParticleDetectError(f"{what}: the {column} column holds {int(bad.sum())} missing, non-numeric or "
                                      f"infinite {plural(int(bad.sum()), 'value')} (the first at index "
                                      f"{table.index[int(np.argmax(bad))]!r}); "
                                      f"drop {plural(int(bad.sum()), 'that row', 'those rows')}")
        out[column] = values
    return out


def _linked(tracks: pd.DataFrame, what: str) -> None:
    """One error unless ``tracks`` is a linked table (a ``particle`` column, as link_centres gives)."""
    if not isinstance(tracks, pd.DataFrame):
        raise TypeError(f"{what}: tracks must be a pandas DataFrame (link_centres' table), got {type(tracks).__name__}")
    missing = [c for c in ("frame", "particle", "y", "x") if c not in tracks.columns]
    if missing:
        hint = "; link the centres first with link_centres" if "particle" in missing else ""
        raise ParticleDetectError(f"{what} needs linked tracks (columns frame, particle, y, x): no "
                                  f"{', '.join(missing)} column{hint}")


def _one_movie(tracks: pd.DataFrame, what: str) -> None:
    """One error unless ``tracks`` are one movie's (a table of several files holds one per file)."""
    if _several_movies(tracks):
        files = single_frame_files(tracks)
        raise ParticleDetectError(f"{what} is computed per movie: " + (sequence_note(files) if files else
                                  "link the centres of one file at a time"))


def compute_drift(tracks: pd.DataFrame, smoothing: int = 0) -> pd.DataFrame:
    """The field's drift since the first frame (trackpy's ``compute_drift``): columns ``y, x`` (``z, y, x``
    for a volume's tracks) per ``frame`` (every frame of the tracks, 0 before any drift is known). Across a
    blank or dropped frame, which trackpy's steps between consecutive frames skip, the drift is the motion of
    the particles linked across it (:func:`_across_gaps`)."""
    import trackpy

    _linked(tracks, "compute_drift")
    _check_number(smoothing, "smoothing")
    _one_movie(tracks, "drift")
    frames = np.arange(int(tracks["frame"].min()), int(tracks["frame"].max()) + 1) if len(tracks) else np.zeros(0, int)
    axes = position_columns(tracks)
    if len(tracks) < 2:
        return pd.DataFrame({c: np.zeros(len(frames)) for c in axes}, index=pd.Index(frames, name="frame"))
    positions = tracks[["frame", "particle", *axes]]
    drift = trackpy.compute_drift(pd.concat([positions, _across_gaps(positions, axes)], ignore_index=True),
                                  smoothing=int(smoothing), pos_columns=axes)
    # Frames no particle was followed into, not even across a gap, keep the drift reached so far (their tracks
    # end before and start after them, so no track's displacement spans the drift left unknown there).
    drift = drift.reindex(frames).ffill().fillna(0.0)
    drift.index.name = "frame"
    return drift[axes]


def _across_gaps(positions: pd.DataFrame, axes: list[str]) -> pd.DataFrame:
    """Rows (``frame, particle`` and ``axes``) for the frames a particle was linked across where some frame it
    skipped is reached by no particle from the frame before (a blank or dropped frame, and the one after it),
    on the straight line between its positions either side of the gap; none where every frame is so reached.

    trackpy's compute_drift averages the steps between consecutive frames only: the field's motion across a
    dropped frame never entered the drift, and every later frame kept the drift reached before it (frames 20
    and 40 of 60 dropped, drifting 1.5 px a frame: 82.6 px at the end for 88.6, the MSD 1.46 times too large
    at 15 s). With these rows each frame of a k-frame gap takes 1/k of the displacements across it, averaged
    over the particles (and smoothed) by trackpy as any step is; frames reached from the frame before are as
    trackpy gives them, but for a particle's own skip over the gap."""
    ordered = positions.sort_values(["particle", "frame"], kind="stable")
    following = ordered.groupby("particle", sort=False)[["frame", *axes]].shift(-1)  # the particle's next row
    span = following["frame"] - ordered["frame"]  # NaN at a track's last row
    first, last = int(ordered["frame"].min()), int(ordered["frame"].max())
    unreached = np.setdiff1d(np.arange(first + 1, last + 1), following.loc[span == 1, "frame"].to_numpy(np.int64))
    jumps = span > 1
    start, end = ordered[jumps], following[jumps]
    # How many unreached frames lie in (start, end]: a jump over none is memory at work, left to trackpy.
    over = np.searchsorted(unreached, end["frame"], "right") - np.searchsorted(unreached, start["frame"], "right")
    start, end = start[over > 0], end[over > 0]
    frames = span[jumps][over > 0].to_numpy(np.int64)
    between = frames - 1  # the frames each jump skipped
    row = np.repeat(np.arange(len(start)), between)
    step = np.arange(len(row)) - np.repeat(np.cumsum(between) - between, between) + 1  # 1 ... k-1 along each jump
    fraction = step / frames[row]
    filled = pd.DataFrame({"frame": start["frame"].to_numpy(np.int64)[row] + step,
                           "particle": start["particle"].to_numpy()[row]})
    for axis in axes:
        begin = start[axis].to_numpy(float)[row]
        filled[axis] = begin + (end[axis].to_numpy(float)[row] - begin) * fraction
    if len(unreached):
        one = len(unreached) == 1
        log.info("drift: %s reached by no particle from the frame before (%s); %s drift is the motion of the %s "
                 "linked across %s, spread evenly over the frames skipped", counted(len(unreached), "frame"),
                 ", ".join(map(str, unreached[:6])) + (" ..." if len(unreached) > 6 else ""), "its" if one else "their",
                 counted(len(start), "particle"), "it" if one else "them")
    return filled


def subtract_drift(tracks: pd.DataFrame, drift: pd.DataFrame) -> pd.DataFrame:
    """``tracks`` with ``y_corrected, x_corrected`` (and ``z_corrected`` for a volume's tracks): the
    positions with the field's drift taken off (``y, x`` stay where the particles are in the image)."""
    _linked(tracks, "subtract_drift")
    axes = position_columns(tracks)
    if not isinstance(drift, pd.DataFrame) or any(c not in drift.columns for c in axes):
        raise ParticleDetectError(f"subtract_drift: the drift must be a table of {', '.join(axes)} per frame (as "
                                  "compute_drift gives)")
    absent = sorted(set(tracks["frame"].tolist()) - set(drift.index.tolist()))
    if absent:
        listed = ", ".join(map(str, absent[:6])) + (f", ... ({len(absent)} in all)" if len(absent) > 6 else "")
        raise ParticleDetectError(f"subtract_drift: the drift has no row for {plural(len(absent), 'frame')} {listed} "
                                  "of the tracks; compute it from these tracks (compute_drift gives every frame)")
    shift = drift.reindex(tracks["frame"].to_numpy())
    out = tracks.copy()
    for axis, corrected in zip(position_columns(tracks), corrected_columns(tracks)):
        out[corrected] = tracks[axis].to_numpy(float) - shift[axis].to_numpy(float)
    return out


def ensemble_msd(tracks: pd.DataFrame, microns_per_pixel: float = 1.0, frames_per_second: float = 1.0,
                 max_lag: int = 100, voxel_size: VoxelSizeChoice = FROM_TABLE) -> pd.DataFrame:
    """The ensemble mean squared displacement (trackpy's ``emsd``): columns ``lagt`` (s), ``msd``
    (um^2, or px^2 with 1 um per px) and ``N`` (independent displacements behind each value). Uses
    the drift-corrected positions when ``tracks`` has them; a volume's in units of the y voxel of
    ``voxel_size``, by default the tracks' z_um,y_um,x_um columns' (:func:`voxel_size_of`;
    ``microns_per_pixel`` is then per y voxel)."""
    import trackpy

    _linked(tracks, "ensemble_msd")
    for value, name in ((microns_per_pixel, "microns_per_pixel"), (frames_per_second, "frames_per_second"),
                        (max_lag, "max_lag")):
        _check_number(value, name)
    check_voxel_size(voxel_size)
    for value, what in ((microns_per_pixel, "microns per pixel"), (frames_per_second, "frames per second")):
        if not np.isfinite(value) or value <= 0:
            raise ParticleDetectError(f"{what} must be a positive number, got {value}")
    if int(max_lag) != max_lag or max_lag < 1:
        raise ParticleDetectError(f"maximum lag must be a whole number of frames from 1, got {max_lag}")
    _one_movie(tracks, "the MSD")
    positions = tracks[["frame", "particle"]].copy()
    axes, shifted = position_columns(tracks), corrected_columns(tracks)
    corrected = all(c in tracks.columns for c in shifted)
    values = scaled_positions(tracks, voxel_size_of(tracks, voxel_size, "measured"), shifted if corrected else axes)
    for i, axis in enumerate(axes):
        positions[axis] = values[:, i]
    moving = positions.groupby("particle")["frame"].transform("nunique") > 1
    if not moving.any():
        if tracks["frame"].nunique() < 2:  # no search range or memory links a single frame to anything
            raise ParticleDetectError("the tracks are all in one frame: nothing moved to measure (an MSD needs "
                                      "centres in two frames or more)")
        raise ParticleDetectError("no track spans two frames: nothing moved to measure (try a larger search "
                                  "range or memory)")
    result = trackpy.emsd(positions[moving], float(microns_per_pixel), float(frames_per_second),
                          max_lagtime=int(max_lag), detail=True, pos_columns=axes)
    result = result[result["N"] > 0]
    if not len(result):
        shortest = int(positions[moving].sort_values("frame").groupby("particle")["frame"].diff().min())
        raise ParticleDetectError(f"no track moves within the maximum lag of {counted(int(max_lag), 'frame')}: "
                                  f"the tracks' shortest step spans {shortest} frames; give a maximum lag (max_lag=, "
                                  f"--max-lag) of {shortest} or more")
    out = pd.DataFrame({"lagt": result["lagt"].to_numpy(float), "msd": result["msd"].to_numpy(float),
                        "N": result["N"].to_numpy(float)})
    return out.reset_index(drop=True)


# The power law is fitted over the first lags only, as trackpy's walkthrough fits its MSD: the long lags rest on
# a few long tracks (their displacements overlap) and pulled the exponent of pure diffusion down. Measured on 15
# random walks of 150 particles, tracks of random lengths 10-60 frames: exponent 1.007 +- 0.021 over the first 10
# lags, 0.983 +- 0.111 over every lag to 100; detected tracks of a synthetic diffusing movie (truth 1): 0.98 over
# 10 lags, 0.93 over all. (Localisation noise lifts the first lags: 0.2 px of it on 0.8 px steps gives 0.96 over
# 10 lags, 0.99 over all; fit those tracks' MSD yourself from the CSV.)
FIT_LAGS = 10


def fitted_lags(msd: pd.DataFrame) -> pd.DataFrame:
    """The rows of an MSD table (:func:`ensemble_msd`) that :func:`fit_power_law` fits: the first
    :data:`FIT_LAGS` of positive lag time and MSD."""
    return msd[(msd["lagt"] > 0) & (msd["msd"] > 0)].head(FIT_LAGS)


def fit_power_law(msd: pd.DataFrame) -> tuple[float, float] | None:
    """(n, A) of ``MSD = A * lagt^n`` fitted in log space (trackpy's ``fit_powerlaw``) over the first
    :data:`FIT_LAGS` lags (:func:`fitted_lags`); None with fewer than two."""
    from scipy import stats

    usable = fitted_lags(msd)
    if len(usable) < 2:
        return None
    fit = stats.linregress(np.log(usable["lagt"].to_numpy(float)), np.log(usable["msd"].to_numpy(float)))
    return float(fit.slope), float(np.exp(fit.intercept))


# ---- the record of one linking: the .json beside its tracks and its MSD ------------------------------------
LINK_COMMAND = "particle-detect link"
DOCK_EXPORT = "napari dock: Tracks, Export tracks…"


def msd_units(microns_per_pixel: float | None, frames_per_second: float | None, volume: bool = False) -> dict[str, str]:
    """The units of an MSD table's ``lagt`` and ``msd`` (:func:`ensemble_msd`'s): s with a frame rate, else
    frames; µm² with a pixel size (per y voxel for a volume's), else px² (y voxels² for a volume's)."""
    return {"lagt": "s" if frames_per_second else "frames",
            "msd": "µm²" if microns_per_pixel else ("(y voxel)²" if volume else "px²")}


# Round lag times (s) an MSD's power law is quoted at. ``A`` of ``MSD = A t^n`` alone is the MSD at 1 s, which a
# time-lapse's fitted lags (600 s and up) or a fast camera's (1-10 ms) lie far from: said there, it was the fit
# extrapolated beyond its data.
ROUND_LAGS = ((1e-3, "1 ms"), (1.0, "1 s"), (60.0, "1 min"), (3600.0, "1 h"))


def _quoted_lag(lags: pd.Series, units: dict[str, str]) -> tuple[float, str]:
    """The lag time (in ``units['lagt']``) an MSD fitted over ``lags`` (:func:`fitted_lags`' ``lagt``) is quoted
    at, and how it is written: in frames, 1 frame (else the first lag fitted); in s, the round unit of time of
    :data:`ROUND_LAGS` within the lags fitted (the one nearest their middle on the log scale), else the first."""
    first, last = float(lags.iloc[0]), float(lags.iloc[-1])
    if units["lagt"] != "s":  # lag 1 is fitted unless its MSD was left out (fitted_lags: none measured there)
        return (1.0, "1 frame") if first <= 1.0 <= last else (first, f"{first:g} frames")
    # Lag times are frames over a rate, so the first one may miss a round lag by a rounding error.
    inside = [(seconds, said) for seconds, said in ROUND_LAGS
              if first * (1 - 1e-9) <= seconds <= last * (1 + 1e-9)]
    if not inside:
        return first, f"{first:.4g} s"
    middle = np.sqrt(first * last)
    return min(inside, key=lambda lag: abs(np.log(lag[0] / middle)))


def unfitted_msd(msd: pd.DataFrame) -> str:
    """Why ``msd`` (:func:`ensemble_msd`'s table) has no power law, worded to follow 'MSD: ' or stand alone: a fit
    needs two lags with an MSD above 0 (:func:`fit_power_law`), and e.g. tracks over 2 frames give one lag."""
    usable, lags = len(fitted_lags(msd)), len(msd)
    over = f"over {lags} lag{'' if lags == 1 else 's'}"
    if usable == lags:
        return f"{over} only, too few to fit a power law"
    return f"{over}, {usable} of them with an MSD above 0: too few to fit a power law"


def describe_msd(fit: tuple[float, float] | None, units: dict[str, str], msd: pd.DataFrame) -> str:
    """An MSD's power law (:func:`fit_power_law`) with its units, as ``particle-detect link`` and the dock's
    Tracks panel say it: the MSD it gives at a lag within those fitted (:func:`_quoted_lag`), its exponent and
    the lags of ``msd`` (the table fitted) it was fitted over ('MSD = 1.77 µm² at 1 s, exponent 1.12, fitted
    over lags 0.5-5 s'); or why nothing was fitted: too few lags (:func:`unfitted_msd`)."""
    if fit is None:
        return unfitted_msd(msd)
    exponent, amplitude = fit
    lags = fitted_lags(msd)["lagt"]
    lag, lag_said = _quoted_lag(lags, units)
    return (f"MSD = {amplitude * lag ** exponent:.4g} {units['msd']} at {lag_said}, exponent {exponent:.2f}, "
            f"fitted over lags {lags.iloc[0]:.4g}-{lags.iloc[-1]:.4g} {units['lagt']}")


def link_record(command: str, source: str | Path, tracks: str | Path, options: LinkOptions, drift: bool, *,
                volume: bool = False, sequence: list[str] | None = None, msd: str | Path | None = None,
                microns_per_pixel: float | None = None, mpp_from: str | None = None,
                frames_per_second: float | None = None, fps_from: str | None = None, max_lag: int | None = None,
                file: str | None = None) -> dict:
    """The parameters and units of one linking (``command``: :data:`LINK_COMMAND` or :data:`DOCK_EXPORT`) of
    ``source``'s centres into the ``tracks`` CSV, and of its MSD CSV ``msd`` (None: none written, its entries
    None), as :func:`write_link_outputs` writes them in the .json beside each: positions and search range in
    px (y voxels for a ``volume``'s), the MSD in the units :func:`msd_units` gives (``microns_per_pixel`` and
    ``frames_per_second`` None: px² and frames; ``mpp_from``, ``fps_from``: where each came from). ``file``: the
    one file of a table of several that was linked (``--file``; None: all)."""
    pixel = "y voxel" if volume else "px"
    record = {"command": command, "version": __version__, "input": str(source), "tracks": str(tracks), "msd": None,
              "search_range": options.search_range, "memory": options.memory, "min_length": options.min_length,
              "drift": drift, "voxel_size": list(options.voxel_size) if is_given(options.voxel_size) else None,
              "sequence": sequence, "file": file, "mpp": None, "mpp_from": None, "fps": None, "fps_from": None,
              "max_lag": None, "units": {"positions": pixel, "search_range": pixel, "memory": "frames"}}
    if msd is not None:
        record.update({"msd": str(msd), "mpp": microns_per_pixel, "mpp_from": mpp_from, "fps": frames_per_second,
                       "fps_from": fps_from, "max_lag": max_lag})
        record["units"].update(msd_units(microns_per_pixel, frames_per_second, volume))
    return record


def link_output_paths(record: dict) -> list[Path]:
    """The files a :func:`link_record` names: its tracks, its MSD where it has one, and the .json beside each."""
    from .file_detection import metadata_path

    tables = [Path(record[key]) for key in ("tracks", "msd") if record.get(key)]
    return [path for table in tables for path in (table, metadata_path(table))]


def written_by_linking(path: str | Path) -> bool:
    """Whether ``path`` (a CSV or the .json beside one) is a linking's output: the .json beside it is a
    :func:`link_record` naming that CSV as its tracks or MSD. Such files a tracks export may replace; any
    other file is someone's work."""
    from .file_detection import read_metadata

    record = read_metadata(path)
    if record is None or record.get("command") not in (LINK_COMMAND, DOCK_EXPORT):
        return False
    named = {Path(str(record[key])).name for key in ("tracks", "msd") if record.get(key)}
    return Path(path).with_suffix(".csv").name in named


def write_link_outputs(tracks: pd.DataFrame, record: dict, msd: pd.DataFrame | None = None) -> Path:
    """Write the files ``record`` (:func:`link_record`) names: the tracks, the MSD (``msd``, where the record
    names one) and the record as the .json beside each. The records and the MSD first, together (all or
    nothing), as detect writes its metadata first: a run stopped before the tracks leaves no detect .json
    beside them, which a later detect would take for its own and replace. Tracks that fail to be written
    leave no record of themselves behind. Returns the tracks' path."""
    from .file_detection import metadata_path
    from .io import atomic_write_texts
    from .centre_csv import write_centres

    text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    tracks_path = Path(record["tracks"])
    texts = {metadata_path(tracks_path): text}
    if record.get("msd") is not None:
        if msd is None:
            raise ValueError("write_link_outputs: the record names an MSD file but no MSD table was given")
        msd_file = Path(record["msd"])
        texts.update({msd_file: msd.to_csv(index=False, float_format="%.6g"), metadata_path(msd_file): text})
    tracks_there = tracks_path.exists()
    atomic_write_texts(texts)
    try:
        # Positions at the project's 3 decimals; the centres' own columns (trackpy's ep, mass) with every digit,
        # as write_centres writes any column of no fixed precision: rounded, ep moved by up to 4 %.
        return write_centres(tracks, tracks_path)
    except BaseException:
        if not tracks_there and not tracks_path.exists():  # no tracks, so no parameters of them either
            metadata_path(tracks_path).unlink(missing_ok=True)
        raise


def tracks_layer_data(tracks: pd.DataFrame) -> np.ndarray:
    """(track id, frame, y, x) rows, (track id, frame, z, y, x) for a volume's tracks (a z column), as
    napari's Tracks layer takes them (sorted by track, then frame)."""
    columns = ["particle", "frame", *position_columns(tracks)]
    if not len(tracks):
        return np.zeros((0, len(columns)))
    ordered = tracks.sort_values(["particle", "frame"], kind="stable")
    # A copy: of a table whose columns are all float (one block), pandas' copy-on-write gives a read-only view,
    # and napari writes into the layer data it is given.
    return ordered[columns].to_numpy(float, copy=True)


# What one track follows in a table of each kind, where it is not a sphere's centre.
TRACKED = {"rods": "rod", "chains": "bead"}


def describe_tracks(tracks: pd.DataFrame) -> str:
    """'37 tracks, 4-10 frames long (median 10)'; '10 tracks, each 6 frames long' (not '6-6 ... (median 6)'). Of rods,
    '37 rod tracks, ...' (their centres); of chains' beads, '37 bead tracks, ... in 9 chain tracks', since each bead
    is linked on its own."""
    kind = table_kind(tracks.columns)
    what = f"{TRACKED[kind]} tracks" if kind in TRACKED else "tracks"
    if not len(tracks):
        return f"no {what}"
    lengths = tracks.groupby("particle").size()
    count = f"{len(lengths)} {what if len(lengths) != 1 else what[:-1]}"
    if lengths.min() == lengths.max():
        said = f"{count}, {'each ' if len(lengths) > 1 else ''}{lengths.min()} frame{'s' if lengths.min() != 1 else ''} long"
    else:
        said = f"{count}, {lengths.min()}-{lengths.max()} frames long (median {lengths.median():g})"
    if CHAIN_TRACK not in tracks.columns:
        return said
    chains = tracks[CHAIN_TRACK].nunique()
    return f"{said}, in {chains} chain track{'s' if chains != 1 else ''}"
