"""A volume project's volume.json cut short (by a copy or a sync) locked its whole review out of the Volume detection
dock, in a line that gave no way out: the project opens with its centres, the damage said with the way out (the
next Detect writes it again), and also once the file is moved aside."""

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.learning.volume_rounds import VolumeSettings, open_volume_project, remember_settings
from napari_particle_detect.projects.volume_review import VolumeReview, check_recorded_volume_shape

SHAPE = (8, 32, 32)


def test_a_damaged_volume_json_says_the_way_out_and_the_review_opens_once_it_is_taken(tmp_path):
    volumes = np.zeros((1, *SHAPE), np.float32)
    review = VolumeReview(open_volume_project(tmp_path / "cells.tif", volumes), SHAPE)
    review.save_edits(0, pd.DataFrame({"frame": 0, "z": [3.0], "y": [10.0], "x": [12.0], "source": "added"}))
    remember_settings(review.project, VolumeSettings((5.0, 10.0, 10.0), None, SHAPE))
    settings = review.project.folder / "volume.json"
    settings.write_text(settings.read_text()[:20])
    # Damaged, it only skips the shape check, said with the way out (the dock's next Detect writes it again).
    with pytest.warns(UserWarning, match="unreadable volume settings .*until a Detect writes them again"):
        check_recorded_volume_shape(review.project.folder, SHAPE)
    assert len(VolumeReview(open_volume_project(tmp_path / "cells.tif", volumes), SHAPE).table(0)) == 1
    settings.rename(tmp_path / "volume.json.damaged")
    check_recorded_volume_shape(review.project.folder, SHAPE)
    assert len(VolumeReview(open_volume_project(tmp_path / "cells.tif", volumes), SHAPE).table(0)) == 1
