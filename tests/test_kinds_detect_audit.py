"""A colloid physicist's audit of rods and bead chains: an uneven background is flattened for the kinds as
for spheres (an even one detected exactly as before), chain beads of a size the model did not learn are
resampled to one it did and said so, synth draws chains at that size and writes stacks that name their
axes, and evaluate refuses a truth without frames against a stack's detections."""

import json
import logging

import numpy as np
import pandas as pd
import pytest
import tifffile
import torch

from napari_particle_detect import detect
from napari_particle_detect.cli.main import main
from napari_particle_detect.detection.kinds_prediction import detect_kind, model_for, predict_maps
from napari_particle_detect.detection.networks import prepare_network
from napari_particle_detect.detection.percentiles import percentiles
from napari_particle_detect.detection.preprocessing import PERCENTILES, normalise
from napari_particle_detect.files.axes import file_axes
from napari_particle_detect.kinds import chains, rods
from napari_particle_detect.kinds.registry import get_kind
from napari_particle_detect.synthetic.chains import benchmark_chain_config, synthesize_chains
from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods


def run_cli(capsys, *args):
    code = main(["-q", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def under_ramp(image: np.ndarray, times: float) -> np.ndarray:
    """``image`` in 3,000 grey levels under a ramp across x of ``times`` its contrast, on a camera's offset of
    20,000 (16 bit), as the audit made it."""
    image = image.astype(np.float64)
    image = 3000 * (image - image.min()) / (image.max() - image.min())
    low, high = percentiles(image, PERCENTILES)
    ramp = np.linspace(0.0, times * (high - low), image.shape[1])[None, :]
    return (20000 + image + ramp).astype(np.uint16)


def test_rods_under_a_strong_ramp_are_found_as_evenly_lit_and_it_is_said(caplog):
    sample = synthesize_rods(benchmark_rod_config("fluorescent", 0.15, shape=(192, 192)), seed=400_000)
    truth = sample.table.assign(frame=0)
    even = rods.evaluate_rods(detect(sample.image, kind="rods", device="cpu"), truth)[0].f1
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        found = detect(under_ramp(sample.image, 8.5), kind="rods", device="cpu", name="ramp.tif")
    # Before, none of its 21 rods was found under it, with no word.
    assert rods.evaluate_rods(found, truth)[0].f1 >= even - 0.05 > 0.8
    said = [r.getMessage() for r in caplog.records if "uneven illumination" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("ramp.tif: uneven illumination") and "1 frame" in said[0]


def test_an_evenly_lit_frame_reaches_the_network_exactly_as_before(caplog):
    sample = synthesize_chains(benchmark_chain_config("opaque", 0.3, shape=(128, 128)), seed=400_001)
    device = torch.device("cpu")
    model = model_for("chains", None, device)
    # Before flattening was done for the kinds: the frame normalised as it is, its maps decoded.
    network = prepare_network(model, device, "auto", runtime="auto")
    maps = predict_maps(network, normalise(sample.image.astype(np.float32)), device)
    before = get_kind("chains").decode(maps, model.card.threshold, model.card.min_distance)
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        now = detect_kind(sample.image, "chains", model, device)
    pd.testing.assert_frame_equal(now, before, check_exact=True)
    assert not caplog.records


def test_large_chain_beads_are_resampled_to_the_trained_size_and_it_is_said(caplog):
    # The audit's case: bright-field beads of radius 11-12 px, beyond the 3.5-9 px the model learnt.
    config = benchmark_chain_config("brightfield", 0.3, shape=(192, 192), radius=11.5)
    sample = synthesize_chains(config, seed=8)
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        found = detect(sample.image, kind="chains", device="cpu", name="big.tif")
    scores, _ = chains.evaluate_chains(found, sample.table.assign(frame=0))
    # Before, as they came: bead F1 0.14, bond F1 0 (a bead read as several).
    assert scores.bead_f1 > 0.95 and scores.bond_f1 > 0.9
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and said[0].startswith("big.tif: the beads read about 2")
    assert "7-18 px beads" in said[0] and "resampled by 0.5" in said[0]


def test_chain_beads_of_the_trained_size_are_detected_as_they_come(caplog):
    sample = synthesize_chains(benchmark_chain_config("fluorescent", 0.3, shape=(128, 128)), seed=3)
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        found = detect(sample.image, kind="chains", device="cpu")
    assert not caplog.records
    assert chains.evaluate_chains(found, sample.table.assign(frame=0))[0].bead_f1 > 0.95


def test_synth_draws_chain_beads_of_the_trained_size_unless_told(tmp_path, capsys):
    code, _, err = run_cli(capsys, "synth", tmp_path / "default", "--kind", "chains", "--n", "1", "--shape", "64", "64")
    assert code == 0, err
    drawn = json.loads((tmp_path / "default" / "synth.json").read_text())["optics"]["radius_range"]
    assert drawn == [3.5, 9.0]  # before: the spheres' 4-12 px, beyond what the chains model learnt
    code, _, err = run_cli(capsys, "synth", tmp_path / "given", "--kind", "chains", "--n", "1", "--shape", "64", "64",
                           "--radius", "12", "11")
    assert code == 0, err
    assert json.loads((tmp_path / "given" / "synth.json").read_text())["optics"]["radius_range"] == [11.0, 12.0]


def test_synth_stack_of_rods_names_its_axes(tmp_path, capsys):
    code, _, err = run_cli(capsys, "synth", tmp_path / "s", "--kind", "rods", "--stack", "--n", "2", "--shape",
                           "64", "64", "--area-fraction", "0.1")
    assert code == 0, err
    stack = tmp_path / "s" / "stack.tif"
    # Before, no axes: detect said "its metadata names no axes; give --axes ZYX if it is one volume".
    assert (file_axes(stack).axes, file_axes(stack).source) == ("TYX", "metadata")
    assert tifffile.imread(stack).shape == (2, 64, 64)


def rods_rows(frames: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"frame": frames, "y": 20.0, "x": 30.0, "angle": 10.0, "length": 20.0, "width": 6.0})


@pytest.mark.parametrize("frameless", ["truth", "predicted"])
def test_evaluate_refuses_a_table_without_frames_against_a_stack(tmp_path, capsys, frameless):
    stack, one = tmp_path / "stack.csv", tmp_path / "one.csv"
    rods_rows([0, 1, 2]).to_csv(stack, index=False)
    rods_rows([0]).drop(columns="frame").to_csv(one, index=False)
    predicted, truth = (stack, one) if frameless == "truth" else (one, stack)
    code, out, err = run_cli(capsys, "evaluate", predicted, truth, "--kind", "rods")
    # Before: scored silently, frames 1 and 2 all false positives (or missed).
    assert code == 2 and out == ""
    assert err.startswith(f"particle-detect: error: {one}: no frame column, while {stack} holds 3 frames")
    assert err.count("\n") == 1
    # A truth of one frame against detections of one frame is scored as ever.
    code, out, err = run_cli(capsys, "evaluate", one, one, "--kind", "rods", "--json")
    assert code == 0 and json.loads(out)["f1"] == 1.0
