"""The Rods and chains dock after a user audit: a rod's width can be seen and set (fine-tuning learns what it
is told, not the model's own widths), Un-accept is an Undo step, a frame whose edits were all undone is no
longer called edited, and a ring's highest-index bead deleted opens the ring there as any other bead does.

The model is not what these test: the dock is given the rods an image was drawn with, as a detection."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.kinds.registry import read_kind_table, write_kind_table
from napari_particle_detect.learning.kinds_rounds import DEFAULT_WIDTH
from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods

PLUGIN = "napari-particle-detect"
BOND = 11.0

pytestmark = pytest.mark.usefixtures("project_home")


def rods_dock(make_napari_viewer):
    """A rods image in the viewer, the dock on it, its true rods given to the dock as frame 0's detection."""
    config = benchmark_rod_config("fluorescent", 0.1)
    sample = synthesize_rods(replace(config, optics=replace(config.optics, shape=(96, 96))), seed=7)
    viewer = make_napari_viewer()
    viewer.add_image(sample.image, name="img")
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    widget.kind_combo.setCurrentText("rods")
    table = sample.table.assign(frame=0, score=0.9)
    widget.session.set_detections(table, [0])
    return viewer, widget, widget.session.main_layer


def longest(layer) -> int:
    lengths = [float(np.hypot(*(np.asarray(v)[-1] - np.asarray(v)[0]))) for v in layer.data]
    return int(np.argmax(lengths))


def test_the_width_box_shows_and_sets_the_selected_rods_width_saved_drawn_and_undoable(make_napari_viewer):
    # A rod was a line of 2 px with no way to correct its width: a round learned the model's widths as truth.
    viewer, widget, layer = rods_dock(make_napari_viewer)
    review, session = widget.review, widget.session
    row = longest(layer)
    before = session.tables[0]["width"].to_numpy(float).copy()
    assert np.asarray(layer.edge_width) == pytest.approx(layer.features["width"].to_numpy(float))  # drawn as wide
    assert not review.width_spin.isHidden() and not review.buttons["Set width"].isHidden()
    layer.selected_data = {row}
    assert review.width_spin.value() == pytest.approx(round(layer.features["width"][row], 1))
    review.width_spin.setValue(9.5)
    review.buttons["Set width"].click()
    saved = session.tables[0]
    assert saved["width"].iloc[row] == pytest.approx(9.5)  # saved at once
    assert np.delete(saved["width"].to_numpy(float), row) == pytest.approx(np.delete(before, row))
    assert layer.edge_width[row] == pytest.approx(9.5)
    assert "(edited)" in widget.status.text()
    # napari's own edge-width slider sets the selected rods' width too.
    layer.current_edge_width = 7.0
    assert session.tables[0]["width"].iloc[row] == pytest.approx(7.0)
    review.undo()
    review.undo()
    assert session.tables[0]["width"].to_numpy(float) == pytest.approx(before)
    assert layer.edge_width[row] == pytest.approx(before[row])
    # A width no rod can have is refused, nothing saved.
    layer.selected_data = {row}
    review.width_spin.setValue(200.0)
    review.set_width()
    layer.current_edge_width = 300.0
    assert session.tables[0]["width"].to_numpy(float) == pytest.approx(before)
    assert layer.edge_width[row] == pytest.approx(before[row])


def test_a_rod_drawn_by_hand_gets_its_frames_width_shown_and_exported(make_napari_viewer, tmp_path):
    # A hand-drawn rod was exported with an empty width, which a round filled with the frame's median unseen.
    viewer, widget, layer = rods_dock(make_napari_viewer)
    typical = float(np.median(widget.session.tables[0]["width"]))
    assert typical != DEFAULT_WIDTH
    layer.add_lines(np.array([[80.0, 10.0], [80.0, 40.0]]))
    assert layer.edge_width[-1] == pytest.approx(typical)
    added = widget.session.tables[0].query("source == 'added'")
    assert added["width"].tolist() == pytest.approx([typical])
    layer.selected_data = {layer.nshapes - 1}
    widget.review.width_spin.setValue(5.0)
    widget.review.set_width()
    widget.review.export(tmp_path / "rods.csv")
    exported = read_kind_table(tmp_path / "rods.csv", "rods")
    assert exported.query("source == 'added'")["width"].tolist() == pytest.approx([5.0])


