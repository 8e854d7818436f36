"""An image renamed after its project was made (movie.tif -> movie_day1.tif) started a new, empty project without a
word: the old one, still beside it under the old name, was looked for by the image's file name only. It is named
now, as a project found elsewhere is (never taken on silently), where the old file is gone and the pixels agree."""

import numpy as np
import tifffile

from helpers import small_stack
from napari_particle_detect.projects.locations import image_file_record, project_location
from napari_particle_detect.projects.project import Project


def _image_with_a_project(path):
    frames = small_stack(2, 48)
    tifffile.imwrite(path, frames, photometric="minisblack")
    project = Project.open(path, n_frames=2, frame_shape=(48, 48), first_frame=frames[0])
    project.remember_detection(9.0, "bright")  # something kept: the project is written
    return project.folder


def test_the_project_of_an_image_renamed_since_is_named(tmp_path):
    old = _image_with_a_project(tmp_path / "movie.tif")
    renamed = (tmp_path / "movie.tif").rename(tmp_path / "movie_day1.tif")
    location = project_location(renamed, image_file_record(renamed))
    assert location.folder == tmp_path / "movie_day1.particle-detect"
    assert location.found == (old,)


def test_a_copy_beside_its_original_is_not_taken_for_it_nor_another_image_for_a_renamed_one(tmp_path):
    _image_with_a_project(tmp_path / "movie.tif")
    copy = tmp_path / "movie_copy.tif"
    copy.write_bytes((tmp_path / "movie.tif").read_bytes())
    assert project_location(copy, image_file_record(copy)).found == ()
    (tmp_path / "movie.tif").unlink()
    other = tmp_path / "other.tif"
    tifffile.imwrite(other, np.flip(small_stack(2, 48), -1), photometric="minisblack")
    assert project_location(other, image_file_record(other)).found == ()
