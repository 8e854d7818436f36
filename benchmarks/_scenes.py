"""Test images drawn independently of the library's generator, as a new user's own script would.

Nothing here imports ``napari_particle_detect.synthetic``: profiles, placement, background and
camera are written out separately, so a benchmark on these images measures what the model does on
images it was not built around. Every scene is a 12-bit image (0-4095) with Gaussian read noise
of ``noise`` grey levels (default 20) on a flat background, particles placed uniformly at random.

* ``gaussian_spots``: isotropic Gaussian spots of standard deviation ``sigma``; their size as it
  appears (``--diameter``; a Gaussian's Laplacian-of-Gaussian scale is ``sigma``, which the
  project's estimate reads as 2 sqrt(2) sigma) is ``2 sqrt(2) sigma``: "size 4 px" is sigma 1.41.
* ``airy_spots``: the Airy pattern (2 J1(v)/v)^2 with its first dark ring at ``ring_radius``,
  the in-focus image of a point through a circular aperture; the faint first bright ring is shown.
* ``brightfield_particles``: a bright core and a dark ring out to ``radius``, on mid grey (a
  defocused transparent bead seen in transmitted light).
* ``opaque_discs``: dark flat discs of ``radius`` on a bright background, edges blurred.
* ``fluorescent_discs``: bright projected spheres (sqrt(1 - (r/R)^2)) on a dark background.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage, special

FULL_SCALE = 4095  # 12 bits


@dataclass
class Scene:
    image: np.ndarray  # uint16, 12-bit values
    centres: np.ndarray  # (N, 2) y, x; pixel (0, 0)'s centre is (0, 0)
    diameter: float  # the particles' size as it appears, what --diameter should be
    name: str


def place(count: int, shape: tuple[int, int], rng: np.random.Generator, min_distance: float = 0.0,
          margin: float = 0.0) -> np.ndarray:
    """``count`` uniform random centres at least ``min_distance`` apart (dart throwing)."""
    h, w = shape
    centres: list[tuple[float, float]] = []
    tries = 0
    while len(centres) < count and tries < 200 * count:
        tries += 1
        y, x = rng.uniform(margin, h - 1 - margin), rng.uniform(margin, w - 1 - margin)
        if min_distance > 0 and centres:
            d2 = (np.asarray(centres)[:, 0] - y) ** 2 + (np.asarray(centres)[:, 1] - x) ** 2
            if d2.min() < min_distance**2:
                continue
        centres.append((y, x))
    return np.asarray(centres, dtype=float).reshape(-1, 2)


def _render(shape: tuple[int, int], centres: np.ndarray, amplitudes: np.ndarray, reach: float, profile) -> np.ndarray:
    """Sum of ``amplitude * profile(distance)`` around every centre, evaluated per pixel centre."""
    out = np.zeros(shape)
    h, w = shape
    for (y, x), a in zip(centres, amplitudes):
        y0, y1 = max(int(y - reach), 0), min(int(y + reach) + 2, h)
        x0, x1 = max(int(x - reach), 0), min(int(x + reach) + 2, w)
        yy, xx = np.mgrid[y0:y1, x0:x1]
        out[y0:y1, x0:x1] += a * profile(np.hypot(yy - y, xx - x))
    return out


def _camera(signal: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    noisy = signal + noise * rng.standard_normal(signal.shape)
    return np.clip(np.round(noisy), 0, FULL_SCALE).astype(np.uint16)


def gaussian_spots(count: int, size: float = 4.0, seed: int = 0, shape=(256, 256), noise: float = 20.0,
                   background: float = 300.0, amplitude: tuple[float, float] = (300.0, 600.0)) -> Scene:
    """Gaussian spots whose apparent diameter is ``size`` (sigma = size / 2 sqrt 2), no minimum spacing."""
    rng = np.random.default_rng(seed)
    sigma = size / (2 * np.sqrt(2))
    centres = place(count, shape, rng)
    amps = rng.uniform(*amplitude, len(centres))
    signal = background + _render(shape, centres, amps, 5 * sigma, lambda r: np.exp(-0.5 * (r / sigma) ** 2))
    return Scene(_camera(signal, noise, rng), centres, size, f"Gaussian spots size {size:g}")


def airy_spots(count: int, ring_radius: float = 4.0, seed: int = 0, shape=(256, 256), noise: float = 20.0,
               background: float = 300.0, amplitude: tuple[float, float] = (400.0, 800.0)) -> Scene:
    """Airy patterns, first dark ring at ``ring_radius``; apparent size about 1.2 x that radius."""
    rng = np.random.default_rng(seed)
    first_zero = 3.8317  # first zero of J1
    centres = place(count, shape, rng, min_distance=ring_radius)

    def airy(r):
        v = first_zero * np.maximum(r, 1e-9) / ring_radius
        return (2 * special.j1(v) / v) ** 2

    amps = rng.uniform(*amplitude, len(centres))
    signal = background + _render(shape, centres, amps, 3 * ring_radius, airy)
    # Airy core ~ Gaussian of sigma 0.42 lambda/(2 NA) = 0.42 * ring_radius / 1.22
    size = 2 * np.sqrt(2) * 0.42 * ring_radius / 1.22
    return Scene(_camera(signal, noise, rng), centres, float(size), f"Airy spots ring {ring_radius:g}")


def brightfield_particles(count: int, radius: float = 6.0, seed: int = 0, shape=(256, 256), noise: float = 20.0,
                          background: float = 2000.0, contrast: float = 300.0) -> Scene:
    """Bright core, dark ring reaching ``radius``, on mid grey; blurred by a 1 px PSF."""
    rng = np.random.default_rng(seed)
    centres = place(count, shape, rng, min_distance=1.6 * radius)

    def bead(r):
        core = 0.5 * (1 - np.tanh((r - 0.45 * radius) / 0.8))
        ring = 0.5 * (1 - np.tanh((np.abs(r - 0.8 * radius) - 0.22 * radius) / 0.8))
        return core - 1.1 * ring

    amps = contrast * rng.uniform(0.8, 1.2, len(centres))
    signal = ndimage.gaussian_filter(_render(shape, centres, amps, radius + 4, bead), 1.0) + background
    return Scene(_camera(signal, noise, rng), centres, 2 * radius, f"bright-field radius {radius:g}")


def opaque_discs(count: int, radius: float = 6.0, seed: int = 0, shape=(256, 256), noise: float = 20.0,
                 background: float = 3000.0, contrast: float = 900.0) -> Scene:
    """Dark flat discs on a bright background (transmitted light), 1 px blur; overlap takes the darker."""
    rng = np.random.default_rng(seed)
    centres = place(count, shape, rng, min_distance=radius)
    cover = np.zeros(shape)
    h, w = shape
    for y, x in centres:
        y0, y1 = max(int(y - radius - 2), 0), min(int(y + radius) + 3, h)
        x0, x1 = max(int(x - radius - 2), 0), min(int(x + radius) + 3, w)
        yy, xx = np.mgrid[y0:y1, x0:x1]
        disc = np.clip(radius + 0.5 - np.hypot(yy - y, xx - x), 0, 1)
        cover[y0:y1, x0:x1] = np.maximum(cover[y0:y1, x0:x1], disc)
    signal = background - contrast * ndimage.gaussian_filter(cover, 1.0)
    return Scene(_camera(signal, noise, rng), centres, 2 * radius, f"opaque discs radius {radius:g}")


def fluorescent_discs(count: int, radius: float = 6.0, seed: int = 0, shape=(256, 256), noise: float = 20.0,
                      background: float = 200.0, contrast: float = 600.0) -> Scene:
    """Bright projected spheres on a dark background, 1 px blur; overlaps add."""
    rng = np.random.default_rng(seed)
    centres = place(count, shape, rng, min_distance=radius)
    amps = contrast * rng.uniform(0.7, 1.3, len(centres))
    signal = _render(shape, centres, amps, radius + 1, lambda r: np.sqrt(np.clip(1 - (r / radius) ** 2, 0, None)))
    signal = ndimage.gaussian_filter(signal, 1.0) + background
    return Scene(_camera(signal, noise, rng), centres, 2 * radius, f"fluorescent discs radius {radius:g}")
