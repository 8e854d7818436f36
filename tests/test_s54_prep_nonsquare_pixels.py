"""Round particles in an image whose pixels are not square read stretched: detection, which takes pixels as
square, found far more centres than particles while the size estimate was sure of its size. The estimate now
says so."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from scipy import ndimage

from napari_particle_detect import detect
from napari_particle_detect.detection.sizing import estimate_size
from napari_particle_detect.synthetic.spheres import SynthConfig, synthesize


@pytest.fixture(scope="module")
def round_particles() -> np.ndarray:
    return synthesize(SynthConfig(shape=(256, 512), radius_range=(8, 10), area_fraction=0.3), seed=3).image


def test_round_particles_read_round(round_particles: np.ndarray) -> None:
    estimate = estimate_size(round_particles)
    assert estimate.confident, estimate.reason
    assert abs(np.log(estimate.elongation)) < np.log(1.2)


@pytest.mark.parametrize("axis, longer", [(1, "y"), (0, "x")])
def test_stretched_particles_are_said(round_particles: np.ndarray, axis: int, longer: str) -> None:
    zoom = [1.0, 1.0]
    zoom[axis] = 0.5  # pixels twice as wide along this axis as along the other
    stretched = ndimage.zoom(round_particles.astype(np.float32), zoom, order=1)
    estimate = estimate_size(stretched)
    assert not estimate.confident
    assert f"times as long along {longer}" in estimate.reason
    assert "square pixels" in estimate.reason


def test_detect_warns_of_stretched_particles(round_particles: np.ndarray, caplog: pytest.LogCaptureFixture) -> None:
    stretched = ndimage.zoom(round_particles.astype(np.float32), (1.0, 0.5), order=1)
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        table = detect(stretched, name="stretched")
    assert table.attrs["diameter_confidence"] == "low"
    assert any("square pixels" in record.getMessage() for record in caplog.records)


def test_noise_is_not_read_as_stretched() -> None:
    # A narrow frame of noise holds no particle whose shape could be read: its blobs' mean has any shape.
    estimate = estimate_size(np.random.default_rng(0).random((500, 8)))
    assert estimate.elongation == 1.0
    assert "square pixels" not in estimate.reason


def test_dock_gives_no_diameter_advice_for_stretched_particles(round_particles: np.ndarray) -> None:
    # Giving a diameter would not make stretched particles round: the dock's warning says only to resample.
    from napari_particle_detect._napari.detect_panel import estimate_texts
    from napari_particle_detect.detection.sizing import with_advice
    from napari_particle_detect.projects.size_estimate import RememberedEstimate

    estimate = estimate_size(ndimage.zoom(round_particles.astype(np.float32), (1.0, 0.5), order=1))
    assert with_advice(estimate.reason, "give diameter= (px) if it is known") == estimate.reason
    _, warning = estimate_texts(RememberedEstimate(estimate.diameter, estimate.ringed, estimate.confident,
                                                   estimate.reason))
    assert "square pixels" in warning and "give the particles' diameter" not in warning
