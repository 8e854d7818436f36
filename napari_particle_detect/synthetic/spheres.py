"""Synthetic microscopy images of overlapping particles, with exact ground-truth centres.

The generator is data, not a script: a :class:`SynthConfig` says what to draw and a seed makes it
repeatable. Five looks cover what users bring:

* ``fluorescent``: bright projected spheres on a dark background, overlapping *additively*;
* ``opaque``: dark opaque discs on a bright background that *occlude* each other (the original
  project's data);
* ``brightfield``: a radial profile with a core and a rim of independent sign, e.g. a bright centre
  with a dark ring (bright-field colloids), a dark disc with a bright halo, or a plain dark spot;
* ``gaussian``: diffraction-limited spots, an isotropic Gaussian (single molecules, small beads);
* ``airy``: the Airy pattern of a point through a circular aperture, its faint bright rings
  strengthened at will (slight defocus).

A particle's radius is its size as it appears: a disc's radius, and for the spots the radius the
scale-space blob size reads (a Gaussian of sigma r / sqrt 2; an Airy core of about that width).

Optics (profile, PSF blur), background (gradient, out-of-focus blobs, texture, specks) and camera
(shot noise, read noise, bit depth, compression) are all parameters, and
:func:`random_training_config` samples them widely so the model does not learn one microscope.
"""

from __future__ import annotations

import io
import numbers
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

import numpy as np
from scipy import ndimage, special

Look = Literal["fluorescent", "opaque", "brightfield", "gaussian", "airy"]
LOOKS: tuple[str, ...] = ("fluorescent", "opaque", "brightfield", "gaussian", "airy")
# Airy pattern: first zero of J1, and the first dark ring's radius per particle radius (its core is
# close to a Gaussian of sigma 0.344 x the dark ring's radius, which is r / sqrt 2).
J1_FIRST_ZERO = 3.8317
AIRY_RING_PER_RADIUS = 1.0 / (np.sqrt(2.0) * 0.344)
AIRY_SECOND_ZERO = 7.0156 / J1_FIRST_ZERO  # in first-ring radii
BIT_DEPTHS: tuple[int, ...] = (8, 16)
# The densest images asked for: the discs' summed area over the image (overlaps counted twice), the
# command line's --area-fraction range. Random sequential placement reaches it for a min_separation up
# to about 1.1 (measured: 1.50 of 1.5 at 0.8 and 1.0, 1.42-1.47 at 1.2); it jams near 2.2 /
# min_separation**2 (hard discs of min_separation x the radius jam at 0.547 of the plane), so beyond
# that it stopped short silently (3.4 drawn for 5.0 asked at the default 0.8).
MAX_AREA_FRACTION = 1.5


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_number(owner: str, name: str, value: object, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False, whole: bool = False, note: str = "") -> None:
    """One ValueError naming ``owner.name``, its range and the value given, unless ``value`` is a finite
    (``whole``: integral) number within [``low``, ``high``] (open ends where asked)."""
    ok = _is_number(value) and np.isfinite(float(value))
    if ok and whole:
        ok = isinstance(value, numbers.Integral)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if ok:
        return
    kind = "a whole number" if whole else "a number"
    if low is not None and high is not None:
        rule = f"{kind} in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    elif low is not None:
        rule = f"{kind} {'>' if low_open else '>='} {low:g}"
    elif high is not None:
        rule = f"{kind} {'<' if high_open else '<='} {high:g}"
    else:
        rule = f"a finite {kind[2:]}"
    raise ValueError(f"{owner}.{name} must be {rule}{note}, got {value!r}")


def check_range(owner: str, name: str, value: object, low: float, low_open: bool = True, whole: bool = False,
                note: str = "") -> None:
    """One ValueError naming ``owner.name`` unless ``value`` is two finite numbers (``whole``: integral),
    low first, the low one above ``low`` (or at it, where not ``low_open``)."""
    pair = isinstance(value, (tuple, list, np.ndarray)) and len(value) == 2
    ok = pair and all(_is_number(v) and np.isfinite(float(v)) and (not whole or isinstance(v, numbers.Integral))
                      for v in value)
    ok = ok and (value[0] > low if low_open else value[0] >= low) and value[0] <= value[1]
    if not ok:
        kind = "whole numbers" if whole else "numbers"
        raise ValueError(f"{owner}.{name} must be two {kind} {low:g} {'<' if low_open else '<='} low <= high{note}, "
                         f"got {value!r}")


