"""A deep folder keeps the Particle detection dock its usual width: the Model list's entry "round-001 (from
/tmp/…/tiny.pt)" sized the list to its whole path, and the dock grew past the window (811 px of a 1280 px one),
its right edge ("Polarity a…") cut off with no scrollbar. The list elides its entry (each item's tooltip whole);
the project line may break after any separator of a path, while its text() stays the path as it is."""

import shutil

import numpy as np
import pytest
import tifffile
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QApplication, QLabel

from napari_particle_detect.projects.project import Project

from helpers import small_stack

pytestmark = pytest.mark.usefixtures("project_home")
DEEP = ("a/very/long/folder/name/with/many/levels/of/experiment_2024_microscopy_session_data_of_the_"
        "third_week_of_measurements/sample")


def _image(folder, name: str):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.tif"
    tifffile.imwrite(path, (small_stack(2, 64) * 1000).astype(np.uint16))
    return path


def _settle() -> None:
    for _ in range(10):
        QApplication.processEvents()


def test_a_deep_folder_keeps_the_dock_its_width(make_napari_viewer, light_model, tmp_path):
    short = _image(tmp_path / "s", "cells")
    deep = tmp_path / DEEP
    long_image = _image(deep, "cells_of_the_deep_folder")
    model = deep / "tiny.pt"
    for suffix in (".pt", ".json"):  # the model file with its card, as a user keeps it
        shutil.copy(light_model.with_suffix(suffix), model.with_suffix(suffix))
    Project.open(long_image, n_frames=2, frame_shape=(64, 64)).ensure_initial_round(model)

    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1280, 720)
    viewer.open(str(short))
    dock, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Particle detection")
    _settle()
    usual = dock.width()
    viewer.window.remove_dock_widget(widget)
    viewer.layers.clear()
    # Added anew on the deep folder's image: the lists are sized as the dock is first shown.
    viewer.open(str(long_image))
    dock, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Particle detection")
    _settle()
    assert widget.annotation.project.folder.parent == deep

    assert viewer.window._qt_window.width() == 1280 and dock.width() <= usual + 4, (dock.width(), usual)
    combo = widget.detect.model_combo  # its entry shown elided, whole in its tooltip
    entry = combo.itemText(combo.currentIndex())
    assert str(model) in entry and combo.itemData(combo.currentIndex(), Qt.ItemDataRole.ToolTipRole) == entry
    # The path is given whole to whoever reads or copies it: the breaks are only in what is drawn.
    assert widget.project_label.text() == f"Project: {widget.annotation.project.folder}"


def test_a_long_path_is_shown_cut_in_its_middle_whole_in_the_tooltip(qtbot):
    from napari_particle_detect._napari.labels import SHOWN_PATH_CHARACTERS, ZERO_WIDTH_SPACE, PathLabel

    folder = "/data/" + "/".join(["experiment_2024_session"] * 6) + "/cells.particle-detect"
    label = PathLabel()
    qtbot.addWidget(label)
    label.setText(f"Project: {folder}")
    shown = QLabel.text(label).replace(ZERO_WIDTH_SPACE, "")
    assert label.text() == f"Project: {folder}" and label.toolTip() == label.text()
    assert shown.startswith("Project: /data/exp") and shown.endswith("/cells.particle-detect") and "…" in shown
    assert len(shown) == len("Project: ") + SHOWN_PATH_CHARACTERS
    label.setText("Project: /data/cells.particle-detect")  # a short one: whole, and no tooltip left from before
    assert QLabel.text(label).replace(ZERO_WIDTH_SPACE, "") == label.text() and label.toolTip() == ""
