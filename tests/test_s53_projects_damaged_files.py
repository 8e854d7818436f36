"""A project file damaged outside the program (cut short by a crash on an older version, a full disk, a bad
copy) is kept aside before a save replaces it: the user's earlier centres in it are never ended by the save."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.projects.project import Project

pytestmark = pytest.mark.usefixtures("project_home")


def _points(*centres: tuple[float, float], source: str = "added") -> pd.DataFrame:
    return pd.DataFrame({"y": [c[0] for c in centres], "x": [c[1] for c in centres], "source": source})


def _open(folder: Path) -> Project:
    return Project.open(folder, n_frames=3, frame_shape=(64, 64))


def _cut_last_line(path: Path) -> bytes:
    damaged = path.read_bytes()[:-4]  # a crash mid-write: the last point's line is incomplete
    path.write_bytes(damaged)
    return damaged


def test_a_frame_file_cut_short_is_kept_aside_when_the_frame_is_saved_again(tmp_path: Path) -> None:
    folder = tmp_path / "movie.particle-detect"
    _open(folder).save_frame(0, _points((10, 10), (20, 20), (30, 30)))
    damaged = _cut_last_line(folder / "frames" / "frame-0000.csv")

    project = _open(folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert project.frame_snapshot(0) is None  # left out of what the dock shows, and reported
        project.save_frame_merging(0, _points((50, 50)), None)  # the user's edit of the frame shown empty

    kept = folder / "frames" / "frame-0000.csv.damaged"
    assert kept.read_bytes() == damaged
    assert project.load_frame(0)[["y", "x"]].values.tolist() == [[50.0, 50.0]]
    assert any("frame-0000.csv.damaged" in problem for problem in project.problems)
    assert project.saved_frames() == [0]  # the kept copy is no frame of the project


def test_damage_found_again_never_replaces_what_was_kept_before(tmp_path: Path) -> None:
    folder = tmp_path / "movie.particle-detect"
    project = _open(folder)
    project.save_frame(1, _points((10, 10), (20, 20)))
    first = _cut_last_line(folder / "frames" / "frame-0001.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        project.accept_frame(1, _points((40, 40), (41, 41)))
        second = _cut_last_line(folder / "frames" / "frame-0001.csv")
        project.save_frame(1, _points((5, 5)))

    assert (folder / "frames" / "frame-0001.csv.damaged").read_bytes() == first
    assert (folder / "frames" / "frame-0001.csv.damaged-2").read_bytes() == second


def test_sound_frame_files_are_replaced_without_a_copy(tmp_path: Path) -> None:
    folder = tmp_path / "movie.particle-detect"
    _open(folder).save_frame(2, _points((10, 10)))
    project = _open(folder)  # another window's, which never read the frame
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        project.save_frame(2, _points((12, 12)))
        project.accept_frame(2, _points((14, 14)))
    assert sorted(p.name for p in (folder / "frames").iterdir()) == ["frame-0002.csv"]
    assert project.problems == []


def test_a_state_damaged_twice_keeps_both_damaged_files(tmp_path: Path) -> None:
    folder = tmp_path / "movie.particle-detect"
    project = _open(folder)
    project.save_frame(0, _points((10, 10)))
    project.remember_threshold(0.3)  # a change with a state before it: state.json.bak
    kept = []
    for damage in (b'{"version": 2, "accep', b""):  # cut short by a crash, then emptied by a full disk
        (folder / "state.json").write_bytes(damage)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reopened = _open(folder)
            reopened.remember_threshold(0.4)
        kept.append(damage)

    assert (folder / "state.json.damaged").read_bytes() == kept[0]
    assert (folder / "state.json.damaged-2").read_bytes() == kept[1]
    assert _open(folder).threshold == 0.4


ROD = {"y": [20.0], "x": [20.0], "angle": [0.3], "length": [20.0], "width": [4.0], "score": [0.6],
       "source": ["model"]}


def test_one_rods_frame_cut_short_leaves_the_other_frames_readable_and_ranked(tmp_path: Path) -> None:
    from napari_particle_detect.projects.kinds_project import (
        all_kind_frames, detections, open_kind_project, save_kind_frame, saved_kind_frames,
    )

    data = np.zeros((3, 64, 64), dtype=np.uint16)
    project = open_kind_project("rods", name="img", data=data)
    for frame in (0, 1):
        save_kind_frame(project, frame, pd.DataFrame(ROD))
    _cut_last_line(project.frame_path(0))

    reopened = open_kind_project("rods", name="img", data=data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert list(saved_kind_frames(reopened)) == [1]
        assert list(detections(reopened)) == [1]  # what Review next ranks
        assert all_kind_frames(reopened)["frame"].tolist() == [1]
    assert reopened.problems == [f"{reopened.frame_path(0)}: truncated: its last line is incomplete (frame 0 left out)"]
