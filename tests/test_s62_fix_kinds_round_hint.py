"""A rods round that beat the one it started from, on an image whose only frame is reviewed, ended "... Detect again
to use it.", and Detect then kept the frame as accepted: there was nothing to detect again (a reopened dock left the
hint out). The hint is told only while some frame of the image is not reviewed."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from napari.components import ViewerModel

from napari_particle_detect.synthetic.rods import rod_table

pytestmark = pytest.mark.usefixtures("project_home")


def _round_ended(qtbot, image: np.ndarray, reviewed: list[int]):
    """The Fine-tune box and its line as a round that beat round-001 ends on ``image`` whose ``reviewed`` frames are
    accepted, and the round."""
    from napari_particle_detect._napari.kinds_widget import KindsWidget
    from napari_particle_detect.detection.kinds_prediction import shipped_model_path

    viewer = ViewerModel()
    viewer.add_image(image, name="img")
    widget = KindsWidget(viewer)
    qtbot.addWidget(widget)
    widget.kind_combo.setCurrentText("rods")
    session = widget.session
    frames = list(range(len(image))) if image.ndim == 3 else [0]
    rods = [rod_table([20.0], [24.0], [0.0], [20.0], [4.0]).assign(frame=frame, score=0.9) for frame in frames]
    session.model_path()  # round-001, the shipped model
    session.set_detections(pd.concat(rods, ignore_index=True), frames, detected_by=1)
    for frame in reviewed:
        session.accept_frame(frame)
    widget.rounds.add_model_file(str(shipped_model_path("rods")))  # round-002, in use from now on
    better = replace(session.project.current_round, parent=1, f1=0.9, parent_f1=0.8, improved=True, held_out=2)
    widget.rounds._target = session
    widget.rounds._on_done((better, []))
    return widget.rounds, better


def test_a_round_on_an_image_reviewed_whole_does_not_say_detect_again(qtbot):
    rounds, better = _round_ended(qtbot, np.random.default_rng(1).random((48, 48)).astype(np.float32), reviewed=[0])
    line = rounds.status.text()
    assert line.startswith("round-002: ") and "Detect" not in line, line
    assert line == rounds._reopened_verdict(rounds._session(), better)  # as the dock opened again tells it


def test_a_verdict_with_no_hint_ends_without_a_stray_full_stop(qtbot):
    rounds, better = _round_ended(qtbot, np.random.default_rng(1).random((48, 48)).astype(np.float32), reviewed=[])
    said = rounds.show_verdict(better, better, "F1", to_use="")
    assert said.endswith(": in use") and rounds.status.text() == said, said


def test_a_stack_with_a_frame_not_reviewed_still_says_detect_them(qtbot):
    stack = np.random.default_rng(2).random((2, 48, 48)).astype(np.float32)
    line = _round_ended(qtbot, stack, reviewed=[0])[0].status.text()
    assert line.endswith(". Detect the frames not reviewed to use it."), line
