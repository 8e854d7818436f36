"""A volume project opened with other pixels is refused in one line whose way out the Volume dock has: it advised
"Folder… in the dock", a button only the Particle detection dock has."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.volume_rounds import open_volume_project
from napari_particle_detect.projects.project import Project


def _volumes(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((1, 6, 24, 24)).astype(np.float32)


def test_a_volume_project_refusing_other_pixels_names_no_folder_button(tmp_path):
    project = open_volume_project(tmp_path / "v.tif", _volumes(0))
    project.accept_frame(0, pd.DataFrame({"frame": 0, "z": [2.0], "y": [5.0], "x": [6.0]}))
    with pytest.raises(ParticleDetectError) as refused:
        open_volume_project(tmp_path / "v.tif", _volumes(1))
    message = str(refused.value)
    assert "is not the image this project was made for" in message
    assert message.endswith("move the project folder aside (a new one starts)") and "Folder…" not in message


def test_a_spheres_project_refusing_another_image_still_offers_folder(tmp_path):
    frames = np.random.default_rng(0).random((2, 24, 24)).astype(np.float32)
    project = Project.open(tmp_path / "s.tif", n_frames=2, frame_shape=(24, 24), first_frame=frames[0])
    project.accept_frame(0, pd.DataFrame({"frame": 0, "y": [5.0], "x": [6.0]}))
    with pytest.raises(ParticleDetectError, match="Folder… in the Particle detection dock"):
        Project.open(tmp_path / "s.tif", n_frames=2, frame_shape=(24, 24), first_frame=frames[1])
