"""Closing the picked image after Link: the dock moves on to another image and shows it. Its tracks, taken away
by the Tracks panel before the dock heard of the image's closing, made the dock forget which image had been picked,
and the image it moved on to stayed hidden by the earlier pick: the dock spoke of it over an empty canvas.
A renamed image's tracks kept its old name (its centres took the new one), so a dock opened again did not know them as
its image's."""

import pytest

from helpers import link_tracks, make_widget, pick, run_detect, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def test_the_image_moved_on_to_is_shown_when_the_linked_image_is_closed(make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 48), name="a")
    viewer.add_image(small_stack(2, 48)[:, ::-1].copy(), name="b")
    widget = make_widget(viewer, light_model)
    pick(widget, "a")  # hides 'b', lying over it
    assert not viewer.layers["b"].visible
    run_detect(widget, qtbot, scope=1)
    link_tracks(widget, qtbot)
    assert "a tracks" in viewer.layers

    viewer.layers.remove("a")
    assert widget.image_combo.currentText() == "b" and widget.annotation.image is viewer.layers["b"]
    assert viewer.layers["b"].visible


def test_tracks_follow_their_image_renamed_and_stay_its_after_the_dock_reopens(make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 48), name="a")
    widget = make_widget(viewer, light_model)
    run_detect(widget, qtbot, scope=1)
    link_tracks(widget, qtbot)
    viewer.layers["a"].name = "run1"
    assert "run1 tracks" in viewer.layers and "a tracks" not in viewer.layers  # as 'run1 centres' does

    viewer.window.remove_dock_widget(widget)  # the dock's X: the tracks stay shown
    again = make_widget(viewer, light_model)
    assert [(layer.name, image.name) for layer, image in again.tracks.outputs_by_image()] == [("run1 tracks", "run1")]
