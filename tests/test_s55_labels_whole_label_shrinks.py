"""A WholeLabel's least height follows its text at its current width, down as well as up: QLabel's
heightForWidth answers at least the minimum height, so a height kept for a narrow width or a longer text
never shrank, and the dock's project line stood centred in a blank band after the image was opened again."""

from __future__ import annotations

from qtpy.QtWidgets import QLabel, QVBoxLayout, QWidget

from napari_particle_detect._napari.labels import WholeLabel

LONG = "found 4 projects made for this image: " + ", ".join(f"/tmp/somewhere-{i}/movie.particle-detect" for i in range(4))
SHORT = "Project: /tmp/x/movie.particle-detect"


def _text_height(text: str, width: int) -> int:
    probe = QLabel(text)
    probe.setWordWrap(True)
    return probe.heightForWidth(width)


def _shown(qtbot, label: WholeLabel, width: int) -> QWidget:
    host = QWidget()
    layout = QVBoxLayout(host)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(label)
    layout.addStretch(1)
    qtbot.addWidget(host)
    host.resize(width, 600)
    host.show()
    qtbot.waitExposed(host)
    return host


def test_widened_label_keeps_only_its_text_height(make_napari_viewer, qtbot):
    make_napari_viewer()  # the dock's Qt application and style
    label = WholeLabel(SHORT)
    host = _shown(qtbot, label, 120)
    narrow = label.minimumHeight()
    host.resize(700, 600)
    qtbot.waitUntil(lambda: label.width() >= 690)
    expected = _text_height(SHORT, label.width())
    assert narrow > expected  # wrapped over lines at 120 px, one line at 700 px
    qtbot.waitUntil(lambda: label.minimumHeight() == expected, timeout=2000)
    qtbot.waitUntil(lambda: label.height() <= expected + 2, timeout=2000)  # no blank band around the line


def test_shortened_text_gives_back_its_height(make_napari_viewer, qtbot):
    make_napari_viewer()
    label = WholeLabel(LONG)
    host = _shown(qtbot, label, 400)
    qtbot.waitUntil(lambda: label.minimumHeight() == _text_height(LONG, label.width()), timeout=2000)
    label.setText(SHORT)
    assert label.minimumHeight() == _text_height(SHORT, label.width())
    assert label.minimumHeight() < _text_height(LONG, label.width())
    qtbot.waitUntil(lambda: label.height() <= label.minimumHeight() + 2, timeout=2000)
    assert host.isVisible()
