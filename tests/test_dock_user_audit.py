"""What a user audit of the spheres dock found: frames acted on while none of the stack was drawn, a renamed
unsaved image cut off from its project, a second layer of one file not showing the other's edits when picked,
and layers left behind by a pixel size set after Detect."""

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect.projects.project import Project

from helpers import (
    make_widget, notification_count, notifications_since, pick, small_stack, spheres_dock_on_a_short_stack,
)

pytestmark = pytest.mark.usefixtures("project_home")


def detections(n: int, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` network centres with scores over the threshold, as Detect hands them to the dock."""
    rng = np.random.default_rng(seed)
    return rng.uniform(4, size - 4, (n, 2)), rng.uniform(0.6, 0.9, n)


def test_frame_actions_refuse_while_the_slider_is_past_the_chosen_stack_and_a_pick_brings_it_back(
        make_napari_viewer):
    # A shorter stack picked while the slider stood at frame 30 of a longer one: Enter accepted its last frame
    # on a black canvas, and picking it again left the slider where it was.
    viewer, widget = spheres_dock_on_a_short_stack(make_napari_viewer)
    annotation = widget.annotation
    annotation.set_detections({1: detections(6, 48)})
    viewer.dims.set_current_step(0, 5)  # the user looks at the long stack: nothing of 'short' is drawn
    unseen = "the slider is past 'short''s last frame (2 frames), so none of it is drawn"
    assert widget.review.status.text().startswith("T" + unseen[1:]), widget.review.status.text()

    seen = notification_count()
    widget.review.accept_and_next()  # Enter
    widget.review.undo()  # Ctrl+Z
    widget.detect.scope_combo.setCurrentIndex(0)  # Detect (current frame)
    widget.detect.run_button.click()
    assert not widget.detect.running()
    assert annotation.project.reviewed_frames == []
    assert len(annotation.frame_table(1)) == 6  # nothing undone unseen either
    said = notifications_since(seen)
    assert len(said) == 3 and all(message.startswith(unseen) for message in said), said

    pick(widget, "short")  # picked again: its frame is the one drawn
    assert viewer.dims.current_step[0] == 1
    assert widget.review.status.text().startswith("Frame 2 of 2 (index 1)")
    widget.review.accept_and_next()
    assert annotation.project.reviewed_frames == [1]

    annotation.set_detections({0: detections(6, 48, seed=1)})
    viewer.dims.set_current_step(0, 4)
    widget.review.review_next()  # N shows the frame it proposes
    assert viewer.dims.current_step[0] == 0 and widget.review.status.text().startswith("Frame 1 of 2")


def test_a_renamed_unsaved_image_keeps_its_project_and_its_layers_take_the_new_name(make_napari_viewer, tmp_path):
    # Renamed 'run1', a sample's layer was given a new, empty project when the dock was opened again (the work
    # stayed under its first name), and its centres layer kept the old name.
    path = tmp_path / "beads.tif"
    tifffile.imwrite(path, small_stack(1, 48)[0])
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 48), name="discs")
    [beads] = viewer.open(path)
    widget = make_widget(viewer, None)
    pick(widget, "discs")
    annotation = widget.annotation
    folder = annotation.project.folder
    annotation.ensure_points_layer().add([[0, 20.0, 21.0], [1, 10.0, 11.0]])
    widget.review.accept_and_next()
    annotation.show_heatmap(0, np.zeros((48, 48), np.float32))
    annotation.accept_region(1, (0.0, 0.0, 20.0, 20.0))
    pick(widget, "beads")
    beside = widget.annotation.project.folder

    viewer.layers["discs"].name = "run1"
    beads.name = "beads renamed"
    assert {"run1 centres", "run1 heatmap", "run1 reviewed regions"} <= {layer.name for layer in viewer.layers}
    viewer.window.remove_dock_widget(widget)  # the dock's X: its layers are put away, to come back
    reopened = make_widget(viewer, None)
    pick(reopened, "run1")
    assert reopened.annotation.project.folder == folder
    assert reopened.annotation.project.reviewed_frames == [0]
    assert len(viewer.layers["run1 centres"].data) == 2
    pick(reopened, "beads renamed")
    assert reopened.annotation.project.folder == beside  # a file's project follows the file, whatever its name
    seen = notification_count()
    viewer.layers.remove("run1")
    assert any("its centres and reviews are kept" in m for m in notifications_since(seen))


def test_picking_an_image_shows_what_its_project_holds_now(make_napari_viewer, tmp_path):
    # The same file open twice: what was detected and added on 's2 [1]' was not shown on 's2' when it was picked,
    # only after its next edit; a re-pick did not show another window's save either.
    path = tmp_path / "s2.tif"
    tifffile.imwrite(path, small_stack(3, 48))
    viewer = make_napari_viewer()
    first, second = viewer.open(path)[0], viewer.open(path)[0]
    widget = make_widget(viewer, None)
    pick(widget, first.name)
    widget.annotation.set_detections({0: detections(4, 48)})
    pick(widget, second.name)
    widget.annotation.set_detections({2: detections(5, 48)})
    widget.annotation.points.add([[2, 30.0, 30.0]])
    pick(widget, first.name)
    assert widget.annotation.image is first
    assert len(widget.annotation.frame_table(2)) == 6
    assert int((widget.annotation.points.data[:, 0] == 2).sum()) == 6  # drawn, not only known

    project = Project.open(widget.annotation.project.folder)  # another window saves frame 1
    project.save_frame(1, pd.DataFrame({"frame": [1], "y": [10.0], "x": [12.0], "score": [np.nan],
                                        "source": ["added"]}))
    pick(widget, first.name)
    assert len(widget.annotation.frame_table(1)) == 1


def test_centres_and_regions_follow_a_pixel_size_set_after_detect_and_export_names_its_columns(
        make_napari_viewer, tmp_path):
    # A pixel size set after Detect left the centres and regions at the old one, spread over twice the image.
    viewer = make_napari_viewer()
    image = viewer.add_image(small_stack(2, 48), name="m")
    widget = make_widget(viewer, None)
    annotation = widget.annotation
    annotation.set_detections({0: detections(6, 48)})
    annotation.accept_region(0, (0.0, 0.0, 24.0, 24.0))
    annotation.show_heatmap(0, np.zeros((24, 24), np.float32))  # the network's output at half the size

    image.scale, image.translate = (1, 0.5, 0.5), (0, 10.0, 5.0)
    annotation.regions.ensure_draft()  # a layer made after the change is placed like the image too
    for layer in (annotation.points, annotation.regions.accepted, annotation.regions.draft):
        np.testing.assert_allclose(layer.scale, image.scale)
        np.testing.assert_allclose(layer.translate, image.translate)
    np.testing.assert_allclose(annotation.heatmap_layer.scale, (1, 1.0, 1.0))  # two image pixels per output pixel
    np.testing.assert_allclose(annotation.heatmap_layer.translate, (0, 10.25, 5.25))

    # napari's default unit is the pixel: a scale is an aspect, not a size in micrometres.
    exported = pd.read_csv(widget.export.export(tmp_path / "pixels.csv"))
    assert not any(column.endswith("_um") for column in exported.columns)
    np.testing.assert_allclose(exported["y_scaled"], exported["y"] * 0.5 + 10.0, atol=1e-3)
    image.units = ("pixel", "um", "um")
    assert tuple(str(unit) for unit in annotation.points.units) == ("pixel", "micrometer", "micrometer")
    exported = pd.read_csv(widget.export.export(tmp_path / "microns.csv"))
    np.testing.assert_allclose(exported["x_um"], exported["x"] * 0.5 + 5.0, atol=1e-3)
