"""The Rods and chains dock's review loop, for real in napari: detect, edit, accept a frame and a box,
undo, review next, a fine-tuning round, export, and everything back after the dock is closed."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect.kinds.registry import read_kind_table
from napari_particle_detect.learning.kinds_rounds import KIND_ROUND, round_config
from napari_particle_detect.synthetic.chains import benchmark_chain_config, synthesize_chains
from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods

from helpers import notification_count, notifications_since

PLUGIN = "napari-particle-detect"
TINY = replace(KIND_ROUND, steps_per_epoch=3, batch_size=2, crop=64)


def rods_image(seed: int) -> np.ndarray:
    """A 96 px fluorescent image of rods at area fraction 0.15."""
    config = benchmark_rod_config("fluorescent", 0.15)
    return synthesize_rods(replace(config, optics=replace(config.optics, shape=(96, 96))), seed=seed).image


def open_dock(viewer, kind):
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    widget.kind_combo.setCurrentText(kind)
    return widget


def dock_on_the_first_of_two_images(make_napari_viewer):
    """A viewer with rods images "a" and "b", the rods dock on "a"."""
    viewer = make_napari_viewer()
    viewer.add_image(rods_image(97), name="a")
    viewer.add_image(rods_image(98), name="b")
    widget = open_dock(viewer, "rods")
    widget.image_combo.setCurrentText("a")
    return viewer, widget


def detect(widget, qtbot):
    widget.detect()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)


def test_rods_dock_edits_accepts_undoes_fine_tunes_exports_and_comes_back(make_napari_viewer, qtbot, project_home,
                                                                          tmp_path):
    viewer = make_napari_viewer()
    viewer.add_image(np.stack([rods_image(90 + i) for i in range(2)]), name="rods img")
    widget = open_dock(viewer, "rods")
    detect(widget, qtbot)
    session = widget.session
    layer = viewer.layers["rods img rods"]
    found = layer.nshapes
    assert found >= 3 and session.project.saved_frames() == [0]
    # Edit: delete one rod, draw a new one; each is saved at once.
    layer.selected_data = {0}
    layer.remove_selected()
    layer.add_lines(np.array([[0.0, 10.0, 10.0], [0.0, 10.0, 30.0]]))
    saved = session.tables[0]
    assert len(saved) == found and (saved["source"] == "added").sum() == 1
    assert saved.loc[saved["source"] == "added", "length"].item() == pytest.approx(20.0)
    lines = [np.array(d) for d in layer.data]
    lines[-1][1, 1:] = [10.0, 40.0]  # its tip dragged on: 30 px long now
    layer.data = lines
    saved = session.tables[0]
    assert saved.loc[saved["source"] == "added", "length"].item() == pytest.approx(30.0)
    # Accept frame 0; on frame 1 detect and accept a box; undo takes the box back.
    widget.review.accept_frame()
    assert session.project.reviewed_frames == [0]
    viewer.dims.current_step = (1, 0, 0)
    detect(widget, qtbot)
    session.regions.propose(1, (-0.5, -0.5, 40.0, 95.5))
    widget.review.accept_region()
    assert len(session.project.regions(1)) == 1
    widget.review.undo()
    assert session.project.regions(1) == []
    session.regions.propose(1, (-0.5, -0.5, 40.0, 95.5))
    widget.review.accept_region()
    # Review next proposes an unreviewed region of frame 1 (frame 0 is reviewed whole).
    widget.review.review_next()
    assert "Next: frame 1" in widget.review.suggestion.text()
    # A round: it is listed with its verdict; not better means kept, not used. Its steps box shows the rods'
    # round's own default.
    assert widget.rounds.steps_spin.value() == round_config("rods").steps_per_epoch == 100
    widget.rounds.run(TINY)
    qtbot.waitUntil(lambda: not widget.rounds.running(), timeout=60_000)
    project = session.project
    assert [r.number for r in project.rounds] == [1, 2]
    assert widget.rounds.table.rowCount() == 2
    text = widget.rounds.status.text()
    assert "round-002" in text and ("in use" in text or "still using round-001" in text)
    # Its row says which candidate it is: trained, or trained and then given the frames' batch-norm statistics.
    info = project.rounds[1]
    assert info.origin.startswith("fine-tuned") and widget.rounds.table.item(1, 0).toolTip().startswith(
        f"round-002: {info.origin} from round-001, trained on")
    # Using round 2 (double-click) says the rods shown were found with round 1 until Detect runs again.
    widget.rounds.use_row(1)
    assert widget.status.text().startswith("round-002 in use from now on; the rods shown were found with round-001")
    # Cancel stops a long round within a step and leaves the project as it was.
    widget.rounds.run(replace(TINY, steps_per_epoch=5000))
    assert widget.rounds.cancel(wait_s=60)
    qtbot.waitUntil(lambda: not widget.rounds.running(), timeout=60_000)
    assert "cancelled; still using" in widget.rounds.status.text() and len(project.rounds) == 2
    # Export: the reader reads it back with the same rods.
    out = tmp_path / "rods.csv"
    widget.review.export(out)
    again = read_kind_table(out, "rods")
    assert len(again) == len(session.whole_table()) and {"angle", "length", "y1", "x2", "score", "source"} <= set(again)
    [opened] = viewer.open(out, plugin=PLUGIN)
    assert opened.nshapes == len(again)
    # Close the dock (its layers go with it), open it again: the project brings everything back.
    viewer.window.remove_dock_widget("all")
    assert "rods img rods" not in viewer.layers
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")  # the image's kind is found
    assert widget.kind_combo.currentText() == "rods"
    assert "rods img rods" in viewer.layers and viewer.layers["rods img rods"].nshapes == len(again)
    assert widget.rounds.table.rowCount() == 2 and widget.session.project.reviewed_frames == [0]


def test_chains_dock_accepts_a_frame_and_exports_beads_with_the_chain_table(make_napari_viewer, qtbot, project_home,
                                                                           tmp_path):
    sample = synthesize_chains(benchmark_chain_config("fluorescent", 0.2, shape=(96, 96)), seed=12)
    viewer = make_napari_viewer()
    viewer.add_image(sample.image, name="beads")
    widget = open_dock(viewer, "chains")
    assert widget.rounds.steps_spin.value() == round_config("chains").steps_per_epoch == 150  # the chains' own
    detect(widget, qtbot)
    beads = viewer.layers["beads beads"]
    n = len(beads.data)
    beads.add(np.array([[5.0, 5.0]]))  # a bead added by hand is a chain of its own
    table = widget.session.tables[0]
    assert len(table) == n + 1 and table.loc[table["source"] == "added", "index"].tolist() == [0]
    # Cut the first bond of a chain, then link its two new ends again (a link spans one bond at most).
    features = beads.features
    chain = next(c for c, g in features.groupby("chain") if len(g) >= 3 and not g["closed"].any())
    pair = {int(np.flatnonzero(((features["chain"] == chain) & (features["index"] == i)).to_numpy())[0])
            for i in (0, 1)}
    beads.selected_data = pair
    chains = widget.session.tables[0]["chain"].nunique()
    widget.review.cut()
    assert widget.session.tables[0]["chain"].nunique() == chains + 1
    beads.selected_data = pair
    widget.review.link()
    assert widget.session.tables[0]["chain"].nunique() == chains
    widget.review.accept_frame()
    assert widget.session.project.reviewed_frames == [0]
    assert set(widget.session.tables[0]["source"]) <= {"accepted", "added"}
    out = tmp_path / "chains.csv"
    widget.review.export(out)
    assert list(pd.read_csv(out).columns[:6]) == ["frame", "y", "x", "score", "chain", "index"]
    summary = pd.read_csv(tmp_path / "chains.chains.csv")
    assert summary["beads"].sum() == n + 1
    assert viewer.layers["beads chains"].nshapes == (summary["beads"] >= 2).sum()
    # Opened again, the dock finds the image's chains project and picks its kind.
    viewer.window.remove_dock_widget("all")
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    assert widget.kind_combo.currentText() == "chains" and widget.session.project.reviewed_frames == [0]


def test_rods_detected_again_over_edits_keep_them_one_undo_away_and_an_undetected_frame_is_refused(
        make_napari_viewer, qtbot, project_home):
    viewer = make_napari_viewer()
    viewer.add_image(np.stack([rods_image(90 + i) for i in range(2)]), name="rods img")
    widget = open_dock(viewer, "rods")
    viewer.dims.current_step = (1, 0, 0)
    seen = notification_count()
    widget.review.accept_frame()  # frame 1 was never detected: refused, nothing accepted
    assert widget.session.project.reviewed_frames == []
    assert any("frame 1 was never detected or edited: run Detect on it, or draw its rods" in m
               for m in notifications_since(seen))
    viewer.dims.current_step = (0, 0, 0)
    detect(widget, qtbot)
    session, layer = widget.session, viewer.layers["rods img rods"]
    found = layer.nshapes
    layer.selected_data = {0}
    layer.remove_selected()
    assert len(session.tables[0]) == found - 1
    detect(widget, qtbot)  # the deleted rod is back from the model; the deletion one Undo away
    assert len(session.tables[0]) == found
    assert "detected over your edits on frame 0: Undo brings them back" in widget.status.text()
    widget.review.undo()
    assert len(session.tables[0]) == found - 1 and layer.nshapes == found - 1
    assert viewer.layers["rods img rods"] is layer  # refilled in place, not replaced
    layer.add_lines(np.array([[0.0, 10.0, 10.0], [0.0, 10.0, 40.0]]))  # drawn by hand: 'added', in its colour
    from napari.utils.colormaps.standardize_color import transform_color

    from napari_particle_detect._napari.layers import SOURCE_COLOURS

    widget.review.accept_frame()
    sources = list(layer.features["source"])
    assert layer.nshapes == found and sources.count("added") == 1
    np.testing.assert_allclose(layer.edge_color, [transform_color(SOURCE_COLOURS[s])[0] for s in sources])
    # A frame detected with nothing on it is saved empty, and may be accepted as holding no rods.
    blank = np.full((96, 96), 10.0, np.float32) + np.random.default_rng(0).normal(0, 1, (96, 96)).astype(np.float32)
    viewer.add_image(blank, name="blank")
    widget.image_combo.setCurrentText("blank")
    detect(widget, qtbot)
    widget.review.accept_frame()
    assert widget.session.project.reviewed_frames == [0]


def test_switching_kind_puts_the_other_kinds_layers_away_and_back(make_napari_viewer, qtbot, project_home):
    viewer = make_napari_viewer()
    viewer.add_image(rods_image(91), name="img")
    widget = open_dock(viewer, "rods")
    detect(widget, qtbot)
    rods = viewer.layers["img rods"]
    found = rods.nshapes
    widget.kind_combo.setCurrentText("chains")
    assert "img rods" not in viewer.layers  # removed, not drawn over the chains
    widget.kind_combo.setCurrentText("rods")
    rods = viewer.layers["img rods"]
    assert rods.nshapes == found and rods.visible  # its project brings it back
    # A detection that ends after another kind was chosen is kept, not drawn over the other kind.
    widget.detect()
    widget.kind_combo.setCurrentText("chains")
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    assert "img rods" not in viewer.layers and "kept in its project" in widget.status.text()


def dock_with_an_added_round(viewer, exported, seed: int):
    """The rods dock on a rods image, the shipped rods model saved as ``exported`` (a round of another
    image) and added to the image's project as round 2."""
    from napari_particle_detect.detection.kinds_prediction import shipped_model_path
    from napari_particle_detect.models import load_model, save_model

    save_model(load_model(shipped_model_path("rods"), "cpu"), exported)
    viewer.add_image(rods_image(seed), name="img")
    widget = open_dock(viewer, "rods")
    widget.rounds.add_model_file(str(exported))
    return widget


