"""A project made before frame 0 of its stack was damaged (a garbled TIFF page) recorded frame 0's fingerprint; the
dock opens it (projects.project._readable_fingerprint), but a round compared that fingerprint with frame 0 read again,
whose read raised: Fine-tune failed on a frame it does not train on. Where frame 0 cannot be read the comparison is
passed over, as the project records none then; an image of other pixels is still refused."""

import numpy as np
import pandas as pd
import pytest

from helpers import damaged_acquisition, small_stack
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.io import read_image
from napari_particle_detect.learning.rounds import check_round_image, project_examples
from napari_particle_detect.projects.project import Project

pytestmark = pytest.mark.usefixtures("project_home")


def test_a_round_passes_over_the_fingerprint_of_an_unreadable_first_frame(tmp_path):
    frames = small_stack(3, 48)
    path = tmp_path / "movie.tif"
    project = Project.open(path, n_frames=3, frame_shape=(48, 48), first_frame=frames[0])
    project.remember_detection(9.0, "bright")
    project.accept_frame(1, pd.DataFrame({"frame": [1], "y": [20.0], "x": [20.0], "score": [np.nan],
                                          "source": ["added"]}))
    assert project.state().fingerprint is not None
    damaged_acquisition(path, frames, damaged=(0,))
    stack = read_image(path, lazy=True)

    check_round_image(project, stack)
    assert [example.image.shape for example in project_examples(project, stack, 1.0)] == [(48, 48)]

    other = frames.copy()
    other[0] = np.flip(other[0])
    with pytest.raises(ParticleDetectError, match="no round was trained"):
        check_round_image(project, other)
