"""rods.sharing_tips and rods.inside_tips on a crowded frame: only nearby pairs are measured.

Both built every pair at once (N x N x 2 x 2 arrays for the tips): 3,000 rods on a 2048 px frame took 480 MB
and seconds in sharing_tips, 120 MB in inside_tips, on every rods frame. The answers must stay those of the
all-pairs rule, kept below as the reference.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from napari_particle_detect.kinds import rods


def _all_pairs_sharing(ends, scores, width):
    drop, doubled = np.zeros(len(ends), bool), np.zeros(len(ends), bool)
    found = np.flatnonzero(np.isfinite(ends).all(axis=(1, 2)))
    found = found[np.argsort(-scores[found], kind="stable")]
    e = ends[found]
    same = np.hypot(*(e[:, None] - e[None]).transpose(3, 0, 1, 2)).max(axis=2)
    flipped = np.hypot(*(e[:, None, ::-1] - e[None]).transpose(3, 0, 1, 2)).max(axis=2)
    reach = np.maximum(2.0, 0.5 * np.maximum.outer(width[found], width[found]))
    twins = np.triu(np.minimum(same, flipped) <= reach, k=1)
    for k in range(len(found)):
        if not drop[found[k]] and twins[k].any():
            drop[found[twins[k]]] = doubled[found[k]] = True
    return drop, doubled


def _all_pairs_inside(ends, centre_map, centres, scores, angle, length, width, max_angle=15.0):
    drop, doubled = np.zeros(len(ends), bool), np.zeros(len(ends), bool)
    tipped = np.flatnonzero(np.isfinite(ends).all(axis=(1, 2)))
    loose = np.setdiff1d(np.arange(len(ends)), tipped)
    if len(tipped) == 0 or len(loose) == 0:
        return drop, doubled
    a, b = ends[tipped, 0], ends[tipped, 1]
    span = np.hypot(*(b - a).T)
    u = (b - a) / np.maximum(span, 1e-9)[:, None]
    d = centres[loose][None] - a[:, None]
    along = (d * u[:, None]).sum(axis=2)
    across = np.abs(d[..., 0] * u[:, None, 1] - d[..., 1] * u[:, None, 0])
    half, tol = 0.25 * length[loose][None], 0.25 * width[tipped][:, None]
    inside = ((along - half >= -tol) & (along + half <= span[:, None] + tol)
              & (across <= np.maximum(0.5 * width[tipped], 2.0)[:, None])
              & (rods.angle_error(angle[loose][None], angle[tipped][:, None]) <= max_angle))
    for k, m in zip(*np.nonzero(inside)):
        i, j = int(tipped[k]), int(loose[m])
        if not drop[j] and rods._joined(centre_map, centres[i], centres[j], min(scores[i], scores[j])):
            drop[j] = doubled[i] = True
    return drop, doubled


def _crowd(rng: np.random.Generator, n: int, size: float):
    """Rods (ends, centres, angles, lengths, widths, scores) with many twins, pieces and rods without tips."""
    centres = rng.random((n, 2)) * size
    angle = rng.random(n) * 180
    length = rng.choice([10.0, 30.0, 80.0], n) * rng.uniform(0.5, 1.5, n)
    theta = np.radians(angle)
    axis = np.stack([np.sin(theta), np.cos(theta)], axis=1)
    ends = np.stack([centres - 0.5 * length[:, None] * axis, centres + 0.5 * length[:, None] * axis], axis=1)
    for i, j in rng.integers(0, n, (n // 3, 2)):
        twin = ends[i] + rng.normal(0, rng.choice([0.5, 2.0, 4.0]), (2, 2))
        ends[j] = twin[::-1] if rng.random() < 0.5 else twin
        centres[j] = twin.mean(axis=0) + rng.normal(0, 5, 2)
        angle[j] = angle[i] + rng.normal(0, 5)
    ends[rng.random(n) < 0.35] = np.nan
    width = rng.choice([2.0, 4.0, 8.0, 12.0], n)
    width[rng.random(n) < 0.03] = np.nan
    return ends, centres, angle, length, width, np.round(rng.random(n), 1)


@pytest.mark.parametrize("seed", range(6))
def test_same_rows_as_all_pairs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    size = (40.0, 100.0, 300.0)[seed % 3]
    ends, centres, angle, length, width, scores = _crowd(rng, 150, size)
    centre_map = (rng.random((int(size) + 10,) * 2) * 0.3 + (0.6 if seed % 2 else 0.0)).astype(np.float32)
    for got, want in ((rods.sharing_tips(ends, scores, width), _all_pairs_sharing(ends, scores, width)),
                      (rods.inside_tips(ends, centre_map, centres, scores, angle, length, width),
                       _all_pairs_inside(ends, centre_map, centres, scores, angle, length, width))):
        assert want[0].any()  # the case holds twins and pieces to settle
        assert got[0].tolist() == want[0].tolist() and got[1].tolist() == want[1].tolist()


def test_a_crowded_frame_takes_little_memory() -> None:
    rng = np.random.default_rng(0)
    n = 1500
    centres = rng.random((n, 2)) * 2048
    ends = np.stack([centres - 10, centres + 10], axis=1)
    ends[::2] = np.nan  # half without tips: inside_tips pairs them with the tipped half
    scores, angle, length, width = rng.random(n), rng.random(n) * 180, np.full(n, 28.0), np.full(n, 6.0)
    centre_map = np.zeros((2048, 2048), np.float32)
    tracemalloc.start()
    try:
        rods.sharing_tips(ends, scores, width)
        sharing = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        rods.inside_tips(ends, centre_map, centres, scores, angle, length, width)
        inside = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # All pairs at once: about 30 MB each here (0.3 MB measured only near pairs).
    assert sharing < 8 * 2**20 and inside < 8 * 2**20, (sharing, inside)
