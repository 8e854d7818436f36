"""Synthetic flexible bead chains, with exact truth: every bead's centre, its chain and its place in it.

Chains are semi-flexible walks of touching beads (bond about one diameter, the direction turning by a
random angle each step, stiffer or floppier per chain), rings, and free beads between them. Beads of
different chains may touch (that is what makes chains hard to tell apart) and some chains cross
others, as in a thin slab seen from above. Beads are drawn by :func:`synthetic.render_particles`, so
every look and the optics and camera of :mod:`synthetic` apply.

Truth table: ``y, x, chain, index, closed`` (index from one end; a ring's ``closed`` is 1 and its last
bead is bonded to its first; a free bead is a chain of one).

Every chain and ring has a number of beads within ``beads_range`` (a walk that other beads or the image's
edge stop short is not kept, so no chain is cut: every bead lies wholly inside the image); free beads are
drawn besides them (``free_beads_share``). Rings take RING_BEADS where the range allows (see
:func:`ring_sizes`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from ..errors import ParticleDetectError
from .spheres import (SynthConfig, benchmark_config, check_config_argument, check_number, check_range, check_seed,
                      check_synth_config, random_training_config, render_particles)
from .rods import MAX_AREA_FRACTION as ROD_MAX_AREA_FRACTION, finish

CHAIN_COLUMNS = ["y", "x", "chain", "index"]
# Beads per ring where the beads range allows: fewer than 6 touching beads make a clump rather than a
# ring, and larger rings rarely stay round in a slab. A ring needs 3 beads to close at all.
RING_BEADS = (6, 20)
SMALLEST_RING = 3
# The densest chains asked for (the command line's limit, cli/kinds.py): beads stop fitting near 0.57
# (0.571 drawn for 0.6 and for 0.8 asked; 128 px, radius 4-8).
MAX_AREA_FRACTION = ROD_MAX_AREA_FRACTION
# The beads' radii (px) the chains model learns from: what it detects as they are, and the default of synth
# and of ChainConfig (the spheres' 4-12 px reach beyond what the model learnt).
TRAINING_BEAD_RADIUS = (3.5, 9.0)


def bead_optics() -> SynthConfig:
    """The default optics of chains: the spheres' own, the beads at the radii the chains model learnt."""
    return SynthConfig(radius_range=TRAINING_BEAD_RADIUS)


@dataclass
class ChainConfig:
    optics: SynthConfig = field(default_factory=bead_optics)  # radius_range: the beads' radii
    beads_range: tuple[int, int] = (3, 50)  # beads per chain and per ring (free beads are chains of one besides)
    # Bond length (centre to centre) in bead diameters.
    bond: tuple[float, float] = (0.92, 1.0)
    # Random turn per bond, radians (standard deviation): small is stiff, large is floppy.
    bending: tuple[float, float] = (0.1, 0.5)
    ring_share: float = 0.1
    free_beads_share: float = 0.3  # free beads per chain
    crossing_share: float = 0.1  # chains allowed to cross others
    area_fraction: float = 0.25  # beads' covered area (discs)
    # Non-bonded beads closer than this (in the pair's mean diameter) only when chains cross.
    contact: float = 0.95

    def __post_init__(self) -> None:
        check_chain_config(self)

    def to_dict(self) -> dict:
        return asdict(self)


def check_chain_config(config: ChainConfig) -> None:
    """One ValueError naming the first field of ``config`` (or of its optics) out of its range."""
    if not isinstance(config.optics, SynthConfig):
        raise ValueError(f"ChainConfig.optics must be a SynthConfig, got {type(config.optics).__name__}")
    check_synth_config(config.optics, "ChainConfig.optics")
    check_range("ChainConfig", "beads_range", config.beads_range, 1, low_open=False, whole=True,
                note=" (beads per chain)")
    check_range("ChainConfig", "bond", config.bond, 0.0, note=" (bead diameters)")
    check_range("ChainConfig", "bending", config.bending, 0.0, low_open=False, note=" (radians)")
    check_number("ChainConfig", "ring_share", config.ring_share, 0.0, 1.0)
    check_number("ChainConfig", "free_beads_share", config.free_beads_share, 0.0, note=" (free beads per chain)")
    check_number("ChainConfig", "crossing_share", config.crossing_share, 0.0, 1.0)
    check_number("ChainConfig", "area_fraction", config.area_fraction, 0.0, MAX_AREA_FRACTION, low_open=True)
    check_number("ChainConfig", "contact", config.contact, 0.0, note=" (bead diameters)")


@dataclass
class ChainImage:
    image: np.ndarray
    table: pd.DataFrame  # y, x, chain, index, closed
    radii: np.ndarray
    config: ChainConfig = field(repr=False)


