"""particle-detect gui opens each image of a folder given (README: gui [IMAGE | FOLDER | CENTRES.csv ...]), but its
--help named images, stacks and centre CSVs only."""

import pytest

from napari_particle_detect.cli.main import main


def test_gui_help_names_folders(capsys):
    with pytest.raises(SystemExit) as ended:
        main(["gui", "--help"])
    assert ended.value.code == 0
    helped = " ".join(capsys.readouterr().out.split())
    assert "folders (each of their images)" in helped, helped
