"""Outputs whose names differ only in the case of their suffix (A.csv, A.CSV) share the files named by their stem
(A.json): refused before any work, where one run replaced the other's record without a word."""

from __future__ import annotations

import pandas as pd
import pytest

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.output_checks import check_output

CENTRES = pd.DataFrame({"frame": [0, 1, 0, 1], "y": [10.0, 11.0, 40.0, 41.0], "x": [10.0, 11.0, 40.0, 41.0]})


def test_link_refuses_tracks_whose_record_another_table_has(tmp_path, capsys):
    centres = tmp_path / "centres.csv"
    CENTRES.to_csv(centres, index=False)
    assert main(["-q", "link", str(centres), "-o", str(tmp_path / "T.csv")]) == 0
    record = (tmp_path / "T.json").read_text()
    assert main(["-q", "link", str(centres), "-o", str(tmp_path / "T.CSV"), "--overwrite"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"particle-detect: error: {tmp_path / 'T.CSV'}: T.csv is beside it, its name but for case: the two would "
        "share the files written beside them (T.json, ...); give the tracks another name"]
    assert (tmp_path / "T.json").read_text() == record and not (tmp_path / "T.CSV").exists()


def test_only_outputs_naming_side_files_are_checked_for_a_twin(tmp_path):
    (tmp_path / "A.csv").write_text("y,x\n")
    with pytest.raises(ParticleDetectError, match="A.csv is beside it, its name but for case"):
        check_output(tmp_path / "A.Csv", what="output CSV")
    assert check_output(tmp_path / "A.csv") == tmp_path / "A.csv"  # itself: replaced as before
    (tmp_path / "o.png").write_bytes(b"")
    assert check_output(tmp_path / "o.PNG")  # a picture names no files beside it
