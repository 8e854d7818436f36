"""Detection over many files on dask.distributed: one task per file, each reading its own input and
writing its own output; the driver only maps and gathers.

Without a client the same jobs run one after another in this process. Finished outputs whose input,
options and model are unchanged are skipped, so an interrupted run resumes where it stopped (an input moved or
copied with its outputs since is unchanged: file_detection.same_input); an output it would replace that holds
another file's results is refused unless ``overwrite``, one edited by hand since unless ``replace_edited``. A
file that fails is reported, its earlier output marked failed, and the others go on;
the run's record (``particle-detect-run.json``) in the output folder lists what was done, skipped and
failed. A full (or read-only) output disk stops the run instead: every later file would be detected only to fail
alike; so does an output folder that stops taking files (one that cannot take any is refused before the first), and a
cluster that lost its scheduler. Two runs into one folder at once share its files: each output is detected under its
lock (file_detection.holding_output) by one of them, and skipped by the other once finished (a cluster run's worker
meeting an output the other holds does the other files first), and the run record of the one ending last keeps the
other's. A run on a scheduler
without workers waits for one, saying so; one on a cluster in this process (a LocalCluster) whose worker processes
died and cannot be started again stops.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import logging
import os
import signal
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from filelock import Timeout

from .file_detection import (
    DetectOptions,
    FileResult,
    check_options,
    check_same_inputs,
    check_targets,
    check_unedited,
    detect_file,
    edited_tables,
    expand_inputs,
    is_finished,
    lock_path,
    mark_failed,
    metadata_path,
    holding_output,
    RunOptions,
    model_fingerprint,
    output_paths,
    read_metadata,
    side_tables,
    tell_earlier_versions,
    tell_moved,
    unique_inputs,
    warn_if_not_square,
)
from .calibration import Calibration
from ..errors import OneLineFormatter, ParticleDetectError, one_line
from ..shipped import is_shipped, model_digest
from ..stop_signals import STOP_SIGNALS, HeldStopSignals, held_stop_signals
from .io import atomic_write_text, remove_stale_temporaries

# Memory a worker process needs beyond torch itself for everyday images; bounds the default count.
WORKER_MEMORY_BYTES = 2 * 1024**3
# A dask worker's memory limit said as enough (torch and the model, and WORKER_MEMORY_BYTES beyond them) where a
# smaller one paused or killed the workers.
WORKER_MEMORY_LIMIT = "3GiB"
# Write errors no later file gets past: the disk, or the user's quota on it, is full.
OUT_OF_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
# Nor past a disk the system remounted read-only (as it does after an I/O error) or one mounted so.
READ_ONLY_DISK = {errno.EROFS}
# A folder run's record in its output folder, told from a user's file of that name by its "record" entry.
RUN_RECORD = "particle-detect-run.json"
RUN_RECORD_KIND = "particle-detect folder run"
RUNS_BESIDE_KEPT = 100  # records of concurrent runs kept in a run's record, newest first
# Why dask cancels every future of a client whose connection to its scheduler broke (Client._reconnect).
SCHEDULER_LOST = "scheduler-connection-lost"
# A cluster run looks this often for finished files, and for workers while none finishes; one with no worker
# says so at once and again after NO_WORKER_REPEAT_S (a worker may be starting: the run waits, as dask does).
POLL_S = 0.1
WORKER_CHECK_S = 1.0
NO_WORKER_REPEAT_S = 60.0
# How long a cluster in this process waits for a dead worker's nanny to bring it back before dropping it for good
# (dask's 15 s): a worker that a file kills restarts, runs that file again and dies again, and one slow start (torch's
# import on a busy machine) would leave the run no worker at all, waiting for ever.
LOST_WORKER_TIMEOUT = "1 day"
# A cluster of worker processes in this process (a LocalCluster) with no worker connected: the run stops once no nanny
# has had a live worker process (running, or restarting one) for NO_LIVE_WORKER_STOP_S (one that cannot start a worker,
# out of memory, would leave it waiting for ever, unsaid), and after LOCAL_NO_WORKER_STOP_S without a worker however
# often they restart (a worker dying as it starts), saying every NO_WORKER_REPEAT_S meanwhile that it waits.
NO_LIVE_WORKER_STOP_S = 10.0
LOCAL_NO_WORKER_STOP_S = 300.0
# Every worker paused by dask for memory (above its pause threshold, 80 % of its limit) and idle starts no file: the
# run waited unsaid for ever, its bar still. Asked this often (a scheduler_info of every worker), said once two asks
# running found it (a pause that passes, memory freed, is not), again every NO_WORKER_REPEAT_S it lasts.
PAUSED_CHECK_S = 5.0
# Said in place of dask's tracebacks when Ctrl-C comes while a cluster of this process's own is starting.
CLUSTER_START_INTERRUPTED = "the dask cluster was still starting: nothing was written"
# The outputs whose locks a client's workers may still hold, by client: noted as a run on it starts, those it finished
# let go when it ends; close_local_client removes the locks no one holds once it has killed the workers.
_LEFT_OUTPUTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# dask's logs silenced from a local_client's start to its close_local_client, by client.
_QUIET_WHILE_OPEN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

log = logging.getLogger("napari_particle_detect")


@dataclass
class FilesSummary:
    done: list[FileResult] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)  # finished before and unchanged, or by another run meanwhile
    by_other_runs: list[Path] = field(default_factory=list)  # those of ``skipped`` another run finished meanwhile
    failed: dict[Path, str] = field(default_factory=dict)  # input -> one-line reason
    left: list[Path] = field(default_factory=list)  # not detected: the run stopped first (see ``stopped``)
    stopped: str = ""  # why the run stopped before every file was done (a full disk, a lost scheduler), one line
    # When the run began: a run record written into its folder since is another run's, which ran beside this one.
    started: datetime = field(default_factory=lambda: datetime.now().astimezone())

    @property
    def ok(self) -> bool:
        return not self.failed and not self.stopped

    def describe(self) -> str:
        # A file another run finished meanwhile was no "unchanged" output of before: counted apart.
        others = len(self.by_other_runs)
        return (f"{len(self.done)} done, {len(self.skipped) - others} unchanged and skipped"
                + (f", {others} finished by another run" if others else "")
                + f", {len(self.failed)} failed" + (f", {len(self.left)} left" if self.left else ""))

    def skip_finished_elsewhere(self, path: Path) -> None:
        """``path`` skipped: another run into the folder finished it while this one ran."""
        self.skipped.append(path)
        self.by_other_runs.append(path)

    def in_order(self, order: dict[Path, int]) -> None:
        """The files done, skipped and left back in the inputs' order (``order``: each input's place): those another
        run held were done, skipped or left last."""
        self.done.sort(key=lambda result: order.get(result.path, len(order)))
        for paths in (self.skipped, self.left):
            paths.sort(key=lambda path: order.get(path, len(order)))


def detect_files(
    paths: Iterable[str | Path] | str | Path,
    output: str | Path,
    options: DetectOptions | None = None,
    model_path: str | Path | None = None,
    client=None,
    progress: Callable[[Path, str], None] | None = None,
    overwrite: bool = False,
    command: str | None = None,
    replace_edited: bool = False,
    started: datetime | None = None,
) -> FilesSummary:
    """Detect in every file of ``paths``, writing one CSV (and its .json) per input into the folder
    ``output`` (inputs' subfolders mirrored below their common folder).

    ``paths`` may name files, folders (their images, not their subfolders' ones) and glob patterns
    (``"exp/*.tif"``, ``"exp/**/*.tif"``), expanded as the command line does
    (:func:`file_detection.expand_inputs`).

    ``client``: a ``dask.distributed.Client`` to run the files on its workers (each loads the model
    once; a shipped model is sent by its name and read from each worker's own install, a model file of
    the user's by its absolute path); None runs them here, one after another. ``progress(path, status)``
    is called once per file with status ``done``, ``skipped`` or ``failed``, except for the files a full
    disk left: once a file cannot be written for want of space no new file starts (on a cluster, dask
    cancels those not finished), ``left`` lists the files not done and ``stopped`` says so in one line;
    the same call after freeing space does them, skipping the finished ones. A client that loses its
    scheduler stops the run alike (dask cancels every task; those a worker finished are counted
    done all the same, their outputs being finished, and skipped by the same call later), and one whose
    scheduler has no worker waits for one, logging that it does (again every NO_WORKER_REPEAT_S); so does one
    whose cluster runs its worker processes in this process (a LocalCluster, :func:`local_client`) while a nanny
    restarts one that died, but the run stops alike, its files not done left, once none has a live worker process
    for NO_LIVE_WORKER_STOP_S (it could not start one: out of memory) or none has joined for LOCAL_NO_WORKER_STOP_S.
    dask.distributed's own logs are silenced meanwhile: their tracebacks of a lost connection say nothing
    that ``stopped`` does not. A file whose particle size was estimated with low confidence is a warning as it is
    done (``PATH: particle diameter 9.8 px (estimated), low confidence: REASON``), as detect() warns of an array; its
    other warnings, said on a worker, are said here as its result comes back. A file named twice is detected once; a missing one fails as ``PATH: file
    not found``. ``model_path``: a weights file, a model folder, or a bare name that is no file here for
    the shipped weights of that name (as :func:`file_detection.detect_file`).

    Refused before any work: no ``paths`` at all (a ValueError); and in one ParticleDetectError naming the file, a
    model file that is not there (unless ``client``'s scheduler runs elsewhere, whose workers may see it), an output
    that would replace a file detect did not write; unless ``overwrite``, an output that holds another file's results (its .json
    names another input: ``day1/x.tif``'s, where ``day2/x.tif``'s would go; an input folder moved or copied
    together with the output folder, sizes and dates kept, is the same files, said in one line, one moved alone
    is other files: file_detection.same_input); and unless ``replace_edited``, a table detect wrote but that was
    edited since (its size or sha256 differs from what its .json records), among the outputs this call replaces:
    a finished one, options unchanged, is skipped and keeps its edits. ``overwrite=True`` replaces another
    file's results (the command line's ``--overwrite``), never a table edited by hand: ``replace_edited=True``
    replaces those (``--replace-edited``).

    A file that fails leaves its earlier output's table as it was, its .json marked: no fingerprint (not
    finished) and ``failed`` (its ``file`` and ``reason``). Every run that gets past the refusals replaces
    ``output``/particle-detect-run.json (atomically): ``command`` (as the caller gives it), the options and
    model, and the files ``done``, ``skipped`` and ``left`` with their outputs (relative to ``output``) and
    those ``failed`` with their reasons; a file of that name that is not such a record is refused. A run
    interrupted (Ctrl-C) writes it too, ``interrupted`` true, with the files not done by then as ``left``. The
    records there of other runs into ``output`` that ended after this one began (``started``, default now: a caller
    that did work first, starting a cluster, gives its own start) ran beside it, and are kept in its record as
    ``concurrent_runs`` (:func:`runs_beside`); written under a lock, so two runs ending at once each keep the other's.
    """
    if isinstance(paths, (str, Path)):  # one file: not its name's characters, one by one
        paths = [paths]
    if Path(output).suffix.lower() == ".csv" and not str(output).endswith(("/", os.sep)) and not Path(output).is_dir():
        raise ParticleDetectError(f"{output}: detect_files writes one CSV per input into a folder; give a folder "
                                  "(one table of several files: particle-detect detect FILES -o TABLE.csv)")
    # One file named twice (relative and absolute, through a link) is detected once, as on the command line.
    paths, _ = unique_inputs(expand_inputs(paths))
    if not paths:  # a glob.glob() that matched nothing: "0 done" would read as a finished run
        raise ValueError("detect_files got no paths (an empty list): give image files, folders or glob patterns")
    options = check_options(options)
    check_caller_arguments(client, progress)
    model = _model_weights(model_path)
    check_model_here(model, client)
    folder = Path(output)
    summary = FilesSummary() if started is None else FilesSummary(started=started)
    missing = [path for path in paths if not path.exists()]
    present = [p for p in paths if p not in missing]
    targets = output_paths(present, folder)
    finished = check_replaceable(present, targets, options, model, overwrite, remedy="pass overwrite=True",
                                 replace_edited=replace_edited, edited_remedy="pass replace_edited=True")
    check_run_record_place(folder, targets)
    check_writable_folder(folder)
    tell_moved(present, targets)  # once past every refusal
    tell_earlier_versions(folder, [target for target, done in zip(targets, finished) if not done], options, model)
    for path in missing:  # said as the reader says it; the job would fail first on the input's size
        summary.failed[path] = one_line(f"{path}: file not found")
    summary.skipped.extend(path for path, done in zip(present, finished) if done)
    todo = [(path, target) for path, target, done in zip(present, targets, finished) if not done]
    # A killed run can leave a half-written temporary beside an output it was writing, whether this run
    # writes that output again or skips it as finished; the age rule spares a live writer's.
    remove_stale_temporaries(with_temporaries(
        [file for target in targets for file in (target, metadata_path(target), *side_tables(target, options.kind))]))
    outputs = dict(zip(present, targets))
    record_run = functools.partial(write_run_record, folder, summary, outputs, options, model, command)
    # What each output to be written was before this run: one finished all the same after a stop counts done only
    # if this run wrote it.
    before = {target: _written(target) for _, target in todo}
    # Files another run held are done (or skipped, finished by it) last: listed back in the inputs' order.
    in_order = functools.partial(summary.in_order, {path: index for index, path in enumerate(present)})
    # Noted before a worker can take their locks: a stop landing anywhere from here on (a second Ctrl-C while the
    # first is handled) left a killed worker's lock, noted only once the run had stopped.
    _note_outputs(client, [target for _, target in todo])
    try:
        # Told once the summary holds them all: a stop while they are told (an error in ``progress``, a Ctrl-C at a
        # folder's thousandth skipped file) wrote no record.
        for path in [*missing, *summary.skipped]:
            _tell(progress, path, "failed" if path in summary.failed else "skipped")
        if client is None:
            stop = _run_here(todo, options, model, summary, progress, folder)
        else:
            import dask

            keep_restarting = {"distributed.deploy.lost-worker-timeout": LOST_WORKER_TIMEOUT}
            with quiet_distributed_logs(), dask.config.set(keep_restarting):
                stop = _run_on_cluster(client, todo, options, model, summary, progress, folder)
    except BaseException:
        # Interrupted (Ctrl-C): the earlier run's record would describe outputs this run replaced.
        reached = ({result.path for result in summary.done} | set(summary.skipped) | set(summary.failed)
                   | set(summary.left))  # skipped too: a file another run finished meanwhile is not left
        summary.left.extend(path for path, _ in todo if path not in reached)
        in_order()
        # A repeat of the stop (timeout's SIGINT to the process, then its group; a second Ctrl-C) is the same stop:
        # acted on, it cut the record short. Held, then dropped, as the stop is under way.
        with held_stop_signals():
            record_run(interrupted=True)
        raise
    if stop is not None:
        came_back = len(summary.done)
        count_finished_left(summary, outputs, options, model, progress, before)
        if client is not None:  # written by a worker, its result lost on the way: its record read from the disk
            for result in summary.done[came_back:]:
                _say_not_square(result)
                _say_doubtful_size(result)
    in_order()
    if isinstance(stop, OSError):
        summary.stopped = full_disk_line(stop, folder, summary)
    elif stop is not None:
        summary.stopped = stop.line(summary)
    record_run()
    left = set(summary.left)
    _forget_outputs(client, [target for path, target in todo if path not in left])  # their workers let go of them
    return summary


def check_caller_arguments(client: object, progress: object) -> None:
    """A TypeError before any work for a ``client`` that is no dask client (a scheduler's address given as one failed
    deep in the run as "'str' object has no attribute 'map'") or a ``progress`` that cannot be called (raised once
    the first file was done)."""
    if client is not None and not all(callable(getattr(client, name, None)) for name in ("map", "submit", "cancel")):
        raise TypeError(f"client must be a dask.distributed Client, or None to run here, got {type(client).__name__} "
                        f"{client!r:.60}" + ("; connect to a scheduler's address with distributed.Client(address)"
                                             if isinstance(client, str) else ""))
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be a callable taking (path, status) or None, got {type(progress).__name__} "
                        f"{progress!r:.40}")


def _note_outputs(client, targets: list[Path]) -> None:
    """``targets``, whose locks ``client``'s workers may take, noted for :func:`close_local_client` (None: no
    client, nothing to note)."""
    if client is not None and targets:
        with contextlib.suppress(TypeError):  # a client that cannot be weakly referred to: nothing to close
            _LEFT_OUTPUTS.setdefault(client, set()).update(targets)


def _forget_outputs(client, targets: list[Path]) -> None:
    """``targets`` no longer noted for ``client``'s close: a run that ended let go of their locks."""
    if client is not None:
        with contextlib.suppress(TypeError, KeyError):  # not weakly referable, or nothing noted
            _LEFT_OUTPUTS[client].difference_update(targets)


