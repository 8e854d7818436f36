"""Undo on frame 2 of a stack, after a Detect there, un-accepted frame 0 off screen (Detect is no Undo step: the last
step was frame 0's acceptance); only the notification named it. As the spheres dock's Un-accept moves to the frame it
takes back, Undo goes to the frame it changes, and the dock's line speaks of that frame."""

import numpy as np
import pandas as pd
import pytest
from napari.components import ViewerModel

from napari_particle_detect.synthetic.rods import rod_table

pytestmark = pytest.mark.usefixtures("project_home")


def _rods(frame: int) -> pd.DataFrame:
    return rod_table([20.0], [24.0], [0.0], [20.0], [4.0]).assign(frame=frame, score=0.9, source="model")


def _on_frame(viewer, frame: int) -> None:
    viewer.dims.set_current_step(0, frame)


def test_undo_of_an_acceptance_off_screen_goes_to_its_frame(qtbot):
    from napari_particle_detect._napari.kinds_widget import KindsWidget

    viewer = ViewerModel()
    viewer.add_image(np.random.default_rng(3).random((3, 48, 48)).astype(np.float32), name="stack")
    widget = KindsWidget(viewer)
    qtbot.addWidget(widget)
    widget.kind_combo.setCurrentText("rods")
    session = widget.session
    session.set_detections(pd.concat([_rods(0), _rods(1)], ignore_index=True), [0, 1], detected_by=1)
    _on_frame(viewer, 0)
    widget.review.accept_frame()
    _on_frame(viewer, 2)
    widget._detected(session, (_rods(2), []), 1, 2)  # Detect's result on frame 2, as its worker hands it back
    assert widget.status.text().startswith("1 rods on frame 2 with round-001")

    widget.review.undo()
    assert not session.project.is_reviewed(0)
    assert session.current_frame() == 0  # what was undone is on screen
    assert widget.status.text().startswith("1 rods on frame 0 (not reviewed)"), widget.status.text()
    assert widget.review.status.text().startswith("frame 0: not reviewed")
