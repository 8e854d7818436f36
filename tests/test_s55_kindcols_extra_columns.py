"""A rods or chains table's own extra columns (a user's measurements, trackpy's particle ids, physical positions,
notes) opened in napari as the plugin's layers and saved back with File > Save: they were dropped unsaid. And a
bead placed while one bead was selected took that bead's chain, index and score (napari copies the selected
point's features into a new one): saved, it sat inside that chain as the model's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.kinds.registry import write_kind_table
from napari_particle_detect.synthetic.rods import rod_table

PLUGIN = "napari-particle-detect"


def _rods_csv(path) -> pd.DataFrame:
    """Eight rods, enough for the physical columns of those left in place to say the map (0.5 um a pixel)."""
    n = 8
    y, x = np.linspace(10.0, 70.0, n), np.linspace(12.0, 66.0, n)[::-1]
    geometry = rod_table(y, x, np.linspace(0.0, 150.0, n), np.full(n, 10.0), np.full(n, 4.0))
    table = pd.concat([pd.DataFrame({"frame": [0] * (n - 1) + [1]}), geometry], axis=1).assign(
        score=np.linspace(0.9, 0.2, n), source="model", intensity=np.arange(n) + 1.5, y_um=y * 0.5, x_um=x * 0.5,
        particle=np.arange(n), note=list("abcdefgh"))
    write_kind_table(table, path, "rods")
    return pd.read_csv(path)


def _chains_csv(path) -> pd.DataFrame:
    table = pd.DataFrame({"frame": [0, 0, 0, 0, 1], "y": [10.0, 10, 10, 40, 20], "x": [10.0, 16, 22, 40, 20],
                          "score": [0.9, 0.8, 0.7, 0.6, 0.5], "chain": [0, 0, 0, 1, 0], "index": [0, 1, 2, 0, 0],
                          "closed": 0, "source": "model", "intensity": [1.25, 2.5, 3.5, 4.5, 5.5],
                          "particle": [7, 7, 7, 8, 9], "note": ["p", "q", "r", "s", "t"]})
    write_kind_table(table, path, "chains")
    return pd.read_csv(path)


def _open(viewer, path) -> list:
    viewer.add_image(np.zeros((2, 80, 80), np.float32), name="img")
    # The tables' `particle` column (trackpy's) also draws a Tracks layer: the rods or beads and paths are these.
    return [layer for layer in viewer.open(str(path), plugin=PLUGIN) if type(layer).__name__ != "Tracks"]


@pytest.mark.parametrize("kind", ["rods", "chains"])
def test_a_table_opened_and_saved_unchanged_is_the_same_file_extra_columns_and_all(make_napari_viewer, tmp_path,
                                                                                   kind):
    path = tmp_path / "tab.csv"
    (_rods_csv if kind == "rods" else _chains_csv)(path)
    layer = _open(make_napari_viewer(), path)[0]
    saved = tmp_path / "saved.csv"
    layer.save(str(saved), plugin=PLUGIN)
    assert saved.read_text() == path.read_text()


def test_a_rods_extra_columns_follow_their_rods_through_edits(make_napari_viewer, tmp_path):
    before = _rods_csv(tmp_path / "rods.csv")
    [layer] = _open(make_napari_viewer(), tmp_path / "rods.csv")
    layer.selected_data = {0}
    layer.remove_selected()  # rod 'a' deleted: its values go with it
    lines = [np.array(line) for line in layer.data]
    lines[0][:, -1] += 4.0  # rod 'b' moved 4 px right: its x_um follows, its measurements stay
    layer.data = lines
    layer.add_lines(np.array([[0, 60.0, 10.0], [0, 60.0, 30.0]]))  # a rod drawn: nothing measured yet
    saved = pd.read_csv(layer.save(str(tmp_path / "saved.csv"), plugin=PLUGIN)[0], keep_default_na=False,
                        na_values=[""])
    assert list(saved["note"].fillna("")) == [*"bcdefgh", ""]
    assert list(saved["intensity"].iloc[:-1]) == list(before["intensity"].iloc[1:])
    assert np.isnan(saved["intensity"].iloc[-1]) and np.isnan(saved["particle"].iloc[-1])
    # The moved rod's x_um comes from its unrounded tips (the CSV's x has 3 decimals): a pixel's rounding times 0.5.
    assert saved["x_um"].tolist() == pytest.approx([(before["x"].iloc[1] + 4) * 0.5, *before["x_um"].iloc[2:], 10.0],
                                                   abs=1e-3)
    assert saved["y_um"].tolist() == pytest.approx([*before["y_um"].iloc[1:], 30.0], abs=1e-3)


def test_a_chains_extra_columns_follow_their_beads_and_a_deleted_beads_go(make_napari_viewer, tmp_path):
    _chains_csv(tmp_path / "chains.csv")
    beads = _open(make_napari_viewer(), tmp_path / "chains.csv")[0]
    beads.selected_data = {3}  # the lone bead of chain 1, note 's'
    beads.remove_selected()
    saved = pd.read_csv(beads.save(str(tmp_path / "saved.csv"), plugin=PLUGIN)[0])
    assert list(saved["note"]) == ["p", "q", "r", "t"]
    assert list(saved["particle"]) == [7, 7, 7, 9] and list(saved["intensity"]) == [1.25, 2.5, 3.5, 5.5]


def test_a_bead_placed_with_a_bead_selected_is_added_not_a_copy_of_it(make_napari_viewer, tmp_path):
    _chains_csv(tmp_path / "chains.csv")
    beads = _open(make_napari_viewer(), tmp_path / "chains.csv")[0]
    beads.selected_data = {1}  # chain 0's middle bead, as a click on it leaves it
    beads.add([0, 60.0, 60.0])
    saved = pd.read_csv(beads.save(str(tmp_path / "saved.csv"), plugin=PLUGIN)[0])
    placed = saved[(saved["y"] == 60.0) & (saved["x"] == 60.0)].iloc[0]
    assert placed["source"] == "added" and np.isnan(placed["score"]) and np.isnan(placed["intensity"])
    assert (saved["chain"] == placed["chain"]).sum() == 1  # a chain of its own
    chain0 = saved[(saved["frame"] == 0) & (saved["chain"] == 0)]
    assert list(chain0["x"]) == [10.0, 16.0, 22.0] and list(chain0["note"]) == ["p", "q", "r"]
