"""Region review in the dock: draw a box, accept it (Shift+Enter), see it restored, un-accept it; and
'what to review next' (N), which jumps to where the model hesitates most and says why."""

import numpy as np
import pandas as pd
import pytest
import tifffile
from qtpy.QtCore import Qt

from napari_particle_detect._napari.layers import shown_mask
from napari_particle_detect._napari.regions import rectangle
from napari_particle_detect.projects.project import Project, Region
from napari_particle_detect.projects.review import rank_frames, rank_regions

from helpers import make_widget, notification_count, notifications_since, run_detect, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


@pytest.fixture
def detected(make_napari_viewer, qtbot, light_model, tmp_path):
    """A shown viewer on a 3-frame stack saved as a file, every frame detected, the threshold at the
    median score (so hidden points lie everywhere)."""
    path = tmp_path / "movie.tif"
    tifffile.imwrite(path, small_stack(3, 128))
    viewer = make_napari_viewer(show=True)
    viewer.open(path, plugin="napari")
    widget = make_widget(viewer, light_model)
    run_detect(widget, qtbot, scope=1)
    widget.detect.set_threshold(float(np.median(widget.annotation.points.features["score"])))
    return viewer, widget, path


def press(viewer, qtbot, key, modifier=Qt.KeyboardModifier.NoModifier):
    canvas = viewer.window._qt_viewer.canvas.native
    canvas.setFocus()
    qtbot.keyClick(canvas, key, modifier)


def test_a_drawn_box_is_accepted_as_a_region_restored_on_reopening_and_can_be_unaccepted(detected, qtbot,
                                                                                          make_napari_viewer,
                                                                                          light_model):
    viewer, widget, path = detected
    annotation = widget.annotation
    viewer.dims.set_current_step(0, 1)
    before = annotation.frame_table(1)
    threshold = widget.state.threshold

    press(viewer, qtbot, Qt.Key.Key_R)  # the box tool, ready to drag
    draft = annotation.regions.draft
    assert viewer.layers.selection.active is draft and draft.mode == "add_rectangle"
    box = (10.5, 20.5, 70.5, 90.5)
    draft.add_rectangles(rectangle(1, box, stack=True))  # what a drag from (10.5, 20.5) to (70.5, 90.5) leaves
    press(viewer, qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)

    project = annotation.project
    assert project.regions() == [Region(1, *box)] and project.reviewed_frames == []
    after = annotation.frame_table(1)
    region = Region(1, *box)
    inside_before = before[region.contains(before["y"], before["x"])]
    inside_after = after[region.contains(after["y"], after["x"])]
    shown_inside = inside_before[shown_mask(inside_before, threshold)]
    assert 0 < len(shown_inside) < len(inside_before)  # some were hidden...
    assert len(inside_after) == len(shown_inside)  # ...and are gone; the shown ones are accepted
    assert set(inside_after["source"]) == {"accepted"}
    outside = ~region.contains(before["y"], before["x"])
    np.testing.assert_allclose(after[~region.contains(after["y"], after["x"])][["y", "x"]], before[outside][["y", "x"]])
    assert set(after[~region.contains(after["y"], after["x"])]["source"]) == {"model"}  # the rest is untouched
    assert len(annotation.regions.draft.data) == 0  # the box became a reviewed region...
    outlines = annotation.regions.accepted
    assert outlines.name == "movie reviewed regions" and len(outlines.data) == 1  # ...drawn as one
    np.testing.assert_allclose(outlines.data[0], rectangle(1, box, stack=True))
    assert viewer.layers.selection.active is annotation.points  # the point tools act on the centres again
    assert "1 region reviewed" in widget.review.status.text()
    assert widget.finetune.run_button.text() == "Fine-tune on 1 region"

    # Detecting again replaces the network's points outside the region, never the reviewed ones inside.
    annotation.points.add([[1, 40.0, 50.0]])  # a correction inside the region
    reviewed_inside = annotation.frame_table(1)
    reviewed_inside = reviewed_inside[region.contains(reviewed_inside["y"], reviewed_inside["x"])]
    run_detect(widget, qtbot, scope=1)
    again = annotation.frame_table(1)
    kept = again[region.contains(again["y"], again["x"])].sort_values(["y", "x"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, reviewed_inside.sort_values(["y", "x"]).reset_index(drop=True))
    assert len(again[~region.contains(again["y"], again["x"])]) > 0

    # Reopened in a new viewer: the region is back, outlined.
    viewer2 = make_napari_viewer()
    viewer2.open(path, plugin="napari")
    widget2 = make_widget(viewer2, light_model)
    restored = viewer2.layers["movie reviewed regions"]
    np.testing.assert_allclose(restored.data[0], rectangle(1, box, stack=True))
    assert widget2.annotation.project.regions() == [Region(1, *box)]

    # Un-accepted: gone from the project and from the outlines.
    widget.review.unaccept_region()
    assert Project.open(project.folder).regions() == [] and len(outlines.data) == 0


def test_a_box_is_refused_without_one_and_on_a_frame_never_detected(make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 64), name="cells")
    widget = make_widget(viewer, light_model)
    viewer.dims.set_current_step(0, 1)
    seen = notification_count()
    widget.review.accept_region()  # nothing drawn
    widget.annotation.regions.propose(1, (0.5, 0.5, 30.5, 30.5))
    widget.review.accept_region()  # frame 1 was never detected
    messages = notifications_since(seen)
    assert any("draw a box on frame 1 first" in m for m in messages), messages
    assert any("frame 1 was never detected or edited" in m for m in messages), messages
    assert widget.annotation.project.regions() == []


