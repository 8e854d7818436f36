"""``particle-detect link``: trackpy's linking of a centre table, with drift and the MSD in the units its
image's calibration gives (detect's .json, the table's physical columns, or --mpp/--fps), kept out of
cli/main.py."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ParticleDetectError
from ..kinds.file_pairing import recorded_files

if TYPE_CHECKING:  # for annotations alone
    import pandas as pd

log = logging.getLogger("particle-detect")


def cmd_link(args: argparse.Namespace) -> int:
    from .checks import refuse_tables_of_another_sort
    from .detected_frames import warn_failed_since
    from ..files.centre_csv import finite_column, read_centres
    from ..files.tables import VoxelSize, resolve_voxel_size
    from ..files.tracks import (
        LINK_COMMAND, LinkOptions, compute_drift, describe_msd, describe_tracks, ensemble_msd, fit_power_law,
        link_centres, link_record, movie_files, sequence_frames, sequence_order, single_frame_files, subtract_drift,
        write_link_outputs,
    )

    if args.msd is None and {"mpp", "fps", "max_lag"} & getattr(args, "given", set()):
        raise ParticleDetectError("--mpp, --fps and --max-lag set the MSD: give --msd too")
    _check_link_outputs(args)
    refuse_tables_of_another_sort([args.centres], "spheres")
    table = read_centres(args.centres)  # a rods table of tips alone with the centres its tips give
    if "frame" not in table.columns:
        raise ParticleDetectError(f"{args.centres}: no frame column; linking needs centres of several frames")
    if "z" in table.columns:  # read_centres checks y and x; the library's own check names no file ("linking:")
        table = table.assign(z=finite_column(table, "z", str(args.centres)))
    if args.file is not None:
        table = _one_file_of(args, table)
    sequence = None
    # Read once: a stopped run's mark, --sequence, the MSD's units and a one-frame table's note take detect's .json.
    detected = _detect_metadata_of(args.centres)
    _warn_if_unfinished(args.centres, detected, table if args.file is not None else None)
    warn_failed_since(args.centres, detected, set(table["file"].astype(str)) if "file" in table.columns else None,
                      "linked as they are")
    if args.sequence:
        try:
            sequence = sequence_order(table, _sequence_files(detected, table))
        except ParticleDetectError as exc:
            raise ParticleDetectError(f"{args.centres}: --sequence: {exc}") from None
        table = sequence_frames(table, sequence)
        log.info("%s: %d files as frames 0-%d of one movie, in name order (%s ... %s)", args.centres,
                 len(sequence), len(sequence) - 1, sequence[0], sequence[-1])
        _warn_of_unlike_frames(args.centres, sequence, detected)
    elif files := single_frame_files(table):
        # Linked file by file, every track would be one frame long: a useless table, written without a word.
        # Said for what --sequence is: of different images (fields of view) it linked unrelated particles.
        raise ParticleDetectError(f"{args.centres}: its {files} files hold one frame each, so linked file by file "
                                  "every track would be one frame long; --sequence is only for a time series of "
                                  "one field of view (one file per frame), never for different images")
    elif (args.drift or args.msd is not None) and (movies := movie_files(table)):
        # Refused before any linking, where the library refuses it only once the tracks are there.
        raise ParticleDetectError(f"{args.centres}: drift and the MSD are computed per movie, and its {len(movies)} "
                                  f"files are {len(movies)} movies: pick one with --file NAME ({_some_of(movies)})")
    if table["frame"].nunique() == 1:
        # trackpy's "no track spans two frames" advice (a larger search range or memory) is wrong here.
        if args.msd is not None:
            raise ParticleDetectError(_one_frame_note(args.centres, table, detected,
                                                      "nothing moved and there is no MSD to measure"))
        log.warning("%s", _one_frame_note(args.centres, table, detected, "every track is one frame long"))
    voxel, space = None, ""
    if "z" not in table.columns:
        if args.voxel_size is not None:
            raise ParticleDetectError(f"{args.centres}: --voxel-size is for frame,z,y,x tables; this one has no z column")
    elif (voxel := _recorded_voxel_size(args, table, detected)) is not None:
        space = f" (linked in 3D in units of the y voxel: voxel size {VoxelSize(voxel).describe()} from detect's .json)"
    else:
        found = resolve_voxel_size(args.voxel_size, [(args.centres, table)], log,
                                   "linked as if the voxels were cubes; give --voxel-size Z Y X if the z step "
                                   "differs from the pixel")
        voxel = found.size
        space = (" (linked in 3D on z, y, x, in voxels)" if voxel is None else
                 f" (linked in 3D in units of the y voxel: voxel size {found.describe()} from {found.source})")
    mpp, mpp_from, fps, fps_from = _link_msd_scale(args, table, sequence is not None, detected) \
        if args.msd is not None else (None,) * 4
    options = LinkOptions(args.search_range, args.memory, args.min_length, voxel)
    tracks = link_centres(table, options)
    if args.drift:
        tracks = subtract_drift(tracks, compute_drift(tracks))
    msd = ensemble_msd(tracks, mpp or 1.0, fps or 1.0, args.max_lag, voxel) if args.msd is not None else None
    record = link_record(LINK_COMMAND, args.centres, args.output, options, args.drift, volume="z" in table.columns,
                         sequence=sequence, msd=args.msd, microns_per_pixel=mpp, mpp_from=mpp_from,
                         frames_per_second=fps, fps_from=fps_from, max_lag=args.max_lag, file=args.file)
    write_link_outputs(tracks, record, msd)
    log.info("%s: %s%s -> %s", args.centres, describe_tracks(tracks), space, args.output)
    if msd is not None:
        log.info("MSD -> %s (%s)", args.msd, describe_msd(fit_power_law(msd), record["units"], msd))
    return 0


def _warn_if_unfinished(centres: Path, meta: dict, picked: pd.DataFrame | None = None) -> None:
    """One warning line where detect's .json (``meta``) marks ``centres`` left unfinished by a stopped run, as
    evaluate says it (cli/detected_frames.py): linked without a word, its tracks ended at the last frame done as if
    the particles had. ``picked``: the rows --file chose, said of only where their file was stopped partway."""
    from ..files.tables import input_records
    from .detected_frames import frames_detected_in, frames_text, why_frames_left_out

    if meta.get("unfinished") is not True:
        return
    files = set(picked["file"].astype(str)) if picked is not None and "file" in picked.columns else None
    partial = [f"{frames_text(frames)} of {name} detected ({why_frames_left_out(record)})"
               for name, record in input_records(meta, files).items()
               if "frames_done" in record and (frames := frames_detected_in(record)) is not None]
    go_on = "run the same detect command again to finish it"
    if partial:
        log.warning("%s: %s: its tracks end there; %s", centres, "; ".join(partial), go_on)
    elif picked is None:  # stopped between files: those it had not come to are missing, not partly there
        log.warning("%s: left unfinished by a stopped detect (its .json says so): the files it had not come to are "
                    "not in it; %s", centres, go_on)


def _one_frame_note(centres: Path, table, meta: dict, consequence: str) -> str:
    """A table of one frame, and so ``consequence``, in one line; where detect's .json (``meta``) says it read
    the image as one volume, that a movie saved as z slices (ImageJ's slices, not frames) is detected as frames
    with --axes TYX."""
    note = f"{centres}: its centres are all in one frame (frame {table['frame'].iloc[0]}), so {consequence}"
    files = set(table["file"].astype(str)) if "file" in table.columns else None
    volumes = [record for record in meta.get("inputs", []) if isinstance(record, dict)
               and record.get("axes") == "ZYX" and (files is None or str(record.get("file")) in files)]
    if not volumes:
        return note
    record = volumes[0]
    shape = record.get("shape")
    slices = f"{shape[1]} " if isinstance(shape, list) and len(shape) == 4 else ""
    return (f"{note}; detect read {record.get('file')} as one volume (axes ZYX, from its "
            f"{record.get('axes_source', 'metadata')}); if its {slices}z slices are the frames of a movie (saved as "
            "slices, not frames), detect it again with --axes TYX")


def _recorded_voxel_size(args: argparse.Namespace, table, meta: dict) -> tuple[float, float, float] | None:
    """The voxel size detect's .json beside a volume table (``meta``) records for every file of it, where neither
    --voxel-size nor the table's z_um,y_um,x_um columns give one (detect writes those only for a size in a
    length; a z step in pixels, an ImageJ spacing without unit, is recorded all the same). None where the files
    have none, or different ones."""
    from ..files.tables import recorded_of_files, shared_value, table_voxel_size, three_positive

    if args.voxel_size is not None or table_voxel_size(table) is not None:
        return None
    files = set(table["file"].astype(str)) if "file" in table.columns else None
    return shared_value(recorded_of_files(meta, "voxel_size_zyx", three_positive, files))


def _parameters_of(what: str) -> str:
    """The role of the .json beside link's ``what`` CSV, as its checks name it."""
    return f".json of the {what}"


