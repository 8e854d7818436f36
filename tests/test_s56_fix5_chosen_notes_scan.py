"""Looking for an image's project through the chosen-folder notes in the projects home (on the dock's main thread):
the notes of other images named as it began ('movie-take1' for 'movie') were taken for its own and read first, so
they could fill the folders' cap before its own; and up to ten times MAX_SIBLINGS notes of gone folders were read
(every note stat'ed too), ten times slower than before with thousands of notes."""

import os
import time

import pytest

from napari_particle_detect.projects import locations
from napari_particle_detect.projects.locations import chosen_folder_note, remember_chosen_folder, remembered_folders

pytestmark = pytest.mark.usefixtures("project_home")


def test_notes_of_images_whose_names_only_begin_alike_do_not_come_before_the_images_own(tmp_path, monkeypatch):
    monkeypatch.setattr(locations, "MAX_SIBLINGS", 3)
    store = tmp_path / "store"
    store.mkdir()
    assert remember_chosen_folder(tmp_path / "a" / "movie.tif", store)
    day_old = time.time() - 86400
    os.utime(chosen_folder_note(tmp_path / "a" / "movie.tif"), (day_old, day_old))
    for i in range(3):
        (tmp_path / f"takes{i}").mkdir()
        assert remember_chosen_folder(tmp_path / "a" / f"movie-take{i}.tif", tmp_path / f"takes{i}")
    assert remembered_folders(tmp_path / "b" / "movie.tif")[0] == store


def test_notes_of_gone_folders_are_read_a_bounded_few(tmp_path, monkeypatch):
    gone = 2 * locations.MAX_SIBLINGS + 50
    for i in range(gone):
        assert remember_chosen_folder(tmp_path / "a" / f"img{i:04d}.tif", tmp_path / "gone" / f"{i}")
    read = []

    def counted(note):
        read.append(note)
        return noted(note)

    noted = locations._noted_folder
    monkeypatch.setattr(locations, "_noted_folder", counted)
    assert remembered_folders(tmp_path / "b" / "movie.tif") == []
    assert len(read) <= 2 * locations.MAX_SIBLINGS
