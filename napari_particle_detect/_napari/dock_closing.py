"""How a dock hears that it closes: its window closing, its own X (napari takes the widget out of the
window for good), or the application quitting. A dock widget gets no close event of its own in the
first two cases."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from qtpy.QtCore import QCoreApplication, QEvent, QObject
from qtpy.QtWidgets import QApplication

from ..projects.project import mark_window_thread, waiting_as_a_worker
from .layers import quoted_names
from .regions import REVIEW_BOXES

# On closing, how long every dock waits for a running detection or round to notice it was stopped.
STOP_WAIT_S = 10.0


# How each dock's review box layer is named (regions.RegionLayers, volume_review_panel.BOX_LAYER).
REVIEW_BOX = "review box"

# The close watchers of a never-shown window (by id) that heard its Close while one of them passes it on.
_DECIDING: dict[int, list["_CloseWatcher"]] = {}
# While a dock closed with its X puts its layers away: the viewer's layers by name as it began to close. The docks
# say what they removed by name, the layers gone by then: a box renamed by the user, or emptied by accepting it, is
# told apart through these.
_CLOSING_LAYERS: dict[str, object] = {}


@contextmanager
def _layers_kept_by_name(viewer) -> Iterator[None]:
    """_CLOSING_LAYERS holds ``viewer``'s layers meanwhile (None: no viewer, nothing held)."""
    held = dict(_CLOSING_LAYERS)
    if viewer is not None:
        _CLOSING_LAYERS.update((layer.name, layer) for layer in viewer.layers)
    try:
        yield
    finally:
        _CLOSING_LAYERS.clear()
        _CLOSING_LAYERS.update(held)


def _review_boxes(removed: list[str]) -> tuple[list[str], list[str]]:
    """The review box layers among ``removed``: those holding a box, and those emptied (accepting a box takes it off
    its layer, the region kept with the reviewed ones: nothing in them is lost). A box the user renamed is still one:
    named otherwise, it was said to come back with the layers its project keeps, and it did not."""
    held, emptied = [], []
    for name in removed:
        layer = _CLOSING_LAYERS.get(name)
        if layer in REVIEW_BOXES or name.endswith(REVIEW_BOX):
            (emptied if layer is not None and not len(layer.data) else held).append(name)
    return held, emptied


def boxes_not_kept(names: Sequence[str]) -> str:
    """What is said of review boxes taken away with a box in them (a dock closed, another image or kind picked)."""
    return (f"{quoted_names(list(names))} {'is' if len(names) == 1 else 'are'} not kept (no project keeps a box not "
            "accepted: Review next or Draw box again)")


def put_away_words(dock: str, removed: list[str], kept: str, projects: int = 1, staying: Sequence[str] = ()) -> str:
    """What a dock closed with its X says of the layers it took away: one wording for the three docks (each said
    it its own way, one "removed", as if deleted), ``kept`` (its centres, rods or beads) kept in the project(s)
    and back when it opens again, its review box said not kept (no project keeps a box not accepted), an emptied
    one not named (nothing of it is lost); ``staying``: layers it leaves shown, kept in no project (said, or they
    read as put away too)."""
    # Reopened, a dock works on the image it closed on: another image's layers come back once it is picked.
    where, back = (("the project", "they come back when the dock is opened again") if projects == 1 else
                   ("their projects", "each image's come back when the dock, opened again, works on it"))
    # A review box not accepted is kept in no project: listed with the layers that come back, it was looked for.
    boxes, emptied = _review_boxes(removed)
    kept_back = [name for name in removed if name not in boxes and name not in emptied]
    said = f"the {dock} dock was closed"
    if kept_back:
        said += f": its layers are put away ({quoted_names(kept_back)}), their {kept} kept in {where}; {back}"
    if boxes:
        said += f"{';' if kept_back else ':'} {boxes_not_kept(boxes)}"
    if staying:
        verb = "stays" if len(staying) == 1 else "stay"
        said += f"; {quoted_names(list(staying))} {verb} shown (Link again to export)"
    return said