def check_choice(owner: str, name: str, value: object, choices: tuple, note: str = "") -> None:
    """One ValueError naming ``owner.name``, the value given and the allowed ones, unless it is one of them."""
    if not (isinstance(value, str) or _is_number(value)) or value not in choices:
        raise ValueError(f"unknown {owner}.{name} {value!r}; choose one of {', '.join(map(str, choices))}{note}")


def check_shape(owner: str, value: object, dims: int) -> None:
    """One ValueError unless ``value`` is ``dims`` whole numbers >= 1 (an image's or a volume's size)."""
    ok = isinstance(value, (tuple, list)) and len(value) == dims and all(
        isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) and v >= 1 for v in value)
    if not ok:
        axes = "(height, width)" if dims == 2 else "(z, y, x)"
        raise ValueError(f"{owner}.shape must be {dims} whole numbers >= 1 {axes}, got {value!r}")


def check_seed(function: str, seed: object) -> None:
    """One ValueError (TypeError for a non-number) unless ``seed`` is a whole number >= 0."""
    if isinstance(seed, numbers.Integral) and not isinstance(seed, (bool, np.bool_)) and seed >= 0:
        return
    error = ValueError if _is_number(seed) else TypeError
    raise error(f"{function}: seed must be a whole number >= 0, got {seed!r}")


def check_config_argument(function: str, config: object, expected: type) -> None:
    """A TypeError saying what ``function``'s first argument is, where it is something else (often the seed
    given in its place)."""
    if isinstance(config, expected):
        return
    hint = f"; pass seed={config!r}" if isinstance(config, numbers.Integral) and not isinstance(config, bool) else ""
    raise TypeError(f"{function}(config, seed): the first argument is a {expected.__name__} (got "
                    f"{type(config).__name__}){hint}")


@dataclass
class SynthConfig:
    """Everything that decides what one synthetic image looks like (seed aside)."""

    shape: tuple[int, int] = (256, 256)
    look: Look = "fluorescent"
    radius_range: tuple[float, float] = (4.0, 12.0)
    area_fraction: float = 0.5
    # Closest allowed centre distance, as a fraction of the pair's mean radius.
    min_separation: float = 0.8
    # Fluorescent sphere profile (1 - (d/r)^2)^exponent; 0.5 is a projected uniform sphere.
    profile_exponent: float = 0.5
    brightness_spread: float = 0.3
    psf_sigma: float = 1.0
    # Bright-field radial profile: core amplitude and rim amplitude (signed), rim width in radii.
    core_amplitude: float = 0.8
    rim_amplitude: float = -1.0
    rim_width: float = 0.25
    # Airy spots: the pattern (2 J1(v) / v)^2 raised to this power; 1 is the in-focus pattern (first
    # bright ring 1.7 % of the peak), 0.5 strengthens the rings to 13 %.
    airy_exponent: float = 1.0
    invert: bool = False
    background_level: float = 0.1
    background_gradient: float = 0.1
    out_of_focus_blobs: int = 0
    texture: float = 0.0
    specks: int = 0
    # Out-of-focus particles (not in the truth), as a fraction of the in-focus count.
    defocused_fraction: float = 0.0
    peak_photons: float = 500.0
    read_noise: float = 2.0
    bit_depth: Literal[8, 16] = 16
    jpeg_quality: int | None = None  # 8-bit images only

    def __post_init__(self) -> None:
        check_synth_config(self)

    def to_dict(self) -> dict:
        return asdict(self)