def with_temporaries(files: list[Path]) -> list[Path]:
    """The ``files`` with a hidden temporary of theirs beside them (io.atomic_write_text's ``.NAME.*.tmp``), each
    folder listed once: io.remove_stale_temporaries globs a file's folder for each file it is given, which over a
    folder of thousands of outputs took minutes before the first file was detected."""
    temporaries: dict[Path, list[str]] = {}
    for folder in dict.fromkeys(file.parent for file in files):
        try:
            names = os.listdir(folder)
        except OSError:  # no such folder yet: no temporary in it
            names = []
        temporaries[folder] = [name for name in names if name.startswith(".") and name.endswith(".tmp")]
    return [file for file in files if any(name.startswith(f".{file.name}.") for name in temporaries[file.parent])]


def _run_here(todo: list[tuple[Path, Path]], options: DetectOptions, model: str | None, summary: FilesSummary,
              progress: Callable[[Path, str], None] | None, folder: Path) -> OSError | None:
    """Each (input, output) in turn in this process, results and failures into ``summary``; the first failure that
    every later file would share (:func:`stops_the_run`), which leaves that file and the later ones (None if none).
    A file another run is detecting into ``folder`` now is left to the end and then waited for, not detected twice."""
    busy: list[tuple[Path, Path]] = []
    for index, (path, target) in enumerate(todo):
        try:
            stop = _run_one_here(path, target, options, model, summary, progress, folder, blocking=False)
        except Timeout:
            busy.append((path, target))
            continue
        if stop is not None:
            summary.left.extend(later for later, _ in busy + todo[index:])  # this file and those after it
            return stop
    for index, (path, target) in enumerate(busy):
        try:
            stop = _run_one_here(path, target, options, model, summary, progress, folder, blocking=False)
        except Timeout:
            log.info("%s: another run is detecting it into %s; waiting for that run", path, target)
            stop = _run_one_here(path, target, options, model, summary, progress, folder, blocking=True)
        if stop is not None:
            summary.left.extend(later for later, _ in busy[index:])
            return stop
    return None


