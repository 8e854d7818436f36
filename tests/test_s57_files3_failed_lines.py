"""The closing "failed:" line of a run of files is one line, whatever the file's name: a line break in it split the
line, its rest read as a line of its own."""

from pathlib import Path

from napari_particle_detect.cli import report_failed
from napari_particle_detect.files.distributed import failure_line


def test_a_failed_file_named_with_a_line_break_is_said_on_one_line(capsys):
    path = Path("in/bad\nname.tif")
    assert report_failed({path: failure_line(path, ValueError("cannot decode"))}) == 1
    assert capsys.readouterr().err.splitlines() == [
        "particle-detect: failed: in/bad\\nname.tif: ValueError: cannot decode"]
