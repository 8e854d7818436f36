"""Two napari windows on one image's project: the round one of them puts in use is the one the other shows
and detects with, at that round's threshold, by the time its user acts there; and the Fine-tune panel's
rounds plot keeps its title whole in the dock at its usual width."""

import json
import shutil

import numpy as np
import tifffile
from matplotlib.text import Text

from napari_particle_detect.projects.project import RoundInfo

from helpers import make_widget, run_detect, shown_plugin_dock, small_stack

PLUGIN = "napari-particle-detect"


def open_in_dock(make_napari_viewer, path, model, show=False):
    """A new viewer (a window) with the file opened as a user would and the dock on it."""
    viewer = make_napari_viewer(show=show)
    viewer.open(path, plugin="napari")
    return make_widget(viewer, model)


def model_with_threshold(model, folder, threshold):
    """A copy of ``model`` whose card has another tuned threshold: a second round told apart by it."""
    folder.mkdir()
    copy = folder / "other.pt"
    shutil.copy(model, copy)
    card = json.loads(model.with_suffix(".json").read_text())
    card["threshold"] = threshold
    copy.with_suffix(".json").write_text(json.dumps(card))
    return copy


def assert_shows_round(widget, number, threshold):
    assert widget.detect.model_combo.currentData() == number
    assert widget.state.threshold == threshold and widget.detect.threshold() == threshold
    note = widget.detect.elsewhere_note.text()
    assert note.startswith(f"round-{number:03d} was chosen in another window"), note
    assert f"at threshold {threshold:.2f}" in note
    assert "chosen in another window" in widget.finetune.status.text()


def test_a_round_put_in_use_in_another_window_is_shown_and_detected_with_here(make_napari_viewer, qtbot,
                                                                           light_model, tmp_path):
    path = tmp_path / "movie.tif"
    tifffile.imwrite(path, small_stack(2, 64))
    window_a = open_in_dock(make_napari_viewer, path, light_model)
    run_detect(window_a, qtbot, scope=1)  # round-001 on every frame
    first = window_a.state.threshold
    window_b = open_in_dock(make_napari_viewer, path, light_model)
    window_b.detect.add_model_file(str(model_with_threshold(light_model, tmp_path / "other", 0.77)))
    assert window_b.annotation.project.current_round.number == 2
    assert window_a.detect.model_combo.currentData() == 1  # nothing done in window A yet

    # Detect pressed in A, nothing else: it detects with round-002 and shows its points at round-002's threshold.
    window_a.viewer.dims.set_current_step(0, 0)
    window_a.detect.scope_combo.setCurrentIndex(0)
    window_a.detect.run_button.click()
    qtbot.waitUntil(lambda: not window_a.detect.running(), timeout=60_000)
    assert_shows_round(window_a, 2, 0.77)
    project = window_a.annotation.project
    assert project.detected_by == {0: 2, 1: 1}
    layer = window_a.annotation.points
    frame_0 = layer.data[:, 0] == 0
    np.testing.assert_array_equal(layer.shown[frame_0], layer.features["score"].to_numpy()[frame_0] > 0.77)
    # Frames round-001 detected keep its threshold, and the panel says which.
    assert window_a.annotation.held == {1: first}
    assert "round-001's" in window_a.detect.rounds_note.text()

    # Round-001 chosen again in B; A's user moves to another frame: A shows it at the threshold it was left at.
    window_b.state.use_round(1, how="chosen in the table")
    window_a.viewer.dims.set_current_step(0, 1)
    assert_shows_round(window_a, 1, first)
    assert window_a.annotation.held == {0: 0.77}
    assert project.threshold == first  # A wrote nothing of its own over what B left


def test_a_window_coming_back_to_the_front_shows_the_round_another_window_chose(make_napari_viewer, qtbot,
                                                                                light_model, tmp_path):
    from qtpy.QtWidgets import QApplication

    path = tmp_path / "movie.tif"
    tifffile.imwrite(path, small_stack(2, 64))
    window_a = open_in_dock(make_napari_viewer, path, light_model, show=True)
    run_detect(window_a, qtbot, scope=0)
    window_b = open_in_dock(make_napari_viewer, path, light_model, show=True)
    window_b.detect.add_model_file(str(model_with_threshold(light_model, tmp_path / "other", 0.77)))
    assert window_a.detect.model_combo.currentData() == 1
    for widget in (window_b, window_a):  # the user goes to window B, then back to window A
        widget.window().activateWindow()
        widget.detect.scope_combo.setFocus()
        qtbot.waitUntil(lambda: QApplication.focusWidget() is widget.detect.scope_combo, timeout=5_000)
    assert_shows_round(window_a, 2, 0.77)


def test_the_rounds_plot_title_fits_the_dock_at_its_usual_and_narrowest_widths(make_napari_viewer, qtbot):
    """Its title ran past both plot edges ("held-out F1 per round (grey: bef") in a dock of about 400 px."""
    from qtpy.QtCore import Qt

    viewer, widget, dock = shown_plugin_dock(make_napari_viewer, qtbot)
    window = viewer.window._qt_window
    plot = widget.finetune.rounds_plot
    plot.show_rounds([RoundInfo(1, "shipped"),
                      RoundInfo(2, "fine-tuned", parent=1, f1=0.81, parent_f1=0.74, improved=True),
                      RoundInfo(3, "fine-tuned", parent=2, f1=0.79, parent_f1=0.81, improved=False)])
    for width in (None, 1):  # as opened; as narrow as the dock goes
        if width is not None:
            window.resizeDocks([dock], [width], Qt.Orientation.Horizontal)
            qtbot.waitUntil(lambda: dock.width() <= 440)
        qtbot.waitUntil(lambda: abs(plot.figure.bbox.width - plot.width() * plot.device_pixel_ratio) < 1)
        plot.draw()
        (title,) = [text for text in plot.figure.findobj(Text) if text.get_text().startswith("held-out F1")]
        extent = title.get_window_extent(plot.get_renderer())
        assert 0 <= extent.x0 and extent.x1 <= plot.figure.bbox.width, (dock.width(), extent, plot.figure.bbox)
        assert title.get_fontsize() >= 6.5  # still readable
