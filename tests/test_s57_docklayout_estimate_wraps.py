"""Detect's diameter estimate keeps the Particle detection dock inside its column: on one line, "estimated: 2.3 px,
low confidence" beside the Diameter box made the dock's rows wider than the dock (sized as it was first shown), and
a sideways scrollbar hid "Folder…", "Add…", "Next ▶" and the "train on" field at its right edge. The estimate wraps
beside the box instead."""

import numpy as np
import pytest
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QAbstractButton, QAbstractSpinBox, QApplication, QComboBox, QDockWidget, QLineEdit, QWidget

from helpers import answer_questions

pytestmark = pytest.mark.usefixtures("project_home")
CONTROLS = (QAbstractButton, QComboBox, QLineEdit, QAbstractSpinBox)


def settle() -> None:
    for _ in range(10):
        QApplication.processEvents()


def cut_controls(widget) -> list[str]:
    """The visible controls whose right edge lies past the dock's scroll viewport."""
    viewport = widget._scroll.viewport()
    cut = []
    for control in widget.findChildren(QWidget):
        if isinstance(control, CONTROLS) and control.isVisible():
            right = control.mapTo(viewport, control.rect().topRight()).x()
            if right >= viewport.width():
                cut.append(f"{type(control).__name__} {getattr(control, 'text', lambda: '')()!r} at {right}")
    return cut


def test_a_low_confidence_estimate_leaves_no_control_cut_at_the_dock_s_right_edge(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1024, 700)
    # Flat noise: the diameter is guessed with low confidence, the longest words the estimate says.
    viewer.add_image(np.random.default_rng(0).random((1, 96, 96)).astype(np.float32), name="noise")
    _, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Particle detection")
    dock = next(d for d in viewer.window._qt_window.findChildren(QDockWidget)
                if "Particle detection" in d.windowTitle())
    qtbot.waitExposed(dock)
    # The dock dragged as narrow as it goes, as a user gives the canvas room.
    viewer.window._qt_window.resizeDocks([dock], [0], Qt.Orientation.Horizontal)
    settle()
    assert not widget._scroll.horizontalScrollBar().isVisible()

    answer_questions(widget)
    widget.detect.device_combo.setCurrentText("cpu")
    widget.detect.run_button.click()
    qtbot.waitUntil(lambda: not widget.detect.running(), timeout=60_000)
    settle()

    assert widget.detect.estimate_label.text().endswith("⚠") and "Low confidence" in widget.detect.estimate_warning.text()
    scroll = widget._scroll
    assert scroll.widget().minimumSizeHint().width() <= scroll.viewport().width()
    assert not scroll.horizontalScrollBar().isVisible(), scroll.horizontalScrollBar().maximum()
    assert not cut_controls(widget)
    label = widget.detect.estimate_label  # wrapped, it is drawn whole
    assert label.height() >= label.heightForWidth(label.width())
