"""A layer's scale and offset read back from physical columns (files.tables.physical_placement): the map must hold
to the columns' own rounding in their own unit, whatever the unit; and the one rounding of physical columns is
shared by the table in hand and the CSV written."""

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.centre_csv import read_centres, write_centres
from napari_particle_detect.files.tables import Placement, export_tables, physical_placement, with_physical
from napari_particle_detect.files.tracks import table_microns_per_pixel

PIXEL_MM = 1e-4  # a 0.1 µm pixel, its columns in millimetres


def _pixels(count: int = 40, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"frame": 0, "y": np.round(rng.uniform(20, 480, count), 3),
                         "x": np.round(rng.uniform(20, 480, count), 3), "score": 0.9, "source": "model"})


def test_millimetre_columns_that_miss_the_pixels_by_pixels_place_no_layer(tmp_path):
    # Rows up to 3 pixels off a 1e-4 mm pixel: 3e-4 mm, under the 1e-3 mm once let through as rounding.
    table = _pixels()
    rng = np.random.default_rng(4)
    table["y_mm"] = table["y"] * PIXEL_MM + rng.uniform(-3, 3, len(table)) * PIXEL_MM
    table["x_mm"] = table["x"] * PIXEL_MM
    assert physical_placement(table) is None
    assert physical_placement(read_centres(write_centres(table, tmp_path / "edited.csv"))) is None


def test_micrometre_columns_that_miss_the_pixels_by_a_tenth_of_one_place_no_layer():
    table = _pixels()
    table["y_um"] = table["y"] * 0.1 + np.where(np.arange(len(table)) % 2, 0.01, 0.0)
    table["x_um"] = table["x"] * 0.1
    assert physical_placement(table) is None
    with pytest.raises(ParticleDetectError, match="not y,x times one pixel size"):
        table_microns_per_pixel(table)


def test_millimetre_columns_written_by_the_export_keep_an_offset_of_a_few_pixels(tmp_path):
    translate = (3e-4, -2e-4)  # 3 and -2 pixels
    rng = np.random.default_rng(5)
    table = _pixels().assign(y=rng.uniform(20, 480, 40), x=rng.uniform(20, 480, 40))  # the dock's, every digit
    exported, _ = export_tables(table, scale=(PIXEL_MM, PIXEL_MM), unit="mm", translate=translate)
    expected = Placement((PIXEL_MM, PIXEL_MM), translate, "mm")
    assert physical_placement(exported) == expected
    assert physical_placement(read_centres(write_centres(exported, tmp_path / "export.csv"))) == expected


@pytest.mark.parametrize(("unit", "scale", "translate"), [("um", 0.13, (35.09, -12.5)), ("nm", 65.0, (0.0, 0.0)),
                                                          ("um", 0.3509, (0.0, 0.0))])
def test_columns_the_export_writes_still_place_the_layer(tmp_path, unit, scale, translate):
    rng = np.random.default_rng(6)
    table = _pixels().assign(y=rng.uniform(20, 480, 40), x=rng.uniform(20, 480, 40))
    written = write_centres(export_tables(table, scale=(scale, scale), unit=unit, translate=translate)[0],
                            tmp_path / "export.csv")
    assert physical_placement(read_centres(written)) == Placement((scale, scale), translate, unit)


def test_columns_another_tool_rounded_to_4_decimals_still_place_the_layer():
    # Pixels with every digit beside micrometres to 4 decimals: the map holds to the latter's 0.00005.
    rng = np.random.default_rng(7)
    table = pd.DataFrame({"y": rng.uniform(20, 480, 60), "x": rng.uniform(20, 480, 60)})
    table["y_um"] = (table["y"] * 0.13).round(4)
    table["x_um"] = (table["x"] * 0.13 + 2.5).round(4)
    assert physical_placement(table) == Placement((0.13, 0.13), (0.0, 2.5), "um")


def test_the_rounding_of_physical_columns_is_one_shared_public_function(tmp_path):
    from napari_particle_detect.files.tables import without_noise

    assert without_noise(np.array([5.250000000000001, 19.999999999999993])).tolist() == [5.25, 20.0]
    table = pd.DataFrame({"frame": [0, 0], "y": [52.5, 200.0], "x": [0.0, 1.0]})
    placed = with_physical(table, (0.1, 0.1), unit="um")
    assert placed["y_um"].tolist() == without_noise(table["y"].to_numpy() * 0.1).tolist() == [5.25, 20.0]
    assert read_centres(write_centres(placed, tmp_path / "t.csv"))["y_um"].tolist() == [5.25, 20.0]
