"""The 3D dock said nothing of what opening a volume project left out (a volume's centres file cut short by a crash):
the 2D and Rods and chains docks say a project's problems once, in one line; so does the 3D dock now."""

import warnings

import numpy as np
import pandas as pd
import pytest

from helpers import notification_count, notifications_since
from napari_particle_detect._napari.volume_panel import VolumeDetectWidget

pytestmark = pytest.mark.usefixtures("project_home")


def test_a_volume_projects_damaged_centres_file_is_said_once(make_napari_viewer):
    viewer = make_napari_viewer()
    volumes = np.random.default_rng(0).random((2, 6, 24, 24)).astype(np.float32)
    viewer.add_image(volumes, name="vol")
    viewer.add_image(np.zeros((6, 24, 24), np.float32), name="other")
    dock = VolumeDetectWidget(viewer)
    dock.layer_combo.setCurrentText("vol")
    dock.axes_combo.setCurrentText("TZYX")
    project = dock.review.project
    for frame in (0, 1):
        project.save_frame(frame, pd.DataFrame({"frame": frame, "z": [3.0], "y": [10.0], "x": [12.0],
                                                "score": [0.9], "source": "model"}))
    path = project.frame_path(0)
    path.write_bytes(path.read_bytes()[:-4])  # its last line incomplete
    seen = notification_count()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the project's own warning of the problem
        dock.layer_combo.setCurrentText("other")
        dock.layer_combo.setCurrentText("vol")  # opened again: the problem found and said
        dock.layer_combo.setCurrentText("other")
        dock.layer_combo.setCurrentText("vol")  # and again: not said twice
    said = [m for m in notifications_since(seen) if " problem: " in m]
    assert len(said) == 1 and str(path) in said[0] and said[0].startswith(f"{project.folder.name}: 1 problem: ")