def test_a_rods_round_exported_from_one_image_is_added_to_another(make_napari_viewer, qtbot, project_home, tmp_path):
    exported = tmp_path / "other-image-round.pt"
    widget = dock_with_an_added_round(make_napari_viewer(), exported, 92)
    project = widget.session.project
    assert [r.number for r in project.rounds] == [1, 2] and project.current_round.number == 2
    assert project.rounds[1].origin == f"imported from {exported}"
    seen = notification_count()
    from napari_particle_detect.detection.kinds_prediction import shipped_model_path

    widget.rounds.add_model_file(str(shipped_model_path("chains")))  # another kind's: refused, nothing added
    assert any("this model finds chains, not rods" in m for m in notifications_since(seen))
    assert len(project.rounds) == 2
    from qtpy.QtCore import QThreadPool

    assert QThreadPool.globalInstance().waitForDone(60_000)  # the dock's warm-up worker ends before the viewer


# ---- the mouse, as napari's canvas drives a layer ----------------------------------------------------
class _Mouse:
    """What a layer's mouse callbacks read of napari's mouse event."""

    def __init__(self, kind, position, ndim):
        self.type, self.position = kind, tuple(float(v) for v in position)
        self.pos = np.array(self.position[-2:][::-1])
        self.modifiers, self.is_dragging, self.button, self.handled = [], kind == "mouse_move", 1, False
        self.dims_displayed, self.view_direction, self.delta, self.native = list(range(ndim))[-2:], None, (0, 0), None