def test_review_next_jumps_to_the_most_hesitant_region_then_the_next(detected, qtbot):
    viewer, widget, path = detected
    annotation = widget.annotation
    layer = annotation.points
    table = annotation.table()
    detections = {f: (t[["y", "x"]].to_numpy(), t["score"].to_numpy()) for f, t in table.groupby("frame")}
    expected = rank_regions(detections, (128, 128), widget.state.threshold, annotation.project.diameter)
    viewer.dims.set_current_step(0, 0)

    press(viewer, qtbot, Qt.Key.Key_N)
    first = expected[0]
    assert annotation.current_frame() == first.frame
    box = tuple(v - 0.5 for v in first.box)
    assert annotation.regions.draft_box(first.frame) == box
    assert first.why in widget.review.suggestion.text() and "Shift+Enter" in widget.review.suggestion.text()
    centre_y, centre_x = viewer.camera.center[-2:]
    assert box[0] < centre_y < box[2] and box[1] < centre_x < box[3]
    seen = np.asarray(viewer.canvas.size) / viewer.camera.zoom  # the world the canvas shows
    size = np.array([box[2] - box[0], box[3] - box[1]])
    assert np.all(size <= seen) and np.any(size >= 0.5 * seen)  # the box fills the view
    assert viewer.layers.selection.active is layer

    # Accepting it, then N again: the next most hesitant region, never the one just reviewed.
    press(viewer, qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert annotation.project.regions() == [Region(first.frame, *box)]
    press(viewer, qtbot, Qt.Key.Key_N)
    second = (annotation.current_frame(), annotation.regions.draft_box(annotation.current_frame()))
    assert second != (first.frame, box)
    assert second in [(p.frame, tuple(v - 0.5 for v in p.box)) for p in expected[1:4]]

    # By frame: the unreviewed frame with the most hesitant centres.
    widget.review.mode_combo.setCurrentIndex(1)
    widget.review.review_next()
    # Ranked on the detections as they are now: accepting the region above changed its frame's.
    assert annotation.current_frame() == rank_frames(annotation.detections(), widget.state.threshold)[0].frame
    assert "centres scored near the threshold" in widget.review.suggestion.text()


def test_review_regions_hold_a_few_dozen_centres_where_particles_are_sparse():
    from napari_particle_detect.projects.review import REGION_PARTICLES, region_size

    rng = np.random.default_rng(3)
    shape, diameter = (424, 640), 7.2  # real bulk water: about 550 particles of 7 px a frame
    centres = rng.uniform((0, 0), shape, size=(550, 2))
    scores = rng.uniform(0.2, 0.9, 550)
    [top, *_] = rank_regions({0: (centres, scores)}, shape, 0.35, diameter)
    side = top.box[2] - top.box[0]
    assert side == region_size(diameter, (scores > 0.35).sum() / (shape[0] * shape[1])) > 8 * diameter
    shown = [p.centres for p in rank_regions({0: (centres, scores)}, shape, 0.35, diameter)]
    assert 0.6 * REGION_PARTICLES < np.median(shown) < 1.6 * REGION_PARTICLES  # not the 5-7 of 8 diameters
    # Crowded: 8 diameters already hold a few dozen; the size is as before.
    crowded = rng.uniform((0, 0), (256, 256), size=(900, 2))
    [top] = rank_regions({0: (crowded, np.full(900, 0.8))}, (256, 256), 0.35, 12.0)[:1]
    assert top.box[2] - top.box[0] == round(8 * 12.0)
    assert "no centre scored near the threshold" in top.why


def test_a_proposal_says_what_it_was_ranked_on():
    from napari_particle_detect.projects.review import rank_frames

    # Frame 0: three centres right at the threshold; frame 1: four centres at its edge. Frame 0 is proposed
    # first, and its reason must not read as fewer hesitant centres beating more.
    first, second = rank_frames({0: (np.zeros((3, 2)), np.full(3, 0.35)), 1: (np.zeros((4, 2)), np.full(4, 0.5))}, 0.35)
    assert (first.frame, first.hesitant, second.hesitant) == (0, 3, 4)
    assert "(weighing 3.0" in first.why and "(weighing 1.0" in second.why
