"""Detection as a job on one file: read it, detect, write its own CSV and metadata atomically.

:func:`detect_file` is a plain, picklable function of (path, options, model path), so the command
line, :mod:`distributed` and any other scheduler run the same thing. Its metadata file holds a
fingerprint of the input, the options and the model, written last: a finished output whose
fingerprint still matches is skipped when an interrupted run starts again. It also records the sha256
and size of each table written (``tables``), so a table edited by hand since is not silently replaced,
and names its input, so another file's output is not either; an input moved or copied with its outputs
(:func:`same_input`) is the same file. An input that fails later leaves its table with the metadata marked
``failed`` (:func:`mark_failed`). A stack stopped partway (Ctrl-C, a failure at a
frame) leaves the frames done so far, its metadata marked ``unfinished`` with what each input had done
(:func:`write_unfinished`); the same run again goes on from there (:func:`earlier_frames`). An output's files are
written under its lock (:func:`holding_output`): another run writing it at once never leaves its table under this
run's metadata.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd
from filelock import FileLock

from ..detection.choices import DEFAULT_TILE
from ..detection.preprocessing import is_blank
from ..errors import ParticleDetectError
from .frame_ranges import checked_frames, frames_to_detect
from ..shipped import is_shipped, model_digest
from .calibration import Calibration, file_calibration, warn_if_not_square
from .io import IMAGE_SUFFIXES, atomic_write_text, check_channel_number, is_zarr, read_image
from .centre_csv import write_centres
from .side_files import kind_tables, metadata_path, side_tables
from ..detection.threads import keeps_torch_threads

if TYPE_CHECKING:
    from ..detection.look import StackLook

GLOB_CHARACTERS = "*?["
# Beside each output, the lock held while its table and metadata are written (and, by a folder run, while it is
# detected): two runs into one folder then neither interleave their files nor detect one twice. Removed as it is let
# go; one a killed run left is hidden and named for the program and the output: recognisably ours, and harmless.
LOCK_SUFFIX = ".particle-detect.lock"


@dataclass(frozen=True)
class DetectOptions:
    """What :func:`detect_file` passes to :func:`prediction.iter_detect` (see there)."""

    threshold: float | None = None
    diameter: float | None = None
    polarity: str = "auto"
    tile: int = DEFAULT_TILE
    precision: str = "auto"
    device: str = "auto"
    batch_size: int | None = None
    compile: bool = False
    runtime: str = "auto"
    threads: int | None = None  # torch CPU threads of the process running the job (None: leave as is)
    measure: bool = False  # add trackpy's mass, size, ecc, signal, raw_mass per centre (detection/measurements.py)
    kind: str = "spheres"  # what to find: spheres, rods or chains (kinds/registry.py)
    split_close: bool = False  # also the particles the heatmap's peaks leave (prediction.iter_detect)
    channel: int | None = None  # of a file of several channels, the one detected (0 for the first; io.read_image)
    axes: str | None = None  # --axes, where they name a file's channel axis too: read as they say (io.read_image)
    # --frames: the stack's frames to detect, as frame_range writes them ("0:10", "3,7,9"); None: every frame.
    frames: str | None = None

    def __post_init__(self) -> None:
        # Refused as built, in detect()'s words: a mistake found only when detect_files ran named no line of the
        # caller's that made it.
        check_channel_number(self.channel)
        check_detection_choices(self)
        checked_frames(self.frames)

    def affecting_results(self) -> dict:
        """The options that change the centres found (device, batching and threads do not)."""
        return {"threshold": self.threshold, "diameter": self.diameter, "polarity": self.polarity,
                "tile": self.tile, "precision": self.precision, "runtime": self.runtime, "kind": self.kind,
                **({"measure": True} if self.measure else {}), **({"split_close": True} if self.split_close else {}),
                **({"channel": self.channel} if self.channel is not None else {}),
                **({"axes": self.axes} if self.axes is not None else {}),
                **({"frames": self.frames} if self.frames is not None else {})}


class RunOptions(Protocol):
    """What the resume rule (:func:`job_fingerprint`, :func:`is_finished`) reads of a run's options: a 2D run's
    :class:`DetectOptions`, or a volume folder run's (cli/volumes.VolumeRunOptions)."""

    kind: str

    def affecting_results(self) -> dict: ...


@dataclass
class FileResult:
    path: Path
    output: Path | None
    record: dict  # file, frames, centres, diameter and how it was found
    table: pd.DataFrame | None = None  # the centres, when not written to ``output``
    seconds: float = 0.0
    meta: dict = field(default_factory=dict)


# The key of an unfinished output's metadata listing, per input, the frames done and the fingerprint they were
# detected under (:func:`write_unfinished`); absent from a finished output's.
RESUME = "resume"
# The keys of an input's record counting the centres a mosaic's gaps (NaN or infinite pixels) cost: dropped within
# half a radius of one (preprocessing.GAP_REACH), and with --measure, kept with NaN measurements (measurements.
# reaching_gaps), so that a table's missing rows and empty numbers are explained.
DROPPED_AT_GAPS = "centres_dropped_at_gaps"
UNMEASURED_AT_GAPS = "centres_unmeasured_at_gaps"
# The key of an input's record, and of its resume entry, listing the frames that could not be read from its file
# (skipped, the rest detected), as a rods or chains record lists them (unreadable.detected_and_unreadable).
UNREADABLE = "unreadable_frames"


@dataclass
class FramesSoFar:
    """One input's frames detected so far, from the first to detect in order (frames 0 to ``done`` - 1, or the first
    ``done`` of ``frames``), as :func:`detect_file` adds them: what a caller keeps of a stack stopped partway (Ctrl-C,
    a failure at a frame), and, given back to :func:`detect_file`, where it goes on from."""

    total: int = 0  # the input's frames to detect (0 until detect_file has read it)
    parts: list[tuple[int, np.ndarray, np.ndarray]] = field(default_factory=list)  # (frame, centres, scores)
    # With a diameter given, the particles' look as the frames done left it (told or not: a later frame may tell
    # it); None where not known, and detect_file reads it again on those frames.
    look: StackLook | None = None
    frames: list[int] | None = None  # the stack's frames to detect, with --frames (None: every one)
    # Per frame detected, the centres dropped beside its gaps (prediction.FrameResult.dropped_at_gaps): kept with the
    # frames, so that a run gone on from them records every frame's.
    dropped_at_gaps: dict[int, int] = field(default_factory=dict)
    # The frames done that could not be read from the file (prediction.FrameResult.unreadable): skipped, so neither
    # scored nor looked at for emptiness, and a run gone on from them still says so.
    unreadable: list[int] = field(default_factory=list)

    @property
    def done(self) -> int:
        return len(self.parts)

    def dropped(self) -> int:
        """The centres dropped beside gaps in the frames done."""
        return sum(self.dropped_at_gaps.get(frame, 0) for frame, _, _ in self.parts)

    def table(self) -> pd.DataFrame:
        """The frames done as detect's ``frame,y,x,score`` table."""
        from ..detection.prediction import frames_table

        return frames_table(self.parts)

    def record(self, file: str) -> dict:
        """This input's entry in an unfinished output's ``inputs``: its frames to detect, those done and, with
        --frames or where some could not be read, which those are (the stack's own numbers)."""
        from ..detection.unreadable import detected_and_unreadable

        return {"file": file, "frames": self.total, "frames_done": self.done,
                **detected_and_unreadable([frame for frame, _, _ in self.parts], self.frames is not None,
                                          self.unreadable)}

    def resume_entry(self, file: str, fingerprint: dict | None) -> dict:
        """This input's entry in an unfinished output's ``resume`` list (:func:`unfinished_entry`)."""
        dropped = {frame: self.dropped_at_gaps[frame] for frame, _, _ in self.parts if self.dropped_at_gaps.get(frame)}
        return unfinished_entry(file, self.done, self.total, fingerprint, self.look, self.frames, dropped,
                                self.unreadable)

    def keep_first(self, count: int) -> None:
        """Keep the first ``count`` frames done (the others to be detected again), their unreadable ones with them."""
        del self.parts[count:]
        kept = {frame for frame, _, _ in self.parts}
        self.unreadable = [frame for frame in self.unreadable if frame in kept]

    @classmethod
    def of_table(cls, rows: pd.DataFrame, done: int, total: int, frames: list[int] | None = None) -> "FramesSoFar":
        """The first ``done`` of ``total`` frames to detect (``frames``, else the stack's from 0) from their rows as
        written (a frame without centres has none)."""
        by_frame = {int(frame): group for frame, group in rows.groupby("frame", sort=True)}
        empty = rows.iloc[:0]
        parts = [(frame, by_frame.get(frame, empty)[["y", "x"]].to_numpy(dtype=float),
                  by_frame.get(frame, empty)["score"].to_numpy(dtype=float))
                 for frame in (frames[:done] if frames is not None else range(done))]
        return cls(total, parts, frames=frames)


