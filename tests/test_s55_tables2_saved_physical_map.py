"""File > Save of a table read over an image drawn in pixels (its micrometre columns kept as features) writes the
micrometres of the points moved or added from the map the table was read with, not one guessed from the rows at
save time: with a few rows, one moved point pulled the guess, an untouched point was saved at the wrong
micrometres and the moved one kept its old ones."""

from __future__ import annotations

import numpy as np
import pandas as pd

from napari_particle_detect.files.centre_csv import write_centres
from napari_particle_detect.files.tables import physical_misses, physical_placement, with_physical
from napari_particle_detect.files.tables import with_physical_refreshed

PLUGIN = "napari-particle-detect"
SCALE, TRANSLATE = (0.13, 0.13), (5.0, 2.5)


def _three_points(path) -> str:
    table = pd.DataFrame({"frame": 0, "y": [100.0, 200.0, 300.0], "x": [50.0, 250.0, 450.0], "score": 0.9,
                          "source": "model"})
    write_centres(with_physical(table, SCALE, TRANSLATE, "um"), path)
    return path.read_text()


def test_three_points_one_moved_one_added_keep_the_map_they_were_read_with(make_napari_viewer, tmp_path):
    written = _three_points(tmp_path / "img.csv")
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((500, 500)), name="img")  # at scale 1 in pixels: the table is drawn in pixels
    [points] = viewer.open(str(tmp_path / "img.csv"), plugin=PLUGIN)
    assert {"y_um", "x_um"} <= set(points.features.columns)
    assert (tmp_path / "img.csv").read_text() == written
    [unchanged] = points.save(str(tmp_path / "unchanged.csv"), plugin=PLUGIN)
    assert open(unchanged).read() == written

    data = points.data.copy()
    data[0, -2] += 50.0  # point 0 moved from y 100 to 150
    points.data = data
    points.selected_data = set()
    points.add([0.0, 400.0, 100.0])
    back = pd.read_csv(points.save(str(tmp_path / "edited.csv"), plugin=PLUGIN)[0])

    before = pd.read_csv(tmp_path / "img.csv")
    assert back[["y_um", "x_um"]].iloc[1:3].to_numpy().tolist() == before[["y_um", "x_um"]].iloc[1:].to_numpy().tolist()
    np.testing.assert_allclose(back.loc[[0, 3], "y_um"], [150 * 0.13 + 5.0, 400 * 0.13 + 5.0])
    np.testing.assert_allclose(back.loc[[0, 3], "x_um"], [50 * 0.13 + 2.5, 100 * 0.13 + 2.5])


def test_moved_rows_of_a_few_are_refreshed_and_no_other_row_changes():
    rng = np.random.default_rng(1)
    for rows in (1, 2, 3, 4, 5, 8):
        for _ in range(20):
            read = with_physical(pd.DataFrame({"y": rng.uniform(5, 500, rows), "x": rng.uniform(5, 500, rows)}),
                                 SCALE, (0.0, 0.0) if rows == 1 else TRANSLATE, "um")
            placement = physical_placement(read)
            edited = read.copy()
            moved = rng.choice(rows, max(1, rows // 3), replace=False)
            edited.loc[moved, "y"] += rng.uniform(5, 60, len(moved)) * rng.choice([-1, 1], len(moved))
            saved = with_physical_refreshed(edited, placement, physical_misses(read, placement))
            np.testing.assert_allclose(saved["y_um"], saved["y"] * placement.scale[0] + placement.translate[0])
            kept = np.setdiff1d(np.arange(rows), moved)
            assert saved.loc[kept, "y_um"].tolist() == read.loc[kept, "y_um"].tolist()
            assert saved["x_um"].tolist() == read["x_um"].tolist()


def test_a_layer_with_no_map_kept_saves_its_columns_as_they_are(tmp_path):
    from napari_particle_detect._napari.writer import write_points

    features = pd.DataFrame({"score": 0.9, "source": "model", "y_um": [13.0, 26.0, 39.0], "x_um": [6.5, 32.5, 58.5]})
    data = np.array([[0, 150.0, 50.0], [0, 200.0, 250.0], [0, 300.0, 450.0]])
    [out] = write_points(str(tmp_path / "saved.csv"), data, {"features": features})
    back = pd.read_csv(out)
    assert back["y_um"].tolist() == [13.0, 26.0, 39.0] and back["x_um"].tolist() == [6.5, 32.5, 58.5]
