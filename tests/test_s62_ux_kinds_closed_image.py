"""The Rods and chains dock's image closed: the image it moves on to is shown, as a pick of it shows it (one the
closed image's pick hid stayed hidden, and the dock spoke of it over an empty canvas)."""

import re

import pytest

from helpers import small_rods_image

pytestmark = pytest.mark.usefixtures("project_home")


def pick(widget, name: str) -> None:
    index = widget.image_combo.findData(name)
    widget.image_combo.setCurrentIndex(index)
    widget.image_combo.activated.emit(index)  # what the user's pick in the list sends


def test_the_image_moved_on_to_after_the_chosen_one_is_closed_is_shown(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(small_rods_image(), name="first")
    viewer.add_image(small_rods_image() * 2, name="second")
    _, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Rods and chains")
    widget.kind_combo.setCurrentText("rods")
    pick(widget, "first")
    assert not viewer.layers["second"].visible  # it lay over the first
    viewer.layers.remove("first")
    assert widget.session is not None and widget.session.image is viewer.layers["second"]
    assert viewer.layers["second"].visible
    assert "'second'" in widget.status.text()


def test_a_detection_ending_after_its_image_was_closed_says_it_comes_back_when_the_image_is_opened_again(
        make_napari_viewer, qtbot):
    # Its line said the rods were "shown when it is chosen again", of an image no longer in the list to choose.
    viewer = make_napari_viewer()
    viewer.add_image(small_rods_image(), name="closed")
    _, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Rods and chains")
    widget.kind_combo.setCurrentText("rods")
    widget.detect()
    viewer.layers.remove("closed")
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    said = widget.status.text()
    assert re.match(r"\d+ rods found in 'closed' with round-001: kept in its project", said)
    assert said.endswith("shown when it is opened again")
    viewer.add_image(small_rods_image(), name="closed")  # opened again: its rods come back from its project
    assert widget.session is not None and len(viewer.layers["closed rods"].data) > 0