def _mouse(layer, kind, position):
    from napari.utils import interactions
    from napari.utils._proxies import ReadOnlyWrapper

    callbacks = {"mouse_press": interactions.mouse_press_callbacks, "mouse_move": interactions.mouse_move_callbacks,
                 "mouse_release": interactions.mouse_release_callbacks}[kind]
    callbacks(layer, ReadOnlyWrapper(_Mouse(kind, position, layer.ndim), exceptions=("handled",)))


def drag(layer, start, end, steps=5):
    _mouse(layer, "mouse_press", start)
    for t in np.linspace(0, 1, steps)[1:]:
        _mouse(layer, "mouse_move", np.asarray(start, float) + t * (np.asarray(end, float) - np.asarray(start, float)))
    _mouse(layer, "mouse_release", end)


def dock_widget_of(viewer, widget):
    from qtpy.QtWidgets import QDockWidget

    return next(d for d in viewer.window._qt_window.findChildren(QDockWidget) if d.widget() is widget)


def test_closing_the_dock_with_its_x_puts_its_layers_away_and_the_reopened_dock_hears_them(
        make_napari_viewer, qtbot, project_home):
    viewer = make_napari_viewer()
    viewer.add_image(np.stack([rods_image(93 + i) for i in range(2)]), name="img")
    widget = open_dock(viewer, "rods")
    detect(widget, qtbot)
    layer, old = viewer.layers["img rods"], widget.session
    found = layer.nshapes
    dock_widget_of(viewer, widget).title.close_button.click()  # napari's own close path (destroyOnClose)
    qtbot.wait(100)
    assert layer not in viewer.layers  # put away, saved
    again = open_dock(viewer, "rods")
    session, layer = again.session, viewer.layers["img rods"]
    assert session is not old and layer.nshapes == found and layer.visible
    # Only the reopened dock's session hears the layer: what it shows is what is saved.
    layer.selected_data = {0}
    layer.remove_selected()
    assert len(session.tables[0]) == found - 1 and session.actions == [("edit", 0, False)]
    again.review.accept_frame()
    saved = session.project.load_frame(0)
    assert len(saved) == layer.nshapes == found - 1 and set(saved["source"]) == set(layer.features["source"]) == {
        "accepted"}
    again.review.undo()
    again.review.undo()  # the deletion, heard by this session
    assert len(session.tables[0]) == layer.nshapes == found


