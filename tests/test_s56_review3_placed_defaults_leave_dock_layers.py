"""The reader's hook that gives a table's Points layer its placed-point defaults back whenever its selection empties
(layers.keep_placed_defaults_in) acted on the Rods and chains dock's beads layer too (it carries READ_ROW as a table
read does), once any table had been opened in the viewer: the dock, which marks the beads placed in its layer
itself, shared the layer's defaults with a second owner there and nowhere else (mark_added leaves its layers alone)."""

import numpy as np
import pandas as pd
import pytest

PLUGIN = "napari-particle-detect"
pytestmark = pytest.mark.usefixtures("project_home")


def test_the_readers_hook_leaves_the_defaults_of_a_layer_a_dock_listens_to(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    pd.DataFrame({"frame": [0], "y": [5.0], "x": [5.0], "score": [0.9], "source": ["model"]}).to_csv(
        tmp_path / "other.csv", index=False)
    viewer.open(str(tmp_path / "other.csv"), plugin=PLUGIN)  # the reader's hook is in this viewer from now on
    viewer.add_image(np.zeros((80, 80), np.float32), name="img")
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    widget.kind_combo.setCurrentText("chains")
    session = widget.session
    session.set_detections(pd.DataFrame({"frame": 0, "y": [20.0, 20, 20], "x": [20.0, 26, 32], "score": 0.9,
                                         "chain": 0, "index": [0, 1, 2], "closed": 0, "source": "model"}), [0])
    beads = session.main_layer
    beads.selected_data = {1}  # napari makes the selected bead's features the defaults
    written = []
    beads.events.feature_defaults.connect(written.append)
    beads.selected_data = set()
    assert written == [], "the reader's hook wrote the defaults of the dock's beads layer"

    beads.add([60.0, 60.0])  # the dock alone marks a bead placed, not a copy of the one selected last
    placed = beads.features.iloc[-1]
    assert placed["source"] == "added" and np.isnan(placed["score"]) and placed["chain"] != 0
