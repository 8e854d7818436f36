"""A folder run's table read back: each file's part is placed over that file's image. Placement looked for the image
by the table's own name (out.csv: none is named so), so every part went over the top image, whichever file it
came from: a volume drawn at a z aspect had its centres at half their depth."""

import numpy as np
import pandas as pd

from napari_particle_detect._napari.reader import get_reader


def test_each_part_of_a_folder_runs_volume_table_lies_over_its_own_image(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((6, 24, 24), np.float32), name="deep", scale=(2.0, 1.0, 1.0))
    viewer.add_image(np.zeros((6, 24, 24), np.float32), name="flat")  # the top image
    rows = {"frame": 0, "z": [2.0, 4.0], "y": [10.0, 20.0], "x": [12.0, 22.0], "score": 0.9}
    path = tmp_path / "out.csv"
    pd.concat([pd.DataFrame({**rows, "file": "in/deep.tif"}),
               pd.DataFrame({**rows, "file": "in/flat.tif"})]).to_csv(path, index=False)

    layers = get_reader(str(path))(str(path))
    scales = {kwargs["name"]: tuple(kwargs.get("scale", (1.0, 1.0, 1.0))) for _, kwargs, _ in layers}
    assert scales == {"out [deep.tif]": (2.0, 1.0, 1.0), "out [flat.tif]": (1.0, 1.0, 1.0)}


def test_each_part_of_a_folder_runs_2d_table_with_micrometres_lies_over_its_own_image(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((32, 32), np.float32), name="a")  # napari's own reader: scale 1, in pixels
    viewer.add_image(np.zeros((32, 32), np.float32), name="b", scale=(0.5, 0.5), units=("µm", "µm"))
    rows = {"frame": 0, "y": [10.0, 20.0], "x": [12.0, 22.0], "score": 0.9, "y_um": [5.0, 10.0],
            "x_um": [6.0, 11.0]}
    path = tmp_path / "out.csv"
    pd.concat([pd.DataFrame({**rows, "file": "in/a.tif"}),
               pd.DataFrame({**rows, "file": "in/b.tif"})]).to_csv(path, index=False)

    layers = get_reader(str(path))(str(path))
    points = {kwargs["name"]: (data, kwargs) for data, kwargs, kind in layers if kind == "points"}
    data, kwargs = points["out [a.tif]"]  # over a's pixels, by its own y, x
    assert np.allclose(np.asarray(data)[:, -2:], [[10.0, 12.0], [20.0, 22.0]])
    assert np.allclose(kwargs.get("scale", (1.0, 1.0, 1.0))[-2:], 1.0)
