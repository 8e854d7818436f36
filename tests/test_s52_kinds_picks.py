"""The Rods and chains dock changing its image otherwise than by the user's pick in its list hides every dock's
layers made for other images as that pick does (image_picks): its Use made a view to work on and left the Particle
detection dock's centres of another image shown over it, read as the view's."""

import numpy as np
import pytest

from helpers import make_widget, run_detect, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def test_using_a_view_hides_the_other_docks_layers_of_other_images(make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 64), name="discs")
    spheres = make_widget(viewer, light_model)
    run_detect(spheres, qtbot, scope=0)
    assert viewer.layers["discs centres"].visible
    grey = small_stack(1, 64)[0].astype(np.float32)
    viewer.add_image(np.stack([grey, grey, grey], axis=-1), name="colour", rgb=True)
    _, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Rods and chains")
    widget.image_combo.setCurrentIndex(widget.image_combo.findData("colour"))
    widget.view_combo.setCurrentIndex(0)
    made = widget.use_view()
    assert widget.session is not None and widget.session.image is made
    assert not viewer.layers["discs centres"].visible  # the discs' centres, not the view's
    assert made.visible


def test_picking_an_image_hides_the_images_opened_over_it(make_napari_viewer, qtbot):
    # Picking the first of two images left the second, opened after it, lying over it: the dock spoke of the
    # first while the canvas showed the second, covering the first's rods.
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(1, 48)[0], name="first")
    viewer.add_image(small_stack(1, 48)[0] * 2, name="second")
    _, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Rods and chains")
    index = widget.image_combo.findData("second")
    widget.image_combo.setCurrentIndex(index)
    widget.image_combo.activated.emit(index)
    assert viewer.layers["first"].visible and viewer.layers["second"].visible  # the first lies under it
    index = widget.image_combo.findData("first")
    widget.image_combo.setCurrentIndex(index)
    widget.image_combo.activated.emit(index)  # what the user's pick in the list sends
    assert widget.session.image is viewer.layers["first"]
    assert viewer.layers["first"].visible and not viewer.layers["second"].visible
    assert [layer.name for layer in viewer.layers][:2] == ["first", "second"]  # the layer order stays the user's
    index = widget.image_combo.findData("second")
    widget.image_combo.setCurrentIndex(index)
    widget.image_combo.activated.emit(index)
    assert viewer.layers["second"].visible  # picked again, it comes back
