"""The Rods and chains dock said which round found the rods shown only right after Detect: another kind or image
chosen and back, or the dock reopened, the line read "N rods (not reviewed)" while another round was in use, and
nothing said these rods were the earlier round's. Each frame's detecting round is kept in the project and named."""

import pytest
from qtpy.QtWidgets import QDockWidget

from helpers import kinds_dock_detected, small_rods_image

pytestmark = pytest.mark.usefixtures("project_home")


def add_round(widget, tmp_path) -> None:
    """The shipped rods model added as the project's round-002, in use from now on."""
    from napari_particle_detect.detection.kinds_prediction import shipped_model_path
    from napari_particle_detect.models import load_model, save_model

    model = tmp_path / "other.pt"
    save_model(load_model(shipped_model_path("rods"), "cpu"), model)
    widget.rounds.add_model_file(str(model))
    assert widget.session.project.current_round.name == "round-002"


def test_the_rods_line_names_the_round_that_found_them_after_switching_back(make_napari_viewer, qtbot, tmp_path):
    viewer = make_napari_viewer()
    widget = kinds_dock_detected(viewer, qtbot, small_rods_image(), "rods")
    assert "with round-001" in widget.status.text()
    add_round(widget, tmp_path)
    widget.kind_combo.setCurrentText("chains")
    widget.kind_combo.setCurrentText("rods")
    line = widget.status.text()
    assert "rods with round-001 (not reviewed; round-002 in use)" in line, line

    widget.detect()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    dock = next(d for d in viewer.window._qt_window.findChildren(QDockWidget) if "Rods" in d.windowTitle())
    viewer.window.remove_dock_widget(dock)
    _, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Rods and chains")
    line = widget.status.text()  # found with the round in use: no other round to name
    assert " rods (not reviewed): " in line and "round-001" not in line, line


def test_an_undone_detection_names_the_round_of_the_rods_it_brings_back(make_napari_viewer, qtbot, tmp_path):
    viewer = make_napari_viewer()
    widget = kinds_dock_detected(viewer, qtbot, small_rods_image(), "rods")
    layer = viewer.layers["img rods"]
    layer.selected_data = {0}
    layer.remove_selected()  # an edit: the next Detect replaces it one Undo away
    add_round(widget, tmp_path)
    widget.detect()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    assert "with round-002" in widget.status.text()
    widget.review.undo()
    line = widget.status.text()
    assert "rods with round-001 (edited; round-002 in use)" in line, line
