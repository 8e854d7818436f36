"""A rods or chains table with text in a number column is refused naming the first bad row, as a centre table is
(files/tables.first_bad_row): a table of thousands of rods said only which column."""

import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.kinds.registry import read_kind_table


def test_a_rods_table_with_text_in_angle_names_its_first_bad_row(tmp_path):
    table = tmp_path / "rods.csv"
    rows = [f"0,{10 + i},{20 + i},{i * 10},12,0.9" for i in range(5)]
    rows[3] = "0,13,23,abc,12,0.9"
    table.write_text("\n".join(["frame,y,x,angle,length,score", *rows]) + "\n")
    with pytest.raises(ParticleDetectError) as refused:
        read_kind_table(table, "rods")
    assert str(refused.value).endswith("column angle holds missing values or non-numbers (1 of 5 rows; the first is "
                                       "row 4 below the header: angle 'abc')")
    assert str(table) in str(refused.value)
