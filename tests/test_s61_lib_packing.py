"""The volume generator's overlap removal (synthetic/volumes.py _push_apart) finds its clashing pairs without
building a KD tree every round, and moves the spheres exactly as pushing every overlapping pair apart would."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from napari_particle_detect.synthetic import volumes


def _push_all_pairs(positions: np.ndarray, diameters: np.ndarray, box: np.ndarray, rounds: int) -> tuple[np.ndarray, int]:
    """The push written plainly: every pair's periodic distance every round; (positions, rounds that moved)."""
    positions = positions.copy()
    n = len(positions)
    a, b = np.triu_indices(n, 1)
    for done in range(rounds):
        delta = positions[b] - positions[a]
        delta -= box * np.round(delta / box)
        dist = np.sqrt((delta**2).sum(axis=1))
        overlap = (diameters[a] + diameters[b]) / 2 - dist
        clash = overlap > 0
        if not clash.any():
            return positions, done
        push = (0.5 * overlap[clash] + 1e-4 * diameters.mean())[:, None] * delta[clash] / dist[clash, None]
        moves = np.zeros_like(positions)
        np.add.at(moves, a[clash], -push)
        np.add.at(moves, b[clash], push)
        positions = (positions + moves) % box
    return positions, rounds


def test_push_apart_moves_as_every_pair_pushed_and_reuses_its_neighbours(monkeypatch):
    rng = np.random.default_rng(4)
    box = np.array([24.0, 30.0, 30.0])
    diameters = 6.0 * rng.uniform(0.8, 1.2, 90)  # half the box: crowded, many clashes each round
    positions = rng.uniform(0, 1, (90, 3)) * box
    expected, rounds_run = _push_all_pairs(positions, diameters, box, rounds=400)
    assert 20 < rounds_run < 400  # the plain push needs many rounds here and does end

    trees = []

    def counted_tree(*args, **kwargs):
        trees.append(1)
        return cKDTree(*args, **kwargs)

    monkeypatch.setattr(volumes, "cKDTree", counted_tree)
    pushed = volumes._push_apart(positions, diameters, box, rounds=400)

    offset = pushed - expected
    offset -= box * np.round(offset / box)
    assert np.abs(offset).max() < 1e-9  # the same moves: no clashing pair was missed
    assert not volumes._overlapping(pushed, diameters, box).any()
    assert len(trees) < rounds_run / 3  # neighbours found again only when spheres have moved far enough
