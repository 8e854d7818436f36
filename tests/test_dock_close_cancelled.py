"""A close of the viewer's window that is refused leaves the docks working: they shut down (stopped detecting and
fine-tuning, no longer heard the viewer, gave up their edits) on the Close event itself, which reaches them before
napari asks "close?" (its Cancel keeps the window open) and before another filter may refuse it. A close that
happens still shuts every dock down."""

import ctypes

import pytest
from qtpy.QtCore import QObject, QTimer
from qtpy.QtGui import QGuiApplication
from qtpy.QtWidgets import QApplication, QDialog, QPushButton

from helpers import make_widget, run_detect, small_stack
from test_dock_handles import RefuseClosing

pytestmark = pytest.mark.usefixtures("project_home")

DOCKS = ("Particle detection", "Rods and chains", "Volume detection (3D)")


def shown_viewer_with_docks(make_napari_viewer, names: tuple[str, ...] = DOCKS, refusal: QObject | None = None):
    """A shown window holding a small stack and the plugin's docks ``names``, added as its Plugins menu adds them,
    after ``refusal`` was installed on the window (so it hears a Close after the docks do): viewer, window, docks."""
    viewer = make_napari_viewer(show=True)
    viewer.add_image(small_stack(2, 48), name="cells")
    window = viewer.window._qt_window
    if refusal is not None:
        window.installEventFilter(refusal)
    docks = [viewer.window.add_plugin_dock_widget("napari-particle-detect", name)[1] for name in names]
    return viewer, window, docks


def shown(qtbot, docks) -> None:
    """Each dock shown in the window, as a user sees them before closing it (a dock watches its window from then)."""
    qtbot.waitUntil(lambda: all(dock.isVisible() for dock in docks), timeout=5000)


def offered(dock) -> list[str]:
    images = getattr(dock, "image_combo", None) or dock.layer_combo  # the Volume dock's list
    return [images.itemText(i) for i in range(images.count())]


def window_system_close(window) -> None:
    """The title bar's X as a window manager passes it on (X11's WM_DELETE_WINDOW): Qt makes it a spontaneous Close,
    the one napari asks about."""
    x11 = ctypes.cdll.LoadLibrary("libX11.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]

    class ClientMessage(ctypes.Structure):
        _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                    ("display", ctypes.c_void_p), ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                    ("format", ctypes.c_int), ("data", ctypes.c_long * 5), ("xevent_pad", ctypes.c_long * 12)]

    x11.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long,
                               ctypes.POINTER(ClientMessage)]
    x11.XFlush.argtypes = x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    display = x11.XOpenDisplay(None)
    message = ClientMessage(type=33, window=int(window.winId()), format=32,  # 33: ClientMessage
                            message_type=x11.XInternAtom(display, b"WM_PROTOCOLS", 0))
    message.data[0] = x11.XInternAtom(display, b"WM_DELETE_WINDOW", 0)
    x11.XSendEvent(display, message.window, 0, 0, ctypes.byref(message))
    x11.XFlush(display)
    x11.XCloseDisplay(display)


def test_cancel_in_naparis_close_question_leaves_every_dock_working(make_napari_viewer, qtbot):
    viewer, window, docks = shown_viewer_with_docks(make_napari_viewer)
    if QGuiApplication.platformName() != "xcb":
        pytest.skip("the window system's close request is sent as X11's")
    shown(qtbot, docks)
    asked = []

    def answer_cancel() -> None:
        question = QApplication.activeModalWidget()
        if isinstance(question, QDialog) and not asked:
            asked.append(type(question).__name__)
            next(b for b in question.findChildren(QPushButton) if b.text().replace("&", "") == "Cancel").click()
        elif not asked:
            QTimer.singleShot(20, answer_cancel)

    QTimer.singleShot(20, answer_cancel)
    window_system_close(window)
    qtbot.waitUntil(lambda: bool(asked), timeout=5000)
    assert asked == ["ConfirmCloseDialog"]  # napari asked "close?", and the user said Cancel
    qtbot.wait(50)
    assert window.isVisible() and not any(dock.closed for dock in docks)
    viewer.add_image(small_stack(2, 48), name="later")
    assert all("later" in offered(dock) for dock in docks)  # they still hear the viewer


def test_a_close_another_filter_refuses_leaves_detect_working_and_a_real_close_shuts_every_dock(
        make_napari_viewer, qtbot, light_model):
    refusal = RefuseClosing()
    viewer, window, docks = shown_viewer_with_docks(make_napari_viewer, DOCKS[1:], refusal)
    spheres = make_widget(viewer, light_model)  # the Particle detection dock, on the light model
    docks.append(spheres)
    shown(qtbot, docks)

    window.close()
    qtbot.wait(50)
    assert window.isVisible() and not any(dock.closed for dock in docks)
    run_detect(spheres, qtbot, scope=0)
    assert spheres.annotation.detected_frames() == {0}

    window.removeEventFilter(refusal)
    viewer.close()
    assert all(dock.closed for dock in docks)
