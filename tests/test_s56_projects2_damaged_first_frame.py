"""A TIFF stack whose first frame is damaged (a garbled compressed page) opens in napari, frame 0 drawn blank, but the
dock failed as the image was picked: its project's record fingerprinted the first frame, whose read raised. The
image is known by its name and size then; the project made is found again, as is one made before the damage."""

import json

import pytest

from helpers import damaged_acquisition, small_stack
from napari_particle_detect._napari.widget import ParticleDetectWidget
from napari_particle_detect.cli.gui import open_images
from napari_particle_detect.projects.project import Project, project_folder_for_image

pytestmark = pytest.mark.usefixtures("project_home")


def _dock_over(viewer, path):
    open_images(viewer, [path])
    return ParticleDetectWidget(viewer)


def test_the_dock_opens_and_reopens_the_project_of_a_stack_whose_first_frame_is_damaged(tmp_path, make_napari_viewer):
    path = damaged_acquisition(tmp_path / "movie.tif", small_stack(3, 48), damaged=(0,))
    annotation = _dock_over(make_napari_viewer(), path).state.annotation
    assert annotation is not None
    annotation.go_to_frame(1)
    annotation.ensure_points_layer().add([1, 20.0, 20.0])
    annotation.accept(1)
    state = json.loads((project_folder_for_image(path) / "state.json").read_text())
    assert state["fingerprint"] is None and state["n_frames"] == 3
    again = _dock_over(make_napari_viewer(), path).state.annotation
    assert again is not None and again.project.reviewed_frames == [1]


def test_a_project_made_before_the_first_frame_was_damaged_still_opens(tmp_path, make_napari_viewer):
    frames = small_stack(3, 48)
    path = tmp_path / "movie.tif"
    project = Project.open(path, n_frames=3, frame_shape=(48, 48), first_frame=frames[0])
    project.remember_detection(9.0, "bright")  # something kept: the project and its fingerprint are written
    assert project.state().fingerprint is not None
    damaged_acquisition(path, frames, damaged=(0,))
    annotation = _dock_over(make_napari_viewer(), path).state.annotation
    assert annotation is not None and annotation.project.folder == project.folder
