import numpy as np

from napari_particle_detect.heatmap import decode, encode


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
