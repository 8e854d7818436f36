"""User-facing errors as napari notifications: one line for problems we can explain, never a traceback."""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from napari.utils import notifications
from superqt import ensure_main_thread
from qtpy.QtCore import QCoreApplication, Qt
from qtpy.QtWidgets import QMessageBox, QWidget

from ..errors import ParticleDetectError
from ..projects.locations import found_note, holds_state, projects_elsewhere
from ..projects.project import ProjectState

log = logging.getLogger("napari_particle_detect")
# A sphere project that cannot be written (projects/project.py words it so): the dock's Folder… moves it.
# Rods and chains projects (IMAGE.rods.particle-detect) and the 3D dock's volume projects
# (IMAGE.volumes.particle-detect beside the image, NAME.volumes-<digest>.particle-detect in the projects
# home) have no such button.
_UNSAVED = re.compile(r"^(?!.*\.(?:rods|chains|volumes)(?:-[0-9a-f]+)?\.particle-detect: )"
                      r".*: cannot save the project \(", re.S)
FOLDER_HINT = "; Folder… in the Particle detection dock keeps the image's project in a folder you can write"


def show_info(message: str) -> None:
    """napari's show_info, ``message`` shown as it is written (:class:`AsWritten`)."""
    _dispatch(message, notifications.NotificationSeverity.INFO)


def show_warning(message: str) -> None:
    """napari's show_warning, ``message`` shown as it is written (:class:`AsWritten`)."""
    _dispatch(message, notifications.NotificationSeverity.WARNING)


def show_error(message: str) -> None:
    """napari's show_error, ``message`` shown as it is written (:class:`AsWritten`)."""
    _dispatch(message, notifications.NotificationSeverity.ERROR)


class AsWritten(notifications.Notification):
    """A notification of ours: its message plain text everywhere, its popup's label told so
    (:func:`_popup_as_written`). napari's popup guesses the format, and a file or layer named "a<b>c.tif" showed as
    "a" and a bold "c.tif"; escaped as rich text instead, the terminal and napari's record of notifications showed a
    literal "<qt>" and "&lt;"."""


def _dispatch(message: str, severity: notifications.NotificationSeverity) -> None:
    manager = notifications.notification_manager
    # After napari's own popup handler (connected as its QApplication was made): the popup exists by then.
    manager.notification_ready.connect(_popup_as_written, position="last")  # once: napari connects a callback once
    manager.dispatch(AsWritten(message, severity=severity))


def _popup_as_written(notification: notifications.Notification) -> None:
    if isinstance(notification, AsWritten) and QCoreApplication.instance() is not None:
        _label_as_written(notification.message)


@ensure_main_thread
def _label_as_written(message: str) -> None:
    """The label of napari's popup of ``message`` drawn as plain text. On the main thread, as napari makes its popups:
    a worker's notification reaches both queued, napari's first."""
    try:
        from napari._qt.dialogs.qt_notification import NapariQtNotification

        popups = list(NapariQtNotification._instances)
    except (ImportError, AttributeError):  # another napari's popups: drawn as it draws them
        return
    for popup in reversed(popups):
        label = getattr(popup, "message", None)
        if label is not None and label.text() == message:
            label.setTextFormat(Qt.TextFormat.PlainText)
            return


def with_hint(message: str) -> str:
    """``message``, with what the user can do about it where there is something to say."""
    if _UNSAVED.match(message) and "Folder…" not in message:
        return message + FOLDER_HINT
    return message


def say_problems(project: Any, said: MutableMapping, key: Any) -> None:
    """What opening ``project`` found wrong (a damaged frame left out), in one line; ``said`` remembers the problems
    last said under ``key``, so a dock's second look at the same project does not repeat them."""
    problems = tuple(project.problems)
    new = [problem for problem in problems if problem not in said.get(key, ())]  # said before: not again
    if new:
        show_info(f"{project.folder.name}: {len(new)} problem{'s' if len(new) != 1 else ''}: {new[0]}")
    said[key] = problems


