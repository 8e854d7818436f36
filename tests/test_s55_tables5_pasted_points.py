"""Tables opened with the plugin's reader, edited with napari's copy and paste (Ctrl+C, Ctrl+V), saved with File >
Save: a paste sends no data event, so a pasted point kept the copied point's features; copy a model point, paste it,
move it, delete the original (another way to move a point), and it was saved as the model's, with its score and
measurements. napari 0.9.2 pastes points into 2D layers only (in a stack its paste fails)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import kinds_dock, press, small_stack

from napari_particle_detect.projects.kinds_project import load_kind_frame

PLUGIN = "napari-particle-detect"
CHAIN = {"y": [20.0, 20, 20, 50, 50], "x": [20.0, 26, 32, 20, 26], "score": 0.9, "chain": [0, 0, 0, 1, 1],
         "index": [0, 1, 2, 0, 1], "closed": 0, "source": "model", "particle": [1, 1, 1, 2, 2]}


def _open(viewer, path, rows: dict) -> list:
    pd.DataFrame(rows).to_csv(path, index=False)
    viewer.add_image(np.zeros((80, 80), np.float32), name="img")
    return viewer.open(str(path), plugin=PLUGIN)


def _copy_and_paste(viewer, layer, rows: set[int]) -> None:
    viewer.layers.selection.active = layer
    layer.mode = "select"
    layer.selected_data = rows
    press(viewer, "Control-C", "Control-V")


def _moved_and_originals_deleted(layer, originals: set[int], by: list[float]) -> None:
    data = layer.data.copy()
    data[len(data) - len(originals):] += by
    layer.data = data
    layer.selected_data = originals
    layer.remove_selected()


def _saved(layer, path) -> pd.DataFrame:
    return pd.read_csv(layer.save(str(path), plugin=PLUGIN)[0], keep_default_na=False)


def test_a_point_pasted_then_its_original_deleted_is_saved_as_added(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    [points] = _open(viewer, tmp_path / "s.csv", {"y": [10.0, 30.0], "x": [10.0, 30.0], "score": [0.9, 0.8],
                                                  "source": "model", "area": [5.0, 6.0]})
    _copy_and_paste(viewer, points, {0, 1})
    _moved_and_originals_deleted(points, {0, 1}, [20.0, 20.0])
    saved = _saved(points, tmp_path / "saved.csv")
    assert saved[["y", "x", "score", "source", "area"]].values.tolist() == [
        [30.0, 30.0, "", "added", ""], [50.0, 50.0, "", "added", ""]]


def test_beads_pasted_then_their_originals_deleted_are_saved_as_added(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    beads, _paths = _open(viewer, tmp_path / "c.csv", CHAIN)
    _copy_and_paste(viewer, beads, {3, 4})
    _moved_and_originals_deleted(beads, {3, 4}, [10.0, 30.0])
    saved = _saved(beads, tmp_path / "saved.csv")
    pasted = saved[saved["y"] == 60.0]
    assert pasted["source"].tolist() == ["added", "added"] and pasted["score"].tolist() == ["", ""]
    assert pasted["particle"].tolist() == ["", ""] and (saved["source"] == "model").sum() == 3


@pytest.mark.usefixtures("project_home")
def test_the_chains_docks_pasted_beads_stay_a_copy_of_their_chain_once_a_table_was_read(make_napari_viewer,
                                                                                        tmp_path):
    viewer = make_napari_viewer()
    _open(viewer, tmp_path / "c.csv", CHAIN)  # the reader's hooks now hear this viewer's layers
    viewer.add_image(small_stack(1, 64)[0], name="beads")
    session = kinds_dock(viewer, "chains", "beads").session
    session.set_detections(pd.DataFrame({"frame": 0, "y": 20.0, "x": [10.0, 16.0, 22.0], "chain": 0,
                                         "index": [0, 1, 2], "closed": 0, "score": 0.9}), [0])
    _copy_and_paste(viewer, session.main_layer, {0, 1, 2})
    saved = load_kind_frame(session.project, 0)
    assert saved.groupby("chain")["index"].apply(list).tolist() == [[0, 1, 2], [0, 1, 2]]
    assert saved[saved["source"] == "added"]["chain"].nunique() == 1