def _run_one_here(path: Path, target: Path, options: DetectOptions, model: str | None, summary: FilesSummary,
                  progress: Callable[[Path, str], None] | None, folder: Path, blocking: bool) -> OSError | None:
    """One file of :func:`_run_here` (:func:`detect_unless_done`), said in ``summary``; the failure that stops the
    run, if it is one. Not ``blocking``: filelock.Timeout where another run holds its output."""
    try:
        result = detect_unless_done(path, options, model, target, blocking=blocking)
    except Timeout:  # an OSError (TimeoutError) too, yet no failure: another run holds the output
        raise
    except Exception as exc:  # noqa: BLE001 - one bad file is reported; the rest go on
        if stops_the_run(exc, folder):
            return exc
        record_failure(summary, path, target, failure_line(path, exc), progress)
        return None
    if result is None:
        summary.skip_finished_elsewhere(path)
        _tell(progress, path, "skipped")
    else:
        summary.done.append(result)
        _say_doubtful_size(result)
        _tell(progress, path, "done")
    return None


def detect_unless_done(path: Path, options: DetectOptions, model: str | Path | None, target: Path,
                       name: str | None = None, blocking: bool = True) -> FileResult | None:
    """:func:`file_detection.detect_file` of ``path`` into ``target``, holding that output's lock (file_detection.
    holding_output) from the check to the write; None, skipped as a run again skips it, where another run into the
    same folder (another terminal, a run again started while this one runs) finished it meanwhile with the same input,
    options and model. Not ``blocking``: filelock.Timeout at once where another run holds it (detecting it now)."""
    with holding_output(target, blocking):
        if is_finished(path, target, options, model):
            return None
        return detect_file(path, options, model, target, name=name)


def count_finished_left(summary: FilesSummary, outputs: dict[Path, Path], options: DetectOptions, model: str | None,
                        progress: Callable[[Path, str], None] | None,
                        before: dict[Path, tuple[int, int, int] | None]) -> None:
    """Move to ``summary.done`` the files of ``summary.left`` whose output (in ``outputs``) is finished all the same, as
    the resume rule (:func:`file_detection.is_finished`) reads it: a worker wrote it but its result never came back
    (the scheduler lost as it came, a task finishing as a full disk's cancel came). Counted as left, the run's count
    and record would disagree with the disk, and a run again would skip them as done before. ``before``: each
    output's metadata as it was when the run started (:func:`_written`); one unchanged since was not written by this
    run, and stays left."""
    left = []
    for path in dict.fromkeys(summary.left):
        target = outputs.get(path)
        written = target is not None and _written(target) != before.get(target)
        if written and is_finished(path, target, options, model):
            meta = read_metadata(target) or {}
            record = (meta.get("inputs") or [{}])[0]
            summary.done.append(FileResult(path, target, record, meta=meta))
            _tell(progress, path, "done")
        else:
            left.append(path)
    summary.left[:] = left


def _written(target: Path) -> tuple[int, int, int] | None:
    """Which file ``target``'s metadata (.json) is, when written and how large, None if it is not there: the last
    file a finished output's writing replaces (atomically: another file)."""
    try:
        stat = metadata_path(target).stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def check_replaceable(paths: list[Path], targets: list[Path], options: DetectOptions,
                      model_path: str | Path | None, overwrite: bool, remedy: str, replace_edited: bool = False,
                      edited_remedy: str = "give --replace-edited") -> list[bool]:
    """Refuse, before any work, to let ``targets`` (the outputs of ``paths``) replace a file detect did not
    write, unless ``overwrite`` another file's results, and unless ``replace_edited`` a table edited since
    detect wrote it (``remedy``, ``edited_remedy``: how to replace each anyway, the option as the caller spells
    it). Two options, so that one given to get past the first refusal loses no hand edits; where both are needed,
    the first refusal names both. Return whether each target is finished: skipped, so its edits, if any, are kept
    and need no check."""
    finished = [is_finished(path, target, options, model_path) for path, target in zip(paths, targets)]
    replaced = [(path, target) for path, target, done in zip(paths, targets, finished) if not done]
    if not overwrite:
        try:
            check_same_inputs([path for path, _ in replaced], [target for _, target in replaced], remedy)
        except ParticleDetectError as refusal:
            # A table edited by hand among them named too: else the run given --overwrite is refused again for it.
            edited = None if replace_edited else next(
                (tables[0] for _, target in replaced if (tables := edited_tables(target))), None)
            if edited is None:
                raise
            raise ParticleDetectError(f"{refusal}, and {edited_remedy} too: {edited} changed since detect wrote it "
                                      "(edited by hand?)") from None
    if not replace_edited:
        # Before check_targets, which removes a stale per-chain table, edited or not.
        check_unedited((target for _, target in replaced), edited_remedy)
    check_targets(targets, options.kind)
    return finished


def check_run_record_place(folder: Path, targets: list[Path]) -> None:
    """Refuse, before any work, a run whose record at ``folder``/particle-detect-run.json would replace a
    file that is no such record, or one of ``targets``' metadata (an input named particle-detect-run)."""
    record = Path(folder) / RUN_RECORD
    for target in targets:
        if metadata_path(target) == record:
            raise ParticleDetectError(f"{record}: would be both the metadata of {target.name} and this run's record; "
                                      "rename that input or detect it into another folder")
    if record.is_dir() or (record.exists() and (read_metadata(record) or {}).get("record") != RUN_RECORD_KIND):
        raise ParticleDetectError(f"{record}: exists and is not the record of an earlier folder run of detect (which "
                                  "writes one there); move it or choose another output folder")


def write_run_record(folder: Path, summary: FilesSummary, outputs: dict[Path, Path], options: RunOptions,
                     model: str | Path | None, command: str | None, interrupted: bool = False) -> Path | None:
    """The record of this run at ``folder``/particle-detect-run.json, written atomically (see
    :func:`detect_files`); ``outputs``: each present input's output; ``options``: 2D DetectOptions or a volume run's
    (cli/volumes.py); ``model``: named as the outputs' fingerprints name it (:func:`model_fingerprint`, the default
    model too); ``interrupted``: the run was cut short (Ctrl-C) when ``summary`` was as it is.
    None where it cannot be written: a warning says why, unless the run stopped on a full disk, which
    ``summary.stopped`` already says."""
    def entry(path: Path, **more) -> dict:
        # Where there is one: a failed file's earlier output, marked failed, or none.
        there = path in outputs and outputs[path].exists()
        return {"file": str(path), **({"output": outputs[path].relative_to(folder).as_posix()} if there else {}),
                **more}

    # Milliseconds: a run again a moment after another ended is told from one that ran beside it.
    record = {"record": RUN_RECORD_KIND, "command": command,
              "started": summary.started.isoformat(timespec="milliseconds"),
              "finished": datetime.now().astimezone().isoformat(timespec="milliseconds"),
              "options": options.affecting_results(), "model": model_fingerprint(model, options.kind),
              "done": [entry(result.path) for result in summary.done],
              "skipped": [entry(path) for path in summary.skipped],
              "failed": [entry(path, reason=reason) for path, reason in summary.failed.items()],
              "left": [entry(path, **frames_kept(path, outputs.get(path))) for path in summary.left],
              "stopped": summary.stopped or None,
              "interrupted": interrupted}
    try:
        # Locked from the read of the record there to the write: two runs ending at once each keep the other's.
        with holding_output(folder / RUN_RECORD):
            beside = runs_beside(folder / RUN_RECORD, summary.started)
            if beside:
                one = len(beside) == 1
                log.info("%s: %d other run%s into %s ran while this one did; %s kept in this one's "
                         "(concurrent_runs)", folder / RUN_RECORD, len(beside), "" if one else "s", folder,
                         "its record is" if one else "their records are")
            return atomic_write_text(folder / RUN_RECORD, json.dumps({**record, "concurrent_runs": beside},
                                                                     indent=2))
    except OSError as exc:
        if not (summary.stopped and stops_the_run(exc, folder)):
            log.warning("%s: run record not written (%s)", folder / RUN_RECORD, exc.strerror or exc)
        return None




def frames_kept(path: Path, output: Path | None) -> dict:
    """``frames_done`` and ``frames`` of a stack whose run stopped in it, its output holding the frames done so far
    (file_detection.write_unfinished): the record's entry said only its output, which read as the whole stack's
    table. Empty for any other file left."""
    meta = (read_metadata(output) or {}) if output is not None else {}
    if not meta.get("unfinished"):
        return {}
    kept = next((entry for entry in meta.get("resume") or [] if entry.get("file") == str(path)), {})
    return {key: kept[key] for key in ("frames_done", "frames") if key in kept}


def runs_beside(record: Path, started: datetime) -> list[dict]:
    """The records kept at ``record`` (a folder run's) of the runs into its folder that ended after ``started``: they
    ran while the run begun then did (two terminals, a batch system's jobs each given part of the files), and a record
    replacing theirs would lose what they did, skipped and failed. Each as it wrote it, those it kept beside it
    listed alongside; none where the record there is older (a run before: replaced) or no run record."""
    earlier = read_metadata(record) or {}
    if earlier.get("record") != RUN_RECORD_KIND:
        return []
    runs = [{key: value for key, value in earlier.items() if key != "concurrent_runs"},
            *(earlier.get("concurrent_runs") or [])]
    # Theirs kept whole: a run ended before this one began, but beside one that ended after, is of the same group.
    # The newest RUNS_BESIDE_KEPT only: runs that always overlap the one before (a cron job) would grow it for ever.
    return runs[:RUNS_BESIDE_KEPT] if _ended_after(earlier, started) else []


