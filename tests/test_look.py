"""The look (ringed or not) read around detections when the diameter is given."""

import logging
from dataclasses import replace

import numpy as np
import pytest
import torch

from napari_particle_detect import detect, load_model
from napari_particle_detect.detection.look import LOOK_CROP_DIAMETERS, LOOK_MIN_SCORE, StackLook, ringed_around
from napari_particle_detect.detection.prediction import detect_frame, prepare_network
from napari_particle_detect.detection.preprocessing import normalise
from napari_particle_detect.detection.sizing import radial_profile, scale_for_diameter
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize


def _read(sample, diameter: float):
    peaks = np.rint(sample.centres).astype(int)
    return ringed_around(normalise(sample.image), peaks, np.ones(len(peaks)), diameter)


@pytest.mark.parametrize("area_fraction, seed", [(0.1, 1), (0.3, 300), (0.5, 301)])
def test_bright_cores_in_dark_rims_are_ringed(area_fraction, seed):
    config = replace(benchmark_config("fluorescent", area_fraction, radius=8.0), look="brightfield")
    assert _read(synthesize(config, seed=seed), 16.0) is True


@pytest.mark.parametrize("look, area_fraction", [("fluorescent", 0.3), ("fluorescent", 0.9), ("opaque", 0.6),
                                                 ("opaque", 0.9)])
def test_plain_discs_are_not_ringed_even_where_their_gaps_make_lobes(look, area_fraction):
    assert _read(synthesize(benchmark_config(look, area_fraction, shape=(384, 384)), seed=7), 12.0) is False


def test_too_few_peaks_tell_nothing_until_a_frame_has_enough():
    config = replace(benchmark_config("fluorescent", 0.3, radius=8.0), look="brightfield")
    sample = synthesize(config, seed=2)
    image, peaks = normalise(sample.image), np.rint(sample.centres).astype(int)
    assert ringed_around(image, peaks[:3], np.ones(3), 16.0) is None
    look = StackLook(16.0)
    assert look(image, peaks[:3], np.ones(3)) is False and look.ringed is None  # not settled yet
    assert look(image, peaks, np.ones(len(peaks))) is True and look.ringed is True
    assert look(image, peaks[:0], np.ones(0)) is True  # settled once, for the whole stack


def test_sparse_rims_away_from_the_centre_are_read_on_the_whole_frame():
    frame = np.full((800, 800), 2000.0)
    yy, xx = np.mgrid[0:800, 0:800]
    centres = np.array([(120, 120), (120, 680), (680, 120), (680, 680), (400, 120), (120, 400)])
    for y, x in centres:
        r = np.hypot(yy - y, xx - x)
        frame += 500.0 * np.exp(-(r / 3.0) ** 2) - 400.0 * np.exp(-((r - 6.0) / 1.5) ** 2)  # bright cores in dark rings
    frame += 20 * np.random.default_rng(8).standard_normal(frame.shape)
    side = LOOK_CROP_DIAMETERS * 12.0
    assert all(abs(c - 400) > side / 2 for c in centres.min(axis=1))  # none in the central square
    image = normalise(frame)
    assert ringed_around(image, centres, np.ones(len(centres)), 12.0) is True
    # A device tensor (what a GPU's frames are) reads the same.
    assert ringed_around(torch.from_numpy(image), centres, np.ones(len(centres)), 12.0) is True


def test_radial_profile_is_the_mean_of_each_one_pixel_ring_clipped_at_the_edges():
    image = np.random.default_rng(0).random((60, 80))
    centres = np.array([[30, 40], [0, 0], [59, 79], [3, 77]])
    reach = 9
    total, count = np.zeros(reach), np.zeros(reach)
    for y, x in centres:
        for yy in range(max(y - reach, 0), min(y + reach + 1, 60)):
            for xx in range(max(x - reach, 0), min(x + reach + 1, 80)):
                r = np.hypot(yy - y, xx - x)
                if r < reach:
                    total[int(r)] += image[yy, xx]
                    count[int(r)] += 1
    np.testing.assert_allclose(radial_profile(image, centres, reach), total / count, rtol=1e-12)


@pytest.fixture(scope="module")
def model():
    torch.set_num_threads(2)
    return load_model()


def test_a_given_diameter_reads_the_look_on_the_first_frame_with_particles(model):
    config = replace(benchmark_config("fluorescent", 0.5, radius=8.0), look="brightfield")
    particles = synthesize(config, seed=5).image.astype(np.float64)
    blank = np.median(particles) + np.random.default_rng(0).normal(0, 2, particles.shape)  # camera noise alone
    found = detect(np.stack([blank, particles]), model, device="cpu", diameter=16.0)
    # The blank frame's few weak peaks (the thin-top UNet draws 5, at 0.33-0.68) do not lock the look as plain.
    blank_scores = found[found.frame == 0].score
    assert (blank_scores >= LOOK_MIN_SCORE).sum() < 4 and found.attrs["ringed"] is True
    scale = scale_for_diameter(16.0, model.card.canonical_diameter)
    # The network detect runs (auto: OpenVINO bfloat16 on a CPU with native bfloat16), not detect_frame's
    # default torch float32: bfloat16 moves an odd centre by up to half a pixel.
    network = prepare_network(model, torch.device("cpu"), "auto", runtime="auto")
    ringed = detect_frame(model, particles, "cpu", scale=scale, ringed=True, heatmap=False, network=network).centres
    plain = detect_frame(model, particles, "cpu", scale=scale, ringed=False, heatmap=False, network=network).centres
    assert len(ringed) < len(plain)  # the rims' responses were there to drop

    # As the frame decoded ringed.
    got = found[found.frame == 1][["y", "x"]].to_numpy()
    assert len(got) == len(ringed)
    assert np.hypot(*(got[:, None] - ringed[None]).transpose(2, 0, 1)).min(axis=1).max() < 0.1
    opaque = detect(synthesize(benchmark_config("opaque", 0.6), seed=4).image, model, device="cpu", diameter=12.0)
    assert opaque.attrs["ringed"] is False


def test_weak_peaks_alone_leave_the_look_untold():
    config = replace(benchmark_config("fluorescent", 0.5, radius=8.0), look="brightfield")
    image = synthesize(config, seed=5).image.astype(np.float64)
    peaks = np.array([[40, 40], [40, 200], [200, 40], [200, 200], [128, 128], [90, 160]])
    assert ringed_around(image, peaks, np.full(len(peaks), LOOK_MIN_SCORE - 0.05), 16.0) is None
    assert ringed_around(image, peaks, np.full(len(peaks), LOOK_MIN_SCORE), 16.0) is not None


def test_a_ringed_particles_core_given_as_its_diameter_is_said_with_the_rims_size(caplog):
    # Given the core (half the diameter here), the rims read as particles of their own, silently: a user who
    # measured the bright spot, as trackpy's diameter, doubled the count without a word.
    sample = synthesize(benchmark_config("brightfield", 0.3, (256, 256), radius=8.0), seed=3)
    plain = synthesize(benchmark_config("fluorescent", 0.3, (256, 256), radius=8.0), seed=3)
    for image, diameter in ((sample.image, 16.0), (plain.image, 16.0), (sample.image, 8.0)):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            detect(image, device="cpu", diameter=diameter, name="cells.tif")
        said = [r.getMessage() for r in caplog.records if "reads as their cores" in r.getMessage()]
        if diameter == 8.0:
            assert len(said) == 1 and said[0].startswith("cells.tif: the particles look ringed"), said
            rim = float(said[0].split("a rim about ")[1].split(" px")[0])
            assert 14 <= rim <= 18  # the particles' 16 px
        else:
            assert not said, said
