"""The staged pipeline: band-by-band decoding, tiles from several frames per network call, bounded memory."""

import numpy as np
import pandas as pd
import pytest
import torch

from napari_particle_detect.detection import prediction
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.kinds.evaluation import score
from napari_particle_detect.kinds.heatmap import RESIDUAL, encode, find_peaks, refine, stencil_values
from napari_particle_detect.models import default_model_path, load_model
from napari_particle_detect.detection.steps import DeviceSteps, HostSteps
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize
from napari_particle_detect.detection.tiling import BandDecoder, plan_tiles


@pytest.fixture(scope="module")
def model():
    return load_model(default_model_path("unet"))


@pytest.fixture(scope="module")
def stack() -> np.ndarray:
    return np.stack([synthesize(benchmark_config("fluorescent", 0.5, shape=(136, 120)), seed=s).image
                     for s in range(31, 35)])


def crowded_heatmap() -> np.ndarray:
    rng = np.random.default_rng(9)
    heat = encode(rng.uniform(0, [301, 250], size=(400, 2)), (301, 250))
    heat[100:104, 40:47] = 0.95  # plateaus, one across a band boundary
    heat[150:160, 200:203] = 0.9
    return heat


@pytest.mark.parametrize("steps", [HostSteps(torch.device("cpu")), DeviceSteps(torch.device("cpu"))],
                         ids=["host", "device-on-cpu-tensors"])
@pytest.mark.parametrize("tile", [104, 160, 1024])
def test_band_by_band_peaks_equal_whole_heatmap_peaks(steps, tile):
    heat = crowded_heatmap()
    plan = plan_tiles(heat.shape, 8, tile, 24)
    decoder = BandDecoder(steps, plan, 0.3, 2, keep_heatmap=True)
    padded = np.pad(heat, ((0, plan.window[0]), (0, plan.window[1])))
    as_steps = (lambda a: a) if isinstance(steps, HostSteps) else torch.from_numpy
    for t in plan.tiles:  # the "network" returns the known heatmap's window
        decoder.add(t, as_steps(padded[t.y : t.y + plan.window[0], t.x : t.x + plan.window[1]].copy()))
    assert decoder.done
    peaks, values = decoder.peaks()
    expected = find_peaks(heat, 0.3, 2)
    assert len(plan.band_ends) > 1 or tile == 1024
    assert np.array_equal(peaks, expected)
    assert np.array_equal(values, stencil_values(heat, expected), equal_nan=True)
    kept = decoder.heatmap if isinstance(decoder.heatmap, np.ndarray) else decoder.heatmap.numpy()
    assert np.array_equal(kept, heat)


def merged_pairs_heatmap() -> np.ndarray:
    """Broad peaks, many of them two particles 3-4 px apart that draw one maximum (as a network does)."""
    rng = np.random.default_rng(4)
    first = rng.uniform(0, [301, 250], size=(150, 2))
    second = first + 3.5 * np.stack([np.cos(a := rng.uniform(0, np.pi, 150)), np.sin(a)], axis=1)
    heat = sum(encode(p[None], (301, 250), 2.0) for p in np.concatenate([first, second]))
    return np.clip(heat * 0.6, 0, 1).astype(np.float32)