class _Beads:
    """The beads placed so far, with a grid for fast clash tests."""

    def __init__(self, cell: float) -> None:
        self.cell, self.grid, self.points, self.radii, self.owner = cell, {}, [], [], []

    def clashes(self, p: np.ndarray, r: float, contact: float, ignore_owner: int | None, skip: set[int]) -> bool:
        gy, gx = int(p[0] // self.cell), int(p[1] // self.cell)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                for j in self.grid.get((gy + dy, gx + dx), ()):
                    if j in skip or self.owner[j] == ignore_owner:
                        continue
                    q = self.points[j]
                    if (q[0] - p[0]) ** 2 + (q[1] - p[1]) ** 2 < (contact * (r + self.radii[j])) ** 2:
                        return True
        return False

    def add(self, p: np.ndarray, r: float, owner: int) -> int:
        self.points.append(p)
        self.radii.append(r)
        self.owner.append(owner)
        self.grid.setdefault((int(p[0] // self.cell), int(p[1] // self.cell)), []).append(len(self.points) - 1)
        return len(self.points) - 1


def _inside(p: np.ndarray, r: float, shape: tuple[int, int]) -> bool:
    return r <= p[0] <= shape[0] - 1 - r and r <= p[1] <= shape[1] - 1 - r


def _walk(config: ChainConfig, beads: _Beads, owner: int, r: float, n: int, crossing: bool,
          rng: np.random.Generator) -> list[np.ndarray] | None:
    shape = config.optics.shape
    start = rng.uniform([r, r], [shape[0] - 1 - r, shape[1] - 1 - r])
    if beads.clashes(start, r, config.contact, None, set()):
        return None
    bond = 2 * r * rng.uniform(*config.bond)
    bend = rng.uniform(*config.bending)
    phi = rng.uniform(0, 2 * np.pi)
    points = [start]
    while len(points) < n:
        for _ in range(12):
            turn = phi + rng.normal(0, bend)
            p = points[-1] + bond * np.array([np.sin(turn), np.cos(turn)])
            own = [q for q in points[:-1] if np.hypot(*(q - p)) < config.contact * 2 * r]
            if _inside(p, r, shape) and not own and (crossing or not beads.clashes(p, r, config.contact, owner, set())):
                phi = turn
                points.append(p)
                break
        else:
            break
    return points


def ring_sizes(beads_range: tuple[int, int]) -> tuple[int, int] | None:
    """The beads per ring (low, high) for chains of ``beads_range``: its overlap with RING_BEADS, or where
    they do not overlap the range itself from SMALLEST_RING up; None where no ring fits the range (one or
    two beads: then no rings are drawn)."""
    lo, hi = beads_range
    overlap = (max(lo, RING_BEADS[0]), min(hi, RING_BEADS[1]))
    if overlap[0] <= overlap[1]:
        return overlap
    closing = (max(lo, SMALLEST_RING), hi)
    return closing if closing[0] <= closing[1] else None


def _ring(config: ChainConfig, beads: _Beads, r: float, rng: np.random.Generator) -> list[np.ndarray] | None:
    shape = config.optics.shape
    low, high = ring_sizes(config.beads_range)
    n = int(rng.integers(low, high + 1))
    bond = 2 * r * rng.uniform(*config.bond)
    radius = bond / (2 * np.sin(np.pi / n))
    # A circle squashed a little and turned: rings in a slab are not perfect.
    squash = rng.uniform(0.8, 1.0)
    centre = rng.uniform([radius + r, radius + r], [shape[0] - 1 - radius - r, shape[1] - 1 - radius - r]) \
        if min(shape) > 2 * (radius + r) + 2 else None
    if centre is None:
        return None
    t = np.linspace(0, 2 * np.pi, n, endpoint=False) + rng.uniform(0, 2 * np.pi)
    pts = np.stack([radius * squash * np.sin(t), radius * np.cos(t)], axis=1)
    # Re-space the beads along the squashed outline so every bond is about the same length.
    pts = centre + pts
    steps = np.hypot(*np.diff(np.vstack([pts, pts[:1]]), axis=0).T)
    pts = centre + (pts - centre) * (bond / steps.mean())
    points = [p for p in pts]
    if any(not _inside(p, r, shape) or beads.clashes(p, r, config.contact, None, set()) for p in points):
        return None
    return points


def place_chains(config: ChainConfig, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """Chains, rings and free beads until the beads cover the area fraction (or nothing more fits)."""
    shape = config.optics.shape
    r_lo, r_hi = config.optics.radius_range
    beads = _Beads(cell=2 * r_hi)
    rows, radii = [], []
    covered, target, failures, chain = 0.0, config.area_fraction * shape[0] * shape[1], 0, 0
    lo, hi = config.beads_range
    rings = ring_sizes(config.beads_range) is not None
    while covered < target and failures < 300:
        r = rng.uniform(r_lo, r_hi)
        kind = rng.random()
        if kind < config.ring_share and rings:
            points, closed = _ring(config, beads, r, rng), True
        elif kind < config.ring_share + config.free_beads_share / (1 + config.free_beads_share):
            p = rng.uniform([r, r], [shape[0] - 1 - r, shape[1] - 1 - r])
            points, closed = (None if beads.clashes(p, r, config.contact, None, set()) else [p]), False
        else:
            n = int(rng.integers(lo, hi + 1))
            points, closed = _walk(config, beads, chain, r, n, rng.random() < config.crossing_share, rng), False
            if points is not None and len(points) < lo:
                points = None  # stopped short (by other beads or the edge): too short for the range, not kept
        if points is None:
            failures += 1
            continue
        failures = 0
        for index, p in enumerate(points):
            beads.add(p, r, chain)
            rows.append((p[0], p[1], chain, index, int(closed)))
            radii.append(r)
        covered += len(points) * np.pi * r * r
        chain += 1
    table = pd.DataFrame(rows, columns=["y", "x", "chain", "index", "closed"])
    table = table.astype({"chain": int, "index": int, "closed": int})
    return table, np.asarray(radii, dtype=float)


def synthesize_chains(config: ChainConfig | None = None, seed: int = 0) -> ChainImage:
    """One image of bead chains and its exact table (deterministic for a seed)."""
    config = ChainConfig() if config is None else config
    check_config_argument("synthesize_chains", config, ChainConfig)
    check_chain_config(config)  # again: a field may have been set since
    check_seed("synthesize_chains", seed)
    check_beads_fit(config)
    rng = np.random.default_rng(seed)
    table, radii = place_chains(config, rng)
    centres = table[["y", "x"]].to_numpy(float).reshape(-1, 2)
    signal = render_particles(config.optics, centres, radii, rng)
    image = finish(signal, config.optics, rng)
    return ChainImage(image=image, table=table, radii=radii, config=config)


def smallest_side(config: ChainConfig) -> int:
    """The smallest image side (px) that holds a bead of the largest radius wholly inside: 2 r + 1."""
    return int(np.ceil(2 * config.optics.radius_range[1] + 1))


def check_beads_fit(config: ChainConfig) -> None:
    """One ParticleDetectError where a bead of the largest radius would not fit inside the image (beads
    are placed wholly inside it)."""
    h, w = config.optics.shape
    side = smallest_side(config)
    if min(h, w) < side:
        raise ParticleDetectError(f"an image of {h} x {w} px is too small for beads of radius up to "
                                  f"{config.optics.radius_range[1]:g} px: it takes at least {side} x {side} px; "
                                  "give a larger image or smaller beads")


def bonds_of(table: pd.DataFrame) -> np.ndarray:
    """Row-index pairs (i, j) of bonded beads in a chain table (consecutive indices, and a ring's
    last to first)."""
    if len(table) == 0:
        return np.zeros((0, 2), dtype=int)
    # Vectorised: an untrained model's table can hold thousands of one-bead chains (validation).
    chain = pd.factorize(table["chain"].to_numpy())[0]
    index = table["index"].to_numpy()
    order = np.lexsort((index, chain))
    same = chain[order[1:]] == chain[order[:-1]]
    pairs = [np.stack([order[:-1][same], order[1:][same]], axis=1)]
    if "closed" in table:
        first = np.r_[True, ~same]  # the first row of each chain in sorted order
        last = np.r_[~same, True]
        starts, ends = order[first], order[last]
        sizes = np.diff(np.r_[np.flatnonzero(first), len(order)])
        closed = table["closed"].fillna(0).to_numpy(dtype=float) != 0  # an empty cell: not a ring
        ring = (sizes > 2) & closed[starts]
        pairs.append(np.stack([ends[ring], starts[ring]], axis=1))
    return np.concatenate(pairs).astype(int).reshape(-1, 2)


def random_chain_config(rng: np.random.Generator, shape: tuple[int, int] = (128, 128)) -> ChainConfig:
    """Widely varied optics (synthetic.random_training_config) and chains, for training."""
    optics = random_training_config(rng, shape=shape, radius_range=TRAINING_BEAD_RADIUS)
    r_lo = optics.radius_range[0]
    optics = replace(optics, radius_range=(r_lo, r_lo * rng.uniform(1.0, 1.1)))
    return ChainConfig(
        optics=optics, beads_range=(3, int(rng.choice([8, 20, 50]))),
        bending=(0.05, float(rng.uniform(0.2, 0.7))),
        ring_share=float(rng.uniform(0.0, 0.2)), free_beads_share=float(rng.uniform(0.0, 0.5)),
        crossing_share=float(rng.uniform(0.0, 0.2)), area_fraction=float(rng.uniform(0.05, 0.45)),
    )


def benchmark_chain_config(look: str, area_fraction: float = 0.3, shape: tuple[int, int] = (256, 256),
                           radius: float = 6.0, beads_range: tuple[int, int] = (3, 20)) -> ChainConfig:
    """Moderate optics (as synthetic.benchmark_config), chains of 3-20 beads packed until they touch."""
    optics = benchmark_config(look, area_fraction, shape, radius)
    optics = replace(optics, radius_range=(radius * 0.95, radius * 1.05))
    return ChainConfig(optics=optics, beads_range=beads_range, area_fraction=area_fraction,
                       ring_share=0.05, free_beads_share=0.1, crossing_share=0.0)
