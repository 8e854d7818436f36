"""The Rods and chains dock opened again on a frame holding rods says that frame's line, as it said before it was
closed ("3 rods (reviewed): ..."), not the project's summary ("1 frame saved, 0 rounds"), which says nothing of
what is on screen."""

from dataclasses import replace

import pytest

from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods

PLUGIN = "napari-particle-detect"

pytestmark = pytest.mark.usefixtures("project_home")


def test_the_reopened_dock_says_the_frame_shown_not_the_projects_summary(make_napari_viewer, qtbot):
    config = benchmark_rod_config("fluorescent", 0.1)
    sample = synthesize_rods(replace(config, optics=replace(config.optics, shape=(96, 96))), seed=7)
    viewer = make_napari_viewer()
    viewer.add_image(sample.image, name="img")
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    widget.kind_combo.setCurrentText("rods")
    assert widget.status.text() == "Detect finds rods in 'img' with the shipped model"  # nothing saved yet
    widget.session.set_detections(sample.table.assign(frame=0, score=0.9), [0])
    widget.review.accept_frame()
    said = widget.status.text()
    assert said.startswith(f"{len(sample.table)} rods (reviewed): drag a tip")
    qtbot.waitUntil(lambda: widget._watched_window is not None)  # shown in its window, it hears its X
    viewer.window.remove_dock_widget(widget)
    qtbot.waitUntil(lambda: widget.closed)

    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    assert widget.session is not None and widget.session.kind == "rods"
    assert widget.status.text() == said
