import numpy as np
import pytest
from scipy import ndimage

from napari_particle_detect.detection.sizing import rescale_centres, rescale_centres_back, rescale_frame


@pytest.mark.parametrize("factor", [0.37, 0.5, 0.83, 1.7, 2.4])
def test_rescaling_maps_pixels_and_centres_consistently(factor):
    # A linear ramp is interpolated exactly, so each resampled pixel must carry the value of the
    # original coordinate our centre mapping says it came from.
    ramp = np.tile(np.arange(61, dtype=np.float32)[:, None], (1, 47)) + np.arange(47)[None, :] * 100
    scaled, factors = rescale_frame(ramp, factor)
    assert np.allclose(factors, np.array(scaled.shape) / np.array(ramp.shape))
    ys, xs = np.mgrid[0 : scaled.shape[0], 0 : scaled.shape[1]]
    origin = rescale_centres_back(np.stack([ys.ravel(), xs.ravel()], 1), factors)
    inner = np.all((origin > 3) & (origin < np.array(ramp.shape) - 4), axis=1)
    expected = origin[:, 0] + 100 * origin[:, 1]
    if factor > 1:  # no anti-alias pre-filter when enlarging: exact
        assert np.abs(scaled.ravel()[inner] - expected[inner]).max() < 1e-3
    else:  # the pre-filter is symmetric, so a ramp stays a ramp
        assert np.abs(scaled.ravel()[inner] - expected[inner]).max() < 0.05


def test_centre_round_trip_is_subpixel_exact():
    centres = np.random.default_rng(0).uniform(0, 200, (50, 2))
    for factors in (0.5, 2.0, np.array([1.37, 0.61])):
        back = rescale_centres_back(rescale_centres(centres, factors), factors)
        assert np.abs(back - centres).max() < 1e-9


@pytest.mark.parametrize("look", ["fluorescent", "opaque"])
@pytest.mark.parametrize("diameter", [4, 6, 9, 14, 20, 30])
def test_diameter_estimate_within_15_percent(look, diameter):
    from napari_particle_detect.detection.sizing import estimate_diameter
    from napari_particle_detect.synthetic.spheres import SynthConfig, synthesize

    r = diameter / 2
    config = SynthConfig(shape=(320, 320), look=look, radius_range=(0.9 * r, 1.1 * r), area_fraction=0.3,
                         psf_sigma=0.7)
    estimate = estimate_diameter(synthesize(config, seed=21).image)
    assert abs(estimate / diameter - 1) < 0.15, estimate


@pytest.mark.parametrize("look", ["gaussian", "airy"])
@pytest.mark.parametrize("diameter", [4, 6, 9, 14])
def test_sparse_spots_diameter_within_15_percent(look, diameter):
    # A spot of radius r appears 2r across (the generator's convention). Crowded spots read
    # larger (the percentile counts merged neighbours): a known limit.
    from napari_particle_detect.detection.sizing import estimate_size
    from napari_particle_detect.synthetic.spheres import SynthConfig, synthesize

    r = diameter / 2
    config = SynthConfig(shape=(320, 320), look=look, radius_range=(0.9 * r, 1.1 * r), area_fraction=0.05,
                         psf_sigma=0.7)
    estimate = estimate_size(synthesize(config, seed=21).image)
    assert estimate.confident
    assert abs(estimate.diameter / diameter - 1) < 0.15, estimate


@pytest.mark.parametrize("diameter", [6, 9, 14, 20, 30])
def test_ringed_bright_field_diameter_is_the_rim_not_the_core(diameter):
    # The blob scale alone reads the bright core, about 0.55 of the particle.
    from napari_particle_detect.detection.sizing import estimate_diameter
    from napari_particle_detect.synthetic.spheres import SynthConfig, synthesize

    r = diameter / 2
    config = SynthConfig(shape=(320, 320), look="brightfield", radius_range=(0.9 * r, 1.1 * r),
                         area_fraction=0.3, psf_sigma=0.7)
    estimate = estimate_diameter(synthesize(config, seed=21).image)
    assert abs(estimate / diameter - 1) < 0.15, estimate


