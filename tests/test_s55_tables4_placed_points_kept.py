"""Tables opened with File > Open, edited, saved with File > Save: a point placed with another selected (napari gives
it that point's features) was saved as the model's once the selected point was deleted (a common way to move a
point); a table opened in a viewer that was not napari's current one had none of the reader's hooks; a one-row
table's y_err, x_err were taken for positions and invented for a point added; whole numbers and true/false columns
were saved 4.0 and 1.0 once a point was placed, and a point placed with nothing selected got good=True."""

from __future__ import annotations

import numpy as np
import pandas as pd

from napari_particle_detect._napari.writer import write_points
from napari_particle_detect.files.centre_csv import write_centres
from napari_particle_detect.kinds.registry import write_kind_table

PLUGIN = "napari-particle-detect"


def _spheres_csv(path, **extra) -> None:
    columns = extra or {"area": [5.0, 6.0]}
    write_centres(pd.DataFrame({"frame": [0, 0], "y": [10.0, 30.0], "x": [10.0, 30.0], "score": [0.9, 0.8],
                                "source": "model", **columns}), path)


def _chains_csv(path) -> None:
    table = pd.DataFrame({"frame": 0, "y": [20.0, 20, 20, 50, 50], "x": [20.0, 26, 32, 20, 26], "score": 0.9,
                          "chain": [0, 0, 0, 1, 1], "index": [0, 1, 2, 0, 1], "closed": 0, "source": "model",
                          "particle": [1, 1, 1, 2, 2]})
    write_kind_table(table, path, "chains")


def _open(viewer, path) -> list:
    viewer.add_image(np.zeros((2, 80, 80), np.float32), name="img")
    return viewer.open(str(path), plugin=PLUGIN)


def _saved_text(layer, path) -> str:
    return open(layer.save(str(path), plugin=PLUGIN)[0]).read()


def _moved_by_placing(layer, wrong: int, right: list[float]) -> None:
    """Select the wrong point, place the right one, delete the wrong one."""
    layer.selected_data = {wrong}
    layer.add(right)
    layer.selected_data = {wrong}
    layer.remove_selected()


def test_a_point_placed_with_one_selected_then_deleted_is_saved_as_added(make_napari_viewer, tmp_path):
    _spheres_csv(tmp_path / "s.csv")
    [points] = _open(make_napari_viewer(), tmp_path / "s.csv")
    _moved_by_placing(points, 0, [0, 50.0, 50.0])
    assert _saved_text(points, tmp_path / "saved.csv").splitlines()[1:] == [
        "0,30.000,30.000,0.800,model,6.0", "0,50.000,50.000,,added,"]


def test_a_bead_placed_with_one_selected_then_deleted_is_a_chain_of_its_own(make_napari_viewer, tmp_path):
    _chains_csv(tmp_path / "c.csv")
    beads, _paths, _tracks = _open(make_napari_viewer(), tmp_path / "c.csv")
    _moved_by_placing(beads, 1, [0, 70.0, 70.0])
    saved = pd.read_csv(beads.save(str(tmp_path / "saved.csv"), plugin=PLUGIN)[0], keep_default_na=False)
    placed = saved[(saved["y"] == 70.0) & (saved["x"] == 70.0)].iloc[0]
    assert (placed["source"], placed["score"], placed["particle"], placed["index"]) == ("added", "", "", 0)
    assert (saved["chain"] == placed["chain"]).sum() == 1


def test_a_table_opened_in_a_viewer_not_current_is_followed_there(make_napari_viewer, tmp_path):
    _chains_csv(tmp_path / "c.csv")
    _spheres_csv(tmp_path / "s.csv")
    first = make_napari_viewer()
    make_napari_viewer()  # napari's current viewer now
    beads, paths, _tracks = _open(first, tmp_path / "c.csv")
    beads.selected_data = {4}
    beads.remove_selected()
    assert len(paths.data) == 1  # chain 1 is one bead now: no path
    [points] = first.open(str(tmp_path / "s.csv"), plugin=PLUGIN)
    _moved_by_placing(points, 0, [0, 50.0, 50.0])
    assert _saved_text(points, tmp_path / "saved.csv").splitlines()[-1] == "0,50.000,50.000,,added,"


def test_a_one_row_tables_error_columns_are_not_invented_for_a_point_added(make_napari_viewer, tmp_path):
    write_centres(pd.DataFrame({"frame": [0], "y": [20.0], "x": [30.0], "score": [0.9], "source": "model",
                                "y_err": [0.05], "x_err": [0.04]}), tmp_path / "one.csv")
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((1, 100, 100), np.float32), name="one")
    [points] = viewer.open(str(tmp_path / "one.csv"), plugin=PLUGIN)
    points.add([0, 60.0, 70.0])
    assert _saved_text(points, tmp_path / "saved.csv").splitlines()[1:] == [
        "0,20.000,30.000,0.900,model,0.05,0.04", "0,60.000,70.000,,added,,"]


def test_whole_numbers_and_flags_stay_so_once_a_point_is_placed(make_napari_viewer, tmp_path):
    _spheres_csv(tmp_path / "b.csv", good=[True, False], particle=[4, 5])
    points, _tracks = _open(make_napari_viewer(), tmp_path / "b.csv")
    points.selected_data = {1}
    points.add([0, 60.0, 70.0])
    points.selected_data = set()
    points.add([0, 65.0, 75.0])
    assert _saved_text(points, tmp_path / "saved.csv").splitlines()[1:] == [
        "0,10.000,10.000,0.900,model,True,4", "0,30.000,30.000,0.800,model,False,5",
        "0,60.000,70.000,,added,,", "0,65.000,75.000,,added,,"]


def test_a_copy_saved_from_a_layer_never_hooked_keeps_the_others_types(tmp_path):
    features = pd.DataFrame({"score": [0.9, 0.8, 0.8], "source": ["model", "model", "model"],
                             "good": [True, False, False], "particle": [4, 5, 5], "read_row": [0, 1, 1]})
    data = np.array([[0, 10.0, 10.0], [0, 30.0, 30.0], [0, 60.0, 70.0]])
    [out] = write_points(str(tmp_path / "saved.csv"), data, {"features": features})
    assert open(out).read().splitlines()[1:] == [
        "0,10.000,10.000,0.900,model,True,4", "0,30.000,30.000,0.800,model,False,5", "0,60.000,70.000,,added,,"]
