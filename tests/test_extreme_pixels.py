"""A few pixels at an extreme value (a hot column, a saturated patch, zero padding) neither squeeze the
particles into a sliver of the intensity range nor stand far outside it; ordinary images normalise as
they always did."""

from dataclasses import replace

import numpy as np
import pytest
import tifffile
import torch
from scipy import ndimage

from napari_particle_detect.detection import device_pipeline as on_device
from napari_particle_detect.detection import prediction
from napari_particle_detect.detection.percentiles import percentiles
from napari_particle_detect.detection.preprocessing import (
    PERCENTILES, SPIKE_MIN_PIXELS, check_frame, find_spikes, normalise, spike_counts)
from napari_particle_detect.detection.sizing import estimate_size
from napari_particle_detect.detection.steps import DeviceSteps, HostSteps
from napari_particle_detect.kinds.evaluation import score
from napari_particle_detect.models import default_model_path, load_model
from napari_particle_detect.shipped import SAMPLE_DATA_DIR
from napari_particle_detect.synthetic.spheres import LOOKS, SynthConfig, benchmark_config, synthesize

SHAPE = (256, 256)


@pytest.fixture(scope="module")
def sample():
    """The audit's generator image (16 bit, at most about 10800), smaller."""
    return synthesize(SynthConfig(look="fluorescent", shape=SHAPE, radius_range=(5.7, 6.3), area_fraction=0.3),
                      seed=1)


@pytest.fixture(scope="module")
def model():
    torch.set_num_threads(1)
    return load_model(default_model_path("unet"))


def with_defect(image: np.ndarray, case: str) -> tuple[np.ndarray, np.ndarray]:
    """``image`` with a defect the audit found, and the mask of the pixels it covers."""
    covered = np.zeros(image.shape, bool)
    if case == "hot column":
        covered[:, 128] = True
        value = 65535
    elif case == "saturated patch":  # 0.6 % of the pixels
        covered[100:120, 100:120] = True
        value = 65535
    else:  # a black stripe (registration padding) on 16-bit data with a camera offset: 1000 to 1200
        floating = image.astype(np.float64)
        image = (1000 + 200 * (floating - floating.min()) / np.ptp(floating)).round().astype(np.uint16)
        covered[:, -10:] = True
        value = 0
    image = image.copy()
    image[covered] = value
    return image, covered


def f1_outside(found, truth: np.ndarray, hidden: np.ndarray) -> float:
    """F1 of the centres outside ``hidden``: the particles a patch or a stripe covers are gone (a one
    pixel column hides none)."""
    def away(points):
        pixels = np.clip(np.rint(points).astype(int), 0, np.array(hidden.shape) - 1)
        return points[~hidden[pixels[:, 0], pixels[:, 1]]]

    return score(away(found[["y", "x"]].to_numpy()), away(truth), 3.0).f1


@pytest.fixture(scope="module")
def clean_f1(sample, model):
    found = prediction.detect(sample.image, model, device="cpu", precision="float32", diameter=12.0)
    return score(found[["y", "x"]].to_numpy(), sample.centres, 3.0).f1


@pytest.mark.parametrize("steps_on_device", [False, True], ids=["numpy steps", "torch steps"])
@pytest.mark.parametrize("case", ["hot column", "saturated patch", "black stripe"])
def test_a_defect_leaves_detection_as_on_the_clean_image(sample, model, clean_f1, case, steps_on_device,
                                                         monkeypatch):
    image, covered = with_defect(sample.image, case)
    hidden = ndimage.binary_dilation(covered, iterations=6) if case != "hot column" else np.zeros_like(covered)
    monkeypatch.setattr(prediction, "steps_on_device", lambda device: steps_on_device)
    found = prediction.detect(image, model, device="cpu", precision="float32", diameter=12.0)
    assert clean_f1 > 0.95
    assert f1_outside(found, sample.centres, hidden) > clean_f1 - 0.03, (case, len(found))


