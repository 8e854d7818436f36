"""A chains table opened with File > Open under the names the Rods and chains dock gives its layers (IMAGE.csv over a
stack IMAGE): the dock refilled those layers with its project's beads at its first draw, so the table's rows and the
edits made in them since were gone from the viewer, unsaid."""

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.kinds.registry import write_kind_table

PLUGIN = "napari-particle-detect"
pytestmark = pytest.mark.usefixtures("project_home")


def test_the_dock_keeps_an_opened_table_of_its_layers_names_with_its_edits(make_napari_viewer, tmp_path):
    table = pd.DataFrame({"frame": 0, "y": [20.0, 20, 20, 50, 50], "x": [20.0, 26, 32, 20, 26], "score": 0.9,
                          "chain": [0, 0, 0, 1, 1], "index": [0, 1, 2, 0, 1], "closed": 0, "source": "model",
                          "track": [1, 1, 1, 2, 2]})
    write_kind_table(table, tmp_path / "img.csv", "chains")
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((2, 80, 80), np.float32), name="img")
    opened, paths = viewer.open(str(tmp_path / "img.csv"), plugin=PLUGIN)
    opened.add([0, 70.0, 70.0])  # the user's edit, not saved yet
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    widget.kind_combo.setCurrentText("chains")
    session = widget.session
    session.set_detections(table.drop(columns="track").iloc[:3], [0])

    assert session.main_layer is not opened and session.main_layer.name == "img beads"
    assert len(session.main_layer.data) == 3
    assert (opened.name, paths.name) == ("img beads [1]", "img chains [1]")
    assert opened in viewer.layers and paths in viewer.layers
    assert len(opened.data) == 6 and list(opened.features["track"].iloc[:5]) == [1, 1, 1, 2, 2]