def _ended_after(record: dict, started: datetime) -> bool:
    try:
        return datetime.fromisoformat(str(record.get("finished"))) >= started
    except (TypeError, ValueError):  # no date, or not one: a record no run of this version wrote
        return False


def stops_the_run(exc: BaseException | None, folder: Path) -> bool:
    """Whether every later file would fail as ``exc`` did: out of space or read-only (:func:`is_out_of_space`), or any
    other error of the system where the output ``folder`` itself takes no new file now (:func:`write_refusal`:
    permissions, chattr +i, a file where it was); not where only that file's own input or output was refused."""
    if is_out_of_space(exc):
        return True
    return isinstance(exc, OSError) and write_refusal(folder) is not None


def write_refusal(folder: Path) -> OSError | None:
    """Why no output can be written into ``folder`` (made as a run makes it), found by making and removing a file
    there: os.access says yes to root on a folder made immutable (chattr +i); None where one can be."""
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".particle-detect-probe.", suffix=".tmp")
    except OSError as exc:
        return exc
    os.close(handle)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return None


def check_writable_folder(folder: Path) -> None:
    """One ParticleDetectError naming ``folder`` where no output can be written there, before any file is detected:
    else each would be detected in full only to fail alike."""
    refusal = write_refusal(folder)
    if refusal is not None:
        raise ParticleDetectError(f"{folder}: cannot write the outputs there ({refusal.strerror or refusal}); make it "
                                  "writable or choose another output folder")


def is_out_of_space(exc: BaseException | None) -> bool:
    """Whether ``exc`` is a write that every later file would fail alike: a full disk or quota, or a read-only
    disk."""
    return isinstance(exc, OSError) and exc.errno in OUT_OF_SPACE | READ_ONLY_DISK


def full_disk_line(exc: OSError, output: Path, summary: FilesSummary) -> str:
    """One line for a run a full (or read-only) disk, or an output folder that takes no new file (:func:`stops_the_run`),
    stopped: which disk or folder, how far the run got, and how to go on."""
    written = Path(exc.filename) if exc.filename else None
    # Named by the output folder, as the user gave it, unless what could not be written lies elsewhere.
    inside = written is None or Path(os.path.abspath(written)).is_relative_to(os.path.abspath(output))
    where = output if inside else written.parent
    what = f" writing {written.name}" if written is not None else ""
    why = f"({exc.strerror or (os.strerror(exc.errno) if exc.errno else exc)}{what})"
    if not is_out_of_space(exc):  # the folder itself refuses new files (stops_the_run)
        return f"{where}: cannot write the outputs there {why}; {how_far(summary)}: make it writable and run again " \
               "(finished files are skipped)"
    state, remedy = ("read-only", "make it writable") if exc.errno in READ_ONLY_DISK else ("full", "free space")
    return (f"{where}: the disk holding it is {state} {why}; "
            f"{how_far(summary)}: {remedy} and run again (finished files are skipped)")


def how_far(summary: FilesSummary) -> str:
    """How far a stopped run got: 'stopped with 3 of 12 files done, 9 left' (and how many of those done were skipped
    as done before, and how many failed, if any)."""
    finished = len(summary.done) + len(summary.skipped)
    total = finished + len(summary.failed) + len(summary.left)
    others = len(summary.by_other_runs)
    said = [f"{len(summary.skipped) - others} of them done before and skipped"] if len(summary.skipped) > others else []
    said += [f"{others} finished by another run"] if others else []
    skipped = f" ({', '.join(said)})" if said else ""
    failed = f", {len(summary.failed)} failed" if summary.failed else ""
    return f"stopped with {finished} of {total} files done{skipped}{failed}, {len(summary.left)} left"


def finished_files_line(summary: FilesSummary, output: Path) -> str:
    """What a folder run into ``output`` stopped by Ctrl-C kept and how to go on, as part of the command line's one
    line; "" where it finished no file. Shared by the 2D and the volume runs, which say it alike."""
    if not summary.done and not summary.skipped:
        return ""
    if not summary.left and not summary.failed:  # stopped as the run ended: nothing to go on with
        return f"stopped after every file was done; their outputs are in {output}"
    return (f"{how_far(summary)}; the finished files' outputs are in {output}: run the same command again to go on "
            "(finished files are skipped)")


@dataclass(frozen=True)
class CancelledOnCluster:
    """A cluster run whose tasks dask cancelled, not this run: ``reason`` as dask gives it (SCHEDULER_LOST where
    the client lost the connection to the scheduler at ``address``)."""

    address: str
    reason: str

    def line(self, summary: FilesSummary) -> str:
        what = ("lost the connection to the dask scheduler" if self.reason == SCHEDULER_LOST
                else f"the dask scheduler cancelled the files' tasks ({self.reason or 'no reason given'})")
        return f"{self.address}: {what}; {how_far(summary)}: run again (finished files are skipped)"


def scheduler_address(client) -> str:
    """The address of ``client``'s scheduler as a user gives it ("tcp://HOST:8786"), not its connection's repr."""
    return str(getattr(client.scheduler, "address", None) or client.scheduler)


def cancel_reason(future) -> str:
    """Why dask cancelled ``future`` (SCHEDULER_LOST: its client lost the scheduler); "" where it does not say."""
    from distributed.client import FutureCancelledError

    try:
        future.result(timeout=5)  # raised at once, from the client's own state: the limit is for a closed client
    except FutureCancelledError as exc:
        return exc.reason
    except Exception:  # noqa: BLE001 - no reason to be had: the caller says what it knows
        return ""
    return ""


class _QuietDistributedLogs:
    """dask.distributed's log records silenced while any caller's block runs (runs in several threads at once
    alike: the levels come back when the last one ends, unless :meth:`until_exit` was called)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs = 0
        self._levels: dict[str, int] = {}
        self._until_exit = False

    def until_exit(self) -> None:
        """Keep them silenced once the blocks running end, for the rest of the process: a run stopped by a signal
        inside client.sync leaves distributed's cancel callback on the loop's thread, which may fail and log
        after the cluster is closed, up to the process's exit ("Exception in callback ... NameError")."""
        with self._lock:
            self._until_exit = True

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        # Loaded first: distributed sets its loggers' levels from its config as it loads (tornado.application's to
        # error), which would undo ours were it loaded inside the block, by the cluster's start.
        import distributed  # noqa: F401

        with self._lock:
            if not self._runs:
                # Its modules' loggers have levels of their own (distributed.client's is set), so each one; and
                # tornado's, whose loop it runs on: a Ctrl-C inside client.sync made distributed's cancel callback
                # fail there ("Exception in callback ... NameError"), logged by tornado.application.
                names = ["distributed", "tornado",
                         *(name for name in list(logging.root.manager.loggerDict)
                           if name.startswith(("distributed.", "tornado.")))]
                self._levels = {name: logging.getLogger(name).level for name in names}
                for name in names:
                    logging.getLogger(name).setLevel(logging.CRITICAL)
            self._runs += 1
        try:
            yield
        finally:
            with self._lock:
                self._runs -= 1
                if not self._runs and not self._until_exit:
                    for name, level in self._levels.items():
                        logging.getLogger(name).setLevel(level)


# A lost scheduler makes dask log tracebacks (its reconnect failing, then cancelled as the client closes) that
# say nothing to a user: the one line said is ours (a stopped run's, or a round's error).
quiet_distributed_logs = _QuietDistributedLogs()


def _model_weights(model_path: str | Path | None) -> str | None:
    """The weights file ``model_path`` names, as every job reads it: resolved here as one file's detection
    resolves it (a bare name that is no file here names the shipped weights), absolute for the workers."""
    from ..models.registry import weights_path

    return str(weights_path(model_path).absolute()) if model_path is not None else None


@dataclass(frozen=True)
class ShippedModel:
    """A model shipped inside the package, named, not located: each worker reads its own install's copy.

    A worker on another machine has the package installed somewhere else (another virtualenv, a container),
    so the client's path to the shipped weights names nothing there. ``digest`` (of the client's weights and
    card) makes sure the worker's copy is the same model, not another version's weights of that name."""

    name: str  # the weights' stem: "unet", "unet-wide", "rods"
    digest: str = ""

    @classmethod
    def of(cls, weights: Path) -> "ShippedModel":
        return cls(weights.stem, model_digest(weights))

    def weights(self) -> Path:
        """This process's copy of the weights; one ParticleDetectError when its install has none, or
        another model of that name."""
        from .. import shipped

        path = shipped.WEIGHTS_DIR / f"{self.name}.pt"
        install = "install the client's napari-particle-detect version there, or give a model file the workers can read"
        if not path.exists():
            raise ParticleDetectError(f"{path}: no shipped model {self.name!r} in this worker's napari-particle-detect "
                                      f"({install})")
        if self.digest and model_digest(path) != self.digest:
            raise ParticleDetectError(f"{path}: this worker's shipped {self.name!r} is not the client's (another "
                                      f"napari-particle-detect version; {install})")
        return path


def check_model_here(model: str | None, client: object) -> None:
    """One ParticleDetectError before any work where the model file ``model`` (resolved by :func:`_model_weights`)
    is missing or has no readable card: each file failed alike, one line per file. As the command line checks it:
    not for a scheduler elsewhere, whose workers may see the model at a path this machine lacks."""
    if model is None or (client is not None and _workers_in_this_process(client) is None):
        return
    from ..models.registry import saved_card

    saved_card(model)


