"""link's MSD line where no power law can be fitted (tracks over 2 frames: one lag) says why in words, not the
MSD table's column names ('lagt in frames, msd in px²')."""
from __future__ import annotations

import pandas as pd

from napari_particle_detect.cli.main import main
from napari_particle_detect.files.tracks import describe_msd


def test_an_msd_of_one_lag_says_it_is_too_short_to_fit(tmp_path, capsys):
    centres = tmp_path / "two.csv"
    pd.DataFrame({"frame": [0, 1], "y": [10.0, 11.0], "x": [10.0, 12.0]}).to_csv(centres, index=False)

    code = main(["link", str(centres), "-o", str(tmp_path / "tracks.csv"), "--msd", str(tmp_path / "msd.csv")])

    err = capsys.readouterr().err
    assert code == 0
    assert f"MSD -> {tmp_path / 'msd.csv'} (over 1 lag only, too few to fit a power law)" in err, err
    assert "lagt in" not in err


def test_an_msd_with_lags_of_no_movement_says_how_many_could_be_fitted():
    msd = pd.DataFrame({"lagt": [1.0, 2.0], "msd": [0.0, 4.0], "N": [3, 1]})

    said = describe_msd(None, {"lagt": "frames", "msd": "px²"}, msd)

    assert said == "over 2 lags, 1 of them with an MSD above 0: too few to fit a power law"


def test_tracks_of_one_length_are_said_so_not_as_a_range():
    import pandas as pd

    from napari_particle_detect.files.tracks import describe_tracks

    same = pd.DataFrame({"particle": [0, 0, 0, 1, 1, 1], "frame": [0, 1, 2] * 2})
    assert describe_tracks(same) == "2 tracks, each 3 frames long"
    assert describe_tracks(same[same.particle == 0]) == "1 track, 3 frames long"
    mixed = pd.DataFrame({"particle": [0, 0, 0, 1, 1], "frame": [0, 1, 2, 0, 1]})
    assert describe_tracks(mixed) == "2 tracks, 2-3 frames long (median 2.5)"
