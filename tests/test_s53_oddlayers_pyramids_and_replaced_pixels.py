"""Image layers a user has that are not a plain array: a pyramid (multiscale) image, as OME-Zarr readers open one,
and an image whose pixels were replaced (layer.data = ...) after it was detected."""

import numpy as np
import pytest

from helpers import make_widget, notification_count, notifications_since, run_detect, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def test_a_pyramid_stack_is_detected_at_full_resolution_like_the_same_stack(make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer()
    stack = small_stack(2, 64)
    viewer.add_image(stack, name="flat")
    viewer.add_image([stack, stack[:, ::2, ::2]], name="pyramid", multiscale=True)
    widget = make_widget(viewer, light_model)
    for name in ("flat", "pyramid"):
        widget.image_combo.setCurrentText(name)
        run_detect(widget, qtbot, scope=1)
    # Read as its smallest level, the pyramid's stack was refused ("expected a 2D frame"), and a 2D pyramid's
    # centres lay at half their places.
    np.testing.assert_allclose(viewer.layers["pyramid centres"].data, viewer.layers["flat centres"].data)


def test_detect_refuses_an_image_whose_pixels_were_replaced_by_others_of_another_size(make_napari_viewer, qtbot,
                                                                                        light_model):
    viewer = make_napari_viewer()
    image = viewer.add_image(small_stack(1, 64)[0], name="cells")
    widget = make_widget(viewer, light_model)
    run_detect(widget, qtbot, scope=0)
    centres = viewer.layers["cells centres"].data.copy()

    image.data = small_stack(3, 48)  # the user's console: a stack put in place of the 2D image
    start = notification_count()
    widget.detect.scope_combo.setCurrentIndex(1)
    widget.detect.run_button.click()
    # Detected, each batch of frames raised a traceback: frames past the 1 of its project, points of 3 axes in a
    # layer of 2.
    assert not widget.detect.running()
    said = notifications_since(start)
    assert any("'cells' now holds pixels of another size (3 x 48 x 48, was 64 x 64)" in line
               and "add the new pixels as an image layer of their own" in line for line in said), said
    np.testing.assert_array_equal(viewer.layers["cells centres"].data, centres)