@dataclass
class EarlierFrames:
    """What an unfinished output holds of one input (:func:`earlier_frames`): its frames done, and where every
    frame was done and detect had finished with it (another input of the table stopped), its ``record`` (the
    metadata's ``inputs`` entry) and ``rows`` (every column, as they will be written again)."""

    so_far: FramesSoFar
    record: dict | None = None
    rows: pd.DataFrame | None = None


@keeps_torch_threads
def check_options(options: object) -> DetectOptions:
    """``options`` as given (None: the defaults), or a TypeError where it is something else (a dict of them)."""
    if options is None:
        return DetectOptions()
    if not isinstance(options, DetectOptions):
        raise TypeError(f"options must be a DetectOptions (file_detection.DetectOptions(diameter=12, ...)), got "
                        f"{type(options).__name__}")
    # Its fields were checked as it was built (DetectOptions is frozen), its frames named as the caller gave them.
    return replace(options, frames=checked_frames(options.frames, "options.frames"))


def check_detection_choices(options: DetectOptions) -> None:
    """The choices detect() checks of its own arguments, checked of ``options`` before any work: a folder run failed
    every file alike with the same line (``diameter="12"`` as a raw "TypeError: '>' not supported ..." per file)."""
    from ..detection.choices import check_count, check_diameter, check_names, check_polarity, check_threshold
    from ..kinds.registry import KIND_NAMES

    if options.kind not in KIND_NAMES:
        raise ParticleDetectError(f"unknown kind {options.kind!r}; choose one of {', '.join(KIND_NAMES)}")
    check_polarity(options.polarity)
    check_threshold(options.threshold)
    if options.diameter is not None:
        check_diameter(options.diameter)
    check_count(options.tile, "tile", "pixels")
    check_count(options.batch_size, "batch_size", "tiles", "by device")
    check_count(options.threads, "threads", "threads", "torch's threads as they are")
    check_names(options.device, options.precision, options.runtime)


def detected_frames(record: dict) -> list[int]:
    """The frames detect's ``record`` of an input (its metadata's ``inputs`` entry) says were detected: with
    --frames those it lists, else every frame of the stack."""
    return record.get("frames_detected", list(range(record["frames"])))


def detect_file(
    path: str | Path,
    options: DetectOptions | None = None,
    model_path: str | Path | None = None,
    output: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    name: str | Path | None = None,
    so_far: FramesSoFar | None = None,
) -> FileResult:
    """Centres of every frame of one image file, or of those ``options.frames`` names (``frames_detected`` in the
    record; frames keep the stack's numbers, so tables of several ranges concatenate into the stack's); with
    ``output``, written there as CSV with a ``.json`` of metadata beside it (both atomically, the metadata last).
    A file of several channels is read at ``options.channel`` (and refused without one). The record (and the metadata's ``inputs``)
    lists the frames detected that nothing was found in (``frames_without_centres``) and, of them, the blank ones,
    one value in every pixel (``blank_frames``); of spheres, the centres dropped beside a mosaic's gaps and, with
    ``options.measure``, those kept there without measurements (DROPPED_AT_GAPS, UNMEASURED_AT_GAPS). ``name``: the
    input as the caller named it, recorded as its ``file`` where ``path`` is another name of it (the absolute one a
    worker in another folder is sent).

    The model is loaded once per process while its files are unchanged, so a worker running many
    files loads it once.

    Spheres: ``so_far`` (a :class:`FramesSoFar`) gets each frame as it is done, so a caller whose run stops
    partway (Ctrl-C, a failure at a frame) still has them; one holding earlier frames of this input (from
    :func:`earlier_frames`) is gone on from, only the frames left detected. With ``output``, such a stop writes
    the frames done there, marked unfinished (:func:`write_unfinished`), and the same call again goes on from them
    while the input, options and model are unchanged (the fingerprint); otherwise it starts over.
    """
    import torch

    from ..detection.devices import select_device
    from ..models import load_model_cached
    from ..detection.prediction import frames_table, given_look, iter_detect
    from ..detection.unreadable import check_any_read, detected_and_unreadable
    from ..detection.runtimes import runtime_record

    start = time.perf_counter()
    options = check_options(options)
    path = Path(path)
    if not path.exists():  # said before the fingerprint (its stat) could say it as FileNotFoundError
        raise ParticleDetectError(f"{path}: file not found")
    if options.threads:
        torch.set_num_threads(int(options.threads))
    device = select_device(options.device)
    fingerprint = job_fingerprint(path, options, model_path) if output is not None else None
    if options.kind != "spheres":
        from ..detection.kinds_prediction import detect_kind_file

        image = read_image(path, lazy=True, channel=options.channel, axes=options.axes, frames=options.frames)
        calibration = said_calibration(path, name)
        table, record, meta = detect_kind_file(path, options, model_path, device, progress)
        meta = {**meta, **model_record(meta["model"])}
        record["file"] = str(name or path)  # the same dict as the metadata's inputs[0]
        record.update({**image_record(image, calibration),
                       **frames_found_empty(lambda: image, table, detected_frames(record))})
        return _finish(path, output, record, table, meta, fingerprint, start)
    model = load_model_cached(model_path, device)
    image = read_image(path, lazy=True, channel=options.channel, axes=options.axes, frames=options.frames)
    check_diameter_fits(path, image, options.diameter)
    calibration = said_calibration(path, name)
    n_frames = 1 if image.ndim == 2 else len(image)
    frames = frames_to_detect(path, image, options.frames)
    if so_far is None and output is not None:  # a folder run's output left unfinished: gone on from
        earlier = earlier_frames(output, [path], options, model_path, fingerprint).get(path)
        so_far = earlier.so_far if earlier is not None else None
    so_far = so_far if so_far is not None else FramesSoFar()
    if [frame for frame, _, _ in so_far.parts] != frames[:so_far.done]:
        so_far.keep_first(0)  # the frames of another range (a library caller's): every frame asked for is detected
        so_far.look = None
    # An input whose every frame was done (stopped as it ended) has its last detected again: the record's sizing
    # comes with a frame detected.
    so_far.keep_first(min(so_far.done, len(frames) - 1))
    so_far.total = len(frames)
    so_far.frames = frames if options.frames is not None else None
    every_frame, asked = list(range(n_frames)), frames
    # Detection's lines name the input as the caller did: a worker's absolute name read as another file's, and
    # a lone frame's "NAME frame 0: ..." failure kept it where failure_line gives the rest the caller's.
    said = str(name or path)

    def detect_frames(frames: list[int], look: StackLook | None):
        return iter_detect(
            image, model, device, options.threshold, options.diameter, options.polarity,
            frames=None if frames == every_frame else frames,
            tile=options.tile, batch_size=options.batch_size, name=said, precision=options.precision,
            heatmaps=False, compile=options.compile, runtime=options.runtime, split_close=options.split_close,
            stack_look=look, measured=options.measure,
            # Only the one frame asked for is refused where it cannot be read; the last of several, left to go
            # on with, or a frame read for the particles' look, is skipped as any of several is.
            skip_unreadable=frames != asked or len(asked) > 1)

    look = given_look(model, options.diameter) if options.diameter is not None else None
    sizing = None
    try:
        for index, result, sizing in _detected_from(detect_frames, frames[so_far.done:], look, so_far, said):
            so_far.parts.append((index, result.centres, result.scores))
            so_far.dropped_at_gaps[index] = result.dropped_at_gaps
            so_far.unreadable += [index] if result.unreadable else []
            if progress is not None:
                progress(so_far.done, so_far.total)
    except BaseException:
        if output is not None and so_far.done:
            file = str(name or path)
            keep_unfinished(Path(output), so_far.table(), {"inputs": [so_far.record(file)]},
                            [so_far.resume_entry(file, fingerprint)])
        raise
    if len(so_far.unreadable) == len(frames):  # nothing read: no frames to keep, nor to go on from
        unreadable = so_far.unreadable
        so_far.keep_first(0)
        check_any_read(unreadable, len(frames), said)
    parts = so_far.parts
    # The pixel size goes into the .json, not into y_um,x_um columns: napari opens such a TIFF at scale 1,
    # and the reader places a table with those columns by them, so its centres would land off the particles.
    table = frames_table(parts)
    measured = {}
    if options.measure:
        from ..detection.measurements import measure_table, stack_inversion, trackpy_diameter, unmeasured_rows

        invert = {"dark": True, "bright": False}.get(options.polarity)
        if invert is None:  # auto: judged from the particles here, so the metadata records what was measured
            invert = stack_inversion(image, table)
        table = measure_table(image, table, sizing.diameter, invert)
        # What trackpy needs to measure the same mass and size (trackpy.locate's diameter and invert);
        # inverted is null where nothing was found to judge the particles' polarity by.
        measured = {"measure": {"trackpy_diameter": trackpy_diameter(sizing.diameter), "inverted": invert},
                    UNMEASURED_AT_GAPS: unmeasured_rows(table)}
    record = {"file": str(name or path), "frames": n_frames, **image_record(image, calibration),
              "centres": len(table), DROPPED_AT_GAPS: so_far.dropped(),
              "diameter_px": round(sizing.diameter, 3), "diameter_source": sizing.source,
              "diameter_confidence": sizing.confidence, "diameter_reason": sizing.reason,
              "ringed": sizing.ringed, "rescale_factor": sizing.scale,
              **({"channel": options.channel} if options.channel is not None else {}),
              **detected_and_unreadable(frames, options.frames is not None, so_far.unreadable),
              **measured}
    record.update(frames_found_empty(lambda: image, table, detected_frames(record)))
    meta = {**model_record(model.path), "threshold": options.threshold if options.threshold is not None
            else model.card.threshold, "polarity": options.polarity, "device": str(device),
            "split_close": options.split_close, "inputs": [record]}
    meta["runtime"], meta["precision"] = runtime_record(options.runtime, options.precision, device, options.compile,
                                                        model)
    return _finish(path, output, record, table, meta, fingerprint, start)


