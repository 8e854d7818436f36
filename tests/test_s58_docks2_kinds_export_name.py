"""The Rods and chains dock's Export CSV… suggested a file named after the layer as it is: a layer named "cells 1/2"
(renamed by hand, or "x<b>y</b>") was offered "cells 1/" as a folder that is not there. It is made fit for a file's
name as the Particle detection dock's Export makes it."""

from pathlib import Path

import numpy as np
from qtpy.QtWidgets import QFileDialog

from helpers import kinds_dock


def test_the_kinds_export_suggests_a_file_in_the_working_folder(make_napari_viewer, project_home, tmp_path,
                                                                 monkeypatch):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((48, 48), np.float32), name="cells 1/2")
    widget = kinds_dock(viewer, "rods", "cells 1/2")
    monkeypatch.chdir(tmp_path)
    suggested = []

    def cancelled(parent, caption, start, filters):  # the user looks at the name offered, then cancels
        suggested.append(Path(start))
        return "", ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(cancelled))
    assert widget.review.export() is None
    assert suggested and suggested[0].parent == tmp_path, suggested
    assert suggested[0].name == "cells_1_2.rods.csv"
