"""A long rod is one row even where its centre ridge sags between two peaks.

A 160 px fluorescent rod: the second peak's walk found the rod's real tip on one side and a faint tip response
mid-rod on the other (0.33 against 0.8 at the tips), a piece with tips of its own that neither sharing_tips
(one tip shared, not two) nor inside_tips (pieces without tips only) took for the rod's. A 140 px bright-field
rod: a piece without tips inside the rod's tips, which inside_tips kept because the ridge between the peaks
sagged below 0.8 of the weaker score. Both were listed twice. Rods lying end to end, or a rod of its own with a
clear tip, stay apart.
"""

from __future__ import annotations

import numpy as np
import pytest

from napari_particle_detect import detect
from napari_particle_detect.kinds import rods
from napari_particle_detect.synthetic.rods import benchmark_rod_config, finish, render_rods, rod_table


@pytest.mark.parametrize("look, seed, length, angles", [("fluorescent", 1000, 160.0, (0.0, 180.0)),  # 93.8 degrees
                                                         ("brightfield", 5000, 140.0, (-4.0, 4.0))])  # 176.4
def test_long_rod_whose_ridge_sags_between_two_peaks_is_one_row(look: str, seed: int, length: float,
                                                                angles: tuple[float, float]) -> None:
    rng = np.random.default_rng(seed)
    angle, (y, x) = rng.uniform(*angles) % 180, rng.uniform(120, 136, 2)
    truth = rod_table([y], [x], [angle], [length], [rng.uniform(6, 9)])
    optics = benchmark_rod_config(look, 0.1, shape=(256, 256)).optics
    found = detect(finish(render_rods(optics, truth, "rods", rng), optics, rng), kind="rods")
    assert len(found) == 1, found
    row, true = found.iloc[0], truth.iloc[0]
    assert np.hypot(row.y - true.y, row.x - true.x) < 3  # centred between its tips, not at a peak
    assert abs(row.length - length) < 5


def _maps(sag: float, junction: float, inner_tip: float) -> tuple[np.ndarray, np.ndarray]:
    """(centre map, tip map) of a 160 px rod along the rows of a 100 x 200 frame: its ridge ``sag`` deep between
    x = 60 and 90, falling to ``junction`` at x = 80 to 84, and a tip response ``inner_tip`` at x = 80."""
    ridge = np.zeros((100, 200), np.float32)
    ridge[45:56, 22:179] = 0.85
    ridge[45:56, 60:91] = sag
    ridge[45:56, 80:85] = np.minimum(junction, sag)
    tips = rods.gaussians(np.array([[50.0, 20.0], [50.0, 180.0]]), ridge.shape, rods.TIP_SIGMA) * 0.8
    tips = np.maximum(tips, rods.gaussians(np.array([[50.0, 80.0]]), ridge.shape, rods.TIP_SIGMA) * inner_tip)
    return ridge, tips


def _pieces(ridge: np.ndarray, tips: np.ndarray) -> tuple[list[bool], list[bool]]:
    ends = np.array([[[50.0, 20.0], [50.0, 180.0]], [[50.0, 20.5], [50.0, 80.0]]])  # the piece shares tip 1
    centres = np.array([[50.0, 110.0], [50.0, 50.0]])
    drop, doubled = rods.pieces_sharing_a_tip(ends, tips, ridge, centres, np.array([0.85, 0.85]), np.zeros(2),
                                              np.full(2, 8.0), np.zeros(2, bool))
    return drop.tolist(), doubled.tolist()


def test_a_tipped_piece_goes_where_the_ridge_sags_but_rods_end_to_end_stay() -> None:
    sagging = 0.79 * 0.85  # below inside_tips' 0.8 of the weaker score, far above background
    assert _pieces(*_maps(sagging, 1.0, 0.3)) == ([False, True], [True, False])
    # Two rods end to end: the centre map falls to background where they meet.
    assert _pieces(*_maps(sagging, 0.05, 0.3)) == ([False, False], [False, False])
    # A clear tip where the piece ends is a rod's own end, not a faint response mid-rod.
    assert _pieces(*_maps(sagging, 1.0, 0.8)) == ([False, False], [False, False])


def _loose_piece(ridge: np.ndarray, tips: np.ndarray | None) -> tuple[list[bool], list[bool]]:
    ends = np.array([[[50.0, 20.0], [50.0, 180.0]], [[np.nan, np.nan], [np.nan, np.nan]]])  # the piece: no tips
    args = (np.array([[50.0, 110.0], [50.0, 50.0]]), np.array([0.85, 0.85]), np.zeros(2), np.array([160.0, 60.0]),
            np.full(2, 8.0))
    drop, doubled = rods.inside_tips(ends, ridge, *args, tips=tips)
    return drop.tolist(), doubled.tolist()


def test_a_loose_piece_goes_where_the_ridge_sags_but_rods_end_to_end_stay() -> None:
    sagging = 0.79 * 0.85
    ridge, tips = _maps(sagging, 1.0, 0.3)
    assert _loose_piece(ridge, tips) == ([False, True], [True, False])
    assert _loose_piece(ridge, None) == ([False, False], [False, False])  # without the tip map: 0.8 as before
    assert _loose_piece(*_maps(sagging, 0.05, 0.3)) == ([False, False], [False, False])
    assert _loose_piece(*_maps(sagging, 1.0, 0.8)) == ([False, False], [False, False])
