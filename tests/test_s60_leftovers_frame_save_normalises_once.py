"""A frame save normalised the same table up to four times (save_frame_merging: on entry, in the merge, in
save_frame, in the write; an accept three times): once now, the merging save's second pass inside save_frame
finding the table normal already. What is written and returned is as before."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.files.centre_csv import read_centres
from napari_particle_detect.files.tables import normalise_table
from napari_particle_detect.projects import project as project_module
from napari_particle_detect.projects.project import Project


def _points(*yx, source="model"):
    return pd.DataFrame({"frame": 0.0, "y": [float(p[0]) for p in yx], "x": [float(p[1]) for p in yx],
                         "score": 0.9, "source": source})


@pytest.fixture
def calls(monkeypatch):
    made: list[bool] = []

    def counted(table, frame=None):
        out = normalise_table(table, frame)
        made.append(True)
        return out

    monkeypatch.setattr(project_module, "normalise_table", counted)
    return made


def test_each_frame_save_normalises_its_table_once_and_writes_what_it_did(tmp_path, calls):
    project = Project.open(tmp_path / "img.particle-detect", n_frames=3, frame_shape=(64, 64))
    project.save_frame(0, _points((10, 10), (20, 20)))
    assert len(calls) == 1
    calls.clear()
    saved = project.save_frame_merging(1, _points((30, 30)), None)
    assert len(calls) == 2  # on entry, and save_frame's check finding it normal (every edit goes through it)
    calls.clear()
    accepted = project.accept_frame_merging(1, saved.table, saved.snapshot())
    assert len(calls) == 1
    calls.clear()
    project.accept_region(2, (0, 0, 32, 32), _points((5, 5), (40, 40)))
    assert len(calls) == 1
    # As written before: frame 0 saved as given, normalised; accepted network points marked, the region's only.
    expected = normalise_table(_points((10, 10), (20, 20)), 0)
    pd.testing.assert_frame_equal(read_centres(project.frame_path(0)), expected, check_dtype=False)
    assert list(accepted.table["source"]) == ["accepted"] and accepted.table["frame"].dtype == np.dtype(int)
    assert list(read_centres(project.frame_path(2))["source"]) == ["accepted", "model"]
