"""A project whose state.json went missing (deleted by hand, lost by a copy or a sync) while its backup and frame
files are there: it goes back to the backup, or is rebuilt from its frames, and says so, as for a damaged
state.json; it never starts afresh over the review without a word."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

from napari_particle_detect.projects.project import Project

pytestmark = pytest.mark.usefixtures("project_home")


def _points(*centres: tuple[float, float], source: str = "added") -> pd.DataFrame:
    return pd.DataFrame({"y": [c[0] for c in centres], "x": [c[1] for c in centres], "source": source})


def _open(folder: Path) -> Project:
    return Project.open(folder, n_frames=3, frame_shape=(64, 64))


def _reviewed_project(folder: Path) -> Project:
    project = _open(folder)
    project.accept_frame(0, _points((10, 10), (20, 20), source="model"))
    project.mark_edited(1)  # as the dock marks a frame before it saves the user's edit
    project.save_frame(1, _points((30, 30)))
    project.remember_threshold(0.4)  # the last change: what going back to the backup loses
    return project


def test_a_missing_state_goes_back_to_its_backup_and_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "movie.particle-detect"
    project = _reviewed_project(folder)
    backup = (folder / "state.json.bak").read_bytes()
    project.state_path.unlink()

    with pytest.warns(UserWarning, match="state.json: missing"):
        reopened = _open(folder)
    assert len(reopened.problems) == 1, reopened.problems  # said once, not at every reading of the state
    assert "went back to the state before its last change (state.json.bak)" in reopened.problems[0]
    assert reopened.reviewed_frames == [0] and reopened.edited_frames == [1]
    assert reopened.threshold is None  # the last change, lost

    reopened.accept_frame(2, _points((40, 40)))  # the user carries on: the backup is not replaced by a fresh state
    assert (folder / "state.json.bak").read_bytes() == backup
    again = _open(folder)
    assert again.problems == [] and again.reviewed_frames == [0, 2]
    assert json.loads(project.state_path.read_text())["edited"] == [1]


def test_a_missing_state_with_no_backup_is_rebuilt_from_the_frame_files(tmp_path: Path) -> None:
    folder = tmp_path / "movie.particle-detect"
    project = _reviewed_project(folder)
    project.state_path.unlink()
    (folder / "state.json.bak").unlink()

    with pytest.warns(UserWarning, match="rebuilt from the project's files"):
        reopened = _open(folder)
    assert len(reopened.problems) == 1 and "frame 0 holds accepted points" in reopened.problems[0]
    assert reopened.edited_frames == [0, 1]  # a Detect over them keeps the edits one undo away


def test_a_new_project_still_opens_without_a_word(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        project = _open(tmp_path / "movie.particle-detect")
    assert project.problems == [] and project.reviewed_frames == []


def test_a_project_beside_its_image_with_only_its_backup_left_is_the_one_used(tmp_path: Path) -> None:
    # The dock looked for the image's project elsewhere, as if none were beside it, and named a copy to use.
    import shutil

    import numpy as np
    import tifffile

    from napari_particle_detect.projects.locations import image_file_record, project_location

    image = tmp_path / "mine" / "movie.tif"
    image.parent.mkdir()
    tifffile.imwrite(image, np.random.default_rng(0).integers(0, 200, (3, 64, 64), dtype=np.uint8))
    record = image_file_record(image)
    beside = project_location(image).folder
    project = Project.open(beside, image=str(image), n_frames=record.n_frames, frame_shape=record.frame_shape)
    project.accept_frame(0, _points((10, 10)))
    project.remember_threshold(0.4)
    shutil.copytree(beside, tmp_path / "copy" / beside.name)  # someone's copy, in a sibling folder
    project.state_path.unlink()

    location = project_location(image, record)
    assert location.folder == beside and location.found == ()
    with pytest.warns(UserWarning, match="state.json: missing"):
        assert Project.open(location.folder, image=str(image)).reviewed_frames == [0]
