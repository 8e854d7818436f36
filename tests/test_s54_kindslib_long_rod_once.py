"""A long isolated rod is one row of the rods table, centred between its own tips.

The centre map of a rod longer than about 120 px is a flat ridge that can hold two peaks far apart; each
was listed as a rod (one measured whole by its tips, the other a piece whose walk could not reach them), and
the whole one kept its peak 30-40 px off the rod's middle, so its tips overhung one end.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from napari_particle_detect import detect
from napari_particle_detect.kinds import rods
from napari_particle_detect.synthetic.rods import finish, render_rods, rod_table
from napari_particle_detect.synthetic.spheres import benchmark_config


def _one_rod_image(seed: int, length: float = 160.0) -> tuple[np.ndarray, object]:
    rng = np.random.default_rng(seed)
    optics = replace(benchmark_config("fluorescent", 0.1, (256, 256)), radius_range=(4.0, 4.0))
    truth = rod_table([128.0], [128.0], [0.0], [length], [8.0])
    return finish(render_rods(optics, truth, "rods", rng), optics, rng), truth.iloc[0]


@pytest.mark.parametrize("seed", [2, 4])
def test_long_isolated_rod_is_one_row_between_its_tips(seed: int) -> None:
    image, truth = _one_rod_image(seed)
    found = detect(image, kind="rods")
    assert len(found) == 1, found
    row = found.iloc[0]
    assert abs(row.y - truth.y) < 3 and abs(row.x - truth.x) < 3
    assert abs(row.length - truth.length) < 5
    ends = sorted([(row.x1, row.y1), (row.x2, row.y2)])
    assert np.allclose(ends, sorted([(truth.x1, truth.y1), (truth.x2, truth.y2)]), atol=4)


def test_twins_sharing_both_tips_are_one_rod_and_side_by_side_rods_two() -> None:
    ends = np.array([[[50.0, 20.0], [50.0, 180.0]],
                     [[50.3, 179.0], [49.8, 21.0]],  # the same tips, the other way round
                     [[58.0, 20.0], [58.0, 180.0]],  # a rod of its own a width beside
                     [[np.nan, np.nan], [np.nan, np.nan]]])
    drop, doubled = rods.sharing_tips(ends, np.array([0.8, 0.9, 0.85, 0.9]), np.full(4, 8.0))
    assert drop.tolist() == [True, False, False, False]
    assert doubled.tolist() == [False, True, False, False]


def test_a_piece_between_tips_goes_only_where_the_ridge_joins_it() -> None:
    ends = np.array([[[50.0, 20.0], [50.0, 180.0]], [[np.nan, np.nan], [np.nan, np.nan]]])
    centres = np.array([[50.0, 60.0], [50.0, 150.0]])
    args = (centres, np.array([0.8, 0.8]), np.zeros(2), np.array([160.0, 80.0]), np.full(2, 8.0))
    ridge = np.zeros((100, 200), np.float32)
    ridge[45:56, 25:176] = 0.85
    drop, doubled = rods.inside_tips(ends, ridge, *args)
    assert drop.tolist() == [False, True] and doubled.tolist() == [True, False]
    ridge[45:56, 98:103] = 0.1  # two rods end to end: the map dips where they meet
    drop, doubled = rods.inside_tips(ends, ridge, *args)
    assert not drop.any() and not doubled.any()