def test_real_bright_field_diameter_is_the_dark_ring():
    import tifffile

    from napari_particle_detect.shipped import SAMPLE_DATA_DIR
    from napari_particle_detect.detection.sizing import estimate_diameter

    # Measured by hand from the mean radial profile: the dark ring's minimum is at 8.5 px.
    frame = tifffile.imread(SAMPLE_DATA_DIR / "trackpy_brightfield_3.tif")[0]
    assert abs(estimate_diameter(frame) / 17.0 - 1) < 0.1


@pytest.mark.parametrize("area_fraction, seed", [(0.3, 300), (0.5, 300), (0.5, 301)])
def test_crowded_bright_field_is_still_read_as_ringed(area_fraction, seed):
    # Crowded, the bright cores sit below the background grey; the rims still cross it.
    from dataclasses import replace

    from napari_particle_detect.detection.sizing import estimate_size
    from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

    config = replace(benchmark_config("fluorescent", area_fraction, radius=8.0), look="brightfield")
    estimate = estimate_size(synthesize(config, seed=seed).image)
    assert estimate.ringed
    assert abs(estimate.diameter / 16.0 - 1) < 0.15, estimate


def test_gaps_between_crowded_dark_discs_are_not_a_ring():
    # The bright gaps between dark discs reach the background but not beyond it.
    from napari_particle_detect.detection.sizing import estimate_size
    from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

    estimate = estimate_size(synthesize(benchmark_config("opaque", 0.6, shape=(384, 384)), seed=7).image)
    assert not estimate.ringed
    assert abs(estimate.diameter / 12.0 - 1) < 0.15, estimate


def _sparse_scene(count: int, profile, reach: float, seed: int, background: float = 2000.0, noise: float = 20.0,
                  spacing: float = 0.0, shape=(256, 256)) -> np.ndarray:
    """``count`` particles of a radial ``profile`` (grey levels) on flat grey, Gaussian noise, 12 bits."""
    rng = np.random.default_rng(seed)
    centres: list[tuple[float, float]] = []
    while len(centres) < count:
        c = rng.uniform(reach, np.array(shape) - 1 - reach)
        if all(np.hypot(*(c - np.array(o))) >= spacing for o in centres):
            centres.append(tuple(c))
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    image = np.full(shape, background, dtype=float)
    for y, x in centres:
        image += profile(np.hypot(yy - y, xx - x))
    image += noise * rng.standard_normal(shape)
    return np.clip(np.round(image), 0, 4095).astype(np.uint16)


def _spot(r):  # Gaussian spot, sigma 2 px: it appears 2 sqrt(2) sigma = 5.7 px across
    return 400.0 * np.exp(-0.5 * (r / 2.0) ** 2)


def _bright_field(r):  # bright core, dark ring darkest at radius 6: a 12 px bright-field particle
    core = 0.5 * (1 - np.tanh((r - 3.0) / 0.8))
    ring = 0.5 * (1 - np.tanh((np.abs(r - 6.0) - 1.2) / 0.8))
    return 150.0 * (core - 1.1 * ring)


def _dark_disc(r):  # opaque disc of radius 6, blurred edge
    return -600.0 * np.clip(6.5 - r, 0, 1)


@pytest.mark.parametrize("count", [6, 15, 30])
@pytest.mark.parametrize("profile, diameter, ringed, spacing", [
    (_spot, 5.66, False, 0.0), (_bright_field, 12.0, True, 12.0), (_dark_disc, 12.0, False, 6.0)])
def test_few_particles_in_noise_are_sized_confidently(count, profile, diameter, ringed, spacing):
    # A few particles on flat grey: noise and the particles' own fine structure (a bright-field
    # ring's arcs) must not outvote them. Before, 15 bright-field particles read as 4.8 px.
    from napari_particle_detect.detection.sizing import estimate_size

    estimate = estimate_size(_sparse_scene(count, profile, 12, seed=count, spacing=spacing))
    assert estimate.confident, estimate.reason
    assert estimate.ringed == ringed
    assert abs(estimate.diameter / diameter - 1) < 0.15, estimate