def test_switching_chains_to_rods_and_back_removes_the_layers_and_brings_them_back(
        make_napari_viewer, qtbot, project_home):
    """Removing the beads and paths layers (and the outlines) crashed napari's canvas under software OpenGL
    on the next layer added, until the canvas was made current before each removal
    (layers.guard_canvas_from_removed_layers): the chains' next session draws them again from the project."""
    viewer = make_napari_viewer()
    viewer.add_image(rods_image(94), name="img")
    widget = open_dock(viewer, "chains")
    detect(widget, qtbot)
    widget.session.regions.propose(0, (10.0, 10.0, 60.0, 60.0))
    widget.review.accept_region()
    names = ("img beads", "img chains", "img chains review box", "img chains reviewed regions")
    beads = viewer.layers["img beads"].data.copy()
    removed = []
    viewer.layers.events.removed.connect(lambda event: removed.append(event.value.name))
    widget.kind_combo.setCurrentText("rods")
    assert sorted(removed) == sorted(names) and not any(name in viewer.layers for name in names)
    widget.kind_combo.setCurrentText("chains")
    np.testing.assert_allclose(viewer.layers["img beads"].data, beads)
    assert viewer.layers["img chains reviewed regions"].nshapes == 1
    # The outline still un-accepts its region when deleted, for the session now in use only.
    outlines = viewer.layers["img chains reviewed regions"]
    outlines.selected_data = {0}
    outlines.remove_selected()
    assert widget.session.project.regions() == []


def test_escape_on_an_abandoned_drawing_marks_no_rod_added(make_napari_viewer, qtbot, project_home):
    from napari.layers.shapes._shapes_key_bindings import finish_drawing_shape  # what Escape runs

    viewer = make_napari_viewer()
    viewer.add_image(rods_image(95), name="img")
    widget = open_dock(viewer, "rods")
    detect(widget, qtbot)
    layer, session = viewer.layers["img rods"], widget.session
    before = session.tables[0].copy()
    layer.mode = "add_polyline"
    _mouse(layer, "mouse_press", (30.0, 30.0))
    _mouse(layer, "mouse_release", (30.0, 30.0))
    _mouse(layer, "mouse_move", (40.0, 45.0))
    finish_drawing_shape(layer)  # napari reports the discarded line as added at -1
    qtbot.wait(10)
    assert layer.nshapes == len(before) and "added" not in set(layer.features["source"].iloc[:layer.nshapes])
    assert list(session.tables[0]["source"]) == list(before["source"]) == ["model"] * len(before)


