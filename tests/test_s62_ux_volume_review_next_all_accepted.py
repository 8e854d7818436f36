"""Review next 'by box' once every volume is accepted: it said no area left unaccepted held hesitant centres and sent
the user to review 'the rest' with Accept volume, Draw box or 'by volume', of an image with no rest to review."""

import numpy as np
import pandas as pd

from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect.learning.volume_rounds import VolumeSettings, remember_settings

EVERY_VOLUME_ACCEPTED = "nothing left to propose: every volume with centres is accepted"


def _series_with_centres(viewer) -> VolumeDetectWidget:
    viewer.add_image(np.zeros((2, 12, 64, 64), np.float32), name="series")
    dock = VolumeDetectWidget(viewer)
    dock.threshold.setValue(0.5)
    remember_settings(dock.review.project, VolumeSettings((2.0, 4.0, 4.0), None, (12, 64, 64)))
    for frame in (0, 1):
        table = pd.DataFrame({"frame": frame, "z": [3.0, 8.0], "y": [8.0, 40.0], "x": [8.0, 40.0], "score": 0.55,
                              "source": "model"})
        dock.review.project.save_frame(frame, table)
    dock.reload_points()
    return dock


def test_by_box_says_every_volume_is_accepted_once_they_all_are(make_napari_viewer, project_home):
    dock = _series_with_centres(make_napari_viewer())
    panel = dock.review_panel
    for frame in (0, 1):
        dock.go_to(frame)
        panel.accept_volume()

    assert panel.mode_combo.currentText() == "by box"
    assert panel.review_next() == EVERY_VOLUME_ACCEPTED
    assert panel.status.text() == EVERY_VOLUME_ACCEPTED


def test_by_box_still_points_to_the_rest_while_a_volume_is_not_accepted(make_napari_viewer, project_home):
    dock = _series_with_centres(make_napari_viewer())
    dock.threshold.setValue(0.2)  # every centre far above it: no box hesitates
    dock.review_panel.accept_volume()  # volume 0 only

    said = dock.review_panel.review_next()

    assert said.startswith("nothing left to propose: no area left unaccepted") and "'by volume'" in said