def _model_for_workers(model: str | None) -> str | ShippedModel | None:
    """What the jobs on other machines are told about the model ``_model_weights`` resolved here: the
    shipped weights by name (each worker finds its own install's), anything else (the user's own model)
    by its absolute path, which the workers must see as this computer does (as they see the inputs)."""
    if model is None:  # each worker's default model
        return None
    path = Path(model)
    if path.exists() and is_shipped(path):
        return ShippedModel.of(path)
    return model


@dataclass(frozen=True)
class FileFailure:
    """A file's expected failure on a worker (one of our errors, a file that cannot be read or written),
    returned, not raised: dask logs every task that raises as a multi-line 'Compute Failed' traceback in the
    worker's output, one per bad file, where the run says each in one line (a full disk included)."""

    error: ParticleDetectError | OSError


@dataclass(frozen=True)
class HeldElsewhere:
    """A file's task that found its output's lock held by another run into the folder (detecting it now): returned
    at once, the worker free for other files; the run asks again, waiting then, once they are queued."""


def _detect_job(path: Path, options: DetectOptions, model: str | ShippedModel | None, output: Path,
                name: str, blocking: bool = True) -> FileResult | FileFailure | HeldElsewhere | None:
    """One file's task on a worker: :func:`detect_unless_done` with a shipped model found there (None: finished
    meanwhile by another run, which a ``blocking`` task waits for), the input recorded as ``name`` (the caller's,
    where ``path`` is its absolute name). Anything unforeseen is still raised, its traceback left in the worker's log
    to be looked into."""
    _one_line_last_resort()
    try:
        return detect_unless_done(path, options, model.weights() if isinstance(model, ShippedModel) else model,
                                  output, name=name, blocking=blocking)
    except Timeout:  # an OSError too (TimeoutError), yet no failure: another run holds the output
        return HeldElsewhere()
    except (ParticleDetectError, OSError) as exc:
        return FileFailure(exc)


@dataclass(frozen=True)
class _Told:
    """A file task's result and the warnings its worker said meanwhile (:func:`_detect_job_telling`)."""

    result: FileResult | FileFailure | HeldElsewhere | None
    lines: list[str]


def _detect_job_telling(*args) -> _Told:
    """:func:`_detect_job`, the warnings it says kept for the caller to say (:func:`_said_here`): a local cluster's
    worker wrote them to the terminal it shares with the command line, into the line of its progress bar. Where the
    task fails unforeseen, they are written as before."""
    _one_line_last_resort()
    kept = _OneLineLastResort.kept
    kept.lines = []
    try:
        return _Told(_detect_job(*args), kept.lines)
    except BaseException:
        sys.stderr.write("".join(f"{line}\n" for line in kept.lines))
        raise
    finally:
        kept.lines = None


def _said_here(told: _Told) -> FileResult | FileFailure | HeldElsewhere | None:
    """``told``'s result, once its worker's warnings are said through this process's logging (the command line's
    above its bar)."""
    for line in told.lines:
        log.warning("%s", line)
    return told.result


