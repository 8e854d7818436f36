"""The Rods and chains dock's Fine-tune line kept telling "Detect again to use it." after the user had detected again
with the round it spoke of: the hint read as the Detect just run not having used the new round. It goes once a Detect
used it."""

from dataclasses import replace

import numpy as np
import pytest
from napari.components import ViewerModel

from napari_particle_detect.synthetic.rods import rod_table

pytestmark = pytest.mark.usefixtures("project_home")


def test_detecting_with_the_new_round_drops_detect_again(qtbot):
    from napari_particle_detect._napari.kinds_widget import KindsWidget
    from napari_particle_detect.detection.kinds_prediction import shipped_model_path

    viewer = ViewerModel()
    viewer.add_image(np.random.default_rng(1).random((48, 48)).astype(np.float32), name="img")
    widget = KindsWidget(viewer)
    qtbot.addWidget(widget)
    widget.kind_combo.setCurrentText("rods")
    session = widget.session
    rods = rod_table([20.0], [24.0], [0.0], [20.0], [4.0]).assign(frame=0, score=0.9)
    session.model_path()  # round-001, the shipped model
    session.set_detections(rods, [0], detected_by=1)  # as round-001's Detect found them
    widget.rounds.add_model_file(str(shipped_model_path("rods")))  # round-002, in use from now on
    # As a round that beat round-001 ends (the worker's result): its verdict says how to use it.
    better = replace(session.project.current_round, parent=1, f1=0.9, parent_f1=0.8, improved=True, held_out=2)
    widget.rounds._target = session
    widget.rounds._on_done((better, []))
    assert widget.rounds.status.text().endswith(". Detect again to use it."), widget.rounds.status.text()

    # Detect's result, as its worker hands it back (the model's inference left out: it takes seconds).
    widget._detected(session, (rods, []), 2, 0)
    assert "with round-002" in widget.status.text(), widget.status.text()
    line = widget.rounds.status.text()
    assert line.startswith("round-002: ") and "Detect again" not in line, line
