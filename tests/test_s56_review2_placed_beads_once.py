"""A bead placed in the Rods and chains dock's beads layer is the dock's to mark. Once any table had been read in the
viewer, the reader's hook (layers.keep_placed_defaults_in) marked it too, since the dock's beads carry read_row as a
table's do: two handlers of one placement, in no set order, each setting the layer's features."""

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.kinds.registry import write_kind_table

PLUGIN = "napari-particle-detect"
pytestmark = pytest.mark.usefixtures("project_home")


def _beads() -> pd.DataFrame:
    return pd.DataFrame({"frame": 0, "y": [20.0, 20, 20, 50, 50], "x": [20.0, 26, 32, 20, 26], "score": 0.9,
                         "chain": [0, 0, 0, 1, 1], "index": [0, 1, 2, 0, 1], "closed": 0, "source": "model"})


def _features_set_by_placing(viewer, tmp_path, table_read: bool) -> tuple[int, pd.DataFrame]:
    """How often placing a bead (with one selected) set the dock's beads layer's features, and the frame saved."""
    if table_read:  # from now on the reader's hook listens to every Points layer inserted with read_row
        write_kind_table(_beads(), tmp_path / "other.csv", "chains")
        viewer.open(str(tmp_path / "other.csv"), plugin=PLUGIN)
    viewer.add_image(np.zeros((2, 80, 80), np.float32), name="img")
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    widget.kind_combo.setCurrentText("chains")
    widget.image_combo.setCurrentText("img")
    session = widget.session
    session.set_detections(_beads(), [0])
    beads = session.main_layer
    set_times = []
    beads.events.features.connect(lambda _event: set_times.append(1))
    beads.selected_data = {1}
    beads.add([0, 60.0, 60.0])
    return len(set_times), session.tables[0]


def test_a_bead_placed_in_the_docks_layer_is_marked_by_the_dock_alone(make_napari_viewer, tmp_path):
    alone, _ = _features_set_by_placing(make_napari_viewer(), tmp_path, table_read=False)
    after_a_read, saved = _features_set_by_placing(make_napari_viewer(), tmp_path, table_read=True)
    assert after_a_read == alone
    placed = saved[(saved["y"] == 60.0) & (saved["x"] == 60.0)].iloc[0]
    assert (placed["source"], pd.isna(placed["score"]), placed["index"]) == ("added", True, 0)
    assert (saved["chain"] == placed["chain"]).sum() == 1  # a chain of its own, not bead 1's chain
