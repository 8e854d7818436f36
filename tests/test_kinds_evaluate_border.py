"""evaluate --border for rods and chains: synth draws rods centred outside the image, cut by its edge, and lists
only those centred inside, so their detections were false positives; evaluate refused --border with --kind rods
or chains. Rods now count by their centre as spheres do (a pair where its true centre lies), chains bead by bead."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from napari_particle_detect.kinds.chains import evaluate_chains
from napari_particle_detect.kinds.rods import evaluate_rods

from test_cli_refusals import refused, run_cli

BORDER = 8.0
LEFT_OUT = ["left_out_truth", "left_out_predicted"]


def _rods(centres, **columns) -> pd.DataFrame:
    return pd.DataFrame({"y": [c[0] for c in centres], "x": [c[1] for c in centres], "angle": 0.0, "length": 20.0,
                         "width": 4.0, **columns})


def test_a_rod_pair_counts_where_its_true_centre_lies():
    truth = _rods([(50.0, 50.0), (50.0, 5.0), (60.0, 80.0)])
    predicted = _rods([(50.5, 50.0), (50.0, 9.0), (2.0, 50.0), (30.0, 30.0)])
    scores, counts = evaluate_rods(predicted, truth, border=BORDER, shape=(100, 100))
    # (50, 9) lies inside but is paired with a rod centred in the band: left out with it; (2, 50) is unpaired in
    # the band; (30, 30) unpaired inside; (60, 80) missed inside.
    assert (scores.tp, scores.fp, scores.fn) == (1, 1, 1)
    assert [counts[key] for key in LEFT_OUT] == [1, 2]
    plain = evaluate_rods(predicted, truth)[0]
    assert (plain.tp, plain.fp, plain.fn) == (2, 2, 1)
    # Tables of several files: each file's own size, by the file.
    by_file = evaluate_rods(predicted.assign(file="a.tif"), truth.assign(file="a.tif"), BORDER, {"a.tif": (100, 100)})
    assert (by_file[0].tp, by_file[0].fp, by_file[0].fn) == (1, 1, 1)
    with pytest.raises(ValueError, match=r"shape: no \(height, width\) of file a.tif"):
        evaluate_rods(predicted.assign(file="a.tif"), truth.assign(file="a.tif"), BORDER, {"b.tif": (100, 100)})
    with pytest.raises(ValueError, match="a border needs the images' size"):
        evaluate_rods(predicted, truth, border=BORDER)


def test_chains_count_bead_by_bead_cut_at_the_band():
    chain = pd.DataFrame({"y": 50.0, "x": [2.0, 12.0, 22.0, 32.0], "chain": 0, "index": [0, 1, 2, 3]})
    scores, counts = evaluate_chains(chain, chain, border=BORDER, shape=(100, 100))
    # The bead in the band goes with its bond: three beads and two bonds are scored.
    assert (scores.beads, scores.bonds, scores.bead_f1, scores.bond_f1) == (3, 2, 1.0, 1.0)
    assert [counts[key] for key in LEFT_OUT] == [1, 1]
    stray = pd.concat([chain, pd.DataFrame({"y": [3.0], "x": [60.0], "chain": [1], "index": [0]})])
    assert evaluate_chains(stray, chain, border=BORDER, shape=(100, 100))[1]["bead_fp"] == 0
    assert evaluate_chains(stray, chain)[1]["bead_fp"] == 1


def test_evaluate_border_scores_synths_rods_by_their_centre(tmp_path, capsys):
    # Short rods: each true one is matched within max(3 px, a quarter of its length), under 5 px here.
    code, _, err = run_cli(capsys, "synth", tmp_path / "st", "--kind", "rods", "--stack", "--n", "2", "--seed", "4",
                           "--shape", "64", "64", "--width", "4", "6", "--aspect", "2", "3")
    assert code == 0, err
    truth = pd.read_csv(tmp_path / "st" / "stack.csv")
    # Detections of rods centred outside the image: on its first row, beyond the reach of every true centre.
    edge = pd.DataFrame([{"frame": frame, "y": 1.0, "x": x, "angle": 0.0, "length": 12.0, "width": 4.0}
                         for frame, rods in truth.groupby("frame") for x in range(4, 60, 8)
                         if ((rods["y"] - 1.0) ** 2 + (rods["x"] - x) ** 2).min() > 6 ** 2])
    assert len(edge)
    predicted = tmp_path / "det.csv"
    pd.concat([truth[list(edge.columns)], edge]).to_csv(predicted, index=False)  # every rod found, and the cut ones

    code, out, err = run_cli(capsys, "evaluate", predicted, tmp_path / "st" / "stack.csv", "--kind", "rods", "--json")
    assert code == 0, err
    assert json.loads(out)["fp"] == len(edge)
    code, out, err = run_cli(capsys, "evaluate", predicted, tmp_path / "st" / "stack.csv", "--kind", "rods",
                             "--border", BORDER)
    assert code == 0, err
    inside = truth["y"].between(BORDER, 63 - BORDER) & truth["x"].between(BORDER, 63 - BORDER)
    in_band = int((~inside).sum())
    lines = out.splitlines()
    assert lines[0] == (f"border 8 px (image size from {tmp_path / 'st' / 'synth.json'}): left out {in_band} of "
                        f"{len(truth)} true and {in_band + len(edge)} of {len(truth) + len(edge)} predicted rods")
    pooled = lines[lines.index("all frames:") + 1:]  # under the stack's table of its frames
    assert [line.split() for line in pooled[:3]] == [["tp", str(int(inside.sum()))], ["fp", "0"], ["fn", "0"]]
    line = refused(capsys, "evaluate", predicted, predicted, "--kind", "chains", "--border", BORDER)
    assert "not a chains table" in line
    line = refused(capsys, "evaluate", predicted, tmp_path / "st" / "stack.csv", "--kind", "rods", "--border",
                   BORDER, "--shape", 16, 64, 64)
    assert line.endswith(f"{predicted} is a rods table; give its images' H W")
