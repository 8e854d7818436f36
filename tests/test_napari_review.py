"""Detect, correct and export through the dock widget in a real viewer (engine not mocked)."""

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.projects.project import Project
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import event_loop_ticks, make_widget, notification_count, notifications_since, run_detect, small_stack

PLUGIN = "napari-particle-detect"


pytestmark = pytest.mark.usefixtures("project_home")


def assert_rings_coloured_by_source(layer):
    """Transparent discs with a border in the colour of each point's source: thin rings."""
    from napari.utils.colormaps.standardize_color import transform_color

    from napari_particle_detect._napari.layers import SOURCE_COLOURS

    assert np.all(layer.face_color[:, 3] == 0)
    expected = np.array([transform_color(SOURCE_COLOURS[s])[0] for s in layer.features["source"]]).reshape(-1, 4)
    np.testing.assert_allclose(layer.border_color, expected)


def test_detect_on_the_sample_stack_makes_a_ring_layer_with_scores_per_frame(make_napari_viewer, qtbot, light_model,
                                                                            project_home):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "synthetic_stack")
    widget = make_widget(viewer, light_model)
    assert widget.image_combo.currentText() == "synthetic particles"
    widget.detect.heatmap_check.setChecked(True)
    run_detect(widget, qtbot, scope=1)

    layer = viewer.layers["synthetic particles centres"]
    assert layer.ndim == 3 and len(layer.data) > 0
    assert set(np.unique(layer.data[:, 0])) == {0, 1, 2, 3}
    assert list(layer.features.columns) == ["score", "source"]
    assert set(layer.features["source"]) == {"model"}
    assert_rings_coloured_by_source(layer)
    diameter = widget.annotation.project.diameter
    assert 6 < diameter < 20  # particles are about 12 px across
    from napari_particle_detect._napari.layers import marker_size

    np.testing.assert_allclose(layer.size, marker_size(diameter))
    assert "estimated" in widget.detect.estimate_label.text()
    # Every frame is already on disk, in a project under the (temporary) home: the sample has no file.
    folder = widget.annotation.project.folder
    assert folder.parent == project_home / "projects"
    assert Project.open(folder).saved_frames() == [0, 1, 2, 3]

    heatmap = viewer.layers["synthetic particles heatmap"]
    assert heatmap.data.shape[0] == 4 and heatmap.data.max() > 0
    widget.review.toggle_heatmap()
    assert not heatmap.visible
    widget.review.toggle_heatmap()
    assert heatmap.visible


def rows(data):
    """A layer's points as a sorted list of tuples (the layer's order is not part of what it shows)."""
    return sorted(map(tuple, np.round(np.asarray(data), 6)))


def test_threshold_slider_hides_low_scores_without_rerunning(make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2), name="cells")
    widget = make_widget(viewer, light_model)
    run_detect(widget, qtbot, scope=1)
    layer = viewer.layers["cells centres"]
    widget.detect.set_threshold(0.1)
    everything = rows(layer.data)
    scores = layer.features["score"].to_numpy()
    cut = float(np.median(scores))
    widget.detect.set_threshold(cut)
    threshold = widget.detect.threshold()
    assert threshold == pytest.approx(round(cut, 2))
    # Hidden points are out of the layer: what it holds is what the canvas draws and Export writes.
    assert 0 < len(layer.data) == int((scores > threshold).sum()) < len(scores)
    assert (layer.features["score"] > threshold).all()
    assert len(widget.annotation.visible_table()) == len(layer.data)
    widget.detect.set_threshold(0.1)
    assert rows(layer.data) == everything  # all back, nothing re-detected
    # A point the user adds is never hidden, whatever the threshold.
    widget.detect.set_threshold(cut)
    viewer.dims.set_current_step(0, 1)
    layer.selected_data = {0}  # napari copies a selected point's features to the next one added...
    layer.add([[1, 40.0, 40.0]])
    assert layer.features["source"].iloc[-1] == "added"  # ...but a new point is the user's
    assert np.isnan(layer.features["score"].iloc[-1])
    widget.detect.set_threshold(0.99)
    assert (1.0, 40.0, 40.0) in rows(layer.data)
    assert_rings_coloured_by_source(layer)


