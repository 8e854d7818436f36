"""Accept box on a stack of volumes accepts the box on the volume it was drawn on: drawn on volume 0, it was accepted
on volume 1 once the slider had moved there (where the box is not even drawn)."""

import numpy as np
import pandas as pd
import pytest
from napari.components import ViewerModel

from helpers import notification_count, notifications_since

pytestmark = pytest.mark.usefixtures("project_home")


def test_a_box_drawn_on_one_volume_is_not_accepted_on_another(qtbot):
    from napari_particle_detect._napari.volume_panel import VolumeDetectWidget

    viewer = ViewerModel()
    viewer.add_image(np.random.default_rng(1).random((2, 8, 32, 32)).astype(np.float32), name="movie")
    dock = VolumeDetectWidget(viewer)
    qtbot.addWidget(dock)
    assert dock.current_frame() == 0
    for volume in (0, 1):
        dock.review.project.save_frame(volume, pd.DataFrame({"frame": volume, "z": [2.0, 4.0], "y": [6.0, 16.0],
                                                             "x": [6.0, 16.0], "score": 0.9, "source": "model"}))
    dock.reload_points()
    panel = dock.review_panel
    panel.draw_box()
    panel.draft.add_rectangles(np.array([[0, 4, 2, 2], [0, 4, 2, 20], [0, 4, 20, 20], [0, 4, 20, 2]], dtype=float))
    viewer.dims.set_current_step(0, 1)
    assert dock.current_frame() == 1
    seen = notification_count()
    panel.accept_box()
    assert notifications_since(seen) == ["the box was drawn on volume 0, and volume 1 is shown: go back to volume 0 "
                                         "to accept it, or draw a box on this one"]
    assert not dock.review.project.regions()
    viewer.dims.set_current_step(0, 0)
    seen = notification_count()
    panel.accept_box()
    assert [region.frame for region in dock.review.project.regions()] == [0], notifications_since(seen)
