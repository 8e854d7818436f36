"""An image with a long file name (a microscope export's, no spaces) keeps the Particle detection dock inside its
column after Export: the summary "→ NAME_centres.csv, NAME_centres_counts.csv" could not wrap inside the name, the
dock's rows grew to about 850 px in a 500 px dock, and a sideways scrollbar hid "Folder…", "Add…", Polarity, "Next ▶"
and "Cancel"; the review line naming a hidden centres layer and the tracks panel's lines naming the image did the same.
The lines that name the image or its files break inside a long name, as the project line does."""

import pytest
from qtpy.QtWidgets import QDockWidget, QLabel

from helpers import answer_questions, small_stack
from test_s57_docklayout_estimate_wraps import cut_controls, settle

pytestmark = pytest.mark.usefixtures("project_home")
NAME = "2024-05-17_beads_in_gel_sample_0042_confocal_63x_oil_zoom2_stack_series_of_the_third_week_0001"


def _fits(widget) -> None:
    scroll = widget._scroll
    assert scroll.widget().minimumSizeHint().width() <= scroll.viewport().width()
    assert not scroll.horizontalScrollBar().isVisible()
    assert not cut_controls(widget)


def test_lines_naming_a_long_file_leave_no_control_cut(make_napari_viewer, qtbot, tmp_path):
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1280, 720)
    viewer.add_image(small_stack(1, 64), name=NAME)
    _, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Particle detection")
    dock = next(d for d in viewer.window._qt_window.findChildren(QDockWidget)
                if "Particle detection" in d.windowTitle())
    qtbot.waitExposed(dock)
    answer_questions(widget)
    widget.detect.device_combo.setCurrentText("cpu")
    widget.detect.run_button.click()
    qtbot.waitUntil(lambda: not widget.detect.running(), timeout=60_000)

    widget.export.export(tmp_path / f"{NAME}_centres.csv")
    settle()
    summary = widget.export.summary
    assert f"{NAME}_centres.csv" in summary.text() and summary.height() >= summary.heightForWidth(summary.width())
    _fits(widget)

    # Its centres accepted, then hidden by their eye: the review line names the layer, in its rich text.
    widget.review.accept_and_next()
    widget.annotation.points.visible = False
    settle()
    status = widget.review.status
    assert f"'{NAME} centres'" in status.text() and "<b>reviewed ✓</b>" in QLabel.text(status)
    _fits(widget)

    # The tracks panel's lines that name the image and its file, as it writes them.
    widget.tracks.status.setText(f"'{NAME} tracks' is from an earlier Link: Link again to see its MSD")
    widget.tracks.calibration_note.setText(f"from {NAME}.tif's metadata: frames 0.5 s apart")
    settle()
    _fits(widget)