def _detected_from(detect: Callable[[list[int], StackLook | None], Iterator], left: list[int],
                   look: StackLook | None, so_far: FramesSoFar, name: str = "image") -> Iterator:
    """``detect``'s items (iter_detect's) of the frames ``left`` (in the stack's order). With a diameter given
    (``look``, fresh), they are decoded with the particles' look as the stack's frames before the first left it,
    told or not, as in an uninterrupted run of the whole stack (the frames done before, or those before a --frames
    range): the look ``so_far`` kept, else one read again on those frames, from frame 0 until one tells it
    (look.StackLook), said in one line about ``name`` when frame 0 does not tell it: the frames read for it are
    detected and not kept, and a stack of blank or sparse frames may need many. ``so_far.look`` is the look once
    known, for a stop to keep."""
    first = left[0]
    kept, so_far.look = so_far.look, None
    if look is not None and first and kept is not None and kept.diameter == look.diameter:
        look = kept
    elif look is not None and first:
        items = detect([0, *left], look)  # frame 0 tells most stacks' look: then one run goes on with the rest
        next(items)  # its centres are kept already, or not asked for
        if look.ringed is None and first > 1:
            items.close()
            earlier, read = detect(list(range(1, first)), look), 1
            for _ in earlier:
                read += 1
                if look.ringed is not None:
                    break
            earlier.close()
            logging.getLogger(__name__).info(
                "%s: frame 0 does not tell the particles' look (ringed or not): read on frames 0-%d before frame %d, "
                "as a run of the whole stack reads it (%d frames detected and not kept)", name, read - 1, first, read)
            items = detect(left, look)
        so_far.look = look
        yield from items
        return
    so_far.look = look
    yield from detect(left, look)


def said_calibration(path: Path, name: str | Path | None = None) -> Calibration:
    """``path``'s calibration (:func:`calibration.file_calibration`), its pixels said in a warning (shown with
    --quiet) where its metadata says they are not square, which detection reads as square: nothing else tells the
    user, least of all with a diameter given, which the size estimate's own doubt does not cover. Said here, once per
    file, so that the command line, its folder runs and library callers all hear it; not on a dask worker, whose log
    may never reach the user (a remote cluster's): the caller given the record back says it
    (:func:`warn_if_not_square`)."""
    calibration = file_calibration(path)
    if not on_dask_worker():
        warn_if_not_square(name or path, calibration)
    return calibration


def on_dask_worker() -> bool:
    """Whether this runs as a task of a dask worker (distributed.get_worker finds one)."""
    import sys

    distributed = sys.modules.get("distributed")  # never imported: no worker (and no import's cost)
    if distributed is None:
        return False
    try:
        distributed.get_worker()
    except ValueError:
        return False
    return True


def image_record(image, calibration: Calibration) -> dict:
    """What detect's .json records of an input image beside its centres: its ``shape`` as [frames, height,
    width] (evaluate --border and link read it where the image is not at hand), and the pixel size and frame
    interval its metadata gives (``calibration``, :func:`calibration.file_calibration`; null where unknown)."""
    height, width = (int(n) for n in image.shape[-2:])
    frames = 1 if image.ndim == 2 else int(image.shape[0])
    return {"shape": [frames, height, width], **calibration.record()}


def model_record(model: str | Path) -> dict:
    """Detect's metadata of the model it loaded from ``model``: that name, and the file's absolute path, since a
    bare name (``unet``) may be a file in the working folder as well as the shipped model."""
    return {"model": str(model), "model_file": str(Path(model).resolve())}


def frames_found_empty(image: Callable[[], object], table: pd.DataFrame, frames: Iterable[int]) -> dict:
    """``frames_without_centres``: the ``frames`` detected of ``table`` (frame column) in which nothing was found; and
    ``blank_frames``: those of them that are one value in every pixel, or NaN or infinite in (almost) every one
    (a dropped or shutter frame, skipped with a warning: preprocessing.is_blank). ``image`` gives the image
    (read only when some frame came out empty)."""
    if "frame" in table.columns:
        found = set(table["frame"].astype(int))
    else:
        found = {0} if len(table) else set()  # a table of one image
    empty = [index for index in frames if index not in found]
    blank = []
    if empty:
        pixels = image()
        for index in empty:
            frame = np.asarray(pixels if pixels.ndim == 2 else pixels[index])
            if frame.size and is_blank(frame):
                blank.append(index)
    return {"frames_without_centres": empty, "blank_frames": blank}


def _finish(path: Path, output: str | Path | None, record: dict, table: pd.DataFrame, meta: dict,
            fingerprint: dict | None, start: float) -> FileResult:
    """The result, or with ``output`` the table and its metadata written there (metadata last)."""
    if output is None:
        return FileResult(path, None, record, table, time.perf_counter() - start, meta)
    output = Path(output)
    # Under the output's lock: another run writing it at once could otherwise land its table between this table
    # and the digests this metadata records of it.
    with holding_output(output):
        meta = _write_output(output, record, table, meta, fingerprint)
    return FileResult(path, output, record, None, time.perf_counter() - start, meta)


def lock_path(output: Path) -> Path:
    """The hidden file beside ``output`` whose lock a run holds while it detects into it (:func:`holding_output`)."""
    return Path(output).parent / f".{Path(output).name}{LOCK_SUFFIX}"


