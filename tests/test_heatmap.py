import numpy as np
import pytest

from napari_particle_detect.kinds.heatmap import decode, encode


def test_round_trip_subpixel_including_close_pairs():
    rng = np.random.default_rng(0)
    centres = []
    # Pairs 3.5-5 px apart: closer than one radius of the 6 px particles the model is trained for.
    for k in range(12):
        base = np.array([15 + 30 * (k // 4), 15 + 30 * (k % 4)]) + rng.uniform(-0.5, 0.5, 2)
        angle = rng.uniform(0, np.pi)
        sep = rng.uniform(3.5, 5.0)
        offset = 0.5 * sep * np.array([np.sin(angle), np.cos(angle)])
        centres += [base - offset, base + offset]
    centres = np.array(centres)
    heat = encode(centres, (100, 130), sigma=1.5)
    found, scores = decode(heat, threshold=0.4)
    assert len(found) == len(centres)
    d = np.linalg.norm(found[:, None] - centres[None], axis=2)
    assert d.min(axis=0).max() < 0.3
    assert np.all(scores > 0.4)


def test_threshold_and_empty():
    heat = encode(np.zeros((0, 2)), (32, 32))
    assert heat.max() == 0
    found, scores = decode(heat)
    assert found.shape == (0, 2) and scores.shape == (0,)
    heat = encode(np.array([[10.0, 10.0]]), (32, 32)) * 0.3
    assert len(decode(heat, threshold=0.4)[0]) == 0
    assert len(decode(heat, threshold=0.2)[0]) == 1


def test_peak_on_border_stays_inside():
    heat = encode(np.array([[0.2, 20.0], [31.0, 5.4]]), (32, 32))
    found, _ = decode(heat)
    assert len(found) == 2
    assert np.all(found >= 0) and np.all(found <= 31)


def test_weak_shadow_beside_a_strong_peak_is_dropped_but_a_real_pair_is_kept():
    # Two alike peaks 5 px apart (an overlapping pair) and a peak with a 0.3-strength neighbour
    # 5 px away (a bright-field rim's second response): only the weak one goes.
    heat = np.maximum(encode(np.array([[20.0, 20.0], [20.0, 25.0], [20.0, 60.0]]), (40, 90)),
                      0.3 * encode(np.array([[20.0, 65.0]]), (40, 90)))
    assert len(decode(heat, threshold=0.2)[0]) == 4
    found, scores = decode(heat, threshold=0.2, shadow_radius=7.5)
    assert len(found) == 3
    assert np.abs(found - np.array([[20, 20], [20, 25], [20, 60]])).max() < 0.3
    assert np.all(scores > 0.9)


def test_integer_heatmap_border_peak_keeps_its_integer_position():
    heat = np.zeros((30, 40), dtype=np.uint8)
    heat[0, 20], heat[1, 20], heat[0, 19], heat[0, 21] = 200, 100, 60, 120
    found, scores = decode(heat, threshold=50)
    assert found[0, 0] == 0.0 and 20 < found[0, 1] < 20.5
    assert scores[0] == 200


def test_plateaus_by_labelling_and_by_linking_agree(monkeypatch):
    from napari_particle_detect.kinds import heatmap

    rng = np.random.default_rng(2)
    coords = np.argwhere(rng.random((80, 90)) > 0.7)
    linked = heatmap.one_per_plateau(coords)
    monkeypatch.setattr(heatmap, "PLATEAU_LABEL_ABOVE", 0)
    assert np.array_equal(heatmap.one_per_plateau(coords), linked)
    assert np.array_equal(heatmap.one_per_plateau(coords + [5, 7]), linked + [5, 7])


def test_many_peaks_spread_thin_are_linked_not_labelled_over_the_whole_frame(monkeypatch):
    # A crowded 8192 px frame has 175,000 peaks: labelling a mask of its whole working frame took 1.3 GB
    # on a 12,000 px image, past the bounded memory of band decoding. Only a near-saturated map is labelled.
    from napari_particle_detect.kinds import heatmap

    # More peaks than a map may have unlabelled, spread as thin as 60,000 over a 16,000 px frame (past the shipped
    # 50,000): a tenth of each, since the labelled reference below took 4 s over 16,000 px.
    monkeypatch.setattr(heatmap, "PLATEAU_LABEL_ABOVE", 5_000)
    rng = np.random.default_rng(3)
    sparse = np.unique(rng.integers(0, 5_000, size=(6_000, 2)), axis=0)  # 0.02 % of a 5,000 px frame
    assert len(sparse) > heatmap.PLATEAU_LABEL_ABOVE
    labelled = heatmap._first_of_each_plateau_labelled
    monkeypatch.setattr(heatmap, "_first_of_each_plateau_labelled",
                        lambda coords: pytest.fail(f"labelled {len(coords)} sparse peaks"))
    kept = heatmap.one_per_plateau(sparse)
    assert 0 < len(sparse) - len(kept) < 20  # the few chance neighbours are one plateau each
    assert np.array_equal(kept, labelled(sparse))  # the same peaks either way
    dense = np.argwhere(np.ones((300, 300), bool))  # a saturated map: labelled, as cheaper
    monkeypatch.setattr(heatmap, "_first_of_each_plateau_labelled", labelled)
    assert np.array_equal(heatmap.one_per_plateau(dense), dense[:1])


def test_local_maxima_are_the_maximum_filters_bit_for_bit():
    """The sparse neighbour test (pixels above the threshold only) and one maximum filter over the
    image find the same maxima in the same order: borders, plateaus, ties, dense and empty maps."""
    from scipy import ndimage

    from napari_particle_detect.kinds import heatmap

    def by_filter(heat, threshold, reach):
        local_max = ndimage.maximum_filter(heat, size=2 * reach + 1, mode="constant", cval=-np.inf)
        return np.argwhere((heat == local_max) & (heat > threshold))

    rng = np.random.default_rng(3)
    centres = rng.uniform(-3, 123, (60, 2))
    sparse = encode(centres, (90, 120), sigma=1.5) + rng.normal(0, 0.02, (90, 120)).astype(np.float32)
    plateau = sparse.copy()
    plateau[0:3, 0:3] = 2.0  # a plateau in the corner
    plateau[40:43, 60:62] = 1.5
    plateau[-1, -1] = 3.0
    quantised = np.round(sparse * 8) / 8  # many equal neighbours
    dense = rng.random((40, 50)).astype(np.float32)  # nearly every pixel above the threshold
    for heat in (sparse, plateau, quantised, dense, np.full((5, 7), 0.5, np.float32), rng.random((1, 30)),
                 np.zeros((0, 4), np.float32)):
        for reach in (0, 1, 2, 3):
            for threshold in (0.05, 0.35, 0.9):
                expected = by_filter(heat, threshold, reach)
                found = heatmap.local_maxima(heat, threshold, reach)
                assert found.dtype == np.intp and found.shape == (len(expected), 2)
                np.testing.assert_array_equal(found, expected)
    # The sparse path is the one a real heatmap takes.
    assert (sparse > 0.35).mean() < heatmap.DENSE_CANDIDATES < (dense > 0.05).mean()
