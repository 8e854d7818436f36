"""The reader's work done once and where it belongs: a 2D table's physical columns were fitted twice over every row
(once to say how it is drawn, once for the layer), and building a chains table's layer data (the Rods and chains
dock's redraw too) hooked the current viewer's layer list, a side effect of a data function."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect._napari import kind_layers, layers, reader
from napari_particle_detect.files.centre_csv import write_centres

PLUGIN = "napari-particle-detect"


@pytest.mark.parametrize("over", ["pixels", "none"])
def test_a_2d_tables_physical_columns_are_fitted_once(make_napari_viewer, tmp_path, monkeypatch, over):
    y, x = np.linspace(5.0, 70.0, 6), np.linspace(8.0, 60.0, 6)
    write_centres(pd.DataFrame({"frame": 0, "y": y, "x": x, "score": 0.9, "source": "model", "y_um": y * 0.5,
                                "x_um": x * 0.5}), tmp_path / "t.csv")
    viewer = make_napari_viewer()
    if over == "pixels":
        viewer.add_image(np.zeros((80, 80), np.float32), name="t")
    fits = []
    fit = reader.physical_placement
    monkeypatch.setattr(reader, "physical_placement", lambda table: fits.append(len(table)) or fit(table))
    [points] = viewer.open(str(tmp_path / "t.csv"), plugin=PLUGIN)
    assert fits == [6]
    assert tuple(points.scale[-2:]) == ((1.0, 1.0) if over == "pixels" else (0.5, 0.5))
    if over == "pixels":  # the map found once is the one kept for File > Save
        assert layers.kept_physical(points.metadata)["placement"].scale == (0.5, 0.5)


def test_chains_layer_data_leaves_the_viewer_alone(make_napari_viewer):
    viewer = make_napari_viewer()
    table = pd.DataFrame({"frame": 0, "y": [20.0, 20.0], "x": [20.0, 26.0], "score": 0.9, "chain": 0,
                          "index": [0, 1], "closed": 0, "source": "model"})
    kind_layers.chain_layers_data(table, "c")
    hooked = [callback for callback in viewer.layers.events.inserted.callbacks
              if callback is kind_layers._pair_paths_with_beads]
    assert not hooked
