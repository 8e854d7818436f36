"""Physical columns (y_um, x_um) as the export makes them and the reader places a layer by them: no float noise."""

import numpy as np
import pandas as pd

from napari_particle_detect.files.centre_csv import read_centres, write_centres
from napari_particle_detect.files.tables import Placement, export_tables, physical_placement, with_physical


def _centres(count: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"frame": 0, "y": np.round(rng.uniform(0, 500, count), 3),
                         "x": np.round(rng.uniform(0, 500, count), 3), "score": 0.9, "source": "model"})


def test_columns_without_an_offset_place_the_layer_at_the_origin(tmp_path):
    # Pixels of 0.1 µm and no offset: the layer's translate read back 1e-15, not 0.
    exported, _ = export_tables(_centres(), scale=(0.1, 0.1), unit="um")
    assert physical_placement(exported) == Placement((0.1, 0.1), (0.0, 0.0), "um")
    path = write_centres(exported, tmp_path / "centres.csv")
    for scale in (0.3509, 0.065, 1.7):
        written = write_centres(export_tables(_centres(), scale=(scale, scale), unit="um")[0], tmp_path / "s.csv")
        assert physical_placement(read_centres(written)) == Placement((scale, scale), (0.0, 0.0), "um")
    assert physical_placement(read_centres(path)).translate == (0.0, 0.0)


def test_a_real_offset_is_kept():
    exported, _ = export_tables(_centres(), scale=(0.1, 0.1), unit="um", translate=(0.05, 12.5))
    assert physical_placement(exported) == Placement((0.1, 0.1), (0.05, 12.5), "um")


def test_physical_columns_in_hand_are_those_the_csv_holds(tmp_path):
    table = pd.DataFrame({"frame": [0, 0, 1], "y": [30.1, 5.25, 200.0], "x": [0.0, 12.3, 7.7]})
    placed = with_physical(table, (0.1, 0.1), (0.0, 0.0), "um")
    assert placed["y_um"].tolist() == [3.01, 0.525, 20.0]
    assert placed["x_um"].tolist() == [0.0, 1.23, 0.77]
    back = read_centres(write_centres(placed, tmp_path / "t.csv"))
    assert back["y_um"].tolist() == placed["y_um"].tolist()


def test_pixels_written_to_3_decimals_give_the_pixel_size_not_its_rounding(tmp_path):
    # The dock's points have every digit; the CSV keeps y, x to 3 decimals beside y_um, x_um with all of theirs:
    # read back, the pixel was 0.130000007 µm offset by -1.4e-06 (a layer's scale, link's µm per pixel).
    rng = np.random.default_rng(1)
    table = pd.DataFrame({"frame": 0, "y": rng.uniform(20, 480, 40), "x": rng.uniform(20, 480, 40), "score": 0.9,
                          "source": "model"})
    for translate in ((0.0, 0.0), (35.09, -1234.567)):
        written = write_centres(export_tables(table, scale=(0.13, 0.13), unit="um", translate=translate)[0],
                                tmp_path / "export.csv")
        assert physical_placement(read_centres(written)) == Placement((0.13, 0.13), translate, "um")