class _CloseWatcher(QObject):
    """Calls back when the window holding the dock closes, and not for a close it refuses: a Close event reaches
    this filter before napari's window has asked "close?" (a Cancel keeps it open) and before the filters installed
    earlier, which may refuse it too. Shut down on the Close itself, a window kept open was left with docks that no
    longer detected, fine-tuned, heard the viewer or saved their edits."""

    def __init__(self, callback: Callable[[], object]) -> None:
        super().__init__()
        self._callback = callback
        self._close_asked = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        kind = event.type()
        if kind == QEvent.Type.Close:
            if watched.isHidden():
                return self._close_unseen(watched, event)
            self._close_asked = True
        # Qt hides a shown window once its close is accepted, at once, before deleting it; napari hides its
        # window for nothing else. A spontaneous Hide is the window system's (minimised), no close.
        elif kind == QEvent.Type.Hide and self._close_asked and not event.spontaneous():
            self._close_asked = False
            self._callback()
        return False

    def _close_unseen(self, window: QObject, event: QEvent) -> bool:
        """A window never shown (a script's): Qt sends no Hide on its close, so whether the close happens is learnt
        here, by passing the Close on to the filters left and the window itself at once (napari asks nothing then).
        Shut down on the Close itself, a close another filter refused left the docks shut down in an open window.
        The watchers that hear it passed on (the window's other docks) are told by the one passing it on."""
        told = _DECIDING.get(id(window))
        if told is not None:
            told.append(self)
            return False
        told = _DECIDING[id(window)] = [self]
        try:
            QCoreApplication.sendEvent(window, event)
        finally:
            del _DECIDING[id(window)]
        if event.isAccepted():
            for watcher in told:
                watcher._callback()
        return True  # delivered


class _MoveWatcher(QObject):
    """Calls back when a widget holding the dock moves to another parent: napari puts the dock into a QDockWidget
    first, and that into the viewer's window next, which tells the dock itself nothing."""

    def __init__(self, callback: Callable[[], object]) -> None:
        super().__init__()
        self._callback = callback

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.ParentChange:
            self._callback()
        return False


class ClosingDock:
    """A mixin for a dock's QWidget (listed before QWidget): calls ``shut_down()`` when its window closes
    or the application quits, and ``shut_down(put_layers_away=True)`` when the dock alone closes (its X),
    so the layers it made leave with it. The widget calls :meth:`_init_closing` in its ``__init__`` and
    defines ``shut_down``, which sets ``self._shut`` and stops its work waiting up to STOP_WAIT_S."""

    def _init_closing(self) -> None:
        # The dock's changes to its projects are made on this thread, Qt's: a project another program holds
        # is said within a moment instead of freezing the window (its workers keep waiting for it).
        mark_window_thread()
        self._close_watcher = _CloseWatcher(self._shut_down_saving)
        self._move_watcher = _MoveWatcher(self._watch_window)
        self._watched_window = None
        self._shut = False
        app = QApplication.instance()
        if app is not None:
            # The application can quit with no Close event reaching the window (QApplication.quit): the
            # dock shuts down then too, or a running round or detection would outlive the viewer.
            app.aboutToQuit.connect(self._shut_down_saving)

    def _shut_down_saving(self, put_layers_away: bool = False) -> None:
        # Closing is the edits' last chance to be saved: worth a frozen moment while another program
        # finishes with the project, where an edit at work is only put off to the next change.
        with waiting_as_a_worker(), _layers_kept_by_name(getattr(self, "viewer", None) if put_layers_away else None):
            self.shut_down(put_layers_away=put_layers_away)

    @property
    def closed(self) -> bool:
        """Shut down: the dock or its window closed."""
        return self._shut

    def _watch_window(self) -> None:
        window = self.window()
        watched = self._watched_window() if self._watched_window is not None else None
        if window is not self and window is not watched:
            if watched is not None:
                watched.removeEventFilter(self._close_watcher)
            window.installEventFilter(self._close_watcher)
            # Weakly: the dock must not keep a closed window (and the whole viewer) alive.
            self._watched_window = weakref.ref(window)
        # The window is watched from the moment the dock is in it: a script closing the viewer right after adding
        # the dock (no event-loop pass, the dock never shown) left its workers, locks and lazy files behind.
        holder = self.parentWidget()
        while holder is not None:
            holder.installEventFilter(self._move_watcher)  # installed once, however often asked
            holder = holder.parentWidget()

    def showEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        self._watch_window()
        super().showEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ParentChange:
            if self.parent() is None and self._watched_window is not None:
                # Its X: the widget leaves the window for good. Its layers go with it (saved), or edits on
                # them would reach no project and a reopened dock would add a second set.
                self._shut_down_saving(put_layers_away=True)
            elif self.parent() is not None:
                self._watch_window()
        return super().event(event)

    def closeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        self._shut_down_saving()
        super().closeEvent(event)

    def shut_down(self, put_layers_away: bool = False) -> None:
        raise NotImplementedError
