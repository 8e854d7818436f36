"""The Rods and chains dock's Undo of an Un-accept brings the project's record of the frame's edits back too: the
region accepted again holds them, so a round learns them and the next Detect does not treat the frame as edited."""

from dataclasses import replace

import numpy as np

from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods

PLUGIN = "napari-particle-detect"


def _rods_dock(viewer):
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    widget.kind_combo.setCurrentText("rods")
    return widget


def test_undo_of_a_region_unaccept_marks_the_frame_edited_inside_again(make_napari_viewer, qtbot, project_home):
    config = benchmark_rod_config("fluorescent", 0.15)
    image = synthesize_rods(replace(config, optics=replace(config.optics, shape=(96, 96))), seed=97).image
    viewer = make_napari_viewer()
    viewer.add_image(image, name="img")
    widget = _rods_dock(viewer)
    widget.detect()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    layer = viewer.layers["img rods"]
    y, x = np.asarray(layer.data[0]).mean(axis=0)
    layer.selected_data = {0}
    layer.remove_selected()  # an edit inside the region accepted next: learned there
    widget.session.regions.propose(0, (y - 12.0, x - 12.0, y + 12.0, x + 12.0))
    widget.review.accept_region()
    viewer.window.remove_dock_widget(widget)

    widget = _rods_dock(viewer)  # the frame's table as detected is gone: the project's record alone says
    review, project = widget.review, widget.session.project
    assert project.edited_frames == [] and project.edited_inside_frames == [0]
    review.unaccept_button.click()
    assert project.edited_frames == [0] and project.edited_inside_frames == []
    review.undo()
    assert len(project.regions(0)) == 1
    assert project.edited_frames == [] and project.edited_inside_frames == [0]
