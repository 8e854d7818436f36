"""The size estimate's doubt line counts the blobs of the particles' polarity only: of three bright discs it said
'only 3 particle-like blobs ... stand out of the noise (4 of any size)', the fourth the dark gap between them."""

from __future__ import annotations

import numpy as np
import pytest

from napari_particle_detect.detection.sizing import estimate_size

SPACING = 26.0  # px between the three discs' centres: the gap between them stands out, but not at their size


def _discs(discs: list[tuple[float, float, float]], size: int = 160) -> np.ndarray:
    """Discs of 1 on 0 (centre y, x and diameter, px) with a little noise."""
    yy, xx = np.mgrid[:size, :size]
    image = np.zeros((size, size))
    for y, x, diameter in discs:
        image[(yy - y) ** 2 + (xx - x) ** 2 <= (diameter / 2) ** 2] = 1.0
    return image + np.random.default_rng(0).normal(0, 0.05, image.shape)


def _triangle(diameter: float = 12.0) -> list[tuple[float, float, float]]:
    height = SPACING * np.sqrt(3) / 2
    return [(80 - height / 2, 80 - SPACING / 2, diameter), (80 - height / 2, 80 + SPACING / 2, diameter),
            (80 + height / 2, 80, diameter)]


@pytest.mark.parametrize("polarity", [1.0, -1.0], ids=["bright", "dark"])
@pytest.mark.parametrize(("small", "said"), [
    ([], "stand out of the noise"),  # before: "(4 of any size)", the gap between them the fourth
    ([(30.0, 30.0, 5.0)], "stand out of the noise (4 of any size)"),  # before: 5, the gap counted in
])
def test_the_gap_between_particles_is_not_counted_among_blobs_of_any_size(polarity: float, small: list,
                                                                          said: str) -> None:
    estimate = estimate_size(polarity * _discs(_triangle() + small))

    assert not estimate.confident
    assert estimate.reason.startswith("only 3 particle-like blobs of about ")
    assert estimate.reason.endswith(said), estimate.reason