@pytest.mark.parametrize("tool, points, refused", [
    ("add_path", [(20.0, 10.0), (20.0, 40.0), (40.0, 60.0)], "a path of"),  # freehand path of many points
    ("add_rectangle", [(20.0, 10.0), (40.0, 60.0)], "a rectangle"),
    ("add_ellipse", [(20.0, 10.0), (40.0, 60.0)], "a ellipse"),
    ("add_line", [(50.0, 50.0), (50.5, 50.5)], "px long"),  # a click of the line tool, not a rod
])
def test_a_shape_that_is_not_a_rod_is_taken_off_the_rods_layer_with_a_notice(
        make_napari_viewer, qtbot, project_home, tool, points, refused):
    viewer = make_napari_viewer()
    viewer.add_image(rods_image(96), name="img")
    widget = open_dock(viewer, "rods")
    detect(widget, qtbot)
    layer, session = viewer.layers["img rods"], widget.session
    found = layer.nshapes
    seen = notification_count()
    layer.mode = tool
    drag(layer, points[0], points[-1], steps=len(points) + 2)
    qtbot.waitUntil(lambda: any("only lines are rods" in m for m in notifications_since(seen)), timeout=5_000)
    assert layer.nshapes == found and set(layer.shape_type) == {"line"} and len(session.tables[0]) == found
    message = next(m for m in notifications_since(seen) if "only lines are rods" in m)
    assert refused in message and "draw rods with the line tool" in message
    layer.mode = "add_line"
    drag(layer, (70.0, 10.0), (70.0, 40.0))  # a real rod is still kept
    assert layer.nshapes == found + 1 and session.tables[0]["source"].tolist().count("added") == 1


def test_choosing_a_round_by_hand_updates_both_status_lines(make_napari_viewer, qtbot, project_home, tmp_path):
    widget = dock_with_an_added_round(make_napari_viewer(), tmp_path / "round.pt", 97)
    assert "2 rounds (round-002 in use)" in widget.status.text()
    widget.rounds.status.setText("round-002 is not better than round-001, so still using round-001")  # a verdict
    widget.rounds.use_row(0)
    assert widget.rounds.status.text().startswith("round-001 in use from now on")
    assert "2 rounds (round-001 in use)" in widget.status.text()
    from qtpy.QtCore import QThreadPool

    assert QThreadPool.globalInstance().waitForDone(60_000)


def test_the_status_line_counts_the_rods_shown_with_those_an_accepted_box_keeps(make_napari_viewer, qtbot,
                                                                               project_home):
    viewer = make_napari_viewer()
    viewer.add_image(rods_image(98), name="img")
    widget = open_dock(viewer, "rods")
    detect(widget, qtbot)
    widget.session.regions.propose(0, (-0.5, -0.5, 60.0, 60.0))
    widget.review.accept_region()
    rods = widget.session.frame_table(0)
    kept = int(widget.session.project.regions(0)[0].contains(rods["y"], rods["x"]).sum())
    widget.threshold_spin.setValue(0.95)  # finds next to nothing: the box's rods are still shown
    detect(widget, qtbot)
    shown = len(widget.session.frame_table(0))
    assert kept >= 1 and shown >= kept
    assert widget.status.text().startswith(f"{shown} rods shown, ") and " found with round-001" in widget.status.text()


def test_chains_detected_again_around_an_accepted_box_keep_the_runs_inside_it(make_napari_viewer, qtbot,
                                                                             project_home):
    """A chain crossing the accepted box's edge kept the beads inside with a gap in its index: the frame
    could not be saved and Detect failed."""
    viewer = make_napari_viewer()
    sample = synthesize_chains(benchmark_chain_config("fluorescent", 0.3, shape=(128, 128)), seed=3)
    viewer.add_image(sample.image, name="img")
    widget = open_dock(viewer, "chains")
    detect(widget, qtbot)
    box = (20.0, 20.0, 70.0, 70.0)
    widget.session.regions.propose(0, box)
    widget.review.accept_region()
    inside = widget.session.frame_table(0)
    inside = inside[(inside["y"] >= box[0]) & (inside["y"] < box[2]) & (inside["x"] >= box[1]) & (inside["x"] < box[3])]
    detect(widget, qtbot)
    saved = read_kind_table(widget.session.project.folder / "frames" / "frame-0000.csv", "chains")
    kept = saved[(saved["y"] >= box[0]) & (saved["y"] < box[2]) & (saved["x"] >= box[1]) & (saved["x"] < box[3])]
    assert len(kept) >= len(inside) > 0 and (kept["source"] == "accepted").sum() == len(inside)


