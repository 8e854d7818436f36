"""How a dock hears that it closes: its window closing, or its own X (napari takes the widget out of the
window for good). A dock widget gets no close event of its own in either case."""

from __future__ import annotations

import weakref

from qtpy.QtCore import QEvent, QObject, QTimer


class _CloseWatcher(QObject):
    """Calls back when the window holding the dock is about to close."""

    def __init__(self, callback) -> None:
        super().__init__()
        self._callback = callback

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Close:
            self._callback()
        return False


class ClosingDock:
    """A mixin for a dock's QWidget (listed before QWidget): calls ``shut_down()`` when its window closes
    and ``shut_down(put_layers_away=True)`` when the dock alone closes (its X), so the layers it made
    leave with it. The widget calls :meth:`_init_closing` in its ``__init__`` and defines ``shut_down``,
    which sets ``self._shut``."""

    def _init_closing(self) -> None:
        self._close_watcher = _CloseWatcher(self.shut_down)
        self._watched_window = None
        self._shut = False

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

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self._watch_window()
        super().showEvent(event)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ParentChange:
            if self.parent() is None and self._watched_window is not None:
                # Its X: the widget leaves the window for good. Its layers go with it (saved), or edits on
                # them would reach no project and a reopened dock would add a second set.
                self.shut_down(put_layers_away=True)
            elif self.parent() is not None:
                QTimer.singleShot(0, self._watch_window)  # once the dock it went into is in the window
        return super().event(event)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.shut_down()
        super().closeEvent(event)

    def shut_down(self, put_layers_away: bool = False) -> None:
        raise NotImplementedError