def _check_link_outputs(args: argparse.Namespace) -> None:
    """What link writes, by role (the tracks and the MSD, each with the .json of its parameters beside it),
    checked before any work: none an input, a folder or another of them, and none there already unless
    --overwrite (a ground truth, notes, or detect's output, whose .json left behind would let a later detect
    replace the tracks)."""
    from .checks import check_distinct, check_output
    from ..files.file_detection import is_detect_metadata, metadata_path, read_metadata

    outputs, options = {}, {}
    for what, path, option in (("tracks", args.output, "-o"), ("MSD", args.msd, "--msd")):
        if path is None:
            continue
        outputs[what] = check_output(path, [args.centres], what, (".csv",))
        outputs[_parameters_of(what)] = check_output(metadata_path(path), [args.centres], _parameters_of(what))
        options[what] = options[_parameters_of(what)] = option
    check_distinct(outputs)
    if not args.overwrite:
        for what, path in outputs.items():
            if path.exists() or path.is_symlink():
                whose = (" (an output of detect: its .json is beside it)"
                         if what in ("tracks", "MSD") and is_detect_metadata(read_metadata(path)) else "")
                raise ParticleDetectError(f"{path}: already there{whose}; give --overwrite to replace it, or another "
                                          f"{options[what]}")


def _detect_metadata_of(centres: Path) -> dict:
    """Detect's .json beside the table ``centres``; {} where there is none (or another program's)."""
    from ..files.file_detection import is_detect_metadata, read_metadata

    meta = read_metadata(centres)
    return meta if is_detect_metadata(meta) else {}


