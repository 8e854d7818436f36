"""``particle-detect link`` of centres detected every k-th frame (``detect --frames 0:40:10``, the table keeping
the stack's frame numbers): linked from one detected frame to the next, not left as one-frame tracks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.cli.main import main
from napari_particle_detect.files.tracks import link_centres


def every_tenth_frame() -> pd.DataFrame:
    """Twelve particles on a 20 px grid, 0.5 px steps between the frames kept: 0, 10, 20, 30."""
    rng = np.random.default_rng(1)
    grid = np.stack(np.meshgrid(np.arange(20, 80, 20), np.arange(20, 100, 20), indexing="ij"), -1).reshape(-1, 2)
    positions = grid + np.cumsum(rng.normal(0, 0.5, (4, len(grid), 2)), axis=0)
    return pd.DataFrame({"frame": np.repeat(np.arange(0, 40, 10), len(grid)), "y": positions[..., 0].ravel(),
                         "x": positions[..., 1].ravel(), "score": 0.9})


def test_link_follows_particles_across_a_frame_step_and_says_so(tmp_path, capsys):
    centres = tmp_path / "centres.csv"
    every_tenth_frame().to_csv(centres, index=False)

    code = main(["link", str(centres), "-o", str(tmp_path / "tracks.csv"), "--msd", str(tmp_path / "msd.csv")])

    err = capsys.readouterr().err
    assert code == 0, err
    tracks = pd.read_csv(tmp_path / "tracks.csv")
    assert tracks["particle"].nunique() == 12
    assert sorted(tracks["frame"].unique()) == [0, 10, 20, 30], "the stack's frame numbers are kept"
    assert "every 10th" in err
    assert pd.read_csv(tmp_path / "msd.csv")["lagt"].tolist() == [10, 20, 30], "lag times in the stack's frames"


def test_link_centres_memory_counts_the_detected_frames_only_where_trackpy_could_bridge_none():
    table = every_tenth_frame()
    assert link_centres(table, 3)["particle"].nunique() == 12
    # Frames 0, 2, 4, 6 are bridged by a memory of 1 as they are: linked by their own numbers, as before.
    table["frame"] = table["frame"] // 5
    assert link_centres(table, 3, memory=1)["particle"].nunique() == 12
    assert link_centres(table, 3, memory=0)["particle"].nunique() == 12


@pytest.mark.parametrize("memory", ["3", "200"])
def test_an_msd_whose_lags_all_exceed_the_maximum_lag_is_refused_not_written_empty(tmp_path, capsys, memory):
    # Frames 200 apart (detect --frames ::200), --max-lag 100 by default: with a memory that bridges them, an MSD
    # of no rows was written unsaid.
    centres = tmp_path / "centres.csv"
    table = every_tenth_frame()
    table.assign(frame=table["frame"] * 20).to_csv(centres, index=False)

    code = main(["link", str(centres), "-o", str(tmp_path / "tracks.csv"), "--msd", str(tmp_path / "msd.csv"),
                 "--memory", memory])

    err = capsys.readouterr().err
    assert code == 2 and "give a maximum lag (max_lag=, --max-lag) of 200 or more" in err.splitlines()[-1], err
    assert not (tmp_path / "msd.csv").exists()
