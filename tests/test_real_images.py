"""The shipped model on images nobody here made, with no parameters, and its invariances."""

import numpy as np
import pytest
import tifffile
import torch

from napari_particle_detect import detect, load_model, score
from napari_particle_detect.shipped import SAMPLE_DATA_DIR as SAMPLES
from napari_particle_detect.detection.sizing import rescale_centres_back, rescale_frame
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize


@pytest.fixture(scope="module")
def model():
    torch.set_num_threads(2)
    return load_model()


def trackpy_reference(frame, **kwargs):
    trackpy = pytest.importorskip("trackpy")
    trackpy.quiet()
    return trackpy.locate(frame, **kwargs)[["y", "x"]].to_numpy()


@pytest.mark.xfail(strict=True, reason="known miss (issue 4): the shipped model also finds faint, slightly "
                   "defocused spheres trackpy's minmass=20 drops: 912 centres against 518 on frame 0")
def test_bulk_water_frame_matches_trackpy_count(model):
    frame = tifffile.imread(SAMPLES / "trackpy_bulk_water_3.tif")[0]
    reference = trackpy_reference(frame, diameter=11, invert=True, minmass=20)
    found = detect(frame, model, device="cpu")
    assert abs(len(found) / len(reference) - 1) <= 0.15, (len(found), len(reference))
    assert score(found[["y", "x"]].to_numpy(), reference, 3.0).f1 > 0.8


def test_brightfield_frame_finds_the_five_particles(model):
    frame = tifffile.imread(SAMPLES / "trackpy_brightfield_3.tif")[0]
    reference = trackpy_reference(frame, diameter=15, minmass=300)
    found = detect(frame, model, device="cpu")
    assert found.attrs["ringed"], "bright core in a dark ring: the rim responses must be dropped"
    assert len(reference) == 5
    assert len(found) == 5
    assert score(found[["y", "x"]].to_numpy(), reference, 3.0).tp == 5
    given = detect(frame, model, device="cpu", diameter=17)  # the look is read even when the size is given
    assert given.attrs["ringed"] and len(given) == 5


def test_opaque_disc_demo_count_is_plausible(model):
    frame = tifffile.imread(SAMPLES / "seed_demo_opaque_discs_4.tif")[0]
    # trackpy, tuned for these 19 px discs, counts about 420 in this frame; touching discs make it
    # merge some, so it is a lower bound rather than a truth.
    reference = trackpy_reference(frame, diameter=19, invert=True, separation=11, minmass=2000)
    found = detect(frame, model, device="cpu")
    assert not found.attrs["ringed"]
    assert 0.95 * len(reference) <= len(found) <= 1.25 * len(reference), (len(found), len(reference))


@pytest.mark.parametrize("factor", [0.6, 1.6])
def test_rescaled_copy_gives_the_same_particles(model, factor):
    sample = synthesize(benchmark_config("fluorescent", 0.4, shape=(200, 200)), seed=31337)
    original = detect(sample.image, model, device="cpu")[["y", "x"]].to_numpy()
    copy, factors = rescale_frame(sample.image.astype(np.float32), factor)
    found = detect(copy, model, device="cpu")
    back = rescale_centres_back(found[["y", "x"]].to_numpy(), factors)
    assert score(back, original, 3.0).f1 > 0.9


def test_inverted_polarity_gives_the_same_centres(model):
    sample = synthesize(benchmark_config("opaque", 0.5, shape=(200, 200)), seed=4242)
    image = sample.image.astype(np.float32)
    direct = detect(image, model, device="cpu")[["y", "x"]].to_numpy()
    inverted = detect(image.max() - image, model, device="cpu")[["y", "x"]].to_numpy()
    assert score(inverted, direct, 2.0).f1 > 0.9
    assert score(direct, sample.centres, 3.0).f1 > 0.9
