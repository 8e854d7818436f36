"""Test images drawn independently of the library's generator, as a new user's own script would.

Nothing here imports ``napari_particle_detect.synthetic.spheres``: profiles, placement, background and
camera are written out separately, so a benchmark on these images measures what the model does on
images it was not built around. Every scene is a 12-bit image (0-4095) with Gaussian read noise
of ``noise`` grey levels (default 20) on a flat background, particles placed uniformly at random.

* ``gaussian_spots``: isotropic Gaussian spots of standard deviation ``sigma``. "Size 4 px" is read
  as the optics' 1/e^2 radius, 2 sigma, so sigma 2 px. Their size as it appears (what
  ``--diameter`` means: a disc with the same Laplacian-of-Gaussian scale) is 2 sqrt(2) sigma.
* ``airy_spots``: the Airy pattern (2 J1(v)/v)^2 with its first dark ring at ``ring_radius``,
  the in-focus image of a point through a circular aperture; the faint first bright ring is shown.
* ``brightfield_particles``: a bright core inside a dark ring of ``radius`` (its darkest circle, the
  size a bright-field user measures), on mid grey: a transparent bead in transmitted light.
* ``opaque_discs``: dark flat discs of ``radius`` on a bright background, edges blurred.
* ``fluorescent_discs``: bright projected spheres (sqrt(1 - (r/R)^2)) on a dark background; they
  appear smaller than their radius says (about 0.88 of it), their edges being faint.

A bright-field particle's size is its dark ring's diameter (what the project measures on real
bright-field images); every other's is :func:`log_diameter`.
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
    diameter: float  # the particles' size as it appears, what --diameter should be (see log_diameter)
    name: str


def log_diameter(profile, reach: float) -> float:
    """The size a particle appears to have: the diameter of the flat disc whose scale-normalised
    Laplacian of Gaussian peaks at the same scale (sigma x 2 sqrt 2), measured on one noise-free
    particle of radial ``profile``, blurred as the scenes are. This is what ``--diameter`` means
    (a Gaussian spot of sigma s: 2 sqrt(2) s; a flat disc: its diameter, widened by the blur)."""
    half = int(np.ceil(reach)) + 40
    yy, xx = np.mgrid[-half : half + 1, -half : half + 1]
    image = profile(np.hypot(yy, xx))
    sigmas = np.geomspace(0.5, reach, 200)
    strength = [abs(ndimage.gaussian_laplace(image, s)[half, half]) * s * s for s in sigmas]
    return float(sigmas[int(np.argmax(strength))] * 2 * np.sqrt(2))


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


def gaussian_spots(count: int, sigma: float = 2.0, seed: int = 0, shape=(256, 256), noise: float = 20.0,
                   background: float = 300.0, amplitude: tuple[float, float] = (200.0, 600.0)) -> Scene:
    """Gaussian spots of ``sigma``, peaks 10-30 noise levels high, uniformly placed (no minimum spacing)."""
    rng = np.random.default_rng(seed)
    centres = place(count, shape, rng)
    amps = rng.uniform(*amplitude, len(centres))
    signal = background + _render(shape, centres, amps, 5 * sigma, lambda r: np.exp(-0.5 * (r / sigma) ** 2))
    return Scene(_camera(signal, noise, rng), centres, 2 * np.sqrt(2) * sigma, f"Gaussian spots sigma {sigma:g}")


def airy_spots(count: int, ring_radius: float = 4.0, seed: int = 0, shape=(256, 256), noise: float = 20.0,
               background: float = 300.0, amplitude: tuple[float, float] = (400.0, 800.0)) -> Scene:
    """Airy patterns, first dark ring at ``ring_radius``, at least that far apart."""
    rng = np.random.default_rng(seed)
    first_zero = 3.8317  # first zero of J1
    centres = place(count, shape, rng, min_distance=ring_radius)

    def airy(r):
        v = first_zero * np.maximum(r, 1e-9) / ring_radius
        return (2 * special.j1(v) / v) ** 2

    amps = rng.uniform(*amplitude, len(centres))
    signal = background + _render(shape, centres, amps, 3 * ring_radius, airy)
    return Scene(_camera(signal, noise, rng), centres, log_diameter(airy, 2 * ring_radius),
                 f"Airy spots ring {ring_radius:g}")


def brightfield_particles(count: int, radius: float = 6.0, seed: int = 0, shape=(256, 256), noise: float = 20.0,
                          background: float = 2000.0, contrast: float = 150.0) -> Scene:
    """Bright core, dark ring darkest at ``radius``, on mid grey; blurred by a 1 px PSF."""
    rng = np.random.default_rng(seed)
    centres = place(count, shape, rng, min_distance=2.0 * radius)

    def bead(r):
        core = 0.5 * (1 - np.tanh((r - 0.5 * radius) / 0.8))
        ring = 0.5 * (1 - np.tanh((np.abs(r - radius) - 0.2 * radius) / 0.8))
        return core - 1.1 * ring

    amps = contrast * rng.uniform(0.8, 1.2, len(centres))
    signal = ndimage.gaussian_filter(_render(shape, centres, amps, 1.3 * radius + 4, bead), 1.0) + background
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
    apparent = log_diameter(lambda r: ndimage.gaussian_filter(np.clip(radius + 0.5 - r, 0, 1), 1.0), 2 * radius)
    return Scene(_camera(signal, noise, rng), centres, apparent, f"opaque discs radius {radius:g}")


def fluorescent_discs(count: int, radius: float = 6.0, seed: int = 0, shape=(256, 256), noise: float = 20.0,
                      background: float = 200.0, contrast: float = 600.0) -> Scene:
    """Bright projected spheres on a dark background, 1 px blur; overlaps add."""
    rng = np.random.default_rng(seed)
    centres = place(count, shape, rng, min_distance=radius)
    amps = contrast * rng.uniform(0.7, 1.3, len(centres))

    def sphere(r):
        return np.sqrt(np.clip(1 - (r / radius) ** 2, 0, None))

    signal = ndimage.gaussian_filter(_render(shape, centres, amps, radius + 1, sphere), 1.0) + background
    apparent = log_diameter(lambda r: ndimage.gaussian_filter(sphere(r), 1.0), 2 * radius)
    return Scene(_camera(signal, noise, rng), centres, apparent, f"fluorescent spheres radius {radius:g}")


# The looks the benchmarks draw, each with the size the issue's images had (radius 6 px; Gaussian
# spots "size 4 px"), as ``count, seed -> Scene``.
LOOKS = {
    "bright-field": lambda count, seed: brightfield_particles(count, 6.0, seed),
    "Gaussian spots": lambda count, seed: gaussian_spots(count, 2.0, seed),
    "Airy spots": lambda count, seed: airy_spots(count, 5.5, seed),
    "opaque discs": lambda count, seed: opaque_discs(count, 6.0, seed),
    "fluorescent spheres": lambda count, seed: fluorescent_discs(count, 6.0, seed),
}
# The issue's table: bright-field at 15 / 30 / 80 / 140 per image, Gaussian spots at 100 / 300 / 600.
ISSUE_ROWS = [("bright-field", n) for n in (15, 30, 80, 140)] + [("Gaussian spots", n) for n in (100, 300, 600)]
# Sparse fields of every look, and Gaussian spots from sparse to crowded (per 256 x 256 image).
SPARSE_COUNTS = (5, 15, 40)
SPOT_COUNTS = (100, 300, 600)
