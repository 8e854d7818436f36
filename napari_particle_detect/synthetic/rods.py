"""Synthetic rods (spherocylinders) and ellipsoids, with exact truth: centre, angle, length, width, tips.

The optics, background and camera are those of :mod:`synthetic` (a :class:`SynthConfig` carries them);
this module only places and draws elongated objects. Objects lie in a thin slab, so seen from above
each is its in-plane outline: fluorescent ones add up where they cross (the projected thickness of
both), opaque ones occlude in random depth order, bright-field ones add their core-and-rim profiles.

Conventions (the rods table's): ``angle`` is degrees in [0, 180) = degrees(atan2(y2 - y1, x2 - x1))
mod 180 in pixel coordinates (rows down), ``length`` is tip to tip, caps included, ``width`` the
diameter; tip 1 is ``centre - length/2 * (cos, sin)``, tip 2 the other.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd

from .spheres import (SynthConfig, _background, _camera, _edge, benchmark_config, check_choice,
                      check_config_argument, check_number, check_range, check_seed, check_synth_config,
                      random_training_config)

ROD_LOOKS: tuple[str, ...] = ("fluorescent", "opaque", "brightfield")
ROD_COLUMNS = ["y", "x", "angle", "length", "width", "y1", "x1", "y2", "x2"]
Shape = Literal["rods", "ellipsoids"]
SHAPES: tuple[str, ...] = ("rods", "ellipsoids")
ALIGNMENTS: tuple[str, ...] = ("random", "nematic")
# The densest rods, ellipsoids and chains asked for (the command line's limit too): rods are kept apart
# by their centres alone, so denser ones mostly lie over one another; chain beads stop fitting near
# 0.57 (0.571 drawn for 0.6 and for 0.8 asked; 128 px, radius 4-8).
MAX_AREA_FRACTION = 0.6


@dataclass
class RodConfig:
    """What to draw (objects) and how it looks (``optics``, whose radius_range is ignored)."""

    optics: SynthConfig = field(default_factory=SynthConfig)
    shape: Shape = "rods"
    width_range: tuple[float, float] = (4.0, 14.0)
    aspect_range: tuple[float, float] = (1.5, 20.0)
    area_fraction: float = 0.2
    # "random": isotropic; "nematic": a few domains, each with its director and a spread around it.
    alignment: Literal["random", "nematic"] = "random"
    domains: int = 3
    spread_deg: float = 12.0
    # Closest allowed centre distance, in the pair's mean width (crossings are allowed, stacks are not).
    min_separation: float = 0.8

    def __post_init__(self) -> None:
        check_rod_config(self)

    def to_dict(self) -> dict:
        return asdict(self)


def check_rod_config(config: RodConfig) -> None:
    """One ValueError naming the first field of ``config`` (or of its optics) out of its range."""
    if not isinstance(config.optics, SynthConfig):
        raise ValueError(f"RodConfig.optics must be a SynthConfig, got {type(config.optics).__name__}")
    check_synth_config(config.optics, "RodConfig.optics")
    if config.optics.look not in ROD_LOOKS:
        raise ValueError(f"unknown look {config.optics.look!r} for rods and ellipsoids (RodConfig.optics.look); "
                         f"choose one of {', '.join(ROD_LOOKS)}")
    check_choice("RodConfig", "shape", config.shape, SHAPES)
    check_range("RodConfig", "width_range", config.width_range, 0.0, note=" (px)")
    check_range("RodConfig", "aspect_range", config.aspect_range, 1.0, low_open=False, note=" (length / width)")
    check_number("RodConfig", "area_fraction", config.area_fraction, 0.0, MAX_AREA_FRACTION, low_open=True)
    check_choice("RodConfig", "alignment", config.alignment, ALIGNMENTS)
    check_number("RodConfig", "domains", config.domains, 1, whole=True)
    check_number("RodConfig", "spread_deg", config.spread_deg, 0.0)
    check_number("RodConfig", "min_separation", config.min_separation, 0.0)


@dataclass
class RodImage:
    image: np.ndarray
    table: pd.DataFrame  # ROD_COLUMNS, one row per object whose centre is inside the image
    config: RodConfig = field(repr=False)


def tips(y: np.ndarray, x: np.ndarray, angle_deg: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, ...]:
    """(y1, x1, y2, x2) of objects centred at (y, x): tip 2 minus tip 1 points along ``angle``."""
    theta = np.radians(angle_deg)
    dy, dx = 0.5 * length * np.sin(theta), 0.5 * length * np.cos(theta)
    return y - dy, x - dx, y + dy, x + dx


def rod_table(y, x, angle, length, width) -> pd.DataFrame:
    """The truth/prediction table of objects from their centre, angle (any degrees), length and width."""
    return pd.DataFrame(rod_columns(y, x, angle, length, width))


def rod_columns(y, x, angle, length, width) -> dict[str, np.ndarray]:
    """:func:`rod_table`'s columns (ROD_COLUMNS), as arrays."""
    y, x, length, width = (np.asarray(v, dtype=float) for v in (y, x, length, width))
    angle = np.mod(np.asarray(angle, dtype=float), 180.0)
    angle = np.where(angle >= 180.0, 0.0, angle)  # -1e-17 mod 180 rounds to 180.0
    y1, x1, y2, x2 = tips(y, x, angle, length)
    return {"y": y, "x": x, "angle": angle, "length": length, "width": width, "y1": y1, "x1": x1, "y2": y2, "x2": x2}


