"""Where a frame's edits lie, known or not: a round said "the edits of frame 2 outside its accepted regions" of a frame
marked edited in an earlier session (or through the API), whose edits may all lie inside its regions, learned. The
project records which edited frames' edits a dock saw reach outside, and which frames hold edits inside their regions
only: un-accepting such a region in a later session, which cannot see the points deleted there, marks the frame, so
Detect keeps those edits one undo away rather than replacing them with no undo step."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from napari_particle_detect._napari.regions import rectangle
from napari_particle_detect.learning.rounds import TrainedOn, unlearned_edits_text
from napari_particle_detect.projects.project import Project, RoundInfo

from helpers import make_widget, run_detect, small_stack

BOX = (10.5, 10.5, 30.5, 30.5)


def _accept_box(widget, frame: int) -> None:
    widget.annotation.regions.ensure_draft().add_rectangles(rectangle(frame, BOX, stack=True))
    widget.review.accept_region()


def test_a_round_says_any_edits_where_it_is_not_known_that_they_lie_outside():
    info = RoundInfo(number=2, origin="fine-tuned", parent=1, edited_not_accepted=[1], edited_in_regions=[2, 3],
                     edited_where_unknown=[3])
    assert unlearned_edits_text(info) == (
        "did not learn the edits of frame 1 (not accepted) nor those of frame 2 outside its accepted regions nor any "
        "edits of frame 3 outside its accepted regions: accept them (or regions around the edits) to teach a round")


def test_a_frame_marked_through_the_api_is_not_known_and_an_old_project_knows_none(tmp_path):
    project = Project.open(tmp_path / "img.tif", n_frames=3, frame_shape=(64, 64))
    for frame in (0, 1):
        project.save_frame(frame, pd.DataFrame({"frame": frame, "y": [20.0], "x": [20.0], "score": 0.9,
                                                "source": "model"}))
        project.accept_region(frame, BOX, project.load_frame(frame))
    project.mark_edited(0)
    project.mark_edited(1, outside=True)
    assert project.edited_where_unknown == [0]
    assert (TrainedOn.now(project).edited_in_regions, TrainedOn.now(project).where_unknown) == ([0, 1], [0])
    # A region accepted later may hold the edits known outside the others: no longer known.
    project.accept_region(1, (40.5, 40.5, 60.5, 60.5), project.load_frame(1))
    assert project.edited_where_unknown == [0, 1]
    project.mark_edited(1, outside=True)
    state_file = project.folder / "state.json"
    state = json.loads(state_file.read_text())
    assert state["edited_outside"] == [1]
    del state["edited_outside"], state["edited_inside"]  # as an earlier version wrote it
    state_file.write_text(json.dumps(state))
    assert Project.open(tmp_path / "img.tif").edited_where_unknown == [0, 1]


def _detected_dock(viewer, qtbot, model, stack=None):
    viewer.add_image(small_stack(3, 64) if stack is None else stack, name="cells")
    widget = make_widget(viewer, model)
    if stack is None:
        run_detect(widget, qtbot, scope=1)
    viewer.dims.set_current_step(0, 1)
    return widget


def test_edits_a_dock_saw_reach_outside_are_known(make_napari_viewer, qtbot, light_model, project_home):
    viewer = make_napari_viewer()
    widget = _detected_dock(viewer, qtbot, light_model)
    annotation, project = widget.annotation, widget.annotation.project
    _accept_box(widget, 1)
    annotation.points.add(np.array([[1, 50.0, 50.0]]))  # outside the box, on a frame this session saw detected
    assert project.edited_frames == [1] and project.edited_where_unknown == []
    assert TrainedOn.now(project).where_unknown == []


def test_a_later_session_unaccepting_a_region_around_deleted_points_marks_the_frame(make_napari_viewer, qtbot,
                                                                                    light_model, project_home):
    viewer = make_napari_viewer()
    widget = _detected_dock(viewer, qtbot, light_model)
    annotation, project = widget.annotation, widget.annotation.project
    points = annotation.points
    inside = np.flatnonzero((points.data[:, 0] == 1) & (np.abs(points.data[:, 1:] - 20.5) < 10).all(axis=1))
    assert len(inside)
    points.selected_data = {int(inside[0])}
    points.remove_selected()  # a false point deleted inside the box: no 'added' point shows it
    _accept_box(widget, 1)
    assert project.edited_frames == []  # learned inside the region
    later = make_napari_viewer()
    other = _detected_dock(later, qtbot, light_model, stack=viewer.layers["cells"].data)
    assert other.annotation.project.folder == project.folder
    other.review.unaccept_region()
    # The deletion is no longer learned, and Detect there must keep it one undo away.
    assert other.annotation.project.regions(1) == [] and other.annotation.project.edited_frames == [1]
    assert other.annotation.project.edited_where_unknown == [1]
    run_detect(other, qtbot, scope=1)
    assert 1 in other.annotation.replaced_edits and other.annotation.undo(1)