def test_a_defect_left_out_is_said_once_per_call_and_an_ordinary_image_says_nothing(sample, model, caplog):
    stack = np.stack([with_defect(sample.image, "hot column")[0]] * 2)
    with caplog.at_level("WARNING", logger="napari_particle_detect"):
        prediction.detect(stack, model, device="cpu", diameter=12.0, name="hot.tif")
    said = [r.getMessage() for r in caplog.records if "left out of the intensity range" in r.getMessage()]
    assert said == ["hot.tif: 256 px at 65535 (the other pixels at most %g) left out of the intensity range in 2 "
                    "frames (a hot column, a saturated patch or zero padding?)" % sample.image.max()], said
    caplog.clear()
    with caplog.at_level("WARNING", logger="napari_particle_detect"):
        prediction.detect(sample.image, model, device="cpu", diameter=12.0)
    assert not [r for r in caplog.records if "intensity range" in r.getMessage()]


def test_the_size_estimate_reads_the_hot_column_image_as_the_clean_one(sample):
    clean = estimate_size(check_frame(sample.image))
    hot = estimate_size(check_frame(with_defect(sample.image, "hot column")[0]))
    assert abs(hot.diameter / clean.diameter - 1) < 0.1, (hot, clean)


@pytest.mark.parametrize("case", ["hot column", "saturated patch", "black stripe"])
def test_the_defect_is_left_out_of_the_range_and_set_to_its_end(sample, case):
    image, covered = with_defect(sample.image, case)
    reference = normalise(np.where(covered, np.median(image), image))  # nothing extreme in it
    scaled = normalise(image)
    assert np.abs(scaled[~covered] - reference[~covered]).max() < 0.02  # the others keep their range
    end = 0.0 if case == "black stripe" else 1.0
    assert np.abs(scaled[covered] - end).max() < 1e-3
    assert np.abs(normalise(image, invert=True)[covered] - (1 - end)).max() < 1e-3
    on_tensor = on_device.normalise(torch.from_numpy(image.astype(np.float32))).numpy()
    assert np.abs(on_tensor - scaled).max() < 1e-5


@pytest.mark.parametrize("scale", [1.0, 1.25, 0.6])
def test_both_backends_leave_out_the_spike_before_resampling_and_record_it(sample, scale):
    image, covered = with_defect(sample.image, "hot column")
    host, device = HostSteps(torch.device("cpu")), DeviceSteps(torch.device("cpu"))
    on_host, _ = host.prepare([image], scale, False)
    on_tensor, _ = device.prepare([image], scale, False)
    clean, _ = HostSteps(torch.device("cpu")).prepare([sample.image], scale, False)
    assert np.abs(on_tensor.numpy() - on_host).max() < 1e-4
    # Away from the column the network reads what it reads without it; the column is not smeared into
    # its neighbours far above the range.
    band = np.abs(np.arange(on_host.shape[1]) - (128.5 * scale - 0.5)) < 3
    assert np.abs(on_host - clean)[:, ~band].max() < 0.02
    assert on_host.max() <= clean.max() + 0.01
    assert np.array_equal(image, with_defect(sample.image, "hot column")[0])  # the caller's image untouched
    for steps in (host, device):
        assert steps.spikes.frames == 1
        expected = f"{SHAPE[0]} px at 65535 (the other pixels at most {sample.image.max()})"
        assert steps.spikes.first.describe() == expected
    host.prepare([sample.image], scale, False)
    assert host.spikes.frames == 1  # a clean frame adds nothing


def old_normalise(frame: np.ndarray, invert: bool = False) -> np.ndarray:
    """preprocessing.normalise as it was before spikes were left out."""
    frame = np.asarray(frame, dtype=np.float32)
    lo, hi = percentiles(frame, PERCENTILES)
    if hi <= lo:
        lo, hi = float(frame.min()), float(frame.max())
    scaled = (frame - lo) / max(hi - lo, 1e-12)
    return (1.0 - scaled if invert else scaled).astype(np.float32)


