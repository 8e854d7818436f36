"""A frame whose edits were all undone holds no edits: a round's note must not name it among the edits it did
not learn (learning/rounds.unlearned_edits_text reads Project.edited_frames)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_particle_detect.projects.project import Project

from helpers import make_widget, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def _detections(n: int, size: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.uniform(4, size - 4, (n, 2)), rng.uniform(0.6, 0.9, n)


def test_s55_dockstate2_a_frame_undone_back_to_its_detection_is_no_longer_edited(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 48), name="cells")
    widget = make_widget(viewer, None)
    annotation = widget.annotation
    annotation.set_detections({0: _detections(5, 48), 1: _detections(4, 48, 1)})
    viewer.dims.set_current_step(0, 1)
    annotation.points.add([[1, 20.0, 21.0]])
    annotation.points.add([[1, 30.0, 11.0]])
    assert annotation.project.edited_frames == [1]

    widget.review.undo()  # Ctrl+Z twice: frame 1 as detected again
    widget.review.undo()
    assert len(annotation.frame_table(1)) == 4
    assert annotation.project.edited_frames == []
    assert Project.open(annotation.project.folder).edited_frames == []  # as saved in the project

    widget.review.redo()  # Ctrl+Shift+Z: an edit again
    assert annotation.project.edited_frames == [1]
    widget.review.undo()
    assert annotation.project.edited_frames == []


def test_s55_dockstate2_a_frame_partly_undone_keeps_its_edits(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 48), name="cells")
    widget = make_widget(viewer, None)
    annotation = widget.annotation
    annotation.set_detections({0: _detections(5, 48)})
    annotation.points.add([[0, 20.0, 21.0]])
    annotation.points.add([[0, 30.0, 11.0]])
    widget.review.undo()
    assert annotation.project.edited_frames == [0] and len(annotation.frame_table(0)) == 6
