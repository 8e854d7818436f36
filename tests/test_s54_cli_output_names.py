"""detect -o naming the working folder ('.') or nothing at all (''): one line before any work, exit status 2, not a
traceback (Path('.').with_suffix raised ValueError) nor tables written into the working folder."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from napari_particle_detect.cli.main import main


# Several inputs into '.' are one table each there, as the README says.
@pytest.mark.parametrize(("output", "images"), [("", 1), ("", 2), (".", 1)])
def test_an_output_of_the_working_folder_or_nothing_is_one_line(tmp_path, capsys, monkeypatch, output, images):
    monkeypatch.chdir(tmp_path)
    names = [f"image_{i}.tif" for i in range(images)]
    for name in names:
        tifffile.imwrite(name, np.random.default_rng(0).integers(0, 255, (32, 32), dtype=np.uint8))

    code = main(["-q", "detect", *names, "-o", output])

    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    expected = ("-o/--output is empty: give NAME.csv for one table, or a folder ending in / for a folder of tables"
                if output == "" else
                ".: is a folder; give the output CSV a file name inside it, or ./ for a folder of tables")
    assert err == f"particle-detect: error: {expected}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == names, "nothing written"
