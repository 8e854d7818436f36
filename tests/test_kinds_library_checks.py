"""The library checks rods and chains tables as the command line does (evaluate_*, read_centres, write_centres,
chain_summary: the kind's check_table), the per-chain table is public API (chain_summary, rings without an
end-to-end distance), and `evaluate --kind --file` counts the frames of the file it scores only."""

import json

import numpy as np
import pandas as pd
import pytest

import napari_particle_detect
from napari_particle_detect import evaluate_chains, evaluate_rods, read_centres, write_centres
from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.kinds import chains
from napari_particle_detect.kinds.chains import chain_summary, keep_beads
from napari_particle_detect.kinds.registry import write_kind_table


def straight_chain(beads: int, spacing: float = 10.0, frame: int = 0, chain: int = 0) -> pd.DataFrame:
    """One open chain of ``beads`` beads along x, ``spacing`` px apart."""
    return pd.DataFrame({"frame": frame, "y": 50.0, "x": 20.0 + spacing * np.arange(beads), "score": 0.9,
                         "chain": chain, "index": np.arange(beads), "closed": 0})


def ring(beads: int, radius: float, chain: int) -> pd.DataFrame:
    turn = 2 * np.pi * np.arange(beads) / beads
    return pd.DataFrame({"frame": 0, "y": 150.0 + radius * np.sin(turn), "x": 150.0 + radius * np.cos(turn),
                         "score": 0.9, "chain": chain, "index": np.arange(beads), "closed": 1})


def test_evaluate_chains_refuses_a_chain_filtered_with_a_gap_and_keep_beads_scores_it():
    beads = straight_chain(5).assign(score=[0.9, 0.9, 0.2, 0.9, 0.9])
    gapped = beads[beads.score > 0.5]  # chain 0 holds indices 0, 1, 3, 4
    # Before: scored, with a bond invented between beads 1 and 3 and counted as a false bond.
    with pytest.raises(ParticleDetectError) as refused:
        evaluate_chains(gapped, beads)
    message = str(refused.value)
    assert message.startswith("predicted: chain 0 (frame 0) has a gap or repeat in its index at 2")
    assert "napari_particle_detect.keep_beads(table, keep)" in message and "\n" not in message
    kept = keep_beads(beads, beads.score > 0.5)  # two chains, 0-1 and 3-4, each numbered from 0
    assert kept[["chain", "index"]].to_numpy().tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    _, counts = evaluate_chains(kept, beads)
    assert (counts["bond_tp"], counts["bond_fp"], counts["bond_fn"]) == (2, 0, 2)


def test_evaluate_rods_refuses_an_angle_out_of_range():
    rods = pd.DataFrame({"frame": 0, "y": [40.0, 120.0], "x": [40.0, 120.0], "angle": [20.0, 70.0],
                         "length": 30.0, "width": 6.0})
    # Before: an angle of 190 was scored as one.
    with pytest.raises(ParticleDetectError, match=r"^predicted: angle 190 on row 1 is out of range \[0, 180\)"):
        evaluate_rods(rods.assign(angle=[190.0, 70.0]), rods)


def test_read_and_write_centres_refuse_a_chains_table_with_a_gap(tmp_path):
    beads = straight_chain(5)
    gapped = beads[beads["index"] != 2]
    path = tmp_path / "gapped.csv"
    gapped.to_csv(path, index=False)
    # Before: read and written without a word, then refused by `particle-detect evaluate --kind chains`.
    with pytest.raises(ParticleDetectError, match=f"^{path}: chain 0 \\(frame 0\\) has a gap or repeat"):
        read_centres(path)
    written = tmp_path / "written.csv"
    with pytest.raises(ParticleDetectError, match=f"^{written} \\(not written\\): chain 0 \\(frame 0\\) has a gap"):
        write_centres(gapped, written)
    assert not written.exists()
    write_centres(beads, written)  # a whole chain is written and read back as ever
    assert read_centres(written)["index"].tolist() == [0, 1, 2, 3, 4]


def test_chain_summary_is_public_gives_a_ring_no_end_to_end_and_refuses_a_gap(tmp_path):
    assert napari_particle_detect.chain_summary is chains.chain_summary
    assert napari_particle_detect.keep_beads is chains.keep_beads
    table = pd.concat([straight_chain(4), ring(8, 20.0, chain=1)], ignore_index=True)
    summary = chain_summary(table)
    assert summary.columns.tolist() == chains.CHAIN_SUMMARY_COLUMNS
    assert summary["end_to_end"].iloc[0] == pytest.approx(30.0)
    # Before: the ring's first to last bead, one bond (15.3 px), mixed into <R^2> averages.
    assert np.isnan(summary["end_to_end"].iloc[1]) and summary["closed"].tolist() == [0, 1]
    assert summary["contour_length"].iloc[1] == pytest.approx(8 * 2 * 20.0 * np.sin(np.pi / 8))
    # Several files: chains numbered per file, so summarised per file, the file last.
    two_files = pd.concat([straight_chain(3).assign(file="a.tif"), straight_chain(2).assign(file="b.tif")])
    assert chain_summary(two_files)[["file", "beads"]].to_numpy().tolist() == [["a.tif", 3], ["b.tif", 2]]
    gapped = table[table["index"] != 1]
    with pytest.raises(ParticleDetectError, match=r"^chain_summary: chain 0 \(frame 0\) has a gap"):
        chain_summary(gapped)
    out = tmp_path / "out.csv"
    with pytest.raises(ParticleDetectError, match=f"^{out} \\(not written\\): chain 0"):
        write_kind_table(gapped, out, "chains")
    assert not out.exists() and not out.with_suffix(".chains.csv").exists()


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = main(["-q", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_evaluate_file_of_one_frame_from_a_table_with_a_stack(tmp_path, capsys):
    # What `detect stack.tif image_000.tif --kind chains -o multi.csv` writes: three frames of the stack, one of
    # the image; and the image's truth, with no frame column.
    stack = pd.concat([straight_chain(3, frame=f) for f in range(3)]).assign(file="stack.tif")
    multi = pd.concat([stack, straight_chain(4).assign(file="image_000.tif")], ignore_index=True)
    multi.to_csv(tmp_path / "multi.csv", index=False)
    truth = tmp_path / "image_000.csv"
    straight_chain(4).drop(columns="frame").to_csv(truth, index=False)
    # Before: refused ("multi.csv holds 3 frames of an image"), counting the stack's frames.
    code, out, err = run_cli(capsys, "evaluate", tmp_path / "multi.csv", truth, "--kind", "chains",
                             "--file", "image_000.tif", "--json")
    assert code == 0, err
    assert json.loads(out)["bond_f1"] == 1.0
    code, out, err = run_cli(capsys, "evaluate", tmp_path / "multi.csv", truth, "--kind", "chains",
                             "--file", "stack.tif")
    assert code == 2 and out == ""
    assert err.startswith(f"particle-detect: error: {truth}: no frame column, while {tmp_path / 'multi.csv'} "
                          "holds 3 frames")