def decode_in_tiles(steps, heat: np.ndarray, tile: int, residual, threshold: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    plan = plan_tiles(heat.shape, 8, tile, 24)
    decoder = BandDecoder(steps, plan, threshold, 2, residual=residual, sigma=1.5)
    padded = np.pad(heat, ((0, plan.window[0]), (0, plan.window[1])))
    as_steps = (lambda a: a) if isinstance(steps, HostSteps) else torch.from_numpy
    for t in plan.tiles:
        decoder.add(t, as_steps(padded[t.y : t.y + plan.window[0], t.x : t.x + plan.window[1]].copy()))
    return decoder.peaks()


@pytest.mark.parametrize("steps", [HostSteps(torch.device("cpu")), DeviceSteps(torch.device("cpu"))],
                         ids=["host", "device-on-cpu-tensors"])
@pytest.mark.parametrize("tile", [104, 160])
def test_particles_left_in_the_residual_are_the_same_band_by_band(steps, tile):
    heat = merged_pairs_heatmap()
    whole, whole_values = decode_in_tiles(HostSteps(torch.device("cpu")), heat, 1024, RESIDUAL)
    plain, _ = decode_in_tiles(HostSteps(torch.device("cpu")), heat, 1024, None)
    assert len(whole) > len(plain) + 10  # the residual holds many of the merged pairs' second particles
    assert np.array_equal(plain, whole[: len(plain)])  # the heatmap's own peaks come first, unchanged
    peaks, values = decode_in_tiles(steps, heat, tile, RESIDUAL)
    assert np.array_equal(peaks, whole)
    assert np.allclose(values, whole_values, equal_nan=True, atol=1e-6)


def test_residual_particles_do_not_depend_on_the_threshold_scored_at():
    # A round scores its held-out tiles at a low threshold and then picks one: what passes there must
    # be what detection at that threshold finds.
    heat, host = merged_pairs_heatmap(), HostSteps(torch.device("cpu"))
    high, high_values = decode_in_tiles(host, heat, 160, RESIDUAL, threshold=0.5)
    low, low_values = decode_in_tiles(host, heat, 160, RESIDUAL, threshold=0.05)
    passing = low_values[0] > 0.5
    assert 0 < passing.sum() < len(low)
    key = lambda p: sorted(map(tuple, p.tolist()))  # noqa: E731
    assert key(low[passing]) == key(high)


def test_a_lone_peak_leaves_nothing_and_a_hidden_neighbour_is_found():
    steps = HostSteps(torch.device("cpu"))
    lone = encode(np.array([[40.0, 40.0]]), (80, 80), 1.5)
    assert len(decode_in_tiles(steps, lone, 1024, RESIDUAL)[0]) == 1
    # A dimmer particle 3 px from a brighter one is no local maximum (the bright one's flank is higher
    # within min_distance of it): a shoulder the residual shows.
    pair = encode(np.array([[40.0, 38.0], [40.0, 41.0]]), (80, 80), 1.5, heights=np.array([1.0, 0.8]))
    assert len(find_peaks(pair, 0.3, 2)) == 1
    peaks, values = decode_in_tiles(steps, pair, 1024, RESIDUAL)
    assert len(peaks) == 2
    assert np.allclose(refine(peaks, values)[1], [40.0, 41.0], atol=0.75)


def test_tiles_own_every_pixel_once():
    for shape, tile in (((301, 250), 104), ((64, 700), 160), ((9, 9), 1024)):
        plan = plan_tiles(shape, 8, tile, 24)
        count = np.zeros(shape, int)
        for t in plan.tiles:
            count[t.dest] += 1
        assert (count == 1).all(), shape


def test_batched_frames_agree_with_frame_by_frame(model, stack):
    torch.set_num_threads(2)
    network = prediction.prepare_network(model, torch.device("cpu"), "float32")
    scale = model.card.canonical_diameter / 11.0
    for tile, batch in ((1024, 3), (160, 5)):  # one tile a frame, and several with batches across frames
        batched = list(prediction.iter_detect(stack, model, "cpu", diameter=11.0, precision="float32", tile=tile,
                                              batch_size=batch, heatmaps=False))
        assert [i for i, _, _ in batched] == [0, 1, 2, 3]
        for index, result, _ in batched:
            alone = prediction.detect_frame(model, stack[index], "cpu", scale=scale, tile=tile, batch_size=1,
                                            network=network)
            assert len(alone.centres) > 20 and len(result.centres) == len(alone.centres)
            assert score(result.centres, alone.centres, tolerance=0.002).tp == len(alone.centres)
            assert np.abs(np.sort(result.scores) - np.sort(alone.scores)).max() < 1e-4
            assert result.heatmap is None and alone.heatmap is not None


def test_batched_frames_on_the_device_steps_agree_with_the_host(model, stack, monkeypatch):
    torch.set_num_threads(2)
    host = prediction.detect(stack, model, device="cpu", precision="float32", diameter=11.0, batch_size=1)
    monkeypatch.setattr(prediction, "steps_on_device", lambda device: True)
    device = prediction.detect(stack, model, device="cpu", precision="float32", diameter=11.0, batch_size=4)
    assert len(host) > 80 and len(device) == len(host)
    for frame in range(len(stack)):
        a, b = host[host.frame == frame], device[device.frame == frame]
        assert score(b[["y", "x"]].to_numpy(), a[["y", "x"]].to_numpy(), tolerance=0.002).tp == len(a)


def test_frames_are_yielded_in_the_order_asked(model, stack):
    order = [3, 0, 2]
    got = [i for i, _, _ in prediction.iter_detect(stack, model, "cpu", diameter=11.0, frames=order, batch_size=2)]
    assert got == order


def test_stopping_early_leaves_no_reader_running(model, stack):
    frames = prediction.iter_detect(stack, model, "cpu", diameter=11.0, batch_size=1)
    next(frames)
    frames.close()  # as a cancelled GUI worker does


def test_running_out_of_memory_is_one_clear_line(model):
    da = pytest.importorskip("dask.array")
    # A terabyte frame: reading it fails to allocate, as a too-big image on a small machine does.
    huge = da.zeros((1, 1_000_000, 1_000_000), dtype=np.uint8, chunks=(1, 100_000, 100_000))
    with pytest.raises(ParticleDetectError, match="huge.zarr: out of host memory on a 1000000x1000000 px frame"):
        prediction.detect(huge, model, device="cpu", diameter=12.0, name="huge.zarr")


@pytest.mark.parametrize("said", [
    "[ONNXRuntimeError] : 1 : FAIL : BFCArena::AllocateRawInternal Failed to allocate memory for requested buffer",
    "Exception from src/inference: [CPU] ConvolutionBackpropData node: can't alloc 34668544 bytes",
])
def test_the_cpu_runtimes_running_out_of_memory_is_one_clear_line_too(model, stack, monkeypatch, said):
    # ONNX Runtime's Fail (no RuntimeError) and OpenVINO's words came out as tracebacks, exit 1.
    from onnxruntime.capi.onnxruntime_pybind11_state import Fail

    def out_of_memory(*args, **kwargs):
        raise (Fail if "ONNX" in said else RuntimeError)(said)

    monkeypatch.setattr(prediction, "run_network", out_of_memory, raising=False)
    monkeypatch.setattr(prediction, "decoded_heatmaps", out_of_memory)
    with pytest.raises(ParticleDetectError, match="big.tif: out of host memory on a .* px frame"):
        prediction.detect(stack, model, device="cpu", diameter=11.0, name="big.tif")
    monkeypatch.setattr(prediction, "decoded_heatmaps", lambda *a, **k: (_ for _ in ()).throw(ValueError("other")))
    with pytest.raises(ValueError, match="other"):  # anything else is not called memory
        prediction.detect(stack, model, device="cpu", diameter=11.0, name="big.tif")


@pytest.mark.parametrize("diameter", [11.0, None])
def test_a_frame_with_nan_pixels_late_in_a_stack_loses_only_itself(model, stack, diameter, caplog):
    # One NaN frame at 28 of 30 threw the 28 frames before it away (exit 2, no CSV). A few NaN pixels are a
    # mosaic's gaps, detected around (test_nan_gaps); a frame NaN in every pixel is a blank frame.
    damaged = np.array(stack, dtype=np.float32)
    damaged[-1] = np.nan
    damaged[0] = np.inf  # the first frame too, where the size is estimated
    whole = prediction.detect(np.array(stack, dtype=np.float32), model, "cpu", diameter=diameter or 11.0)
    with caplog.at_level("WARNING", logger="napari_particle_detect"):
        table = prediction.detect(damaged, model, "cpu", diameter=diameter, name="reg.tif")
    last, first = len(stack) - 1, 0
    assert set(table["frame"]) == set(range(1, last))  # the others, all of them
    middle = lambda t: t[(t["frame"] > first) & (t["frame"] < last)].reset_index(drop=True)
    if diameter is not None:
        pd.testing.assert_frame_equal(middle(table), middle(whole))
    said = [r.getMessage() for r in caplog.records if "NaN or infinite" in r.getMessage()]
    assert len(said) == 2 and all("every pixel is NaN or infinite (a blank frame): no centres; the rest of the "
                                  "stack is detected" in m for m in said), said
    with pytest.raises(ParticleDetectError, match="^image: every pixel is NaN or infinite; nothing to detect"):
        prediction.detect(damaged[-1], model, "cpu", diameter=diameter)  # one image: refused, as before