def test_undo_after_un_accept_accepts_the_frame_again(make_napari_viewer):
    viewer, widget, layer = rods_dock(make_napari_viewer)
    review, project = widget.review, widget.session.project
    review.accept_frame()
    accepted = widget.session.tables[0].copy()
    review.unaccept()
    assert project.reviewed_frames == [] and review.undo_button.isEnabled()
    review.undo()
    assert project.reviewed_frames == [0] and "(reviewed)" in widget.status.text()
    pd.testing.assert_frame_equal(widget.session.tables[0], accepted)
    review.undo()  # then the acceptance itself
    assert project.reviewed_frames == [] and not review.undo_button.isEnabled()


def test_a_frame_whose_edits_are_all_undone_is_not_called_edited(make_napari_viewer):
    viewer, widget, layer = rods_dock(make_napari_viewer)
    review, project = widget.review, widget.session.project
    layer.selected_data = {0}
    layer.remove_selected()
    layer.add_lines(np.array([[80.0, 10.0], [80.0, 40.0]]))
    assert "(edited)" in widget.status.text() and project.edited_frames == [0]
    review.undo()
    assert "(edited)" in widget.status.text()  # one edit left
    review.undo()
    assert widget.status.text().startswith(f"{layer.nshapes} rods (not reviewed)")
    assert project.edited_frames == []


def _ring(beads: int = 8, spurious: bool = False) -> pd.DataFrame:
    turn = np.linspace(0, 2 * np.pi, beads, endpoint=False)
    radius = BOND / (2 * np.sin(np.pi / beads))  # neighbours one bond apart
    ring = pd.DataFrame({"frame": 0, "y": 60.0 + radius * np.sin(turn), "x": 60.0 + radius * np.cos(turn),
                         "score": 0.9, "chain": 0, "index": np.arange(beads), "closed": 1, "source": "model"})
    if spurious:  # a bead found between the last and the first, which touch
        extra = ring.iloc[[0]].assign(index=beads, y=(ring["y"].iloc[0] + ring["y"].iloc[-1]) / 2,
                                      x=(ring["x"].iloc[0] + ring["x"].iloc[-1]) / 2)
        ring = pd.concat([ring, extra], ignore_index=True)
    return ring


def _delete_highest(viewer, tmp_path, table: pd.DataFrame) -> pd.DataFrame:
    write_kind_table(table, tmp_path / "found.csv", "chains")
    beads, _ = viewer.open(tmp_path / "found.csv", plugin=PLUGIN)
    beads.selected_data = {int(np.argmax(beads.features["index"]))}
    beads.remove_selected()
    beads.save(str(tmp_path / "edited.csv"), plugin=PLUGIN)
    return pd.read_csv(tmp_path / "edited.csv")


def test_a_rings_highest_index_bead_deleted_opens_the_ring_there(tmp_path, make_napari_viewer):
    # Its indices had no gap, so the closing bond from bead 6 to bead 0 spanned the deleted bead 7.
    edited = _delete_highest(make_napari_viewer(), tmp_path, _ring())
    assert edited["closed"].tolist() == [0] * 7
    ring = _ring()
    first = edited.sort_values("index").iloc[0]
    assert (first["y"], first["x"]) == pytest.approx((ring["y"][0], ring["x"][0]), abs=1e-3)  # after the deleted


def test_a_spurious_last_bead_between_touching_ring_beads_leaves_the_ring_closed(tmp_path, make_napari_viewer):
    edited = _delete_highest(make_napari_viewer(), tmp_path, _ring(spurious=True))
    assert edited["closed"].tolist() == [1] * 8


def test_a_ring_closed_by_link_2_ends_opens_where_its_highest_index_bead_is_deleted(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(np.random.default_rng(0).random((128, 128)), name="img")
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    widget.kind_combo.setCurrentText("chains")
    session = widget.session
    session.set_detections(_ring().assign(closed=0), [0])  # a ring found open: its closing bond missed
    beads = session.main_layer
    ends = [int(np.flatnonzero(beads.features["index"] == i)[0]) for i in (0, 7)]
    beads.selected_data = set(ends)
    widget.review.link()
    assert session.tables[0]["closed"].tolist() == [1] * 8
    beads.selected_data = {ends[1]}
    beads.remove_selected()
    assert session.tables[0]["closed"].tolist() == [0] * 7
