"""The heatmap's cheaper maxima (issue 18: the largest host step of decoding after the network) find what the
definitions find, bit for bit: local maxima as a maximum filter padded with -inf finds them, and one peak per
plateau as labelling the peaks' 8-connected groups finds them, on every path (neighbours one at a time, then in
blocks; the border read with clipped indices; plateaus spread in a few rounds, or handed to a sparse graph)."""

import numpy as np
import pytest
from scipy import ndimage

from napari_particle_detect.kinds import heatmap
from napari_particle_detect.kinds.heatmap import encode, local_maxima, one_per_plateau


def filtered_maxima(heat: np.ndarray, threshold: float, reach: int) -> np.ndarray:
    local_max = ndimage.maximum_filter(heat, size=2 * reach + 1, mode="constant", cval=-np.inf)
    return np.argwhere((heat == local_max) & (heat > threshold))


def labelled_plateaus(coords: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, bool)
    mask[tuple(coords.T)] = True
    labels, _ = ndimage.label(mask, structure=np.ones((3, 3)))
    _, first = np.unique(labels[tuple(coords.T)], return_index=True)
    return coords[np.sort(first)]


def heatmaps(rng: np.random.Generator):
    for _ in range(12):
        h, w = rng.integers(20, 70, 2)
        yield encode(rng.random((int(rng.integers(5, 40)), 2)) * [h, w], (h, w), sigma=float(rng.uniform(0.7, 2.5)))
        yield (rng.integers(0, 4, (h, w)) / 3).astype(np.float32)  # ties everywhere
        yield rng.random((h, w)).astype(np.float32)


@pytest.mark.parametrize("block", [heatmap.NEIGHBOUR_BLOCK_VALUES, 7])
def test_local_maxima_are_the_maximum_filters(monkeypatch, block):
    # A block of 7 values splits the far neighbours into several blocks of shrinking candidates.
    monkeypatch.setattr(heatmap, "NEIGHBOUR_BLOCK_VALUES", block)
    rng = np.random.default_rng(1858)
    for heat in heatmaps(rng):
        for reach in (1, 2, 3, 5):
            for threshold in (0.1, 0.3, 0.6):
                found = local_maxima(heat, threshold, reach)
                assert found.dtype == np.intp
                np.testing.assert_array_equal(found, filtered_maxima(heat, threshold, reach))


def test_the_farthest_neighbour_and_the_border_are_read():
    heat = np.zeros((40, 40), np.float32)
    heat[20, 20], heat[22, 22] = 0.8, 0.9  # the higher one at the window's corner, past the four nearest
    heat[0, 5], heat[2, 3] = 0.8, 0.9  # the same at the border
    heat[39, 39] = 0.7  # a corner peak, alone
    heat[10, 10], heat[11, 13] = 0.5, 0.6  # out of reach: both kept
    found = {tuple(p) for p in local_maxima(heat, 0.3, 2)}
    assert found == {(22, 22), (2, 3), (39, 39), (10, 10), (11, 13)}


def test_a_nan_neighbour_rejects_as_before():
    heat = np.zeros((30, 30), np.float32)
    heat[10, 10] = heat[0, 0] = 0.9
    heat[12, 11] = heat[1, 2] = np.nan
    heat[20, 20] = 0.9
    assert local_maxima(heat, 0.3, 2).tolist() == [[20, 20]]


@pytest.mark.parametrize("rounds, links", [(heatmap.GROUP_SPREADS, heatmap.SPREAD_LINKS), (1, heatmap.SPREAD_LINKS),
                                           (heatmap.GROUP_SPREADS, 0)])
def test_one_peak_per_plateau_is_the_labelled_ones(monkeypatch, rounds, links):
    # One round leaves most groups to the sparse graph, and so do too many links; the usual rounds settle the short
    # plateaus themselves.
    monkeypatch.setattr(heatmap, "GROUP_SPREADS", rounds)
    monkeypatch.setattr(heatmap, "SPREAD_LINKS", links)
    rng = np.random.default_rng(58)
    for case in range(60):
        h, w = (int(n) for n in rng.integers(5, 60, 2))
        mask = rng.random((h, w)) < (0.02, 0.1, 0.3, 0.6)[case % 4]
        if case % 5 == 0:  # a long winding plateau: many rounds of spreading
            mask[h // 2, :] = mask[:, w // 3] = mask[h - 1, w // 3 :] = True
        coords = np.argwhere(mask)
        np.testing.assert_array_equal(one_per_plateau(coords), labelled_plateaus(coords, (h, w)))


def test_a_saturated_heatmaps_plateaus_one_peak_each():
    rng = np.random.default_rng(7)
    heat = np.minimum(1.6 * encode(rng.random((40, 2)) * 120, (120, 120), sigma=2.0), 1.0).astype(np.float32)
    maxima = local_maxima(heat, 0.3, 2)
    assert len(maxima) > len(one_per_plateau(maxima))  # touching maxima on the flat tops
    np.testing.assert_array_equal(one_per_plateau(maxima), labelled_plateaus(maxima, heat.shape))
