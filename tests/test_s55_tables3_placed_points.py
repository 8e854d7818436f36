"""A point placed with napari's add tool in a centres or chains table opened with File > Open and saved with File >
Save: napari gives a new point the features of the one point selected, and a spheres table saved it as the model's,
scored and measured as that point (``0,50,50,0.900,model,5.0``); and after the selected point (or bead) was deleted,
napari still gave the next one placed its features: a bead joined the deleted bead's chain at its place."""

from __future__ import annotations

import numpy as np
import pandas as pd

from napari_particle_detect.files.centre_csv import write_centres
from napari_particle_detect.kinds.registry import write_kind_table

PLUGIN = "napari-particle-detect"


def _spheres_csv(path) -> str:
    write_centres(pd.DataFrame({"frame": [0, 0], "y": [10.0, 30.0], "x": [10.0, 30.0], "score": [0.9, 0.8],
                                "source": "model", "area": [5.0, 6.0], "note": ["p", "q"]}), path)
    return path.read_text()


def _chains_csv(path) -> None:
    table = pd.DataFrame({"frame": 0, "y": [20.0, 20, 20, 50, 50], "x": [20.0, 26, 32, 20, 26], "score": 0.9,
                          "chain": [0, 0, 0, 1, 1], "index": [0, 1, 2, 0, 1], "closed": 0, "source": "model"})
    write_kind_table(table, path, "chains")


def _saved(layer, path) -> pd.DataFrame:
    return pd.read_csv(layer.save(str(path), plugin=PLUGIN)[0])


def _open(viewer, path) -> list:
    viewer.add_image(np.zeros((2, 80, 80), np.float32), name="img")
    return viewer.open(str(path), plugin=PLUGIN)


def test_a_point_placed_with_a_model_point_selected_is_saved_as_added(make_napari_viewer, tmp_path):
    written = _spheres_csv(tmp_path / "s.csv")
    [points] = _open(make_napari_viewer(), tmp_path / "s.csv")
    assert points.save(str(tmp_path / "same.csv"), plugin=PLUGIN)
    assert (tmp_path / "same.csv").read_text() == written  # unchanged: the same file, no bookkeeping column
    points.selected_data = {0}
    points.add([0, 50.0, 50.0])
    saved = _saved(points, tmp_path / "saved.csv")
    assert list(saved.columns) == ["frame", "y", "x", "score", "source", "area", "note"]
    placed = saved.iloc[-1]
    assert (placed["y"], placed["x"], placed["source"]) == (50.0, 50.0, "added")
    assert np.isnan(placed["score"]) and np.isnan(placed["area"]) and pd.isna(placed["note"])
    assert list(saved["source"].iloc[:2]) == ["model", "model"] and list(saved["area"].iloc[:2]) == [5.0, 6.0]


def test_a_point_placed_after_the_selected_one_was_deleted_is_added(make_napari_viewer, tmp_path):
    _spheres_csv(tmp_path / "s.csv")
    [points] = _open(make_napari_viewer(), tmp_path / "s.csv")
    points.selected_data = {0}
    points.remove_selected()
    points.add([0, 60.0, 60.0])
    saved = _saved(points, tmp_path / "saved.csv")
    assert list(saved["source"]) == ["model", "added"] and list(saved["area"].fillna(-1)) == [6.0, -1]


def test_a_bead_placed_after_the_selected_bead_was_deleted_is_a_chain_of_its_own(make_napari_viewer, tmp_path):
    _chains_csv(tmp_path / "c.csv")
    beads, _paths = _open(make_napari_viewer(), tmp_path / "c.csv")
    beads.selected_data = {1}  # chain 0's middle bead
    beads.remove_selected()
    beads.add([0, 70.0, 70.0])
    saved = _saved(beads, tmp_path / "saved.csv")
    placed = saved[(saved["y"] == 70.0) & (saved["x"] == 70.0)].iloc[0]
    assert placed["source"] == "added" and np.isnan(placed["score"])
    assert (saved["chain"] == placed["chain"]).sum() == 1
    # The deleted bead's neighbours, 12 px apart, no longer touch: each a chain of its own, neither with the placed one.
    assert sorted(saved[saved["source"] == "model"]["x"].tolist()) == [20.0, 20.0, 26.0, 32.0]