class _OneLineLastResort(logging.Handler):
    """What Python's last resort prints of our warnings where a process has no handler set up (a dask worker's,
    spawned by a local cluster or started by ``dask worker``): the message, to stderr, but on one line
    (errors.OneLineFormatter), as the command line says it; a file name's line break split it over two. Silent once
    the process's own logging is set up (a handler on the root logger), which then says them as it was told to.
    In a thread whose ``kept.lines`` is a list, kept there instead (:func:`_detect_job_telling`)."""

    kept = threading.local()

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(OneLineFormatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if logging.getLogger().handlers:
            return
        kept = getattr(self.kept, "lines", None)
        if kept is not None:
            kept.append(self.format(record))
            return
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:  # noqa: BLE001 - as logging's own handlers: a message never fails the file
            self.handleError(record)


def _one_line_last_resort() -> None:
    """:class:`_OneLineLastResort` on our package's logger, once per process."""
    package = logging.getLogger("napari_particle_detect")
    if not any(isinstance(handler, _OneLineLastResort) for handler in package.handlers):
        package.addHandler(_OneLineLastResort())


def _run_on_cluster(client, todo: list[tuple[Path, Path]], options: DetectOptions, model: str | None,
                    summary: FilesSummary, progress: Callable[[Path, str], None] | None, folder: Path,
                    ) -> OSError | CancelledOnCluster | NoWorkerLeft | None:
    """Each (input, output) as one task on ``client``'s workers, results and failures into ``summary`` (those
    finished so far also when interrupted); what stopped the run, if anything did: the first failure for want of
    space, after which the tasks not finished are cancelled, dask's cancelling them (a lost scheduler), or a cluster
    in this process left without any worker (see :class:`_NoWorkerNotice`), whose tasks not done are cancelled."""
    from distributed import as_completed

    # A worker runs in its own working folder: relative names would read other files there and write
    # the results into its folder, not the user's. Absolute, not resolved: the names the user gave.
    inputs = [path.absolute() for path, _ in todo]
    outputs = [target.absolute() for _, target in todo]
    names = [str(path) for path, _ in todo]  # recorded in each .json, as a run here records them
    # A shipped model travels as its name, found in each worker's own install.
    sent = _model_for_workers(model)
    # pure=False: a file's task runs again if asked again (its input may have changed on disk). Not blocking: a worker
    # meeting an output another run holds goes on to other files (HeldElsewhere), not waiting while they queue.
    futures = client.map(_detect_job_telling, inputs, [options] * len(todo), [sent] * len(todo), outputs, names,
                         [False] * len(todo), pure=False)
    order = {future.key: index for index, future in enumerate(futures)}
    finished: list[tuple[int, FileResult]] = []
    left: list[int] = []
    handled: set[int] = set()
    stop: OSError | CancelledOnCluster | NoWorkerLeft | None = None
    pending = as_completed(futures)
    address = scheduler_address(client)  # now: a client that lost its scheduler may no longer say it
    no_worker = _NoWorkerNotice(client, address)
    try:
        while not pending.is_empty():
            if not pending.has_ready():
                # Polled, not blocked on: a scheduler without workers would leave the run waiting unsaid.
                gone = no_worker.check() if stop is None else None
                if gone is not None:  # no worker will come: the files not done are left, as a lost scheduler's are
                    stop = gone
                    rest = [index for index in range(len(futures)) if index not in handled]
                    left.extend(rest)
                    with contextlib.suppress(Exception):
                        client.cancel([futures[index] for index in rest])
                    break
                _wait_for_one(pending)
                continue
            future = next(pending)
            index = order[future.key]
            handled.add(index)
            path, target = todo[index]
            error = None
            if future.status == "finished":
                try:
                    result = _said_here(future.result())
                except OSError:  # the scheduler lost as the result came: finished on disk, a run again skips it
                    left.append(index)
                    stop = stop or CancelledOnCluster(address, SCHEDULER_LOST)
                else:
                    if isinstance(result, FileFailure):
                        error = result.error
                    elif isinstance(result, HeldElsewhere):
                        if stop is None:  # asked again after the files queued now (dask runs them in order)
                            futures[index] = client.submit(_detect_job_telling, inputs[index], options, sent,
                                                           outputs[index], names[index], True, pure=False)
                            order[futures[index].key] = index
                            handled.discard(index)
                            pending.add(futures[index])
                        else:  # the run stops: not done, its output the other run's
                            left.append(index)
                    elif result is None:  # another run into the folder finished it meanwhile
                        summary.skip_finished_elsewhere(path)
                        _tell(progress, path, "skipped")
                    else:
                        finished.append((index, replace(result, path=path)))  # the input as the caller named it
                        _say_not_square(finished[-1][1])
                        _say_doubtful_size(finished[-1][1])
                        _tell(progress, path, "done")
            elif future.status == "cancelled":
                # Not the file's failure: its earlier output stays as it was, unmarked, for a run again.
                left.append(index)
                if stop is None:  # not cancelled by this run (a full disk): dask cancelled every task
                    stop = CancelledOnCluster(address, cancel_reason(future))
            else:
                error = future.exception()
            if stops_the_run(error, folder):
                left.append(index)
                if stop is None:
                    stop = error
                    # Files not started never start; one running when the cancel comes may still finish, and a
                    # run again skips it then.
                    client.cancel([other for other in futures if not other.done()])
            elif error is not None:
                record_failure(summary, path, target, failure_line(path, error, sent=inputs[index]), progress)
            future.release()
    except BaseException:
        # Interrupted (Ctrl-C in a notebook, the caller's progress failing): a cluster that outlives the run went
        # on with every file not started, while the run's record said them left; a notebook's traceback keeps the
        # futures. Released, not cancelled: asking a scheduler that stopped answering would hold the interrupt.
        for other in futures:
            if not other.done():
                other.release()
        raise
    finally:
        summary.done.extend(result for _, result in sorted(finished, key=lambda item: item[0]))
        summary.left.extend(todo[index][0] for index in sorted(left))
    return stop


def _say_not_square(result: FileResult) -> None:
    """The warning of pixels that are not square (file_detection.said_calibration), said here, on the caller's side,
    from the record of a file a worker detected: the worker says nothing of it, its log may never reach the user."""
    warn_if_not_square(result.path, Calibration.from_record(result.record))


def _say_doubtful_size(result: FileResult) -> None:
    """A file's particle size estimated with low confidence, said as detect() says it of an array, once the file is
    done (here or on a worker): only its record held the doubt, which a library caller never heard of."""
    record = result.record
    if record.get("diameter_confidence") != "low" or "diameter_px" not in record:
        return
    from ..detection.sizing import DIAMETER_ADVICE, with_advice

    log.warning("%s: particle diameter %.1f px (%s), low confidence: %s", result.path, record["diameter_px"],
                record.get("diameter_source", "estimated"),
                with_advice(record.get("diameter_reason", ""), DIAMETER_ADVICE))


def _wait_for_one(pending) -> None:
    """Until one of ``pending``'s tasks (an as_completed) is ready or POLL_S has passed. Woken at once, as its
    own iteration is: a sleep let the worker start more files before a full disk's cancel was sent."""
    condition = getattr(pending, "thread_condition", None)  # as_completed's own, notified as each task ends
    if condition is None:
        time.sleep(POLL_S)
        return
    with condition:
        if not pending.has_ready():
            condition.wait(timeout=POLL_S)


class _NoWorkerNotice:
    """Watches, while ``client``'s scheduler (at ``address``) has no worker, for one to come. Asks the scheduler at most
    every WORKER_CHECK_S.

    A scheduler elsewhere (or a batch system's cluster, whose jobs may wait in its queue): logs that the run waits for
    a worker and how to start one, once and again every NO_WORKER_REPEAT_S it lasts; the run waits, as dask does.
    A cluster of worker processes in this process (a LocalCluster), whose nannies bring back a worker that died (a
    file that kills it): nothing said while one restarts; :meth:`check` gives the run's stop (:class:`NoWorkerLeft`)
    once no nanny has had a live worker process for NO_LIVE_WORKER_STOP_S (none could be started again), or no
    worker has joined for LOCAL_NO_WORKER_STOP_S (each dies as it starts), saying every NO_WORKER_REPEAT_S until
    then that it waits."""

    def __init__(self, client, address: str) -> None:
        self.client, self.address = client, address
        self.asked = float("-inf")
        self.first_said: float | None = None
        self.last_said = float("-inf")
        self.none_since: float | None = None  # first seen without a worker (a cluster in this process)
        self.dead_since: float | None = None  # first seen without a live worker process either
        self.paused_asked = float("-inf")
        self.paused_since: float | None = None  # first seen with every worker paused for memory, none working
        self.paused_said = float("-inf")

    def check(self) -> NoWorkerLeft | None:
        now = time.monotonic()
        if now - self.asked < WORKER_CHECK_S or self.client.status != "running":  # a lost scheduler: no answer
            return None
        self.asked = now
        try:
            workers = self.client.nthreads()
        except OSError:
            return None
        if workers:  # a worker again: should all of them go, that is said afresh
            self.first_said = self.none_since = self.dead_since = None
            self.last_said = float("-inf")
            self._say_if_paused(now)
            return None
        own = _workers_in_this_process(self.client)
        if own is None:
            self._say_waiting(now)
            return None
        if self.none_since is None:
            self.none_since = now
        if any(_has_live_worker(worker) for worker in own):
            self.dead_since = None
        elif self.dead_since is None:
            self.dead_since = now
        waited = now - self.none_since
        if self.dead_since is not None and now - self.dead_since >= NO_LIVE_WORKER_STOP_S:
            return NoWorkerLeft(waited, restarting=False)
        if waited >= LOCAL_NO_WORKER_STOP_S:
            return NoWorkerLeft(waited, restarting=True)
        if self.dead_since is None and waited >= NO_WORKER_REPEAT_S and now - self.last_said >= NO_WORKER_REPEAT_S:
            log.warning("no dask worker for %.0f s: the local cluster's worker processes are restarting; waiting for "
                        "one (the run stops after %.0f s without any)", waited, LOCAL_NO_WORKER_STOP_S)
            self.last_said = now
        return None

    def _say_if_paused(self, now: float) -> None:
        """Say, while it lasts, that every worker is paused for memory with no task running: dask starts no file on
        one, and a worker holding the model seldom frees enough to resume."""
        if now - self.paused_asked < PAUSED_CHECK_S:
            return
        self.paused_asked = now
        paused = _paused_workers(self.client)
        if not paused:
            self.paused_since, self.paused_said = None, float("-inf")
            return
        if self.paused_since is None:
            self.paused_since = now
        if now - self.paused_since < PAUSED_CHECK_S or now - self.paused_said < NO_WORKER_REPEAT_S:
            return
        own = _workers_in_this_process(self.client) is not None
        remedy = ("run with fewer --workers (each gets a larger share of the memory)" if own else
                  f"start workers with more memory, at least {WORKER_MEMORY_LIMIT} each (dask worker {self.address} "
                  f"--memory-limit {WORKER_MEMORY_LIMIT})")
        log.warning("%s: every dask worker is paused for want of memory, no file can start (%s); waiting for one to "
                    "have memory again: %s", self.address, paused, remedy)
        self.paused_said = now

    def _say_waiting(self, now: float) -> None:
        if now - self.last_said < NO_WORKER_REPEAT_S:
            return
        start = f"start one with: dask worker {self.address}"
        if self.first_said is None:
            self.first_said = now
            log.warning("%s: no dask worker is connected to this scheduler; waiting for one to join (%s)",
                        self.address, start)
        else:
            log.warning("%s: still no dask worker after %.0f s; waiting for one to join (%s)", self.address,
                        now - self.first_said, start)
        self.last_said = now


def _paused_workers(client) -> str:
    """Where every worker of ``client``'s scheduler is paused by dask for memory and runs no task, what each uses of
    its limit ("tcp://HOST:PORT uses 418 MiB, its limit 429 MiB", the first three); "" where one is not, or the
    scheduler does not say."""
    try:
        try:
            answer = client.scheduler_info(n_workers=-1)  # every worker: some versions list the first 5 by default
        except TypeError:  # versions before n_workers list them all
            answer = client.scheduler_info()
    except Exception:  # noqa: BLE001 - a scheduler lost meanwhile: the run says that itself
        return ""
    workers = answer.get("workers") or {}
    stuck = [(address, info) for address, info in workers.items() if info.get("status") == "paused"
             and not _running_tasks(info)]
    if not stuck or len(stuck) < len(workers):
        return ""
    mib = 2**20
    said = [f"{address} uses {(info.get('metrics') or {}).get('memory', 0) / mib:.0f} MiB, its limit "
            f"{(info.get('memory_limit') or 0) / mib:.0f} MiB" for address, info in stuck[:3]]
    return ", ".join(said) + (f" and {len(stuck) - 3} more" if len(stuck) > 3 else "")


def _running_tasks(info: dict) -> int:
    """Tasks a worker (its scheduler_info entry) runs now, as of its last heartbeat: a paused worker finishes those,
    and resumes as the file that filled its memory ends."""
    counts = (info.get("metrics") or {}).get("task_counts") or {}
    return sum(counts.get(state, 0) for state in ("executing", "long-running"))


def _workers_in_this_process(client) -> list | None:
    """The nannies (or threads' workers) of ``client``'s cluster where it runs them in this process (a LocalCluster),
    None for any other (a scheduler elsewhere, a batch system's jobs; a cluster with none yet, adapting, say)."""
    from distributed import Nanny, Worker

    workers = getattr(getattr(client, "cluster", None), "workers", None)
    try:
        own = list(workers.values()) if isinstance(workers, dict) else []
    except RuntimeError:  # changed by the cluster's own thread as it was read: asked again next time
        return None
    return own if own and all(isinstance(worker, (Nanny, Worker)) for worker in own) else None


def _has_live_worker(worker) -> bool:
    """Whether a nanny of a cluster in this process has a worker process alive (running, or started again after one
    died), or a worker of its threads is open. A nanny that could not start its worker has none."""
    status = getattr(getattr(worker, "status", None), "name", "")
    if status in ("closing", "closed", "failed", "closing_gracefully"):
        return False
    if not hasattr(worker, "process"):  # a worker, not a nanny: in this process's threads
        return True
    process = worker.process  # a nanny's WorkerProcess: alive from its spawn until it exits (a flag, not a wait)
    return process is not None and process.is_alive()


@dataclass(frozen=True)
class NoWorkerLeft:
    """A cluster in this process left without any worker for ``waited`` seconds: its worker processes died and none
    could be started again, or (``restarting``) each one started died before it joined."""

    waited: float
    restarting: bool

    def line(self, summary: FilesSummary) -> str:
        why = ("its worker processes keep dying as they start" if self.restarting
               else "its worker processes died and none could be started again")
        return (f"the local dask cluster has had no worker for {self.waited:.0f} s: {why} (out of memory?); "
                f"{how_far(summary)}: run again (finished files are skipped)")


def _tell(progress: Callable[[Path, str], None] | None, path: Path, status: str) -> None:
    if progress is not None:
        progress(path, status)


def record_failure(summary: FilesSummary, path: Path, target: Path, line: str,
                   progress: Callable[[Path, str], None] | None) -> None:
    """``path`` failed for ``line``: said in ``summary`` and to ``progress``, and marked in the metadata of an
    earlier output at ``target``, whose table would otherwise pass for this input's results. Shared with the
    volume runs of cli.volumes, whose failures are told alike."""
    try:
        mark_failed(target, path, line)
    except OSError as exc:  # the failure is still said; the line says the old output was left unmarked
        line += one_line(f"; its earlier output {target} could not be marked failed ({exc.strerror or exc})")
    summary.failed[path] = line
    _tell(progress, path, "failed")


def failure_line(path: Path, exc: BaseException | None, sent: Path | None = None) -> str:
    """One line: our own errors already name the file; anything else gets its name and type. ``sent``: the
    name the job was given for ``path`` (its absolute one, on a worker), said as ``path`` instead. On one line
    (errors.one_line) however the file is named: the line goes to the summary, the run's record and the output's
    metadata, and a line break in a name split it there."""
    return one_line(_failure_text(path, exc, sent))


def _failure_text(path: Path, exc: BaseException | None, sent: Path | None) -> str:
    if isinstance(exc, ParticleDetectError):
        # Its text is already on one line (ParticleDetectError.__str__): ``sent`` is found in it as written there.
        text, prefix = str(exc), one_line(f"{sent}:")
        return str(path) + text[len(prefix) - 1:] if sent is not None and text.startswith(prefix) else text
    if type(exc).__name__ == "KilledWorker":  # dask's names a task key and a worker's address, not the file
        deaths = getattr(exc, "allowed_failures", 0) + 1
        return (f"{path}: the dask worker detecting it died {deaths} time{'s' if deaths > 1 else ''} (out of memory, "
                f"or a crash{_low_memory_limit(exc)}); not detected")
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{path}: {type(exc).__name__}{': ' + text if text else ''}"


def _low_memory_limit(killed: BaseException) -> str:
    """Where the worker a KilledWorker names had a memory limit below what a worker needs (WORKER_MEMORY_LIMIT), that
    limit and the remedy, to end its line: dask's nanny kills a worker past 95 % of it, every file alike, and the
    line said nothing of why. "" for any other limit, or none."""
    from dask.utils import parse_bytes

    try:
        limit = getattr(killed.last_worker, "memory_limit", None)  # a WorkerState, sent with the exception
    except (AttributeError, IndexError):  # an exception made otherwise: nothing to say
        return ""
    if not isinstance(limit, (int, float)) or not 0 < limit < parse_bytes(WORKER_MEMORY_LIMIT):
        return ""
    return (f"; its memory limit, {limit / 2**20:.0f} MiB, is below the {WORKER_MEMORY_LIMIT} a worker needs: give "
            f"the workers more with dask worker ... --memory-limit {WORKER_MEMORY_LIMIT}")


def default_workers() -> int:
    """Worker processes for this machine: one per usable core, fewer where memory is short."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    try:
        import psutil

        by_memory = int(psutil.virtual_memory().available // WORKER_MEMORY_BYTES)
    except Exception:  # noqa: BLE001 - without psutil, trust the cores
        by_memory = cores
    return max(1, min(cores, by_memory))


def local_client(workers: int | None = None):
    """A ``dask.distributed`` client on a LocalCluster of ``workers`` processes (default: sized to
    the machine), one thread each; close it with :func:`close_local_client` when done. dask's logs are silenced
    until then (:data:`quiet_distributed_logs`), not after: a notebook using dask after the run heard none of its
    warnings."""
    quiet = contextlib.ExitStack()
    quiet.enter_context(quiet_distributed_logs())  # its chatter is not ours
    try:
        client = _start_local_client(workers)
    except BaseException:
        quiet.close()
        raise
    _QUIET_WHILE_OPEN[client] = quiet
    return client


def _start_local_client(workers: int | None):
    import dask
    from distributed import Client, LocalCluster

    workers = workers or default_workers()
    # Ctrl-C (or the command line's SIGTERM or SIGHUP) while the cluster starts would leave it half made, its threads
    # and its exit printing tracebacks: it is held until the cluster has started, then the cluster is closed and the
    # interrupt raised.
    with held_stop_signals() as interrupted, _interrupted_start(interrupted):
        # The scheduler serves HTTP (health checks) even without a dashboard, on 8787 unless told: where another
        # cluster's dashboard holds that port, dask warned in several lines, -q or not. Any free local port.
        # One file at a time per single-threaded worker (dask sends a second ahead): a file that kills its
        # worker would have the file sent ahead counted as a killer too, and failed with it.
        def start():
            with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}):
                return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                    scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                                    silence_logs=logging.CRITICAL)

        cluster = _without_interrupts(start)
        try:
            client = Client(cluster)
        except BaseException:
            with contextlib.suppress(Exception):  # the one thing to say is why the client was not made
                cluster.close()
            raise
    if interrupted:
        try:
            _act_on_held(interrupted)
        except BaseException:
            close_local_client(client, quietly=True)
            raise
    return client


def _without_interrupts(start: Callable[[], object]) -> object:
    """``start()`` (a cluster's), run in a thread of its own with STOP_SIGNALS blocked and waited on here: the threads
    it starts inherit that mask, and so the worker processes they spawn, now and when a nanny starts one again. A
    terminal's Ctrl-C or closing, or a batch system's SIGTERM, sent to every process of the run, then reaches this
    process, which keeps what was done and closes them, and not them: they printed their own KeyboardInterrupt
    tracebacks, tens of lines, as they started or worked, or died in the middle of a file. Those signals here are as
    the caller handles them (:func:`held_stop_signals`). Where signals cannot be masked (Windows) ``start`` runs
    here."""
    if not hasattr(signal, "pthread_sigmask"):
        return start()
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            # Python's resource tracker, spawned with the first worker process, unblocks SIGINT and SIGTERM in the
            # thread that starts it (it ignores them itself): started first, here, and the mask set again after. Not
            # SIGHUP: started with it blocked, or a closed terminal killed it and it printed a traceback per worker
            # as it was relaunched.
            signal.pthread_sigmask(signal.SIG_BLOCK, set(STOP_SIGNALS))
            with contextlib.suppress(Exception):
                from multiprocessing import resource_tracker

                resource_tracker.ensure_running()
            signal.pthread_sigmask(signal.SIG_BLOCK, set(STOP_SIGNALS))
            outcome["cluster"] = start()
        except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread, below
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="particle-detect cluster start", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["cluster"]


@contextlib.contextmanager
def _interrupted_start(interrupted: HeldStopSignals) -> Iterator[None]:
    """A cluster's start that fails after Ctrl-C (``interrupted`` not empty) raised as that interrupt, saying nothing
    was written: a terminal's Ctrl-C reaches the worker processes starting too, whose start then fails, where they
    are not shielded from it (:func:`_without_interrupts`). The half-started cluster is closed quietly, not by dask at
    Python's exit, with a traceback."""
    from distributed.deploy.spec import SpecCluster

    started = getattr(SpecCluster, "_instances", None)  # dask's own list, closed at exit; none in other versions
    before = set(started or ())
    try:
        yield
    except Exception:
        if not interrupted:
            raise
        for cluster in set(started or ()) - before:
            with contextlib.suppress(Exception), quiet_distributed_logs():
                cluster.close(timeout=10)
            started.discard(cluster)
        _act_on_held(interrupted)  # which signal it was, for the command line's line and status
        raise KeyboardInterrupt(CLUSTER_START_INTERRUPTED) from None  # no cluster to go on with, whatever its handler


def _act_on_held(held: HeldStopSignals) -> None:
    """What the signals held while the cluster started do now, by their own handlers: Ctrl-C's, and the command
    line's SIGTERM and SIGHUP (which notes which one came), raise KeyboardInterrupt, raised here as
    CLUSTER_START_INTERRUPTED. Handlers that do not raise let the caller go on."""
    if held.stop_requested():
        raise KeyboardInterrupt(CLUSTER_START_INTERRUPTED)


def close_local_client(client, quietly: bool = False) -> None:
    """Close a :func:`local_client` client and its cluster, without dask's shut-down chatter. ``quietly`` (after an
    interrupt or a failure): an error while closing is not raised, since the one thing to say is why the run stopped,
    and the worker processes are killed, not waited for: dask gave a busy one 4 s to finish its file, which it never
    would, so a Ctrl-C took seconds to end the command. Then the locks of the outputs a run on it left (their files
    not done: :func:`detect_files`) that no one holds any more are removed, the killed workers' among them."""
    cluster = client.cluster
    try:
        with contextlib.suppress(Exception) if quietly else contextlib.nullcontext(), quiet_distributed_logs():
            if quietly:
                with contextlib.suppress(Exception):  # its workers changing meanwhile: closed as ever, waited for
                    _kill_worker_processes(cluster)
            client.close()
            cluster.close()
    finally:
        release_left_locks(_LEFT_OUTPUTS.pop(client, ()))
        _QUIET_WHILE_OPEN.pop(client, contextlib.ExitStack()).close()  # dask's log levels back as they were


def _kill_worker_processes(cluster) -> None:
    """Kill the worker process of each nanny of ``cluster`` (a LocalCluster), told first not to start another."""
    for nanny in list(getattr(cluster, "workers", {}).values()):
        pid = getattr(getattr(nanny, "process", None), "pid", None)  # None: no live worker process
        if pid is None or not hasattr(nanny, "close_gracefully"):  # a worker in this process's threads: no process
            continue
        nanny.close_gracefully(reason="particle-detect-interrupted")  # else the nanny restarts the worker it lost
        with contextlib.suppress(OSError):  # gone meanwhile
            os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))  # SIGTERM: TerminateProcess on Windows


