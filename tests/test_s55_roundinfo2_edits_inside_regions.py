"""A region accepted around a frame's edits teaches them: the frame no longer counts as holding edits a round did not
learn. Every edited frame with an accepted region was reported "did not learn the edits of frame 1 outside its
accepted regions", telling a user who had accepted a region around their only edit to do what they had done. An edit
outside the regions, or a region un-accepted (in this session or a later one), counts again."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from napari_particle_detect._napari.regions import rectangle
from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.rounds import TrainedOn

from helpers import make_widget, run_detect, small_stack

TINY_TUNE = replace(FINE_TUNE, steps_per_epoch=2, batch_size=2, crop=32, threads=1, learn_criterion=False)
BOX = (10.5, 10.5, 30.5, 30.5)


def _detected_dock(viewer, qtbot, model):
    viewer.add_image(small_stack(3, 64), name="cells")
    widget = make_widget(viewer, model)
    run_detect(widget, qtbot, scope=1)
    viewer.dims.set_current_step(0, 1)
    return widget


def _accept_box(widget, frame: int) -> None:
    """Draw BOX on ``frame`` and accept it (Shift+Enter)."""
    annotation = widget.annotation
    annotation.regions.ensure_draft().add_rectangles(rectangle(frame, BOX, stack=True))
    widget.review.accept_region()
    assert annotation.project.regions(frame)


def test_a_region_accepted_around_the_only_edit_teaches_it(make_napari_viewer, qtbot, light_model, project_home):
    torch.set_num_threads(1)
    viewer = make_napari_viewer()
    widget = _detected_dock(viewer, qtbot, light_model)
    project = widget.annotation.project
    widget.annotation.points.add(np.array([[1, 20.0, 20.0]]))  # a particle the network missed, inside the box
    assert project.edited_frames == [1]
    _accept_box(widget, 1)
    assert project.edited_frames == [] and TrainedOn.now(project).edited == []
    widget.finetune.run(TINY_TUNE)
    qtbot.waitUntil(lambda: not widget.finetune.running(), timeout=120_000)
    assert "did not learn" not in widget.finetune.status.text()
    assert "not learned" not in widget.finetune.table.item(1, 2).text()
    assert project.rounds[-1].edited_in_regions == []


def test_edits_outside_the_regions_and_an_unaccepted_region_count_again(make_napari_viewer, qtbot, light_model,
                                                                        project_home):
    viewer = make_napari_viewer()
    widget = _detected_dock(viewer, qtbot, light_model)
    annotation, project = widget.annotation, widget.annotation.project
    annotation.points.add(np.array([[1, 20.0, 20.0]]))
    _accept_box(widget, 1)
    annotation.points.add(np.array([[1, 50.0, 50.0]]))  # outside the box: not learned
    assert project.edited_frames == [1]
    assert TrainedOn.now(project).edited_in_regions == [1]
    assert annotation.undo(1)  # back to the edit inside the box alone
    assert project.edited_frames == []
    widget.review.unaccept_region()  # the edit inside it is no longer accepted
    assert project.regions(1) == [] and project.edited_frames == [1]


def test_a_later_session_unaccepting_a_region_around_placed_points_counts_them(make_napari_viewer, qtbot, light_model,
                                                                               project_home):
    viewer = make_napari_viewer()
    widget = _detected_dock(viewer, qtbot, light_model)
    widget.annotation.points.add(np.array([[1, 20.0, 20.0]]))
    _accept_box(widget, 1)
    assert widget.annotation.project.edited_frames == []
    # Another window on the same image: the project as the first left it, the table as detected not known there.
    later = make_napari_viewer()
    later.add_image(viewer.layers["cells"].data, name="cells")
    other = make_widget(later, light_model)
    later.dims.set_current_step(0, 1)
    assert other.annotation.project.folder == widget.annotation.project.folder
    other.review.unaccept_region()
    assert other.annotation.project.regions(1) == [] and other.annotation.project.edited_frames == [1]
