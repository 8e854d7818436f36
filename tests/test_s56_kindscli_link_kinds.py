"""``particle-detect link`` on the tables of ``detect --kind rods|chains``: chain beads are linked one by one, so
each chain is followed over frames by its beads (``chain_track``, where ``chain`` is each frame's own numbering),
``--min-length`` cuts a chain where it drops a bead instead of leaving a table no reader takes, and the line says
what was linked."""

from __future__ import annotations

import numpy as np
import pandas as pd

from napari_particle_detect.cli.main import main
from napari_particle_detect.files.tracks import link_centres
from napari_particle_detect.kinds.registry import read_kind_table

FRAMES = 6
SPACING = 10.0  # px between a chain's beads
STEP = 0.5  # px each chain moves per frame


def chain_movie(short_lived_bead: bool = False) -> pd.DataFrame:
    """Three chains of four beads drifting across six frames, numbered in another order every frame (as detect
    numbers them: per frame). ``short_lived_bead``: chain A's second bead is seen in frames 0-2 only, so from
    frame 3 on A is two chains (the bead alone, the other two), as detect would find them without it."""
    starts = {"A": (30.0, 20.0), "B": (70.0, 20.0), "C": (110.0, 20.0)}
    rows = []
    for frame in range(FRAMES):
        pieces = []
        for name, (y, x) in starts.items():
            beads = [(name, bead, y + STEP * frame, x + SPACING * bead + STEP * frame) for bead in range(4)]
            if short_lived_bead and name == "A" and frame >= 3:
                pieces += [beads[:1], beads[2:]]
            else:
                pieces.append(beads)
        order = pieces if frame % 2 == 0 else pieces[::-1]  # chain ids do not follow a chain from frame to frame
        for chain, piece in enumerate(order):
            for index, (name, bead, y, x) in enumerate(piece):
                rows.append({"frame": frame, "y": y, "x": x, "score": 0.9, "chain": chain, "index": index,
                             "closed": 0, "truth": name, "bead": f"{name}{bead}"})
    return pd.DataFrame(rows)


def test_each_chain_keeps_one_chain_track_while_its_per_frame_chain_ids_change():
    tracks = link_centres(chain_movie(), search_range=3, memory=0)
    per_chain = tracks.groupby("truth")["chain_track"].agg(["nunique", "first"])
    assert (per_chain["nunique"] == 1).all()
    assert per_chain["first"].nunique() == 3
    assert tracks.groupby("truth")["chain"].nunique().max() > 1  # the ids it had did change
    assert (tracks.groupby("bead")["particle"].nunique() == 1).all()


def test_a_chain_that_loses_a_bead_carries_its_track_on_with_the_larger_piece():
    tracks = link_centres(chain_movie(short_lived_bead=True), search_range=3, memory=0)
    a = tracks[tracks["truth"] == "A"]
    early = a.loc[a["frame"] < 3, "chain_track"].unique()
    assert len(early) == 1
    later = a[a["frame"] >= 3].groupby("bead")["chain_track"].first()
    assert later["A2"] == later["A3"] == early[0]  # the two-bead piece goes on as chain A
    assert later["A0"] != early[0]


def test_min_length_on_chains_cuts_the_chain_it_drops_a_bead_of_and_writes_the_tracks(tmp_path, capsys):
    centres = tmp_path / "beads.csv"
    chain_movie(short_lived_bead=True).drop(columns=["truth", "bead"]).to_csv(centres, index=False)
    code = main(["link", str(centres), "-o", str(tmp_path / "tracks.csv"), "--search-range", "3", "--memory", "0",
                 "--min-length", "4"])
    err = capsys.readouterr().err
    assert code == 0, err
    tracks = read_kind_table(tmp_path / "tracks.csv", "chains")  # a chains table a reader takes: no index gap
    early = tracks[tracks["frame"] < 3]
    assert len(early) == 3 * 11  # the bead seen in three frames is dropped
    assert early.groupby("frame")["chain"].nunique().eq(4).all()  # chain A cut in two where it was
    assert "bead tracks" in err and "chain tracks" in err


def test_link_says_it_followed_rod_centres_and_keeps_the_rods_columns(tmp_path, capsys):
    frames = np.repeat(np.arange(FRAMES), 2)
    rods = pd.DataFrame({"frame": frames, "y": 30.0 + STEP * frames + np.tile([0, 40], FRAMES), "x": 40.0,
                         "angle": np.tile([10.0, 120.0], FRAMES), "length": 30.0, "width": 6.0,
                         "score": 0.8})
    centres = tmp_path / "rods.csv"
    rods.to_csv(centres, index=False)
    assert main(["link", str(centres), "-o", str(tmp_path / "tracks.csv"), "--search-range", "3"]) == 0
    err = capsys.readouterr().err
    assert f"2 rod tracks, each {FRAMES} frames long" in err
    tracks = pd.read_csv(tmp_path / "tracks.csv")
    assert {"angle", "length", "width", "particle"} <= set(tracks.columns)
    assert tracks.groupby("particle")["angle"].nunique().eq(1).all()
