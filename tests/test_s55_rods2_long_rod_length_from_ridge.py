"""A long rod's length comes from its own tips even where the regressed length cannot reach them.

The tip walk reaches 1.2 x the regressed length + 12 px, and the length head saturates well below 200 px: a
200 px fluorescent rod took a faint tip response on its body 27 px either side of its centre for its tips (read
54 px long), and a 160 px bright-field rod split into two pieces, one without tips, listed twice. The centre
map's ridge, which runs out to near the tips, now sets how far the tips are looked for.
"""

from __future__ import annotations

import numpy as np
import pytest

from napari_particle_detect import detect
from napari_particle_detect.kinds import rod_axis
from napari_particle_detect.synthetic.rods import benchmark_rod_config, finish, render_rods, rod_table


@pytest.mark.parametrize("look, seed, length", [("fluorescent", 1026, 200.0),  # at 30.7 degrees
                                                ("brightfield", 1027, 160.0)])  # at 5.0 degrees
def test_long_rod_is_one_row_of_its_whole_length(look: str, seed: int, length: float) -> None:
    rng = np.random.default_rng(seed)
    angle, (y, x) = rng.uniform(0, 180), rng.uniform(120, 136, 2)
    truth = rod_table([y], [x], [angle], [length], [rng.uniform(6, 9)])
    optics = benchmark_rod_config(look, 0.1, shape=(256, 256)).optics
    found = detect(finish(render_rods(optics, truth, "rods", rng), optics, rng), kind="rods")
    assert len(found) == 1, found
    assert abs(found.length.iloc[0] - length) < 5
    assert np.hypot(found.y.iloc[0] - y, found.x.iloc[0] - x) < 3


def test_ridge_length_runs_to_background_within_its_reach() -> None:
    ridge = np.zeros((100, 200), np.float32)
    ridge[45:56, 40:161] = 0.8  # x = 40 to 160
    centres = np.array([[50.0, 100.0], [50.0, 100.0]])
    lengths = rod_axis.ridge_lengths(ridge, centres, np.array([0.8, 0.8]), np.zeros(2), np.array([60.0, 10.0]))
    assert lengths[0] == pytest.approx(122, abs=1)  # 61 px either way, to the first pixel below background
    assert lengths[1] == pytest.approx(2 * rod_axis.RIDGE_REACH * 10 + 2, abs=1)  # no further than its reach
