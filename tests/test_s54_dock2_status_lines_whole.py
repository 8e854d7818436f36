"""Every dock's status lines are shown whole when the three docks are stacked in one window: the Rods and chains
dock's Review status ("frame 0: not reviewed · reviewed so far … · project …") was drawn cut through the middle of
its words, Qt giving a wrapped label only its one-width guess of a height in a crowded dock."""

import numpy as np
import pytest
from qtpy.QtWidgets import QApplication

pytestmark = pytest.mark.usefixtures("project_home")
DOCKS = ("Particle detection", "Rods and chains", "Volume detection (3D)")


def _cut(label) -> bool:
    return label.isVisible() and bool(label.text()) and label.height() < label.heightForWidth(label.width())


def test_status_lines_of_stacked_docks_are_whole(make_napari_viewer):
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1200, 800)
    viewer.add_image(np.random.default_rng(0).random((96, 96)).astype(np.float32), name="a rather long image name")
    docks = {name: viewer.window.add_plugin_dock_widget("napari-particle-detect", name)[1] for name in DOCKS}
    for _ in range(5):
        QApplication.processEvents()
    kinds, spheres = docks["Rods and chains"], docks["Particle detection"]
    assert "reviewed so far" in kinds.review.status.text()
    lines = {"rods review status": kinds.review.status, "rods hint": kinds.review.hint,
             "project line": spheres.project_label, "review status": spheres.review.status}
    assert not [name for name, label in lines.items() if _cut(label)]