def test_a_centre_dragged_by_hand_is_the_users_and_the_threshold_never_hides_it(make_napari_viewer, qtbot,
                                                                                 light_model):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2), name="movie")
    widget = make_widget(viewer, light_model)
    viewer.dims.set_current_step(0, 0)
    run_detect(widget, qtbot, scope=0)
    layer = widget.annotation.points
    widget.detect.set_threshold(0.0)
    table = widget.annotation.frame_table(0)
    weakest = int(np.argmin(layer.features["score"].to_numpy(float)))
    score = float(layer.features["score"].iloc[weakest])
    target = layer.data[weakest] + np.array([0.0, 3.0, 2.0])
    # What napari does as a point is dragged in select mode: from where the drag starts, to where it ends.
    layer._move([weakest], tuple(layer.data[weakest]))
    layer._move([weakest], tuple(target))
    layer._drag_start = None
    np.testing.assert_allclose(layer.data[weakest], target)
    assert layer.features["source"].iloc[weakest] == "added"
    widget.detect.set_threshold(min(0.95, score + 0.05))  # above the score the network gave it where it was
    shown = widget.annotation.frame_table(0)
    assert ((np.abs(shown["y"] - target[1]) < 1e-6) & (np.abs(shown["x"] - target[2]) < 1e-6)).sum() == 1
    widget.review.accept_button.click()
    accepted = widget.annotation.project.load_frame(0)
    assert ((np.abs(accepted["y"] - target[1]) < 1e-3) & (np.abs(accepted["x"] - target[2]) < 1e-3)).sum() == 1
    assert len(table) > 1


def test_unaccepting_keeps_the_edits_made_after_acceptance_one_undo_away(make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2), name="movie")
    widget = make_widget(viewer, light_model)
    viewer.dims.set_current_step(0, 0)
    run_detect(widget, qtbot, scope=0)
    annotation = widget.annotation
    detected = annotation.frame_table(0)
    widget.review.accept_button.click()
    viewer.dims.set_current_step(0, 0)
    layer = annotation.points
    layer.selected_data = set(np.flatnonzero(layer.data[:, 0] == 0)[:3])
    layer.remove_selected()  # edits after acceptance
    layer.add([[0, 30.0, 40.0]])
    edited = annotation.frame_table(0)
    widget.review.unaccept()
    assert len(annotation.frame_table(0)) == len(detected)  # as before acceptance
    widget.review.undo()  # the edits after acceptance were lost with no undo ("nothing to undo on frame 0")
    again = annotation.frame_table(0)
    assert len(again) == len(edited) and ((again["y"] == 30.0) & (again["x"] == 40.0)).sum() == 1


def test_edits_are_saved_at_once_and_restored_in_a_new_viewer(make_napari_viewer, qtbot, light_model, tmp_path):
    path = tmp_path / "movie.tif"
    tifffile.imwrite(path, small_stack(3))
    viewer = make_napari_viewer()
    viewer.open(path, plugin="napari")
    widget = make_widget(viewer, light_model)
    project = widget.annotation.project
    assert project.folder == tmp_path / "movie.particle-detect"
    assert not project.folder.exists()  # nothing written before there is something to keep

    viewer.dims.set_current_step(0, 0)  # napari opens stacks on the middle frame
    run_detect(widget, qtbot, scope=0)  # current frame only: frame 0
    layer = viewer.layers["movie centres"]
    assert set(layer.data[:, 0]) == {0}
    widget.detect.set_threshold(0.1)

    layer.add([[0, 20.0, 30.0]])  # an added point is written at once
    on_disk = project.load_frame(0)
    assert len(on_disk) == len(layer.data) and (on_disk["source"] == "added").sum() == 1

    layer.selected_data = {0, 1}
    layer.remove_selected()  # so is a removal
    assert len(project.load_frame(0)) == len(layer.data)

    moved = layer.data.copy()
    moved[0, 1:] += 2.0
    layer.data = moved  # a move is written once it settles
    qtbot.waitUntil(lambda: np.isclose(project.load_frame(0)["y"].iloc[0], moved[0, 1], atol=1e-3), timeout=3000)

    widget.review.accept_button.click()
    assert project.reviewed_frames == [0]
    assert widget.annotation.current_frame() == 1  # accepting moves on to the next frame
    accepted = project.load_frame(0)
    assert set(accepted["source"]) <= {"accepted", "added"}

    viewer.dims.set_current_step(0, 2)
    layer.add([[2, 11.0, 12.0]])  # a frame never detected, annotated by hand
    saved = widget.annotation.table()

    # A fresh viewer on the same file restores every frame and which ones were reviewed.
    widget2 = open_in_dock(make_napari_viewer, path, light_model)
    restored = widget2.viewer.layers["movie centres"]
    assert widget2.annotation.project.reviewed_frames == [0]
    assert widget2.detect.threshold() == 0.1 and widget2.annotation.threshold == 0.1  # the slider as it was left
    np.testing.assert_allclose(restored.data, saved[["frame", "y", "x"]].to_numpy(), atol=1e-3)
    assert list(restored.features["source"]) == list(saved["source"])
    assert_rings_coloured_by_source(restored)

    # Detect on all unreviewed frames leaves the accepted frame 0 exactly as it was.
    run_detect(widget2, qtbot, scope=1)
    after = widget2.annotation.frame_table(0)
    np.testing.assert_allclose(after[["y", "x"]], accepted[["y", "x"]], atol=1e-3)
    assert set(widget2.annotation.table()["frame"]) == {0, 1, 2}


