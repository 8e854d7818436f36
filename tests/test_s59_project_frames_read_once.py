"""A project reads a frame's file once while it stays as read: the docks read every saved frame on many a refresh
(10 ms a frame through pandas). Whatever changes the file (a save here or in another window, an edit in place by
another program) is read again, and what a caller does to the table it got never reaches the next reader."""

import os

import numpy as np
import pandas as pd

from napari_particle_detect.projects import project as project_module
from napari_particle_detect.projects.project import Project


def _table(frame: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(frame + n)
    return pd.DataFrame({"frame": frame, "y": rng.uniform(0, 60, n), "x": rng.uniform(0, 60, n),
                         "score": rng.uniform(0.3, 1, n), "source": "model"})


def _counting_reads(monkeypatch) -> list:
    reads = []
    read = project_module.read_centres
    monkeypatch.setattr(project_module, "read_centres", lambda path, *a, **k: reads.append(path) or read(path, *a, **k))
    return reads


def test_a_frame_is_read_once_until_its_file_changes(tmp_path, monkeypatch):
    reads = _counting_reads(monkeypatch)
    project = Project.open(tmp_path / "img.tif", n_frames=3)
    project.save_frame(0, _table(0, 5))
    project.save_frame(2, _table(2, 4))
    first = project.load_all()
    again = project.load_all()
    assert len(reads) == 2 and len(first) == 9
    pd.testing.assert_frame_equal(first, again)

    mine = project.load_frame(0)
    assert mine[["y", "x"]].to_numpy().flags.writeable  # as read: napari's layers write into the arrays given
    mine.loc[:, "y"] = -1.0  # a caller's own copy
    assert (project.load_frame(0)["y"] >= 0).all()

    other_window = Project.open(tmp_path / "img.tif")
    other_window.save_frame(0, _table(0, 3))
    assert len(project.load_frame(0)) == 3  # saved elsewhere: read again

    path = project.frame_path(0)
    text = path.read_text()
    before = os.stat(path)
    with open(path, "r+") as file:  # edited in place, same length, same inode (an editor writing over the file)
        file.write(text.replace("model", "added", 1))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # even keeping the time it had
    assert list(project.load_frame(0)["source"]).count("added") == 1


def test_the_frames_kept_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(project_module, "READ_FRAMES_KEPT_ROWS", 10)
    reads = _counting_reads(monkeypatch)
    project = Project.open(tmp_path / "img.tif", n_frames=4)
    for frame in range(4):
        project.save_frame(frame, _table(frame, 4))
    project.load_all()
    project.load_all()
    assert len(reads) == 8  # 16 centres never fit in 10: each frame read each time
    assert sum(rows for _, _, rows in project._read_frames.values()) <= 10
