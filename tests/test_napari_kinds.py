"""Rods and chains in napari: reader and writer round trips through their layers, samples, the dock."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.synthetic.rods import rod_table

PLUGIN = "napari-particle-detect"


def test_rods_csv_opens_as_lines_and_an_edited_tip_saves_its_new_length_and_angle(tmp_path, make_napari_viewer):
    path = tmp_path / "rods.csv"
    table = rod_table([20.0, 40.0], [20.0, 50.0], [0.0, 90.0], [20.0, 30.0], [5.0, 6.0])
    table.assign(frame=[0, 1], score=[0.9, 0.8]).to_csv(path, index=False)
    viewer = make_napari_viewer()
    [layer] = viewer.open(path, plugin=PLUGIN)
    assert layer._type_string == "shapes" and layer.nshapes == 2 and set(layer.shape_type) == {"line"}
    lines = [np.array(d) for d in layer.data]
    lines[0][1, 1:] = [20.0, 40.0]  # drag tip 2 of rod 0 from (20, 30) to (20, 40): now 30 long, still 0 degrees
    lines[1][1, 1:] = [55.0, 65.0]  # rod 1's tip 2 from (55, 50) to (55, 65): 45 degrees
    layer.data = lines
    layer.shape_type = ["line", "line"]
    out = tmp_path / "saved.csv"
    viewer.layers.save(str(out), selected=False, plugin=PLUGIN)
    again = pd.read_csv(out)
    assert list(again.columns[:11]) == ["frame", "y", "x", "angle", "length", "width", "y1", "x1", "y2", "x2", "score"]
    assert again["length"].tolist() == pytest.approx([30.0, np.hypot(30, 15)])
    assert again["angle"].tolist() == pytest.approx([0.0, np.degrees(np.arctan2(30, 15))])
    assert again["frame"].tolist() == [0, 1] and again["width"].tolist() == [5.0, 6.0]


def test_chains_csv_opens_as_beads_and_paths_and_saves_back(tmp_path, make_napari_viewer):
    path = tmp_path / "chains.csv"
    beads = pd.DataFrame({"y": [10.0, 10.0, 10.0, 30.0], "x": [10.0, 20.0, 30.0, 30.0], "chain": [0, 0, 0, 1],
                          "index": [0, 1, 2, 0], "score": [0.9, 0.8, 0.7, 0.6]})
    beads.to_csv(path, index=False)
    viewer = make_napari_viewer()
    points, paths = viewer.open(path, plugin=PLUGIN)
    assert len(points.data) == 4 and list(points.features["chain"]) == [0, 0, 0, 1]
    assert paths.nshapes == 1 and paths.shape_type == ["path"]  # the free bead draws no path
    points.selected_data = {1}
    points.remove_selected()  # the middle bead goes: chain 0 keeps indices 0, 1 (no gap)
    out = tmp_path / "saved.csv"
    viewer.layers.selection.active = points
    viewer.layers.save(str(out), selected=True, plugin=PLUGIN)
    again = pd.read_csv(out)
    assert again[["chain", "index"]].values.tolist() == [[0, 0], [0, 1], [1, 0]]
    assert Path(str(out).replace(".csv", ".chains.csv")).exists()


def test_saving_a_chains_paths_layer_refuses_instead_of_writing_an_empty_rods_csv(tmp_path, make_napari_viewer):
    # Its paths were offered the rods writer, which wrote a header and nothing else, saying it saved.
    path = tmp_path / "chains.csv"
    pd.DataFrame({"y": [10.0, 10.0, 10.0], "x": [10.0, 20.0, 30.0], "chain": [0, 0, 0], "index": [0, 1, 2],
                  "score": [0.9, 0.8, 0.7]}).to_csv(path, index=False)
    viewer = make_napari_viewer()
    _, paths = viewer.open(path, plugin=PLUGIN)
    viewer.layers.selection.active = paths
    with pytest.raises(Exception, match="holds no lines .1 path.*beads"):
        viewer.layers.save(str(tmp_path / "paths.csv"), selected=True, plugin=PLUGIN)
    assert not (tmp_path / "paths.csv").exists()


def test_a_rod_drawn_with_the_path_tool_saves_and_a_rectangle_is_named_as_left_out(tmp_path, make_napari_viewer):
    viewer = make_napari_viewer()
    layer = viewer.add_shapes([np.array([[10.0, 10.0], [10.0, 30.0]]), np.array([[40.0, 40.0], [60.0, 40.0]]),
                               np.array([[0.0, 0.0], [5.0, 5.0]])], shape_type=["line", "path", "rectangle"])
    viewer.layers.selection.active = layer
    with pytest.warns(UserWarning, match="1 rectangle left out"):
        viewer.layers.save(str(tmp_path / "rods.csv"), selected=True, plugin=PLUGIN)
    saved = pd.read_csv(tmp_path / "rods.csv")
    assert saved["length"].tolist() == pytest.approx([20.0, 20.0])
    assert saved["angle"].tolist() == pytest.approx([0.0, 90.0])


@pytest.mark.parametrize("key, layers", [("rods", 2), ("chains", 3)])
def test_kind_samples_open_with_their_truth(make_napari_viewer, key, layers):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, key)
    assert len(viewer.layers) == layers and viewer.layers[0].data.shape == (256, 256)


def test_dock_detects_chains_into_beads_and_paths(make_napari_viewer, qtbot):
    from napari_particle_detect._napari.kinds_widget import KindsWidget
    from napari_particle_detect.synthetic.chains import benchmark_chain_config, synthesize_chains

    viewer = make_napari_viewer()
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    assert isinstance(widget, KindsWidget)
    sample = synthesize_chains(benchmark_chain_config("fluorescent", 0.25, shape=(128, 128)), seed=31)
    viewer.add_image(sample.image, name="beads")
    widget.kind_combo.setCurrentText("chains")
    widget.detect()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    beads, paths = viewer.layers["beads beads"], viewer.layers["beads chains"]
    assert len(beads.data) >= 0.8 * len(sample.table)
    assert {"chain", "index", "score", "source"} <= set(beads.features.columns)
    assert paths.nshapes >= 1
    before = paths.nshapes
    # Deleting the beads of one chain takes its path away.
    chain = beads.features["chain"].value_counts().index[0]
    beads.selected_data = set(np.flatnonzero(beads.features["chain"].to_numpy() == chain).tolist())
    beads.remove_selected()
    assert paths.nshapes == before - 1


def test_the_kinds_rounds_table_calls_a_tied_round_not_better_rather_than_worse():
    from napari_particle_detect._napari.kind_rounds_panel import _cells
    from napari_particle_detect.projects.project_state import RoundInfo

    tied = RoundInfo(2, "fine-tuned", parent=1, held_out=6, f1=0.948, parent_f1=0.948, improved=False)
    assert _cells(tied, in_use=False)[-1] == "not better"
    assert _cells(RoundInfo(3, "fine-tuned", parent=2, held_out=6, f1=0.95, parent_f1=0.9, improved=True), False)[-1] == "kept"
    lower = RoundInfo(4, "fine-tuned", parent=1, held_out=2, f1=0.867, parent_f1=0.966, improved=False)
    assert _cells(lower, in_use=False)[-1] == "worse"
