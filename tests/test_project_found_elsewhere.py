"""A dock project away from where it is looked for (the folder of images renamed or copied, a copy in the projects
home beside a newer project next to the image) is named, never adopted silently; an ordinary folder chosen with
Folder… keeps the project inside it; `rounds` says which project it lists."""

import errno
import os

import numpy as np
import pandas as pd
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.projects import locations
from napari_particle_detect.projects.project import PROJECT_SUFFIX, Project

from helpers import make_widget, notification_count, notifications_since, small_stack


def _image(path, seed: int = 0):
    """A 2-frame image file at ``path``; its pixels (``seed``: other pixels)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stack = small_stack(2, 48) if seed == 0 else np.random.default_rng(seed).random((2, 48, 48)).astype(np.float32)
    tifffile.imwrite(path, stack)
    return stack


def _record(path, stack):
    """What the dock's project records of the image (as Annotation.attach opens it)."""
    from napari_particle_detect.projects.project import image_record

    return image_record(str(path), len(stack), stack.shape[-2:], first_frame=stack[0])


def _project_with_a_frame(folder, image, stack) -> Project:
    project = Project.open(folder, image=str(image), n_frames=len(stack), frame_shape=stack.shape[-2:],
                           first_frame=stack[0])
    project.save_frame(0, pd.DataFrame({"frame": 0, "y": [10.0], "x": [12.0], "score": np.nan, "source": "added"}))
    return project


