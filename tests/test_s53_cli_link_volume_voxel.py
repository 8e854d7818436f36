"""``particle-detect link`` of a volume table takes the voxel size detect's .json beside it records, as evaluate
does, where detect wrote no z_um,y_um,x_um columns (a z step known in pixels only: an ImageJ spacing without unit,
synth's volumes)."""

from __future__ import annotations

import json

import pandas as pd

from napari_particle_detect.cli.main import main


def write_volume_centres(folder) -> tuple:
    """Two time points of one particle that moved 2 z voxels: 4 y voxels where a z voxel is twice as long."""
    centres = folder / "det.csv"
    pd.DataFrame({"frame": [0, 1], "z": [10.0, 12.0], "y": [20.0, 20.0], "x": [30.0, 30.0], "score": 0.9}
                 ).to_csv(centres, index=False)
    # As detect records a volume whose z step its metadata gives in pixels (no length, so no _um columns).
    record = {"file": "v.tif", "axes": "TZYX", "voxel_size_zyx": [2.0, 1.0, 1.0], "voxel_unit": "pixel",
              "shape": [2, 24, 64, 64], "pixel_size_yx_um": None, "frame_interval_s": None}
    (folder / "det.json").write_text(json.dumps({"inputs": [record]}))
    return centres, folder / "tracks.csv"


def test_link_takes_the_voxel_size_from_detects_json_beside_the_table(tmp_path, capsys):
    centres, tracks = write_volume_centres(tmp_path)

    code = main(["link", str(centres), "-o", str(tracks), "--search-range", "3"])

    err = capsys.readouterr().err
    assert code == 0, err
    assert "voxel size 2 x 1 x 1 from detect's .json" in err and "as if the voxels were cubes" not in err
    assert pd.read_csv(tracks)["particle"].nunique() == 2, "4 y voxels apart: beyond a search range of 3"
    assert json.loads(tracks.with_suffix(".json").read_text())["voxel_size"] == [2.0, 1.0, 1.0]


def test_a_voxel_size_given_still_wins_over_detects_json(tmp_path, capsys):
    centres, tracks = write_volume_centres(tmp_path)

    assert main(["link", str(centres), "-o", str(tracks), "--search-range", "3", "--voxel-size", "1", "1", "1"]) == 0
    assert pd.read_csv(tracks)["particle"].nunique() == 1
