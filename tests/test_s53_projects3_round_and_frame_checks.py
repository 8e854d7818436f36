"""A round whose model file is gone or garbled, and a frame file with centres beyond the image's edges: each
said in words, never mistaken for something else (another version's shipped model) or passed over."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest

from napari_particle_detect.cli import main as cli
from napari_particle_detect.projects.project import Project
from napari_particle_detect.projects.shipped_rounds import is_other_version, origin_label, other_version_copies

pytestmark = pytest.mark.usefixtures("project_home")


def _project_with_shipped_round(folder: Path) -> Project:
    project = Project.open(folder / "movie.particle-detect", n_frames=2, frame_shape=(64, 64))
    project.ensure_initial_round()
    return project


def test_a_garbled_copy_of_the_shipped_model_is_said_damaged_not_another_versions(tmp_path: Path, capsys) -> None:
    project = _project_with_shipped_round(tmp_path)
    assert origin_label(project, project.round(1)) == "shipped"
    project.round_path(1).write_bytes(b"\x01\x02 not a model")

    info = project.round(1)
    assert cli.main(["rounds", str(project.folder)]) == 0
    listing = capsys.readouterr().out
    assert "this version ships another" not in listing and "shipped*" not in listing
    assert not is_other_version(project, info) and other_version_copies(project) == []
    assert origin_label(project, info) == "shipped; model file damaged"
    assert project.round_model_problem(1) == "model file damaged"


def test_a_round_whose_files_were_deleted_says_its_model_file_is_missing(tmp_path: Path) -> None:
    project = _project_with_shipped_round(tmp_path)
    card = project.round_path(1).with_suffix(".json")
    card.unlink()
    assert project.round_model_problem(1) == "model file missing"
    shutil.rmtree(project.folder / "rounds")

    assert project.round_model_problem(1) == "model file missing"
    assert origin_label(project, project.round(1)) == "shipped; model file missing"
    reopened = Project.open(project.folder, n_frames=2, frame_shape=(64, 64))
    assert reopened.problems == []  # asked by the lists, never warned at every opening


def test_centres_beyond_the_frame_are_one_problem_naming_the_file_and_are_kept(tmp_path: Path) -> None:
    project = Project.open(tmp_path / "movie.particle-detect", n_frames=2, frame_shape=(64, 64))
    table = pd.DataFrame({"y": [10.0, 500.0, 63.4, -3.0], "x": [10.0, 10.0, 63.4, 5.0], "source": "added"})
    project.save_frame(0, table)

    reader = Project.open(project.folder, n_frames=2, frame_shape=(64, 64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = reader.load_frame(0)
        reader.load_frame(0)
    assert len(loaded) == 4  # kept: the user decides where they belong
    path = reader.frame_path(0)
    assert reader.problems == [f"{path}: 2 centres outside the 64x64 frame (first at y=500, x=10); no detection can "
                               "find a particle there: delete or move them (kept in the file)"]
