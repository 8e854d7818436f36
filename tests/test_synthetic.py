import numpy as np
import pytest

from napari_particle_detect.synthetic.spheres import LOOKS, SynthConfig, benchmark_config, random_training_config, synthesize


@pytest.mark.parametrize("look", LOOKS)
def test_centres_inside_and_deterministic(look):
    config = SynthConfig(shape=(96, 128), look=look, area_fraction=0.6, radius_range=(4, 8))
    a = synthesize(config, seed=3)
    b = synthesize(config, seed=3)
    c = synthesize(config, seed=4)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.centres, b.centres)
    assert not np.array_equal(a.image, c.image)
    assert a.image.shape == (96, 128)
    assert np.all(a.centres >= 0) and np.all(a.centres[:, 0] <= 95) and np.all(a.centres[:, 1] <= 127)
    assert len(a.radii) == len(a.centres)
    assert np.all((a.radii >= 4) & (a.radii <= 8))


@pytest.mark.parametrize("bits, dtype", [(8, np.uint8), (16, np.uint16)])
def test_bit_depth(bits, dtype):
    image = synthesize(SynthConfig(shape=(64, 64), bit_depth=bits), seed=1).image
    assert image.dtype == dtype
    assert image.max() > image.min()


def test_count_follows_area_fraction_and_heavy_overlap():
    shape, radius = (256, 256), 6.0
    for fraction in (0.3, 0.9):
        sample = synthesize(benchmark_config("fluorescent", fraction, shape=shape, radius=radius), seed=11)
        covered = np.sum(np.pi * sample.radii**2) / (shape[0] * shape[1])
        # Border particles are drawn but not counted, so the counted cover is a bit below target.
        assert 0.75 * fraction < covered < 1.1 * fraction
    d = np.linalg.norm(sample.centres[:, None] - sample.centres[None], axis=2)
    np.fill_diagonal(d, np.inf)
    touching = d < (sample.radii[:, None] + sample.radii[None])
    assert touching.any(axis=1).mean() > 0.9  # most particles overlap another at area fraction 0.9


def test_opaque_discs_are_dark_on_bright():
    sample = synthesize(benchmark_config("opaque", 0.3), seed=2)
    image = sample.image.astype(float)
    y, x = np.round(sample.centres).astype(int).T
    assert image[y, x].mean() < np.median(image) * 0.6


def test_fluorescent_particles_are_bright_on_dark():
    sample = synthesize(benchmark_config("fluorescent", 0.3), seed=2)
    image = sample.image.astype(float)
    y, x = np.round(sample.centres).astype(int).T
    assert image[y, x].mean() > np.median(image) * 1.5


def test_training_configs_vary_and_render():
    rng = np.random.default_rng(0)
    configs = [random_training_config(rng) for _ in range(40)]
    assert {c.look for c in configs} == set(LOOKS)
    assert len({c.invert for c in configs}) == 2
    for i, config in enumerate(configs[:10]):
        assert synthesize(config, seed=i).image.shape == (96, 96)


def test_bad_config_is_rejected():
    with pytest.raises(ValueError):
        synthesize(SynthConfig(radius_range=(5, 2)))
    with pytest.raises(ValueError):
        synthesize(SynthConfig(area_fraction=0))
