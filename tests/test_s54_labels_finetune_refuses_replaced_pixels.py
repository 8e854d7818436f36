"""Fine-tune on an image whose pixels were replaced by others of the same size (layer.data = ...) trained on the new
pixels with the old pixels' reviewed centres: it is refused in one line, as Detect and Accept are, and no round
starts."""

import numpy as np
import pytest

from helpers import make_widget, notification_count, notifications_since, run_detect, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def test_fine_tune_refuses_an_image_whose_pixels_were_replaced(make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer()
    image = viewer.add_image(small_stack(1, 64)[0], name="cells")
    widget = make_widget(viewer, light_model)
    run_detect(widget, qtbot, scope=0)
    widget.review.accept_button.click()
    project = widget.annotation.project
    assert project.reviewed_frames == [0]
    rounds = len(project.rounds)

    image.data = np.ascontiguousarray(image.data[::-1, ::-1])  # the console: other pixels, the same size
    start = notification_count()
    widget.finetune.run_button.click()
    said = notifications_since(start)
    assert not widget.finetune.running()
    assert [line for line in said if "'cells' now holds other pixels of the same size (64 x 64)" in line
            and "add the new pixels as an image layer of their own" in line], said
    assert len(project.rounds) == rounds