def _refuse_making_folders_in(monkeypatch, folder):
    """Nothing can be made inside ``folder`` (a read-only share: root passes chmod, so the refusal is made here)."""
    mkdir, root = os.mkdir, str(folder) + os.sep

    def refuse(target, *args, **kwargs):
        if os.path.abspath(os.fsdecode(target)).startswith(root):
            raise PermissionError(errno.EPERM, "Operation not permitted", os.fsdecode(target))
        return mkdir(target, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", refuse)


def test_a_project_kept_in_a_chosen_folder_is_named_once_its_folder_of_images_was_renamed(tmp_path, monkeypatch,
                                                                                        capsys):
    # The folder chosen with Folder… is remembered by the image's absolute path: renamed, the dock opened an empty
    # project beside the image without a word, and `rounds IMAGE` said "no review project there".
    monkeypatch.setenv("NAPARI_PARTICLE_DETECT_HOME", str(tmp_path / "home"))
    image = tmp_path / "colleague" / "images" / "cells.tif"
    stack = _image(image)
    chosen = tmp_path / "colleague" / "projects" / f"cells{PROJECT_SUFFIX}"
    _project_with_a_frame(chosen, image, stack)
    assert locations.remember_chosen_folder(image, chosen)
    _project_with_a_frame(tmp_path / "colleague" / "other" / f"cells{PROJECT_SUFFIX}", image,
                          _image(tmp_path / "elsewhere" / "cells.tif", seed=3))  # a namesake of other pixels
    (tmp_path / "colleague").rename(tmp_path / "renamed")
    image, moved = tmp_path / "renamed" / "images" / "cells.tif", tmp_path / "renamed" / "projects" / chosen.name

    assert main(["rounds", str(image)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"particle-detect: error: {image}: no review project there")
    assert f"; found a project made for this image at {moved} (last changed " in error and "\n" not in error
    assert main(["rounds", str(moved)]) == 0
    out, err = capsys.readouterr()
    assert err == f"project: {moved}\n" and out.startswith("round  from")  # stdout stays the table

    where = locations.project_location(image, _record(image, stack))
    assert where.folder == image.with_suffix(PROJECT_SUFFIX) and where.found == (moved,)  # named, not adopted
    assert not where.folder.exists()
    assert locations.found_note(where.found) == error.split("; ", 1)[1].split(": give", 1)[0]  # as rounds says it


def test_an_ordinary_folder_chosen_keeps_the_project_inside_it_and_opens_the_one_made_for_the_image(tmp_path):
    # Folder… on the images' own folder made that folder the project (state.json, frames/ among the images), which
    # `train` then refused as "a napari project".
    images = tmp_path / "images"
    stack = _image(images / "cells.tif")
    _image(images / "other.tif", seed=2)
    project = _project_with_a_frame(images, images / "cells.tif", stack)
    assert project.folder == images / f"cells{PROJECT_SUFFIX}"
    assert sorted(p.name for p in images.iterdir()) == ["cells.particle-detect", "cells.tif", "other.tif"]

    store = tmp_path / "store"  # holding a project made for the image, under another name
    mine = _project_with_a_frame(store / f"mine{PROJECT_SUFFIX}", images / "cells.tif", stack).folder
    (store / "notes.txt").write_text("mine")
    reopened = Project.open(store, image=str(images / "cells.tif"), n_frames=2, frame_shape=(48, 48),
                            first_frame=stack[0])
    assert reopened.folder == mine and reopened.saved_frames() == [0]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert Project.open(empty, image=str(images / "cells.tif")).folder == empty  # an empty folder is the project


def test_a_project_kept_in_the_home_says_since_when_and_names_a_newer_one_beside_the_image(tmp_path, monkeypatch):
    # Reopened once the image's folder could be written, the dock still said "(the image's folder cannot be
    # written)", and a project a colleague had made beside the image meanwhile was not mentioned: two forks.
    monkeypatch.setenv("NAPARI_PARTICLE_DETECT_HOME", str(tmp_path / "home"))
    image = tmp_path / "shared" / "cells.tif"
    stack = _image(image)
    with monkeypatch.context() as read_only:
        _refuse_making_folders_in(read_only, image.parent)
        where = locations.project_location(image, _record(image, stack))
        assert where.moved and where.found == ()
        _project_with_a_frame(where.folder, image, stack)
        note = locations.home_note(image)
        assert note.startswith("kept in the projects home since 20") and note.endswith(
            ": the image's folder cannot be written")
    assert locations.project_location(image, _record(image, stack)) == where  # still the home's, with its work
    note = locations.home_note(image)
    assert note.startswith("kept in the projects home since 20") and note.endswith(
        ", when the image's folder could not be written")
    beside = _project_with_a_frame(image, image, stack).folder  # a colleague's, made since
    assert locations.project_location(image, _record(image, stack)).found == (beside,)


def test_the_dock_names_a_project_made_for_the_image_elsewhere_and_folder_opens_it(make_napari_viewer, tmp_path,
                                                                                  monkeypatch):
    monkeypatch.setenv("NAPARI_PARTICLE_DETECT_HOME", str(tmp_path / "home"))
    image = tmp_path / "copy" / "images" / "cells.tif"
    stack = _image(image)
    projects = tmp_path / "copy" / "projects"
    found = _project_with_a_frame(projects / f"cells{PROJECT_SUFFIX}", image, stack).folder
    viewer = make_napari_viewer()
    seen = notification_count()
    viewer.open(image, plugin="napari")
    widget = make_widget(viewer, None)
    assert widget.annotation.project.folder == image.with_suffix(PROJECT_SUFFIX)  # not taken on silently
    hint = f"found a project made for this image at {found} (last changed "
    said = [m for m in notifications_since(seen) if hint in m]
    assert len(said) == 1 and said[0].startswith("'cells': ") and said[0].endswith(": Folder… to use it")
    assert hint in widget.project_label.text()

    widget.choose_project_folder(projects)  # the folder holding it, as the folder dialog offers
    assert widget.annotation.project.folder == found and widget.annotation.project.saved_frames() == [0]
    assert widget.project_label.text() == f"Project: {found}"
    assert sorted(p.name for p in projects.iterdir()) == [found.name]


def test_the_docks_project_line_says_the_home_copy_is_from_when_the_folder_could_not_be_written(make_napari_viewer,
                                                                                                tmp_path, monkeypatch):
    # Reopened once the image's folder could be written, the line still said "(the image's folder cannot be
    # written)", and a colleague's newer project beside the image was not mentioned.
    monkeypatch.setenv("NAPARI_PARTICLE_DETECT_HOME", str(tmp_path / "home"))
    image = tmp_path / "shared" / "cells.tif"
    stack = _image(image)
    viewer = make_napari_viewer()
    widget = make_widget(viewer, None)
    with monkeypatch.context() as read_only:
        _refuse_making_folders_in(read_only, image.parent)
        viewer.open(image, plugin="napari")
        home = widget.annotation.project.folder
        widget.annotation.project.save_frame(0, pd.DataFrame({"frame": 0, "y": [10.0], "x": [12.0], "score": np.nan,
                                                              "source": "added"}))
    assert "the image's folder cannot be written" in widget.project_label.text()
    viewer.layers.remove("cells")
    beside = _project_with_a_frame(image, image, stack).folder  # a colleague's, once the folder could be written
    seen = notification_count()
    viewer.open(image, plugin="napari")
    label = widget.project_label.text()
    assert widget.annotation.project.folder == home and label.startswith(f"Project: {home} (kept in the projects home ")
    assert ", when the image's folder could not be written; " in label and "cannot be written" not in label
    said = [m for m in notifications_since(seen) if str(beside) in m]
    assert len(said) == 1 and said[0].startswith(f"'cells': found a project made for this image at {beside} (last ")
