"""evaluate --border: synth draws particles centred outside the image, cut by its edge, and leaves them out of
its truth, so their detections were scored as false positives (precision 0.89 where it is about 0.95). The
centres within the border of the edge are left out, the benchmarks' way, each file in its own image size."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.cli.main import main
from napari_particle_detect.kinds.evaluation import evaluate_frames

from test_cli_refusals import refused, run_cli

BORDER = 8.0
LEFT_OUT = ["left_out_truth", "left_out_predicted"]  # the true and predicted centres the border left out


def _table(points, **columns) -> pd.DataFrame:
    return pd.DataFrame({"y": [p[0] for p in points], "x": [p[1] for p in points], **columns})


def test_a_pair_counts_where_its_true_centre_lies():
    truth = _table([(50.0, 50.0), (50.0, 6.0), (99.5, 50.0), (60.0, 60.0)])
    predicted = _table([(50.5, 50.0), (50.0, 9.0), (97.0, 50.0), (2.0, 50.0), (30.0, 30.0)])
    table = evaluate_frames(predicted, truth, border=BORDER, shape=(100, 100))
    pooled = table.iloc[-1]
    # (50, 9) is inside but paired with a true centre in the band: left out with it, not a false positive;
    # (2, 50) is unpaired in the band; (30, 30) unpaired inside; (60, 60) missed inside.
    assert pooled[["tp", "fp", "fn"]].tolist() == [1, 1, 1]
    assert pooled[LEFT_OUT].tolist() == [2, 3]
    assert table.iloc[0][LEFT_OUT].tolist() == [2, 3]
    # Without a border the table is as it was: every centre scored, no left-out columns.
    plain = evaluate_frames(predicted, truth)
    assert plain.iloc[-1][["tp", "fp", "fn"]].tolist() == [3, 2, 1] and not set(LEFT_OUT) & set(plain.columns)


def test_each_file_is_bounded_by_its_own_image_size():
    # x = 90 is 9 px inside a 100 px wide image, 1 px inside a 92 px one.
    predicted = pd.concat([_table([(40.0, 90.0)], file="wide.tif"), _table([(40.0, 90.0)], file="narrow.tif")])
    truth = predicted.assign(y=predicted["y"] + 50)  # nothing paired: the border decides each false positive
    table = evaluate_frames(predicted, truth, border=BORDER, shape={"wide.tif": (100, 100), "narrow.tif": (100, 92)})
    assert table[["file", "fp", "fn"]].values.tolist() == [["wide.tif", 1, 1], ["narrow.tif", 0, 0], ["all", 1, 1]]
    with pytest.raises(ValueError, match="shape: no \\(height, width\\) of file narrow.tif"):
        evaluate_frames(predicted, truth, border=BORDER, shape={"wide.tif": (100, 100)})
    with pytest.raises(ValueError, match="a border needs the images' size"):
        evaluate_frames(predicted, truth, border=BORDER)


def _synth_stack(capsys, folder) -> pd.DataFrame:
    code, _, err = run_cli(capsys, "synth", folder, "--stack", "--n", "2", "--seed", "4", "--shape", "64", "64",
                           "--area-fraction", "0.6")
    assert code == 0, err
    return pd.read_csv(folder / "stack.csv")


def _edge_detections(truth: pd.DataFrame, shape=(64, 64)) -> pd.DataFrame:
    """Detections of particles centred outside the image: 1 px inside the edge, far from every true centre."""
    rows = []
    for frame, centres in truth.groupby("frame"):
        for x in np.arange(4.0, shape[1] - 4, 6.0):
            if np.hypot(centres["y"] - 1.0, centres["x"] - x).min() > 6:
                rows.append({"frame": frame, "y": 1.0, "x": x})
    return pd.DataFrame(rows)


def test_evaluate_border_reads_synths_image_size_and_says_what_it_left_out(tmp_path, capsys):
    truth = _synth_stack(capsys, tmp_path / "st")
    edge = _edge_detections(truth)
    assert len(edge)
    predicted = tmp_path / "det.csv"
    pd.concat([truth, edge]).to_csv(predicted, index=False)  # every listed particle found, and the cut ones

    code, out, _ = run_cli(capsys, "evaluate", predicted, tmp_path / "st" / "stack.csv", "--json")
    assert code == 0 and json.loads(out)["fp"] == len(edge)  # the cut particles read as false positives

    code, out, err = run_cli(capsys, "evaluate", predicted, tmp_path / "st" / "stack.csv", "--border", BORDER)
    assert code == 0, err
    inside = truth["y"].between(BORDER, 63 - BORDER) & truth["x"].between(BORDER, 63 - BORDER)
    in_band = int((~inside).sum())
    header, *rows = out.splitlines()
    assert header == (f"border 8 px (image size from {tmp_path / 'st' / 'synth.json'}): left out {in_band} of "
                      f"{len(truth)} true and {in_band + len(edge)} of {len(truth) + len(edge)} predicted centres")
    pooled = rows[-1].split()
    assert pooled[:4] == ["all", str(int(inside.sum())), "0", "0"] and pooled[-2:] == [str(in_band),
                                                                                       str(in_band + len(edge))]


def _detect_record(folder, predicted: pd.DataFrame, shapes: dict[str, list[int]]) -> None:
    """A table and the .json that detect writes beside it, with each input's shape (frames, height, width)."""
    predicted.to_csv(folder / "det.csv", index=False)
    inputs = [{"file": name, "frames": shape[0], "centres": 1, "shape": shape} for name, shape in shapes.items()]
    (folder / "det.json").write_text(json.dumps({"model": "unet.pt", "inputs": inputs}))


