"""A volume project's volume.json cut short (a copy or a sync) raised from every reader of the sizes: Review next's
ranking too, which can go on at the default sizes as before any Detect saved them. It reports the damaged file in the
project's problems and reads it as none saved (read_settings(report_damaged=True)); the strict read still refuses."""

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.volume_rounds import (
    VolumeSettings, open_volume_project, rank_volume_areas, read_settings, remember_settings)

SHAPE = (8, 32, 32)


def test_a_damaged_volume_json_is_reported_and_the_ranking_goes_on_at_the_default_sizes(tmp_path):
    project = open_volume_project(tmp_path / "cells.tif", np.zeros((1, *SHAPE), np.float32))
    project.save_frame(0, pd.DataFrame({"frame": 0, "z": [3.0, 4.0], "y": [10.0, 20.0], "x": [12.0, 20.0],
                                        "score": [0.45, 0.9], "source": "model"}))
    remember_settings(project, VolumeSettings((5.0, 10.0, 10.0), None, SHAPE))
    settings = project.folder / "volume.json"
    settings.write_text(settings.read_text()[:20])

    with pytest.warns(UserWarning, match="volume.json"):
        ranked = rank_volume_areas(project, SHAPE, 0.5)
    assert ranked and ranked[0].frame == 0
    assert any("volume.json" in problem and "Detect" in problem for problem in project.problems)
    with pytest.raises(ParticleDetectError, match="unreadable volume settings"):
        read_settings(project)
    assert read_settings(project, report_damaged=True) is None


def test_review_nexts_tables_go_on_at_the_default_sizes_over_a_damaged_volume_json(tmp_path):
    from napari_particle_detect.projects.volume_review import VolumeReview

    volumes = np.zeros((1, *SHAPE), np.float32)
    review = VolumeReview(open_volume_project(tmp_path / "cells.tif", volumes), SHAPE)
    review.project.save_frame(0, pd.DataFrame({"frame": 0, "z": [3.0], "y": [10.0], "x": [12.0], "score": [0.9],
                                               "source": "model"}))
    remember_settings(review.project, VolumeSettings((5.0, 10.0, 10.0), None, SHAPE))
    settings = review.project.folder / "volume.json"
    settings.write_text(settings.read_text()[:20])  # damaged while the review is open
    with pytest.warns(UserWarning, match="volume.json"):
        tables = review.ranked_tables()
    assert list(tables) == [0]
