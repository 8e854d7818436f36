"""Detect over accepted volumes: each keeps its centres as accepted, yet the line said only '87 centres; diameter …', as
if the round just chosen had found the very same centres; with every volume accepted, the network still ran over all
of them for nothing."""

import numpy as np
import pandas as pd

from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

from helpers import notification_count, notifications_since

CONFIG = VolumeConfig(shape=(8, 32, 32), volume_fraction=0.3, diameter=8.0, z_step=2.0)
CENTRES = pd.DataFrame({"z": [2.0, 4.0], "y": [6.0, 16.0], "x": [6.0, 16.0], "score": 0.9, "source": "model"})


def _series(viewer, volumes: int) -> VolumeDetectWidget:
    viewer.add_image(np.stack([synthesize_volume(CONFIG, seed=s).image for s in range(volumes)]), name="series")
    dock = VolumeDetectWidget(viewer)
    for frame in range(volumes):
        dock.review.project.save_frame(frame, CENTRES.assign(frame=frame))
    dock.reload_points()
    dock.diameter.setValue(8.0)
    return dock


def test_detect_says_which_volumes_it_left_as_accepted(make_napari_viewer, qtbot, project_home):
    viewer = make_napari_viewer()
    dock = _series(viewer, 2)
    dock.go_to(1)
    dock.review_panel.accept_volume()

    dock.button.click()
    qtbot.waitUntil(lambda: dock.worker is None, timeout=60_000)

    said = dock.status.text()
    assert said.endswith("; volume 1 is accepted: kept as you accepted it, not detected again (Undo the acceptance "
                         "to detect it again)")
    assert (dock.review.project.load_frame(1)["source"] == "accepted").all()


def test_detect_with_every_volume_accepted_says_so_and_runs_nothing(make_napari_viewer, project_home):
    viewer = make_napari_viewer()
    dock = _series(viewer, 2)
    for frame in (0, 1):
        dock.go_to(frame)
        dock.review_panel.accept_volume()
    seen = notification_count()

    dock.button.click()

    said = "all 2 volumes of 'series' are accepted: nothing to detect (Undo the acceptance to detect a volume again)"
    assert dock.worker is None and dock.button.isEnabled()
    assert dock.status.text() == said and notifications_since(seen) == [said]
