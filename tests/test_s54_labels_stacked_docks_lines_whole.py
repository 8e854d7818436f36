"""Every status and note line of the three stacked docks is shown whole at 1600x1000: the volume dock's Review (3D)
status ("exported to …") was squeezed to a sliver over its buttons, and its Fine-tune (3D) lines and the spheres
dock's Fine-tune status cut through their words, Qt giving a wrapped QLabel no more than its one-width guess of a
height in a crowded dock."""

import numpy as np
import pytest
from qtpy.QtWidgets import QApplication

pytestmark = pytest.mark.usefixtures("project_home")
DOCKS = ("Particle detection", "Rods and chains", "Volume detection (3D)")
# About two lines at a stacked dock's width, as an export's or a round's sentence is.
SAID = ("exported to /home/someone/experiments/2024-05-17 beads in gel/volume_stack_0042.particle-detect/"
        "centres of volume 0.csv, with 123 centres and their scores")
LINES = {  # (dock, path to the label)
    "Particle detection": ("finetune.status", "detect.estimate_warning", "detect.rounds_note",
                           "detect.elsewhere_note"),
    "Rods and chains": ("status", "image_note"),
    "Volume detection (3D)": ("status", "axes_note", "review_panel.status", "round_panel.status",
                              "round_panel.rounds_label"),
}


def _label(dock, path):
    for name in path.split("."):
        dock = getattr(dock, name)
    return dock


def _cut(label) -> bool:
    return label.isVisible() and bool(label.text()) and label.height() < label.heightForWidth(label.width())


def test_status_lines_of_three_stacked_docks_are_whole(make_napari_viewer):
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1600, 1000)
    viewer.add_image(np.random.default_rng(0).random((96, 96)).astype(np.float32), name="plane")
    viewer.add_image(np.random.default_rng(1).random((12, 48, 48)).astype(np.float32), name="volume")
    docks = {name: viewer.window.add_plugin_dock_widget("napari-particle-detect", name)[1] for name in DOCKS}
    labels = {f"{dock}: {path}": _label(docks[dock], path) for dock, paths in LINES.items() for path in paths}
    for label in labels.values():
        label.setText(SAID)
        label.setVisible(True)
    for _ in range(5):
        QApplication.processEvents()
    assert not [name for name, label in labels.items() if _cut(label)]