def ordinary_images():
    """Real frames (cores saturating at 255, a background saturated at 255), the generator's looks, dim
    photon counts with many zeros, and 8-bit cores saturating."""
    for name in ("seed_demo_opaque_discs_4.tif", "trackpy_bulk_water_3.tif", "trackpy_brightfield_3.tif"):
        yield name, tifffile.imread(SAMPLE_DATA_DIR / name)[0]
    for look in LOOKS:
        for fraction, bits in ((0.05, 16), (0.6, 8)):
            config = replace(benchmark_config(look, fraction, shape=(128, 128)), bit_depth=bits)
            yield f"{look} {fraction} {bits} bit", synthesize(config, seed=3).image
    rng = np.random.default_rng(0)
    for mean in (0.01, 0.1, 1.0):
        yield f"poisson {mean}", rng.poisson(mean, (200, 200)).astype(np.uint16)
    cores = rng.normal(120, 40, (200, 200)) + 200 * (rng.random((200, 200)) < 0.05)
    yield "uint8 cores at 255", np.clip(cores, 0, 255).astype(np.uint8)


def test_ordinary_images_normalise_bit_for_bit_as_before():
    for name, image in ordinary_images():
        assert find_spikes(image) is None, name
        for invert in (False, True):
            assert np.array_equal(normalise(image, invert), old_normalise(image, invert)), name


@pytest.mark.parametrize("top", [True, False])
def test_a_spike_under_the_minimum_counts_where_it_reaches_the_percentile(top):
    rng = np.random.default_rng(4)
    rest = rng.uniform(100, 200, 10000)
    for count in range(1, SPIKE_MIN_PIXELS):
        values = rest.copy()
        values[:count] = 1000.0 if top else 0.0
        level = np.percentile(values, PERCENTILES[1] if top else PERCENTILES[0])
        reached = level > values[count:].max() if top else level < values[count:].min()
        assert spike_counts(count, values.size, top) == reached, count


def test_a_volumes_hot_line_and_zero_padding_are_left_out_of_its_range():
    from napari_particle_detect.detection.volume_resampling import normalise_volume
    from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

    volume = synthesize_volume(VolumeConfig(shape=(12, 48, 48), volume_fraction=0.3, diameter=10.0), seed=2).image
    volume = (1000 + 200 * (volume - volume.min()) / np.ptp(volume)).round().astype(np.uint16)  # a camera offset
    clean = normalise_volume(volume)
    damaged = volume.copy()
    damaged[:, :, 30] = 65535  # a hot line through every slice
    damaged[:, :, -6:] = 0  # and registration padding
    inside = np.ones(volume.shape, bool)
    inside[:, :, 30] = inside[:, :, -6:] = False
    np.testing.assert_allclose(normalise_volume(damaged)[inside], clean[inside], atol=0.02)
    assert damaged.max() == 65535  # the caller's volume is left as it was
    np.testing.assert_array_equal(normalise_volume(volume), clean)  # an ordinary volume: as before


def test_a_memory_mapped_volume_is_never_written_by_normalising_it(tmp_path):
    from napari_particle_detect.detection.volume_resampling import normalise_volume

    volume = np.random.default_rng(0).uniform(100, 200, (6, 32, 32)).astype(np.float32)
    volume[:, :, -4:] = 0  # zero padding: a spike set to the range's end while normalising
    path = tmp_path / "v.npy"
    np.save(path, volume)
    for mode in ("r+", "r"):  # a writable map was changed on disk; a read-only one raised
        mapped = np.load(path, mmap_mode=mode)
        expected = normalise_volume(np.array(mapped))
        np.testing.assert_array_equal(normalise_volume(mapped), expected)
        assert np.array_equal(np.load(path), volume)
