"""The plugin's reader of a 3D centre table names the file and the first bad row of its z column, as the command
line does (files/centre_csv.finite_column): an infinite z was drawn nowhere and a text one said no row."""

import pytest

from napari_particle_detect._napari.reader import centres_layers_data
from napari_particle_detect.errors import ParticleDetectError


@pytest.mark.parametrize("bad, as_read", [("abc", "'abc'"), ("inf", "'inf'")])
def test_a_volume_table_with_a_bad_z_is_refused_naming_the_file_and_row(tmp_path, bad, as_read):
    table = tmp_path / "vol.csv"
    table.write_text(f"frame,z,y,x,score\n0,1.5,10,12,0.9\n0,{bad},20,22,0.8\n0,3,30,32,0.7\n")
    with pytest.raises(ParticleDetectError) as refused:
        centres_layers_data(table)
    assert str(refused.value) == (f"{table}: z column contains non-numeric or missing values (1 of 3 rows; the first "
                                  f"is row 2 below the header: z {as_read})")


def test_a_volume_table_with_good_z_reads_as_3d_points(tmp_path):
    table = tmp_path / "vol.csv"
    table.write_text("frame,z,y,x,score\n0,1.5,10,12,0.9\n0,2.5,20,22,0.8\n")
    (data, kwargs, kind), = centres_layers_data(table)
    assert kind == "points"
    assert data.tolist() == [[1.5, 10, 12], [2.5, 20, 22]]