def test_shortcuts_accept_and_move_between_frames(make_napari_viewer, qtbot, light_model):
    from qtpy.QtCore import Qt

    viewer = make_napari_viewer()
    viewer.add_image(small_stack(3, 64), name="cells")
    widget = make_widget(viewer, light_model)
    viewer.dims.set_current_step(0, 0)
    run_detect(widget, qtbot, scope=0)
    canvas = viewer.window._qt_viewer.canvas.native
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert widget.annotation.project.reviewed_frames == [0]
    assert widget.annotation.current_frame() == 1
    qtbot.keyClick(canvas, ".")
    assert widget.annotation.current_frame() == 2
    qtbot.keyClick(canvas, ",")
    qtbot.keyClick(canvas, ",")
    assert widget.annotation.current_frame() == 0
    assert "reviewed" in widget.review.status.text()


def test_export_matches_the_layer_with_physical_units(make_napari_viewer, qtbot, light_model, tmp_path):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(3, 64), name="beads", scale=(1.0, 0.5, 0.5), units=("pixel", "um", "um"))
    widget = make_widget(viewer, light_model)
    run_detect(widget, qtbot, scope=1)
    layer = viewer.layers["beads centres"]
    np.testing.assert_allclose(layer.scale, (1.0, 0.5, 0.5))  # rings sit on the particles in world space
    widget.detect.set_threshold(float(np.median(layer.features["score"])))
    viewer.dims.set_current_step(0, 2)
    layer.add([[2, 5.0, 6.0]])

    out = widget.export.export(tmp_path / "beads.csv")
    table = pd.read_csv(out)
    assert list(table.columns) == ["frame", "y", "x", "score", "source", "y_um", "x_um"]
    visible = layer.data
    assert len(table) == len(visible) < len(widget.annotation.table())
    order = np.lexsort((visible[:, 2], visible[:, 1], visible[:, 0]))
    np.testing.assert_allclose(table[["frame", "y", "x"]].to_numpy(), visible[order], atol=1e-3)
    np.testing.assert_allclose(table["y_um"], table["y"] * 0.5, atol=1e-3)
    counts = pd.read_csv(tmp_path / "beads_counts.csv")
    assert counts["frame"].tolist() == [0, 1, 2]
    assert counts["count"].tolist() == [int((visible[:, 0] == f).sum()) for f in range(3)]
    assert "centres in 3 frames" in widget.export.summary.text()


def test_single_image_gets_2d_points(make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(1, 64)[0], name="still")
    widget = make_widget(viewer, light_model)
    run_detect(widget, qtbot, scope=0)
    layer = viewer.layers["still centres"]
    assert layer.ndim == 2 and len(layer.data) > 0
    widget.review.accept_and_next()
    assert widget.annotation.project.reviewed_frames == [0]


def test_large_image_is_detected_in_tiles_while_the_viewer_stays_responsive(make_napari_viewer, qtbot, light_model):
    import time

    viewer = make_napari_viewer()
    big = synthesize(benchmark_config("fluorescent", 0.5, (1024, 1024)), seed=7).image
    viewer.add_image(big, name="big")
    widget = make_widget(viewer, light_model)
    widget.detect.diameter_spin.setValue(12.0)
    with event_loop_ticks() as ticks:
        started = time.monotonic()
        run_detect(widget, qtbot, scope=0)
        elapsed = time.monotonic() - started
    print(f"1024 x 1024 detected in {elapsed:.1f} s; timer fired {len(ticks)} times")
    layer = viewer.layers["big centres"]
    assert layer.data[:, 0].max() > 900 and layer.data[:, 1].max() > 900  # every tile was covered
    assert len(ticks) >= 0.4 * elapsed / 0.020
    # Work on the event loop would stall it for about the whole detection; a busy machine (other
    # processes on its cores) stretches both the detection and the loop's pauses, so the bound scales.
    assert np.max(np.diff(ticks)) < max(1.0, 0.25 * elapsed)