def _sequence_files(meta: dict, table) -> list[str] | None:
    """Every file of the image sequence that ``table`` was detected from, those without centres and those
    detect could not read among them (frames of the movie all the same), from detect's .json of it
    (``meta``); None where that has none of this table (the table's own files are then the sequence), or where
    the table has no file column, which sequence_order refuses in words (a KeyError's traceback here)."""
    if not meta or "file" not in table.columns:
        return None
    files = recorded_files(meta, "inputs") + recorded_files(meta, "failed")
    return files if set(table["file"].astype(str)) <= set(files) else None


# Files named in one warning line; the rest are counted.
NAMED_FILES = 5


def _warn_of_unlike_frames(centres: Path, sequence: list[str], meta: dict) -> None:
    """What makes ``sequence`` (the files of ``centres`` in frame order) doubtful as one movie, in a warning
    line each: files detect failed on (``meta``: its .json), whose frames are left empty, and images of
    different sizes, which are no time series of one field of view (linked, tracks join unrelated images).
    Sizes as the .json records them, else (a .json of an earlier version) read from the files' headers."""
    failed = set(recorded_files(meta, "failed"))
    empty = [f"{name} (frame {frame})" for frame, name in enumerate(sequence) if name in failed]
    if empty:
        files = f"{len(empty)} file{'s' if len(empty) != 1 else ''}, {'their frames' if len(empty) != 1 else 'its frame'}"
        log.warning("%s: --sequence: detect failed on %s left empty: %s", centres, files, _some_of(empty))
    recorded = _recorded_sizes(meta)
    first_of_size: dict[tuple[int, int], str] = {}
    for name in sequence:
        size = recorded.get(name) or _frame_size(name, centres.parent)
        if size is not None:
            first_of_size.setdefault(size, name)
    if len(first_of_size) > 1:
        sizes = [f"{name} {height} x {width} px" for (height, width), name in first_of_size.items()]
        log.warning("%s: --sequence: the files' images have %d different sizes (%s): different images, not the "
                    "frames of one field of view; their tracks join unrelated particles", centres, len(sizes),
                    _some_of(sizes))


def _some_of(names: list[str]) -> str:
    """The first NAMED_FILES of ``names`` and how many more, for one line."""
    more = f" and {len(names) - NAMED_FILES} more" if len(names) > NAMED_FILES else ""
    return ", ".join(names[:NAMED_FILES]) + more