@contextlib.contextmanager
def holding_output(output: Path, blocking: bool = True) -> Iterator[None]:
    """``output``'s lock (LOCK_SUFFIX) held for the block, its folder made as writing the output would; taken again
    by its holder at no cost (a folder run holds it while detect_file writes: one instance per output in a process).
    Not ``blocking``: filelock.Timeout at once where another process holds it."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path(output)), is_singleton=True)
    lock.acquire(blocking=blocking)
    try:
        yield
    finally:
        # Its file removed by the last hold, while still held: a folder of outputs is left as it was, and filelock
        # takes a removed file for not held, so no two runs ever hold one each.
        if lock.lock_counter == 1:
            Path(lock.lock_file).unlink(missing_ok=True)
        lock.release()


def _write_output(output: Path, record: dict, table: pd.DataFrame, meta: dict, fingerprint: dict | None) -> dict:
    """Write ``table`` and its metadata at ``output`` (the metadata last); the metadata written."""
    # First the metadata without its fingerprint: a run killed while the tables are written leaves them
    # marked as detect's, unfinished, so resuming does them again instead of refusing to replace them.
    table_there = output.exists()
    atomic_write_text(metadata_path(output), json.dumps({**meta, "fingerprint": None}, indent=2))
    try:
        if record.get("kind", "spheres") != "spheres":
            from ..kinds.registry import write_kind_table

            write_kind_table(table, output, record["kind"])
        else:
            write_centres(table, output)
    except BaseException:
        if not table_there and not output.exists():  # a full disk: no table, so no metadata of one either
            metadata_path(output).unlink(missing_ok=True)
        raise
    # The metadata, with the fingerprint, goes last: its presence marks the output as finished.
    meta = {**meta, "tables": table_digests(output, record.get("kind", "spheres"))}
    atomic_write_text(metadata_path(output), json.dumps({**meta, "fingerprint": fingerprint}, indent=2))
    return meta


def file_digest(path: Path) -> dict:
    """Size and sha256 of a file, read in blocks (a table of millions of centres need not fit in memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"size": Path(path).stat().st_size, "sha256": digest.hexdigest()}


def tables_by_role(output: Path, kind: str) -> dict[str, Path]:
    """The tables a ``kind`` run writes at ``output`` by their key in its metadata's ``tables``: by role, not
    name, so that an output renamed with its metadata stays checked."""
    return dict(zip(("table", "per_chain_table"), [Path(output)] + side_tables(output, kind)))


def table_digests(output: Path, kind: str) -> dict:
    """The ``tables`` entry of detect's metadata: size and sha256 of each table just written at ``output``."""
    return {role: file_digest(path) for role, path in tables_by_role(output, kind).items()}


def edited_tables(output: Path) -> list[Path]:
    """The tables at ``output`` (the CSV, a chains run's per-chain table) that differ from what detect
    recorded writing there: edited by hand since, so replacing them would lose that work. Of an output an
    earlier version wrote, whose metadata records no digests, as what it does record tells
    (:func:`edited_since_earlier_version`)."""
    output = Path(output)
    meta = read_metadata(output)
    if output == metadata_path(output) or not is_detect_metadata(meta):  # not detect's: check_targets says so
        return []
    recorded = meta.get("tables")
    if not isinstance(recorded, dict):
        return edited_since_earlier_version(output, meta)
    edited = []
    for role, path in tables_by_role(output, "chains").items():  # every role: whichever kind wrote them
        written = recorded.get(role)
        if not isinstance(written, dict) or not path.is_file():  # none written, or gone: nothing to lose
            continue
        if path.stat().st_size != written.get("size") or file_digest(path)["sha256"] != written.get("sha256"):
            edited.append(path)
    return edited


def edited_since_earlier_version(output: Path, meta: dict) -> list[Path]:
    """The tables at ``output`` that an earlier version of detect wrote (its metadata ``meta`` records no digests)
    and that were changed since, as what ``meta`` does record tells: a table whose data rows are not as many as it
    records (each input's ``centres``, or a rods or chains run's ``rows``; of a chains run's per-chain table, a row
    per chain of each frame: its ``objects``, at least), or one written more than a couple of seconds after
    ``meta`` (those versions wrote the tables first). None of an output left unfinished (:func:`_left_unfinished`)."""
    if _left_unfinished(meta):
        return []
    records = [r for r in meta.get("inputs") or [] if isinstance(r, dict)]
    # Per table, the data rows recorded, and whether exactly those (else at least those).
    recorded: dict[Path, tuple[int | None, bool]] = {Path(output): (_recorded_count(records, "rows", "centres"), True)}
    if meta.get("kind") == "chains":  # its per-chain table: only a chains run's is detect's
        one_frame_each = all(r.get("frames") == 1 for r in records)
        recorded[kind_tables(output)] = (_recorded_count(records, "objects"), one_frame_each)
    edited = []
    for table, (count, exactly) in recorded.items():
        if not table.is_file():  # gone: nothing to lose
            continue
        rows = _data_rows(table) if count is not None else None
        if _written_after_metadata(table, output) or (rows is not None and (rows != count if exactly else
                                                                              rows < count)):
            edited.append(table)
    return edited


def _left_unfinished(meta: dict) -> bool:
    """Whether detect's metadata ``meta`` is of an output not finished: marked ``unfinished``, or a folder run's
    without its fingerprint (not one marked failed since, whose table is as a finished run wrote it). A run killed
    before its end left it, written before the tables, so those are detect's whatever they hold."""
    return bool(meta.get("unfinished")) or (meta.get("fingerprint", {}) is None and "failed" not in meta)


def _recorded_count(records: list[dict], *keys: str) -> int | None:
    """The sum over ``records`` (a metadata's ``inputs``) of each one's count under the first of ``keys`` it has;
    None where one has none (an earlier version that did not record it)."""
    counts = [next((r[key] for key in keys if isinstance(r.get(key), int)), None) for r in records]
    return sum(counts) if records and None not in counts else None


def _data_rows(table: Path) -> int | None:
    """The rows of a CSV below its header, counted by its lines that are not blank, not parsed: a table of
    millions of centres is counted in a moment. None where it cannot be read (its replacement says why)."""
    try:
        with open(table, "rb") as handle:
            return max(0, sum(1 for line in handle if line.strip()) - 1)
    except OSError:
        return None


# How much newer than its metadata a table of an earlier version's output may be and still be as detect wrote it:
# those versions wrote the tables, then the metadata, so an untouched table is older; copied without their dates
# (cp, an unpacked archive), each file has its copy's time, a large table copied after its metadata a little later.
EARLIER_TABLE_SLACK_S = 2.0
EARLIER_TABLE_COPY_BYTES_PER_S = 20 * 1024**2


def _written_after_metadata(table: Path, output: Path) -> bool:
    """Whether ``table`` was last written more than EARLIER_TABLE_SLACK_S (and its copy's time) after ``output``'s
    metadata."""
    try:
        written, meta_written = table.stat(), metadata_path(output).stat()
    except OSError:
        return False
    slack = EARLIER_TABLE_SLACK_S + written.st_size / EARLIER_TABLE_COPY_BYTES_PER_S
    return written.st_mtime > meta_written.st_mtime + slack


def check_unedited(outputs: Iterable[Path], remedy: str = "give --replace-edited") -> None:
    """One ParticleDetectError naming the first table among ``outputs`` (and their per-chain tables)
    changed since detect wrote it; called before any work, and before :func:`check_targets` removes a
    stale per-chain table. Outputs the run skips as finished need no check: nothing replaces them.
    ``remedy``: how the caller replaces it anyway (the command line's option, a library call's argument): an
    option of its own, not --overwrite, so that one given to get past another refusal loses no hand edits."""
    for output in outputs:
        edited = edited_tables(output)
        if edited:
            raise ParticleDetectError(f"{edited[0]}: changed since detect wrote it (edited by hand?); move it, or "
                                      f"{remedy} to replace it")


