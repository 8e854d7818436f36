"""The Rods and chains dock opens over a chains table the user opened as IMAGE.csv (the name training reads beside
its image): the table's frame column made its layers 3D over the single 2D image, the dock refilled them with its
2D beads under the same names and raised, and the dock never opened again on an image it had detected."""

import numpy as np
import pandas as pd
import tifffile

from napari_particle_detect.kinds.registry import write_kind_table
from napari_particle_detect.synthetic.chains import benchmark_chain_config, synthesize_chains

PLUGIN = "napari-particle-detect"


def _chains_dock(viewer):
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    widget.kind_combo.setCurrentText("chains")
    return widget


def test_the_dock_opens_over_a_chains_table_opened_under_its_layers_names(make_napari_viewer, qtbot, project_home,
                                                                          tmp_path):
    sample = synthesize_chains(benchmark_chain_config("fluorescent", 0.2, shape=(64, 64)), seed=12)
    tifffile.imwrite(tmp_path / "img.tif", sample.image)
    beads = pd.DataFrame({"frame": 0, "y": [10.0, 20.0, 30.0], "x": [10.0, 12.0, 14.0], "score": 0.9,
                          "chain": 0, "index": [0, 1, 2], "closed": 0, "source": "accepted"})
    write_kind_table(beads, tmp_path / "img.csv", "chains")
    viewer = make_napari_viewer()
    viewer.open(tmp_path / "img.tif")
    widget = _chains_dock(viewer)
    widget.detect()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    viewer.window.remove_dock_widget(widget)  # its layers put away, its chains kept in the project
    viewer.open(tmp_path / "img.csv", plugin=PLUGIN)
    opened = viewer.layers["img beads"]
    assert opened.ndim == 3  # by frame, over the 2D image

    session = _chains_dock(viewer).session
    assert session is not None and session.main_layer is viewer.layers["img beads"]
    assert session.main_layer is not opened and session.main_layer.ndim == 2
    assert opened in viewer.layers and opened.name == "img beads [1]"  # what the user opened stays
    np.testing.assert_allclose(np.asarray(opened.data)[:, -2:], beads[["y", "x"]].to_numpy())