def place_rods(config: RodConfig, rng: np.random.Generator) -> pd.DataFrame:
    """Random sequential placement to the area fraction, over the image extended by half the longest object."""
    height, width = config.optics.shape
    w_lo, w_hi = config.width_range
    a_lo, a_hi = config.aspect_range
    margin = 0.5 * w_hi * a_hi
    ext = (height + 2 * margin) * (width + 2 * margin)
    target = config.area_fraction * ext
    seeds = rng.uniform(-margin, [height + margin, width + margin], size=(max(config.domains, 1), 2))
    directors = rng.uniform(0, 180, len(seeds))
    rows, covered, failures = [], 0.0, 0
    # Centres in a grid of cells as wide as the farthest two centres can clash, so each new object is
    # tested against its neighbours only (testing all of them made dense images of thin objects take
    # hours); the objects placed are the same.
    cell = config.min_separation * w_hi
    grid: dict[tuple[int, int], list[int]] = {}
    while covered < target and failures < 500:
        w = rng.uniform(w_lo, w_hi)
        aspect = float(np.exp(rng.uniform(np.log(a_lo), np.log(a_hi))))
        length = w * aspect
        y, x = rng.uniform(-margin, height - 1 + margin), rng.uniform(-margin, width - 1 + margin)
        key = (int(np.floor(y / cell)), int(np.floor(x / cell))) if cell > 0 else (0, 0)
        if cell > 0:
            near = [j for dy in (-1, 0, 1) for dx in (-1, 0, 1) for j in grid.get((key[0] + dy, key[1] + dx), ())]
            if near:
                other = np.array([rows[j] for j in near])
                d = np.hypot(other[:, 0] - y, other[:, 1] - x)
                if np.any(d < config.min_separation * 0.5 * (other[:, 4] + w)):
                    failures += 1
                    continue
        failures = 0
        if config.alignment == "nematic":
            k = int(np.argmin(np.hypot(seeds[:, 0] - y, seeds[:, 1] - x)))
            angle = directors[k] + rng.normal(0, config.spread_deg)
        else:
            angle = rng.uniform(0, 180)
        grid.setdefault(key, []).append(len(rows))
        rows.append((y, x, angle, length, w))
        if config.shape == "rods":
            covered += w * (length - w) + np.pi * w * w / 4
        else:
            covered += np.pi * length * w / 4
    if not rows:
        return rod_table([], [], [], [], [])
    return rod_table(*np.array(rows).T)


