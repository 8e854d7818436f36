"""Pieces without tips of their own are merged along their measured axes only where those axes agree: two rods
cut by the frame's edge that meet end to end a few degrees apart stay two rods."""

from __future__ import annotations

import numpy as np
import pytest

from napari_particle_detect.kinds import rod_axis, rods


def maps_with_one_ridge() -> np.ndarray:
    """Heads' maps (rods.HEADS) with a flat centre ridge along row 100 from x = 60 to 140 and no tips anywhere."""
    maps = np.zeros((len(rods.HEADS), 200, 200), np.float32)
    maps[rods.HEADS.index("centre"), 99:102, 60:141] = 1.0
    return maps


def merged_rows(second_angle: float) -> int:
    """How many rows the loose-piece merge keeps of two 40 px pieces end to end on the ridge, the second one
    ``second_angle`` degrees off the rows."""
    centres = np.array([[100.0, 80.0], [100.0, 120.0]])
    angle = np.array([0.0, second_angle])
    length, width, scores = np.full(2, 40.0), np.full(2, 8.0), np.ones(2)
    ends = np.full((2, 2, 2), np.nan)
    kept, *_ = rod_axis._loose_pieces_merged(maps_with_one_ridge(), ends, centres, scores, angle, length, width)
    return int(kept.sum())


@pytest.mark.parametrize("second_angle", [5.0, 7.0, 175.0])
def test_loose_pieces_some_degrees_apart_stay_two_rods(second_angle: float) -> None:
    assert merged_rows(second_angle) == 2


@pytest.mark.parametrize("second_angle", [0.0, 0.3, 179.7])
def test_loose_pieces_of_one_rod_still_merge(second_angle: float) -> None:
    assert merged_rows(second_angle) == 1
