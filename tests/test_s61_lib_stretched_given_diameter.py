"""detect() of an array whose pixels are not square, given a diameter, says in one line that the particles read
stretched (resample to square pixels first), as the size estimate says it of its own: an array carries no pixel size,
and with a diameter given the run found its centres at a size that fits neither axis without a word."""

from __future__ import annotations

import logging

import pytest

from napari_particle_detect import SynthConfig, detect, synthesize


@pytest.fixture(scope="module")
def sample():
    return synthesize(SynthConfig(look="fluorescent", radius_range=(6, 7), shape=(160, 160)), seed=1)


def _stretch_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "times as long along" in r.getMessage()]


def test_a_diameter_given_to_pixels_twice_as_tall_is_said_stretched(sample, caplog):
    tall_pixels = sample.image.reshape(80, 2, 160).mean(axis=1)  # each pixel twice as tall as wide
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        detect(tall_pixels, diameter=12, device="cpu", name="tall.tif")
    said = _stretch_lines(caplog)
    assert len(said) == 1, said
    assert said[0].startswith("tall.tif: the particles read ") and " as long along x as along y" in said[0]
    assert "resample the image to square pixels first" in said[0]


def test_round_particles_at_a_diameter_given_are_not_said_stretched(sample, caplog):
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        detect(sample.image, diameter=13, device="cpu")
        detect(sample.image.T[::-1], diameter=13, device="cpu")
    assert _stretch_lines(caplog) == []
