"""The Rods and chains dock's Undo lived in the session of one image and kind: after choosing another image or kind
and coming back, the edits and acceptances were kept but Undo was greyed out (the Particle detection dock keeps
each image's history while another is worked on)."""

import numpy as np
import pandas as pd
import pytest

from helpers import kinds_dock
from napari_particle_detect.synthetic.rods import rod_table

pytestmark = pytest.mark.usefixtures("project_home")


def two_rods() -> pd.DataFrame:
    return rod_table([14.0, 34.0], [24.0, 24.0], [0.0, 0.0], [16.0, 16.0], [4.0, 4.0]).assign(frame=0, score=0.9)


def test_undo_reaches_edits_and_acceptances_made_before_another_image_and_kind(make_napari_viewer):
    viewer = make_napari_viewer()
    for seed, name in enumerate(["a", "b"]):
        viewer.add_image(np.random.default_rng(seed).random((48, 48)).astype(np.float32), name=name)
    widget = kinds_dock(viewer, "rods", "a")
    widget.session.set_detections(two_rods(), [0])
    rods = widget.session.main_layer
    rods.selected_data = {0}
    rods.remove_selected()  # an edit
    widget.review.accept_frame()

    widget.image_combo.setCurrentText("b")
    widget.kind_combo.setCurrentText("chains")
    assert not widget.review.undo_button.isEnabled()  # b's projects have nothing to undo
    widget.kind_combo.setCurrentText("rods")
    widget.image_combo.setCurrentText("a")
    assert widget.session.image.name == "a" and widget.review.undo_button.isEnabled()

    widget.review.undo()  # the acceptance
    assert widget.session.project.reviewed_frames == []
    widget.review.undo()  # the rod deleted
    assert len(widget.session.project.load_frame(0)) == 2 and widget.session.main_layer.nshapes == 2
    assert not widget.review.undo_button.isEnabled()
