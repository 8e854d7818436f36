"""A table is an image's by name only where named as it, or as it and a separator (a_centres of a), the longest such
name winning (a_2_centres is a_2's, not a's): image 'a' took all_centres.csv, drawn at a's scale, hidden and shown with
a, and a opened after it was moved under it."""

import numpy as np
import pandas as pd

from napari_particle_detect._napari.reader import PLACED_OVER_KEY, placed_over_image
from napari_particle_detect.cli.gui import PLUGIN


def _table(path):
    pd.DataFrame({"y": [10.0, 30.0], "x": [12.0, 32.0]}).to_csv(path, index=False)
    return str(path)


def test_a_table_is_read_over_the_image_it_is_named_for_alone(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((64, 64), np.uint8), name="a", scale=(2.0, 2.0))
    a_2 = viewer.add_image(np.zeros((64, 64), np.uint8), name="a_2", scale=(3.0, 3.0))
    [all_centres] = viewer.open(_table(tmp_path / "all_centres.csv"), plugin=PLUGIN)
    [a_2_centres] = viewer.open(_table(tmp_path / "a_2_centres.csv"), plugin=PLUGIN)
    # Named for no open image: laid over the top one (a_2) as any such table is, but no image's.
    assert PLACED_OVER_KEY not in all_centres.metadata
    assert placed_over_image(a_2_centres, viewer) is a_2
    assert tuple(a_2_centres.scale) == (3.0, 3.0)


def test_an_image_opened_after_tables_goes_under_its_own_alone(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    viewer.open(_table(tmp_path / "all_centres.csv"), plugin=PLUGIN)
    viewer.open(_table(tmp_path / "a_2_centres.csv"), plugin=PLUGIN)
    viewer.add_image(np.zeros((64, 64), np.uint8), name="a_2")
    viewer.add_image(np.zeros((64, 64), np.uint8), name="a")
    # a_2 under its table; a, the table of neither, on top as napari puts any image.
    assert [layer.name for layer in viewer.layers] == ["all_centres", "a_2", "a_2_centres", "a"]