@pytest.mark.parametrize("kind", ["rods", "chains"])
def test_detect_in_a_later_session_keeps_an_earlier_sessions_edits_one_undo_away(make_napari_viewer, qtbot,
                                                                                  project_home, tmp_path, kind):
    # Edits saved but not accepted, the window closed, were replaced by the next session's Detect with no notice
    # and nothing to undo: only the session that made them knew the frame was edited.
    path = tmp_path / "img.tif"
    tifffile.imwrite(path, rods_image(96) if kind == "rods" else
                     synthesize_chains(benchmark_chain_config("fluorescent", 0.2, shape=(96, 96)), seed=12).image)
    first = make_napari_viewer()
    first.open(str(path), plugin="napari")
    widget = open_dock(first, kind)
    detect(widget, qtbot)
    layer = widget.session.main_layer
    found = len(layer.data)
    layer.selected_data = {0}
    layer.remove_selected()
    edited = widget.session.tables[0]
    first.close()

    second = make_napari_viewer()
    second.open(str(path), plugin="napari")
    widget = open_dock(second, kind)
    session = widget.session
    said = "detected over your edits on frame 0: Undo brings them back"
    for _ in range(2):  # the edits an undo brought back are edits again: a second Detect keeps them too
        detect(widget, qtbot)
        assert len(session.tables[0]) == found and said in widget.status.text()
        widget.review.undo()
        pd.testing.assert_frame_equal(session.tables[0], edited)
        assert len(session.main_layer.data) == found - 1


def test_an_image_renamed_in_the_layer_list_stays_the_docks_and_still_detects(make_napari_viewer, qtbot, project_home):
    # Renamed, the image's old name was still offered; Detect, finding no layer of that name, put the session's
    # layers away and did nothing.
    viewer = make_napari_viewer()
    image = viewer.add_image(rods_image(3), name="rods")
    viewer.add_image(rods_image(4), name="other")
    widget = open_dock(viewer, "rods")
    widget.image_combo.setCurrentText("rods")
    session = widget.attach()
    image.name = "renamed"
    assert [widget.image_combo.itemText(i) for i in range(widget.image_combo.count())] == ["renamed", "other"]
    assert widget.image_combo.currentText() == "renamed"
    detect(widget, qtbot)
    assert widget.session is session and session.image is image
    assert "rods with round-001" in widget.status.text(), widget.status.text()


def test_a_detection_ending_after_a_switch_keeps_the_edits_of_the_frame_it_would_replace(make_napari_viewer, qtbot,
                                                                                         project_home):
    # Saved into the session put away, the late detection replaced the frame's edits and left their Undo in that
    # session, thrown away: switching back showed the detection, the edits lost without a word.
    viewer, widget = dock_on_the_first_of_two_images(make_napari_viewer)
    detect(widget, qtbot)
    layer = widget.session.main_layer
    found = layer.nshapes
    layer.selected_data = {0}
    layer.remove_selected()
    edited = widget.session.tables[0]
    widget.detect()
    widget.image_combo.setCurrentText("b")  # before the worker's result reaches the dock
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    assert widget.status.text().endswith("frame 0 kept your edits: Detect again there to replace them"), \
        widget.status.text()
    widget.image_combo.setCurrentText("a")
    session = widget.session
    pd.testing.assert_frame_equal(session.tables[0], edited)
    assert session.main_layer.nshapes == found - 1
    assert len(read_kind_table(session.project.folder / "frames" / "frame-0000.csv", "rods")) == found - 1
    detect(widget, qtbot)  # still marked edited: Detect again replaces them, one Undo away
    assert "detected over your edits on frame 0: Undo brings them back" in widget.status.text()


