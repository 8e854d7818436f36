"""Tables from other tools, as users give them: a spheres CSV separated by semicolons (Excel in many locales) is
said so, as the rods and chains readers say it; a rods table of tips alone (ImageJ's line selections exported as
CSV) is read with the centre, angle and length its tips give; a chain's gap is said with a file's advice only
where the table was read from a file, not where a Python table's name is a file's path."""

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.centre_csv import read_centres
from napari_particle_detect.kinds import chains, rods
from napari_particle_detect.kinds.registry import read_kind_table

TIPS = ["y1", "x1", "y2", "x2"]


def test_a_spheres_table_separated_by_semicolons_says_how_to_separate_it(tmp_path, capsys):
    path = tmp_path / "excel.csv"
    path.write_text("frame;y;x\n0;10,5;20,5\n0;30;40\n")
    # Before: "needs columns y and x (got frame;y;x)", read as a table of one oddly named column.
    with pytest.raises(ParticleDetectError, match="separate its columns with commas, not ';'"):
        read_centres(path)
    assert main(["-q", "link", str(path), "-o", str(tmp_path / "tracks.csv")]) == 2
    assert f"{path}: needs columns y and x (its header reads as one column, 'frame;y;x'" in capsys.readouterr().err
    assert not (tmp_path / "tracks.csv").exists()
    # Any other table without y and x is said as before.
    (tmp_path / "other.csv").write_text("frame,row,col\n0,1,2\n")
    with pytest.raises(ParticleDetectError, match=r"needs columns y and x \(got frame, row, col\)"):
        read_centres(tmp_path / "other.csv")


def test_a_rods_table_of_tips_alone_is_read_by_its_tips(tmp_path, capsys):
    path = tmp_path / "lines.csv"
    # ImageJ's line selections: one drawn right to left, one upward (tip 2 above tip 1).
    pd.DataFrame({"y1": [10.0, 70.0], "x1": [30.0, 50.0], "y2": [10.0, 50.0], "x2": [10.0, 50.0]}).to_csv(path,
                                                                                                          index=False)
    # Before: "not a rods table: no y, x, angle, length column (its columns: y1, x1, y2, x2)".
    read = read_kind_table(path, "rods")
    assert read[["y", "x", "angle", "length"]].to_numpy().tolist() == [[10.0, 20.0, 0.0, 20.0],
                                                                      [60.0, 50.0, 90.0, 20.0]]
    # Tip 2 - tip 1 along the angle, as every writer gives them (the same rods, their tips swapped).
    assert read[TIPS].to_numpy().tolist() == [[10.0, 10.0, 10.0, 30.0], [50.0, 50.0, 70.0, 50.0]]
    assert main(["-q", "evaluate", "--kind", "rods", str(path), str(path)]) == 0
    assert "f1  1.0000" in capsys.readouterr().out
    slanted = rods.check_table(pd.DataFrame({"y1": [0.0], "x1": [0.0], "y2": [-3.0], "x2": [4.0]}), "t")
    assert slanted[["y", "x", "length"]].to_numpy().tolist() == [[-1.5, 2.0, 5.0]]
    assert slanted["angle"].iloc[0] == pytest.approx(np.degrees(np.arctan2(-3.0, 4.0)) % 180)


def test_tables_with_neither_tips_nor_measures_or_with_one_point_tips_are_refused():
    with pytest.raises(ParticleDetectError, match=r"^t: not a rods table: no y, x, angle, length column"):
        rods.check_table(pd.DataFrame({"y1": [0.0], "x1": [0.0]}), "t")
    with pytest.raises(ParticleDetectError, match=r"^t: the tips on row 2 are one point \(5, 6\)"):
        rods.check_table(pd.DataFrame({"y1": [0.0, 5.0], "x1": [0.0, 6.0], "y2": [3.0, 5.0], "x2": [3.0, 6.0]}), "t")
    with pytest.raises(ParticleDetectError, match=r"^t: column x2 holds missing values or non-numbers"):
        rods.check_table(pd.DataFrame({"y1": [0.0], "x1": [0.0], "y2": [3.0], "x2": ["far"]}), "t")
    # Tips beside some of the measures are no table of tips alone: the measures missing are said, as before.
    with pytest.raises(ParticleDetectError, match=r"^t: not a rods table: no angle, length column"):
        rods.check_table(pd.DataFrame({"y": [1.5], "x": [1.5], "y1": [0.0], "x1": [0.0], "y2": [3.0], "x2": [3.0]}),
                         "t")


def test_a_chain_gap_gets_the_file_advice_only_when_read_from_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"frame": 0, "y": [1.0, 2.0, 3.0], "x": [1.0, 2.0, 3.0], "chain": 0, "index": [0, 1, 3]}).to_csv(
        "gap.csv", index=False)
    table = pd.read_csv("gap.csv")
    # Before: a Python table named after the file it came from was told to mend the file.
    for check in (lambda: chains.check_table(table, "gap.csv"), lambda: chains.chain_summary(table, "gap.csv")):
        with pytest.raises(ParticleDetectError, match=r"keep_beads\(table, keep\)") as refused:
            check()
        assert "in the file" not in str(refused.value)
    for read in (lambda: read_centres("gap.csv"), lambda: read_kind_table("gap.csv", "chains")):
        with pytest.raises(ParticleDetectError, match="in the file, number its beads 0..2") as refused:
            read()
        assert "keep_beads" not in str(refused.value)