def check_synth_config(config: SynthConfig, owner: str = "SynthConfig") -> None:
    """One ValueError naming the first field of ``config`` out of its range (or not one of its values)."""
    check_shape(owner, config.shape, 2)
    if config.look not in LOOKS:
        raise ValueError(f"unknown look {config.look!r}; choose one of {', '.join(LOOKS)}")
    check_range(owner, "radius_range", config.radius_range, 0.0, note=" (px)")
    check_number(owner, "area_fraction", config.area_fraction, 0.0, MAX_AREA_FRACTION, low_open=True,
                 note=" (the particles' area over the image's)")
    check_number(owner, "min_separation", config.min_separation, 0.0)
    check_number(owner, "profile_exponent", config.profile_exponent, 0.0, low_open=True)
    check_number(owner, "brightness_spread", config.brightness_spread, 0.0)
    check_number(owner, "psf_sigma", config.psf_sigma, 0.0, note=" (px; 0: no blur)")
    check_number(owner, "core_amplitude", config.core_amplitude)
    check_number(owner, "rim_amplitude", config.rim_amplitude)
    check_number(owner, "rim_width", config.rim_width, 0.0)
    check_number(owner, "airy_exponent", config.airy_exponent, 0.0, low_open=True)
    check_number(owner, "background_level", config.background_level, 0.0, 1.0, high_open=True)
    check_number(owner, "background_gradient", config.background_gradient, 0.0)
    check_number(owner, "out_of_focus_blobs", config.out_of_focus_blobs, 0, whole=True)
    check_number(owner, "texture", config.texture, 0.0)
    check_number(owner, "specks", config.specks, 0, whole=True)
    check_number(owner, "defocused_fraction", config.defocused_fraction, 0.0)
    check_number(owner, "peak_photons", config.peak_photons, 0.0, low_open=True)
    check_number(owner, "read_noise", config.read_noise, 0.0, note=" (camera counts)")
    check_choice(owner, "bit_depth", config.bit_depth, BIT_DEPTHS,
                 " (a 12- or 14-bit camera's images: 16, stored as uint16)")
    if config.jpeg_quality is not None:
        check_number(owner, "jpeg_quality", config.jpeg_quality, 1, 100, whole=True, note=" or None")
        if config.bit_depth != 8:
            raise ValueError(f"{owner}.jpeg_quality applies to 8-bit images only; give bit_depth=8 or "
                             f"jpeg_quality=None (got bit_depth={config.bit_depth!r})")


@dataclass
class SynthImage:
    image: np.ndarray
    centres: np.ndarray  # (N, 2) y, x in pixels; pixel (0, 0) centre is at (0.0, 0.0)
    radii: np.ndarray
    config: SynthConfig = field(repr=False)