@pytest.mark.parametrize("image", ["noise", "noise on a gradient", "two particles"])
def test_too_few_particles_are_flagged_low_confidence(image):
    from napari_particle_detect.detection.sizing import MIN_CONVINCING_BLOBS, estimate_size

    rng = np.random.default_rng(3)
    if image == "two particles":
        frame = _sparse_scene(2, _dark_disc, 12, seed=5)
    else:
        frame = 2000 + 20 * rng.standard_normal((256, 256))
        if image == "noise on a gradient":
            frame += np.linspace(0, 300, 256)[None, :]
    estimate = estimate_size(frame)
    assert not estimate.confident
    assert "stand out of the noise" in estimate.reason
    assert estimate.blobs < MIN_CONVINCING_BLOBS


def test_low_confidence_reaches_the_detection_table():
    from napari_particle_detect import detect

    noise = 2000 + 20 * np.random.default_rng(4).standard_normal((96, 96))
    table = detect(noise, device="cpu")
    assert table.attrs["diameter_confidence"] == "low"
    assert "noise" in table.attrs["diameter_reason"]
    sparse = detect(_sparse_scene(15, _dark_disc, 12, seed=15, spacing=6.0), device="cpu")
    assert sparse.attrs["diameter_confidence"] == "high"
    assert sparse.attrs["diameter_reason"] == ""
    given = detect(noise, device="cpu", diameter=10)
    assert given.attrs["diameter_confidence"] == "high"


def test_a_large_sparse_frame_is_read_beyond_its_centre():
    # Eight discs, none in the central crop the estimate reads first.
    from napari_particle_detect.detection.sizing import ESTIMATE_CROP, estimate_size

    frame = np.full((800, 800), 2000.0)
    yy, xx = np.mgrid[0:800, 0:800]
    for y, x in [(120, 120), (120, 400), (120, 680), (400, 120), (400, 680), (680, 120), (680, 400), (680, 680)]:
        frame -= 600.0 * np.clip(6.5 - np.hypot(yy - y, xx - x), 0, 1)
    frame += 20 * np.random.default_rng(8).standard_normal(frame.shape)
    assert 400 - ESTIMATE_CROP // 2 > 120 + 7  # all outside the central crop
    estimate = estimate_size(frame)
    assert estimate.confident, estimate.reason
    assert abs(estimate.diameter / 12.0 - 1) < 0.15, estimate


def test_small_particles_are_enlarged_at_most_twice():
    # Enlarged further, interpolated camera noise becomes particle-sized blobs.
    from napari_particle_detect.detection.sizing import scale_for_diameter

    assert scale_for_diameter(5.0, 15.0) == 2.0
    assert scale_for_diameter(12.0, 15.0) == 1.25
    assert scale_for_diameter(30.0, 15.0) == 0.5
    assert scale_for_diameter(14.6, 15.0) == 1.0


@pytest.mark.parametrize("count, flagged", [(100, False), (600, True)])
def test_crowded_spots_whose_size_readings_disagree_are_flagged(count, flagged):
    # 600 Gaussian spots per 256^2 overlap so much that the strongest scale over the image reads
    # about 20 % too large; the spots' own blob scales disagree with it, and the estimate says so.
    # 100 such spots stand apart: one reading, confident and within 15 %.
    from napari_particle_detect.detection.sizing import estimate_size

    estimate = estimate_size(_sparse_scene(count, _spot, 6, seed=count))
    assert estimate.confident is not flagged, estimate
    if flagged:
        assert "disagree" in estimate.reason and "give the diameter" in estimate.reason
    else:
        assert abs(estimate.diameter / 5.66 - 1) < 0.15, estimate


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.float32, np.float64])
@pytest.mark.parametrize("factor", [0.37, 0.8, 1.0, 1.27, 2.5])
def test_resampling_gives_scipys_bilinear_pixels_for_every_pixel_type(dtype, factor):
    # The bilinear step is torch's: SciPy's zoom (the pixel-area grid, edges extended) to float rounding.
    frame = (np.random.default_rng(2).random((61, 47)) * 200).astype(dtype)
    got, zoom = rescale_frame(frame, factor)
    reference = frame.astype(np.float64)
    if factor < 1:
        reference = ndimage.gaussian_filter(reference, 0.5 * (1 / factor - 1) ** 0.5 + 1e-3)
    shape = tuple(int(round(s * factor)) for s in frame.shape)
    expected = ndimage.zoom(reference, np.array(shape) / frame.shape, order=1, mode="nearest", grid_mode=True)
    assert got.dtype == np.float32 and got.shape == shape
    assert np.allclose(zoom, np.array(shape) / frame.shape)
    assert np.abs(got - expected).max() < 1e-3