def recorded_inputs(meta: dict | None) -> list[str]:
    """The input files whose results detect's metadata ``meta`` (as :func:`read_metadata` read it) describes:
    a finished folder-run output's fingerprint names its input's absolute path; an unfinished or failed one
    (no fingerprint) and a table of several files list them under ``inputs``, as they were named."""
    if not is_detect_metadata(meta):
        return []
    fingerprint = meta.get("fingerprint")
    fingerprinted = fingerprint.get("input") if isinstance(fingerprint, dict) else None
    if isinstance(fingerprinted, dict) and fingerprinted.get("path"):
        return [str(fingerprinted["path"])]
    inputs = meta.get("inputs")
    return [str(r["file"]) for r in inputs if isinstance(r, dict) and "file" in r] if isinstance(inputs, list) else []


def recorded_fingerprints(meta: dict | None) -> list[dict]:
    """The fingerprints (:func:`job_fingerprint`) in detect's metadata ``meta`` (as :func:`read_metadata` read it):
    a finished output's, or those an unfinished one's frames were detected under (its ``resume`` entries)."""
    if not is_detect_metadata(meta):
        return []
    resume = meta.get(RESUME)
    entries = [meta.get("fingerprint")] + ([e.get("fingerprint") for e in resume if isinstance(e, dict)]
                                           if isinstance(resume, list) else [])
    return [entry for entry in entries if isinstance(entry, dict) and isinstance(entry.get("input"), dict)]


def check_same_inputs(paths: Iterable[Path], outputs: Iterable[Path], remedy: str = "give --overwrite") -> None:
    """One ParticleDetectError naming the first of ``outputs`` that holds the results of another file than its
    input in ``paths`` (``res/x.csv`` of ``day1/x.tif``, where ``day2/x.tif``'s would go), before any work:
    replacing it would lose that file's results. Files compare by absolute path, links resolved, or, where the
    output records its input's size and date (a fingerprint), as :func:`same_input` does: an input folder moved
    or copied together with its output folder is the same file, one moved alone (``day1`` renamed ``archive``)
    is another. A relative name recorded without a fingerprint (an output that failed) is read from the working
    folder. ``remedy``: how the caller replaces it anyway."""
    for path, output in zip(paths, outputs):
        if not Path(output).exists():  # no results there
            continue
        meta = read_metadata(output)
        held = recorded_inputs(meta)
        if not held:  # none whose input is known
            continue
        if len(held) == 1 and (Path(held[0]).resolve() == Path(path).resolve() or any(
                same_input(fingerprint["input"], path, output) for fingerprint in recorded_fingerprints(meta))):
            continue
        others = len(held) - 1
        more = f" and {others} more file{'s' if others != 1 else ''}" if others else ""
        raise ParticleDetectError(f"{output}: holds the results of another file, {held[0]}{more}, which {path}'s "
                                  f"would replace; choose another output folder, or {remedy} to replace them")


def mark_failed(output: Path, path: Path, reason: str) -> bool:
    """Record in the metadata of ``output``, an earlier output of detect, that its input ``path`` (as the caller
    named it) failed this time for ``reason``: the table stays (it may hold edits, or another file's results)
    but is no longer finished, and says it does not describe ``path`` as it is now (``failed``: one entry of
    ``file`` and ``reason``, as a table of several files lists its failures). Whether there was one to mark."""
    if not Path(output).exists():
        return False
    meta = read_metadata(output)
    if not is_detect_metadata(meta):
        return False
    marked = {**meta, "fingerprint": None, "failed": [{"file": str(path), "reason": reason}]}
    with holding_output(output):  # not between another run's table and its metadata
        atomic_write_text(metadata_path(output), json.dumps(marked, indent=2))
    return True


def input_signature(path: Path) -> dict:
    """Size and modification time of a file, or of every file in a folder (a zarr store)."""
    path = Path(path)
    if path.is_dir():
        size, latest, count = 0, 0, 0
        for root, _, names in os.walk(path):
            for name in names:
                stat = os.stat(os.path.join(root, name))
                size, latest, count = size + stat.st_size, max(latest, stat.st_mtime_ns), count + 1
        return {"size": size, "mtime_ns": latest, "files": count}
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def job_fingerprint(path: Path, options: RunOptions, model_path: str | Path | None) -> dict:
    """What a finished output was made from: the input's signature, the options, the model's files. The input's
    (and a user's model's) absolute path is where it was then: :func:`same_input` (:func:`same_model`) also takes
    it moved with its output since."""
    return {"input": {"path": str(Path(path).resolve()), **input_signature(path)},
            "options": options.affecting_results(), "model": model_fingerprint(model_path, options.kind)}


def same_input(recorded: object, path: Path, output: Path, signature: dict | None = None) -> bool:
    """Whether ``recorded`` (a fingerprint's ``input``: :func:`job_fingerprint`) is the file ``path`` now, where it
    was or moved or copied together with ``output`` since: its path below the folder it shares with ``output``'s
    folder (``images/x.tif`` of ``results/x.csv``; ``ls/stack.tif`` of ``table.csv`` beside ``ls``) ends the
    recorded path, and its size and modification time (:func:`input_signature`; ``signature``, where the caller
    has it) are the recorded ones.

    Below the folder shared with the output, not the run's inputs' common folder: a single table's inputs and a
    folder run's alike, whatever else the run names; and a file of that name elsewhere (``day2/x.tif`` where
    ``day1/x.tif``'s results are, or ``day1`` renamed ``archive`` without its outputs) stays another file."""
    if not isinstance(recorded, dict):
        return False
    try:
        signature = signature if signature is not None else input_signature(path)
    except OSError:  # gone or unreadable now
        return False
    return ({key: value for key, value in recorded.items() if key != "path"} == signature
            and _same_place_below(recorded.get("path"), path, output))


def _same_place_below(recorded: object, path: Path, output: Path) -> bool:
    """Whether the absolute path ``recorded`` ends with ``path``'s path below the folder it shares with
    ``output``'s folder (:func:`same_input`): where it is now, or where it was before both moved together."""
    below = _below_shared_folder(path, output) if isinstance(recorded, str) else None
    return bool(below) and Path(recorded).parts[-len(below):] == below


def _below_shared_folder(path: Path, output: Path) -> tuple[str, ...] | None:
    """The parts of ``path``'s absolute path below the folder it shares with ``output``'s folder (its whole path
    where they share none); None where either cannot be resolved."""
    try:
        resolved = Path(path).resolve()
        folder = Path(output).resolve().parent
    except (OSError, RuntimeError):  # RuntimeError: a loop of links
        return None
    try:
        return resolved.relative_to(os.path.commonpath([resolved, folder])).parts
    except ValueError:  # on another drive than the output: nothing shared, so its whole path
        return resolved.parts


def same_model(recorded: object, now: dict, output: Path) -> bool:
    """Whether a fingerprint's ``model`` (:func:`model_fingerprint`) is the one ``now`` names: the same, a shipped
    model recorded under an earlier version's digest of it (:func:`_earlier_shipped_digest`), or a model file of the
    user's moved or copied together with ``output`` since, as :func:`same_input` takes an input (its path below the
    folder shared with the output, its files' sizes and dates unchanged)."""
    if recorded == now:
        return True
    if isinstance(recorded, dict) and "shipped" in now and recorded.keys() == now.keys():
        return recorded["shipped"] == now["shipped"] and _earlier_shipped_digest(now["shipped"], recorded["sha256"])
    return (isinstance(recorded, dict) and "path" in now and recorded.keys() == now.keys()
            and all(recorded[key] == now[key] for key in now if key != "path")
            and _same_place_below(recorded["path"], Path(now["path"]), output))


def _earlier_shipped_digest(name: str, digest: object) -> bool:
    """Whether ``digest`` is one an earlier version recorded of the shipped model ``name`` as it detects now
    (shipped.earlier_digests): its outputs are not detected again for a card rewritten since."""
    from ..shipped import WEIGHTS_DIR, earlier_digests

    try:
        return isinstance(digest, str) and digest in earlier_digests(WEIGHTS_DIR / f"{name}.pt")
    except OSError:
        return False