def test_a_detection_ending_after_switching_away_and_back_is_shown_in_the_images_new_session(make_napari_viewer, qtbot,
                                                                                           project_home):
    # It went to the session put away: saved on disk under the new session's layers, which still showed the frame
    # as it was (and their next save could write that back over the detection).
    viewer, widget = dock_on_the_first_of_two_images(make_napari_viewer)
    on_disk = lambda: read_kind_table(widget.session.project.folder / "frames" / "frame-0000.csv", "rods")  # noqa: E731
    widget.detect()
    widget.image_combo.setCurrentText("b")  # away and back before the worker's result reaches the dock
    widget.image_combo.setCurrentText("a")
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    found = len(on_disk())
    assert found >= 3 and widget.session.main_layer.nshapes == found
    assert widget.status.text().startswith(f"{found} rods with round-001"), widget.status.text()
    layer = widget.session.main_layer
    layer.selected_data = {0}
    layer.remove_selected()
    edited = widget.session.tables[0]
    widget.detect()
    widget.kind_combo.setCurrentText("chains")  # the kind away and back this time
    widget.kind_combo.setCurrentText("rods")
    session = widget.session
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    assert session.main_layer.nshapes == len(on_disk()) == found  # replaced as if the dock had stayed
    assert "detected over your edits on frame 0: Undo brings them back" in widget.status.text(), widget.status.text()
    widget.review.undo()
    pd.testing.assert_frame_equal(session.tables[0], edited)
    assert session.main_layer.nshapes == len(on_disk()) == found - 1


def test_edits_inside_an_accepted_box_are_not_called_detected_over(make_napari_viewer, qtbot, project_home):
    # The frame was marked edited, so Detect said it detected over the edits the accepted box had kept.
    viewer = make_napari_viewer()
    viewer.add_image(rods_image(98), name="img")
    widget = open_dock(viewer, "rods")
    detect(widget, qtbot)
    session, layer = widget.session, widget.session.main_layer
    said = "detected over your edits on frame 0"

    def delete_one(in_box: bool) -> pd.DataFrame:
        rods = session.frame_table(0)
        rows = np.flatnonzero(((rods["y"] < 60) & (rods["x"] < 60)) == in_box)
        layer.selected_data = {int(rows[0])}
        layer.remove_selected()
        return session.tables[0]

    session.regions.propose(0, (-0.5, -0.5, 60.0, 60.0))
    delete_one(in_box=True)  # before accepting the box
    widget.review.accept_region()
    accepted = session.tables[0]
    detect(widget, qtbot)
    assert said not in widget.status.text(), widget.status.text()
    assert len(session.tables[0]) == len(accepted) and session.project.edited_frames == []
    edited = delete_one(in_box=True)  # after accepting it
    detect(widget, qtbot)
    assert said not in widget.status.text() and len(session.tables[0]) == len(edited)
    widget.review.undo()  # the edit's own Undo still brings the rod back
    assert len(session.tables[0]) == layer.nshapes == len(accepted)
    delete_one(in_box=False)  # outside the box the detection does replace it
    detect(widget, qtbot)
    assert f"{said}: Undo brings them back" in widget.status.text()
    assert len(session.tables[0]) == len(accepted)


def test_nothing_found_is_saved_to_the_frame_searched_not_the_frame_on_screen(make_napari_viewer, qtbot, project_home):
    # An empty result went to the frame on screen when it arrived: moving to frame 0 while frame 1 was searched
    # replaced frame 0's rods with nothing.
    viewer = make_napari_viewer()
    viewer.add_image(np.stack([rods_image(96), np.zeros((96, 96), np.float32)]), name="img")
    widget = open_dock(viewer, "rods")
    detect(widget, qtbot)
    session = widget.session
    frame_0 = session.tables[0]
    assert len(frame_0) >= 3
    viewer.dims.set_current_step(0, 1)
    widget.detect()
    viewer.dims.set_current_step(0, 0)  # back before the worker's result reaches the dock
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    assert len(session.tables[1]) == 0 and session.project.saved_frames() == [0, 1]
    pd.testing.assert_frame_equal(session.tables[0], frame_0)
    assert len(read_kind_table(session.project.folder / "frames" / "frame-0000.csv", "rods")) == len(frame_0)


