"""Rods given as tips alone (ImageJ's line selections) read by read_centres as by the rods reader, so link keeps
read_centres' own rules (a saved pandas index left out, a table without frames refused); refusals of such a table
name the columns it has (its tips), not the angle and length it lacks; a per-chain summary said as such though
the table scored against it is not UTF-8."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.centre_csv import read_centres

# Two rods over two frames, tips alone: centres (10, 20) and (50, 40) in frame 0.
TIPS = pd.DataFrame({"frame": [0, 0, 1, 1], "y1": [10.0, 40.0, 11.0, 41.0], "x1": [10.0, 40.0, 11.0, 41.0],
                     "y2": [10.0, 60.0, 11.0, 61.0], "x2": [30.0, 40.0, 31.0, 41.0]})
SAID_TIPS = "a rods table (y1, x1, y2, x2 columns)"


def test_read_centres_reads_rods_given_as_tips_alone_with_their_centres(tmp_path):
    path = tmp_path / "lines.csv"
    TIPS.to_csv(path)  # with the pandas index trackpy users' tables carry
    table = read_centres(path)
    assert "Unnamed: 0" not in table.columns
    assert np.allclose(table[["y", "x"]].to_numpy(), [[10, 20], [50, 40], [11, 21], [51, 41]])
    assert np.allclose(table["length"], 20.0)


def test_link_reads_tips_as_read_centres_does(tmp_path, capsys):
    indexed = tmp_path / "lines.csv"
    TIPS.to_csv(indexed)
    tracks = tmp_path / "lines_tracks.csv"
    assert main(["link", str(indexed), "-o", str(tracks), "--search-range", "5"]) == 0, capsys.readouterr().err
    linked = pd.read_csv(tracks)
    assert "Unnamed: 0" not in linked.columns  # the saved index, no property of the rods
    assert linked.groupby("particle")["frame"].nunique().tolist() == [2, 2]
    one_frame = tmp_path / "one_frame.csv"
    TIPS.drop(columns="frame").to_csv(one_frame, index=False)
    # As for any table without frames: not linked into tracks of one frame each.
    assert main(["link", str(one_frame), "-o", str(tmp_path / "t.csv")]) == 2
    assert "no frame column; linking needs centres of several frames" in capsys.readouterr().err


@pytest.mark.parametrize("kind", [[], ["--kind", "chains"]])
def test_evaluate_names_the_tips_of_a_tips_table_it_refuses(tmp_path, capsys, kind):
    path = tmp_path / "lines.csv"
    TIPS.to_csv(path, index=False)
    assert main(["evaluate", *kind, str(path), str(path)]) == 2
    err = capsys.readouterr().err
    assert SAID_TIPS in err and "give --kind rods" in err and "angle" not in err


def test_sphere_training_names_the_tips_of_a_tips_table(tmp_path, capsys):
    from PIL import Image

    Image.fromarray(np.zeros((64, 64), np.uint8)).save(tmp_path / "a.png")
    TIPS.to_csv(tmp_path / "a.csv", index=False)
    assert main(["train", str(tmp_path / "a.png"), "-o", str(tmp_path / "model"), "--epochs", "1"]) == 2
    assert f"{SAID_TIPS}, read here as sphere centres; give --kind rods" in capsys.readouterr().err


def test_evaluate_frames_names_the_tips_of_a_tips_table():
    from napari_particle_detect.kinds.evaluation import evaluate_frames

    centres = pd.DataFrame({"frame": [0], "y": [10.0], "x": [20.0]})
    with pytest.raises(ParticleDetectError, match=r"predicted: a rods table \(y1, x1, y2, x2 columns\), not sphere"):
        evaluate_frames(TIPS, centres)


def test_a_chain_summary_is_said_as_such_against_a_table_that_is_not_utf8(tmp_path, capsys):
    summary = tmp_path / "det.chains.csv"
    summary.write_text("frame,chain,beads,contour_length,end_to_end,radius_of_gyration,closed\n0,0,3,20,15,5,False\n")
    excel = tmp_path / "truth.csv"
    excel.write_bytes("frame,y,x,d_µm\n0,10,10,3\n".encode("latin-1"))
    assert main(["evaluate", str(summary), str(excel)]) == 2
    assert "the per-chain summary detect --kind chains writes" in capsys.readouterr().err
    # Given first, the table that cannot be read is said first, by its reader.
    assert main(["evaluate", str(excel), str(summary)]) == 2
    assert "not UTF-8 text (byte 0xB5 on line 1); save it as UTF-8" in capsys.readouterr().err
