"""Un-accept in both docks takes back regions of the frame shown only: napari keeps a selection in the reviewed
regions layer as the slider moves, and an outline selected on another frame was un-accepted there, out of sight,
while the frame on screen kept its region."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from helpers import make_widget, small_stack

from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods

PLUGIN = "napari-particle-detect"
BOX = (5.0, 5.0, 40.0, 40.0)
pytestmark = pytest.mark.usefixtures("project_home")


def _select_outline_of_frame(regions, frame: int) -> None:
    frames = [int(round(float(np.mean(np.asarray(v)[:, 0])))) for v in regions.accepted.data]
    regions.accepted.selected_data = {frames.index(frame)}


def test_un_accept_region_of_the_spheres_dock_leaves_a_region_selected_on_another_frame(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 64), name="cells")
    widget = make_widget(viewer, None)
    annotation = widget.annotation
    centres = pd.DataFrame({"y": [20.0], "x": [20.0], "score": [0.9], "source": "model"})
    annotation.replace_frames({0: centres, 1: centres})
    for frame in (0, 1):
        annotation.go_to_frame(frame)
        annotation.accept_region(frame, BOX)
    annotation.go_to_frame(0)
    _select_outline_of_frame(annotation.regions, 0)
    annotation.go_to_frame(1)
    widget.review.unaccept_region()
    assert [len(annotation.project.regions(f)) for f in (0, 1)] == [1, 0]


def test_un_accept_of_the_rods_dock_leaves_a_region_selected_on_another_frame(make_napari_viewer):
    config = benchmark_rod_config("fluorescent", 0.1)
    sample = synthesize_rods(replace(config, optics=replace(config.optics, shape=(64, 64))), seed=7)
    viewer = make_napari_viewer()
    viewer.add_image(np.stack([sample.image] * 2), name="img")
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    widget.kind_combo.setCurrentText("rods")
    session = widget.session
    rods = sample.table.assign(score=0.9)
    session.set_detections(pd.concat([rods.assign(frame=0), rods.assign(frame=1)], ignore_index=True), [0, 1])
    for frame in (0, 1):
        viewer.dims.set_current_step(0, frame)
        session.accept_region(frame, BOX)
    viewer.dims.set_current_step(0, 0)
    _select_outline_of_frame(session.regions, 0)
    viewer.dims.set_current_step(0, 1)
    widget.review.unaccept()
    assert [len(session.project.regions(f)) for f in (0, 1)] == [1, 0]
