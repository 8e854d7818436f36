"""The Rods and chains dock removes the layers of an image or kind it leaves (another kind, another image, its X),
and its project brings them back. It used to empty, hide and lock them in place ("parked", a work-around of a
napari crash on layer removal under software OpenGL, since guarded by layers.guard_canvas_from_removed_layers):
the layer list filled with layers that showed nothing, took no edit, and came back under names of images gone."""

import numpy as np
import pandas as pd
import pytest

from helpers import kinds_dock
from napari_particle_detect.synthetic.rods import rod_table

pytestmark = pytest.mark.usefixtures("project_home")


def one_rod() -> pd.DataFrame:
    return rod_table([24.0], [24.0], [0.0], [20.0], [4.0]).assign(frame=0, score=0.9)


def one_chain() -> pd.DataFrame:
    return pd.DataFrame({"frame": 0, "y": [10.0, 10.0, 10.0], "x": [10.0, 20.0, 30.0], "score": 0.9, "chain": 0,
                         "index": [0, 1, 2], "closed": 0, "source": "model"})


def names(viewer) -> list[str]:
    return [layer.name for layer in viewer.layers]


def test_switching_kind_removes_the_other_kinds_layers_and_brings_them_back(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(np.random.default_rng(0).random((48, 48)).astype(np.float32), name="img")
    widget = kinds_dock(viewer, "rods", "img")
    widget.session.set_detections(one_rod(), [0])
    widget.session.accept_region(0, (0.0, 0.0, 30.0, 30.0))

    widget.kind_combo.setCurrentText("chains")
    assert names(viewer) == ["img"]  # no empty, hidden, locked 'img rods' left behind
    widget.session.set_detections(one_chain(), [0])
    assert names(viewer) == ["img", "img beads", "img chains"]

    widget.kind_combo.setCurrentText("rods")
    assert names(viewer) == ["img", "img rods", "img rods reviewed regions"]
    rods = viewer.layers["img rods"]
    assert rods.visible and rods.editable and rods.nshapes == 1
    assert viewer.layers["img rods reviewed regions"].nshapes == 1
    rods.add_lines(np.array([[5.0, 5.0], [5.0, 25.0]]))  # the layer brought back is heard: its edit is saved
    assert len(widget.session.project.load_frame(0)) == 2


def test_the_docks_x_removes_its_layers_and_reopened_it_brings_them_back(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.add_image(np.random.default_rng(0).random((48, 48)).astype(np.float32), name="img")
    widget = kinds_dock(viewer, "chains", "img")
    qtbot.waitUntil(lambda: widget._watched_window is not None)  # shown in its window, it hears its X
    widget.session.set_detections(one_chain(), [0])
    viewer.window.remove_dock_widget(widget)
    qtbot.waitUntil(lambda: widget.closed)
    assert names(viewer) == ["img"]

    widget = kinds_dock(viewer, "chains", "img")
    assert names(viewer) == ["img", "img beads", "img chains"]
    assert len(viewer.layers["img beads"].data) == 3 and viewer.layers["img chains"].nshapes == 1
