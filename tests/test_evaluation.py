import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.kinds.evaluation import evaluate_frames, match, match_points, score


def test_empty_inputs():
    none = np.zeros((0, 2))
    s = score(none, none)
    assert (s.tp, s.fp, s.fn) == (0, 0, 0)
    s = score(np.array([[1.0, 1.0]]), none)
    assert (s.tp, s.fp, s.fn, s.precision, s.f1) == (0, 1, 0, 0.0, 0.0)
    s = score(none, np.array([[1.0, 1.0], [5.0, 5.0]]))
    assert (s.tp, s.fp, s.fn, s.recall) == (0, 0, 2, 0.0)


def test_optimal_not_greedy():
    # Greedy nearest-first would pair p0-t1 (0.9 px) and leave p1 and t0 unmatched (3.5 px apart).
    truth = np.array([[0.0, 0.0], [0.0, 2.0]])
    pred = np.array([[0.0, 1.1], [0.0, 4.5]])
    pi, ti = match(pred, truth, tolerance=3.0)
    assert sorted(zip(pi.tolist(), ti.tolist())) == [(0, 0), (1, 1)]
    s = score(pred, truth, 3.0)
    assert (s.tp, s.fp, s.fn) == (2, 0, 0)
    assert s.mean_error == pytest.approx((1.1 + 2.5) / 2)
    assert s.rms_error == pytest.approx(np.sqrt((1.1**2 + 2.5**2) / 2))


def test_ties_give_one_to_one_and_tolerance_is_inclusive():
    truth = np.array([[0.0, 0.0]])
    pred = np.array([[0.0, 1.0], [0.0, -1.0], [1.0, 0.0]])
    s = score(pred, truth, 3.0)
    assert (s.tp, s.fp, s.fn) == (1, 2, 0)
    assert s.mean_error == pytest.approx(1.0)
    assert score(np.array([[0.0, 3.0]]), truth, 3.0).tp == 1
    assert score(np.array([[0.0, 3.01]]), truth, 3.0).tp == 0


def test_per_frame_and_pooled():
    truth = pd.DataFrame({"frame": [0, 0, 1], "y": [0.0, 10.0, 5.0], "x": [0.0, 10.0, 5.0]})
    pred = pd.DataFrame({"frame": [0, 1, 1], "y": [0.5, 5.0, 50.0], "x": [0.0, 5.0, 50.0]})
    table = evaluate_frames(pred, truth, 3.0)
    assert list(table["frame"]) == [0, 1, "all"]
    assert list(table["tp"]) == [1, 1, 2]
    assert list(table["fp"]) == [0, 1, 1]
    assert list(table["fn"]) == [1, 0, 1]
    assert table.iloc[-1]["f1"] == pytest.approx(2 / 3)


def test_counts_by_threshold_are_count_in_area_at_each_threshold():
    from napari_particle_detect.kinds.evaluation import count_in_area, counts_by_threshold

    rng = np.random.default_rng(4)
    truth = rng.uniform(0, 64, (60, 2))
    predicted = np.concatenate([truth[:45] + rng.normal(0, 1.0, (45, 2)), rng.uniform(0, 64, (20, 2))])
    scores = rng.uniform(0, 1, len(predicted))
    area = np.zeros((64, 64), bool)
    area[8:40, 10:50] = True
    thresholds = (0.1, 0.4, 0.7)
    fast = counts_by_threshold(predicted, scores, truth, area, thresholds, 2.0)
    slow = [count_in_area(predicted[scores > t], truth, area, 2.0) for t in thresholds]
    assert fast == slow
    assert fast[0].tp > fast[2].tp > 0  # the thresholds really select


def _dense_matching(pred: np.ndarray, truth: np.ndarray, tolerance: float) -> tuple[int, float]:
    from scipy.optimize import linear_sum_assignment

    dist = np.linalg.norm(pred[:, None] - truth[None], axis=-1)
    r, c = linear_sum_assignment(np.where(dist > tolerance, 1e6, dist - 1e3))
    keep = dist[r, c] <= tolerance
    return int(keep.sum()), float(dist[r, c][keep].sum())


@pytest.mark.parametrize("dims", [2, 3])
def test_groupwise_matching_equals_one_dense_assignment(dims):
    # Crowded enough that many groups hold several candidates; some points coincide exactly.
    rng = np.random.default_rng(dims)
    for trial in range(20):
        truth = rng.uniform(0, 40, (120, dims))
        pred = np.concatenate([truth[:30] + rng.normal(0, 1.5, (30, dims)), rng.uniform(0, 40, (90, dims)), truth[30:35]])
        pi, ti = match_points(pred, truth, 3.0)
        assert len(set(pi.tolist())) == len(pi) and len(set(ti.tolist())) == len(ti)
        assert (np.linalg.norm(pred[pi] - truth[ti], axis=1) <= 3.0).all()
        assert list(pi) == sorted(pi)
        count, total = _dense_matching(pred, truth, 3.0)
        assert len(pi) == count
        assert np.linalg.norm(pred[pi] - truth[ti], axis=1).sum() == pytest.approx(total)


def test_best_threshold_index_takes_a_single_best_and_the_middle_of_a_tie():
    from napari_particle_detect.kinds.evaluation import best_threshold_index

    assert best_threshold_index([0.5, 0.9, 0.7]) == 1
    assert best_threshold_index([0.8, 0.9, 0.9, 0.9, 0.6]) == 2
    assert best_threshold_index([1.0] * 13) == 6
    assert best_threshold_index([0.9, 0.9]) == 1