def _recorded_sizes(meta: dict) -> dict[str, tuple[int, int]]:
    """Height and width of each input's image by its file, from the ``shape`` (frames, height, width) that
    detect's .json (``meta``) records of it; inputs without one (earlier versions) left out."""
    sizes = {}
    for record in meta.get("inputs", []):
        shape = record.get("shape") if isinstance(record, dict) and "file" in record else None
        if isinstance(shape, list) and len(shape) == 3 and all(isinstance(n, int) for n in shape):
            sizes[str(record["file"])] = (shape[1], shape[2])
    return sizes


def _frame_size(name: str, beside: Path) -> tuple[int, int] | None:
    """Height and width of a sequence file's image, from its header alone (TIFF, or a picture Pillow reads);
    None where it is not found (named as detect was given it: from where detect ran, or beside the table) or
    not read so."""
    path = next((p for p in (Path(name), beside / name) if p.is_file()), None)
    if path is None:
        return None
    try:
        if path.suffix.lower() in (".tif", ".tiff"):
            import tifffile

            with tifffile.TiffFile(path) as tif:
                page = tif.pages[0]
                return int(page.imagelength), int(page.imagewidth)
        from PIL import Image

        with Image.open(path) as picture:
            return picture.height, picture.width
    except Exception:  # noqa: BLE001 - a file that cannot be read says nothing about its size
        return None


def _link_msd_scale(args: argparse.Namespace, table, sequence: bool, detected: dict
                    ) -> tuple[float | None, str | None, float | None, str | None]:
    """The µm per pixel and frames per second of link's MSD, and where each came from (None, None: in pixels,
    in frames): --mpp and --fps, else what the table's own columns and detect's .json beside it give (both
    said in one log line). ``sequence``: the table's files are the frames of one movie (--sequence), whose
    files' own frame intervals say nothing of the time between them; ``detected``: detect's .json beside it."""
    from ..files.calibration import recorded_calibrations
    from ..files.file_detection import metadata_path

    files = table["file"].astype(str).unique() if "file" in table.columns else None
    recorded = recorded_calibrations(detected, files)
    whose = f"{next(iter(recorded))}'s" if len(recorded) == 1 else "the images'"
    source = f"{whose} metadata (recorded in {metadata_path(args.centres)})"
    mpp, mpp_from, mpp_said = _link_microns_per_pixel(args, table, recorded, source)
    fps, fps_from, fps_said = _link_frames_per_second(args, {} if sequence else recorded, source)
    said = [found for found in (mpp_said, fps_said) if found]
    if len(said) == 2 and said[0][1] == said[1][1]:
        log.info("%s and %s from %s", said[0][0], said[1][0], said[0][1])
    elif said:
        log.info(" and ".join(f"{what} from {where}" for what, where in said))
    return mpp, mpp_from, fps, fps_from


def _link_microns_per_pixel(args: argparse.Namespace, table, recorded: dict, source: str
                            ) -> tuple[float | None, str | None, tuple[str, str] | None]:
    """The µm per pixel (per y voxel) of link's MSD, where it came from, and (what, from where) to log where it
    was not given: --mpp, else the table's y_um,x_um columns, else the pixel size that detect's .json records
    of the table's images (``recorded``: calibration.recorded_calibrations, read from ``source``); (None, None,
    None) with none, the MSD in pixels. --mpp disagreeing with the table's columns is refused (one of them is
    another image's, or in another unit); with the .json's, used but said (a microscope's metadata may be wrong).
    Images of different pixel sizes are refused without --mpp, said with it."""
    from ..files.tracks import PIXEL_SIZE_TOLERANCE, table_microns_per_pixel

    given = (args.mpp, "--mpp", None) if args.mpp is not None else (None, None, None)
    sizes = _recorded_value(args.centres, {name: found.pixel_um for name, found in recorded.items()}, "pixel size",
                            "--mpp", args.mpp, lambda size: " x ".join(f"{v:.4g}" for v in dict.fromkeys(size)) +
                            " µm")
    if sizes is _DIFFERENT:
        return given
    try:
        found = table_microns_per_pixel(table)
    except ParticleDetectError as exc:
        raise ParticleDetectError(f"{args.centres}: {exc}") from None
    pixel = "y voxel" if "z" in table.columns else "pixel"
    if found is not None and args.mpp is not None and not np.isclose(args.mpp, found, rtol=PIXEL_SIZE_TOLERANCE,
                                                                       atol=0):
        raise ParticleDetectError(f"--mpp {args.mpp:g} disagrees with {args.centres}'s y_um,x_um columns "
                                  f"({found:.4g} µm per {pixel}); leave --mpp out to use the table's")
    if sizes is not None and not np.isclose(*sizes, rtol=PIXEL_SIZE_TOLERANCE, atol=0):
        raise ParticleDetectError(f"{args.centres}: {source} gives pixels of {sizes[0]:.4g} x {sizes[1]:.4g} µm; the "
                                  "MSD takes square pixels")
    size = sizes[0] if sizes is not None else None
    if found is not None and (size is None or not np.isclose(found, size, rtol=PIXEL_SIZE_TOLERANCE, atol=0)):
        # The table's own columns, where the .json gives no size or another (the table edited since): the
        # columns' 3 decimals give the size to about 1e-4 of itself, where the .json has it exactly.
        return (found, "the table's y_um,x_um columns", (f"µm per {pixel} {found:.4g}", "the table's y_um/x_um "
                "columns")) if args.mpp is None else given
    if size is None:
        return given
    if args.mpp is None:
        return size, source, (f"µm per {pixel} {size:.4g}", source)
    if not np.isclose(args.mpp, size, rtol=PIXEL_SIZE_TOLERANCE, atol=0):
        log.warning("%s: --mpp %g is used, not the %.4g µm per pixel of %s", args.centres, args.mpp, size, source)
    return given


