"""Where the dock keeps an image file's project: beside the file, or, when that folder cannot be written
(a read-only share, a CD, another user's folder), under the per-user projects home.

The folder in the projects home is named after the image and a short fingerprint of its absolute path,
so two images called alike in different folders get projects of their own, and the same image finds
its project there again the next time it is opened. A project already beside the read-only image is
copied there first, so its centres, reviews and rounds carry on. A folder chosen for an image with the
dock's Folder… is remembered there too (a one-line note named like its folder) and used first the next time,
while that folder is there; when it is gone (moved, renamed, unmounted) the location says so, for the dock to tell.
Nothing here imports Qt or napari.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from ..files.io import atomic_write_text
from .project import PROJECT_SUFFIX, project_folder_for_image, projects_home

_PROBE_PREFIX = ".particle-detect-write-check-"
_COPYING_PREFIX = ".copying-"
_CHOSEN_SUFFIX = ".chosen-folder"


@dataclass(frozen=True)
class ProjectLocation:
    """An image file's project folder, and the folder beside the image when the project is not there."""

    folder: Path
    beside: Path | None = None  # set when the folder beside the image could not be written
    # The folder chosen for the image with Folder… when it is not there any more: ``folder`` is the default
    # place instead, and the work done in the chosen folder is not in it.
    missing_chosen: Path | None = None

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
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", path.stem).strip("._")[:100] or "image"
    return projects_home() / f"{safe}-{digest}{PROJECT_SUFFIX}"


def chosen_folder_note(path: str | Path) -> Path:
    """The small file in the projects home that remembers the project folder chosen for an image file with
    the dock's Folder… (named as :func:`home_folder_for_image` names its folder, with another suffix)."""
    home = home_folder_for_image(path)
    return home.with_name(home.name[: -len(PROJECT_SUFFIX)] + _CHOSEN_SUFFIX)


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
    try:
        text = chosen_folder_note(path).read_text(encoding="utf-8", errors="surrogateescape").strip()
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


def project_location(path: str | Path) -> ProjectLocation:
    """Where the project of the image file (or stack folder) ``path`` is kept.

    The folder chosen for it with the dock's Folder… first, while it is there; else beside the image when
    that can be written; else in the projects home (:func:`home_folder_for_image`), where a project made
    there before is found again first, whether or not the image's folder has become writable since (the
    work done since is there). A chosen folder that is gone is named in ``missing_chosen``."""
    return replace(_find_location(path), missing_chosen=missing_chosen_folder(path))


def _find_location(path: str | Path) -> ProjectLocation:
    beside = project_folder_for_image(path)
    home = home_folder_for_image(path)
    known = known_project_folder(path)
    if known is not None:
        return ProjectLocation(known, beside if known == home else None)
    if can_write(beside):
        return ProjectLocation(beside)
    if (beside / "state.json").is_file() and not _copy_project(beside, home):
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
