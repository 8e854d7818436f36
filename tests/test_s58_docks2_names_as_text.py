"""Names holding "<" and "&" (a layer or model file "x<b>y & co") were read as markup where Qt guesses the format: the
docks' tooltips and the yes/no questions showed "xy" with a bold "y". They show as they are; the Rods and chains
Fine-tune bar no longer says "0%" when no round runs."""

import shutil

import numpy as np
import pytest
from qtpy.QtCore import QEvent, QPoint, Qt, QTimer
from qtpy.QtGui import QHelpEvent
from qtpy.QtWidgets import QApplication, QLabel, QMessageBox, QWidget

from helpers import kinds_dock, make_widget, small_stack

pytestmark = pytest.mark.usefixtures("project_home")

NAME = "x<b>y & co"


def shown_text(label: QLabel) -> str:
    """The text a label draws (rich text rendered), as a user selecting all of it would copy it."""
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    length = 0
    while length <= len(label.text()):  # its markup as set: at least as long as what it draws
        label.setSelection(0, length + 1)
        if len(label.selectedText()) <= length:
            break
        length += 1
    label.setSelection(0, length)
    return label.selectedText()


def tip_shown(tip: str) -> str:
    """What a tooltip shows of ``tip``: Qt draws it in a label that guesses its format, as a QLabel does by default."""
    return shown_text(QLabel(tip))


def test_a_question_shows_a_name_as_it_is(qtbot):
    from napari_particle_detect._napari.notify import ask_no_default

    owner = QWidget()
    qtbot.addWidget(owner)
    seen = []

    def answer() -> None:
        box = owner.dialog
        seen.append(shown_text(box.findChild(QLabel, "qt_msgbox_label")))
        box.button(QMessageBox.StandardButton.No).click()

    QTimer.singleShot(50, answer)
    assert ask_no_default(owner, "Question", f"Delete '{NAME}'?") is False
    assert seen == [f"Delete '{NAME}'?"]


def test_the_image_lists_tooltips_show_the_name_as_it_is(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(1, 48)[0], name=NAME)
    widget = make_widget(viewer, None)
    combo = widget.image_combo
    assert tip_shown(combo.itemData(combo.currentIndex(), Qt.ItemDataRole.ToolTipRole)) == NAME
    where = QPoint(5, 5)
    QApplication.sendEvent(combo, QHelpEvent(QEvent.Type.ToolTip, where, combo.mapToGlobal(where)))
    assert tip_shown(combo.toolTip()).endswith(f": {NAME}")


def rods_dock_with_a_model_added(viewer, folder):
    """The Rods and chains dock on a blank image, a copy of the shipped rods model named NAME added as round-002."""
    from napari_particle_detect.detection.kinds_prediction import shipped_model_path

    viewer.add_image(np.zeros((48, 48), np.float32), name="img")
    widget = kinds_dock(viewer, "rods", "img")
    model = folder / f"{NAME}.pt"
    for suffix in (".pt", ".json"):
        shutil.copy(shipped_model_path("rods").with_suffix(suffix), model.with_suffix(suffix))
    widget.rounds.add_model_file(str(model))
    assert widget.rounds.table.rowCount() == 2
    return widget


def test_an_added_model_files_name_shows_as_it_is_in_its_rounds_row(make_napari_viewer, tmp_path):
    widget = rods_dock_with_a_model_added(make_napari_viewer(), tmp_path)
    assert tip_shown(widget.rounds.table.item(1, 0).toolTip()).endswith(f"{NAME}.pt")


def test_the_rods_fine_tune_bar_says_no_percentage_with_no_round_running(make_napari_viewer, tmp_path):
    widget = rods_dock_with_a_model_added(make_napari_viewer(), tmp_path)
    bar = widget.rounds.progress
    assert not widget.rounds.running()
    assert not bar.isTextVisible() or bar.text() == "", bar.text()  # "0%" read as a round started and stuck


def test_the_model_lists_tooltip_shows_an_added_files_name_as_it_is(make_napari_viewer, tmp_path):
    from napari_particle_detect.models.registry import default_model_path

    viewer = make_napari_viewer()
    viewer.add_image(small_stack(1, 48)[0], name="img")
    widget = make_widget(viewer, None)
    model = tmp_path / f"{NAME}.pt"
    for suffix in (".pt", ".json"):
        shutil.copy(default_model_path().with_suffix(suffix), model.with_suffix(suffix))
    widget.detect.add_model_file(str(model))
    combo = widget.detect.model_combo
    assert combo.currentData() == 2
    assert tip_shown(combo.itemData(combo.currentIndex(), Qt.ItemDataRole.ToolTipRole)).endswith(f"{NAME}.pt)")


def test_a_cut_paths_tooltip_shows_it_whole_as_it_is(qtbot):
    from napari_particle_detect._napari.labels import SHOWN_PATH_CHARACTERS, PathLabel

    path = "/data/" + "deep_folder/" * (SHOWN_PATH_CHARACTERS // 12) + f"{NAME}.particle-detect"
    label = PathLabel(f"Project: {path}")
    qtbot.addWidget(label)
    assert "…" in QLabel.text(label)  # shown cut: the tooltip is where the path is read whole
    assert tip_shown(label.toolTip()) == f"Project: {path}"
