"""The Rods and chains dock's Un-accept takes back a region too: a region accepted before the dock was reopened was
reached by no button (Un-accept stayed greyed on a frame not accepted whole, Undo stops at the session), only by
deleting its outline in the layer list, which nothing said."""

from dataclasses import replace

import numpy as np

from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods

PLUGIN = "napari-particle-detect"


def _rods_dock(viewer):
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    widget.kind_combo.setCurrentText("rods")
    return widget


def test_un_accept_takes_back_a_region_accepted_before_the_dock_was_reopened(make_napari_viewer, qtbot,
                                                                              project_home):
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

    widget = _rods_dock(viewer)
    review, project = widget.review, widget.session.project
    assert len(project.regions(0)) == 1 and project.edited_frames == []
    assert review.unaccept_button.isEnabled()
    review.unaccept_button.click()
    assert project.regions(0) == [] and project.edited_frames == [0]  # the deletion is no longer learned
    assert len(widget.session.regions.accepted.data) == 0 and not review.unaccept_button.isEnabled()
    review.undo()  # accepted again
    assert len(project.regions(0)) == 1 and len(widget.session.regions.accepted.data) == 1
    assert review.unaccept_button.isEnabled()
