"""A lone long bright-field rod along the rows is read at its angle, not the heads' bias of about 5 degrees.

The frame's look was read on the median profile over every line across the rod, which the biased axis smeared
(the rod 6 px off it at the outermost lines) into a dark rod's, so that no line showed the axis: 3.5 degrees
off at 160 px, 5.4 at 120 px.
"""

from __future__ import annotations

import numpy as np
import pytest

from napari_particle_detect import detect
from napari_particle_detect.kinds.rods import angle_error
from napari_particle_detect.synthetic.rods import benchmark_rod_config, finish, render_rods, rod_table


@pytest.mark.parametrize("seed, length", [(1004, 160.0), (1022, 120.0)])
def test_lone_bright_field_rod_along_the_rows_keeps_its_angle(seed: int, length: float) -> None:
    rng = np.random.default_rng(seed)  # rods at 0.16 and 0.09 degrees
    angle, (y, x) = rng.uniform(0, 180), rng.uniform(120, 136, 2)
    truth = rod_table([y], [x], [angle], [length], [rng.uniform(6, 9)])
    optics = benchmark_rod_config("brightfield", 0.1, shape=(256, 256)).optics
    found = detect(finish(render_rods(optics, truth, "rods", rng), optics, rng), kind="rods")
    assert len(found) == 1, found
    assert angle_error(found.angle.iloc[0], angle) < 1.0
    assert abs(found.length.iloc[0] - length) < 0.03 * length
