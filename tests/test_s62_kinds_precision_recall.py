"""evaluate --kind rods / chains said F1 alone: a user could not tell missed rods or beads from spurious ones,
as the spheres' table tells them (precision, recall)."""

import json

import pandas as pd

from napari_particle_detect.cli.main import main


def _run(capsys, *args):
    code = main([str(a) for a in args])
    return code, capsys.readouterr().out


def _rods(rows):
    return pd.DataFrame(rows, columns=["frame", "y", "x", "angle", "length"])


def test_rods_scores_say_precision_and_recall(tmp_path, capsys):
    truth = _rods([(0, 20, 20, 0, 20), (0, 60, 60, 45, 20), (0, 100, 100, 90, 20), (0, 140, 30, 10, 20)])
    # Three of four rods found, and two spurious ones: precision 3/5, recall 3/4.
    predicted = _rods([(0, 20.5, 20, 1, 20), (0, 60, 60.5, 44, 21), (0, 100, 100, 90, 19),
                       (0, 150, 150, 0, 20), (0, 30, 150, 0, 20)])
    truth.to_csv(tmp_path / "truth.csv", index=False)
    predicted.to_csv(tmp_path / "found.csv", index=False)
    code, out = _run(capsys, "evaluate", tmp_path / "found.csv", tmp_path / "truth.csv", "--kind", "rods", "--json")
    scores = json.loads(out)
    assert code == 0
    assert (scores["tp"], scores["fp"], scores["fn"]) == (3, 2, 1)
    assert scores["precision"] == 3 / 5 and scores["recall"] == 3 / 4
    code, out = _run(capsys, "evaluate", tmp_path / "found.csv", tmp_path / "truth.csv", "--kind", "rods")
    assert "precision  0.6000" in out and "recall  0.7500" in out


def test_chains_scores_say_bead_and_bond_precision_and_recall(tmp_path, capsys):
    columns = ["frame", "y", "x", "chain", "index"]
    truth = pd.DataFrame([(0, 20, 20 + 8 * i, 0, i) for i in range(4)], columns=columns)
    # Beads 0-2 found as one chain (bonds 0-1, 1-2), bead 3 missed, one spurious bead far away.
    predicted = pd.DataFrame([(0, 20, 20 + 8 * i, 0, i) for i in range(3)] + [(0, 90, 90, 1, 0)], columns=columns)
    truth.to_csv(tmp_path / "truth.csv", index=False)
    predicted.to_csv(tmp_path / "found.csv", index=False)
    code, out = _run(capsys, "evaluate", tmp_path / "found.csv", tmp_path / "truth.csv", "--kind", "chains", "--json")
    scores = json.loads(out)
    assert code == 0
    assert scores["bead_precision"] == 3 / 4 and scores["bead_recall"] == 3 / 4
    assert scores["bond_precision"] == 1.0 and scores["bond_recall"] == 2 / 3


def test_a_stacks_rods_are_scored_frame_by_frame_and_pooled(tmp_path, capsys):
    truth = _rods([(0, 20, 20, 0, 20), (0, 60, 60, 45, 20), (1, 20, 20, 0, 20), (1, 60, 60, 45, 20)])
    # Frame 0 all found; frame 1 one missed and one spurious.
    predicted = _rods([(0, 20, 20, 1, 20), (0, 60, 60, 44, 20), (1, 20, 20, 0, 20), (1, 120, 120, 0, 20)])
    truth.to_csv(tmp_path / "truth.csv", index=False)
    predicted.to_csv(tmp_path / "found.csv", index=False)
    code, out = _run(capsys, "evaluate", tmp_path / "found.csv", tmp_path / "truth.csv", "--kind", "rods")
    assert code == 0
    header, frame0, frame1 = out.splitlines()[:3]
    assert header.split()[:7] == ["frame", "tp", "fp", "fn", "precision", "recall", "f1"]
    assert frame0.split()[:7] == ["0", "2", "0", "0", "1.0000", "1.0000", "1.0000"]
    assert frame1.split()[:7] == ["1", "1", "1", "1", "0.5000", "0.5000", "0.5000"]
    pooled = out.split("all frames:")[1]
    assert "tp  3" in pooled and "f1  0.7500" in pooled


def test_one_frames_rods_have_no_frame_table(tmp_path, capsys):
    truth = _rods([(0, 20, 20, 0, 20)])
    truth.to_csv(tmp_path / "truth.csv", index=False)
    code, out = _run(capsys, "evaluate", tmp_path / "truth.csv", tmp_path / "truth.csv", "--kind", "rods")
    assert code == 0 and "all frames" not in out and out.split()[:2] == ["tp", "1"]
