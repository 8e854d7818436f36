"""A mosaic's gaps (NaN or infinite pixels) are missing data beyond sphere detection too: trackpy's measurements
read around them, rods and chains are detected around them, the normalising range can be read without the filled
gaps; and a train or recipe run stopped by SIGTERM (a batch system's time limit) keeps its steps as Ctrl-C does."""

from __future__ import annotations

import json
import logging
import signal

import numpy as np
import pandas as pd
import pytest
import tifffile
import torch
from scipy import ndimage

import napari_particle_detect.learning.training as training
from napari_particle_detect.cli.kinds import write_stack
from napari_particle_detect.cli.main import main
from napari_particle_detect.detection import device_pipeline
from napari_particle_detect.detection.kinds_prediction import detect_kind
from napari_particle_detect.detection.measurements import MEASUREMENT_COLUMNS, measure_table, trackpy_diameter
from napari_particle_detect.detection.percentiles import percentiles
from napari_particle_detect.detection.preprocessing import PERCENTILES
from napari_particle_detect.kinds import chains, rods
from napari_particle_detect.kinds.evaluation import score
from napari_particle_detect.synthetic.chains import benchmark_chain_config, synthesize_chains
from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

# Centres closer to a gap than this share of the objects' radius (half width) belong to objects the gap cuts.
CUT = 0.5


