"""The three docks opened before any image, and after the last image is closed: what cannot act is disabled."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import small_stack

pytestmark = pytest.mark.usefixtures("project_home")
PLUGIN = "napari-particle-detect"


def _open(viewer, name: str):
    """The dock opened (again) from Plugins > napari-particle-detect."""
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, name)
    return getattr(widget, "__wrapped__", widget)


def test_s55_docks3_spheres_dock_with_no_image_waits_for_one(make_napari_viewer):
    # Opened before any image, Detect, Add… and every Review button stood enabled; clicked, each said "open an image
    # first" (the enable rules ran only once an image came and went).
    viewer = make_napari_viewer()
    widget = _open(viewer, "Particle detection")
    review = widget.review
    waiting = [widget.detect.run_button, widget.detect.load_button, review.previous_button, review.accept_button,
               review.next_button, review.unaccept_button, review.draw_button, review.accept_region_button,
               review.unaccept_region_button, review.suggest_button]
    assert widget.annotation is None
    assert [b.text() for b in waiting if b.isEnabled()] == []
    assert widget.project_label.text().startswith("open an image")  # the words saying why

    viewer.add_image(small_stack(2, 48), name="cells")
    assert widget.annotation is not None
    assert widget.detect.run_button.isEnabled() and widget.detect.load_button.isEnabled()
    assert review.accept_button.isEnabled() and review.suggest_button.isEnabled()

    viewer.layers.remove("cells")
    assert [b.text() for b in waiting if b.isEnabled()] == []


def test_s55_docks3_volume_dock_with_no_image_waits_for_one(make_napari_viewer):
    # Opened before any image, "Detect 3D centres" stood enabled; clicked, it only said "no ZYX or TZYX image layer".
    viewer = make_napari_viewer()
    dock = _open(viewer, "Volume detection (3D)")
    assert dock.layer() is None and not dock.button.isEnabled()
    assert dock.axes_note.text() == "open a ZYX or TZYX image"

    viewer.add_image(np.zeros((4, 24, 24), np.float32), name="vol")
    assert dock.layer() is not None and dock.button.isEnabled()

    viewer.layers.remove("vol")
    assert dock.layer() is None and not dock.button.isEnabled()


def test_s55_docks3_rods_dock_keeps_each_kinds_steps(make_napari_viewer):
    # The Fine-tune "Steps" box went back to the kind's default when the dock was closed and opened again, and when
    # another kind was chosen and back: the next round ran 100 steps, not the 40 the user set.
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(1, 48)[0], name="grey")
    widget = _open(viewer, "Rods and chains")
    assert widget.session is not None and widget.session.kind == "rods"
    widget.rounds.steps_spin.setValue(40)
    widget.kind_combo.setCurrentText("chains")
    chains_default = widget.rounds.steps_spin.value()
    assert chains_default != 40  # the chains' own default
    widget.kind_combo.setCurrentText("rods")
    assert widget.rounds.steps_spin.value() == 40
    viewer.window.remove_dock_widget(widget)

    widget = _open(viewer, "Rods and chains")
    assert widget.session.kind == "rods" and widget.rounds.steps_spin.value() == 40
    widget.kind_combo.setCurrentText("chains")
    assert widget.rounds.steps_spin.value() == chains_default  # a kind left alone stays at its default


def test_s55_docks3_rods_steps_wait_for_a_kind(make_napari_viewer):
    # With no image the Steps box took a number, replaced by the kind's default as soon as an image was opened.
    viewer = make_napari_viewer()
    widget = _open(viewer, "Rods and chains")
    assert widget.session is None and not widget.rounds.steps_spin.isEnabled()
    viewer.add_image(small_stack(1, 48)[0], name="grey")
    assert widget.session is not None and widget.rounds.steps_spin.isEnabled()


def test_s55_docks3_volume_dock_keeps_its_steps(make_napari_viewer):
    viewer = make_napari_viewer()
    dock = _open(viewer, "Volume detection (3D)")
    dock.round_panel.steps_spin.setValue(60)
    viewer.window.remove_dock_widget(dock)
    assert _open(viewer, "Volume detection (3D)").round_panel.steps_spin.value() == 60
    other = make_napari_viewer()  # another window's dock starts from the default
    assert _open(other, "Volume detection (3D)").round_panel.steps_spin.value() != 60


def test_s55_docks3_volume_bar_says_nothing_once_its_image_is_closed(make_napari_viewer):
    # The last image closed, the Fine-tune (3D) bar read "0%", as if a round were stuck at its start.
    viewer = make_napari_viewer()
    dock = _open(viewer, "Volume detection (3D)")
    bar = dock.round_panel.progress
    assert bar.text() == ""
    viewer.add_image(np.zeros((4, 24, 24), np.float32), name="vol")
    assert dock.review is not None
    viewer.layers.remove("vol")
    assert dock.review is None and bar.text() == ""
