"""A project whose state.json is damaged with no backup to go back to is rebuilt from its files, never locked;
what a later version added to state.json survives a rewrite by this one."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from napari_particle_detect.projects.project import Project
from napari_particle_detect.projects.project_state import read_state_file

pytestmark = pytest.mark.usefixtures("project_home")


def _points(*centres: tuple[float, float], source: str = "added") -> pd.DataFrame:
    return pd.DataFrame({"y": [c[0] for c in centres], "x": [c[1] for c in centres], "source": source})


def _open(folder: Path) -> Project:
    return Project.open(folder, n_frames=3, frame_shape=(64, 64))


def test_a_damaged_state_with_no_backup_is_rebuilt_from_the_frame_files_and_rounds(tmp_path: Path) -> None:
    folder = tmp_path / "movie.particle-detect"
    project = _open(folder)
    project.ensure_initial_round()
    project.accept_frame(0, _points((10, 10), (20, 20), source="model"))
    project.save_frame(1, _points((30, 30)))
    (folder / "state.json.bak").unlink()  # as right after the first save: nothing to go back to
    damaged = project.state_path.read_bytes()[:60]
    project.state_path.write_bytes(damaged)

    with pytest.warns(UserWarning, match="rebuilt from the project's files"):
        reopened = _open(folder)
    problem = reopened.problems[0]
    assert "\n" not in problem and problem.startswith(f"{project.state_path}: unreadable project state")
    assert "frame 0 holds accepted points" in problem and "state.json.damaged" in problem
    assert reopened.reviewed_frames == []  # never made up: a frame's accepted points do not say what was reviewed
    assert reopened.edited_frames == [0, 1]  # a Detect over them keeps the edits one undo away
    assert reopened.load_frame(1)[["y", "x"]].values.tolist() == [[30.0, 30.0]]
    assert [r.number for r in reopened.rounds] == [1] and reopened.current_round.number == 1

    reopened.accept_frame(2, _points((40, 40)))  # the user carries on
    assert (folder / "state.json.damaged").read_bytes() == damaged
    again = _open(folder)
    assert again.problems == [] and again.reviewed_frames == [2] and again.current_round.number == 1


def test_a_rebuilt_rods_project_is_still_a_rods_project(tmp_path: Path) -> None:
    folder = tmp_path / "movie.rods.particle-detect"
    (folder / "frames").mkdir(parents=True)
    (folder / "frames" / "frame-0000.csv").write_text("frame,y,x,score,source,angle,length\n0,5,5,,added,0.1,8\n")
    (folder / "state.json").write_text('{"version": 2, "kind": "ro')
    assert read_state_file(folder / "state.json").kind == "rods"  # what `particle-detect rounds` opens it as


def test_what_a_later_version_added_to_the_state_survives_a_rewrite(tmp_path: Path) -> None:
    folder = tmp_path / "movie.particle-detect"
    project = _open(folder)
    project.ensure_initial_round()
    state = json.loads(project.state_path.read_text())
    state["frame_notes"] = {"0": "blurred"}  # a later version's, added without raising the version
    state["rounds"][0]["device"] = "cuda:0"
    project.state_path.write_text(json.dumps(state))

    _open(folder).accept_frame(0, _points((10, 10)))
    written = json.loads(project.state_path.read_text())
    assert written["frame_notes"] == {"0": "blurred"} and written["rounds"][0]["device"] == "cuda:0"
    assert written["accepted"] == [{"frame": 0}]


@pytest.mark.filterwarnings("ignore:.*no centres file for reviewed frame")
def test_a_version_1_state_is_rewritten_without_its_old_keys(tmp_path: Path) -> None:
    folder = tmp_path / "movie.particle-detect"
    folder.mkdir()
    (folder / "state.json").write_text(json.dumps({"version": 1, "n_frames": 3, "reviewed": [1], "rounds": []}))
    project = _open(folder)
    project.accept_frame(0, _points((10, 10)))
    written = json.loads(project.state_path.read_text())
    assert "reviewed" not in written and written["accepted"] == [{"frame": 1}, {"frame": 0}]


def test_a_rebuilt_state_with_a_frame_file_beyond_the_image_can_be_saved_and_read_again(tmp_path: Path) -> None:
    folder = tmp_path / "movie.particle-detect"
    _open(folder).save_frame(0, _points((10, 10)))
    (folder / "frames" / "frame-0007.csv").write_text("frame,y,x,score,source\n7,5,5,,added\n")  # not of this image
    (folder / "state.json").write_text('{"version": 2, "n_fr')
    with pytest.warns(UserWarning, match="rebuilt from the project's files"):
        _open(folder).accept_frame(1, _points((20, 20)))  # writes the state: refused at the next reading before
    with pytest.warns(UserWarning, match="frame 7 is beyond the 3 frames"):
        reopened = _open(folder)
        assert reopened.edited_frames == [0] and reopened.reviewed_frames == [1] and reopened.saved_frames() == [0, 1]
    assert not any("state.json" in problem for problem in reopened.problems)