def place_particles(
    shape: tuple[int, int],
    radius_range: tuple[float, float],
    area_fraction: float,
    min_separation: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Random sequential placement of polydisperse particles until the area fraction is reached.

    Centres are drawn in the image extended by one maximal radius, so particles cut by the border
    look as they would in a real field of view; the caller keeps only centres inside the image.
    Overlap is allowed (that is the point) down to ``min_separation`` x mean radius of a pair.
    """
    height, width = shape
    r_lo, r_hi = radius_range
    margin = r_hi
    ext_area = (height + 2 * margin) * (width + 2 * margin)
    target = area_fraction * ext_area
    mean_area = np.pi * (r_lo**2 + r_lo * r_hi + r_hi**2) / 3.0
    capacity = int(target / mean_area * 1.5) + 16
    centres = np.empty((capacity, 2))
    radii = np.empty(capacity)
    count, covered, failures = 0, 0.0, 0
    cell = max(2.0 * r_hi, 1.0)
    grid: dict[tuple[int, int], list[int]] = {}
    while covered < target and failures < 2000 and count < capacity:
        r = rng.uniform(r_lo, r_hi)
        y = rng.uniform(-margin, height - 1 + margin)
        x = rng.uniform(-margin, width - 1 + margin)
        gy, gx = int(y // cell), int(x // cell)
        clash = False
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                for j in grid.get((gy + dy, gx + dx), ()):
                    limit = min_separation * 0.5 * (r + radii[j])
                    if (centres[j, 0] - y) ** 2 + (centres[j, 1] - x) ** 2 < limit**2:
                        clash = True
                        break
                if clash:
                    break
            if clash:
                break
        if clash:
            failures += 1
            continue
        failures = 0
        centres[count] = (y, x)
        radii[count] = r
        grid.setdefault((gy, gx), []).append(count)
        covered += np.pi * r * r
        count += 1
    return centres[:count], radii[:count]


def _windows(centre: np.ndarray, reach: float, shape: tuple[int, int]):
    """Pixel window around a centre, clipped to the image, with its distance map."""
    y0 = max(int(np.floor(centre[0] - reach)), 0)
    y1 = min(int(np.ceil(centre[0] + reach)) + 1, shape[0])
    x0 = max(int(np.floor(centre[1] - reach)), 0)
    x1 = min(int(np.ceil(centre[1] + reach)) + 1, shape[1])
    if y0 >= y1 or x0 >= x1:
        return None
    yy, xx = np.mgrid[y0:y1, x0:x1]
    dist = np.hypot(yy - centre[0], xx - centre[1])
    return (slice(y0, y1), slice(x0, x1)), dist


def _edge(dist: np.ndarray, r: float) -> np.ndarray:
    """Anti-aliased disc coverage: 1 inside, 0 outside, linear over the one-pixel boundary."""
    return np.clip(r - dist + 0.5, 0.0, 1.0)


def render_particles(
    config: SynthConfig, centres: np.ndarray, radii: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Noise-free particle signal in [0, ~1] on a zero background (before background and camera)."""
    shape = config.shape
    canvas = np.zeros(shape, dtype=np.float64)
    brightness = np.clip(1.0 + config.brightness_spread * rng.standard_normal(len(radii)), 0.3, 2.0)
    if config.look == "opaque":
        # Occlusion: painter's algorithm in random depth order; each disc has its own darkness.
        coverage_value = np.clip(0.85 + 0.1 * rng.standard_normal(len(radii)), 0.5, 1.0)
        for i in rng.permutation(len(radii)):
            win = _windows(centres[i], radii[i] + 1.5, shape)
            if win is None:
                continue
            sl, dist = win
            alpha = _edge(dist, radii[i])
            # A slight shading towards the rim, as lenses and thick discs give.
            value = coverage_value[i] * (1.0 - 0.15 * (np.minimum(dist / radii[i], 1.0)) ** 4)
            canvas[sl] = canvas[sl] * (1.0 - alpha) + alpha * value
    elif config.look == "fluorescent":
        for i in range(len(radii)):
            win = _windows(centres[i], radii[i] + 1.5, shape)
            if win is None:
                continue
            sl, dist = win
            inside = np.clip(1.0 - (dist / radii[i]) ** 2, 0.0, None)
            canvas[sl] += brightness[i] * inside**config.profile_exponent
    elif config.look == "brightfield":
        width = max(config.rim_width, 0.05)
        for i in range(len(radii)):
            r = radii[i]
            win = _windows(centres[i], r * (1.0 + 3 * width) + 1.5, shape)
            if win is None:
                continue
            sl, dist = win
            rel = dist / r
            core = np.exp(-0.5 * (rel / 0.45) ** 2)
            rim = np.exp(-0.5 * ((rel - 1.0) / width) ** 2)
            canvas[sl] += brightness[i] * (config.core_amplitude * core + config.rim_amplitude * rim)
    elif config.look == "gaussian":
        for i in range(len(radii)):
            sigma = radii[i] / np.sqrt(2.0)
            win = _windows(centres[i], 4 * sigma + 1.5, shape)
            if win is None:
                continue
            sl, dist = win
            canvas[sl] += brightness[i] * np.exp(-0.5 * (dist / sigma) ** 2)
    elif config.look == "airy":
        for i in range(len(radii)):
            ring = AIRY_RING_PER_RADIUS * radii[i]
            # Up to the second dark ring, where the pattern is zero: no step at the window's edge.
            win = _windows(centres[i], AIRY_SECOND_ZERO * ring, shape)
            if win is None:
                continue
            sl, dist = win
            v = J1_FIRST_ZERO * np.maximum(dist, 1e-6) / ring
            canvas[sl] += brightness[i] * np.abs(2 * special.j1(v) / v) ** (2 * config.airy_exponent)
    else:
        raise ValueError(f"unknown look {config.look!r}; choose one of {', '.join(LOOKS)}")
    if config.psf_sigma > 0:
        canvas = ndimage.gaussian_filter(canvas, config.psf_sigma)
    return canvas


def _background(config: SynthConfig, rng: np.random.Generator) -> np.ndarray:
    """Uneven illumination, out-of-focus blobs, fine texture and specks (all non-particles)."""
    height, width = config.shape
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * yy + np.sin(angle) * xx
    bg = config.background_gradient * (ramp - ramp.mean())
    if config.out_of_focus_blobs:
        blobs = np.zeros(config.shape)
        idx = rng.integers(0, height * width, size=config.out_of_focus_blobs)
        blobs.flat[idx] = rng.choice([-1.0, 1.0], size=idx.size) * rng.uniform(0.3, 1.0, idx.size)
        sigma = rng.uniform(2.0, 4.0) * np.mean(config.radius_range)
        blobs = ndimage.gaussian_filter(blobs, sigma) * (2 * np.pi * sigma**2) * 0.25
        bg += blobs
    if config.texture > 0:
        tex = ndimage.gaussian_filter(rng.standard_normal(config.shape), rng.uniform(0.7, 2.5))
        bg += config.texture * tex / (tex.std() + 1e-12)
    if config.specks:
        specks = np.zeros(config.shape)
        idx = rng.integers(0, height * width, size=config.specks)
        specks.flat[idx] = rng.choice([-1.0, 1.0], size=idx.size) * rng.uniform(0.3, 1.0, idx.size)
        bg += ndimage.gaussian_filter(specks, 0.7) * 2 * np.pi * 0.49
    return bg


def _add_defocused(signal: np.ndarray, config: SynthConfig, n_particles: int, rng: np.random.Generator) -> np.ndarray:
    """Particles far out of the focal plane: same kind, much blurrier and fainter, not in the truth.

    Real stacks are full of them; users (and trackpy's minmass) count only the sharp ones.
    """
    count = int(round(config.defocused_fraction * max(n_particles, 1)))
    if count == 0:
        return signal
    h, w = config.shape
    r_lo, r_hi = config.radius_range
    radii = rng.uniform(r_lo, r_hi * 1.5, count)
    centres = np.stack([rng.uniform(0, h - 1, count), rng.uniform(0, w - 1, count)], axis=1)
    layer = render_particles(replace(config, psf_sigma=0.0), centres, radii, rng)
    layer = ndimage.gaussian_filter(layer, config.psf_sigma + rng.uniform(0.6, 1.2) * np.mean(radii))
    layer *= rng.uniform(0.25, 0.6) / max(float(np.abs(layer).max()), 1e-9)
    if config.look == "opaque":
        return signal + layer * (1.0 - signal)  # partly transmitted, behind the sharp discs
    return signal + layer


def _camera(signal: np.ndarray, config: SynthConfig, rng: np.random.Generator) -> np.ndarray:
    """Shot noise, read noise and quantisation to the configured bit depth."""
    photons = np.clip(signal, 0.0, None) * config.peak_photons
    counts = rng.poisson(photons).astype(np.float64)
    counts += config.read_noise * rng.standard_normal(signal.shape)
    full_scale = 255.0 if config.bit_depth == 8 else 65535.0
    peak = max(np.percentile(counts, 99.9), 1.0)
    # A camera gain that uses much of the range without clipping the brightest particles.
    gain = full_scale * 0.9 / peak if config.bit_depth == 8 else min(full_scale * 0.9 / peak, 16.0)
    image = np.clip(np.round(counts * gain), 0, full_scale)
    dtype = np.uint8 if config.bit_depth == 8 else np.uint16
    image = image.astype(dtype)
    if config.jpeg_quality is not None and config.bit_depth == 8:
        image = _jpeg_round_trip(image, config.jpeg_quality)
    return image


def _jpeg_round_trip(image: np.ndarray, quality: int) -> np.ndarray:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=int(quality))
    buffer.seek(0)
    return np.asarray(Image.open(buffer), dtype=np.uint8)