def expected_count(config: RodConfig) -> float:
    """About how many objects :func:`place_rods` places (an upper estimate: it may stop before the area
    fraction when nothing more fits), from the mean area of an object."""
    height, width = config.optics.shape
    w_lo, w_hi = config.width_range
    a_lo, a_hi = config.aspect_range
    margin = 0.5 * w_hi * a_hi
    mean_w2 = (w_lo**2 + w_lo * w_hi + w_hi**2) / 3.0  # widths are uniform
    mean_aspect = (a_hi - a_lo) / np.log(a_hi / a_lo) if a_hi > a_lo else a_lo  # aspects log-uniform
    if config.shape == "rods":
        area = mean_w2 * (mean_aspect - 1.0) + np.pi * mean_w2 / 4
    else:
        area = np.pi * mean_w2 * mean_aspect / 4
    return float(config.area_fraction * (height + 2 * margin) * (width + 2 * margin) / area)


def _frame(row, reach: float, shape: tuple[int, int]):
    """Pixel window around an object clipped to the image, with (along, across) coordinates in it."""
    half = 0.5 * row.length + reach
    y0, y1 = max(int(np.floor(row.y - half)), 0), min(int(np.ceil(row.y + half)) + 1, shape[0])
    x0, x1 = max(int(np.floor(row.x - half)), 0), min(int(np.ceil(row.x + half)) + 1, shape[1])
    if y0 >= y1 or x0 >= x1:
        return None
    yy, xx = np.mgrid[y0:y1, x0:x1]
    theta = np.radians(row.angle)
    along = (yy - row.y) * np.sin(theta) + (xx - row.x) * np.cos(theta)
    across = -(yy - row.y) * np.cos(theta) + (xx - row.x) * np.sin(theta)
    return (slice(y0, y1), slice(x0, x1)), along, across


def radial(row, along: np.ndarray, across: np.ndarray, shape: Shape) -> tuple[np.ndarray, np.ndarray]:
    """(rel, px): distance from the axis relative to the half-width (1 on the outline), and the
    distance to the outline in pixels (negative inside), for a spherocylinder or an ellipse."""
    radius = 0.5 * row.width
    if shape == "rods":
        half = max(0.5 * row.length - radius, 0.0)
        dist = np.hypot(np.clip(np.abs(along) - half, 0.0, None), across)
        return dist / radius, dist - radius
    rel = np.hypot(along / (0.5 * row.length), across / radius)
    return rel, (rel - 1.0) * radius


