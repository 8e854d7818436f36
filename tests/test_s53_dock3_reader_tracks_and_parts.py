"""Tables read back into napari: a tracks table named as the dock exports it (movie_tracks.csv) gave a Tracks layer
'movie_tracks tracks'; a folder run's part whose own image is not open was placed over the top image, another
file's (at that image's scale), instead of by its own columns."""

import numpy as np
import pandas as pd

from napari_particle_detect._napari.reader import get_reader


def _read(path):
    return get_reader(str(path))(str(path))


def test_a_tracks_tables_layer_is_not_named_tracks_twice(tmp_path):
    rows = {"frame": [0, 1, 2, 0, 1, 2], "y": [10.0, 11, 12, 30, 31, 32], "x": [10.0, 10, 10, 20, 21, 22],
            "particle": [0, 0, 0, 1, 1, 1]}
    path = tmp_path / "movie_tracks.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    names = {kind: kwargs["name"] for _, kwargs, kind in _read(path)}
    assert names == {"points": "movie_tracks", "tracks": "movie tracks"}  # as the dock names movie's, unique
    other = tmp_path / "linked.csv"
    pd.DataFrame(rows).to_csv(other, index=False)
    assert {kind: kwargs["name"] for _, kwargs, kind in _read(other)}["tracks"] == "linked tracks"


def test_a_part_whose_own_image_is_not_open_is_drawn_by_its_own_columns(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((6, 24, 24), np.float32), name="deep", scale=(2.0, 1.0, 1.0))  # the only image
    rows = {"frame": 0, "z": [2.0, 4.0], "y": [10.0, 20.0], "x": [12.0, 22.0], "score": 0.9}
    path = tmp_path / "out.csv"
    pd.concat([pd.DataFrame({**rows, "file": "in/deep.tif"}),
               pd.DataFrame({**rows, "file": "in/flat.tif"})]).to_csv(path, index=False)
    scales = {kwargs["name"]: tuple(kwargs.get("scale", (1.0, 1.0, 1.0))) for _, kwargs, _ in _read(path)}
    assert scales == {"out [deep.tif]": (2.0, 1.0, 1.0), "out [flat.tif]": (1.0, 1.0, 1.0)}


def test_a_2d_part_whose_own_image_is_not_open_is_drawn_by_its_micrometres(make_napari_viewer, tmp_path):
    from helpers import notification_count, notifications_since

    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((32, 32), np.float32), name="a")  # napari's own reader: scale 1, in pixels
    rows = {"frame": 0, "y": [10.0, 20.0], "x": [12.0, 22.0], "score": 0.9, "y_um": [5.0, 10.0],
            "x_um": [6.0, 11.0]}
    path = tmp_path / "out.csv"
    pd.concat([pd.DataFrame({**rows, "file": "in/a.tif"}),
               pd.DataFrame({**rows, "file": "in/b.tif"})]).to_csv(path, index=False)
    seen = notification_count()
    points = {kwargs["name"]: kwargs for _, kwargs, kind in _read(path) if kind == "points"}
    assert np.allclose(points["out [a.tif]"].get("scale", (1.0, 1.0))[-2:], 1.0)  # over a's pixels
    assert np.allclose(points["out [b.tif]"]["scale"][-2:], 0.5)  # by its µm, not in a's pixels
    said = [m for m in notifications_since(seen) if m.startswith("out.csv [b.tif]")]
    assert said and "its image b.tif not being open" in said[0], said


def test_a_part_is_never_placed_over_another_file_whose_name_begins_its_own(make_napari_viewer):
    from napari_particle_detect._napari.reader import image_to_place_over

    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((8, 32, 32), np.float32), name="img1")
    assert image_to_place_over(viewer, "img10", 3, own_only=True) is None  # img10's part: not over img1
    assert image_to_place_over(viewer, "img1", 3, own_only=True) is viewer.layers["img1"]
    channel = viewer.add_image(np.zeros((8, 32, 32), np.float32), name="img10 [1]")
    assert image_to_place_over(viewer, "img10", 3, own_only=True) is channel