def synthesize(config: SynthConfig | None = None, seed: int = 0) -> SynthImage:
    """One image of overlapping particles and its exact centres (deterministic for a seed)."""
    config = SynthConfig() if config is None else config
    check_config_argument("synthesize", config, SynthConfig)
    check_synth_config(config)  # again: a field may have been set since
    check_seed("synthesize", seed)
    rng = np.random.default_rng(seed)
    centres, radii = place_particles(
        config.shape, config.radius_range, config.area_fraction, config.min_separation, rng
    )
    signal = render_particles(config, centres, radii, rng)
    if config.defocused_fraction > 0:
        signal = _add_defocused(signal, config, len(radii), rng)
    if config.look == "opaque":
        # Bright background dimmed where discs are: transmitted light.
        signal = 1.0 - signal
    signal = signal + _background(config, rng)
    if config.invert:
        signal = -signal
    # Map to a positive intensity range with some offset, as a camera sees it.
    lo, hi = np.percentile(signal, [0.1, 99.9])
    signal = (signal - lo) / max(hi - lo, 1e-9)
    signal = config.background_level + (1.0 - config.background_level) * signal
    image = _camera(signal, config, rng)
    h, w = config.shape
    inside = (centres[:, 0] >= 0) & (centres[:, 0] <= h - 1) & (centres[:, 1] >= 0) & (centres[:, 1] <= w - 1)
    return SynthImage(image=image, centres=centres[inside], radii=radii[inside], config=config)