def test_problems_become_one_line_notifications_not_tracebacks(make_napari_viewer, qtbot, light_model, tmp_path):
    from napari.utils.notifications import notification_manager

    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 64), name="cells")
    widget = make_widget(viewer, light_model)
    seen = len(notification_manager.records)

    widget.finetune.run()  # nothing reviewed yet
    widget.detect.device_combo.setCurrentText("cuda")  # this machine has no CUDA GPU
    widget.detect.run_button.click()
    qtbot.waitUntil(lambda: not widget.detect.running(), timeout=30_000)
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a model")
    widget.detect.add_model_file(str(broken))

    messages = [str(n.message) for n in notification_manager.records[seen:]]
    assert any("accept at least one corrected frame" in m for m in messages), messages
    assert any("'cuda' requested but no CUDA GPU" in m for m in messages), messages
    assert any("broken" in m and "not found" in m for m in messages), messages
    assert all("Traceback" not in m and "\n" not in m for m in messages)
    assert not widget.detect.running() and widget.detect.run_button.isEnabled()


def test_a_chosen_project_folder_holds_the_work(make_napari_viewer, qtbot, light_model, tmp_path):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 64), name="cells")
    widget = make_widget(viewer, light_model)
    chosen = tmp_path / "my project"
    chosen.mkdir()
    widget.choose_project_folder(chosen)
    assert widget.annotation.project.folder == chosen and str(chosen) in widget.project_label.text()
    run_detect(widget, qtbot, scope=1)
    assert Project.open(chosen).saved_frames() == [0, 1]
    assert Project.open(chosen).round_path(1).exists()


# ---- defects found by trying the dock as a new user would ------------------------------------------
def test_accept_after_a_selection_on_another_frame_then_detect_does_not_crash(make_napari_viewer, qtbot, light_model):
    """Select a point on the last frame, step back with ',', Enter, Detect: napari kept the stale
    selection after Accept dropped hidden points, and Detect failed with an index error."""
    from qtpy.QtCore import Qt

    viewer = make_napari_viewer()
    viewer.add_image(small_stack(3, 64), name="cells")
    widget = make_widget(viewer, light_model)
    run_detect(widget, qtbot, scope=1)
    layer = widget.annotation.points
    widget.detect.set_threshold(float(np.median(widget.annotation.table()["score"])))  # frame 0 has hidden points
    viewer.dims.set_current_step(0, 2)
    layer.mode = "select"
    layer.selected_data = {len(layer.data) - 1}  # the last point, on frame 2
    canvas = viewer.window._qt_viewer.canvas.native
    canvas.setFocus()
    qtbot.keyClick(canvas, ",")
    qtbot.keyClick(canvas, ",")
    assert widget.annotation.current_frame() == 0
    total = len(widget.annotation.table())
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert widget.annotation.project.reviewed_frames == [0]
    assert len(widget.annotation.table()) < total  # hidden points of frame 0 were dropped
    run_detect(widget, qtbot, scope=0)  # frame 1, where Accept moved on to
    assert widget.annotation.points is layer and len(layer.data) > 0
    assert set(np.unique(layer.data[:, 0])) == {0, 1, 2}


def open_in_dock(make_napari_viewer, path, model):
    """A new viewer with the file opened as a user would and the dock on it."""
    viewer = make_napari_viewer()
    viewer.open(path, plugin="napari")
    return make_widget(viewer, model)


def test_a_reopened_project_detects_and_accepts_at_the_threshold_it_was_left_at(make_napari_viewer, qtbot,
                                                                               light_model, tmp_path):
    path = tmp_path / "movie.tif"
    tifffile.imwrite(path, small_stack(2, 64))
    widget = open_in_dock(make_napari_viewer, path, light_model)
    run_detect(widget, qtbot, scope=1)
    scores = widget.annotation.points.features["score"].to_numpy()
    left_at = round(float(np.quantile(scores, 0.3)), 2)
    widget.detect.set_threshold(left_at)

    widget2 = open_in_dock(make_napari_viewer, path, light_model)  # reopened in a new viewer
    assert widget2.detect.threshold() == left_at and widget2.state.threshold == left_at
    layer = widget2.annotation.points
    np.testing.assert_array_equal(layer.shown, layer.features["score"].to_numpy() > left_at)
    widget2.viewer.dims.set_current_step(0, 0)
    shown = int(((layer.data[:, 0] == 0) & layer.shown).sum())
    widget2.review.accept_and_next()
    assert len(widget2.annotation.project.load_frame(0)) == shown  # accepted what was shown, no more, no fewer