def moved_from(path: Path, output: Path, meta: dict | None = None) -> str | None:
    """Where ``output``'s metadata (``meta``, where the caller has read it) records ``path``, its input, where that
    is another place than now: moved or copied with its output since (:func:`same_input`); None where it records it
    here, or records another file."""
    here = str(Path(path).resolve())
    meta = meta if meta is not None else read_metadata(output)
    for fingerprint in recorded_fingerprints(meta):
        recorded = fingerprint["input"]
        if recorded.get("path") != here and same_input(recorded, path, output):
            return recorded["path"]
    return None


def tell_moved(paths: Iterable[Path], outputs: Iterable[Path]) -> None:
    """Say in one line which of ``paths`` their ``outputs`` (one each) record at another place (:func:`moved_from`):
    taken as the same files, so that a user who moved a folder of results knows why they were kept or gone on from.
    The new place is recorded at once in a finished output's metadata (:func:`record_new_place`), so that the next
    run, which skips it, says nothing of it again; in any other when it is next written."""
    records = [(path, output, read_metadata(output)) for path, output in zip(paths, outputs)]
    moved = [(path, output, meta, old) for path, output, meta in records
             if (old := moved_from(path, output, meta)) is not None]
    if moved:
        path, _, _, old = moved[0]
        others = len(moved) - 1
        more = (f", and {others} more input{'s' if others != 1 else ''} alike: taken as the same files" if others
                else ": taken as the same file")
        logging.getLogger(__name__).info("moved: %s is now %s (same name, size and date)%s", old, path, more)
    for path, output, meta, _ in moved:
        record_new_place(path, output, meta)


def record_new_place(path: Path, output: Path, meta: dict | None = None) -> bool:
    """Record in the metadata of ``output`` (``meta``, where the caller has read it), finished from ``path`` before
    both were moved or copied together (:func:`same_input`), where they are now: its fingerprint's input, and a model
    file of the user's moved with them (:func:`same_model`; also its ``model_file``). Atomically, and nothing else:
    the table is not touched, and the digests that tell it edited by hand stay; an earlier version's record, without
    those digests, keeps its date, which tells a table edited since (:func:`edited_since_earlier_version`). Not one
    that cannot be written (a read-only folder): that is said moved again. Whether it was recorded."""
    meta = meta if meta is not None else read_metadata(output)
    fingerprint = meta.get("fingerprint") if is_detect_metadata(meta) else None
    if not (isinstance(fingerprint, dict) and same_input(fingerprint.get("input"), path, output)):
        return False
    below = _below_shared_folder(path, output)
    old_input, new_input = Path(fingerprint["input"]["path"]), Path(path).resolve()
    if not below or old_input == new_input:
        return False
    # The folder the input and output were moved from, and the one they are in now.
    old_folder, new_folder = old_input.parents[len(below) - 1], new_input.parents[len(below) - 1]
    moved = {**fingerprint, "input": {**fingerprint["input"], "path": str(new_input)}}
    model = fingerprint.get("model")
    old_model = Path(model["path"]) if isinstance(model, dict) and isinstance(model.get("path"), str) else None
    if old_model is not None and old_model.is_relative_to(old_folder):
        new_model = new_folder / old_model.relative_to(old_folder)
        try:
            model_now = model_fingerprint(new_model)
        except (OSError, ValueError, ParticleDetectError):  # unreadable there: not taken as moved with them
            model_now = None
        if model_now is not None and same_model(model, model_now, output):
            moved["model"] = model_now
            if meta.get("model_file") == str(old_model):
                meta = {**meta, "model_file": str(new_model)}
    try:
        _rewrite_metadata(output, {**meta, "fingerprint": moved}, keep_date=not isinstance(meta.get("tables"), dict))
    except OSError:
        return False
    return True


def _rewrite_metadata(output: Path, meta: dict, keep_date: bool) -> None:
    """Write ``meta`` over ``output``'s metadata atomically; ``keep_date``: with the modification time it had."""
    record = metadata_path(output)
    written = record.stat() if keep_date else None
    atomic_write_text(record, json.dumps(meta, indent=2))
    if written is not None:
        os.utime(record, ns=(written.st_atime_ns, written.st_mtime_ns))


# The options a fingerprint of this version records of every run, whatever its options (of 2D images, the kind too):
# a fingerprint without one was written by an earlier version, in another form.
OPTIONS_OF_EVERY_FINGERPRINT = ("runtime", "kind")


def predates_this_version(output: Path, options: RunOptions, model_now: dict | None) -> bool:
    """Whether ``output``, finished, was recorded by an earlier version in a form no run of this version finds
    unchanged (:func:`is_finished`), whatever its options: its metadata records no tables (their digests, which this
    version records) and no fingerprint (an earlier version's volume), or one without an option this version records
    of every run, or naming the shipped model by its file in that version's install (this version names it by its
    content: ``model_now``, the run's :func:`model_fingerprint`, None where it cannot be read). Not one recorded in
    this version's form by a run of other options or another model, nor one left unfinished or marked failed, nor
    one whose table is gone: those are detected again for that."""
    from ..shipped import WEIGHTS_DIR

    meta = read_metadata(output)
    if not Path(output).is_file() or not is_detect_metadata(meta) or "tables" in meta or _left_unfinished(meta):
        return False
    recorded = meta.get("fingerprint")
    if not isinstance(recorded, dict):
        return "fingerprint" not in meta
    recorded_options = recorded.get("options")
    if not isinstance(recorded_options, dict):
        return True
    options_now = options.affecting_results()
    if any(key in options_now and key not in recorded_options for key in OPTIONS_OF_EVERY_FINGERPRINT):
        return True
    recorded_model = recorded.get("model")
    if model_now is None or "shipped" not in model_now or not isinstance(recorded_model, dict):
        return False
    shipped_file = Path(str(recorded_model.get("path", "")))
    return shipped_file.parent.name == WEIGHTS_DIR.name and shipped_file.stem == model_now["shipped"]


def tell_earlier_versions(folder: Path, outputs: Iterable[Path], options: RunOptions,
                          model_path: str | Path | None) -> None:
    """Say in one line how many of ``outputs``, those a folder run into ``folder`` detects again, an earlier
    version recorded in another form (:func:`predates_this_version`): a user who sees files finished before detected
    again, for hours perhaps, knows why."""
    try:
        model_now = model_fingerprint(model_path, options.kind)  # once for the run, not once an output
    except (OSError, ValueError):  # the model unreadable now: loading it says why
        model_now = None
    older = [output for output in outputs if predates_this_version(output, options, model_now)]
    if older:
        logging.getLogger(__name__).info("%s: %d output%s written by an earlier version (%s record predates this "
                                         "version's): detected again", folder, len(older),
                                         "" if len(older) == 1 else "s", "its" if len(older) == 1 else "their")


def model_fingerprint(model_path: str | Path | None, kind: str = "spheres") -> dict:
    """The model ``model_path`` names (None: the shipped one of ``kind``) as each output's fingerprint names it
    (:func:`job_fingerprint`), and a folder run's record: a shipped model by its name and sha256, the same model in
    every install (a worker installed elsewhere reads its own copy, at another path and time); any other by its
    absolute path and its weights' and card's signatures."""
    from ..models.registry import weights_path
    from ..shipped import WEIGHTS_DIR

    if model_path is None and kind != "spheres":
        model_path = WEIGHTS_DIR / f"{kind}.pt"
    model = weights_path(model_path)
    if model.exists() and is_shipped(model):
        return {"shipped": model.stem, "sha256": model_digest(model)}
    return {"path": str(model.resolve()),
            **{part.name: input_signature(part) for part in (model, model.with_suffix(".json")) if part.exists()}}


def is_finished(path: Path, output: Path, options: RunOptions, model_path: str | Path | None) -> bool:
    """Whether ``output``, its metadata and (for chains) its per-chain table exist and were made from this
    input, options and model. A per-chain table deleted since is made again with the rest."""
    if not all(p.exists() for p in [Path(output), metadata_path(output)] + side_tables(output, options.kind)):
        return False
    meta = read_metadata(output)
    if meta is None:
        return False
    return same_fingerprint(meta.get("fingerprint"), path, options, model_path, output=output)


