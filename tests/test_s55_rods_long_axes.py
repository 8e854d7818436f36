"""Long single rods along the rows: the heads read them about 5 degrees off, and a long rod's flat centre ridge
can hold two peaks; detection must still give one row at the rod's angle and length."""

from __future__ import annotations

import numpy as np
import pytest

from napari_particle_detect.detection.kinds_prediction import detect_kind
from napari_particle_detect.kinds.rods import angle_error
from napari_particle_detect.synthetic.rods import benchmark_rod_config, finish, render_rods, rod_table

CENTRE = (128.3, 127.6)


def one_rod_image(length: float, angle: float, seed: int) -> np.ndarray:
    """A fluorescent rod 8 px wide at the benchmark's optics, alone in a 256 px frame."""
    optics = benchmark_rod_config("fluorescent", 0.1, shape=(256, 256)).optics
    rng = np.random.default_rng(seed)
    rod = rod_table([CENTRE[0]], [CENTRE[1]], [angle], [length], [8.0])
    return finish(render_rods(optics, rod, "rods", rng), optics, rng)


@pytest.mark.parametrize("length, angle, seed", [(120.0, 0.0, 0), (120.0, 1.0, 0), (160.0, 179.0, 1),
                                                 (200.0, 179.0, 0)])
def test_long_rod_along_the_rows_reads_its_angle_and_length(length: float, angle: float, seed: int) -> None:
    found = detect_kind(one_rod_image(length, angle, seed), "rods", device="cpu")
    assert len(found) == 1
    # On the circle of orientations: 179 and 1 degrees are 2 apart.
    assert float(angle_error(found["angle"].iloc[0], angle)) <= 2.0
    assert abs(found["length"].iloc[0] - length) <= 0.05 * length
    assert 0.0 <= found["angle"].iloc[0] < 180.0


def test_long_rod_drawing_two_centre_peaks_is_one_row() -> None:
    found = detect_kind(one_rod_image(200.0, 0.0, 0), "rods", device="cpu")
    assert len(found) == 1
    row = found.iloc[0]
    assert abs(row["length"] - 200.0) <= 10.0
    assert np.hypot(row["y"] - CENTRE[0], row["x"] - CENTRE[1]) <= 5.0
    assert float(angle_error(row["angle"], 0.0)) <= 2.0
