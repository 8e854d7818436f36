"""The GPU-side steps agree with their NumPy/SciPy counterparts (run here on CPU tensors; CI has no GPU)."""

import numpy as np
import pytest
import torch
from scipy import ndimage

from napari_particle_detect.detection import device_pipeline as on_device
from napari_particle_detect.detection import prediction
from napari_particle_detect.kinds.evaluation import score
from napari_particle_detect.kinds.heatmap import encode, find_peaks, one_per_plateau
from napari_particle_detect.models import default_model_path, load_model
from napari_particle_detect.detection.preprocessing import PERCENTILES, normalise
from napari_particle_detect.detection.sizing import rescale_frame
from napari_particle_detect.detection.steps import HostSteps
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return synthesize(benchmark_config("opaque", 0.7, shape=(150, 170)), seed=21).image.astype(np.float32)


def test_percentiles_and_normalise_match_numpy(image):
    tensor = torch.from_numpy(image)
    assert np.allclose(on_device.percentiles(tensor, (0.0, 1.0, 37.5, 99.8, 100.0)),
                       np.percentile(image, (0.0, 1.0, 37.5, 99.8, 100.0)), rtol=1e-6)
    for invert in (False, True):
        assert np.abs(on_device.normalise(tensor, invert).numpy() - normalise(image, invert)).max() < 1e-5
    constant_but_one = np.zeros((20, 20), np.float32)
    constant_but_one[3, 4] = 5.0  # both percentiles 0: falls back to min and max, as NumPy's does
    assert np.array_equal(on_device.normalise(torch.from_numpy(constant_but_one)).numpy(), normalise(constant_but_one))
    assert PERCENTILES[0] < PERCENTILES[1]


@pytest.mark.parametrize("sigma", [0.4, 1.3, 6.0])
def test_gaussian_filter_matches_scipy_even_wider_than_the_image(sigma):
    small = np.random.default_rng(3).random((9, 13)).astype(np.float32)
    expected = ndimage.gaussian_filter(small, sigma)
    assert np.abs(on_device.gaussian_filter(torch.from_numpy(small), sigma).numpy() - expected).max() < 1e-5


@pytest.mark.parametrize("factor", [0.37, 0.8, 1.27, 2.5])
def test_rescale_matches_scipy(image, factor):
    expected, expected_factors = rescale_frame(image, factor)
    scaled, factors = on_device.rescale_frame(torch.from_numpy(image), factor)
    assert scaled.shape == expected.shape
    assert np.array_equal(factors, expected_factors)
    assert np.abs(scaled.numpy() - expected).max() < 1e-4 * np.ptp(image)


def test_find_peaks_matches_including_plateaus():
    heat = encode(np.array([[10.0, 10.0], [10.0, 14.5], [30.0, 31.2], [2.0, 50.0]]), (40, 60))
    heat[20:23, 40:44] = 0.9  # a saturated plateau: one peak, its first pixel in raster order
    heat[5, 5] = heat[5, 6] = 0.8
    expected = find_peaks(heat, 0.3, 2)
    assert [20, 40] in expected.tolist() and [5, 5] in expected.tolist() and len(expected) == 6
    assert np.array_equal(on_device.find_peaks(torch.from_numpy(heat), 0.3, 2), expected)


def test_maxima_and_stencils_match_the_host_steps_in_the_rows_asked_for():
    # Peaks on every edge (stencils reaching out of the heatmap read NaN) and inside.
    heat = encode(np.array([[0.0, 7.0], [39.0, 20.0], [15.0, 0.0], [22.0, 59.0], [18.0, 30.0], [30.0, 45.5]]), (40, 60))
    for rows in ((0, 40), (10, 35), (0, 1), (39, 40), (5, 5)):
        expected = HostSteps(torch.device("cpu")).maxima_and_stencils(heat, 0.3, 2, rows)
        found = on_device.maxima_and_stencils(torch.from_numpy(heat), 0.3, 2, rows)
        assert np.array_equal(found[0], expected[0]) and found[0].dtype == expected[0].dtype
        assert np.array_equal(found[1], expected[1], equal_nan=True) and found[1].dtype == expected[1].dtype
        assert found[1].shape == (5, len(found[0]))
    everything = on_device.maxima_and_stencils(torch.from_numpy(heat), 0.3, 2, (0, 40))
    assert len(everything[0]) == 7 and np.isnan(everything[1]).any()  # the peak at x 45.5: a two-pixel plateau


def test_one_per_plateau_agrees_with_labelling():
    rng = np.random.default_rng(5)
    mask = rng.random((60, 60)) > 0.9
    coords = np.argwhere(mask)
    labels, n = ndimage.label(mask, structure=np.ones((3, 3)))
    first = ndimage.minimum_position(np.arange(mask.size).reshape(mask.shape), labels, range(1, n + 1))
    assert np.array_equal(one_per_plateau(coords), np.array(first))


def test_detect_with_steps_on_the_device_finds_the_same_centres(image, monkeypatch):
    torch.set_num_threads(1)
    model = load_model(default_model_path("unet"))
    expected = prediction.detect(image, model, device="cpu", precision="float32", diameter=11.0)
    monkeypatch.setattr(prediction, "steps_on_device", lambda device: True)
    found = prediction.detect(image, model, device="cpu", precision="float32", diameter=11.0)
    assert len(expected) > 50
    matched = score(found[["y", "x"]].to_numpy(), expected[["y", "x"]].to_numpy(), tolerance=0.002)
    assert matched.tp == len(expected) == len(found)
    assert np.abs(np.sort(found.score.to_numpy()) - np.sort(expected.score.to_numpy())).max() < 1e-4


def test_flipped_and_read_only_frames_go_to_the_device(image, monkeypatch):
    torch.set_num_threads(1)
    model = load_model(default_model_path("unet"))
    flipped = image[::-1]  # a view with a negative stride
    read_only = image.copy()
    read_only.setflags(write=False)  # as a memory-mapped TIFF is
    expected = prediction.detect(flipped, model, device="cpu", precision="float32", diameter=11.0)
    monkeypatch.setattr(prediction, "steps_on_device", lambda device: True)
    found = prediction.detect(flipped, model, device="cpu", precision="float32", diameter=11.0)
    assert score(found[["y", "x"]].to_numpy(), expected[["y", "x"]].to_numpy(), tolerance=0.002).tp == len(expected)
    assert len(prediction.detect(read_only, model, device="cpu", precision="float32", diameter=11.0)) > 50