def test_evaluate_border_takes_each_files_size_from_detects_json(tmp_path, capsys):
    predicted = pd.concat([_table([(40.0, 90.0)], file="wide.tif", frame=0),
                           _table([(40.0, 90.0)], file="narrow.tif", frame=0)])
    _detect_record(tmp_path, predicted, {"wide.tif": [1, 100, 100], "narrow.tif": [1, 100, 92]})
    predicted.assign(y=predicted["y"] + 50).to_csv(tmp_path / "truth.csv", index=False)
    code, out, err = run_cli(capsys, "evaluate", tmp_path / "det.csv", tmp_path / "truth.csv", "--border", BORDER,
                             "--json")
    assert code == 0, err
    assert [json.loads(out)[k] for k in ("fp", "fn", *LEFT_OUT)] == [1, 1, 1, 1]  # the narrow image's in the band
    # One file of the table, named by --file: its own size.
    predicted[predicted["file"] == "narrow.tif"].drop(columns="file").to_csv(tmp_path / "one.csv", index=False)
    code, out, err = run_cli(capsys, "evaluate", tmp_path / "det.csv", tmp_path / "one.csv", "--border", BORDER,
                             "--file", "narrow", "--json")
    assert code == 0, err
    assert [json.loads(out)[k] for k in ("tp", "fp", *LEFT_OUT)] == [0, 0, 1, 1]


def test_evaluate_border_refusals_are_one_line(tmp_path, capsys):
    centres = tmp_path / "centres.csv"
    _table([(10.0, 10.0)], frame=0).to_csv(centres, index=False)
    line = refused(capsys, "evaluate", centres, centres, "--border", BORDER)
    assert f"{centres}: --border needs the image size: give --shape H W" in line
    code, _, err = run_cli(capsys, "evaluate", centres, centres, "--border", BORDER, "--shape", 64, 64)
    assert code == 0, err
    assert "give --border PX too" in refused(capsys, "evaluate", centres, centres, "--shape", 64, 64)
    volume = tmp_path / "volume.csv"
    _table([(10.0, 10.0)], frame=0, z=[3.0]).to_csv(volume, index=False)
    # Volumes take a border too (tests/test_volume_evaluate_audit.py), but their Z Y X size.
    assert "holds volumes; give their Z Y X" in refused(capsys, "evaluate", volume, volume, "--border", 3,
                                                        "--shape", 64, 64)
    # A file only the truth holds has no size in detect's .json: asked for (after the warning that it is only
    # there), not scored to the edge.
    predicted = _table([(40.0, 40.0)], file="a.tif", frame=0)
    _detect_record(tmp_path, predicted, {"a.tif": [1, 64, 64]})
    pd.concat([predicted, predicted.assign(file="b.tif")]).to_csv(tmp_path / "truth.csv", index=False)
    code, out, err = run_cli(capsys, "evaluate", tmp_path / "det.csv", tmp_path / "truth.csv", "--border", BORDER)
    assert code == 2 and not out
    assert err.splitlines()[-1] == (f"particle-detect: error: b.tif: --border needs the image size: give --shape H W "
                                    f"(no synth.json beside {tmp_path / 'truth.csv'}, and {tmp_path / 'det.json'} "
                                    "records no shape of it)")


def test_synth_help_says_the_truth_leaves_out_cut_particles_and_how_seeds_follow(capsys):
    with pytest.raises(SystemExit):
        main(["synth", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "the truth lists only the centres inside: score detections with evaluate --border" in out
    assert "--seed S --n N uses seeds S..S+N-1: a test set needs a seed at least N past its training set's" in out