def _link_frames_per_second(args: argparse.Namespace, recorded: dict, source: str
                            ) -> tuple[float | None, str | None, tuple[str, str] | None]:
    """The frames per second of link's MSD, where it came from, and (what, from where) to log where it was not
    given: --fps, else one over the frame interval that detect's .json records of the table's images
    (``recorded``, read from ``source``); (None, None, None) with neither, lag times in frames. --fps
    disagreeing with the .json's is used but said; images of different intervals are refused without --fps,
    said with it."""
    from ..files.tracks import PIXEL_SIZE_TOLERANCE

    given = (args.fps, "--fps", None) if args.fps is not None else (None, None, None)
    interval = _recorded_value(args.centres, {name: found.frame_interval_s for name, found in recorded.items()},
                               "frame interval", "--fps", args.fps, lambda seconds: f"{seconds:.4g} s")
    if interval is None or interval is _DIFFERENT:
        return given
    fps = 1.0 / interval
    if args.fps is None:
        return fps, source, (f"{fps:.4g} frames per second", source)
    if not np.isclose(args.fps, fps, rtol=PIXEL_SIZE_TOLERANCE, atol=0):
        log.warning("%s: --fps %g is used, not the %.4g frames per second (frames %.4g s apart) of %s", args.centres,
                    args.fps, fps, interval, source)
    return given


# What _recorded_value gives for files of different values.
_DIFFERENT = object()


def _recorded_value(centres: Path, values: dict, what: str, option: str, given: float | None, describe):
    """The one value (``what``) that detect's .json records for every file of the table ``centres``
    (``values``: by file; None, unknown, is a value too); None where there is none. Files of different
    values are refused without ``option`` (the MSD takes one), and with it (``given``) said; _DIFFERENT then."""
    distinct = list(dict.fromkeys(values.values()))
    if len(distinct) <= 1:
        return distinct[0] if distinct else None
    listed = _some_of([f"{name} {describe(value) if value is not None else 'none'}" for name, value in values.items()])
    if given is None:
        raise ParticleDetectError(f"{centres}: its files' images have different {what}s ({listed}, as detect's .json "
                                  f"records them); link one file at a time (--file NAME), or give {option}")
    log.warning("%s: %s %g is used for every file, though their images have different %ss (%s, as detect's .json "
                "records them)", centres, option, given, what, listed)
    return _DIFFERENT


def _one_file_of(args: argparse.Namespace, table):
    """The rows of ``args.file`` (--file) of a table of several files: the same file named another way (relative,
    absolute), else as evaluate --file picks it (as its file column names it, or its file name, or its stem)."""
    if args.sequence:
        raise ParticleDetectError("--file picks one movie of a table of several; --sequence makes its files one "
                                  "movie: give one of them")
    if "file" not in table.columns:
        raise ParticleDetectError(f"{args.centres}: --file picks one file of a table of several (a file column); "
                                  "this one has none")
    from ..kinds.file_pairing import chosen_file

    names = table["file"].astype(str)
    wanted = os.path.abspath(args.file)
    chosen = names.map(lambda name: os.path.abspath(name) == wanted)
    if not chosen.any():
        chosen = names == chosen_file(table, args.file, str(args.centres))
    return table[chosen].reset_index(drop=True)
