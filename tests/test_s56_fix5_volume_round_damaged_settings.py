"""A volume project whose volume.json is damaged (cut short by a copy or a sync) opens, its sizes reported; the 3D
Fine-tune round then said only that the file is unreadable, with no way out, where an export says to press Detect."""

import re

import numpy as np
import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.volume_rounds import (
    VolumeSettings, ensure_volume_round, open_volume_project, remember_settings, run_volume_round,
)

pytestmark = pytest.mark.usefixtures("project_home")


def test_a_round_over_damaged_volume_settings_says_to_press_detect(tmp_path):
    volumes = np.zeros((1, 8, 32, 32), np.float32)
    project = open_volume_project(tmp_path / "cells.tif", volumes)
    ensure_volume_round(project)
    remember_settings(project, VolumeSettings((5.0, 10.0, 10.0), (2.0, 0.5, 0.5), (8, 32, 32)))
    settings = project.folder / "volume.json"
    settings.write_text(settings.read_text()[:20])
    said = re.escape(f"{settings}: unreadable volume settings (") + r".*" + re.escape(
        "); press Detect to write it again (centres it detects over your edits stay one Undo away), then fine-tune")
    with pytest.raises(ParticleDetectError, match=said):
        run_volume_round(project, volumes)
