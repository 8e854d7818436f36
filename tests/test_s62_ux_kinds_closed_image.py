"""The Rods and chains dock's image closed: the image it moves on to is shown, as a pick of it shows it (one the
closed image's pick hid stayed hidden, and the dock spoke of it over an empty canvas)."""

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
