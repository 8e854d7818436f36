"""The Rods and chains dock's Review next said where to look in the status line, and the next refresh (any edit, the
first correction the proposal asked for) wrote the frame's line over it. Now on a line of its own, as the spheres
dock's, kept through edits, gone once another frame is shown or what it proposed is accepted."""

from dataclasses import replace

import numpy as np
import pytest
from qtpy.QtWidgets import QLabel

from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods

PLUGIN = "napari-particle-detect"
pytestmark = pytest.mark.usefixtures("project_home")


def _said(panel) -> list[str]:
    return [label.text() for label in panel.findChildren(QLabel) if label.isVisibleTo(panel) and label.text()]


def _proposal_said(panel) -> bool:
    return any(text.lower().startswith("next:") for text in _said(panel))


def test_review_next_stays_said_through_an_edit_and_goes_with_the_frame(make_napari_viewer):
    config = benchmark_rod_config("fluorescent", 0.1)
    sample = synthesize_rods(replace(config, optics=replace(config.optics, shape=(96, 96))), seed=7)
    viewer = make_napari_viewer()
    viewer.add_image(np.stack([sample.image] * 2), name="img")
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    widget.kind_combo.setCurrentText("rods")
    session, review = widget.session, widget.review
    rods = sample.table.assign(score=np.linspace(0.3, 0.95, len(sample.table)))
    session.set_detections(rods.assign(frame=1), [1])
    review.review_next()
    assert session.current_frame() == 1 and _proposal_said(review)
    layer = session.main_layer
    layer.selected_data = {0}
    layer.remove_selected()  # the correction asked for: saved, the dock refreshed
    assert len(session.tables[1]) == len(rods) - 1
    assert _proposal_said(review)
    viewer.dims.set_current_step(0, 0)
    assert not _proposal_said(review)
    viewer.dims.set_current_step(0, 1)
    review.review_next()
    session.regions.propose(1, (0.0, 0.0, 40.0, 40.0))
    review.accept_region()
    assert not _proposal_said(review)
