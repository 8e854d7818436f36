"""A project folder deleted (or moved) while the project was open: the next change made a new, empty project in its
place without a word, its accepted frames and rounds lost while the dock still showed them as saved. It is said, once,
with what the project held."""

import shutil

import numpy as np

import pytest

from helpers import small_stack
from napari_particle_detect.detection.prediction import centres_table
from napari_particle_detect.projects.project import Project


def test_a_project_folder_gone_while_open_is_said_once_at_the_next_change(tmp_path):
    frames = small_stack(3, 48)
    project = Project.open(tmp_path / "movie.tif", n_frames=3, frame_shape=(48, 48), first_frame=frames[0])
    project.accept_frame(1, centres_table(1, np.array([[20.0, 20.0]]), np.array([0.9])))
    shutil.rmtree(project.folder)
    with pytest.warns(UserWarning, match=r"gone while the project was open .*reviews \(1 accepted"):
        project.accept_frame(2, centres_table(2, np.array([[30.0, 30.0]]), np.array([0.9])))
    assert project.reviewed_frames == [2]
    assert len([p for p in project.problems if "gone while the project was open" in p]) == 1
    # The new project: nothing more to say.
    project.accept_frame(0, centres_table(0, np.array([[10.0, 10.0]]), np.array([0.9])))
    assert len(project.problems) == 1


def test_a_new_project_never_saved_says_nothing(tmp_path):
    project = Project.open(tmp_path / "movie.tif", n_frames=3, frame_shape=(48, 48))
    assert project.reviewed_frames == []
    project.accept_frame(0, centres_table(0, np.array([[10.0, 10.0]]), np.array([0.9])))
    assert project.problems == []