def same_fingerprint(recorded: object, path: Path, options: RunOptions, model_path: str | Path | None,
                     fingerprint: dict | None = None, output: Path | None = None) -> bool:
    """Whether a ``recorded`` fingerprint is that of ``path``, ``options`` and the model now (``fingerprint``:
    :func:`job_fingerprint`'s, where the caller has it): the resume rule of finished and unfinished outputs alike.
    With ``output`` (where it was recorded), an input or a model file moved or copied with it since is the same
    (:func:`same_input`, :func:`same_model`)."""
    try:
        fingerprint = fingerprint if fingerprint is not None else job_fingerprint(path, options, model_path)
        # Through JSON, as it was written: tuples become lists, so an unchanged fingerprint compares equal.
        now = json.loads(json.dumps(fingerprint))
    except (OSError, ValueError):  # its input or model unreadable now: not finished; detecting it says why
        return False
    if recorded == now:
        return True
    if output is None or not isinstance(recorded, dict) or recorded.keys() != now.keys():
        return False
    signature = {key: value for key, value in now["input"].items() if key != "path"}
    return (all(recorded[key] == now[key] for key in now if key not in ("input", "model"))
            and same_input(recorded["input"], path, output, signature)
            and same_model(recorded["model"], now["model"], output))


def unfinished_entry(file: str, done: int, total: int, fingerprint: dict | None,
                     look: StackLook | None = None, frames: list[int] | None = None,
                     dropped: dict[int, int] | None = None, unreadable: list[int] | None = None) -> dict:
    """One input's entry in an unfinished output's ``resume`` list: its ``file`` as the metadata's ``inputs`` name
    it, its frames ``done`` of ``total``, the fingerprint (:func:`job_fingerprint`) they were detected under and,
    where known, the particles' ``look`` they left (:attr:`FramesSoFar.look`; without it, read again on them). With
    --frames, ``frames``: the stack's frames to detect, the first ``done`` of them done. ``dropped``: the centres
    dropped beside gaps in the frames done that dropped any, by frame (:attr:`FramesSoFar.dropped_at_gaps`).
    ``unreadable``: the frames done that could not be read (:attr:`FramesSoFar.unreadable`)."""
    return {"file": file, "frames_done": done, "frames": total, "fingerprint": fingerprint,
            **({"look": look.state()} if look is not None else {}),
            **({"frames_to_detect": frames} if frames is not None else {}),
            **({DROPPED_AT_GAPS: {str(frame): count for frame, count in dropped.items()}} if dropped else {}),
            **({UNREADABLE: unreadable} if unreadable else {})}


def dropped_by_frame(entry: dict) -> dict[int, int] | None:
    """A ``resume`` entry's centres dropped beside gaps by frame (:func:`unfinished_entry`'s ``dropped``), or None
    where they are garbled."""
    dropped = entry.get(DROPPED_AT_GAPS, {})
    if not isinstance(dropped, dict) or not all(isinstance(n, int) and key.isdigit() for key, n in dropped.items()):
        return None
    return {int(frame): count for frame, count in dropped.items()}


def write_unfinished(output: Path, table: pd.DataFrame, meta: dict, resume: list[dict]) -> None:
    """Write the frames a run had done when it stopped (``table``, of spheres) at ``output``, its metadata ``meta``
    marked ``unfinished`` with ``resume`` (per input: :func:`unfinished_entry`), each file atomically. The metadata
    goes first without ``resume`` and again last with it and the table's digest: a run killed in between leaves
    outputs that say detect wrote them but offer nothing to go on from, so the same command starts over. The
    table is written with every digit, so that going on reads back exactly what was found (and measures, with
    --measure, at the very positions an uninterrupted run would); the finished table is rounded as ever."""
    output = Path(output)
    with holding_output(output):  # as a finished output's writing (_finish)
        atomic_write_text(metadata_path(output), json.dumps({**meta, "unfinished": True}, indent=2))
        write_centres(table, output, float_format=None)
        atomic_write_text(metadata_path(output), json.dumps(
            {**meta, "unfinished": True, RESUME: resume, "tables": table_digests(output, "spheres")}, indent=2))


def keep_unfinished(output: Path, table: pd.DataFrame, meta: dict, resume: list[dict]) -> bool:
    """:func:`write_unfinished` while a stop (Ctrl-C, a failure) is on its way out: whether the frames were kept.
    A second Ctrl-C or a write failing (the disk full) leaves the files whole, old or new (atomic writes), and
    must not hide the stop it came in."""
    try:
        write_unfinished(output, table, meta, resume)
    except (OSError, KeyboardInterrupt, ParticleDetectError):
        return False
    return True


def earlier_frames(output: Path, paths: Iterable[Path], options: DetectOptions, model_path: str | Path | None,
                   fingerprint: dict | None = None) -> dict[Path, EarlierFrames]:
    """What an unfinished ``output`` (:func:`write_unfinished`) holds of each of ``paths``: its frames done, for
    the inputs whose file, options and model are those it was detected with (the fingerprint, as
    :func:`is_finished` compares it, an input moved or copied with ``output`` since the same; ``fingerprint``: the
    one input's, where the caller has it) while its table is as detect wrote it (the sha256 its metadata records).
    Any other input, and every one of an output edited since, finished or not detect's, is absent: detected from
    its first frame (:func:`why_started_over` says why)."""
    output = Path(output)
    meta = read_metadata(output)
    resume = meta.get(RESUME) if is_detect_metadata(meta) and meta.get("unfinished") else None
    if not isinstance(resume, list) or not isinstance(meta.get("tables"), dict) or not output.is_file():
        return {}
    try:
        if edited_tables(output):
            return {}
        # round_trip: the very numbers written (pandas' fast parser may miss the last digit).
        table = pd.read_csv(output, float_precision="round_trip")
    except (OSError, ValueError):
        return {}
    if not {"frame", "y", "x", "score"} <= set(table.columns):
        return {}
    records = {r["file"]: r for r in meta.get("inputs", []) if isinstance(r, dict) and "file" in r}
    entries = [e for e in resume if isinstance(e, dict) and isinstance(e.get("file"), str)]
    found = {}
    for path in paths:
        try:
            now = fingerprint if fingerprint is not None else job_fingerprint(path, options, model_path)
        except (OSError, ValueError):  # unreadable now: detecting it says why
            continue
        # By fingerprint, which names the file by its absolute path: named otherwise this time, or moved with the
        # output since, it is the same file.
        entry = next((e for e in entries if same_fingerprint(e.get("fingerprint"), path, options, model_path, now,
                                                             output)), None)
        if entry is None:
            continue
        done, total, frames = entry.get("frames_done"), entry.get("frames"), entry.get("frames_to_detect")
        if not (isinstance(done, int) and isinstance(total, int) and 0 < done <= total):
            continue
        if frames is not None and not (isinstance(frames, list) and len(frames) == total
                                       and all(isinstance(frame, int) for frame in frames)):
            continue
        rows = table[table["file"] == entry["file"]].drop(columns="file") if "file" in table.columns else table
        if len(rows) and not set(rows["frame"].astype(int)) <= set(frames[:done] if frames is not None
                                                                   else range(done)):
            continue  # rows of frames not done: not a table it wrote
        record = records.get(entry["file"])
        finished = done == total and isinstance(record, dict) and "frames_done" not in record
        dropped = dropped_by_frame(entry)
        if dropped is None:
            continue
        so_far = FramesSoFar.of_table(rows, done, total, frames)
        unreadable = entry.get(UNREADABLE, [])
        if not (isinstance(unreadable, list) and all(isinstance(frame, int) for frame in unreadable)
                and set(unreadable) <= {frame for frame, _, _ in so_far.parts}):
            continue
        so_far.dropped_at_gaps, so_far.unreadable = dropped, unreadable
        if "look" in entry:
            from ..detection.look import StackLook

            so_far.look = StackLook.of_state(entry["look"])
        found[path] = EarlierFrames(so_far, record if finished else None,
                                    rows.reset_index(drop=True) if finished else None)
    return found