def test_the_scale_space_neighbourhood_maximum_is_scipys_filter():
    from napari_particle_detect.detection.blobs import maximum_3x3

    rng = np.random.default_rng(5)
    for shape in ((61, 47), (1, 9), (9, 1), (2, 2), (1, 1)):
        for values in (rng.random(shape).astype(np.float32), np.round(rng.random(shape) * 3)):  # ties too
            assert np.array_equal(maximum_3x3(values), ndimage.maximum_filter(values, size=3))


def test_big_integer_frames_are_resampled_without_a_float_copy(monkeypatch):
    from napari_particle_detect.detection import sizing

    frame = (np.random.default_rng(6).random((61, 47)) * 4000).astype(np.uint16)
    torch_pixels, zoom = sizing.rescale_frame(frame, 1.27)
    monkeypatch.setattr(sizing, "COPY_FREE_ABOVE", frame.size - 1)  # as if this frame were huge
    got, _ = sizing.rescale_frame(frame, 1.27)
    expected = ndimage.zoom(frame, zoom, order=1, mode="nearest", grid_mode=True, output=np.float32)
    assert got.dtype == np.float32 and np.array_equal(got, expected)  # SciPy's own pixels: its path was taken
    assert np.abs(got - torch_pixels).max() < 1e-5 * frame.max()  # torch's to float rounding


def test_a_doubt_between_two_sizes_the_model_sees_alike_is_no_doubt():
    """trackpy's bulk water (1 µm spheres, 2.85 px/µm): the two readings of the size (4.7 and 6.0 px)
    disagree, but both are enlarged the most a frame is (MAX_ENLARGEMENT), so detection is the same
    whichever is right: the warning says so instead of asking for a diameter that would change no
    centre, and names what made the reading doubtful (a busy background, not crowding)."""
    import tifffile

    from napari_particle_detect import detect
    from napari_particle_detect.detection.sizing import MAX_ENLARGEMENT, SizeEstimate, estimate_size, span_matters

    working = 15.0
    small = SizeEstimate(6.0, False, False, "busy", span=(4.7, 6.0))
    assert not span_matters(small, working)  # both below working / MAX_ENLARGEMENT: the same scale
    assert span_matters(SizeEstimate(14.0, False, False, "crowd", span=(11.0, 14.0)), working)
    assert span_matters(SizeEstimate(6.0, False, False, "few blobs"), working)  # no span: a doubt of its own
    assert working / MAX_ENLARGEMENT > 6.0

    from napari_particle_detect.shipped import SAMPLE_DATA_DIR

    frame = tifffile.imread(SAMPLE_DATA_DIR / "trackpy_bulk_water_3.tif")[0]
    estimate = estimate_size(frame)
    assert not estimate.confident and estimate.span and "background is busy" in estimate.reason
    table = detect(frame, device="cpu")
    assert table.attrs["diameter_confidence"] == "low"  # the estimate itself may be 20 % off
    assert table.attrs["diameter_reason"].endswith("either size gives the same centres (both are enlarged the "
                                                   "most the model does)")
    assert "give the diameter" not in table.attrs["diameter_reason"]


def _large_particles(look: str, diameter: float, side: int) -> object:
    """The generator's particles of about ``diameter`` px, covering 0.3 of a ``side`` px frame (seed 3)."""
    from napari_particle_detect.synthetic.spheres import SynthConfig, synthesize

    r = diameter / 2
    config = SynthConfig(look=look, shape=(side, side), radius_range=(0.95 * r, 1.05 * r), area_fraction=0.3)
    return synthesize(config, seed=3)