def release_left_locks(outputs: Iterable[Path]) -> None:
    """Remove the lock file (file_detection.holding_output) of each of ``outputs`` that no process holds: one a
    killed worker held stayed, hidden in the output folder, until a run again took it. One another run holds now
    stays."""
    for output in outputs:
        if not lock_path(output).exists():
            continue
        with contextlib.suppress(Timeout, OSError), holding_output(output, blocking=False):
            pass  # its last hold removes the file


def scheduler_client(address: str, timeout: str = "20s"):
    """A ``dask.distributed`` client connected to the scheduler at ``address`` ("tcp://HOST:8786"), which closes
    without dask's logs (see :func:`quietly_closing_client`); one ParticleDetectError naming the address when it is
    no scheduler address or none answers there."""
    from distributed.comm import get_address_host_port

    text = str(address).strip()
    if not text:  # dask's parser said "missing port number in address ''" after a line starting ": "
        raise ParticleDetectError("an empty scheduler address; give tcp://HOST:PORT")
    try:
        if not text.startswith("inproc://"):  # one process's own address: no host and port to check
            _, port = get_address_host_port(text)  # dask's own parser: a scheme it knows, a host and a numeric port
            if isinstance(port, int) and not 0 < port < 2**16:  # else the socket takes it modulo 65536, another port, refused or someone else's
                raise ValueError(f"port {port} is out of range 1-65535")
    except ValueError as exc:
        raise ParticleDetectError(f"{address}: not a scheduler address ({exc}); give tcp://HOST:PORT") from None
    _check_listening(address, text, timeout)
    _check_answers_as_scheduler(address, text, timeout)
    try:
        return quietly_closing_client()(text, timeout=timeout)
    except OSError as exc:
        raise ParticleDetectError(f"{address}: cannot reach the dask scheduler ({exc})") from None