def test_undo_and_the_status_line_follow_edits_frames_and_a_reviewed_frame_detected_again(make_napari_viewer, qtbot,
                                                                                          project_home):
    # Undo stayed greyed out after an edit made in the layer (only the dock's buttons refreshed it), and the status
    # line kept the last detection's count: after edits, on a frame never detected, and on Detect of a reviewed
    # frame, whose count it called found with round-001.
    viewer = make_napari_viewer()
    viewer.add_image(np.stack([rods_image(90 + i) for i in range(2)]), name="img")
    widget = open_dock(viewer, "rods")
    detect(widget, qtbot)
    undo, layer = widget.review.undo_button, widget.session.main_layer
    found = layer.nshapes
    assert not undo.isEnabled()
    layer.selected_data = {0}
    layer.remove_selected()
    assert undo.isEnabled()
    assert widget.status.text().startswith(f"{found - 1} rods on frame 0 (edited): drag a tip to fix a rod")
    lines = [np.array(d) for d in layer.data]
    lines[0][1, 1:] += 3.0  # a tip dragged
    layer.data = lines
    widget.review.undo()
    widget.review.undo()  # every edit undone: the frame is as detected, not edited
    assert not undo.isEnabled() and widget.status.text().startswith(f"{found} rods on frame 0 (not reviewed)")
    viewer.dims.set_current_step(0, 1)
    assert widget.status.text() == "frame 1 not detected yet: Detect finds rods in it"
    viewer.dims.set_current_step(0, 0)
    widget.review.accept_frame()
    detect(widget, qtbot)
    assert widget.status.text().startswith(
        f"{found} rods on frame 0 (frame 0 is reviewed: kept as you accepted it, not detected with round-001; "
        "Un-accept it to detect it again)"), widget.status.text()


def test_the_chains_sample_opens_the_dock_on_chains_and_a_bead_added_is_counted_and_undoable(make_napari_viewer,
                                                                                             qtbot, project_home):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "chains")
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    assert widget.kind_combo.currentText() == "chains"
    assert widget.status.text() == "Detect finds chains in 'synthetic bead chains' with the shipped model"
    detect(widget, qtbot)
    beads = widget.session.main_layer
    table = widget.session.tables[0]
    n, chains = len(table), table["chain"].nunique()
    beads.add(np.array([[5.0, 5.0]]))  # a chain of its own
    assert widget.review.undo_button.isEnabled()
    assert widget.status.text() == f"{n + 1} beads in {chains + 1} chains (edited) (free beads are chains of one)"


def test_un_accept_takes_back_a_frame_accepted_before_the_dock_was_reopened(make_napari_viewer, qtbot, project_home):
    # Undo only reaches this session's acceptances: a frame accepted before the dock was closed stayed reviewed.
    viewer = make_napari_viewer()
    viewer.add_image(rods_image(97), name="img")
    widget = open_dock(viewer, "rods")
    detect(widget, qtbot)
    assert not widget.review.unaccept_button.isEnabled()
    widget.review.accept_frame()
    accepted = widget.session.tables[0]
    viewer.window.remove_dock_widget("all")
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    review, session = widget.review, widget.session
    assert not review.undo_button.isEnabled() and review.unaccept_button.isEnabled()
    review.unaccept_button.click()
    assert session.project.reviewed_frames == [] and not review.unaccept_button.isEnabled()
    pd.testing.assert_frame_equal(session.tables[0], accepted)  # as it is: only its review is taken back
    assert widget.status.text().startswith(f"{len(accepted)} rods (not reviewed)")
    # Accepted and un-accepted in this session: Undo accepts it again, then takes back the acceptance.
    review.accept_frame()
    review.unaccept()
    review.undo()
    assert session.project.reviewed_frames == [0]
    review.undo()
    assert session.project.reviewed_frames == []
    review.undo()  # the first Un-accept: the acceptance of the earlier session is back
    assert session.project.reviewed_frames == [0] and not review.undo_button.isEnabled()


def test_the_dock_refuses_to_link_two_chain_ends_far_apart(make_napari_viewer, qtbot, project_home):
    # The dock passed no positions to link_ends, which then joined ends across the image (a 125 px bond).
    sample = synthesize_chains(benchmark_chain_config("fluorescent", 0.2, shape=(96, 96)), seed=12)
    viewer = make_napari_viewer()
    viewer.add_image(sample.image, name="beads")
    widget = open_dock(viewer, "chains")
    detect(widget, qtbot)
    beads = viewer.layers["beads beads"]
    beads.add(np.array([[2.0, 2.0]]))  # a free bead in a corner
    features, data = beads.features, np.asarray(beads.data)
    end = max((int(np.flatnonzero(((features["chain"] == c) & (features["index"] == 0)).to_numpy())[0])
               for c, g in features.groupby("chain") if len(g) >= 2 and not g["closed"].any()),
              key=lambda row: np.hypot(*(data[row] - [2.0, 2.0])))
    before = widget.session.tables[0].copy()
    beads.selected_data = {len(data) - 1, end}
    seen = notification_count()
    widget.review.link()
    assert any("not linked: the two beads are" in m and "typical bond" in m for m in notifications_since(seen))
    pd.testing.assert_frame_equal(widget.session.tables[0], before)