def render_rods(optics: SynthConfig, table: pd.DataFrame, shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """Noise-free signal of the objects on a zero background (as synthetic.render_particles)."""
    canvas = np.zeros(optics.shape, dtype=np.float64)
    n = len(table)
    brightness = np.clip(1.0 + optics.brightness_spread * rng.standard_normal(n), 0.3, 2.0)
    look = optics.look if optics.look in ROD_LOOKS else "fluorescent"
    order = rng.permutation(n) if look == "opaque" else np.arange(n)  # depth order in the slab
    darkness = np.clip(0.85 + 0.1 * rng.standard_normal(n), 0.5, 1.0)
    rim_reach = 3 * max(optics.rim_width, 0.05) * 7.0 + 2.0
    for i in order:
        row = table.iloc[i]
        win = _frame(row, (rim_reach if look == "brightfield" else 2.0), optics.shape)
        if win is None:
            continue
        sl, along, across = win
        rel, px = radial(row, along, across, shape)
        if look == "opaque":
            alpha = _edge(px, 0.0)
            value = darkness[i] * (1.0 - 0.15 * np.minimum(rel, 1.0) ** 4)
            canvas[sl] = canvas[sl] * (1.0 - alpha) + alpha * value
        elif look == "fluorescent":
            inside = np.clip(1.0 - rel**2, 0.0, None)
            canvas[sl] += brightness[i] * inside**optics.profile_exponent
        else:
            width = max(optics.rim_width, 0.05)
            core = np.exp(-0.5 * (rel / 0.45) ** 2)
            rim = np.exp(-0.5 * ((rel - 1.0) / width) ** 2)
            canvas[sl] += brightness[i] * (optics.core_amplitude * core + optics.rim_amplitude * rim)
    if optics.psf_sigma > 0:
        from scipy import ndimage

        canvas = ndimage.gaussian_filter(canvas, optics.psf_sigma)
    return canvas


def finish(signal: np.ndarray, optics: SynthConfig, rng: np.random.Generator) -> np.ndarray:
    """Background, polarity, intensity range and camera: the same steps as synthetic.synthesize."""
    if optics.look == "opaque":
        signal = 1.0 - signal
    signal = signal + _background(optics, rng)
    if optics.invert:
        signal = -signal
    lo, hi = np.percentile(signal, [0.1, 99.9])
    signal = (signal - lo) / max(hi - lo, 1e-9)
    signal = optics.background_level + (1.0 - optics.background_level) * signal
    return _camera(signal, optics, rng)


def inside_image(table: pd.DataFrame, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    return ((table["y"] >= 0) & (table["y"] <= h - 1) & (table["x"] >= 0) & (table["x"] <= w - 1)).to_numpy()


def synthesize_rods(config: RodConfig | None = None, seed: int = 0) -> RodImage:
    """One image of rods or ellipsoids and their exact table (deterministic for a seed)."""
    config = RodConfig() if config is None else config
    check_config_argument("synthesize_rods", config, RodConfig)
    check_rod_config(config)  # again: a field may have been set since
    check_seed("synthesize_rods", seed)
    rng = np.random.default_rng(seed)
    table = place_rods(config, rng)
    optics = replace(config.optics, radius_range=(0.5 * config.width_range[0], 0.5 * config.width_range[1]))
    signal = render_rods(optics, table, config.shape, rng)
    image = finish(signal, optics, rng)
    kept = table[inside_image(table, optics.shape)].reset_index(drop=True)
    return RodImage(image=image, table=kept, config=config)


def random_rod_config(rng: np.random.Generator, shape: tuple[int, int] = (128, 128),
                      kind: Shape | None = None) -> RodConfig:
    """Widely varied optics (synthetic.random_training_config) and objects, for training."""
    optics = random_training_config(rng, shape=shape)
    if optics.look not in ROD_LOOKS:
        optics = replace(optics, look=str(rng.choice(ROD_LOOKS)))
    kind = kind or ("rods" if rng.random() < 0.7 else "ellipsoids")
    w_lo = float(rng.uniform(4.0, 12.0))
    w_hi = min(w_lo * rng.uniform(1.0, 1.3), 14.0)
    a_lo = float(rng.uniform(1.2 if kind == "ellipsoids" else 1.5, 6.0))
    a_hi = float(min(a_lo * rng.uniform(1.0, 3.0), 5.0 if kind == "ellipsoids" else 20.0))
    a_lo = min(a_lo, a_hi)
    # Keep the longest object within about the crop, so tips are seen with their centres.
    a_hi = max(min(a_hi, 0.9 * shape[0] / w_hi), a_lo)
    return RodConfig(
        optics=optics, shape=kind, width_range=(w_lo, float(w_hi)), aspect_range=(a_lo, a_hi),
        area_fraction=float(rng.choice([rng.uniform(0.01, 0.1), rng.uniform(0.1, 0.45)], p=[0.25, 0.75])),
        alignment=str(rng.choice(["random", "nematic"])), domains=int(rng.integers(1, 5)),
        spread_deg=float(rng.uniform(3, 25)), min_separation=float(rng.uniform(0.6, 1.0)),
    )


def benchmark_rod_config(look: str, area_fraction: float, shape: tuple[int, int] = (256, 256),
                         kind: Shape = "rods", aspect_range: tuple[float, float] = (2.0, 10.0),
                         width_range: tuple[float, float] = (6.0, 9.0), alignment: str = "random") -> RodConfig:
    """The fixed, moderate optics of the accuracy benchmark (as synthetic.benchmark_config)."""
    return RodConfig(optics=benchmark_config(look, area_fraction, shape), shape=kind, width_range=width_range,
                     aspect_range=aspect_range, area_fraction=area_fraction, alignment=alignment)
