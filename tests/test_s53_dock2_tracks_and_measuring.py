"""The spheres dock's tracks across images, renames and a reopened dock, and measuring an image with centres but no
size yet: a reopened dock left one image's tracks drawn over another, switching images and back threw the Link away
(status, MSD, Export) with the tracks still drawn, a Link ending while another image was picked left "linking…" on
that image's line and was lost, a renamed image's old tracks stayed beside its new ones and after it closed, and an
image with centres placed by hand before any Detect unticked measuring for every image."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.learning.finetune import FINE_TUNE

from helpers import (link_tracks, make_widget, notification_count, notifications_since, pick, run_detect, small_stack,
                     two_images_detected_on_a)

pytestmark = pytest.mark.usefixtures("project_home")


def test_a_reopened_dock_hides_the_tracks_linked_before_it_closed(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    widget = two_images_detected_on_a(viewer, qtbot)
    link_tracks(widget, qtbot)
    start = notification_count()
    viewer.window.remove_dock_widget(widget)  # the dock's X
    tracks = viewer.layers["a tracks"]  # the trajectories stay to look at
    assert "'a tracks' stays shown" in notifications_since(start)[-1]  # not put away with the centres
    widget = make_widget(viewer, None)
    pick(widget, "b")
    assert not tracks.visible  # 'a''s trajectories drawn over 'b' read as 'b''s
    pick(widget, "a")
    assert tracks.visible
    assert "'a tracks' is from an earlier Link" in widget.tracks.status.text()  # not an empty panel beside them


def test_an_images_link_is_kept_while_another_image_is_picked(make_napari_viewer, qtbot, tmp_path):
    viewer = make_napari_viewer()
    widget = two_images_detected_on_a(viewer, qtbot)
    panel = widget.tracks
    link_tracks(widget, qtbot)
    said = panel.status.text()
    assert panel.export_button.isEnabled() and said
    pick(widget, "b")
    assert panel.status.text() == "" and not panel.export_button.isEnabled()  # 'b' has none
    run_detect(widget, qtbot)  # 'b''s centres change, not 'a''s
    pick(widget, "a")
    assert panel.status.text() == said and panel.export_button.isEnabled()
    assert len(panel.plot.axes.lines)  # its MSD drawn again
    written = panel.export(tmp_path / "a_tracks.csv")
    assert pd.read_csv(written)["frame"].nunique() == 3


def test_an_image_edited_while_another_is_picked_has_its_tracks_out_of_date(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    widget = two_images_detected_on_a(viewer, qtbot)
    panel = widget.tracks
    link_tracks(widget, qtbot)
    points = widget.annotation.points
    pick(widget, "b")
    points.data = points.data[1:]  # 'a''s centres edited in the layer list, its dock on 'b'
    pick(widget, "a")
    assert panel.status.text().startswith("⚠ out of date") and not panel.export_button.isEnabled()


def test_measuring_skips_an_image_with_centres_but_no_size_yet(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    widget = two_images_detected_on_a(viewer, qtbot, 1, 1)
    widget.measure.measure_check.setChecked(True)
    assert "mass" in widget.annotation.points.features
    pick(widget, "b")
    widget.annotation.ensure_points_layer()
    widget.annotation.points.add(np.array([[0.0, 20.0, 20.0]]))  # placed by hand before any Detect
    pick(widget, "a")
    pick(widget, "b")
    assert widget.measure.measure_check.isChecked()  # still on for 'a'
    assert "Detect" in widget.measure.legend.text()
    pick(widget, "a")
    assert "mass" in widget.annotation.points.features


def test_a_link_that_ends_while_another_image_is_picked_waits_for_its_image(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    widget = two_images_detected_on_a(viewer, qtbot)
    panel = widget.tracks
    widget.tracks.link()
    pick(widget, "b")  # before it ends
    qtbot.waitUntil(lambda: not panel.running(), timeout=60_000)
    assert panel.status.text() == "" and "a tracks" not in viewer.layers  # not "linking…" on 'b', nor drawn over it
    pick(widget, "a")
    assert panel.status.text().endswith("frames") and panel.export_button.isEnabled()
    assert viewer.layers["a tracks"].visible


def test_a_renamed_images_old_tracks_go_with_its_next_link_and_with_it(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(3, 64), name="a")
    widget = make_widget(viewer, None)
    run_detect(widget, qtbot)
    link_tracks(widget, qtbot)
    viewer.layers["a"].name = "c"
    link_tracks(widget, qtbot)
    assert [layer.name for layer in viewer.layers if "tracks" in layer.name] == ["c tracks"]  # not 'a tracks' too
    viewer.layers.remove("c")
    assert not [layer.name for layer in viewer.layers if "tracks" in layer.name]


def test_a_rounds_loss_curve_comes_back_with_its_image(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    widget = two_images_detected_on_a(viewer, qtbot, 2, 2)
    widget.review.accept_and_next()
    plot = widget.finetune.loss_plot
    widget.finetune.run(replace(FINE_TUNE, steps_per_epoch=4, batch_size=2, crop=32, threads=1))
    qtbot.waitUntil(lambda: not widget.finetune.running(), timeout=120_000)
    losses = list(plot.losses)
    assert losses
    pick(widget, "b")  # no round of its own
    assert not plot.losses and plot._placeholder.get_visible()
    pick(widget, "a")  # its round's curve beside its verdict, as it was left
    assert plot.losses == losses and list(plot.line.get_ydata()) == losses
    assert not plot._placeholder.get_visible()
