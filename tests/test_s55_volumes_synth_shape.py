"""synth --volume names a --volume-shape out of range as typed ("1 64 64"), as its other refusals do, not as a
Python list ("[1, 64, 64]")."""

from __future__ import annotations

from napari_particle_detect.cli.main import main


def test_synth_names_a_volume_shape_out_of_range_as_typed(tmp_path, capsys):
    code = main(["synth", str(tmp_path / "vols"), "--volume", "--volume-shape", "1", "64", "64"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == "particle-detect: error: --volume-shape 1 64 64: need 2-1024 slices and 8-1024 voxels in y, x"
    assert not (tmp_path / "vols").exists()
