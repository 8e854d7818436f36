"""Projects made before state.json recorded which frames hold edits (its "edited" key, Dec 6): their users'
edits are found in the frame files, recorded once, and a Detect over them keeps them one undo away."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile
from filelock import FileLock

from napari_particle_detect.projects.project import Project, project_folder_for_image

from helpers import make_widget, notification_count, notifications_since, run_detect, small_stack

pytestmark = pytest.mark.usefixtures("project_home")

SHAPE = (64, 64)
REGION = [0.0, 0.0, 32.0, 32.0]  # frame 1's accepted box
NETWORK = [(12.0, 40.0), (45.0, 12.0), (50.0, 50.0)]  # network points, all outside REGION


def _rows(frame: int, centres, source: str, score: float | None = 0.9) -> list[dict]:
    return [{"frame": frame, "y": y, "x": x, "score": np.nan if score is None else score, "source": source}
            for y, x in centres]


def _older_project(folder: Path, image: str, n_frames: int) -> dict[int, pd.DataFrame]:
    """A project as version 3d6af4f (Dec 3) left it, written as it wrote one: state.json without "edited",
    "fingerprint" or a backup; frames/frame-NNNN.csv of frame,y,x,score,source at 3 decimals, where a point
    placed by hand is 'added' with no score and a deleted or dragged network point leaves no trace. Frame 0 is
    accepted whole with a point placed; frame 1 has an accepted box and one of its network points outside the
    box deleted; frame 2 a point placed; frame 3 (where there is one) is as detected. Returns the frames' tables."""
    tables = {
        0: _rows(0, NETWORK, "accepted") + _rows(0, [(20.0, 20.0)], "added", None),
        1: _rows(1, [(10.0, 10.0)], "accepted") + _rows(1, NETWORK[1:], "model"),
        2: _rows(2, NETWORK, "model") + _rows(2, [(30.5, 33.25)], "added", None),
        3: _rows(3, NETWORK, "model"),
    }
    tables = {frame: rows for frame, rows in tables.items() if frame < n_frames}
    (folder / "frames").mkdir(parents=True)
    for frame, rows in tables.items():
        (folder / "frames" / f"frame-{frame:04d}.csv").write_text(
            pd.DataFrame(rows).to_csv(index=False, float_format="%.3f"))
    state = {"version": 2, "image": image, "n_frames": n_frames, "frame_shape": list(SHAPE),
             "accepted": [{"frame": 0}, {"frame": 1, "box": REGION}], "rounds": [], "current_round": None,
             "diameter": 12.0, "polarity": "auto", "threshold": None, "kind": "spheres", "last_round": 0}
    (folder / "state.json").write_text(json.dumps(state, indent=2))
    (folder / ".lock").touch()
    return {frame: pd.DataFrame(rows) for frame, rows in tables.items()}


def test_an_older_projects_edits_are_found_in_its_frames_and_recorded_once(tmp_path):
    folder = tmp_path / "movie.particle-detect"
    _older_project(folder, str(tmp_path / "movie.tif"), n_frames=4)
    state_path = folder / "state.json"
    written_then = state_path.read_bytes()

    # Points placed by hand, and a frame reviewed in part (where deletions left no trace), hold edits; frame 3
    # is as detected. While another program holds the project they are found at each opening, not written.
    with FileLock(str(folder / ".lock")):
        assert Project.open(folder).edited_frames == [0, 1, 2]
        assert state_path.read_bytes() == written_then
    assert Project.open(folder).edited_frames == [0, 1, 2]
    assert json.loads(state_path.read_text())["edited"] == [0, 1, 2]
    assert (folder / "state.json.bak").read_bytes() == written_then  # as every change: the state before kept

    # Recorded once: frame 2's placed point deleted afterwards (another edit) leaves it edited.
    frame_2 = folder / "frames" / "frame-0002.csv"
    frame_2.write_text("".join(line for line in frame_2.read_text().splitlines(True) if "added" not in line))
    written = state_path.stat().st_ino
    assert Project.open(folder).edited_frames == [0, 1, 2]
    assert state_path.stat().st_ino == written


def test_detect_keeps_an_older_projects_unaccepted_edits_one_undo_away(make_napari_viewer, qtbot, tmp_path):
    movie = tmp_path / "movie.tif"
    tifffile.imwrite(movie, small_stack(3, SHAPE[0]))
    old = _older_project(project_folder_for_image(movie), str(movie), n_frames=3)
    viewer = make_napari_viewer()
    viewer.open(movie, plugin="napari")
    widget = make_widget(viewer, None)
    annotation = widget.annotation

    seen = notification_count()
    run_detect(widget, qtbot, scope=1)  # frames 1 and 2, the unreviewed ones
    said = notifications_since(seen)
    assert any("detected again over your edits on frames 1, 2:" in m for m in said), said
    assert "added" not in set(annotation.frame_table(2)["source"])
    for frame in (2, 1):  # the point placed, and the network point deleted outside the box, come back
        assert annotation.undo(frame)
        back = annotation.project.load_frame(frame)
        np.testing.assert_allclose(back[["y", "x"]], old[frame][["y", "x"]])
        assert list(back["source"]) == list(old[frame]["source"])
