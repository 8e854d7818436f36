"""A chains table the user opened under the names of the Rods and chains dock's layers (IMAGE.csv, the name training
reads beside its image) is set aside (renamed, kept with its edits) and hidden: left shown under the dock's own beads
and paths of the image, the user saw two sets of chains."""

import numpy as np
import pandas as pd
import tifffile

from napari_particle_detect.kinds.registry import write_kind_table
from napari_particle_detect.projects.kinds_project import open_kind_project, save_kind_frame

from helpers import kinds_dock, notification_count, notifications_since

PLUGIN = "napari-particle-detect"


def test_a_table_set_aside_under_the_docks_layers_is_hidden(make_napari_viewer, project_home, tmp_path):
    path, pixels = tmp_path / "img.tif", np.zeros((64, 64), np.uint16)
    tifffile.imwrite(path, pixels)
    beads = pd.DataFrame({"frame": 0, "y": [10.0, 20.0, 30.0], "x": [10.0, 12.0, 14.0], "score": 0.9,
                          "chain": 0, "index": [0, 1, 2], "closed": 0, "source": "model"})
    save_kind_frame(open_kind_project("chains", path, "img", pixels), 0, beads)  # a dock closed before kept them
    write_kind_table(beads, tmp_path / "img.csv", "chains")
    viewer = make_napari_viewer()
    viewer.open(path)
    viewer.open(tmp_path / "img.csv", plugin=PLUGIN)
    opened = [viewer.layers["img beads"], viewer.layers["img chains"]]
    assert all(layer.visible for layer in opened)

    seen = notification_count()
    widget = kinds_dock(viewer, "chains", "img")
    mine = widget.session.main_layer
    assert mine is viewer.layers["img beads"] and mine not in opened and mine.visible
    assert [layer.name for layer in opened] == ["img beads [1]", "img chains [1]"]
    assert all(layer in viewer.layers for layer in opened)  # what the user opened stays, with its edits
    assert not any(layer.visible for layer in opened)  # shown, its beads and paths doubled the dock's
    assert any("hidden" in m and "img beads [1]" in m for m in notifications_since(seen))
