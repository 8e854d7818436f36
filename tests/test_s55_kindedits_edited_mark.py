"""The Rods and chains dock marks a frame edited only while its edits reach outside its accepted regions, as the
spheres dock does: a region accepted around the only edit was reported "did not learn the edits of frame 0 outside
its accepted regions" after a round that learned it, and an edit undone by hand left the frame marked."""

from dataclasses import replace

import numpy as np

from napari_particle_detect.learning.kinds_rounds import KIND_ROUND
from napari_particle_detect.learning.rounds import unlearned_edits_text
from napari_particle_detect.synthetic.chains import benchmark_chain_config, synthesize_chains
from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods

PLUGIN = "napari-particle-detect"
TINY = replace(KIND_ROUND, steps_per_epoch=2, batch_size=2, crop=64)


def dock_detected(make_napari_viewer, qtbot, image, kind):
    viewer = make_napari_viewer()
    viewer.add_image(image, name="img")
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    widget.kind_combo.setCurrentText(kind)
    widget.detect()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    return viewer, widget


def box_around(y: float, x: float, half: float = 12.0) -> tuple:
    return (y - half, x - half, y + half, x + half)


def test_a_rod_deleted_inside_an_accepted_region_is_learned_and_unmarked(make_napari_viewer, qtbot, project_home):
    config = benchmark_rod_config("fluorescent", 0.15)
    image = synthesize_rods(replace(config, optics=replace(config.optics, shape=(96, 96))), seed=97).image
    viewer, widget = dock_detected(make_napari_viewer, qtbot, image, "rods")
    session, layer = widget.session, viewer.layers["img rods"]
    project = session.project
    y, x = np.asarray(layer.data[0]).mean(axis=0)
    layer.selected_data = {0}
    layer.remove_selected()
    assert project.edited_frames == [0]
    session.regions.propose(0, box_around(y, x))
    widget.review.accept_region()
    assert project.edited_frames == []  # the only edit lies inside the region accepted
    far = (y + 48) % 96 if abs(y - 48) < 30 else 48.0
    layer.add_lines(np.array([[far, 10.0], [far, 40.0]]))  # outside it: an edit the round does not learn
    assert project.edited_frames == [0]
    widget.review.undo()  # the line drawn taken back
    assert project.edited_frames == []
    widget.rounds.run(TINY)
    qtbot.waitUntil(lambda: not widget.rounds.running(), timeout=60_000)
    info = project.rounds[-1]
    assert info.edited_in_regions == [] and unlearned_edits_text(info) == ""
    assert "did not learn" not in widget.rounds.status.text()
    widget.review.undo()  # the region un-accepted: the deletion is no longer learned
    assert project.regions(0) == [] and project.edited_frames == [0]
    widget.review.undo()  # the deletion undone: the frame is as detected
    assert project.edited_frames == []


def test_a_bead_placed_then_deleted_by_hand_leaves_the_frame_unmarked(make_napari_viewer, qtbot, project_home):
    sample = synthesize_chains(benchmark_chain_config("fluorescent", 0.2, shape=(96, 96)), seed=12)
    viewer, widget = dock_detected(make_napari_viewer, qtbot, sample.image, "chains")
    session, beads = widget.session, viewer.layers["img beads"]
    project = session.project
    beads.add(np.array([[5.0, 5.0]]))
    assert project.edited_frames == [0]
    beads.selected_data = {len(beads.data) - 1}
    beads.remove_selected()  # the frame is as detected again
    assert project.edited_frames == []
    # A model bead deleted, a region accepted around it: learned, so not marked; deleting the region's outline
    # un-accepts it, and the deletion is an edit outside accepted regions again.
    y, x = np.asarray(beads.data)[0]
    beads.selected_data = {0}
    beads.remove_selected()
    session.regions.propose(0, box_around(y, x, 20.0))
    widget.review.accept_region()
    assert project.edited_frames == []
    outlines = session.regions.accepted
    outlines.selected_data = set(range(len(outlines.data)))
    outlines.remove_selected()
    assert project.regions(0) == [] and project.edited_frames == [0]
