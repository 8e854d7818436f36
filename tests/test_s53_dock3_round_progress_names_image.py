"""A fine-tuning round of one image running while another is picked: its progress line ('training: step 5 of 60')
stayed as it was, naming no image, over the other image's panels until its next line, a long phase away."""

from dataclasses import replace

import numpy as np
import pytest

from helpers import make_widget, run_detect, small_stack
from napari_particle_detect.learning.finetune import FINE_TUNE

pytestmark = pytest.mark.usefixtures("project_home")
TINY_TUNE = replace(FINE_TUNE, steps_per_epoch=2000, batch_size=2, crop=32, threads=1)


def test_a_running_rounds_line_names_its_image_once_another_is_picked(make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 64), name="cells")
    widget = make_widget(viewer, light_model)
    run_detect(widget, qtbot, scope=0)
    widget.review.accept_and_next()
    panel = widget.finetune
    panel.run(TINY_TUNE)
    assert panel.running()
    qtbot.waitUntil(lambda: panel.status.text().startswith("training: step"), timeout=60_000)
    viewer.add_image(np.zeros((2, 64, 64), np.float32), name="other")
    widget.image_combo.setCurrentText("other")
    assert panel.status.text().startswith("'cells': training: step"), panel.status.text()
    widget.image_combo.setCurrentText("cells")
    assert panel.status.text().startswith("training: step"), panel.status.text()
    assert panel.cancel(wait_s=30)
    qtbot.waitUntil(lambda: not panel.running(), timeout=30_000)
