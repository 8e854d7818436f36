"""Beads pasted (Ctrl+C, Ctrl+V) into a chains table opened with the plugin's reader: each pasted bead became a chain
of its own, while the Rods and chains dock keeps a pasted run of beads as a renumbered copy of its chain. Pasted, they
are a copy of their chain, still the user's (added, unscored, no measurement), and its path is drawn at once, as wide
as the others (napari drew a path beyond those the layer held 1 wide)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from helpers import press

PLUGIN = "napari-particle-detect"
CHAINS = {"y": [20.0, 20, 20, 50, 50], "x": [20.0, 26, 32, 20, 26], "score": 0.9, "chain": [0, 0, 0, 1, 1],
          "index": [0, 1, 2, 0, 1], "closed": 0, "source": "model", "particle": [1, 1, 1, 2, 2]}


def _pasted(make_napari_viewer, tmp_path, rows: set[int]) -> tuple:
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((80, 80), np.float32), name="img")
    pd.DataFrame(CHAINS).to_csv(tmp_path / "c.csv", index=False)
    beads, paths = viewer.open(str(tmp_path / "c.csv"), plugin=PLUGIN)
    viewer.layers.selection.active = beads
    beads.mode = "select"
    beads.selected_data = rows
    press(viewer, "Control-C", "Control-V")
    return beads, paths


def test_a_pasted_chain_stays_a_chain_of_the_users(make_napari_viewer, tmp_path):
    beads, paths = _pasted(make_napari_viewer, tmp_path, {0, 1, 2})
    copy = beads.features.iloc[5:]
    assert copy["chain"].tolist() == [2, 2, 2] and copy["index"].tolist() == [0, 1, 2]
    assert (copy["source"] == "added").all() and copy["score"].isna().all() and copy["particle"].isna().all()
    assert len(paths.data) == 3  # drawn at once: a paste sends no data event
    assert list(paths.edge_width) == [1.5, 1.5, 1.5]

    data = beads.data.copy()
    data[5:] += [40.0, 30.0]
    beads.data = data
    saved = pd.read_csv(beads.save(str(tmp_path / "saved.csv"), plugin=PLUGIN)[0], keep_default_na=False)
    pasted = saved[saved["y"] == 60.0]
    assert pasted["chain"].nunique() == 1 and pasted["index"].tolist() == [0, 1, 2]
    assert pasted["source"].tolist() == ["added"] * 3 and pasted["particle"].tolist() == [""] * 3
    assert (saved["source"] == "model").sum() == 5


def test_beads_pasted_from_two_chains_are_two_copies(make_napari_viewer, tmp_path):
    beads, paths = _pasted(make_napari_viewer, tmp_path, {1, 2, 3, 4})
    copy = beads.features.iloc[5:]
    assert copy["chain"].tolist() == [2, 2, 3, 3] and copy["index"].tolist() == [1, 2, 0, 1]
    assert len(paths.data) == 4
