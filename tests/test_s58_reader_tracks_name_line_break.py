"""A tracks table whose file name holds a line break opens (its Tracks layer named as any other's)."""
from napari_particle_detect._napari.reader import tracks_layer_name


def test_a_tracks_table_named_with_a_line_break_gets_its_tracks_layer_name():
    assert tracks_layer_name("run\n1_tracks") == "run\n1 tracks"
    assert tracks_layer_name("run\n1_tracks [a\nb.tif]") == "run\n1 tracks [a\nb.tif]"
    assert tracks_layer_name("tracks") == "track lines"
