"""``link --sequence`` of one stack's table (no file column) with detect's .json beside it: one line saying a
sequence's table names its files, exit 2 and nothing written; it was a KeyError traceback, exit 1."""

from napari_particle_detect.cli.main import main


def test_sequence_of_a_table_without_files_is_one_line(tmp_path, capsys):
    assert main(["-q", "synth", str(tmp_path / "data"), "--n", "2", "--stack", "--shape", "64", "64",
                 "--radius", "4", "5", "--area-fraction", "0.2"]) == 0
    centres = tmp_path / "centres.csv"
    assert main(["-q", "detect", str(tmp_path / "data" / "stack.tif"), "-o", str(centres), "--diameter", "9"]) == 0
    assert centres.with_suffix(".json").exists()  # detect's record, which --sequence reads the files from
    capsys.readouterr()
    code = main(["-q", "link", str(centres), "-o", str(tmp_path / "tracks.csv"), "--sequence"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "--sequence: an image sequence's table has a file column" in err
    assert not (tmp_path / "tracks.csv").exists()
