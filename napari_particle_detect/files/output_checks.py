"""Whether an output can be written without destroying anything, checked before any work: shared by the command
line and the library's own runs (a recipe's run folder, the 3D training program), so neither reaches the other."""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ..errors import ParticleDetectError


def same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def check_output(path: Path, inputs: Iterable[Path] = (), what: str = "output",
                 suffixes: tuple[str, ...] | None = None) -> Path:
    """``path`` if a file can be written there without destroying anything: it is no input, no folder,
    its folder is not a file and is writable. One ParticleDetectError naming the path otherwise."""
    path = Path(path)
    if path.is_dir():
        raise ParticleDetectError(f"{path}: is a folder; give the {what} a file name inside it")
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise ParticleDetectError(f"{path}: the {what} must end in {', '.join(suffixes)}")
    for other in inputs:
        if same_file(path, Path(other)):
            raise ParticleDetectError(f"{path}: the {what} would overwrite an input file; choose another name")
    _check_writable_from(path, path.parent, "cannot write there")
    _refuse_case_twin(path, what)
    if len(path.name.encode()) > 255:
        raise ParticleDetectError(f"{path.name[:40]}...: file name too long ({len(path.name.encode())} bytes, at most 255)")
    return path


def _refuse_case_twin(path: Path, what: str) -> None:
    """One ParticleDetectError where another file beside ``path``, a table or a model, has its name but for the case
    of its suffix (A.csv for A.CSV): the files written beside it are named by its stem (A.json, A.chains.csv,
    M.state.pt), so the two would share them, each run replacing the other's record. Where case is ignored, the two
    are one file."""
    if path.suffix.lower() not in _NAMING_SIDE_FILES:
        return
    for twin in (path.with_suffix("." + "".join(spelling)) for spelling in
                 itertools.product(*((c.lower(), c.upper()) for c in path.suffix[1:]))):
        if twin.name != path.name and twin.is_file() and not same_file(twin, path):
            raise ParticleDetectError(f"{path}: {twin.name} is beside it, its name but for case: the two would share "
                                      f"the files written beside them ({path.stem}.json, ...); give the {what} "
                                      "another name")


# The outputs whose stem names files written beside them: tables (their .json record) and models (card, state).
_NAMING_SIDE_FILES = (".csv", ".pt")


def _writable(folder: Path) -> bool:
    """Whether a file can be made in ``folder``, by making one: os.access says yes to root on read-only
    and pseudo filesystems (/sys, /proc), where the write failed only after the work."""
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    try:
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".particle-detect-probe.", suffix=".tmp")
    except OSError:
        return False
    os.close(handle)
    try:
        os.unlink(probe)
    except OSError:
        pass
    return True


def check_output_folder(folder: Path) -> Path:
    """An output folder that is a folder (or can be made) and can be written, checked before any work."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ParticleDetectError(f"{folder}: is a file; name a folder for the outputs")
    _check_writable_from(folder, folder, "cannot make it")
    return folder


def _check_writable_from(target: Path, folder: Path, refused: str) -> None:
    """The nearest existing folder at or above ``folder`` is a folder (not a file, not a broken link)
    that can be written; one ParticleDetectError naming ``target`` otherwise."""
    ancestor = folder
    while not ancestor.exists():
        if ancestor.is_symlink():
            raise ParticleDetectError(f"{target}: its folder {ancestor} is a broken link")
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ParticleDetectError(f"{target}: {refused}: {ancestor} is a file, not a folder")
    if not _writable(ancestor):
        raise ParticleDetectError(f"{target}: cannot write into {ancestor} (read-only or permission denied)")
