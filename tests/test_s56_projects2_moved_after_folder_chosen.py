"""An image whose project folder was chosen with Folder… (kept away from the image, in a store of projects), then
moved to another folder: the note that remembers the choice is keyed by the image's old path, so a new, empty project
started beside the image without a word. The projects in the folders chosen before are looked through too, and named."""

import os

import pytest
import tifffile

from helpers import small_stack
from napari_particle_detect.projects.locations import image_file_record, project_location, remember_chosen_folder
from napari_particle_detect.projects.project import Project

pytestmark = pytest.mark.usefixtures("project_home")


# A project folder, an empty folder (made the project), an ordinary folder (keeping the project inside).
@pytest.mark.parametrize("chosen", ["store/mine.particle-detect", "store/day1", "store"])
def test_the_project_in_a_folder_chosen_before_the_image_moved_is_named(tmp_path, chosen):
    frames = small_stack(2, 48)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "far" / chosen).mkdir(parents=True)
    (tmp_path / "far" / "store" / "notes.txt").write_text("day 1")
    image = tmp_path / "a" / "movie.tif"
    tifffile.imwrite(image, frames, photometric="minisblack")
    # The dock's Folder…: the project opened in the chosen folder (a project, an empty one, or one holding projects).
    project = Project.open(tmp_path / "far" / chosen, image=str(image), n_frames=2, frame_shape=(48, 48),
                           first_frame=frames[0])
    project.remember_detection(9.0, "bright")
    assert remember_chosen_folder(image, tmp_path / "far" / chosen)
    moved = tmp_path / "b" / "movie.tif"
    os.rename(image, moved)
    location = project_location(moved, image_file_record(moved))
    assert location.folder == tmp_path / "b" / "movie.particle-detect"
    assert location.found == (project.folder,)