def test_a_reopened_project_detects_at_the_diameter_it_was_last_detected_with(make_napari_viewer, qtbot,
                                                                              light_model, tmp_path):
    path = tmp_path / "movie.tif"
    tifffile.imwrite(path, small_stack(2, 64))
    widget = open_in_dock(make_napari_viewer, path, light_model)
    assert widget.detect.diameter() is None  # a new image: auto
    widget.detect.diameter_spin.setValue(9.0)  # the user's diameter, not the estimate
    widget.detect.polarity_combo.setCurrentText("bright")
    run_detect(widget, qtbot, scope=1)
    assert widget.annotation.project.diameter == 9.0

    widget2 = open_in_dock(make_napari_viewer, path, light_model)  # reopened in a new viewer
    # Its rounds were trained at 9 px: a fresh estimate would detect at another scale.
    assert widget2.detect.diameter() == 9.0
    assert widget2.detect.polarity_combo.currentText() == "bright"
    run_detect(widget2, qtbot, scope=0)
    assert widget2.annotation.project.diameter == 9.0
    np.testing.assert_allclose(widget2.annotation.points.size, 4.5)  # rings half the diameter: see layers.marker_size


def test_enter_on_a_frame_never_detected_nor_edited_is_refused(make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(3, 64), name="cells")
    widget = make_widget(viewer, light_model)
    viewer.dims.set_current_step(0, 0)
    run_detect(widget, qtbot, scope=0)
    viewer.dims.set_current_step(0, 2)
    seen = notification_count()
    widget.review.accept_and_next()
    assert widget.annotation.project.reviewed_frames == []
    assert widget.annotation.current_frame() == 2
    assert any("frame 2 was never detected or edited" in m for m in notifications_since(seen))
    assert "not detected yet" in widget.review.status.text()
    widget.annotation.points.add([[2, 20.0, 20.0]])  # annotated by hand: now it can be accepted
    widget.review.accept_and_next()
    assert widget.annotation.project.reviewed_frames == [2]
    assert len(widget.annotation.project.load_frame(2)) == 1


def test_the_review_line_tells_of_the_centres_layer_after_every_reopening(make_napari_viewer, qtbot, light_model,
                                                                          tmp_path):
    # The dock is set to the image (and its line written) before the centres layer comes back from the
    # project: the line said "centres layer closed (… kept; Detect or Accept brings it back)" with the layer
    # listed, active and drawn, until the frame changed.
    path = tmp_path / "movie.tif"
    tifffile.imwrite(path, small_stack(2, 64))
    widget = open_in_dock(make_napari_viewer, path, light_model)
    run_detect(widget, qtbot, scope=1)
    viewer = widget.viewer

    def told(w) -> str:
        assert w.annotation.points is not None and w.annotation.points in w.viewer.layers
        return w.review.status.text()

    def right(line: str) -> bool:
        return "centres shown" in line and "closed" not in line

    assert right(told(widget))
    assert right(told(open_in_dock(make_napari_viewer, path, light_model))), "a new napari session"
    viewer.window.remove_dock_widget(widget)  # the dock's X, then the dock added again
    widget = make_widget(viewer, light_model)
    assert right(told(widget)), "the dock opened again"
    viewer.layers.remove("movie")  # the image closed and opened again
    viewer.open(path, plugin="napari")
    assert right(told(widget)), "the image opened again"
    viewer.add_image(small_stack(1, 64)[0], name="other")
    viewer.layers.remove("movie centres")  # closed by hand: said so
    assert "centres layer closed" in widget.review.status.text()
    widget.image_combo.setCurrentText("other")
    widget.image_combo.setCurrentText("movie")  # picked again in the dock's list: the layer is back
    assert right(told(widget)), "the image picked again"


