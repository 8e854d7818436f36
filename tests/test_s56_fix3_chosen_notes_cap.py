"""A moved image's project in a folder chosen with Folder… is found through every chosen-folder note in the projects
home; only the first MAX_SIBLINGS notes by name were read, and the check that a note's folder is still there came
after that cap: notes of folders deleted since, named before the image's, hid its project."""

import os

import pytest
import tifffile

from helpers import small_stack
from napari_particle_detect.projects.locations import (
    MAX_SIBLINGS, chosen_folder_note, image_file_record, project_location, remember_chosen_folder,
)
from napari_particle_detect.projects.project import Project

pytestmark = pytest.mark.usefixtures("project_home")


def _stale_notes(tmp_path, when: float) -> None:
    """MAX_SIBLINGS notes of images named before 'movie', each for a folder deleted since, written at ``when``."""
    for i in range(MAX_SIBLINGS):
        gone = tmp_path / "other" / f"gone{i}"
        gone.mkdir(parents=True)
        assert remember_chosen_folder(tmp_path / "a" / f"a{i:04d}.tif", gone)
        os.utime(chosen_folder_note(tmp_path / "a" / f"a{i:04d}.tif"), (when, when))
        gone.rmdir()


def _project_in_store(tmp_path, name: str):
    """An image ``a/NAME`` whose project was made in the folder ``store`` chosen for it, its note a day old."""
    frames = small_stack(2, 48)
    (tmp_path / "a").mkdir(exist_ok=True)
    (tmp_path / "store").mkdir()
    image = tmp_path / "a" / name
    tifffile.imwrite(image, frames, photometric="minisblack")
    project = Project.open(tmp_path / "store", image=str(image), n_frames=2, frame_shape=(48, 48),
                           first_frame=frames[0])
    project.remember_detection(9.0, "bright")
    assert remember_chosen_folder(image, tmp_path / "store")
    day_old = chosen_folder_note(image).stat().st_mtime - 86400
    os.utime(chosen_folder_note(image), (day_old, day_old))
    return image, project, day_old


def _found_after_move(tmp_path, image, name: str) -> tuple:
    (tmp_path / "b").mkdir()
    moved = tmp_path / "b" / name
    os.rename(image, moved)
    return project_location(moved, image_file_record(moved)).found


def test_a_moved_images_project_is_found_past_newer_notes_of_deleted_folders(tmp_path):
    image, project, day_old = _project_in_store(tmp_path, "movie.tif")
    _stale_notes(tmp_path, day_old + 3600)  # newer than the image's own: its name finds it first
    assert _found_after_move(tmp_path, image, "movie.tif") == (project.folder,)


def test_a_project_put_in_a_store_chosen_for_another_image_is_found_past_older_notes_of_deleted_folders(tmp_path):
    image, project, day_old = _project_in_store(tmp_path, "movie.tif")
    # The store was chosen for another image, later; this image's project was put there by hand (no note of its own).
    chosen_folder_note(image).unlink()
    assert remember_chosen_folder(tmp_path / "x" / "zebra.tif", tmp_path / "store")
    _stale_notes(tmp_path, day_old)  # named before the store's note: gone folders are passed over, not counted in the cap
    assert _found_after_move(tmp_path, image, "movie.tif") == (project.folder,)
