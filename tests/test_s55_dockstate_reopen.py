"""The Particle detection dock closed with its X and opened again, and a layer renamed under it: what it keeps and
what it says."""

from __future__ import annotations

import numpy as np

from helpers import make_widget, notification_count, notifications_since, small_stack


def _reopen(viewer):
    """The dock opened again from Plugins > napari-particle-detect > Particle detection."""
    _, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Particle detection")
    return getattr(widget, "__wrapped__", widget)


def test_s55_dockstate_a_dock_opened_again_keeps_the_device_frames_and_heatmap_chosen(make_napari_viewer):
    # Reopened, the dock went back to Device auto, Frames 'current frame' and no heatmap: the next Detect ran on
    # another device, one frame, without the heatmap the user had asked for.
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 48), name="cells")
    widget = make_widget(viewer, None)  # Device: cpu
    widget.detect.scope_combo.setCurrentIndex(1)
    widget.detect.heatmap_check.setChecked(True)
    viewer.window.remove_dock_widget(widget)

    reopened = _reopen(viewer)
    assert reopened.detect.device_combo.currentText() == "cpu" and reopened.state.device == "cpu"
    assert reopened.detect.scope_combo.currentText() == "all unreviewed frames"
    assert reopened.detect.heatmap_check.isChecked()


def test_s55_dockstate_a_renamed_colour_image_is_explained_under_its_new_name(make_napari_viewer):
    # The line under the Image list kept naming a renamed colour image by its old name.
    viewer = make_napari_viewer()
    photo = viewer.add_image(np.zeros((32, 32, 3), np.uint8), rgb=True, name="photo")
    widget = make_widget(viewer, None)
    assert widget.selected_image() is photo
    widget.view_combo.setCurrentIndex(2)  # the user's pick: the green channel
    viewer.layers["photo"].name = "slide 3"
    note = widget.image_note.text()
    assert note.startswith("slide 3 is a colour (RGB) image") and "photo" not in note
    assert widget.image_note.isVisible() == bool(note) or not widget.isVisible()
    assert widget.view_combo.currentIndex() == 2  # left as the user set it


def test_s55_dockstate_closing_the_dock_does_not_promise_its_heatmap_back(make_napari_viewer):
    # Closed with its X, the dock said its heatmap was among the layers that "come back when the dock is opened
    # again": no project keeps a heatmap, and the reopened dock had none.
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 48), name="cells")
    widget = make_widget(viewer, None)
    annotation = widget.annotation
    annotation.ensure_points_layer().add([[0, 20.0, 21.0]])
    annotation.show_heatmap(0, np.zeros((48, 48), np.float32))
    seen = notification_count()
    viewer.window.remove_dock_widget(widget)
    [said] = [m for m in notifications_since(seen) if "dock was closed" in m]
    put_away, _, rest = said.partition("come back")
    assert "'cells centres'" in put_away and "heatmap" not in put_away
    assert "'cells heatmap' is not kept" in rest

    _reopen(viewer)
    assert "cells centres" in viewer.layers and "cells heatmap" not in viewer.layers  # as said


def test_s55_dockstate_another_window_s_dock_starts_from_the_defaults(make_napari_viewer):
    first = make_napari_viewer()
    first.add_image(small_stack(1, 48), name="cells")
    make_widget(first, None).detect.heatmap_check.setChecked(True)  # Device: cpu
    second = make_napari_viewer()
    second.add_image(small_stack(1, 48), name="cells")
    fresh = _reopen(second)
    assert fresh.detect.device_combo.currentText() == "auto" and fresh.state.device == "auto"
    assert fresh.detect.scope_combo.currentIndex() == 0 and not fresh.detect.heatmap_check.isChecked()


def test_s55_dockstate_a_dock_opened_again_links_as_the_user_last_did(make_napari_viewer):
    # Link's search range, memory, minimum length and drift went back to 5 px, 3, 1 and off: the next Link of a
    # fast movie broke its tracks apart.
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 48), name="cells")
    widget = make_widget(viewer, None)
    widget.tracks.range_spin.setValue(12.5)
    widget.tracks.memory_spin.setValue(0)
    widget.tracks.length_spin.setValue(4)
    widget.tracks.drift_check.setChecked(True)
    viewer.window.remove_dock_widget(widget)

    tracks = _reopen(viewer).tracks
    assert (tracks.options().search_range, tracks.options().memory, tracks.options().min_length) == (12.5, 0, 4)
    assert tracks.drift_check.isChecked()
