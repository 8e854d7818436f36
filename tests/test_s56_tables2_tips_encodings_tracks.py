"""Tables opened on the command line and in napari: a rods table of tips alone (ImageJ's line selections) linked and
opened as rods, a CSV that is not UTF-8 refused in napari as on the command line, the frames helpers link shares
with evaluate public, and a tracks table's Tracks layer said to stay the file's once its points are edited."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.kinds.columns import table_kind

from helpers import notification_count, notifications_since, opened_with_messages

# Two rods over two frames, as ImageJ exports line selections: tips alone.
TIPS = pd.DataFrame({"frame": [0, 0, 1, 1], "y1": [10.0, 40.0, 11.0, 41.0], "x1": [10.0, 40.0, 11.0, 41.0],
                     "y2": [10.0, 60.0, 11.0, 61.0], "x2": [30.0, 40.0, 31.0, 41.0]})


def test_tips_alone_are_a_rods_table_and_centres_with_tips_stay_spheres():
    assert table_kind(TIPS.columns) == "rods"
    assert table_kind(["frame", "y", "x", "y1", "x1", "y2", "x2"]) == "spheres"  # sphere centres, extra columns
    assert table_kind(["chain", "index", "y1", "x1", "y2", "x2"]) == "chains"


def test_a_table_of_rod_tips_is_linked_and_opened_in_napari_as_rods(tmp_path, capsys):
    from napari_particle_detect._napari.reader import get_reader

    tips = tmp_path / "lines.csv"
    TIPS.to_csv(tips, index=False)
    tracks = tmp_path / "lines_tracks.csv"
    assert main(["link", str(tips), "-o", str(tracks), "--search-range", "5"]) == 0, capsys.readouterr().err
    linked = pd.read_csv(tracks)
    # Linked by the centres the tips give: each rod one track over both frames.
    assert linked.groupby("particle")["frame"].nunique().tolist() == [2, 2]
    assert sorted(linked["y"].round(3)) == [10.0, 11.0, 50.0, 51.0]
    # Sphere evaluate sends it to --kind rods, not to a missing y and x.
    assert main(["evaluate", str(tips), str(tips)]) == 2
    assert "give --kind rods" in capsys.readouterr().err
    reader = get_reader(str(tips))
    assert reader is not None  # claimed: napari's own reader refused it
    [(lines, kwargs, layer_type)] = reader(str(tips))
    assert layer_type == "shapes" and len(lines) == 4


def test_a_csv_that_is_not_utf8_is_refused_in_napari_saying_how_to_save_it(tmp_path):
    from napari_particle_detect._napari.reader import get_reader

    path = tmp_path / "excel.csv"
    path.write_bytes("frame,y,x,d_µm\n0,10,10,3\n0,20,20,3\n".encode("latin-1"))
    reader = get_reader(str(path))
    assert reader is not None  # left to napari's reader, a bare UnicodeDecodeError
    with pytest.raises(ParticleDetectError, match=r"not UTF-8 text \(byte 0xB5 on line 1\); save it as UTF-8"):
        reader(str(path))


def test_the_frames_helpers_link_shares_with_evaluate_are_public():
    from napari_particle_detect.cli.detected_frames import frames_detected_in, frames_text, why_frames_left_out

    record = {"frames_done": 2, "frames": 4}
    assert frames_detected_in(record) == frozenset({0, 1})
    assert why_frames_left_out(record) == "a run left unfinished"
    assert frames_text([0, 1]) == "frames 0-1"


def test_editing_a_tracks_tables_points_says_once_its_tracks_stay_the_files(make_napari_viewer, tmp_path):
    path = tmp_path / "walk_tracks.csv"
    pd.DataFrame({"frame": [0, 1, 2, 0, 1, 2], "y": [10.0, 11, 12, 40, 41, 42], "x": [10.0, 11, 12, 40, 41, 42],
                  "particle": [0, 0, 0, 1, 1, 1]}).to_csv(path, index=False)
    viewer = make_napari_viewer()
    opened_with_messages(viewer, path)
    points, tracks = viewer.layers
    seen = notification_count()
    for step in (5.0, 3.0):  # two moves, one line
        moved = np.array(points.data)
        moved[0, -1] += step
        points.data = moved
    said = [line for line in notifications_since(seen) if "still shows the tracks" in line]
    assert said == [f"'{points.name}' edited: '{tracks.name}' still shows the tracks as its file holds them, not the "
                    "edit; save the table (File > Save Selected Layer(s)) and link it again (particle-detect link) "
                    "for tracks of the positions as they are now"]
