"""A rods project with one frame file cut short (a crash mid-write, a full disk): the Rods and chains dock refused to
open the whole project over it (no session, no other frame's rods), and said nothing of what it had left out."""

import warnings

import numpy as np
import pandas as pd
import pytest

from helpers import kinds_dock, notification_count, notifications_since
from napari_particle_detect.projects.kinds_project import open_kind_project, save_kind_frame

pytestmark = pytest.mark.usefixtures("project_home")

ROD = {"y": [20.0], "x": [20.0], "angle": [0.3], "length": [20.0], "width": [4.0], "score": [0.6],
       "source": ["model"]}


def test_a_cut_short_frame_is_left_out_and_said_once(make_napari_viewer):
    data = np.random.default_rng(0).random((2, 48, 48)).astype(np.float32)
    project = open_kind_project("rods", name="img", data=data)
    for frame in (0, 1):
        save_kind_frame(project, frame, pd.DataFrame(ROD))
    path = project.frame_path(0)
    path.write_bytes(path.read_bytes()[:-4])  # its last line incomplete

    viewer = make_napari_viewer()
    viewer.add_image(data, name="img")
    viewer.add_image(np.zeros((48, 48), np.float32), name="other")
    seen = notification_count()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the project's own warning of the problem
        widget = kinds_dock(viewer, "rods", "img")
        assert sorted(widget.session.tables) == [1]
        shapes = viewer.layers["img rods"]
        assert len(shapes.data) == 1 and shapes.data[0][0][0] == 1  # frame 1's rod, drawn
        widget.image_combo.setCurrentText("other")
        widget.image_combo.setCurrentText("img")  # opened again: the same problem, not said again
    said = [m for m in notifications_since(seen) if " problem: " in m]
    assert said == [f"{project.folder.name}: 1 problem: {path}: truncated: its last line is incomplete "
                    "(frame 0 left out)"]
