"""A rods or chains table's extra columns written with their own digits and type: every float column of it was
written with three decimals (an MSD of 0.00041 saved as 0.000, y_um 0.123456 as 0.123), and a whole-number column
(trackpy's particle) was saved 7.000 once a rod had been added in napari (napari makes it float for the new row's
NaN). The kind's own columns and the per-chain table keep their three decimals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from napari_particle_detect._napari.kind_layers import table_from_beads
from napari_particle_detect.kinds.registry import write_kind_table
from napari_particle_detect.synthetic.rods import rod_table

PLUGIN = "napari-particle-detect"


def _kind_layers(layers: list) -> list:
    """The table's rods or beads and paths: its `particle` column (trackpy's) also draws a Tracks layer."""
    return [layer for layer in layers if type(layer).__name__ != "Tracks"]


def _chains(**extras) -> pd.DataFrame:
    return pd.DataFrame({"frame": 0, "y": [10.0, 10, 10, 40], "x": [10.0, 16, 22.123456, 40], "score": 0.9,
                         "chain": [0, 0, 0, 1], "index": [0, 1, 2, 0], "closed": 0, "source": "model", **extras})


def test_extra_float_columns_keep_every_digit_and_the_kinds_own_three(tmp_path):
    path = tmp_path / "chains.csv"
    write_kind_table(_chains(msd=[0.00041, 0.5, 1.25, 3e-7], y_um=[0.123456, 0.2, 0.3, 0.4]), path, "chains")
    lines = path.read_text().splitlines()
    assert lines[0] == "frame,y,x,score,chain,index,closed,source,msd,y_um"
    assert lines[1] == "0,10.000,10.000,0.900,0,0,0,model,0.00041,0.123456"
    assert lines[3].split(",")[2] == "22.123"  # a position in pixels: three decimals, as detect writes it
    assert pd.read_csv(path)["msd"].tolist() == [0.00041, 0.5, 1.25, 3e-7]
    summary = (tmp_path / "chains.chains.csv").read_text().splitlines()
    assert summary[1] == "0,0,3,12.123,12.123,4.949,0"  # contour, end to end, radius of gyration: three decimals


def _rods_csv(path) -> None:
    geometry = rod_table(np.array([20.0, 50]), np.array([20.0, 50]), np.array([0.0, 90]), np.full(2, 10.0),
                         np.full(2, 4.0))
    table = pd.concat([pd.DataFrame({"frame": [0, 0]}), geometry], axis=1).assign(
        score=0.9, source="model", particle=[7, 8], msd=[0.00041, 0.25])
    write_kind_table(table, path, "rods")


def test_a_rods_table_with_extras_opened_and_saved_unchanged_is_the_same_file(make_napari_viewer, tmp_path):
    _rods_csv(tmp_path / "rods.csv")
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((80, 80), np.float32), name="img")
    [rods] = _kind_layers(viewer.open(str(tmp_path / "rods.csv"), plugin=PLUGIN))
    saved = rods.save(str(tmp_path / "saved.csv"), plugin=PLUGIN)[0]
    assert open(saved).read() == (tmp_path / "rods.csv").read_text()
    assert "0.00041" in open(saved).read()


def test_a_whole_number_column_stays_whole_after_a_rod_is_added(make_napari_viewer, tmp_path):
    _rods_csv(tmp_path / "rods.csv")
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((80, 80), np.float32), name="img")
    [rods] = _kind_layers(viewer.open(str(tmp_path / "rods.csv"), plugin=PLUGIN))
    rods.add_lines(np.array([[0, 60.0, 10.0], [0, 60.0, 30.0]]))  # a rod drawn: no track yet
    text = open(rods.save(str(tmp_path / "saved.csv"), plugin=PLUGIN)[0]).read().splitlines()
    assert [line.split(",")[-2] for line in text[1:]] == ["7", "8", ""]


def test_a_whole_number_column_of_beads_stays_whole_after_a_bead_is_placed(make_napari_viewer, tmp_path):
    """As the Rods and chains dock reads the beads (and File > Save, given the layer's metadata)."""
    write_kind_table(_chains(particle=[7, 7, 7, 9]), tmp_path / "chains.csv", "chains")
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((80, 80), np.float32), name="img")
    beads, _ = _kind_layers(viewer.open(str(tmp_path / "chains.csv"), plugin=PLUGIN))
    beads.selected_data = {1}  # napari copies the selected bead's features into the one placed
    beads.add([0, 60.0, 60.0])
    table = table_from_beads(beads.data, beads.features, beads.metadata)
    assert str(table["particle"].dtype) == "Int64"
    assert table["particle"].astype(object).where(table["particle"].notna(), None).tolist() == [7, 7, 7, 9, None]


def test_beads_saved_with_file_save_keep_a_whole_number_column_whole(make_napari_viewer, tmp_path):
    # The writer gave table_from_beads no metadata: File > Save wrote the particle column 7.0 again.
    write_kind_table(_chains(particle=[7, 7, 7, 9]), tmp_path / "chains.csv", "chains")
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((80, 80), np.float32), name="img")
    beads, _ = _kind_layers(viewer.open(str(tmp_path / "chains.csv"), plugin=PLUGIN))
    beads.add([0, 60.0, 60.0])
    saved = pd.read_csv(beads.save(str(tmp_path / "saved.csv"), plugin=PLUGIN)[0], dtype={"particle": str})
    assert saved["particle"].fillna("").tolist() == ["7", "7", "7", "9", ""]