def distance_to_gaps(missing: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Each of ``points``' nearest pixel's distance (px) to the nearest missing pixel."""
    where = np.clip(np.rint(points).astype(int), 0, np.array(missing.shape) - 1)
    return ndimage.distance_transform_edt(~missing)[tuple(where.T)]


def gap_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "NaN or infinite" in r.getMessage()]


def striped(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``image`` in float32 with a stitcher's gaps (a stripe and a band) set to NaN, and their mask."""
    missing = np.zeros(image.shape, bool)
    missing[:, 56:66] = True
    missing[-20:, :] = True
    return np.where(missing, np.nan, image.astype(np.float32)), missing


# ---- 1: trackpy's measurements on a gapped image ---------------------------------------------------------------
def test_measurements_read_around_gaps_and_are_nan_only_where_the_circle_reaches_one():
    # On a float image with NaN stripes, the band-pass spread NaN into the size of centres ~22 px from a gap.
    sample = synthesize(benchmark_config("fluorescent", 0.3, (128, 128)), seed=4)
    gapped, missing = striped(sample.image)
    table = pd.DataFrame({"frame": 0, "y": sample.centres[:, 0], "x": sample.centres[:, 1]})
    measured = measure_table(gapped, table, 12.0, invert=False)[list(MEASUREMENT_COLUMNS)]
    whole = measure_table(sample.image.astype(np.float32), table, 12.0, invert=False)[list(MEASUREMENT_COLUMNS)]
    distance = distance_to_gaps(missing, sample.centres)
    reaches = distance <= trackpy_diameter(12.0) // 2  # the circle trackpy sums
    assert 0 < reaches.sum() < len(table) // 2
    assert measured.isna().all(axis=1).eq(reaches).all() and measured.notna().all(axis=1).eq(~reaches).all()
    np.testing.assert_array_equal(measured["raw_mass"][~reaches], whole["raw_mass"][~reaches])
    # Beyond the band-pass's reach (the circle's 6 px, its boxcar's 6, its noise filter's 4) as without the gaps, but
    # for the integer conversion's scale, set by the brightest band-passed pixel, which a gap may hide.
    far = distance > 16
    assert far.sum() >= 10
    np.testing.assert_allclose(measured[far].drop(columns="ecc"), whole[far].drop(columns="ecc"), rtol=0.02)
    np.testing.assert_allclose(measured["ecc"][far], whole["ecc"][far], atol=0.01)


def test_dark_particles_beside_a_gap_are_measured_inverted_and_recorded_so(tmp_path, capsys):
    # A NaN made the frame's median NaN, so dark particles were judged bright and measured uninverted.
    sample = synthesize(benchmark_config("opaque", 0.3, (128, 128)), seed=3)
    gapped, missing = striped(sample.image)
    tifffile.imwrite(tmp_path / "dark.tif", gapped)
    code = main(["-q", "detect", str(tmp_path / "dark.tif"), "-o", str(tmp_path / "out.csv"), "--measure",
                 "--diameter", "12", "--device", "cpu"])
    assert code == 0, capsys.readouterr().err
    record = json.loads((tmp_path / "out.json").read_text())["inputs"][0]
    assert record["measure"] == {"trackpy_diameter": 13, "inverted": True}
    found = pd.read_csv(tmp_path / "out.csv")
    unmeasured = found[list(MEASUREMENT_COLUMNS)].isna().any(axis=1).to_numpy()
    np.testing.assert_array_equal(unmeasured, distance_to_gaps(missing, found[["y", "x"]].to_numpy()) <= 6)
    assert (found["mass"][~unmeasured] > 0).all()


# ---- 2: rods and chains around gaps ----------------------------------------------------------------------------
def kind_sample(kind: str):
    if kind == "rods":
        return synthesize_rods(benchmark_rod_config("fluorescent", 0.15, shape=(160, 160)), seed=123)
    return synthesize_chains(benchmark_chain_config("fluorescent", 0.25, shape=(128, 128)), seed=124)


def rods_clear(table: pd.DataFrame, missing: np.ndarray) -> np.ndarray:
    """Which rods lie clear of the gaps: their axis farther than CUT half widths, their tips than a half width."""
    clear = []
    for _, rod in table.iterrows():
        tips = np.array([[rod["y1"], rod["x1"]], [rod["y2"], rod["x2"]]])
        axis = np.linspace(*tips, 200)
        clear.append(bool((distance_to_gaps(missing, axis) > CUT * rod["width"] / 2).all()
                          and (distance_to_gaps(missing, tips) > rod["width"] / 2).all()))
    return np.array(clear, bool)


@pytest.mark.parametrize("kind", ["rods", "chains"])
def test_rods_and_chains_are_detected_around_gaps_and_none_that_a_gap_cuts_is_kept(kind, caplog):
    # One NaN pixel refused the image ("image contains NaN or infinite values") and blanked a stack's frame.
    sample = kind_sample(kind)
    gapped, missing = striped(sample.image)
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        found = detect_kind(gapped, kind, device="cpu", name="mosaic.tif")
    share = f"{100 * missing.mean():.3g} %"
    assert gap_lines(caplog) == [
        f"mosaic.tif: {missing.sum()} NaN or infinite pixels in 1 frame, {share} of their pixels (a mosaic's "
        "gaps?), read as missing: detected around them, and no centre kept within half a particle radius"]
    truth = sample.table.assign(frame=0)
    if kind == "rods":
        assert len(found) and rods_clear(found, missing).all()
        kept, _ = rods.evaluate_rods(found, truth[rods_clear(truth, missing)])
        assert kept.f1 > 0.85
        return
    chains.check_table(found, "found")  # a chain the gap cut is its pieces, each indexed from 0
    bead_radius = found.attrs["diameter"] / 2
    assert len(found) and (distance_to_gaps(missing, found[["y", "x"]].to_numpy()) > CUT * bead_radius).all()
    outside = distance_to_gaps(missing, truth[["y", "x"]].to_numpy()) > bead_radius
    assert score(found[["y", "x"]].to_numpy(), truth[outside][["y", "x"]].to_numpy()).recall > 0.9


def test_a_rods_stack_with_a_gapped_frame_and_an_all_nan_one_on_the_command_line(tmp_path, capsys):
    # The gapped frame was skipped as blank; an image with a gap was refused whole.
    image = synthesize_rods(benchmark_rod_config("fluorescent", 0.15, shape=(96, 96)), seed=123).image
    gapped, _ = striped(image)
    path = tmp_path / "mosaic.tif"
    write_stack(path, [image.astype(np.float32), gapped, np.full(image.shape, np.nan, np.float32)])
    code = main(["-q", "detect", str(path), "--kind", "rods", "-o", str(tmp_path / "out.csv"), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert set(pd.read_csv(tmp_path / "out.csv")["frame"]) == {0, 1}
    assert err.strip().splitlines() == [
        f"{path} frame 2: every pixel is NaN or infinite (a blank frame): nothing found; the rest of the stack is "
        "detected",
        f"{path}: 2680 NaN or infinite pixels in 1 frame, 29.1 % of their pixels (a mosaic's gaps?), read as "
        "missing: detected around them, and no centre kept within half a particle radius"]


# ---- 3: percentiles of the frame's own pixels ------------------------------------------------------------------
@pytest.mark.parametrize("chunked_above", [1 << 20, 1000], ids=["whole", "chunked"])
def test_percentiles_read_only_the_pixels_asked_for_bit_for_bit(chunked_above):
    rng = np.random.default_rng(0)
    frame = rng.gamma(2.0, 50.0, (300, 300)).astype(np.float32)
    own = np.ones(frame.shape, bool)
    own[:, 100:180] = False  # 27 % of the frame: a gap filled with the local background
    frame[~own] = np.median(frame)
    expected = np.percentile(frame[own], PERCENTILES)
    assert percentiles(frame, PERCENTILES, chunked_above, where=own) == list(expected)
    assert percentiles(frame, PERCENTILES, chunked_above) != list(expected)  # the filled pixels move them
    scaled = device_pipeline.scale_to_percentiles(torch.from_numpy(frame), where=torch.from_numpy(own)).numpy()
    np.testing.assert_allclose(np.percentile(scaled[own], PERCENTILES), [0.0, 1.0], atol=1e-6)


# ---- 4: SIGTERM during training --------------------------------------------------------------------------------
@pytest.mark.parametrize("stop, status", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)], ids=["TERM", "HUP"])
def test_a_stop_signal_mid_step_lets_the_step_end_and_keeps_it_as_ctrl_c_does(tmp_path, monkeypatch, capsys, stop,
                                                                               status):
    # The command line's SIGTERM handler raised KeyboardInterrupt inside the step: the steps done were lost and the
    # line said nothing of --resume.
    out = tmp_path / "m.pt"
    real = training.take_step
    steps = []

    def signalled_in_step_three(*args, **kwargs):
        steps.append(len(steps) + 1)
        if len(steps) == 3:
            assert callable(signal.getsignal(stop)), f"{stop.name} would end the process"
            signal.raise_signal(stop)
        return real(*args, **kwargs)

    before = signal.signal(stop, lambda signum, frame: None)  # a program's own, using the library
    try:
        monkeypatch.setattr(training, "take_step", signalled_in_step_three)
        code = main(["train", "-o", str(out), "--epochs", "1", "--steps-per-epoch", "20", "--batch-size", "2",
                     "--crop", "32", "--threads", "1", "--device", "cpu"])
        after = signal.getsignal(stop)
    finally:
        signal.signal(stop, before)
    err = capsys.readouterr().err.strip().splitlines()
    assert (code, err[-1]) == (status, f"particle-detect: interrupted by {stop.name}; --resume continues at step 4 of "
                                       "epoch 1")
    assert steps == [1, 2, 3] and after is not signal.default_int_handler
    state = training.read_training_state(training.resume_state_path(out))
    assert (state["epoch"], state["step"]) == (0, 3)


def test_a_ctrl_c_and_a_stop_signal_the_application_handles_itself_are_held_only_where_they_stop_it():
    # Held and handled between two steps by their own handlers: one that returns lets training go on.
    calls = []
    before = signal.signal(signal.SIGTERM, lambda signum, frame: calls.append(signum))
    try:
        with training.ctrl_c_between_steps() as interrupted:
            signal.raise_signal(signal.SIGTERM)
            assert calls == [] and not interrupted() and calls == [signal.SIGTERM]
            signal.raise_signal(signal.SIGINT)
            assert interrupted() and interrupted()
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, before)
    with pytest.raises(KeyboardInterrupt):  # held to the block's end: the Ctrl-C acts then
        with training.ctrl_c_between_steps():
            signal.raise_signal(signal.SIGINT)


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_detection_reads_its_percentile_range_from_the_frames_own_pixels_not_its_gaps_fill(scale):
    from napari_particle_detect.detection.preprocessing import PERCENTILES, filled_gaps
    from napari_particle_detect.detection.sizing import rescale_frame
    from napari_particle_detect.detection.steps import HostSteps, own_pixels

    rng = np.random.default_rng(3)
    frame = (rng.gamma(2.0, 10.0, (128, 128)) + np.linspace(0, 40, 128)[None]).astype(np.float32)
    missing = np.zeros(frame.shape, bool)
    missing[:, 90:] = True  # a quarter of the frame and more, on its brighter side
    filled = filled_gaps(np.where(missing, np.nan, frame).astype(np.float32), missing, 16)
    prepared, _ = HostSteps(torch.device("cpu")).prepare([filled.copy()], scale, False, owned=True, missing=missing)
    own = own_pixels(missing, scale)
    resampled, _ = rescale_frame(filled, scale)
    lo, hi = np.percentile(resampled[own], PERCENTILES)
    # The frame's own pixels' percentiles come to 0 and 1, as in a frame without gaps (the fill moved them).
    np.testing.assert_allclose(np.percentile(prepared[own], PERCENTILES), [0.0, 1.0], atol=2e-3)
    everywhere_lo, everywhere_hi = np.percentile(resampled, PERCENTILES)
    assert abs(everywhere_hi - hi) > 0.5 or abs(everywhere_lo - lo) > 0.5  # the test can tell the two apart