@pytest.mark.parametrize("look", ["gaussian", "opaque"])
def test_particles_larger_than_the_sizes_searched_are_read_larger_and_flagged(look):
    # 120 px particles: the estimate used to stop at 60 px and call that confident ("high" in the
    # table), and detection at 60 px found nothing (Gaussian) or 107 centres on 28 discs (opaque).
    from napari_particle_detect.detection.sizing import DIAMETER_ADVICE, estimate_size

    estimate = estimate_size(_large_particles(look, 120, 1024).image)
    assert not estimate.confident
    assert 100 < estimate.diameter < 160, estimate  # read beyond 60 px (Gaussian spots read large: 151)
    assert "larger than" in estimate.reason and estimate.reason.endswith(DIAMETER_ADVICE), estimate.reason


def test_large_particles_are_detected_at_about_their_size_with_a_warning():
    from napari_particle_detect import detect, score

    scene = _large_particles("gaussian", 120, 1024)
    table = detect(scene.image, device="cpu")
    assert table.attrs["diameter"] > 100
    assert table.attrs["diameter_confidence"] == "low"
    assert "may be larger than the largest size the estimate looks for" in table.attrs["diameter_reason"]
    found = score(table[["y", "x"]].to_numpy(), scene.centres, tolerance=30)
    assert found.recall > 0.8 and found.precision > 0.8, found  # at 60 px: 0 centres


def test_an_estimate_at_the_largest_size_a_small_frame_can_show_is_flagged():
    # 80 px discs read 60 px; a 200 px frame holds too few larger ones for a second look to count.
    from napari_particle_detect.detection.sizing import estimate_size

    frame = _large_particles("opaque", 80, 960).image[380:580, 380:580]
    estimate = estimate_size(frame)
    assert not estimate.confident
    assert estimate.reason.startswith("the particles may be larger than the largest size the estimate looks "
                                      "for (60 px)"), estimate.reason


@pytest.mark.parametrize("look", ["gaussian", "opaque", "airy", "brightfield"])
def test_particles_under_the_largest_size_take_no_second_look(look, monkeypatch):
    # 50 px particles, and ordinary ones: the estimate is what it was, in the time it took.
    from napari_particle_detect.detection import sizing
    from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

    def second_look(*args):
        raise AssertionError("a second look for particles within the sizes searched")

    monkeypatch.setattr(sizing, "_estimate_larger", second_look)
    estimate = sizing.estimate_size(_large_particles(look, 50, 600).image)
    assert estimate.confident and abs(estimate.diameter / 50 - 1) < 0.15, estimate
    sizing.estimate_size(synthesize(benchmark_config(look, 0.3, (512, 512)), seed=1).image)


def test_an_uneven_background_is_flattened_before_the_size_is_read():
    # Bright-field particles of 12.8 px under a strong ramp of light read 6.4 px, not ringed, "high".
    from napari_particle_detect.detection.sizing import estimate_size
    from napari_particle_detect.synthetic.spheres import SynthConfig, synthesize

    sample = synthesize(SynthConfig(look="brightfield", shape=(384, 384), radius_range=(5.7, 6.3), area_fraction=0.3,
                                    background_gradient=4.0), seed=1)
    estimate = estimate_size(sample.image)
    assert estimate.ringed and abs(estimate.diameter / 12.8 - 1) < 0.15, estimate


def test_a_doubtful_ringed_estimate_says_its_blobs_are_the_cores_of_the_rims_it_reports():
    # "diameter 17.1 px (estimated, ringed); low confidence: only 1 blob of about 10.0 px" read as a contradiction.
    from napari_particle_detect.detection.sizing import estimate_size
    from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

    sample = synthesize(benchmark_config("brightfield", 0.01, shape=(160, 160), radius=8.0), seed=2)
    found = estimate_size(sample.image)
    assert found.ringed and not found.confident
    assert f"(their cores; their rims {found.diameter:.1f} px)" in found.reason, found.reason