def random_training_config(
    rng: np.random.Generator,
    shape: tuple[int, int] = (96, 96),
    radius_range: tuple[float, float] = (3.5, 9.0),
) -> SynthConfig:
    """A widely varied config: look, polarity, optics, background and camera all drawn at random.

    The spread is deliberate: the model should key on particle shape, not on one microscope. Beside
    crowded fields, about one in seven is sparse (a few isolated particles, or none, in much empty
    background) and one in four has a flat grey background and nothing else, as simple images do.
    """
    look = str(rng.choice(LOOKS, p=[0.28, 0.25, 0.25, 0.14, 0.08]))
    r_lo = rng.uniform(*radius_range)
    r_hi = min(r_lo * rng.uniform(1.0, 1.5), radius_range[1])
    area_fraction = float(rng.choice([rng.uniform(0.003, 0.03), rng.uniform(0.02, 0.3), rng.uniform(0.3, 1.0)],
                                     p=[0.15, 0.25, 0.6]))
    bit_depth = int(rng.choice([8, 16]))
    config = SynthConfig(
        shape=shape,
        look=look,
        radius_range=(float(r_lo), float(r_hi)),
        area_fraction=area_fraction,
        min_separation=float(rng.uniform(0.7, 1.2)),
        profile_exponent=float(rng.uniform(0.2, 1.5)),
        brightness_spread=float(rng.uniform(0.0, 0.4)),
        psf_sigma=float(rng.uniform(0.3, 2.0)),
        core_amplitude=float(rng.choice([rng.uniform(0.3, 1.2), rng.uniform(-1.0, 0.0)], p=[0.7, 0.3])),
        rim_amplitude=float(rng.choice([rng.uniform(-1.2, -0.3), rng.uniform(-0.3, 0.8)], p=[0.7, 0.3])),
        rim_width=float(rng.uniform(0.1, 0.4)),
        airy_exponent=float(rng.uniform(0.5, 1.0)),
        invert=bool(rng.random() < (0.5 if look != "opaque" else 0.2)),
        background_level=float(rng.uniform(0.0, 0.4)),
        background_gradient=float(rng.choice([0.0, rng.uniform(0.0, 1.0)])),
        out_of_focus_blobs=int(rng.choice([0, rng.integers(1, 12)], p=[0.6, 0.4])),
        texture=float(rng.choice([0.0, rng.uniform(0.0, 0.15)], p=[0.5, 0.5])),
        specks=int(rng.choice([0, rng.integers(1, 30)], p=[0.6, 0.4])),
        defocused_fraction=float(rng.choice([0.0, rng.uniform(0.1, 1.0)], p=[0.5, 0.5])),
        peak_photons=float(np.exp(rng.uniform(np.log(30), np.log(3000)))),
        read_noise=float(rng.uniform(0.0, 6.0)),
        bit_depth=bit_depth,
        jpeg_quality=int(rng.integers(40, 95)) if bit_depth == 8 and rng.random() < 0.2 else None,
    )
    if rng.random() < 0.25:
        # Particles on flat grey: a raised offset, so they are a small step on a noisy level.
        # Enough photons that a particle still stands about four noise levels above it.
        level = float(rng.uniform(0.3, 0.85))
        photons = float(np.exp(rng.uniform(np.log(max(30.0, 16.0 / (1.0 - level) ** 2)), np.log(3000))))
        config = replace(config, background_level=level, background_gradient=0.0, out_of_focus_blobs=0,
                         texture=0.0, specks=0, defocused_fraction=0.0, peak_photons=photons)
    return config


def benchmark_config(
    look: Look, area_fraction: float, shape: tuple[int, int] = (256, 256), radius: float = 6.0
) -> SynthConfig:
    """The fixed, moderate optics the accuracy benchmark uses (radius about 6 px)."""
    base = SynthConfig(
        shape=shape,
        look=look,
        radius_range=(radius * 0.8, radius * 1.2),
        area_fraction=area_fraction,
        psf_sigma=1.0,
        peak_photons=400.0,
        read_noise=2.0,
    )
    if look == "opaque":
        return replace(base, background_level=0.05, background_gradient=0.05)
    return base