def found_elsewhere_note(name: str, path: Path | None, folder: Path, record: Callable[[], ProjectState],
                         said: set[str]) -> str:
    """Projects made for the image file ``path`` (``record()``: what its project at ``folder`` records of it, called
    only when they are looked for: it reads a frame) where a user would have put them (locations.projects_elsewhere,
    as the Particle detection dock looks), while the one at ``folder`` holds nothing yet: the image moved or renamed
    since found an empty project, its work looking lost. Named, never taken on (one may be someone else's copy);
    said in a notification once (``said``: the notes said so far) and returned for the dock's line; '' when none is
    found. ``name``: the image's layer."""
    if path is None or holds_state(folder):
        return ""
    found = [project for project in projects_elsewhere(path, record()) if project != folder]
    if not found:
        return ""
    which = "it" if len(found) == 1 else "the one to carry on with"
    move = f"move {which} to {folder} before working on this image to carry on with its work"
    note = f"{found_note(found)}: {move}"
    if note not in said:
        said.add(note)
        show_info(f"'{name}': {note}")
    if len(found) == 1:
        return note
    # Several folders with their dates filled seven lines of the dock: the line counts them, the message names them.
    return f"found {len(found)} projects made for this image (named in the message): {move}"


def report(exc: BaseException) -> None:
    if isinstance(exc, ParticleDetectError):
        show_error(with_hint(str(exc)))
    else:
        log.error("unexpected error", exc_info=exc)
        show_error(f"particle detection failed unexpectedly: {type(exc).__name__}: {exc}")


def reports_errors(method: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a ParticleDetectError raised by a button handler into a notification."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except ParticleDetectError as exc:
            report(exc)
            return None

    return wrapper


@contextmanager
def written_to(path: str | Path, what: str) -> Iterator[None]:
    """A failure to write ``what`` at ``path`` (a read-only or full folder, a vanished share) as one line naming
    the file the user chose, not a traceback naming a temporary beside it."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ParticleDetectError(f"{path}: could not write {what} there ({reason}); choose a folder you can "
                                  "write") from exc


def ask_no_default(owner: QWidget, title: str, text: str) -> bool:
    """Ask a yes/no question in a dialog over ``owner``, No the default (an Enter held down, or pressed
    twice, agrees to nothing); the open dialog is ``owner.dialog`` meanwhile (tests answer it)."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text,
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, owner)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    # Plain: Qt's guess read a name in the question (a layer or file "x<b>y") as markup and showed it as "xy".
    box.setTextFormat(Qt.TextFormat.PlainText)
    owner.dialog = box
    try:
        return box.exec() == QMessageBox.StandardButton.Yes
    finally:
        owner.dialog = None
        box.deleteLater()


# A job's warnings shown at its end: beyond these, one line counts the rest.
SHOWN_WARNINGS = 3


class _ThreadWarnings(logging.Handler):
    """The package's warnings logged on one thread, their messages in order, each once."""

    def __init__(self, thread: int, into: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.thread, self.into = thread, into

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.thread == self.thread and message not in self.into:
            self.into.append(message)


@contextmanager
def warnings_logged(into: list[str]) -> Iterator[None]:
    """The warnings the package logs on this thread meanwhile (detection's: a diameter that reads as the
    particles' cores, uneven illumination subtracted, blank frames), appended to ``into``: a dock job's are
    shown in the window (:func:`show_warnings`), where they reached only a terminal."""
    handler = _ThreadWarnings(threading.get_ident(), into)
    log.addHandler(handler)
    try:
        yield
    finally:
        log.removeHandler(handler)


Result = TypeVar("Result")


def telling(job: Callable[..., Result], *args: Any, **kwargs: Any) -> tuple[Result, list[str]]:
    """Worker body: ``job(*args, **kwargs)``'s result and the warnings it logged meanwhile (:func:`warnings_logged`),
    for the window to show (:func:`show_warnings`): on napari's worker thread they reached only a terminal."""
    said: list[str] = []
    with warnings_logged(said):
        result = job(*args, **kwargs)
    return result, said


def show_warnings(messages: list[str], job: str = "detection") -> None:
    """A job's warnings as napari notifications: the first SHOWN_WARNINGS, then how many more of the same
    ``job`` (a fine-tune round's are not a detection's)."""
    for message in messages[:SHOWN_WARNINGS]:
        show_warning(message)
    if len(messages) > SHOWN_WARNINGS:
        more = len(messages) - SHOWN_WARNINGS
        show_warning(f"and {more} more warning{'s' if more != 1 else ''} of the same {job} (in the log)")


def warn_once(said: MutableMapping, key: Any, words: str | None) -> None:
    """Show the warning ``words`` (None: nothing to say) unless it is what ``said`` last said under ``key``: a
    Detect pressed again on the same image does not repeat it, and a changed warning is said again."""
    if words is not None and said.get(key) != words:
        said[key] = words
        show_warning(words)
