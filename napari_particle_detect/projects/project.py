"""A review project on disk: corrected centres per frame, reviewed frames and regions, model rounds.

Layout of a project folder (``<image stem>.particle-detect/`` beside the image)::

    state.json                      what was reviewed (in acceptance order), rounds, settings: ProjectState
    frames/frame-0003.csv           centres of frame 3 as last edited: frame,y,x,score,source
    rounds/round-001/model.pt+json  the model the review started from (a copy of the shipped one)
    rounds/round-002/...            later rounds; round.json beside the model repeats its RoundInfo
    rounds/.building-*/             a round being built (locked by its builder while it lives)
    .lock                           taken by every change, so two programs never lose each other's

Every change takes the project lock, re-reads ``state.json``, applies itself and writes atomically
(temporary file, fsync, rename, fsync of the folder), so a crash, a power cut or a second napari
window loses nothing. Reads pick up changes made by others. Opening a project removes what killed
programs left behind (temporary files, abandoned round workspaces) and recovers a round that was
moved into place but not yet recorded. Nothing in ``state.json`` is ever used as a path: frames and
rounds are validated numbers, and symbolic links inside the project are refused.
Nothing here imports Qt or napari.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import shutil
import tempfile
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
from filelock import FileLock, Timeout

from ..errors import ParticleDetectError
from ..files.io import UnreadableFrameError, atomic_write_bytes, atomic_write_text, fsync_directory
from ..files.centre_csv import read_centres, write_centres
from .project_state import (  # Region, RoundInfo and ProjectState are this module's API too
    MAX_DIAMETER, MAX_FRAMES, MAX_ROUND, POLARITIES, FieldChecker, ProjectState, Region, RoundInfo,
    check_frame_number, frames_of_this_image, make_region, parse_round, parse_state,
)
from .project_state import (  # which image a project is of; the state before the last change, or in place of a lost one
    DAMAGED_SUFFIX, backup_path, image_mismatch, lost_state, pixel_fingerprint, read_state_with_backup,
    state_file_is_sound,
)
from .project_state import FRAME_FILE, FRAMES_FOLDER, LOCK_FILE  # the project's files, named where its state reads them
from ..files.tables import check_sources, empty_table, normalise_table
from ..project_layout import PROJECT_SUFFIX, ROUND_FOLDER
from .frame_merge import FrameSave, FrameSnapshot, FrameStamp, file_stamp, merge_frames, stat_stamp, their_changes

__all__ = ["MODEL_DAMAGED", "MODEL_MISSING", "PROJECT_SUFFIX", "Project", "ProjectState", "Region", "RoundInfo",
           "WaitCancelled", "image_record", "is_project_folder", "made_for_image", "mark_window_thread",
           "project_folder_for_data", "project_folder_for_image", "projects_home", "projects_made_for_image",
           "waiting_cancellably"]

HOME_ENV = "NAPARI_PARTICLE_DETECT_HOME"
# How long a change waits for another program's change to finish before saying the project is busy.
LOCK_TIMEOUT_S = 30.0
# The same on a window's thread (mark_window_thread), which is frozen while it waits: another program's own
# changes take milliseconds, so a lock held longer is a hung program, not one worth freezing a window for.
WINDOW_LOCK_TIMEOUT_S = 1.0
MAX_NAME = 255  # bytes in one file name on common filesystems
_WORKSPACE_PREFIX = ".building-"
# Files other modules keep in a project folder, written atomically (volume_rounds.SETTINGS_FILE): a
# write killed half-way leaves a temporary the next opening tidies away.
SIDE_FILES = ("volume.json",)
# How often a change waiting for another program's under waiting_cancellably looks at its cancel: a user's
# Cancel is noticed within this, not after LOCK_TIMEOUT_S.
CANCEL_POLL_S = 0.1
# The frames read kept for reading again, at most this many centres in all (a few tens of MB): most recently read first.
READ_FRAMES_KEPT_ROWS = 500_000
# What a list of rounds says of a round whose model cannot be used (Project.round_model_problem).
MODEL_MISSING = "model file missing"
MODEL_DAMAGED = "model file damaged"
# What the cached state is stamped with while its state.json is missing (Project._state_without_its_file).
_NO_STATE_FILE = ("no state.json",)
T = TypeVar("T")
_window_thread = threading.local()  # .marked: the calling thread runs a window (mark_window_thread)
_cancellable = threading.local()  # .cancel, .waiting: waiting_cancellably's, on the calling thread


class WaitCancelled(ParticleDetectError):
    """A change given up, before it wrote anything, while it waited for the project lock (waiting_cancellably)."""


def mark_window_thread() -> None:
    """Make changes made on the calling thread (a window's: Qt's main thread) wait WINDOW_LOCK_TIMEOUT_S, not
    LOCK_TIMEOUT_S, for another program's, then say in a window's words that the project is in use. Workers
    the window starts and the CLI keep the long wait: nothing on screen freezes while they wait."""
    _window_thread.marked = True


@contextmanager
def waiting_as_a_worker() -> Iterator[None]:
    """Changes made meanwhile on a window's thread wait LOCK_TIMEOUT_S as a worker's do."""
    marked = getattr(_window_thread, "marked", False)
    _window_thread.marked = False
    try:
        yield
    finally:
        _window_thread.marked = marked


@contextmanager
def waiting_cancellably(cancel: Callable[[], bool], waiting: Callable[[], None] | None = None) -> Iterator[None]:
    """Changes made meanwhile on the calling thread (a worker's round) that must wait for another program's
    (another window, a command-line run) give up with WaitCancelled, writing nothing, within CANCEL_POLL_S
    of ``cancel()`` turning true, and call ``waiting()`` once when they start to wait (to say so)."""
    before = getattr(_cancellable, "cancel", None), getattr(_cancellable, "waiting", None)
    _cancellable.cancel, _cancellable.waiting = cancel, waiting
    try:
        yield
    finally:
        _cancellable.cancel, _cancellable.waiting = before


# ---- where projects live ------------------------------------------------------------------------
def projects_home() -> Path:
    """Where projects of images without a file live (override with $NAPARI_PARTICLE_DETECT_HOME)."""
    return Path(os.environ.get(HOME_ENV) or Path.home() / ".napari-particle-detect") / "projects"


def _fit_name(stem: str, suffix: str) -> str:
    """``stem + suffix``, with a long stem shortened and fingerprinted so the name fits the filesystem."""
    name = stem + suffix
    if len(name.encode()) <= MAX_NAME:
        return name
    digest = hashlib.sha1(stem.encode()).hexdigest()[:10]
    keep = stem.encode()[: MAX_NAME - len(suffix.encode()) - 11].decode(errors="ignore")
    return f"{keep}-{digest}{suffix}"


def project_folder_for_image(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(_fit_name(path.stem, PROJECT_SUFFIX))


def project_folder_for_data(name: str, data: np.ndarray) -> Path:
    """A stable folder for an unsaved image: its name plus a fingerprint of its pixels.

    Only three frames are read, so lazily loaded stacks are not pulled into memory.
    """
    frames = data if np.ndim(data) == 3 else np.asarray(data)[None]
    digest = hashlib.sha1(str(tuple(np.shape(frames))).encode())
    for index in sorted({0, len(frames) // 2, len(frames) - 1}):
        digest.update(np.ascontiguousarray(np.asarray(frames[index])).tobytes())
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")[:100] or "image"
    return projects_home() / f"{safe}-{digest.hexdigest()[:10]}{PROJECT_SUFFIX}"


def is_project_folder(folder: Path) -> bool:
    """Whether the existing folder ``folder`` is a project's, or may become one: named like one, empty (hidden files
    aside), or holding a project's state.json (or its backup), frames or rounds (a project whose state.json went
    missing still has them). Any other folder is an ordinary one (the images' own, say): a project is kept inside
    it, never made of it (its state.json, frames and rounds among the images made it "a napari project" to train)."""
    if folder.suffix == PROJECT_SUFFIX:
        return True
    try:
        names = {entry.name for entry in os.scandir(folder)}
    except OSError:
        return True  # unreadable: opening it says what is wrong
    marks = {"state.json", backup_path(Path("state.json")).name, FRAMES_FOLDER, "rounds"}
    return bool(names & marks) or all(name.startswith(".") for name in names)


def pixels_record(data) -> dict:
    """What a project records of an image's pixels ``data`` (a 2D image or a T/Z stack, lazy or not), as
    :meth:`Project.open` and :func:`image_record` take them: its frame count (1 for a 2D image), frame shape and
    first frame (the 2D image itself), the only one read."""
    n_frames, first_frame = (data.shape[0], data[0]) if np.ndim(data) == 3 else (1, data)
    return {"n_frames": n_frames, "frame_shape": tuple(data.shape[-2:]), "first_frame": first_frame}


def image_record(image: str | None = None, n_frames: int | None = None, frame_shape: Sequence[int] | None = None,
                 kind: str = "spheres", first_frame: np.ndarray | None = None) -> ProjectState:
    """What a project records of its image: its file (or layer) name, frame count, frame shape, kind and, given
    ``first_frame``, a fingerprint of its pixels. A new project starts from it; a project found elsewhere is
    matched with it (:func:`made_for_image`)."""
    return ProjectState(image=image, n_frames=int(n_frames) if n_frames else None,
                        frame_shape=tuple(int(v) for v in frame_shape) if frame_shape else None, kind=kind,
                        fingerprint=_readable_fingerprint(first_frame))


def _readable_fingerprint(first_frame) -> str | None:
    """pixel_fingerprint of ``first_frame``; None when it is not given or cannot be read (a garbled page of a stack
    the dock opens all the same, drawing it blank). Another frame's fingerprint would not do: it differs from the one
    a project made before the damage recorded, and rounds check frame 0's (learning/rounds.check_round_image); with
    none, the image is known by its name and size, and the fingerprint is recorded once the frame reads."""
    if first_frame is None:
        return None
    try:
        return pixel_fingerprint(first_frame)
    except UnreadableFrameError:
        return None


def made_for_image(recorded: ProjectState, image: ProjectState) -> bool:
    """Whether a project whose state is ``recorded`` was made for ``image`` (an :func:`image_record`): of its kind,
    of its file name, and of its size and pixels (its fingerprint) where both know them. The name is asked for
    even when the pixels agree: copies of one synthetic or blank image share pixels, not names and folders."""
    if recorded.kind != image.kind or image_mismatch(recorded, image.n_frames, image.frame_shape,
                                                     image.fingerprint) is not None:
        return False
    shapes = recorded.frame_shape, image.frame_shape
    if all(shapes) and len(shapes[0]) != len(shapes[1]):
        return False  # a review as volumes is not one as 2D frames, though of the same file
    return (recorded.image is not None and image.image is not None
            and Path(recorded.image).name == Path(image.image).name)


def projects_made_for_image(places: Iterable[Path], image: ProjectState) -> list[Path]:
    """The project folders (``*.particle-detect`` holding a state.json) directly inside ``places`` that were made
    for ``image`` (:func:`made_for_image`), in the order found. Places and projects that cannot be read, and
    links (a project is never read through one), are passed over: this looks, it never says what is wrong."""
    if image.image is None:
        return []
    # A state.json without the image's name (as JSON writes it) cannot match: not decoded at all, so looking
    # through a full projects home stays quick.
    clue = json.dumps(Path(image.image).name)[1:-1]
    return [folder for place in dict.fromkeys(Path(p) for p in places)
            for folder, state in project_states_in(place, clue) if made_for_image(state, image)]


def project_states_in(place: Path, clue: str = "") -> Iterator[tuple[Path, ProjectState]]:
    """(folder, state) of each project folder (``*.particle-detect`` holding a state.json) directly inside
    ``place`` whose state.json's text holds ``clue``, sorted by name. What cannot be read, and links, are passed
    over, as :func:`projects_made_for_image` passes them."""
    try:
        entries = sorted(entry.name for entry in os.scandir(place)
                         if entry.name.endswith(PROJECT_SUFFIX) and entry.is_dir(follow_symlinks=False))
    except OSError:
        return
    for name in entries:
        state = project_state_of(place / name, clue)
        if state is not None:
            yield place / name, state


def project_state_of(folder: Path, clue: str = "") -> ProjectState | None:
    """The state of the project in ``folder`` where its state.json's text holds ``clue``; None where it holds none,
    not that, or one that cannot be read (or reached through a link): this looks, it never says what is wrong."""
    state_path = folder / "state.json"
    try:
        if state_path.is_symlink():
            return None
        text = state_path.read_text(encoding="utf-8")
        return parse_state(json.loads(text), state_path) if clue in text else None
    except (OSError, ValueError, ParticleDetectError):
        return None


def _project_folder_inside(folder: Path, image: ProjectState) -> Path:
    """The project of ``image`` kept inside the ordinary folder ``folder`` (see :func:`is_project_folder`): the
    project there made for it, else ``<folder>/<image stem>.particle-detect`` (new, or one of that name made
    for another image, which Project.open refuses in one line)."""
    if image.image is None:
        raise ParticleDetectError(f"{folder}: not a project folder (it holds other files and no state.json); give "
                                  "a project folder, or an empty one")
    default = project_folder_for_image(folder / Path(image.image).name)
    made = projects_made_for_image([folder], image)
    if default in made or not made:
        return default
    if len(made) > 1:
        raise ParticleDetectError(f"{folder}: holds {len(made)} projects made for this image "
                                  f"({', '.join(p.name for p in made)}); choose one of them")
    return made[0]


# ---- the project --------------------------------------------------------------------------------
class Project:
    """The project folder of one image; every mutating call is on disk when it returns.

    ``problems`` lists what could not be read or tidied (a damaged frame file, an incomplete round
    folder); the rest of the project stays usable. Each problem is also issued as a warning.
    """

    def __init__(self, folder: Path, defaults: ProjectState) -> None:
        self.folder = Path(folder)
        self.problems: list[str] = []
        self._defaults = defaults
        self._cached: tuple[tuple, ProjectState] | None = None
        # The stamp of a state.json that could not be decoded, read from its backup instead: the next
        # write keeps it aside as state.json.damaged, never as the backup.
        self._damaged_stamp: tuple | None = None
        # Frame files as this object last read or wrote them whole: a save over one of these stamps replaces a
        # sound file, any other is read first, so a damaged one is kept aside rather than overwritten.
        self._sound_frames: dict[int, FrameStamp] = {}
        # Frames as last read, by their file's stamp: the docks read every saved frame on many a refresh (10 ms a
        # frame through pandas), and a stamp still matching means the file holds what was read (every save renames).
        self._read_frames: OrderedDict[int, tuple[FrameStamp, bytes, int]] = OrderedDict()
        self._read_frames_lock = threading.Lock()
        self._lock = FileLock(str(self.folder / LOCK_FILE), timeout=LOCK_TIMEOUT_S)
        self._workspace_locks: dict[Path, FileLock] = {}
        # The last state this object read from or wrote to state.json: a state.json gone since, with nothing to go
        # back to (the project folder deleted or moved while open), is said with what it held.
        self._last_on_disk: ProjectState | None = None

    # ---- opening -------------------------------------------------------------------------------
    @classmethod
    def open(cls, target: str | Path, image: str | None = None, n_frames: int | None = None,
             frame_shape: tuple[int, ...] | None = None, kind: str = "spheres",
             first_frame: np.ndarray | None = None, folder_choosable: bool = True) -> "Project":
        """Open the project at ``target``: a project folder (one named ``*.particle-detect``, an empty folder, or
        one holding a project), an ordinary folder chosen to keep it in (the project there made for ``image``,
        else ``<folder>/<image stem>.particle-detect``), or an image file beside which it lives. Nothing is
        written until there is something to keep, except tidying after a crash.
        ``kind``: what its frames hold (a project of another kind is refused: projects/kinds_project.py).

        A project records the size of its image and (given ``first_frame``, the image's first frame or
        volume, lazy or not: a sparse grid of it is read) a fingerprint of its pixels: an image of another
        frame count or frame shape, or other pixels, is refused in one line rather than shown the centres
        another image was reviewed with. A project made before fingerprints gets one recorded now.
        ``folder_choosable``: whether that line offers Folder… (the Particle detection dock's; a project of another
        kind, or a volume project, has no such button in its dock)."""
        target = Path(target)
        is_image_file = not (target.suffix == PROJECT_SUFFIX or target.is_dir())
        if is_image_file and image is None:
            image = str(target)
        defaults = image_record(image, n_frames, frame_shape, kind, first_frame)
        if is_image_file:
            folder = project_folder_for_image(target)
        else:
            folder = target if is_project_folder(target) else _project_folder_inside(target, defaults)
        project = cls(folder, defaults)
        if folder.exists() and not folder.is_dir():
            raise ParticleDetectError(f"{folder}: is a file, not a project folder")
        for part in ("state.json", FRAMES_FOLDER, "rounds", LOCK_FILE):
            project._refuse_link(folder / part)
        if project.state().kind != kind:  # a damaged state is reported now, not at the first click
            raise ParticleDetectError(f"{folder}: this project holds {project.state().kind}, not {kind}")
        project._refuse_another_image(folder_choosable and kind == "spheres")
        project._tidy()
        project._report_reviews_without_files()
        project._record_fingerprint()
        return project

    def _refuse_another_image(self, folder_choosable: bool) -> None:
        """One line when the image opened is not the one this project was made for (another frame count,
        frame shape or first frame): its centres and reviews would be shown, and trained on, over other pixels.
        ``folder_choosable``: Folder… is a way out (the volume and rods/chains docks have none: named there, it sent
        the user looking for a button their dock lacks)."""
        state, given = self.state(), self._defaults
        name = f"'{Path(given.image).name}'" if given.image else "this image"
        mismatch = image_mismatch(state, given.n_frames, given.frame_shape, given.fingerprint, name)
        if mismatch is not None:
            choose = " or choose another for this image (Folder… in the Particle detection dock)" * folder_choosable
            raise ParticleDetectError(
                f"{self.folder}: {mismatch}; open it with that image, or move the project folder aside (a new one "
                f"starts){choose}")

    def _record_fingerprint(self) -> None:
        """Give a project made before fingerprints (or opened without pixels until now) the one of its image."""
        fingerprint = self._defaults.fingerprint
        if fingerprint is None or not self.state_path.is_file() or self.state().fingerprint is not None:
            return

        def change(state: ProjectState) -> None:
            state.fingerprint = state.fingerprint or fingerprint

        try:
            self._update(change)
        except ParticleDetectError:
            pass  # a read-only project: recorded by the first opening that can write

    def _report_reviews_without_files(self) -> None:
        """Reviewed frames and regions whose frame file is gone (deleted or lost outside this program) are
        one problem: shown as reviewed with no centres, and counted by a round as frames without particles,
        they would mislead. Rounds leave them out (learning/rounds.py); accepting the frame again (or
        taking its acceptance back) ends it. The state is left as it is: the file may come back from a copy."""
        lost = self._frames_without_files(self.state())
        if not lost:
            return
        plural = len(lost) > 1
        named = ", ".join(str(f) for f in lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
        self._problem(f"{self.folder / FRAMES_FOLDER}: no centres file for reviewed frame{'s' if plural else ''} {named} "
                      f"({self.frame_path(lost[0]).name}{', …' if plural else ''}): {'their' if plural else 'its'} "
                      f"reviewed centres are lost, so rounds leave {'them' if plural else 'it'} out until "
                      f"{'they are' if plural else 'it is'} reviewed and accepted again")

    def _frames_without_files(self, state: ProjectState) -> list[int]:
        """Frames reviewed (whole or in regions) in ``state`` whose centres file is not there."""
        lost = []
        for frame in sorted({f for f, _ in state.accepted}):
            try:
                os.lstat(self.frame_path(frame))  # a link is there (and refused when the frame is read)
            except FileNotFoundError:
                lost.append(frame)
            except OSError:
                pass  # unreadable is not gone: reading the frame says what is wrong
        return lost

    def _refuse_link(self, path: Path) -> None:
        if path.is_symlink():
            raise ParticleDetectError(f"{path}: is a symbolic link; a project never reads or writes through links")

    def _inside(self, path: Path) -> Path:
        """``path`` after checking that nothing between the project folder and it is a symbolic link."""
        current = self.folder
        for part in path.relative_to(self.folder).parts:
            current = current / part
            self._refuse_link(current)
        return path

    def _subfolder(self, name: str) -> Path:
        folder = self._inside(self.folder / name)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _problem(self, text: str) -> None:
        if text not in self.problems:
            self.problems.append(text)
            warnings.warn(text, stacklevel=3)

    def report_problem(self, text: str) -> None:
        """Add ``text`` to ``problems`` (and warn), for what a reader of this project's files found wrong."""
        self._problem(text)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Disk trouble (full, read-only, permissions) as one clear message instead of a traceback."""
        try:
            yield
        except OSError as exc:
            raise ParticleDetectError(f"{self.folder}: cannot save the project ({exc.strerror or exc})") from None

    @contextmanager
    def _locked(self, timeout: float | None = None) -> Iterator[None]:
        """Hold the project lock: no other program (or Project object) changes the project meanwhile. Waits
        ``timeout`` for it, by default LOCK_TIMEOUT_S (WINDOW_LOCK_TIMEOUT_S on a window's thread)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        window = getattr(_window_thread, "marked", False)
        if timeout is None:
            timeout = WINDOW_LOCK_TIMEOUT_S if window else LOCK_TIMEOUT_S
        try:
            self._acquire(timeout)
        except Timeout:
            if window:  # the window keeps what it could not write (its layers) and writes it with the next change
                raise ParticleDetectError(
                    f"{self.folder}: the project is busy (a round being saved, or another napari window or "
                    "program using it), so nothing was written to it now; nothing is lost: your edits stay in "
                    "this window and are saved with your next change, or try again in a moment") from None
            raise ParticleDetectError(f"{self.folder}: the project is busy in another program; try again") from None
        try:
            yield
        finally:
            self._lock.release()

    def _acquire(self, timeout: float) -> None:
        """Take the project lock within ``timeout`` (Timeout if not); under :func:`waiting_cancellably`, in
        slices of CANCEL_POLL_S so that its cancel is noticed while another program holds the lock."""
        cancel = getattr(_cancellable, "cancel", None)
        if cancel is None:
            self._lock.acquire(timeout=timeout)
            return
        waiting = getattr(_cancellable, "waiting", None)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._lock.acquire(timeout=min(CANCEL_POLL_S, max(0.0, deadline - time.monotonic())))
                return
            except Timeout:
                if time.monotonic() >= deadline:
                    raise
            if cancel():
                raise WaitCancelled(f"{self.folder}: cancelled while waiting for the project, in use by another "
                                    "window or program; nothing was written")
            if waiting is not None:
                waiting()
                waiting = None

    # ---- state ---------------------------------------------------------------------------------
    @property
    def state_path(self) -> Path:
        return self.folder / "state.json"

    def state(self) -> ProjectState:
        """The state as on disk now (re-read when another program changed it); a copy to read, not to edit."""
        return self._read_state(fresh=False)

    def _read_state(self, fresh: bool) -> ProjectState:
        path = self._inside(self.state_path)
        try:
            info = path.stat()
        except FileNotFoundError:
            return self._state_without_its_file(path)
        except OSError as exc:
            raise ParticleDetectError(f"{path}: cannot read the project state ({exc.strerror or exc})") from None
        stamp = stat_stamp(info)
        if fresh or self._cached is None or self._cached[0] != stamp:
            state, problem = read_state_with_backup(path)
            if problem is not None:  # undecodable: the state before its last change, or one rebuilt, said
                self._problem(problem + self._recover_rounds_in(state))
                self._damaged_stamp = stamp
            self._cached = (stamp, self._completed(state))
            self._last_on_disk = self._cached[1]
        return _copied(self._cached[1])

    def _state_without_its_file(self, path: Path) -> ProjectState:
        """The state of a project with no state.json: a new one's (nothing on disk yet), or the one a lost
        state.json leaves in its backup or frame files (:func:`lost_state`), said once. Read once too: while
        state.json is missing nobody changed the state (every change, a first frame's save too, writes it)."""
        if self._cached is None or self._cached[0] != _NO_STATE_FILE:
            found = lost_state(path)
            if found is None:
                self._say_gone(path)
                return replace(self._defaults, accepted=[], rounds=[], detected_by={}, round_thresholds={},
                               edited=[], edited_outside=[], edited_inside=[], unknown={})
            state, problem = found
            self._problem(problem + self._recover_rounds_in(state))
            self._cached = (_NO_STATE_FILE, self._completed(state))
        return _copied(self._cached[1])

    def _say_gone(self, path: Path) -> None:
        """A state.json this object saw, gone with nothing to go back to: without a word, the project started
        afresh at the next change, its reviews and rounds lost, while a dock still showed them as saved."""
        before, self._last_on_disk = self._last_on_disk, None
        if before is None:
            return
        self._problem(f"{path}: gone while the project was open (its folder deleted or moved?), with no backup or "
                      f"frame file left to go back to: its saved centres, reviews ({len(before.accepted)} accepted "
                      f"frames and regions) and rounds ({len(before.rounds)}) are not in it, and it starts anew there "
                      "at its next change (only what is saved from then on is in it)")

    def _completed(self, state: ProjectState) -> ProjectState:
        """``state`` as read, with what it leaves out of the image taken from the image opened."""
        state.image = state.image or self._defaults.image
        state.n_frames = state.n_frames or self._defaults.n_frames
        state.frame_shape = state.frame_shape or self._defaults.frame_shape
        # A rebuilt state counts every frame file as edited, a file beyond the image's frames too: written so,
        # the state would be refused at the next reading.
        state.edited = [f for f in state.edited if f < (state.n_frames or MAX_FRAMES)]
        state.edited_outside = [f for f in state.edited_outside if f in state.edited]
        return state

    def _recover_rounds_in(self, state: ProjectState) -> str:
        """Put the rounds on disk into ``state``, one read from a backup or rebuilt, and a round in use where it
        has none (every panel that detects or fine-tunes needs one); what was chosen, in words ('' if nothing)."""
        recovered = self._recover_orphans(state)
        if state.current_round is not None or not state.rounds:
            return ""
        # Made in use when made: an imported model, or a fine-tuned one better than its parent (commit_round).
        chosen = [r for r in state.rounds if r.parent is None or r.improved is True] or state.rounds
        state.current_round = chosen[-1].number
        return (f"; {len(recovered)} round{'s' if len(recovered) != 1 else ''} read again from "
                f"{self.folder / 'rounds'}, {chosen[-1].name} in use (the last one put in use when it was made; "
                "choose another if you had)")

    def _write_state(self, state: ProjectState) -> None:
        path = self._inside(self.state_path)
        self._keep_previous_state(path)
        atomic_write_text(path, json.dumps(state.to_dict(), indent=2))
        self._cached = self._damaged_stamp = None
        self._last_on_disk = state

    def _keep_previous_state(self, path: Path) -> None:
        """Copy the state.json about to be replaced to state.json.bak (a damaged one to state.json.damaged,
        leaving the good backup), so damage done to state.json later costs one change, not the review.

        A copy, not a hard link: damage done in place (a truncation) would reach a linked backup too. Not
        synced: a power cut is what the atomic write of state.json itself survives; the backup is for a
        state.json damaged after it was written."""
        try:
            stamp = stat_stamp(path.stat())
        except FileNotFoundError:
            return
        sound = stamp != self._damaged_stamp and (
            (self._cached is not None and self._cached[0] == stamp) or state_file_is_sound(path))
        target = backup_path(path) if sound else _unused_name(path.with_name(path.name + DAMAGED_SUFFIX))
        _copy_file(path, self._inside(target), sync=False)

    def _update(self, change: Callable[[ProjectState], T]) -> T:
        """Apply ``change`` to the state as on disk, under the lock, and write it back atomically."""
        with self._writing(), self._locked():
            state = self._read_state(fresh=True)  # what others wrote up to now is kept
            result = change(state)
            self._write_state(state)
            return result

    # ---- frames --------------------------------------------------------------------------------
    def frame_path(self, frame: int) -> Path:
        return self.folder / FRAMES_FOLDER / f"frame-{check_frame_number(frame, None, str(self.folder)):04d}.csv"

    def save_frame(self, frame: int, table: pd.DataFrame) -> Path:
        """Store the centres of one frame as they are now (an empty table is a frame with no particles)."""
        frame = self._check_frame(frame)
        table = self._writable(frame, table)
        with self._writing(), self._locked():
            if not self.state_path.exists():
                self._write_state(self.state())  # the folder is only created once there is something to keep
            return self._write_frame(frame, table)

    def save_frame_merging(self, frame: int, table: pd.DataFrame, base: FrameSnapshot | None) -> FrameSave:
        """Store ``table`` as ``frame``'s centres, keeping what another window saved of the frame since
        this one's ``base`` (what it last read or wrote there; None: overwrite, as :meth:`save_frame`):
        under the lock, the window's edits since ``base`` are applied to the file as it is now
        (projects/frame_merge.py). Returns what is on disk now."""
        frame = self._check_frame(frame)
        table = self._writable(frame, table)
        with self._writing(), self._locked():
            table, theirs = self._merged(frame, table, base)
            # The lock is ours already; every edit is written through save_frame. Its normalise_table finds the
            # table normal (a check and a copy); a merged one, not yet normalised, is normalised there once.
            self.save_frame(frame, table)
            return FrameSave(table, self.frame_stamp(frame), theirs)

    def frame_stamp(self, frame: int) -> FrameStamp:
        """What tells this version of ``frame``'s file from the next one (None: no file); one stat, no read."""
        return file_stamp(self._inside(self.frame_path(frame)))

    def frame_stamps(self) -> dict[int, FrameStamp]:
        """:meth:`frame_stamp` of every saved frame (taken before reading them: a save in between then
        reads as a change at the next save, never as none)."""
        return {frame: self.frame_stamp(frame) for frame in self.saved_frames()}

    def frame_snapshot(self, frame: int) -> FrameSnapshot | None:
        """``frame`` as saved now, with its stamp (taken first, as in :meth:`frame_stamps`); None where it
        has no file or a damaged one (reported in ``problems``)."""
        stamp = self.frame_stamp(frame)
        table = self._load_or_report(frame)
        return None if table is None else FrameSnapshot(table, stamp)

    def _merged(self, frame: int, table: pd.DataFrame,
                base: FrameSnapshot | None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """Under the lock: (``table``, or ``table``'s changes since ``base`` applied to the file where another
        save changed it, not normalised; the file as that save left it, or None where none did). ``table``:
        :meth:`_writable`'s."""
        if base is None or self.frame_stamp(frame) == base.stamp:  # the file is only read when it changed
            return table, None
        try:
            theirs = their_changes(base.table, self.load_frame(frame))
        except ParticleDetectError:
            return table, None  # a damaged file is replaced, as it always was
        return (table, None) if theirs is None else (merge_frames(base.table, theirs, table), theirs)

    def _accept_merged(self, frame: int, table: pd.DataFrame, base: FrameSnapshot | None,
                       region: Region | None = None) -> FrameSave:
        """Under the lock: :meth:`_merged`, its network points (inside ``region``) marked accepted, written."""
        table, theirs = self._merged(frame, table, base)
        if theirs is not None:  # a table of both saves' rows
            table = normalise_table(table, frame)
        table = _mark_accepted(table, region)
        self._write_frame(frame, table)
        return FrameSave(table, self.frame_stamp(frame), theirs)

    def _writable(self, frame: int, table: pd.DataFrame) -> pd.DataFrame:
        """``table`` as ``frame``'s file holds it, checked before anything is written (the state included):
        a row of an unknown source would leave a file that is no longer read back."""
        table = normalise_table(table, frame)
        check_sources(table, f"{self.folder}: frame {frame}", "; nothing was written")
        return table

    def _write_frame(self, frame: int, table: pd.DataFrame) -> Path:
        """Under the lock: ``table`` (normalised, as :meth:`_writable` gives it: a frame save normalised the same
        table up to four times) written as ``frame``'s file."""
        axes = [c for c in ("z", "y", "x") if c in table.columns]  # z: a volume's frame
        if not np.isfinite(table[axes].to_numpy(float)).all():
            raise ParticleDetectError(f"frame {frame}: centres must have finite {', '.join(axes)}")
        self._subfolder(FRAMES_FOLDER)
        self._keep_damaged_frame(frame)
        # Every digit: a score rounded on disk can fall to the threshold and hide the point on reopening
        # (0.30027 saved as 0.300 is not above 0.30).
        path = write_centres(table, self._inside(self.frame_path(frame)), float_format=None)
        self._sound_frames[frame] = self.frame_stamp(frame)
        return path

    def _keep_damaged_frame(self, frame: int) -> None:
        """Under the lock, before ``frame``'s file is replaced: copy it to ``frame-NNNN.csv.damaged`` when it
        cannot be read (cut short or garbled outside this program). The window showed none of its centres, so
        the save would end the user's earlier centres of that frame for good; kept, they can be copied back."""
        path = self._inside(self.frame_path(frame))
        stamp = file_stamp(path)
        if stamp is None or self._sound_frames.get(frame) == stamp:
            return
        try:
            self.load_frame(frame)
            return
        except ParticleDetectError as exc:
            damage = str(exc)
        kept = self._inside(_unused_name(path.with_name(path.name + DAMAGED_SUFFIX)))
        _copy_file(path, kept)
        self._problem(f"{damage}; kept as {kept.name} before frame {frame}'s centres were saved over it "
                      "(its readable lines can be copied back from there)")

    def load_frame(self, frame: int) -> pd.DataFrame | None:
        """The saved centres of ``frame`` (None if never saved); a damaged file is a ParticleDetectError."""
        path = self._inside(self.frame_path(frame))
        stamp = file_stamp(path)  # before reading: a save in between reads as unknown, never as sound
        if stamp is None:
            return None
        table = self._read_frame(int(frame), path, stamp)
        self._report_outside_frame(path, table)
        self._sound_frames[int(frame)] = stamp
        return table

    def _read_frame(self, frame: int, path: Path, stamp: FrameStamp) -> pd.DataFrame:
        """``frame``'s file read and checked, or a copy of it as read before under the same stamp."""
        with self._read_frames_lock:  # a dock's thread and a worker's may read at once
            kept = self._read_frames.get(frame)
            if kept is not None and kept[0] == stamp:
                self._read_frames.move_to_end(frame)
                return pickle.loads(kept[1])
        if not _ends_with_newline(path):
            # Every save ends the file with a newline: a last line without one was cut short (a copy or a
            # disk that failed), and its cut number would read as a wrong point, learned as ground truth.
            raise ParticleDetectError(f"{path}: truncated: its last line is incomplete")
        table = read_centres(path)
        table = normalise_table(table, frame)
        check_sources(table, str(path))
        with self._read_frames_lock:
            # Pickled: each reader gets a table of its own laid out as read (a DataFrame.copy() shares its columns
            # until written, and pandas then hands out read-only arrays, which napari's layers write into).
            self._read_frames[frame] = (stamp, pickle.dumps(table), len(table))
            self._read_frames.move_to_end(frame)
            rows = sum(kept[2] for kept in self._read_frames.values())
            while rows > READ_FRAMES_KEPT_ROWS and len(self._read_frames) > 1:
                rows -= self._read_frames.popitem(last=False)[1][2]
        return table

    def _report_outside_frame(self, path: Path, table: pd.DataFrame) -> None:
        """One problem line for ``path``'s centres beyond the frame's edges (a file edited outside this program,
        or copied from another image's project). Reviewed, each is a particle no model can find there, taken
        as truth (a rods or chains round's held-out score may count it missed); the rows are kept, as the file's
        other lines are: the user decides where they belong."""
        shape = self.state().frame_shape
        axes = ("z", "y", "x")[-len(shape):] if shape else ()
        if not axes or not len(table) or any(axis not in table for axis in axes):
            return
        values = table[list(axes)].to_numpy(float)
        # A pixel's centre is its index: the frame spans -0.5 .. size - 0.5 (as make_region checks a box).
        outside = ((values < -0.5) | (values > np.asarray(shape, float) - 0.5)).any(axis=1)
        count = int(outside.sum())
        if not count:
            return
        first = ", ".join(f"{axis}={value:g}" for axis, value in zip(axes, values[outside][0]))
        them = "them" if count > 1 else "it"
        self._problem(f"{path}: {count} centre{'s' if count > 1 else ''} outside the "
                      f"{'x'.join(str(v) for v in shape)} frame (first at {first}); no detection can find a particle "
                      f"there: delete or move {them} (kept in the file)")

    def _load_or_report(self, frame: int) -> pd.DataFrame | None:
        try:
            return self.load_frame(frame)
        except ParticleDetectError as exc:
            self._problem(f"{exc} (frame {frame} left out)")
            return None

    def holds_work(self) -> bool:
        """Whether saved centres or accepted areas are here (False where they cannot be read): what closing an
        image may say is kept, nothing claimed that was not saved."""
        try:
            return bool(self.saved_frames() or self.reviewed_areas())
        except (ParticleDetectError, OSError):
            return False

    def saved_frames(self) -> list[int]:
        folder = self._inside(self.folder / FRAMES_FOLDER)
        if not folder.exists():
            return []
        limit = self.state().n_frames or MAX_FRAMES
        frames = []
        for path in folder.iterdir():
            match = FRAME_FILE.fullmatch(path.name)
            if match is None:
                continue
            if int(match.group(1)) >= limit:
                self._problem(f"{path}: frame {int(match.group(1))} is beyond {frames_of_this_image(limit)} (left out)")
                continue
            frames.append(int(match.group(1)))
        return sorted(frames)

    def load_all(self) -> pd.DataFrame:
        """Every saved frame's centres; a damaged frame file is reported in ``problems`` and left out."""
        parts = [self._load_or_report(f) for f in self.saved_frames()]
        parts = [p for p in parts if p is not None and len(p)]
        return pd.concat(parts, ignore_index=True) if parts else empty_table()

    def _check_frame(self, frame: int) -> int:
        return check_frame_number(frame, self.state().n_frames, str(self.folder))

    # ---- reviewing: whole frames and regions ---------------------------------------------------
    @property
    def reviewed_frames(self) -> list[int]:
        """Frames accepted whole, oldest acceptance first."""
        return [f for f, region in self.state().accepted if region is None]

    def is_reviewed(self, frame: int) -> bool:
        return (int(frame), None) in self.state().accepted

    def reviewed_areas(self) -> list[tuple[int, Region | None]]:
        """Every accepted frame (region None: the whole frame) and region, oldest acceptance first."""
        return self.state().accepted

    def regions(self, frame: int | None = None) -> list[Region]:
        """Accepted regions (of one frame, or all), oldest acceptance first."""
        return [r for f, r in self.state().accepted if r is not None and (frame is None or f == int(frame))]

    def accept_frame(self, frame: int, table: pd.DataFrame) -> pd.DataFrame:
        """Mark a frame reviewed with these centres; network points in it become 'accepted'.
        Accepting it again moves it to the end of the acceptance order. A row whose ``source`` is none of
        files.tables.SOURCES is refused before anything is written (as by every writer here)."""
        return self.accept_frame_merging(frame, table, None).table

    def accept_frame_merging(self, frame: int, table: pd.DataFrame, base: FrameSnapshot | None) -> FrameSave:
        """:meth:`accept_frame`, keeping what another window saved of the frame since ``base`` (as
        :meth:`save_frame_merging`); network points it added become 'accepted' too."""
        frame = self._check_frame(frame)
        table = self._writable(frame, table)

        def change(state: ProjectState) -> FrameSave:
            saved = self._accept_merged(frame, table, base)
            state.accepted = [a for a in state.accepted if a != (frame, None)] + [(frame, None)]
            return saved

        return self._update(change)

    def unaccept_frame(self, frame: int) -> None:
        frame = int(frame)
        self._update(lambda state: setattr(state, "accepted", [a for a in state.accepted if a != (frame, None)]))

    def accept_region(self, frame: int, box: Sequence[float] | Region, table: pd.DataFrame) -> pd.DataFrame:
        """Mark the rectangle ``box`` = (y0, x0, y1, x1) of ``frame`` reviewed.

        ``table`` is the frame's full current table: its network points inside the box become
        'accepted', the frame is saved as it is, and the region is recorded (accepting the same box
        again moves it to the end of the acceptance order instead of adding it twice).
        """
        return self.accept_region_merging(frame, box, table, None).table

    def accept_region_merging(self, frame: int, box: Sequence[float] | Region, table: pd.DataFrame,
                              base: FrameSnapshot | None) -> FrameSave:
        """:meth:`accept_region`, keeping what another window saved of the frame since ``base`` (as
        :meth:`save_frame_merging`); network points it added inside the box become 'accepted' too."""
        state = self.state()
        region = make_region(frame, box, state.n_frames, state.frame_shape, str(self.folder))
        table = self._writable(region.frame, table)

        def change(state: ProjectState) -> FrameSave:
            saved = self._accept_merged(region.frame, table, base, region)
            entry = (region.frame, region)
            state.accepted = [a for a in state.accepted if a != entry] + [entry]
            # The new region may hold every edit known outside the others: a dock that knows says so again.
            state.edited_outside = [f for f in state.edited_outside if f != region.frame]
            return saved

        return self._update(change)

    def unaccept_region(self, frame: int, box: Sequence[float] | Region) -> None:
        region = make_region(frame, box, source=str(self.folder))

        def change(state: ProjectState) -> None:
            state.accepted = [a for a in state.accepted if a != (region.frame, region)]
            if region.frame in state.edited_inside:  # the edits it held, points deleted too, are no longer learned
                state.edited_inside.remove(region.frame)
                state.edited = sorted(set(state.edited) | {region.frame})

        self._update(change)

    def corrections(self, frames: list[int] | None = None) -> pd.DataFrame:
        """The reviewed centres (the user's ground truth) of whole ``frames`` (default: all reviewed)."""
        frames = self.reviewed_frames if frames is None else frames
        parts = [self._load_or_report(f) for f in frames]
        parts = [p for p in parts if p is not None]
        return pd.concat(parts, ignore_index=True) if parts else empty_table()

    def region_truth(self, region: Region) -> pd.DataFrame:
        """The saved centres inside an accepted region (the user's ground truth there)."""
        table = self._load_or_report(region.frame)
        if table is None:
            return empty_table()
        return table[region.contains(table["y"], table["x"], table.get("z"))].reset_index(drop=True)

    def training_split(self, hold_out: bool = True) -> tuple[list[int], list[int]]:
        """(frames to train on, frames to score on): the most recently accepted frame is held out
        when there are at least two reviewed frames, so every round is scored on a frame it never saw."""
        reviewed = self.reviewed_frames
        if hold_out and len(reviewed) >= 2:
            return sorted(reviewed[:-1]), [reviewed[-1]]
        return sorted(reviewed), []

    # ---- settings remembered between sessions --------------------------------------------------
    @property
    def diameter(self) -> float | None:
        return self.state().diameter

    @property
    def polarity(self) -> str:
        return self.state().polarity

    @property
    def threshold(self) -> float | None:
        """The review threshold last chosen (the dock's slider) for the round in use, None until one was
        (another round's is kept with its frames: :meth:`held_thresholds`)."""
        return self.state().threshold

    def remember_detection(self, diameter: float, polarity: str) -> None:
        check = FieldChecker(self.folder)
        diameter = check.number(diameter, "diameter", 0.0, MAX_DIAMETER, open_low=True)
        polarity = check.text(polarity, "polarity", choices=POLARITIES)

        def change(state: ProjectState) -> None:
            state.diameter, state.polarity = diameter, polarity

        self._update(change)

    def remember_threshold(self, value: float) -> None:
        value = FieldChecker(self.folder).number(value, "threshold", 0.0, 1.0)
        if self.state().threshold != value:
            self._update(lambda state: setattr(state, "threshold", value))

    def save_side_file(self, name: str, text: str) -> Path:
        """Write ``text`` to the file ``name`` in the project folder (a setting a skin of this project
        keeps beside its state) atomically, under the project lock, creating the state first so the
        folder is a project."""
        path = self.folder / name
        with self._writing(), self._locked():
            if not self.state_path.exists():
                self._write_state(self.state())
            atomic_write_text(self._inside(path), text)
        return path

    # ---- model rounds --------------------------------------------------------------------------
    @property
    def rounds(self) -> list[RoundInfo]:
        return self.state().rounds

    def round(self, number: int) -> RoundInfo:
        for info in self.rounds:
            if info.number == number:
                return info
        raise no_round_error(self.folder, number, self.rounds)

    def round_path(self, number: int) -> Path:
        number = FieldChecker(self.folder).integer(number, "round", 1, MAX_ROUND)
        return self._inside(self.folder / "rounds" / f"round-{number:03d}" / "model.pt")

    def round_model_problem(self, number: int) -> str | None:
        """What a list of rounds says of round ``number`` whose model cannot be used: MODEL_MISSING (its
        folder or weights deleted) or MODEL_DAMAGED (its card unreadable, its weights no PyTorch file); None
        when it looks sound. Checked as loading it begins (its card, the weights' first bytes), not loaded:
        lists ask at every refresh, and loading it says the rest."""
        from ..models.registry import not_torch_file, saved_card

        try:
            weights = self.round_path(number)  # a linked folder is refused here, as when the round is used
            if not weights.is_file() or not weights.with_suffix(".json").is_file():
                return MODEL_MISSING
            saved_card(weights)
            return MODEL_DAMAGED if not_torch_file(weights) else None
        except (OSError, ParticleDetectError):
            return MODEL_DAMAGED

    @property
    def current_round(self) -> RoundInfo | None:
        state = self.state()
        return self.round(state.current_round) if state.current_round is not None else None

    def set_current_round(self, number: int) -> RoundInfo:
        """Detect with round ``number`` from now on; the round in use before keeps, for the frames it
        detected, the threshold they were shown at, and ``number`` gets back the one it was left at (None:
        never in use, its card's applies)."""
        info = self.round(number)
        self._update(lambda state: self._switch_round(state, self._known_round(state, number)))
        return info

    def _switch_round(self, state: ProjectState, number: int) -> None:
        """``state`` with round ``number`` in use (see :meth:`set_current_round`)."""
        old = state.current_round
        if old == number:
            return
        if old is not None:
            kept = state.threshold if state.threshold is not None else self._card_threshold(old)
            if kept is not None:
                state.round_thresholds[old] = kept
            # Frames saved before rounds were recorded per frame: what they show is the old round's.
            reviewed = {f for f, region in state.accepted if region is None}
            for frame in self.saved_frames():
                if frame not in state.detected_by and frame not in reviewed:
                    state.detected_by[frame] = old
            state.threshold = state.round_thresholds.pop(number, None)
        state.current_round = number

    def _card_threshold(self, number: int) -> float | None:
        """The threshold tuned for round ``number`` (its card's); None when its card cannot be read."""
        from ..models.registry import read_card

        try:
            return read_card(self.round_path(number).with_suffix(".json")).threshold
        except ParticleDetectError:
            return None

    # ---- which round detected which frame ------------------------------------------------------
    @property
    def detected_by(self) -> dict[int, int]:
        """Frame -> the round whose scores its network points carry (frames detected since this was kept)."""
        return dict(self.state().detected_by)

    def record_detections(self, frames: Sequence[int], number: int) -> None:
        """Frames whose network points round ``number`` has just found."""
        frames = [self._check_frame(f) for f in frames]
        number = FieldChecker(self.folder).integer(number, "round", 1, MAX_ROUND)

        def change(state: ProjectState) -> None:
            state.detected_by.update({f: number for f in frames})

        if any(self.state().detected_by.get(f) != number for f in frames):
            self._update(change)

    def set_detected_by(self, frame: int, number: int | None) -> None:
        """Frame ``frame``'s network points are round ``number``'s again (None: the model the project
        started from), as when an undo brings back the points an earlier detection gave."""
        frame = self._check_frame(frame)
        if number is not None:
            number = FieldChecker(self.folder).integer(number, "round", 1, MAX_ROUND)

        def change(state: ProjectState) -> None:
            if number is None:
                state.detected_by.pop(frame, None)
            else:
                state.detected_by[frame] = number

        if self.state().detected_by.get(frame) != number:
            self._update(change)

    # ---- which frames hold edits their last detection did not give ------------------------------
    @property
    def edited_frames(self) -> list[int]:
        """Frames the user edited since they were last detected, in this session or an earlier one: edits a round
        does not learn, or may not (the dock clears a frame whose every edit lies inside its accepted regions)."""
        return list(self.state().edited)

    @property
    def edited_where_unknown(self) -> list[int]:
        """Of :attr:`edited_frames`, those whose edits are not known to reach outside their accepted regions: marked
        in an earlier session or through this API, they may all lie inside them (and a round learn them)."""
        state = self.state()
        return [f for f in state.edited if f not in state.edited_outside]

    @property
    def edited_inside_frames(self) -> list[int]:
        """Frames whose edits all lie inside their accepted regions (learned, so not :attr:`edited_frames`):
        un-accepting one of those regions marks the frame edited again."""
        return list(self.state().edited_inside)

    def mark_edited(self, frame: int, outside: bool = False) -> None:
        """``frame`` holds the user's edits from now on; ``outside``: some are known to lie outside its accepted
        regions (a dock that saw it detected compared them). Written once: marking it again without ``outside``
        leaves it as it is (the edits known outside are still there)."""
        frame = self._check_frame(frame)
        state = self.state()
        if frame in state.edited and (not outside or frame in state.edited_outside):
            return

        def change(state: ProjectState) -> None:
            state.edited = sorted(set(state.edited) | {frame})
            state.edited_outside = sorted(set(state.edited_outside) | ({frame} if outside else set()))
            state.edited_inside = [f for f in state.edited_inside if f != frame]

        self._update(change)

    def clear_edited(self, frames: Sequence[int], inside: bool = False) -> None:
        """``frames`` were detected again: what they hold now is the network's (their edits, where they had
        any, are in the window's undo steps). ``inside``: rather, their edits all lie inside their accepted
        regions (learned, so not marked), which un-accepting one of those regions marks again."""
        frames = {int(f) for f in frames}
        state = self.state()
        if not frames & set(state.edited) and (frames <= set(state.edited_inside) if inside
                                               else not frames & set(state.edited_inside)):
            return

        def change(state: ProjectState) -> None:
            state.edited = [f for f in state.edited if f not in frames]
            state.edited_outside = [f for f in state.edited_outside if f not in frames]
            state.edited_inside = sorted(set(state.edited_inside) | frames if inside
                                         else set(state.edited_inside) - frames)

        self._update(change)

    def held_thresholds(self) -> dict[int, float]:
        """Frame -> threshold, for the frames whose network points another round than the one in use
        found: each is shown at the threshold its round's detections were left at (its card's where none
        was kept), never at the round in use's (one model's scores against another's threshold)."""
        state = self.state()
        held: dict[int, float] = {}
        cards: dict[int, float | None] = {}
        for frame, number in state.detected_by.items():
            if number == state.current_round or state.current_round is None:
                continue
            threshold = state.round_thresholds.get(number)
            if threshold is None:
                if number not in cards:
                    cards[number] = self._card_threshold(number)
                threshold = cards[number]
            if threshold is not None:
                held[frame] = threshold
        return held

    def _known_round(self, state: ProjectState, number: int) -> int:
        if number not in {r.number for r in state.rounds}:
            raise no_round_error(self.folder, number, state.rounds)
        return number

    def ensure_initial_round(self, model_path: str | Path | None = None) -> RoundInfo:
        """Round 1 is a copy of the model reviewing started from (default: the shipped one)."""
        if self.rounds:
            return self.current_round or self.rounds[-1]
        from ..models.registry import default_model_path

        source = Path(model_path) if model_path is not None else default_model_path()
        # Asked again under the lock, held until the round is in: two programs opening a fresh project at
        # once would otherwise both see no round and import the model twice (rounds 1 and 2).
        with self._writing(), self._locked():
            if self.rounds:
                return self.current_round or self.rounds[-1]
            return self.import_model(source, origin="shipped" if model_path is None else f"from {source}")

    def import_model(self, path: str | Path, origin: str | None = None) -> RoundInfo:
        """Copy a saved model into the project as the next round and make it current. A model of another kind
        than the project's, or for volumes where its rounds detect in frames (or the other way round), is
        refused in one line naming its file before anything is copied: it failed only at Detect."""
        from ..models import load_model
        from ..models.registry import copy_model, require_kind

        model = load_model(path, "cpu")  # validates the files before anything is copied
        require_kind(model, self.state().kind, model.path, spatial_dims=self._spatial_dims())
        workspace = self.new_workspace()
        try:
            with self._writing():
                copy_model(model.path, workspace / "model.pt")  # with the criterion its card names
        except BaseException:
            self.discard_workspace(workspace)
            raise
        return self.commit_round(workspace, RoundInfo(number=0, origin=origin or f"imported from {model.path}"))

    def _spatial_dims(self) -> int:
        """3 when the project's frames are volumes, else 2: as its rounds' models detect (the one in use, or
        the first), or, before any round, as the frame shape it records says."""
        from ..models.registry import saved_card

        held = self.current_round or next(iter(self.rounds), None)
        if held is not None:
            try:
                return saved_card(self.round_path(held.number)).spatial_dims
            except ParticleDetectError:
                pass  # a damaged round is reported where it is used; the frame shape still tells
        shape = self.state().frame_shape
        return 3 if shape is not None and len(shape) == 3 else 2

    def delete_round(self, number: int) -> RoundInfo:
        """Remove a round that is not in use: its row first, then its folder, moved aside under the lock
        and removed after. A crash never leaves a row without files: before the move, the next opening
        recovers the round; after it, the moved-aside folder is a leftover that opening tidies away."""
        with self._writing(), self._locked():
            state = self._read_state(fresh=True)
            info = next((r for r in state.rounds if r.number == int(number)), None)
            if info is None:
                raise no_round_error(self.folder, number, state.rounds)
            if state.current_round == info.number:
                # Said as round_files.deletion_refusal says it (a round put in use since that check: a race).
                raise ParticleDetectError(f"cannot delete {info.name}: it is the round in use; "
                                          f"{way_to_another_round(state.frame_shape)}")
            state.rounds = [r for r in state.rounds if r.number != info.number]
            if info.number not in state.detected_by.values():  # its frames, if any, keep showing at its threshold
                state.round_thresholds.pop(info.number, None)
            self._write_state(state)
            folder = self._rounds_on_disk().get(info.number)
            doomed = None
            if folder is not None:
                doomed = folder.with_name(f"{_WORKSPACE_PREFIX}deleted-{folder.name}-{os.getpid()}")
                os.rename(folder, doomed)
                fsync_directory(folder.parent)
        if doomed is not None:
            shutil.rmtree(doomed, ignore_errors=True)
        return info

    def new_workspace(self) -> Path:
        """A private folder to build a round in, locked while this object builds there (another window
        will not tidy it away); :meth:`commit_round` publishes it in one rename, :meth:`discard_workspace`
        drops it."""
        with self._writing(), self._locked():
            rounds = self._subfolder("rounds")
            # Made and locked under the project lock, so tidying never sees it unlocked.
            workspace = Path(tempfile.mkdtemp(dir=rounds, prefix=_WORKSPACE_PREFIX))
            lock = FileLock(str(_workspace_lock_path(workspace)), thread_local=False)
            lock.acquire(timeout=0)
            self._workspace_locks[workspace] = lock
            return workspace

    def discard_workspace(self, workspace: Path) -> None:
        """Remove a workspace and its lock (after an error or a cancel)."""
        workspace = Path(workspace)
        shutil.rmtree(workspace, ignore_errors=True)
        self._release_workspace(workspace)

    def _release_workspace(self, workspace: Path) -> None:
        lock = self._workspace_locks.pop(Path(workspace), None)
        lock_path = _workspace_lock_path(Path(workspace))
        if lock is not None:
            try:
                lock_path.unlink(missing_ok=True)  # still ours: nobody can be waiting on a fresh workspace's lock
            except OSError:
                pass
            lock.release()

    def commit_round(self, workspace: Path, info: RoundInfo, make_current: bool = True) -> RoundInfo:
        """Move a finished workspace into place as the next free round (on disk and in the state) and
        record it; with ``make_current`` detection switches to it. Returns the info as recorded."""
        workspace = Path(workspace)
        rounds = self.folder / "rounds"
        if (workspace.parent != rounds or not workspace.name.startswith(_WORKSPACE_PREFIX) or workspace.is_symlink()
                or not workspace.is_dir()):
            raise ParticleDetectError(f"{workspace}: not a round workspace of {self.folder}")

        def change(state: ProjectState) -> RoundInfo:
            self._recover_orphans(state)
            number = max([r.number for r in state.rounds] + list(self._rounds_on_disk()) + [state.last_round]) + 1
            if number > MAX_ROUND:
                raise ParticleDetectError(f"{self.folder}: no round numbers left")
            recorded = replace(info, number=number, created=info.created or time.strftime("%Y-%m-%d %H:%M:%S"))
            # The info travels with the model, so a crash before the state is written loses nothing.
            atomic_write_text(workspace / "round.json", json.dumps(recorded.to_dict(), indent=2))
            for path in workspace.iterdir():
                _fsync_file(path)
            target = self._inside(rounds / recorded.name)
            os.rename(workspace, target)  # the number is free on disk: the rename cannot land inside another round
            fsync_directory(rounds)
            state.rounds.append(recorded)
            state.last_round = max(state.last_round, number)
            if make_current:
                self._switch_round(state, number)
            return recorded

        recorded = self._update(change)
        self._release_workspace(workspace)
        return recorded

    def _rounds_on_disk(self) -> dict[int, Path]:
        folder = self._inside(self.folder / "rounds")
        if not folder.is_dir():
            return {}
        found = {}
        for path in folder.iterdir():
            match = ROUND_FOLDER.match(path.name)
            if match and 1 <= int(match.group(1)) <= MAX_ROUND:
                found[int(match.group(1))] = path
        return found

    def _recover_orphans(self, state: ProjectState) -> list[int]:
        """Record rounds that are on disk but not in ``state`` (a crash between rename and state write)."""
        known = {r.number for r in state.rounds}
        recovered = []
        for number, path in sorted(self._rounds_on_disk().items()):
            if number in known:
                continue
            if path.is_symlink() or not (path / "model.pt").is_file() or not (path / "model.json").is_file():
                self._problem(f"{path}: incomplete round folder (left out; its number is not reused)")
                continue
            info = RoundInfo(number=number, origin="recovered after an interruption")
            try:
                saved = parse_round(json.loads((path / "round.json").read_text("utf-8")), 0, FieldChecker(path / "round.json"))
                info = replace(saved, number=number)
            except (OSError, ValueError, ParticleDetectError):
                pass  # an older round without round.json: the model itself is what matters
            if info.parent is not None and info.parent not in known | {number}:
                info.parent = None
            state.rounds.append(info)
            known.add(number)
            recovered.append(number)
        state.rounds.sort(key=lambda r: r.number)
        return recovered

    # ---- leftovers of killed programs ----------------------------------------------------------
    def leftover_workspaces(self) -> list[Path]:
        """Round workspaces nobody is building in any more (their program ended or was killed)."""
        rounds = self.folder / "rounds"
        if not rounds.is_dir() or rounds.is_symlink():
            return []
        return sorted(p for p in rounds.glob(_WORKSPACE_PREFIX + "*")
                      if p.is_dir() and not p.is_symlink() and not _workspace_in_use(p))

    def _temporary_files(self) -> list[Path]:
        """Half-written files of this project's own saves (atomic writes name them .NAME.*.tmp); a folder
        the user chose as the project may hold other programs' files, which are left alone."""
        patterns = [(self.folder, f".{name}.*.tmp") for name in ("state.json", *SIDE_FILES)]
        patterns += [(self.folder / FRAMES_FOLDER, ".frame-*.csv.*.tmp")]
        patterns += [(folder, ".round.json.*.tmp") for folder in self._rounds_on_disk().values()]
        return sorted(p for folder, pattern in patterns if folder.is_dir() and not folder.is_symlink()
                      for p in folder.glob(pattern) if p.is_file() and not p.is_symlink())

    def _stale_workspace_locks(self) -> list[Path]:
        rounds = self.folder / "rounds"
        if not rounds.is_dir() or rounds.is_symlink():
            return []
        return sorted(p for p in rounds.glob(_WORKSPACE_PREFIX + "*.lock")
                      if not p.with_suffix("").is_dir() and not _workspace_in_use(p.with_suffix("")))

    def clean_leftovers(self) -> list[Path]:
        """Remove what killed programs left behind: abandoned round workspaces, half-written temporary
        files and round folders missing from the state are recovered. Returns the paths removed."""
        with self._writing(), self._locked():
            removed = []
            # Under the project lock no save is half-way, so every temporary file is a dead one.
            for path in self._temporary_files():
                path.unlink(missing_ok=True)
                removed.append(path)
            workspaces = self.leftover_workspaces()
            for workspace in workspaces:
                shutil.rmtree(workspace, ignore_errors=True)
                _workspace_lock_path(workspace).unlink(missing_ok=True)
                removed.append(workspace)
            self._say_discarded(workspaces)
            for lock in self._stale_workspace_locks():
                lock.unlink(missing_ok=True)
            state = self._read_state(fresh=True)
            recovered = self._recover_orphans(state)
            if recovered:
                self._write_state(state)
            return removed

    def _say_discarded(self, workspaces: list[Path]) -> None:
        """One problem line for the interrupted rounds whose work the tidy-up removed (it went silently, even a
        round that had finished training and only awaited being added). A deleted round's folder left
        half-removed is no work lost."""
        interrupted = [p.name for p in workspaces if not p.name.startswith(_WORKSPACE_PREFIX + "deleted-")]
        if interrupted:
            whose = ("an interrupted round's work" if len(interrupted) == 1
                     else f"{len(interrupted)} interrupted rounds' work")
            self._problem(f"{self.folder / 'rounds'}: {whose} ({', '.join(interrupted)}) was discarded; "
                          "it was never added as a round (fine-tune again to make it)")

    def _tidy(self) -> None:
        """On open: clean and recover when there is something to, reporting (not raising) trouble."""
        try:
            needed = bool(self._temporary_files() or self.leftover_workspaces() or self._stale_workspace_locks()
                          or set(self._rounds_on_disk()) - {r.number for r in self.state().rounds})
        except OSError:
            return
        if not needed:
            return
        try:
            self.clean_leftovers()
        except ParticleDetectError as exc:
            self._problem(f"could not tidy the project: {exc}")


def no_round_error(folder: Path, number: int, rounds: Sequence[RoundInfo]) -> ParticleDetectError:
    """The refusal of a round ``number`` the project lacks, with the numbers it has: a mistyped
    ``rounds --delete 9`` otherwise sent the user back to list them first."""
    have = ", ".join(str(info.number) for info in rounds) or "none yet"
    return ParticleDetectError(f"{folder}: no model round {number} (rounds: {have})")


def way_to_another_round(frame_shape: Sequence[int] | None) -> str:
    """How another round of a project of frames ``frame_shape`` is put in use, said with a refusal to delete the
    one in use: the command line, which refuses it too, cannot switch rounds, and "switch to another round first"
    sent users looking for an option it lacks."""
    if frame_shape is not None and len(frame_shape) == 3:  # the 3D dock has no rounds table to choose one in
        return "a new round that beats it takes its place (Fine-tune in the napari 3D dock)"
    return "switch to another round first (double-click it in the napari dock's rounds table)"


def _copied(state: ProjectState) -> ProjectState:
    """A copy of a cached ``state`` that its reader may change without changing the cache."""
    return replace(state, accepted=list(state.accepted), rounds=[replace(r) for r in state.rounds],
                   detected_by=dict(state.detected_by), round_thresholds=dict(state.round_thresholds),
                   edited=list(state.edited), edited_outside=list(state.edited_outside),
                   edited_inside=list(state.edited_inside), unknown=dict(state.unknown))


def _mark_accepted(table: pd.DataFrame, region: Region | None = None) -> pd.DataFrame:
    """``table`` with its network points (those inside ``region``; None: all) marked 'accepted'."""
    table = table.copy()
    chosen = (table["source"] == "model").to_numpy()
    if region is not None:
        chosen = chosen & region.contains(table["y"], table["x"], table.get("z"))
    table.loc[chosen, "source"] = "accepted"
    return table


def _ends_with_newline(path: Path) -> bool:
    """Whether ``path``'s last byte is a newline (an empty or unreadable file counts: its reader says what
    is wrong with it)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() == 0:
                return True
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"
    except OSError:
        return True


def _copy_file(source: Path, target: Path, sync: bool = True) -> None:
    """``source``'s bytes written atomically to ``target``: a copy, never a link that later damage would reach."""
    def copy(handle) -> None:
        with open(source, "rb") as reading:
            shutil.copyfileobj(reading, handle)

    atomic_write_bytes(target, copy, sync=sync)


def _unused_name(path: Path) -> Path:
    """``path``, or ``path-2``, ``path-3``... where taken: damage found later never replaces damage kept before."""
    candidate, number = path, 1
    while os.path.lexists(candidate):
        number += 1
        candidate = path.with_name(f"{path.name}-{number}")
    return candidate


def _workspace_lock_path(workspace: Path) -> Path:
    return workspace.with_name(workspace.name + ".lock")


def _workspace_in_use(workspace: Path) -> bool:
    """Whether some program (this one included) holds the workspace's lock."""
    lock_path = _workspace_lock_path(workspace)
    if not lock_path.exists():
        return False
    probe = FileLock(str(lock_path), thread_local=False)
    try:
        probe.acquire(timeout=0)
    except Timeout:
        return True
    except OSError:
        return False
    probe.release()
    return False


def _fsync_file(path: Path) -> None:
    if path.is_file():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