def test_shift_enter_asks_before_a_region_drops_most_of_its_detections(make_napari_viewer, qtbot, light_model):
    # Hidden detections inside the box are learned as background as Enter's are for a frame: asked alike.
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 64), name="cells")
    widget = make_widget(viewer, light_model)
    run_detect(widget, qtbot, scope=1)
    annotation = widget.annotation
    viewer.dims.set_current_step(0, 0)
    box = (-0.5, -0.5, 63.5, 63.5)
    widget.detect.set_threshold(0.99)  # hides every detection
    check = annotation.check_accept(0, widget.state.detected_threshold(0), box)
    assert check.detected > 0 and check.needs_confirmation

    annotation.regions.propose(0, box)
    widget.answers.append(False)
    widget.review.accept_region()
    assert len(widget.questions) == 1, "not asked"
    assert widget.questions[0].startswith("Accept region y 0-64, x 0-64 of frame 0 with ")
    assert f"hides {check.dropped} of the {check.detected} centres the model detected in it" in widget.questions[0]
    assert annotation.project.regions(0) == []

    widget.review.accept_region()  # Yes
    assert len(widget.questions) == 2 and len(annotation.project.regions(0)) == 1


@pytest.mark.usefixtures("project_home")
def test_an_acceptance_that_could_not_be_written_leaves_nothing_for_un_accept(make_napari_viewer, light_model,
                                                                              monkeypatch):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 64), name="cells")
    widget = make_widget(viewer, light_model)
    annotation = widget.annotation
    annotation.ensure_points_layer().add([[0, 20, 20]])

    def full_disk(*args, **kwargs):
        raise ParticleDetectError(f"{annotation.project.folder}: no space left on the disk")

    monkeypatch.setattr(annotation.project, "accept_frame_merging", full_disk)
    with pytest.raises(ParticleDetectError, match="no space"):
        annotation.accept(0)
    assert annotation.project.reviewed_frames == [] and not annotation.can_restore(0)


@pytest.mark.usefixtures("project_home")
def test_what_detection_warns_of_is_shown_in_the_window(make_napari_viewer, qtbot):
    # Detection's warnings (here: the diameter given reads as ringed particles' cores) reached only a terminal.
    sample = synthesize(benchmark_config("brightfield", 0.3, (256, 256), radius=8.0), seed=3)
    viewer = make_napari_viewer()
    viewer.add_image(sample.image, name="rims")
    widget = make_widget(viewer, "unet")
    widget.detect.diameter_spin.setValue(8.0)  # the cores' size: the rims are 16 px across
    start = notification_count()
    run_detect(widget, qtbot, scope=0)
    said = [line for line in notifications_since(start) if "reads as their cores" in line]
    assert len(said) == 1 and said[0].startswith("rims: the particles look ringed, a core inside a rim about "), said


def test_detect_in_a_later_session_keeps_an_earlier_sessions_edits_one_undo_away(make_napari_viewer, qtbot,
                                                                                  light_model, tmp_path):
    # Edits of an unaccepted frame, saved and the window closed, were replaced by the next session's Detect
    # with no notice and no undo: only the session that made them knew the frame was edited.
    path = tmp_path / "movie.tif"
    tifffile.imwrite(path, small_stack(2, 64))
    first = open_in_dock(make_napari_viewer, path, light_model)
    run_detect(first, qtbot, scope=1)
    layer = first.annotation.points
    first.viewer.dims.set_current_step(0, 0)
    layer.add([[0, 30.0, 31.0]])  # frame 0 edited, not accepted
    first.viewer.dims.set_current_step(0, 1)
    layer.add([[1, 20.0, 21.0]])
    run_detect(first, qtbot, scope=0)  # frame 1 edited, then detected again: nothing of the user's is left there
    edited = first.annotation.frame_table(0)
    first.viewer.close()

    second = open_in_dock(make_napari_viewer, path, light_model)
    annotation = second.annotation
    seen = notification_count()
    run_detect(second, qtbot, scope=1)  # every unreviewed frame: 0 and 1
    assert "added" not in set(annotation.frame_table(0)["source"])
    said = [m for m in notifications_since(seen) if "over your edits" in m]
    assert len(said) == 1 and "frame 0:" in said[0], said  # frame 1's edits went in the first session

    second.viewer.dims.set_current_step(0, 0)
    seen = notification_count()
    second.review.undo()  # Ctrl+Z on frame 0
    assert not any("nothing to undo" in m for m in notifications_since(seen))
    again = annotation.frame_table(0)
    np.testing.assert_allclose(again[["y", "x"]], edited[["y", "x"]], atol=1e-3)
    on_disk = annotation.project.load_frame(0)
    added = on_disk[on_disk["source"] == "added"]
    np.testing.assert_allclose(added[["y", "x"]], [[30.0, 31.0]], atol=1e-3)