def why_started_over(output: Path, paths: Iterable[Path], options: DetectOptions,
                     model_path: str | Path | None) -> str:
    """Why the unfinished ``output`` offers none of ``paths`` frames to go on from (:func:`earlier_frames` found
    none), as the start of a line about it: edited since, or which of the inputs, options and model its frames were
    detected with (each as :func:`same_fingerprint` compares it) differ from these."""
    output, paths = Path(output), list(paths)
    if edited_tables(output):
        return "left unfinished, and edited since"
    recorded = recorded_fingerprints(read_metadata(output))
    # Through JSON, as they were written (same_fingerprint).
    options_now = json.loads(json.dumps(options.affecting_results()))
    try:
        model_now = json.loads(json.dumps(model_fingerprint(model_path, options.kind)))
    except (OSError, ValueError):  # the model unreadable now: loading it says why
        model_now = None
    differ = [reason for reason, same in (
        ("other inputs", any(same_input(f["input"], path, output) for f in recorded for path in paths)),
        ("other options", any(f.get("options") == options_now for f in recorded)),
        ("another model", model_now is None or any(same_model(f.get("model"), model_now, output)
                                                    for f in recorded))) if not same]
    if not differ:  # each matches, yet no input's record is whole (garbled by hand, or by an earlier version)
        return "left unfinished, its record of the frames done unreadable"
    return "left unfinished by a run of " + " and ".join(filter(None, [", ".join(differ[:-1]), differ[-1]]))


def check_targets(outputs: list[Path], kind: str = "spheres") -> None:
    """Refuse to replace a file this command did not write (ground-truth CSVs beside the images, say):
    each output, its metadata (.json) and for chains its per-chain table must be absent or an earlier
    output of detect; nor may two outputs write one file (a.csv's per-chain table is a.chains.tif's
    output a.chains.csv). All checked before any work.

    Once all pass, a per-chain table that an earlier chains run left beside an output that this run of
    another kind replaces is removed: it would describe beads no longer there (see
    :func:`stale_side_table`)."""
    check_distinct_targets(outputs, kind)
    outputs = [Path(output) for output in outputs]
    # Read once: both the refusals and the stale per-chain tables go by what each metadata says.
    metadata = [read_metadata(output) for output in outputs]
    for output, meta in zip(outputs, metadata):
        if output.is_dir():
            raise ParticleDetectError(f"{output}: is a folder, where this input's centres would go; rename one")
        ours = is_detect_metadata(meta)
        meta_file = metadata_path(output)
        if meta_file.is_dir() or (meta_file.exists() and not ours):
            raise ParticleDetectError(f"{meta_file}: exists and is not the metadata of an earlier detect output "
                                      f"(detect writes {meta_file.name} beside {output.name}); move it or choose "
                                      "another output")
        for table in [output] + side_tables(output, kind):
            if table.is_dir() or (table.exists() and not ours):
                raise ParticleDetectError(f"{table}: exists and is not an earlier output of detect (no "
                                          f"{meta_file.name} of detect beside it); move it or choose another output")
    for output, meta in zip(outputs, metadata):
        stale = stale_side_table(output, kind, meta)
        if stale is not None:
            stale.unlink()


def check_distinct_targets(outputs: list[Path], kind: str) -> None:
    """One ParticleDetectError where two outputs would write one file: an output whose per-chain table
    is another's CSV (inputs a.tif and a.chains.tif: a.chains.csv is both), so one would silently replace
    the other's."""
    written: dict[Path, str] = {}
    for output in map(Path, outputs):
        files = {output: f"output CSV of input {output.stem}", metadata_path(output): f"metadata of {output.name}",
                 **{side: f"per-chain table of {output.name}" for side in side_tables(output, kind)}}
        for target, role in files.items():
            if target in written:
                raise ParticleDetectError(f"{target}: would be both the {written[target]} and the {role}; rename "
                                          "one of those inputs or detect them into separate folders")
            written[target] = role


def stale_side_table(output: Path, kind: str, meta: dict | None) -> Path | None:
    """The per-chain table beside ``output`` that an earlier chains run of detect wrote, where a run of
    another kind replaces that output; None otherwise. Detect's own only: its metadata beside the output
    (``meta``, as :func:`read_metadata` read it) says a chains run wrote it (a file of that name beside
    another kind's output is the user's)."""
    side = kind_tables(output)
    if kind == "chains" or not side.is_file() or not is_detect_metadata(meta):
        return None
    return side if meta.get("kind") == "chains" else None


def read_metadata(output: str | Path) -> dict | None:
    """The metadata (.json) beside ``output``; None where it is missing, unreadable or not a JSON object."""
    try:
        meta = json.loads(metadata_path(Path(output)).read_text())
    except (OSError, ValueError, TypeError):
        return None
    return meta if isinstance(meta, dict) else None


def is_detect_metadata(meta: dict | None) -> bool:
    """Whether metadata (as :func:`read_metadata` read it) is detect's: a folder run's fingerprint, or the
    record of the inputs (each with its file) that every detect run writes."""
    if meta is None:
        return False
    if "fingerprint" in meta:
        return True
    inputs = meta.get("inputs")
    return isinstance(inputs, list) and bool(inputs) and all(isinstance(r, dict) and "file" in r for r in inputs)


def unique_inputs(paths: list[Path]) -> tuple[list[Path], dict[Path, Path]]:
    """``paths`` without repeats of one file (by resolved path: relative and absolute, or through a
    link), in order; and each repeat left out with the path kept for it."""
    kept: dict[Path, Path] = {}
    repeats: dict[Path, Path] = {}
    for path in paths:
        try:
            key = Path(path).resolve()
        except OSError:  # a loop of links: the reader reports it
            key = Path(path)
        if key in kept:
            repeats[Path(path)] = kept[key]
        else:
            kept[key] = Path(path)
    return list(kept.values()), repeats


def check_diameter_fits(path: Path, image, diameter: float | None) -> None:
    """A ``--diameter`` no larger than the image's smaller side: beyond it no particle fits, and detection
    would find nothing while trusting the size it was given."""
    shape = getattr(image, "shape", ())
    if diameter is None or len(shape) < 2:
        return
    side = min(int(shape[-1]), int(shape[-2]))
    if diameter > side:
        raise ParticleDetectError(f"{path}: --diameter {diameter:g} px is larger than the image ({shape[-2]} x "
                                  f"{shape[-1]} px); give the particles' diameter in pixels")


def expand_inputs(arguments: Iterable[str | Path]) -> list[Path]:
    """Files named, images in folders named (not their subfolders), and glob patterns' matches; in order."""
    found: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        text = str(argument)
        # A .zarr folder is one image, metadata or not: the reader says what an empty or unfinished store lacks.
        if path.exists() and (not path.is_dir() or is_zarr(path) or path.suffix.lower() == ".zarr"):
            found.append(path)
        elif path.is_dir():
            images = sorted(p for p in path.iterdir() if _is_image(p))
            if not images:
                raise ParticleDetectError(f"{path}: folder holds no images ({', '.join(IMAGE_SUFFIXES)})")
            found.extend(images)
        elif any(c in text for c in GLOB_CHARACTERS):
            matches = sorted(Path(p) for p in glob.glob(text, recursive=True) if _is_image(Path(p)))
            if not matches:
                raise ParticleDetectError(f"{text}: no image files match")
            found.extend(matches)
        else:
            found.append(path)  # missing: reported by the reader, one line
    return list(dict.fromkeys(found))


def _is_image(path: Path) -> bool:
    if path.name.startswith("."):
        return False
    if path.suffix.lower() == ".zarr":
        return is_zarr(path)
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES


def output_paths(inputs: list[Path], folder: Path) -> list[Path]:
    """One CSV per input inside ``folder``, mirroring the inputs' folders below their common one; named as
    the user named them (a link is named for itself, not for the file it points at)."""
    if not inputs:
        return []
    named = [Path(os.path.abspath(p)) for p in inputs]
    root = Path(os.path.commonpath([p.parent for p in named]))
    outputs = [Path(folder) / p.relative_to(root).with_suffix(".csv") for p in named]
    seen: dict[Path, Path] = {}
    for source, target in zip(inputs, outputs):
        if target in seen:
            raise ParticleDetectError(f"{source}: its output {target} would also be {seen[target]}'s; rename one")
        seen[target] = source
    return outputs
