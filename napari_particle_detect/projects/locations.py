"""Where the dock keeps an image file's project: beside the file, or, when that folder cannot be written
(a read-only share, a CD, another user's folder), under the per-user projects home.

The folder in the projects home is named after the image and a short fingerprint of its absolute path,
so two images called alike in different folders get projects of their own, and the same image finds
its project there again the next time it is opened. A project already beside the read-only image is
copied there first, so its centres, reviews and rounds carry on. A folder chosen for an image with the
dock's Folder… is remembered there too (a one-line note named like its folder) and used first the next time,
while that folder is there; when it is gone (moved, renamed, unmounted) the location says so, for the dock to tell.
When the image went to the projects home is noted the same way, so the dock can say since when, and whether its
folder can be written by now. All of these notes are keyed by the image's absolute path: when nothing is found
for an image (its folder renamed or copied since, say), the places a user would have put its project are looked
through for one made for it (:func:`projects_elsewhere`), to be named, never taken on silently: it may be
someone else's copy.
Nothing here imports Qt or napari.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from ..errors import ParticleDetectError
from ..files.io import atomic_write_text, read_image
from .project import (
    PROJECT_SUFFIX, ProjectState, image_record, made_for_image, pixels_record, project_folder_for_image,
    project_state_of, project_states_in, projects_home, projects_made_for_image,
)
from .project_state import backup_path

_PROBE_PREFIX = ".particle-detect-write-check-"
_COPYING_PREFIX = ".copying-"
_CHOSEN_SUFFIX = ".chosen-folder"
_MOVED_SUFFIX = ".moved-home"
_DATE = "%Y-%m-%d %H:%M"
# Sibling folders of an image's folder looked through for its project at most: a parent of thousands (a shared
# /tmp, a home of many users) would make opening an image slow, and a project is rarely put that far.
MAX_SIBLINGS = 200
# Other images' chosen-folder notes read at most when looking for an image's project elsewhere (on the dock's main
# thread): the projects home keeps a note for every image a folder was ever chosen for, many of them gone since.
MAX_NOTES_READ = 2 * MAX_SIBLINGS


@dataclass(frozen=True)
class ProjectLocation:
    """An image file's project folder, and the folder beside the image when the project is not there."""

    folder: Path
    beside: Path | None = None  # set when the folder beside the image could not be written
    # The folder chosen for the image with Folder… when it is not there any more: ``folder`` is the default
    # place instead, and the work done in the chosen folder is not in it.
    missing_chosen: Path | None = None
    # Projects made for the image elsewhere, not used: when ``folder`` holds none yet, those found where a user
    # would have put one (projects_elsewhere); when ``folder`` is the projects home's, a project beside the image
    # made or changed since the image went there (two forks of one review).
    found: tuple[Path, ...] = ()

    @property
    def moved(self) -> bool:
        return self.beside is not None


def can_write(folder: Path) -> bool:
    """Whether a project can be saved in ``folder``: a file can be made in it, or, when it does not exist
    yet, a folder can be made beside it. A real try (made and removed at once), not the permission bits:
    those say nothing of a read-only mount, and root passes them all."""
    folder = Path(folder)
    try:
        if folder.is_dir():
            with tempfile.TemporaryFile(dir=folder, prefix=_PROBE_PREFIX):
                pass
            return True
        if folder.exists() or folder.is_symlink():  # a file or a dangling link: Project.open says what is wrong
            return True
        probe = tempfile.mkdtemp(dir=folder.parent, prefix=_PROBE_PREFIX)
        os.rmdir(probe)
        return True
    except OSError:
        return False


def home_folder_for_image(path: str | Path) -> Path:
    """The project folder of an image file in the per-user projects home: its name and a fingerprint of
    its absolute path (the same image always gets the same folder; namesakes elsewhere do not)."""
    path = Path(os.path.abspath(Path(path).expanduser()))
    digest = hashlib.sha1(str(path).encode(errors="surrogateescape")).hexdigest()[:10]
    return projects_home() / f"{_safe_stem(path)}-{digest}{PROJECT_SUFFIX}"


