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


# ---- what score, match and evaluate_frames take, and one clear error for anything else --------------------
def _pair_tables():
    truth = pd.DataFrame({"frame": 0, "y": [10.0, 30.0, 50.0], "x": [10.0, 40.0, 20.0]})
    return truth.assign(y=truth["y"] + 0.5, score=0.9), truth


def test_score_takes_n_by_2_points_or_a_table_of_one_image_and_refuses_other_shapes():
    from napari_particle_detect.errors import ParticleDetectError
    from napari_particle_detect.kinds.evaluation import matched_offsets

    pred, truth = _pair_tables()
    # Tables by their y, x columns (detect's frame,y,x,score beside a frame,y,x truth); once 0 matches silently.
    by_table = score(pred, truth)
    assert (by_table.tp, by_table.fp, by_table.fn) == (3, 0, 0)
    assert by_table == score(pred[["y", "x"]].to_numpy(), truth[["y", "x"]].to_numpy())
    assert score(pred[["y", "x"]].to_numpy().tolist(), truth).tp == 3
    assert score(np.zeros((0, 2)), np.zeros(0)).f1 == 1.0  # empty is no points, whatever its shape
    # (4, 3) was read as 6 points (tp 6 from 4), a flat array as pairs of numbers.
    with pytest.raises(ValueError, match=r"predicted must be an \(N, 2\) array of y, x points, got shape \(4, 3\)"):
        score(np.zeros((4, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"got shape \(6,\)"):
        score(np.arange(6.0), np.arange(6.0))
    with pytest.raises(ValueError, match=r"truth must be an \(N, 2\) array .* got shape \(2,\); one point is \[\[y, x\]\]"):
        score(np.zeros((1, 2)), np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"got shape \(4, 3\)"):
        match(np.zeros((4, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"got shape \(4, 3\)"):
        matched_offsets(np.zeros((4, 3)), np.zeros((4, 3)))
    with pytest.raises(TypeError, match="truth must be an"):
        score(np.zeros((1, 2)), "centres.csv")
    with pytest.raises(ParticleDetectError, match="truth: 1 of 3 points has a missing"):
        score(pred, truth.assign(y=[1.0, np.nan, 2.0]))
    with pytest.raises(ParticleDetectError, match="predicted: a table of centres needs columns y and x"):
        score(pred.drop(columns="x"), truth)
    with pytest.raises(ParticleDetectError, match="holds 2 frames.*evaluate_frames"):
        score(pd.concat([pred, pred.assign(frame=1)]), truth)
    for bad in (-1.0, float("nan"), 0.0, float("inf")):
        with pytest.raises(ValueError, match="tolerance must be a positive number"):
            score(pred, truth, bad)
    with pytest.raises(TypeError, match="tolerance must be a number"):
        match(pred, truth, "3")
    assert score.__doc__ and "tolerance" in score.__doc__


def test_evaluate_frames_names_the_table_and_the_problem():
    from napari_particle_detect.errors import ParticleDetectError

    pred, truth = _pair_tables()
    with pytest.raises(ParticleDetectError, match="truth: needs columns frame, y and x \\(no x"):
        evaluate_frames(pred, truth.drop(columns="x"))
    with pytest.raises(ParticleDetectError, match="predicted: 1 of 3 rows has a missing, non-numeric or infinite y or x"):
        evaluate_frames(pred.assign(y=[1.0, np.nan, 2.0]), truth)
    for bad in (-1, float("nan")):
        with pytest.raises(ValueError, match="tolerance must be a positive number"):
            evaluate_frames(pred, truth, bad)
    with pytest.raises(ParticleDetectError, match="predicted: has a z column.*evaluate_volumes"):
        evaluate_frames(pred.assign(z=0.0), truth.assign(z=9.0))
    with pytest.raises(TypeError, match="predicted must be a pandas DataFrame with frame, y, x columns.*score\\(\\)"):
        evaluate_frames(pred[["y", "x"]].to_numpy(), truth[["y", "x"]].to_numpy())
    with pytest.raises(ParticleDetectError, match="truth: its frame column holds 1 value that is not a whole"):
        evaluate_frames(pred, truth.assign(frame=["0", "0", "0.5"]))
    rods_table = pred.assign(angle=30.0, length=12.0)
    with pytest.raises(ParticleDetectError, match="predicted: a rods table .*kinds.rods.evaluate_rods"):
        evaluate_frames(rods_table, rods_table)
    chains_table = pred.assign(chain=0, index=[0, 1, 2])
    with pytest.raises(ParticleDetectError, match="predicted: a chains table .*kinds.chains.evaluate_chains"):
        evaluate_frames(chains_table, chains_table)
    # Frames written as text are the same frames.
    table = evaluate_frames(pred.assign(frame="0"), truth)
    assert list(table["frame"]) == [0, "all"] and table.iloc[-1]["tp"] == 3


def test_evaluate_frames_of_empty_tables_has_the_all_row():
    pred, truth = _pair_tables()
    table = evaluate_frames(pred.iloc[:0], truth.iloc[:0])
    assert list(table["frame"]) == ["all"]
    assert (table.iloc[-1]["tp"], table.iloc[-1]["f1"]) == (0, 1.0)
    table = evaluate_frames(pd.DataFrame({"y": [], "x": []}), truth)
    assert list(table["frame"]) == [0, "all"] and table.iloc[-1]["f1"] == 0.0


def test_evaluate_frames_scores_each_file_against_the_same_file():
    import warnings

    from napari_particle_detect.errors import ParticleDetectError

    # File a's prediction sits on file b's true centre: pooling frame 0 of both files matched them.
    pred = pd.DataFrame({"file": ["a.tif"], "frame": [0], "y": [5.0], "x": [5.0]})
    truth = pd.DataFrame({"file": ["a.tif", "b.tif"], "frame": [0, 0], "y": [50.0, 5.0], "x": [50.0, 5.0]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = evaluate_frames(pred, truth)
    assert list(table["file"]) == ["a.tif", "b.tif", "all"] and list(table["frame"]) == [0, 0, "all"]
    assert list(table["tp"]) == [0, 0, 0] and list(table["fn"]) == [1, 1, 2]
    assert any("file b.tif is only in the truth table" in str(w.message) for w in caught)
    # A table of several files against one without a file column: which file would it be?
    with pytest.raises(ParticleDetectError, match="truth: holds 2 files"):
        evaluate_frames(pred.drop(columns="file"), truth)


def test_evaluate_volumes_scores_a_table_of_several_files_file_by_file():
    # It ignored the file column: file b's centre matched file a's volume (F1 0.8 instead of 0.4).
    from napari_particle_detect.kinds.evaluation3d import evaluate_volumes

    truth = pd.DataFrame({"file": ["a.tif", "a.tif", "b.tif"], "frame": 0, "z": [2.0, 8.0, 2.0],
                          "y": [5.0, 20.0, 5.0], "x": [5.0, 20.0, 5.0]})
    predicted = pd.DataFrame({"file": ["a.tif", "b.tif"], "frame": 0, "z": [2.0, 8.0], "y": [5.0, 20.0],
                              "x": [5.0, 20.0]})
    table = evaluate_volumes(predicted, truth, 3.0)
    assert table[["file", "frame", "tp", "fp", "fn"]].values.tolist() == [
        ["a.tif", 0, 1, 0, 1], ["b.tif", 0, 0, 1, 1], ["all", "all", 1, 1, 2]]
    assert table["f1"].iloc[-1] == pytest.approx(0.4)