HANDSHAKE_S = 5  # a scheduler answers dask's handshake in milliseconds once connected
# A refused connection is asked again for this long, not for the whole connect deadline as dask does: a scheduler
# started by the same script a moment before has its port open by then, and a wrong address is said within seconds.
REFUSED_GRACE_S = 3.0
# Schemes whose address is a TCP host and port, probed before dask's own attempts.
TCP_SCHEMES = ("tcp", "tls", "ws", "wss")


def _check_listening(address: str, text: str, timeout: str) -> None:
    """One ParticleDetectError within REFUSED_GRACE_S where nothing listens at ``text`` (refused), or within
    ``timeout`` where its host is unknown or never answers: dask retried a refused or unknown address until its
    whole deadline, then said it in one line all the same."""
    import socket

    from dask.utils import parse_timedelta
    from distributed.comm import get_address_host_port, parse_address

    if parse_address(text)[0] not in TCP_SCHEMES:
        return
    host, port = get_address_host_port(text)
    seconds = parse_timedelta(timeout, "s")
    start = time.monotonic()
    while True:
        try:
            with socket.create_connection((host, port), timeout=max(0.1, seconds - (time.monotonic() - start))):
                return
        except socket.gaierror as exc:
            raise ParticleDetectError(f"{address}: cannot reach the dask scheduler (unknown host {host}: "
                                      f"{exc.strerror or exc})") from None
        except ConnectionRefusedError:
            if time.monotonic() - start >= min(REFUSED_GRACE_S, seconds):
                raise ParticleDetectError(f"{address}: cannot reach the dask scheduler (connection refused: nothing "
                                          f"listens on port {port} of {host}; is the scheduler running, and is "
                                          "that its address?)") from None
            time.sleep(0.2)
        except OSError as exc:  # a timeout (a firewall dropping the connection), no route to the host, ...
            why = exc.strerror or str(exc) or f"no answer within {seconds:g} s"
            raise ParticleDetectError(f"{address}: cannot reach the dask scheduler ({why})") from None


def _check_answers_as_scheduler(address: str, text: str, timeout: str) -> None:
    """One ParticleDetectError unless a dask scheduler answers at ``text``. Client() itself waits for ever on a
    port that accepts the connection but never answers dask's handshake (the dashboard's, an HTTP server's), and
    fails with a traceback on one that answers otherwise (a worker's address: a TypeError; another server: a
    MemoryError for the bytes it took for a length)."""
    import asyncio

    from dask.utils import parse_timedelta
    from distributed.core import rpc
    from distributed.security import Security
    from distributed.utils import LoopRunner

    seconds = parse_timedelta(timeout, "s")
    # As Client() connects: with dask's TLS settings, where it has some (else tls:// was refused whatever they were).
    connection_args = Security().get_connection_args("client")

    async def identity() -> dict:
        async with rpc(text, timeout=seconds, connection_args=connection_args) as server:
            return await server.identity()

    def not_dask(why: str) -> ParticleDetectError:
        return ParticleDetectError(f"{address}: something answers there, but not a dask scheduler ({why}; its "
                                   "dashboard's port? a scheduler listens on 8786 unless told otherwise); give the "
                                   "address its log names as 'Scheduler at'")

    try:
        # Past the deadline of the attempts to connect (an OSError), which does not bound the handshake after them.
        answer = LoopRunner(asynchronous=False).run_sync(identity, callback_timeout=seconds + HANDSHAKE_S)
    except (TimeoutError, asyncio.TimeoutError) as exc:  # before OSError (TimeoutError's base): no handshake
        if _answers_http(text):
            raise not_dask("an HTTP server") from None
        raise _security_mismatch(address, text, exc) or _silent(address, seconds + HANDSHAKE_S) from None
    except OSError as exc:
        raise _security_mismatch(address, text, exc) or ParticleDetectError(
            f"{address}: cannot reach the dask scheduler ({exc})") from None
    except Exception as exc:
        raise _security_mismatch(address, text, exc) or not_dask(
            f"its answer is not dask's: {type(exc).__name__}") from None
    kind = answer.get("type") if isinstance(answer, dict) else None
    if kind != "Scheduler":
        raise ParticleDetectError(f"{address}: a dask {kind or 'server'} answers there, not its scheduler; "
                                  "give the scheduler's address (the one each worker connects to)")


def _silent(address: str, waited_s: float) -> ParticleDetectError:
    """The line for a port that takes connections and says nothing: a dask scheduler whose process is stopped or
    swapping does just that (the kernel accepts for it), as does a server waiting for another protocol's first
    words; told as "not a dask scheduler", its user looked for another address while the right one was stuck."""
    return ParticleDetectError(f"{address}: something answers there, but not a dask scheduler that answers its "
                               f"handshake (none in {waited_s:g} s): a dask scheduler that stopped answering (its "
                               "process stopped or overloaded? try again once it answers), or another server's port "
                               "(a scheduler listens on 8786 unless told otherwise; its log names it as 'Scheduler "
                               "at')")


HTTP_PROBE_S = 2.0  # an HTTP server (a dashboard) answers a request at once


def _answers_http(text: str) -> bool:
    """Whether an HTTP server answers at the TCP address ``text`` (a dashboard's port, given for the scheduler's):
    it says nothing to dask's handshake, as a stalled scheduler does, but answers an HTTP request."""
    import socket

    from distributed.comm import get_address_host_port, parse_address

    if parse_address(text)[0] != "tcp":
        return False
    try:
        with socket.create_connection(get_address_host_port(text), timeout=HTTP_PROBE_S) as probe:
            probe.sendall(b"HEAD / HTTP/1.0\r\n\r\n")
            return probe.recv(5) == b"HTTP/"
    except OSError:  # no answer in time among them
        return False


# Each scheme with TLS and its plain counterpart: a scheduler listens on one of them only.
WITH_TLS = {"tls": "tcp", "wss": "ws"}
TLS_SETTINGS = "distributed.comm.tls.ca-file, distributed.comm.tls.client.cert and .client.key"


def _security_mismatch(address: str, text: str, exc: BaseException) -> ParticleDetectError | None:
    """Where dask's handshake at ``text`` failed (``exc``) as it does when the address's scheme and the scheduler's
    disagree on TLS, or this client has no TLS settings, the one line that says so and what to give; None otherwise.
    tls:// against a plain scheduler was said to be no dask scheduler (a TypeError, "its dashboard's port?"), and
    tcp:// against one that requires TLS could not reach it ("... before comm was established")."""
    from distributed.comm import parse_address
    from distributed.comm.core import CommClosedError

    scheme, where = parse_address(text)
    if scheme in WITH_TLS:
        plain = f"{WITH_TLS[scheme]}://{where}"
        if isinstance(exc, TypeError) and "ssl_context" in str(exc):  # no TLS settings: no context to connect with
            return ParticleDetectError(f"{address}: {scheme}:// needs this client's TLS certificates, and dask's "
                                       f"configuration names none ({TLS_SETTINGS}); a scheduler without TLS: give "
                                       f"{plain}")
        return ParticleDetectError(f"{address}: no dask scheduler answers there over TLS; a scheduler without TLS (its "
                                   f"log names it as 'Scheduler at: {WITH_TLS[scheme]}://...'): give {plain}; else "
                                   f"check this client's TLS certificates ({TLS_SETTINGS} in dask's configuration)")
    secure = next((tls for tls, plain in WITH_TLS.items() if plain == scheme), None)
    if secure is not None and isinstance(exc, CommClosedError):  # a TLS listener drops a plain handshake
        return ParticleDetectError(f"{address}: the connection was closed before dask's handshake: a scheduler that "
                                   f"requires TLS (its log names it as 'Scheduler at: {secure}://...')? give "
                                   f"{secure}://{where}, with this client's TLS certificates in dask's configuration "
                                   f"({TLS_SETTINGS})")
    return None


@functools.cache
def quietly_closing_client() -> type:
    """``distributed.Client`` whose ``close`` logs nothing of dask's: closing a client that lost its scheduler
    cancels its attempts to reconnect, which dask logs as a traceback after the run has said why it stopped."""
    from distributed import Client

    class QuietlyClosingClient(Client):
        def close(self, *args, **kwargs):
            # Closed already, it has nothing to log; and the collector closes it again at the interpreter's exit,
            # where the silencing (its import) failed: "Exception ignored in: Client.__del__ ... ImportError".
            if self.status in ("closed", "newly-created"):
                return super().close(*args, **kwargs)
            with quiet_distributed_logs():
                return super().close(*args, **kwargs)

    return QuietlyClosingClient


def threads_per_worker(workers: int) -> int:
    """torch CPU threads per worker so that the workers together use every core once."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, workers))