def _safe_stem(path: Path) -> str:
    """The image's name as the projects home's folders and notes for it begin (then a dash and the fingerprint)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", path.stem).strip("._")[:100] or "image"


def _note_file(path: str | Path, suffix: str) -> Path:
    """A small file in the projects home about an image file, named as :func:`home_folder_for_image` names its
    folder, with ``suffix`` instead."""
    home = home_folder_for_image(path)
    return home.with_name(home.name[: -len(PROJECT_SUFFIX)] + suffix)


def chosen_folder_note(path: str | Path) -> Path:
    """The small file in the projects home that remembers the project folder chosen for an image file with
    the dock's Folder…."""
    return _note_file(path, _CHOSEN_SUFFIX)


def moved_since(path: str | Path) -> datetime | None:
    """When the image file's project went to the projects home, its folder found not writable; None when not
    known (moved before this was noted, or the note cannot be read)."""
    try:
        return datetime.fromisoformat(_note_file(path, _MOVED_SUFFIX).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


def _note_moved(path: str | Path) -> None:
    """Note now as when the image file's project goes to the projects home (a new move: none is there yet)."""
    try:
        atomic_write_text(_note_file(path, _MOVED_SUFFIX), datetime.now().isoformat() + "\n")
    except (OSError, UnicodeError):
        pass  # the date is only said: a home that cannot be written says more when the project is saved


def home_note(path: str | Path) -> str:
    """What the dock's project line says of the image file's project kept in the projects home: since when, and
    whether the image's folder still cannot be written (the project stays in the home all the same: the work
    done since is there)."""
    since = moved_since(path)
    kept = f"kept in the projects home{f' since {since:{_DATE}}' if since is not None else ''}"
    if can_write(project_folder_for_image(path)):
        return f"{kept}, when the image's folder could not be written"
    return f"{kept}: the image's folder cannot be written"


def found_note(found: Sequence[Path]) -> str:
    """One line naming projects made for an image found where it does not look (ProjectLocation.found), each
    with when it last changed, so the user can tell a fork from a stale copy."""
    described = [f"{folder} (last changed {_changed(folder)})" for folder in found]
    if len(described) == 1:
        return f"found a project made for this image at {described[0]}"
    return f"found {len(described)} projects made for this image: {', '.join(described)}"


def _changed(folder: Path) -> str:
    try:
        return f"{datetime.fromtimestamp((folder / 'state.json').stat().st_mtime):{_DATE}}"
    except OSError:
        return "unknown"


def image_file_record(path: str | Path) -> ProjectState:
    """What the dock's project records of the image file ``path`` (its name, size and first frame's fingerprint),
    read here without the dock (lazily: the first frame only), to know its projects by; its name alone when it
    cannot be read as one 2D image or stack (gone, of several channels)."""
    try:
        return image_record(str(path), **pixels_record(read_image(path, lazy=True)))
    except (ParticleDetectError, OSError, ValueError, IndexError):  # a damaged frame: known by its name
        return image_record(str(path))


def projects_elsewhere(path: str | Path, image: ProjectState | None = None,
                       also: Sequence[Path] = ()) -> list[Path]:
    """Projects made for the image file ``path`` (``image``: what Project.open would record of it, its pixels'
    fingerprint included; by default its name only) where a user would have put them: beside it under another
    name, in its folder's parent and that parent's other folders (one level, as a renamed or copied folder of
    images and projects leaves them), in the folders ``also``, in the projects home and in the folders chosen with
    Folder… (:func:`remembered_folders`: the image moved since its folder was chosen, the note keyed by its old
    path); and beside it, the project of the image before it was renamed (:func:`renamed_image_projects`). Only
    project folders' state.json files are read."""
    path = Path(os.path.abspath(Path(path).expanduser()))
    image = image if image is not None else image_record(str(path))
    here, parent = path.parent, path.parent.parent
    places = [here]
    if parent != here:
        places.append(parent)
        try:
            siblings = sorted(entry.path for entry in os.scandir(parent)
                              if entry.is_dir(follow_symlinks=False) and entry.path != str(here)
                              and not entry.name.endswith(PROJECT_SUFFIX))
        except OSError:
            siblings = []
        places += [Path(folder) for folder in siblings[:MAX_SIBLINGS]]
    chosen = remembered_folders(path)
    found = projects_made_for_image([*places, *also, projects_home(), *chosen], image)
    found += [folder for folder in chosen if folder not in found and _made_for(folder, image)]
    return found + [folder for folder in renamed_image_projects(here, image) if folder not in found]


def _made_for(folder: Path, image: ProjectState) -> bool:
    state = project_state_of(folder)
    return state is not None and made_for_image(state, image)


def remembered_folders(path: str | Path) -> list[Path]:
    """The folders chosen-folder notes in the projects home name (:func:`remember_chosen_folder`) that are there:
    projects, or folders keeping them inside; at most MAX_SIBLINGS of them. The notes of images named as ``path``
    come first (an image moved since keeps its name, only the fingerprint of its path in its note's name changed),
    then the others by name, at most MAX_NOTES_READ of those read: the notes of folders deleted since are passed
    over, not counted, so they cannot hide the one that mattered."""
    own, others = _chosen_notes(Path(path))
    folders: list[Path] = []
    for note in [*own, *others[:MAX_NOTES_READ]]:
        folder = _noted_folder(Path(note))
        if folder is not None and folder not in folders and folder.is_dir():
            folders.append(folder)
            if len(folders) == MAX_SIBLINGS:
                break
    return folders


def _chosen_notes(path: Path) -> tuple[list[str], list[str]]:
    """The chosen-folder notes in the projects home of images named as ``path``, and the others, each by name.
    Only the names are listed: this runs on the dock's main thread, over a note for every image a folder was
    ever chosen for (plain strings: a Path made and compared for each costs more than the listing)."""
    own = re.compile(rf"{re.escape(_safe_stem(path))}-[0-9a-f]{{10}}{re.escape(_CHOSEN_SUFFIX)}")
    mine, others = [], []
    try:
        with os.scandir(projects_home()) as entries:
            for entry in entries:
                if entry.name.endswith(_CHOSEN_SUFFIX) and entry.is_file(follow_symlinks=False):
                    (mine if own.fullmatch(entry.name) else others).append(entry.path)
    except OSError:
        pass
    return sorted(mine), sorted(others)


def renamed_image_projects(folder: Path, image: ProjectState) -> list[Path]:
    """The projects in ``folder`` made for an image of another name that is not in ``folder`` any more, and of the
    size and pixels of ``image`` (its fingerprint known to both): the image, renamed since, whose project kept the
    old name. Only projects that record the fingerprint ``image`` has are decoded. A copy of an image (a blank or
    synthetic one shares its pixels) is not taken for it: the copy's original is still there."""
    if image.image is None or image.fingerprint is None:
        return []
    name = Path(image.image).name
    return [project for project, state in project_states_in(folder, image.fingerprint)
            if state.image is not None and Path(state.image).name != name and state.fingerprint is not None
            and not (folder / Path(state.image).name).exists()
            and made_for_image(state, replace(image, image=state.image))]


def remember_chosen_folder(path: str | Path, folder: str | Path) -> bool:
    """Remember ``folder`` as the image file's project folder (written atomically); whether it could be."""
    try:
        atomic_write_text(chosen_folder_note(path), os.path.abspath(Path(folder).expanduser()) + "\n")
        return True
    except (OSError, UnicodeError):  # a name UTF-8 cannot hold is not remembered either
        return False


def remembered_folder(path: str | Path) -> Path | None:
    """The project folder the note remembers for the image file (see :func:`remember_chosen_folder`), whether
    or not it is still there; None when none was chosen or the note cannot be read."""
    return _noted_folder(chosen_folder_note(path))


def _noted_folder(note: Path) -> Path | None:
    try:
        text = note.read_text(encoding="utf-8", errors="surrogateescape").strip()
    except OSError:
        return None
    folder = Path(text) if text else None
    return folder if folder is not None and folder.is_absolute() else None


def chosen_folder(path: str | Path) -> Path | None:
    """The project folder chosen for the image file with Folder… (see :func:`remember_chosen_folder`), while
    it is still there; else None (never chosen, the note unreadable, the folder gone or unmounted)."""
    folder = remembered_folder(path)
    return folder if folder is not None and folder.is_dir() else None


def missing_chosen_folder(path: str | Path) -> Path | None:
    """The project folder chosen for the image file with Folder… when it is not there any more (moved, renamed,
    its disk unmounted): the image's project is then looked for at the default place, without that work.
    The note is kept, so the folder is used again once it is back."""
    folder = remembered_folder(path)
    return folder if folder is not None and not folder.is_dir() else None


def known_project_folder(path: str | Path) -> Path | None:
    """The image file's project folder where one was already set up away from the image: the folder chosen
    for it with Folder…, else its folder in the projects home. Only reads (no write check, no copy)."""
    chosen = chosen_folder(path)
    if chosen is not None:
        return chosen
    home = home_folder_for_image(path)
    return home if home.is_dir() else None


def project_location(path: str | Path, image: ProjectState | None = None) -> ProjectLocation:
    """Where the project of the image file (or stack folder) ``path`` is kept.

    The folder chosen for it with the dock's Folder… first, while it is there; else beside the image when
    that can be written; else in the projects home (:func:`home_folder_for_image`), where a project made
    there before is found again first, whether or not the image's folder has become writable since (the
    work done since is there). A chosen folder that is gone is named in ``missing_chosen``; projects made for
    the image elsewhere in ``found`` (``image``: what Project.open would record of it, to match them by; by
    default its name only)."""
    location = _find_location(path)
    missing = missing_chosen_folder(path)
    return replace(location, missing_chosen=missing, found=tuple(_found_elsewhere(path, location, image, missing)))


def holds_state(folder: Path) -> bool:
    """Whether ``folder`` holds a project's state: its state.json, or the backup a lost one leaves
    (Project.open goes back to it)."""
    state = folder / "state.json"
    return state.is_file() or backup_path(state).is_file()


def _found_elsewhere(path: str | Path, location: ProjectLocation, image: ProjectState | None,
                     missing: Path | None) -> list[Path]:
    if not holds_state(location.folder):  # a new project would start: its old one may be near
        also = [missing.parent] if missing is not None else []
        return [folder for folder in projects_elsewhere(path, image, also) if folder != location.folder]
    if not location.moved:
        return []
    # The home's project is used; one beside the image untouched since the home's was made (the copy's
    # original, or none) is no fork.
    beside, since = location.beside, moved_since(path)
    try:
        changed = datetime.fromtimestamp((beside / "state.json").stat().st_mtime)
    except OSError:
        return []
    if since is not None and changed <= since:
        return []
    return [folder for folder in projects_made_for_image([beside.parent], image or image_record(str(path)))
            if folder == beside]


def _find_location(path: str | Path) -> ProjectLocation:
    beside = project_folder_for_image(path)
    home = home_folder_for_image(path)
    known = known_project_folder(path)
    if known is not None:
        return ProjectLocation(known, beside if known == home else None)
    if can_write(beside):
        return ProjectLocation(beside)
    _note_moved(path)
    if holds_state(beside) and not _copy_project(beside, home):
        return ProjectLocation(beside)  # read where it is: saving will say why it cannot
    return ProjectLocation(home, beside)


def _copy_project(source: Path, target: Path) -> bool:
    """Copy a read-only project into ``target`` (whole, or not at all); whether it was copied."""
    temporary = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = Path(tempfile.mkdtemp(dir=target.parent, prefix=_COPYING_PREFIX)) / "project"
        shutil.copytree(source, temporary, symlinks=True,
                        ignore=shutil.ignore_patterns(".lock", ".tmp*", "*.tmp", ".building-*"))
        os.replace(temporary, target)
        return True
    except OSError:
        return False
    finally:
        if temporary is not None:
            shutil.rmtree(temporary.parent, ignore_errors=True)
