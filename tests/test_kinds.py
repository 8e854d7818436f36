"""Rods, ellipsoids and bead chains: generator truth, encode/decode round trips, metrics, table checks."""

import os
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.kinds import chains
from napari_particle_detect.kinds import rods
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.synthetic.spheres import SynthConfig
from napari_particle_detect.synthetic.chains import ChainConfig, bonds_of, synthesize_chains
from napari_particle_detect.synthetic.rods import (RodConfig, benchmark_rod_config, render_rods, rod_table,
                                                   synthesize_rods)


def test_angle_convention_rows_down_and_wrap():
    # Tip 2 down and right of tip 1 (rows grow downwards): 45 degrees; down and left: 135.
    t = rod_table([10, 10], [10, 10], [45, 135], [20, 20], [4, 4])
    for _, row in t.iterrows():
        assert np.degrees(np.arctan2(row.y2 - row.y1, row.x2 - row.x1)) % 180 == pytest.approx(row.angle)
    assert t.loc[0, "y2"] > t.loc[0, "y1"] and t.loc[0, "x2"] > t.loc[0, "x1"]
    assert t.loc[1, "y2"] > t.loc[1, "y1"] and t.loc[1, "x2"] < t.loc[1, "x1"]
    # Angles wrap into [0, 180): 180 is 0, -10 is 170, and the same rod either way round.
    wrapped = rod_table([0, 0, 0], [0, 0, 0], [180, -10, 360 - 1e-12], [10, 10, 10], [2, 2, 2])["angle"]
    assert ((wrapped >= 0) & (wrapped < 180)).all()
    assert wrapped[0] == 0 and wrapped[1] == pytest.approx(170)
    assert rods.angle_error(np.array([1.0, 90.0]), np.array([179.0, 0.0])).tolist() == pytest.approx([2.0, 90.0])


@pytest.mark.parametrize("angle", [0.0, 30.0, 90.0, 150.0])
def test_drawn_rod_is_as_long_as_its_table_says_caps_included(angle):
    optics = SynthConfig(shape=(96, 96), look="opaque", psf_sigma=0.0)
    table = rod_table([48.0], [48.0], [angle], [50.0], [10.0])
    signal = render_rods(optics, table, "rods", np.random.default_rng(0))
    yy, xx = np.nonzero(signal > 0.4)
    theta = np.radians(angle)
    along = (yy - 48) * np.sin(theta) + (xx - 48) * np.cos(theta)
    across = -(yy - 48) * np.cos(theta) + (xx - 48) * np.sin(theta)
    # The covered pixels' extent: between the outermost pixel centres, plus one pixel.
    assert along.max() - along.min() + 1 == pytest.approx(50.0, abs=1.5)
    assert across.max() - across.min() + 1 == pytest.approx(10.0, abs=1.5)


def test_generated_rods_and_ellipsoids_have_exact_tables():
    for shape in ("rods", "ellipsoids"):
        sample = synthesize_rods(RodConfig(optics=SynthConfig(shape=(96, 96)), shape=shape, aspect_range=(2, 6),
                                           width_range=(5, 8), area_fraction=0.2), seed=3)
        t = sample.table
        assert len(t) > 3 and sample.image.shape == (96, 96)
        assert ((t.angle >= 0) & (t.angle < 180)).all()
        assert np.allclose(np.hypot(t.y2 - t.y1, t.x2 - t.x1), t.length)
        assert ((t.length / t.width >= 2 - 1e-9) & (t.length / t.width <= 6 + 1e-9)).all()


def test_chains_generator_bonds_are_about_one_diameter():
    sample = synthesize_chains(ChainConfig(optics=SynthConfig(shape=(128, 128), radius_range=(5, 5)),
                                           beads_range=(3, 12), area_fraction=0.3), seed=4)
    t = sample.table
    pairs = bonds_of(t)
    length = np.hypot(*(t[["y", "x"]].to_numpy()[pairs[:, 0]] - t[["y", "x"]].to_numpy()[pairs[:, 1]]).T)
    assert len(pairs) > 10 and np.all((length > 0.85 * 10) & (length < 1.05 * 10))
    chains.check_table(t, "truth")  # indices 0..n-1 in every chain


def test_bonds_follow_the_indices_in_any_row_order_and_close_rings():
    table = pd.DataFrame({"y": np.arange(9.0), "x": 0.0, "chain": [7, 7, 7, 3, 3, 3, 3, 5, 9],
                          "index": [2, 0, 1, 3, 1, 0, 2, 0, 0], "closed": [0, 0, 0, 1, 1, 1, 1, 0, 0]},
                         index=np.arange(100, 109))  # a table's own index never matters: row positions do
    pairs = {tuple(p) for p in bonds_of(table).tolist()}
    assert pairs == {(1, 2), (2, 0), (5, 4), (4, 6), (6, 3), (3, 5)}  # chain 7 open; chain 3 a ring of four
    assert sorted(bonds_of(table.drop(columns="closed")).tolist()) == [[1, 2], [2, 0], [4, 6], [5, 4], [6, 3]]
    assert bonds_of(table.iloc[:0]).shape == (0, 2)


def test_rods_encode_decode_round_trip():
    sample = synthesize_rods(benchmark_rod_config("fluorescent", 0.3, shape=(160, 160)), seed=5)
    maps, mask = rods.encode(sample.table, sample.image.shape)
    assert maps.shape == (len(rods.HEADS), 160, 160) and mask.sum() > 0
    scores, _ = rods.evaluate_rods(rods.decode(maps, 0.4), sample.table.assign(frame=0))
    assert scores.f1 == 1.0
    assert scores.angle_median < 0.5 and scores.length_error_median < 0.01


def test_a_long_rod_whose_middle_is_outside_the_frame_is_left_out_a_short_object_at_the_edge_stays():
    from napari_particle_detect.synthetic.rods import rod_table

    # Maps of a wider canvas cut at x = 21: the long rod's middle (x 20) falls just outside the cut, so
    # its centre map rises up to the cut's edge; the short object's middle is 1 px inside it.
    table = rod_table([30.0, 70.0], [20.0, 22.0], [0.0, 90.0], [40.0, 12.0], [6.0, 6.0])
    maps, _ = rods.encode(table, (96, 96))
    cut = np.ascontiguousarray(maps[:, :, 21:])
    kept = rods.decode(cut, 0.4)
    everything = rods.decode(cut, 0.4, edge_margin=0.0)
    assert len(everything) == 2 and everything["x"].min() < 2  # both peak within 2 px of the edge
    assert len(kept) == 1 and kept["length"].iloc[0] < 3 * kept["width"].iloc[0]
    assert abs(kept["y"].iloc[0] - 70.0) < 1 and abs(kept["x"].iloc[0] - 1.0) < 1


def _two_touching_chains() -> pd.DataFrame:
    # Two straight chains of 6 beads side by side, beads of one touching beads of the other.
    xs = 20.0 + 10.0 * np.arange(6)
    rows = [(30.0, x, 0, i) for i, x in enumerate(xs)] + [(40.0, x, 1, i) for i, x in enumerate(xs)]
    return pd.DataFrame(rows, columns=["y", "x", "chain", "index"])


def test_touching_chains_stay_two_from_bond_evidence():
    truth = _two_touching_chains()
    maps, _ = chains.encode(truth, (80, 100))
    found = chains.decode(maps)
    assert found["chain"].nunique() == 2
    assert sorted(found.groupby("chain").size()) == [6, 6]
    scores, _ = chains.evaluate_chains(found, truth)
    assert (scores.bead_f1, scores.bond_f1, scores.chains_exact, scores.beads_right_chain) == (1.0, 1.0, 1.0, 1.0)
    # A ring decodes closed, and its summary says so.
    t = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    ring = pd.DataFrame({"y": 40 + 13 * np.sin(t), "x": 40 + 13 * np.cos(t), "chain": 0, "index": range(8), "closed": 1})
    decoded = chains.decode(chains.encode(ring, (80, 80))[0])
    summary = chains.chain_summary(decoded)
    assert summary["closed"].tolist() == [1] and summary["closed"].dtype.kind == "i" and summary["beads"].tolist() == [8]
    assert summary["contour_length"][0] == pytest.approx(8 * 2 * 13 * np.sin(np.pi / 8), rel=0.05)


def test_chain_metrics_see_a_merged_chain():
    truth = _two_touching_chains()
    merged = truth.copy()
    merged.loc[merged.chain == 1, "index"] = 11 - merged.loc[merged.chain == 1, "index"] + 0
    merged.loc[merged.chain == 1, "index"] = merged.loc[merged.chain == 1, "index"]  # 6..11 reversed: one chain
    merged["chain"] = 0
    scores, counts = chains.evaluate_chains(merged.assign(frame=0), truth)
    assert scores.bead_f1 == 1.0
    assert counts["bond_fp"] == 1 and counts["bond_fn"] == 0  # the false bond joining the two
    assert scores.chains_exact == 0.0


def test_an_open_chain_predicted_closed_is_not_exact():
    # Exact checked only that every true bond was found: the extra closing bond went unnoticed.
    line = pd.DataFrame({"frame": 0, "y": 40.0, "x": [20.0, 31.0, 42.0, 53.0, 80.0], "chain": [0, 0, 0, 0, 1],
                         "index": [0, 1, 2, 3, 0], "closed": 0})
    ring = line.assign(closed=[1, 1, 1, 1, 0])
    scores, counts = chains.evaluate_chains(ring, line)
    assert counts["bond_fp"] == 1 and scores.bead_f1 == 1.0
    assert scores.chains_exact == 0.0
    assert chains.evaluate_chains(line, line)[0].chains_exact == 1.0


def test_rod_matching_tolerance_is_a_quarter_length():
    truth = rod_table([50.0], [50.0], [0.0], [40.0], [8.0]).assign(frame=0)
    near = rod_table([50.0], [59.0], [3.0], [42.0], [8.0]).assign(frame=0)  # 9 px off: within 40 / 4
    far = rod_table([50.0], [61.0], [3.0], [42.0], [8.0]).assign(frame=0)
    assert rods.evaluate_rods(near, truth)[0].f1 == 1.0
    assert rods.evaluate_rods(near, truth)[0].angle_median == pytest.approx(3.0)
    assert rods.evaluate_rods(far, truth)[0].f1 == 0.0


def test_bad_tables_are_one_line_naming_the_problem():
    rod_rows = rod_table([1.0], [2.0], [10.0], [20.0], [4.0])
    with pytest.raises(ParticleDetectError, match="r.csv: not a chains table: no chain, index column"):
        chains.check_table(rod_rows, "r.csv")
    with pytest.raises(ParticleDetectError, match=r"r.csv: angle 180.5 on row 1 is out of range \[0, 180\)"):
        rods.check_table(rod_rows.assign(angle=180.5), "r.csv")
    gap = _two_touching_chains()
    gap = gap[~((gap.chain == 1) & (gap["index"] == 2))]
    with pytest.raises(ParticleDetectError, match="c.csv: chain 1 .* gap or repeat in its index at 2"):
        chains.check_table(gap, "c.csv")
    with pytest.raises(ParticleDetectError, match="looks like a chains table"):
        rods.check_table(_two_touching_chains(), "c.csv")


def test_contact_at_a_sharp_turn_is_not_a_bond_even_with_some_evidence():
    # Chain 0 runs right along y=30; chain 1 runs down from just below its last bead: end to end, a
    # 90 degree turn. The bond map is the truth's plus a spot of evidence (0.45) at the contact, as a
    # model unsure of a touching pair draws it: the turn penalty keeps the two chains apart.
    xs = 20.0 + 10.0 * np.arange(5)
    rows = [(30.0, x, 0, i) for i, x in enumerate(xs)] + [(40.0 + 10.0 * i, 60.0, 1, i) for i in range(5)]
    truth = pd.DataFrame(rows, columns=["y", "x", "chain", "index"])
    maps, _ = chains.encode(truth, (100, 100))
    contact = np.array([[35.0, 60.0]])  # between (30, 60) and (40, 60)
    maps[1] = np.maximum(maps[1], 0.45 * rods.gaussians(contact, (100, 100), chains.BOND_SIGMA))
    found = chains.decode(maps)
    scores, _ = chains.evaluate_chains(found, truth)
    assert scores.chains_exact == 1.0 and scores.bond_f1 == 1.0
    # Without the turn penalty the contact would join them.
    centres = found[["y", "x"]].to_numpy(float)
    joined = chains.link(centres, maps[1], free_turn=180.0)
    assert sorted(len(order) for order, _ in joined) == [10]


def test_a_piece_inside_a_longer_collinear_rod_is_dropped_a_crossing_rod_is_not():
    centres = np.array([[50.0, 50.0], [50.0, 40.0], [50.0, 50.0]])
    angle = np.array([0.0, 2.0, 90.0])  # the whole rod, a half of it, a rod crossing it
    length = np.array([40.0, 20.0, 30.0])
    width = np.array([8.0, 8.0, 8.0])
    assert rods.fragments(centres, angle, length, width).tolist() == [False, True, False]


def test_a_crossing_rods_tip_on_the_axis_does_not_cut_a_long_rod_short():
    # A short rod ends on the long rod's axis 15 px right of its centre: walking out, that tip comes
    # first on the right (15 px) while the left tip is 35 px out; the even pair (35, 35) is the rod.
    truth = rod_table([64.0, 74.0], [64.0, 79.0], [0.0, 90.0], [70.0, 20.0], [8.0, 8.0])
    maps, _ = rods.encode(truth, (128, 128))
    found = rods.decode(maps, 0.4)
    assert len(found) == 2
    long_rod = found.iloc[int(np.argmax(found.length.to_numpy()))]
    assert long_rod.length == pytest.approx(70.0, abs=1.0) and long_rod.x == pytest.approx(64.0, abs=1.0)
    assert found.length.min() == pytest.approx(20.0, abs=1.0)


def test_a_short_rod_at_a_slight_angle_over_a_long_ones_end_is_not_taken_for_a_second_peak_of_it():
    centres = np.array([[34.0, 55.0], [30.6, 83.4], [34.0, 70.0]])
    angle = np.array([0.0, 12.0, 1.0])  # a long rod, a short one leaving its body, a second peak of the long one
    length = np.array([70.0, 24.0, 68.0])
    width = np.array([7.5, 8.0, 7.5])
    scores = np.array([1.0, 0.97, 0.9])
    assert rods.duplicates(centres, scores, angle, length, width).tolist() == [False, False, True]


def test_learning_rate_decays_by_the_steps_alone_whatever_the_time_limit():
    from napari_particle_detect.learning.kinds_training import KindTrainConfig, _scheduled_lr

    config = KindTrainConfig(learning_rate=1e-3, final_lr_fraction=0.1, time_limit_s=100.0)
    assert _scheduled_lr(config, 0.0) == pytest.approx(1e-3)
    assert _scheduled_lr(config, 0.5) == pytest.approx(0.55e-3)
    assert _scheduled_lr(config, 1.0) == pytest.approx(1e-4)


def test_chains_touching_end_to_end_in_line_stay_two_by_the_length_rule():
    # Two straight chains in one line, end to end: no turn to tell them apart. Chain 0's bonds are
    # 10 px, chain 1's 11 px (bond lengths differ from chain to chain), and their end beads are 12.5 px
    # apart, as beads of two chains that touch without being bonded. The bond map is the truth's plus
    # a contact spot (0.6) between the two ends, as the model draws an unsure contact.
    xs0 = 15.0 + 10.0 * np.arange(5)  # 15 .. 55
    xs1 = 67.5 + 11.0 * np.arange(5)  # 67.5 .. 111.5
    rows = [(40.0, x, 0, i) for i, x in enumerate(xs0)] + [(40.0, x, 1, i) for i, x in enumerate(xs1)]
    truth = pd.DataFrame(rows, columns=["y", "x", "chain", "index"])
    maps, _ = chains.encode(truth, (80, 130))
    contact = np.array([[40.0, 0.5 * (xs0[-1] + xs1[0])]])
    maps[1] = np.maximum(maps[1], 0.6 * rods.gaussians(contact, (80, 130), chains.BOND_SIGMA))
    found = chains.decode(maps)
    scores, _ = chains.evaluate_chains(found, truth)
    assert (scores.bond_f1, scores.chains_exact) == (1.0, 1.0)
    assert sorted(found.groupby("chain").size()) == [5, 5]
    # Without the length rule the contact joins them into one chain of ten.
    centres = found[["y", "x"]].to_numpy(float)
    joined = chains.link(centres, maps[1], length_scale=np.inf)
    assert sorted(len(order) for order, _ in joined) == [10]
    # The reference length is each pair's neighbours', not the image's: chain 1's 11 px bonds keep
    # their full support though 10 px is the image's usual bond (11 / 10 would keep 4 % of it).
    pairs = np.array([[3, 4], [4, 5], [5, 6], [6, 7], [7, 8], [8, 9]])  # chain 0's last bond, the contact, chain 1
    evidence = np.array([0.8, 0.6, 0.8, 0.8, 0.8, 0.8])
    relative = chains.relative_length(truth[["y", "x"]].to_numpy(float), pairs, evidence, 10.0)
    kept = chains.length_penalty(relative)
    assert kept[[0, 2, 3, 4, 5]].min() > 0.99 and kept[1] < 0.01
    assert chains.length_penalty(np.array([11.0 / 10.0]))[0] < 0.05


def test_rods_cut_by_the_frame_count_neither_way_when_scoring_inside():
    # One rod wholly inside (found), one reaching past the left edge (found off its true centre), and a
    # stray detection reaching the top edge: whole-image scoring counts the cut rod's miss and both
    # extras; scoring inside the frame counts only the rod inside.
    from napari_particle_detect.synthetic.rods import rod_table

    truth = rod_table([50.0, 30.0], [50.0, 2.0], [0.0, 0.0], [20.0, 20.0], [6.0, 6.0]).assign(frame=0)
    found = rod_table([50.0, 30.0, 3.0], [50.5, 9.0, 60.0], [0.0, 0.0, 90.0], [20.0, 18.0, 10.0],
                      [6.0, 6.0, 6.0]).assign(frame=0)
    whole = rods.empty_errors()
    inside = rods.empty_errors()
    rods.add_errors(whole, found, truth)
    rods.add_errors(inside, found, truth, inside=(100, 100))
    assert (whole["tp"], whole["fp"], whole["fn"]) == (1, 2, 1)
    assert (inside["tp"], inside["fp"], inside["fn"]) == (1, 0, 0)


@pytest.mark.parametrize("kind", ["rods", "chains"])
def test_training_examples_are_drawn_in_the_looks_asked_for(kind, monkeypatch):
    """The generator gets configs in the looks asked for, as often as they are listed; with none asked for
    it keeps its own spread (the same draws as before looks existed)."""
    from napari_particle_detect.kinds import registry
    from napari_particle_detect.learning.kinds_training import KindTrainConfig, train_kind

    spec = registry.KINDS[kind]
    plain = [spec.example(np.random.default_rng(s), 64, s, ())[0] for s in range(4)]
    drawn = []
    name = "synthesize_rods" if kind == "rods" else "synthesize_chains"
    real = getattr(registry, name)
    monkeypatch.setattr(registry, name, lambda config, seed: drawn.append(config.optics.look) or real(config, seed))
    again = [spec.example(np.random.default_rng(s), 64, s)[0] for s in range(4)]
    assert all(np.array_equal(a, b) for a, b in zip(plain, again))
    drawn.clear()
    for s in range(8):
        spec.example(np.random.default_rng(s), 64, s, ("opaque",))
    assert drawn == ["opaque"] * 8
    drawn.clear()
    for s in range(60):
        spec.example(np.random.default_rng(s), 48, s, ("brightfield", "brightfield", "fluorescent"))
    assert set(drawn) == {"brightfield", "fluorescent"} and 0.5 < drawn.count("brightfield") / 60 < 0.85
    with pytest.raises(ParticleDetectError, match="looks sepia"):
        train_kind(KindTrainConfig(kind=kind, looks=("sepia",), epochs=1, steps_per_epoch=1), "unused")


def test_tip_peaks_of_many_profiles_at_once_are_each_profiles_own():
    from napari_particle_detect.kinds.rods import Profiles, _starts

    def laid_end_to_end(profiles, reach):  # each profile followed by reach samples of -inf
        gap = np.full(reach, -np.inf, dtype=np.float32)
        counts = np.array([len(p) for p in profiles])
        return Profiles(np.concatenate([part for p in profiles for part in (p, gap)]), _starts(counts, reach), counts, reach)

    def one(profile, floor, reach):  # the walk's peaks, one profile at a time
        found = []
        for k in np.flatnonzero(profile > floor):
            if profile[k] >= profile[max(k - reach, 0) : k + reach + 1].max():
                if 0 < k < len(profile) - 1:
                    a, b, c = profile[k - 1], profile[k], profile[k + 1]
                    curvature = a - 2 * b + c
                    found.append(k + (0.5 * (a - c) / curvature if curvature < 0 else 0.0))
                else:
                    found.append(float(k))
        return found

    rng = np.random.default_rng(3)
    profiles = [rng.random(int(n)).astype(np.float32) for n in rng.integers(1, 40, 300)]
    profiles += [np.zeros(5, np.float32), np.array([0.9, 0.9, 0.1], np.float32), np.array([1.0], np.float32)]
    floors = [max(0.3, 0.5 * float(p.max())) for p in profiles]
    expected = [one(p, f, 6) for p, f in zip(profiles, floors)]
    assert laid_end_to_end(profiles, 6).peaks_above(np.array(floors)) == expected
    assert laid_end_to_end(profiles, 6).peaks(0.3, 0.5) == expected  # each floor from its own profile's largest value
    # Laid out from the walks behind and ahead of each object, as the decoder does: the same peaks.
    behind = profiles[:300]
    ahead = [rng.random(len(p)).astype(np.float32) for p in behind]
    walks = Profiles.laid_out(np.concatenate(behind), np.concatenate(ahead), np.array([len(p) for p in behind]), 6)
    pairs = [p for pair in zip(behind, ahead) for p in pair]
    assert walks.peaks(0.3, 0.5) == [one(p, max(0.3, 0.5 * float(p.max())), 6) for p in pairs]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_median_of_the_agreeing_samples_is_numpys_nanmedian(dtype):
    rng = np.random.default_rng(4)
    values = rng.normal(size=(500, 9)).astype(dtype)
    agree = rng.random(values.shape) < 0.6
    agree[:, 4] = True  # the centre always counts
    expected = np.nanmedian(np.where(agree, values, np.nan), axis=1)
    got = rods.median_of_agreeing(values, agree)
    assert got.dtype == expected.dtype and np.array_equal(got, expected)


ROD_HEADER = "frame,y,x,angle,length,width,y1,x1,y2,x2,score\n"
CHAIN_HEADER = "frame,y,x,score,chain,index,closed\n"


@pytest.mark.parametrize("kind, header", [("rods", ROD_HEADER), ("rods", "y,x,angle,length,width,y1,x1,y2,x2\n"),
                                          ("chains", CHAIN_HEADER), ("chains", "y,x,chain,index,closed\n")])
def test_a_table_of_no_rows_is_valid_and_scores_every_truth_as_missed(tmp_path, kind, header):
    from napari_particle_detect.kinds.registry import read_kind_table

    # What detect writes for an image with nothing in it (and synth for an image without objects).
    (tmp_path / "blank.csv").write_text(header)
    blank = read_kind_table(tmp_path / "blank.csv", kind)
    assert len(blank) == 0 and pd.api.types.is_numeric_dtype(blank["y"]) and "frame" in blank
    if kind == "rods":
        truth = rod_table([20.0, 40.0], [20.0, 40.0], [10.0, 100.0], [20.0, 20.0], [5.0, 5.0]).assign(frame=0)
        scores, _ = rods.evaluate_rods(blank, truth)
        assert (scores.tp, scores.fp, scores.fn) == (0, 0, 2)
        assert rods.evaluate_rods(truth, blank)[0].fp == 2
    else:
        truth = _two_touching_chains().assign(frame=0)
        scores, counts = chains.evaluate_chains(blank, truth)
        assert (counts["bead_tp"], counts["bead_fn"], counts["bond_fn"], scores.chains_exact) == (0, 12, 10, 0.0)
        assert chains.evaluate_chains(truth, blank)[1]["bead_fp"] == 12
    maps, _ = registry_kind(kind).encode(blank, (32, 32))  # an empty reviewed frame teaches "nothing here"
    assert maps[0].max() == 0


def registry_kind(kind):
    from napari_particle_detect.kinds.registry import get_kind

    return get_kind(kind)


def test_a_chains_table_of_several_files_numbers_its_chains_per_file():
    one = _two_touching_chains().assign(frame=0)
    several = pd.concat([one.assign(file="a.tif"), one.assign(file="b.tif", y=one["y"] + 50)], ignore_index=True)
    checked = chains.check_table(several, "both.csv")  # chain ids restart in every file: no repeat
    assert len(checked) == 24
    assert chains.count_chains(several) == 4 and chains.count_chains(one) == 2
    assert chains.count_chains(pd.concat([one, one.assign(frame=1)])) == 4  # and in every frame
    with pytest.raises(ParticleDetectError, match=r"both.csv: chain 1 \(file b.tif, frame 0\) has a gap"):
        chains.check_table(several.drop(index=20), "both.csv")
    # Without the file column the same rows are two copies of each chain: refused as before.
    with pytest.raises(ParticleDetectError, match=r"chain 0 \(frame 0\) has a gap or repeat"):
        chains.check_table(several.drop(columns="file"), "both.csv")


@pytest.mark.parametrize("closed, problem", [
    ({(0, 3): 1}, r"chain 0 \(frame 0\) is closed on some beads and open on others"),
    ({(0, i): 1 for i in range(6)} | {(1, i): 2 for i in range(6)}, r"chain 1 \(frame 0\) has closed 2"),
])
def test_a_chains_closed_values_must_agree_within_each_chain(closed, problem):
    table = _two_touching_chains().assign(closed=0)
    for (chain, index), value in closed.items():
        table.loc[(table.chain == chain) & (table["index"] == index), "closed"] = value
    with pytest.raises(ParticleDetectError, match="c.csv: " + problem):
        chains.check_table(table, "c.csv")


@pytest.mark.parametrize("beads", [1, 2])
def test_a_ring_needs_three_beads(beads):
    table = pd.DataFrame({"y": 10.0 * np.arange(beads), "x": 0.0, "chain": 4, "index": range(beads), "closed": 1})
    with pytest.raises(ParticleDetectError, match=rf"c.csv: chain 4 \(frame 0\) is closed \(a ring\) with {beads} bead"):
        chains.check_table(table, "c.csv")
    assert len(chains.check_table(table.assign(closed=0), "c.csv")) == beads
    ring = pd.DataFrame({"y": [0.0, 10.0, 5.0], "x": [0.0, 0.0, 8.0], "chain": 4, "index": range(3), "closed": 1})
    assert chains.check_table(ring, "c.csv")["closed"].tolist() == [1, 1, 1]
    assert chains.check_table(ring.assign(closed=np.nan), "c.csv")["closed"].tolist() == [0, 0, 0]  # empty: open


def test_a_rods_tips_must_agree_with_its_centre_angle_and_length(tmp_path):
    from napari_particle_detect.kinds.registry import read_kind_table, write_kind_table

    rng = np.random.default_rng(0)
    n = 400
    # Written with three decimals and read back: rounding is never taken for a disagreement, down to short rods.
    table = rod_table(rng.uniform(0, 500, n), rng.uniform(0, 500, n), rng.uniform(0, 180, n),
                      np.r_[rng.uniform(0.5, 3, n // 2), rng.uniform(3, 800, n - n // 2)], 4.0)
    write_kind_table(table.assign(frame=0, score=0.5), tmp_path / "r.csv", "rods")
    assert len(read_kind_table(tmp_path / "r.csv", "rods")) == n
    rod = rod_table([50.0], [60.0], [30.0], [40.0], [6.0])
    rods.check_table(rod.assign(y2=rod["y2"] + 0.004), "r.csv")  # within rounding
    for changed, problem in [({"angle": 30.2}, r"row 1: its tips y1,x1,y2,x2 give angle 30.000 degrees, not 30.2"),
                             ({"length": 40.05}, r"row 1: its tips y1,x1,y2,x2 give length 40.000 px, not 40.05"),
                             ({"y": 50.5, "x": 60.5}, r"row 1: its tips y1,x1,y2,x2 give middle \(50.000, 60.000\)")]:
        with pytest.raises(ParticleDetectError, match="r.csv: " + problem):
            rods.check_table(pd.concat([rod, rod.assign(**changed)], ignore_index=True).iloc[1:], "r.csv")
    # Tips given the other way round are the same rod; without tips they are drawn from the rest.
    swapped = rod.assign(y1=rod["y2"], x1=rod["x2"], y2=rod["y1"], x2=rod["x1"])
    assert len(rods.check_table(swapped, "r.csv")) == 1
    assert rods.check_table(rod.drop(columns=["y1", "x1", "y2", "x2"]).assign(angle=30.2), "r.csv")["y1"].notna().all()


@pytest.mark.parametrize("angle", [179.9995, 179.99951, 179.9999, 180 - 1e-12])
def test_an_angle_written_as_180_is_written_as_0_with_its_tips_swapped(tmp_path, angle):
    from napari_particle_detect.kinds.registry import read_kind_table, write_kind_table

    table = rod_table([50.0, 20.0], [60.0, 20.0], [angle, 179.9994], [30.0, 10.0], [6.0, 4.0]).assign(frame=0, score=0.9)
    for rows in (table, table.iloc[:1]):  # one row: its columns are one block of memory, which the swap must not alias
        write_kind_table(rows, tmp_path / "r.csv", "rods")
        assert pd.read_csv(tmp_path / "r.csv")["angle"].tolist() == [0.0, 179.999][:len(rows)]
        back = read_kind_table(tmp_path / "r.csv", "rods")
        # Tip 2 - tip 1 points along the written angle, and the rod is the one it was.
        row = back.iloc[0]
        assert (row.y1, row.x1, row.y2, row.x2) == pytest.approx((50.0, 45.0, 50.0, 75.0), abs=2e-3)
        assert row.angle == 0.0 and rods.angle_error(np.array([row.angle]), np.array([angle]))[0] < 1e-3


def test_chains_and_rings_keep_to_the_beads_range_and_free_beads_are_chains_of_one():
    from napari_particle_detect.synthetic.chains import ring_sizes

    config = ChainConfig(optics=SynthConfig(shape=(160, 160), radius_range=(4, 5)), beads_range=(10, 12),
                         ring_share=0.3, area_fraction=0.35)
    sizes = pd.concat([synthesize_chains(config, seed=seed).table.groupby("chain").agg(
        beads=("index", "size"), closed=("closed", "max")) for seed in range(3)])
    assert set(sizes["beads"]) - {1} <= {10, 11, 12}  # a walk stopped short is not kept
    assert (sizes["beads"] > 1).sum() > 10 and sizes["closed"].sum() >= 1
    assert set(sizes.loc[sizes["closed"] == 1, "beads"]) <= {10, 11, 12}
    # Rings take 6-20 beads where the range allows, else the range from 3 up; none where it ends below 3.
    assert [ring_sizes(r) for r in [(3, 50), (3, 8), (2, 4), (30, 40), (1, 2)]] == [(6, 20), (6, 8), (3, 4), (30, 40), None]
    short = synthesize_chains(replace(config, beads_range=(1, 2)), seed=1).table
    assert short["closed"].sum() == 0 and short.groupby("chain").size().max() <= 2


def test_a_bead_too_large_for_the_image_is_one_line_naming_the_smallest_image():
    config = ChainConfig(optics=SynthConfig(shape=(24, 30), radius_range=(4, 12)))
    with pytest.raises(ParticleDetectError, match=r"^an image of 24 x 30 px is too small for beads of radius up to 12 px: "
                                                  r"it takes at least 25 x 25 px"):
        synthesize_chains(config)
    assert len(synthesize_chains(replace(config, optics=replace(config.optics, shape=(25, 25)))).table) >= 1


def test_a_ring_cut_below_three_beads_in_the_viewer_is_saved_as_an_open_chain(project_home):
    from napari_particle_detect.projects.kinds_project import load_kind_frame, open_kind_project, save_kind_frame

    project = open_kind_project("chains", name="rings", data=np.zeros((2, 64, 64), np.float32))
    rings = pd.DataFrame({"y": [10.0, 20.0, 15.0, 40.0, 50.0, 45.0], "x": [10.0, 10.0, 18.0, 40.0, 40.0, 48.0],
                          "score": 0.5, "chain": [0, 0, 0, 1, 1, 1], "index": [0, 1, 2, 0, 1, 2], "closed": 1})
    # The viewer's table after one bead of ring 0 and two of ring 1 were deleted (indices renumbered).
    cut = rings.drop(index=[2, 4, 5]).reset_index(drop=True)
    save_kind_frame(project, 0, cut)
    assert load_kind_frame(project, 0)["closed"].tolist() == [0, 0, 0]
    save_kind_frame(project, 1, rings)
    assert load_kind_frame(project, 1)["closed"].tolist() == [1] * 6


def test_a_chain_cut_by_an_accepted_box_keeps_its_runs_as_chains_without_gaps():
    # Detecting chains again on a frame with an accepted box kept the beads inside it: a chain crossing the
    # box's edge kept a gap in its index, and the frame could not be saved.
    from napari_particle_detect.kinds.chains import check_table, keep_beads

    table = pd.DataFrame({"frame": 0, "y": np.arange(9.0), "x": 0.0, "chain": [0, 0, 0, 0, 0, 1, 1, 1, 2],
                          "index": [0, 1, 2, 3, 4, 0, 1, 2, 0], "closed": [0, 0, 0, 0, 0, 1, 1, 1, 0]})
    cut = keep_beads(table, np.array([1, 1, 0, 1, 1, 1, 1, 1, 0], bool))
    assert cut[["chain", "index", "closed"]].values.tolist() == [[0, 0, 0], [0, 1, 0], [1, 0, 0], [1, 1, 0],
                                                                 [2, 0, 1], [2, 1, 1], [2, 2, 1]]  # the ring whole
    check_table(cut, "cut")
    ring_cut = keep_beads(table, np.array([1, 1, 1, 1, 1, 1, 0, 1, 1], bool))
    # The ring's beads 2 and 0 are bonded across its closing bond: one open chain 2-0, not two of one bead.
    assert ring_cut["closed"].tolist() == [0] * 8 and ring_cut["chain"].nunique() == 3
    ring = ring_cut[ring_cut["y"].isin([5.0, 7.0])]
    assert ring["y"].tolist() == [7.0, 5.0] and ring["index"].tolist() == [0, 1] and ring["chain"].nunique() == 1
    check_table(ring_cut, "ring cut")


def test_rods_and_chains_evaluation_name_a_missing_column_and_score_files_apart():
    rod = rod_table([50.0], [50.0], [30.0], [40.0], [8.0]).assign(frame=0)
    with pytest.raises(ParticleDetectError, match="predicted: not a rods table: no angle column"):
        rods.evaluate_rods(rod.drop(columns="angle"), rod)
    with pytest.raises(ParticleDetectError, match="truth: not a rods table: no length column"):
        rods.evaluate_rods(rod, rod.drop(columns="length"))
    with pytest.raises(ParticleDetectError, match="truth: column y holds missing values"):
        rods.evaluate_rods(rod, rod.assign(y=np.nan))
    beads = pd.DataFrame({"frame": 0, "y": [10.0, 14.0], "x": [10.0, 10.0], "chain": 0, "index": [0, 1]})
    with pytest.raises(ParticleDetectError, match="predicted: not a chains table: no chain column"):
        chains.evaluate_chains(beads.drop(columns="chain"), beads)
    with pytest.raises(ParticleDetectError, match="truth: not a chains table: no chain, index column "
                                                  r"\(it looks like a rods table: score it with kinds.rods.evaluate_rods\)"):
        chains.evaluate_chains(beads, rod)
    with pytest.raises(TypeError, match="predicted must be a pandas DataFrame"):
        rods.evaluate_rods(rod[["y", "x"]].to_numpy(), rod)
    # One file's rod is not another file's: frame 0 of a.tif and of b.tif were pooled.
    shifted = rod_table([50.0], [90.0], [30.0], [40.0], [8.0]).assign(frame=0)  # tips moved with it
    two = pd.concat([rod.assign(file="a.tif"), shifted.assign(file="b.tif")], ignore_index=True)
    moved = pd.concat([shifted.assign(file="a.tif"), rod.assign(file="b.tif")], ignore_index=True)
    assert rods.evaluate_rods(two, moved)[0].tp == 0
    assert rods.evaluate_rods(two, two)[0].tp == 2
    pairs = pd.concat([beads.assign(file="a.tif"), beads.assign(file="b.tif", x=60.0)], ignore_index=True)
    swapped = pd.concat([beads.assign(file="a.tif", x=60.0), beads.assign(file="b.tif")], ignore_index=True)
    assert chains.evaluate_chains(pairs, swapped)[1]["bead_tp"] == 0
    assert chains.evaluate_chains(pairs, pairs)[0].bond_f1 == 1.0


def fail_second_replace(monkeypatch) -> list:
    """os.replace as the file writers call it, failing (a full disk) on its second call; the targets moved."""
    from napari_particle_detect.files import io

    real_replace, calls = os.replace, []

    def failing_second(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(io.os, "replace", failing_second)
    return calls


def test_atomic_write_texts_writes_all_or_nothing(tmp_path, monkeypatch):

    from napari_particle_detect.files import io

    table, summary = tmp_path / "c.csv", tmp_path / "c.chains.csv"
    io.atomic_write_texts({table: "old table\n", summary: "old summary\n"})
    assert (table.read_text(), summary.read_text()) == ("old table\n", "old summary\n")
    # A failure while writing (the second text is no text) leaves both as they were, no temporary behind.
    with pytest.raises(AttributeError):
        io.atomic_write_texts({table: "new table\n", summary: None})
    assert (table.read_text(), summary.read_text()) == ("old table\n", "old summary\n")
    # A failure while moving the second into place puts the first back; a file new to the folder goes.
    calls = fail_second_replace(monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        io.atomic_write_texts({table: "new table\n", summary: "new summary\n"})
    fresh = tmp_path / "d.csv"
    calls.clear()
    with pytest.raises(OSError):
        io.atomic_write_texts({fresh: "d\n", summary: "new summary\n"})
    monkeypatch.undo()
    assert (table.read_text(), summary.read_text()) == ("old table\n", "old summary\n") and not fresh.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.chains.csv", "c.csv"]
    io.atomic_write_texts({table: "new table\n", summary: "new summary\n"})
    assert (table.read_text(), summary.read_text()) == ("new table\n", "new summary\n")


def test_kind_detection_refuses_a_3d_model_bad_frames_and_heatmaps_and_counts_the_frames_detected():
    from napari_particle_detect.detection.prediction import detect
    from napari_particle_detect.synthetic.spheres import synthesize

    image = synthesize(SynthConfig(shape=(96, 96)), seed=3).image
    with pytest.raises(ParticleDetectError, match=r"unet3d\.pt: a 3D model \(finds particles in volumes\); detect "
                                                  r"volumes with napari_particle_detect\.detect_volumes or .*--axes ZYX$"):
        detect(image, kind="chains", model="unet3d", device="cpu")  # not "give --kind spheres"
    stack = np.stack([image] * 3)
    with pytest.raises(ParticleDetectError, match=r"^image: frame 5 is out of range: 3 frames, so 0 to 2"):
        detect(stack, kind="rods", device="cpu", frames=[5])
    with pytest.raises(ParticleDetectError, match="image: frame 1 is given twice in frames"):
        detect(stack, kind="rods", device="cpu", frames=[1, 1])
    with pytest.raises(TypeError, match="frames must be a list of frame indices"):
        detect(stack, kind="rods", device="cpu", frames=1)
    with pytest.raises(ParticleDetectError, match="heatmaps: detect returns a table, which holds no heatmaps"):
        detect(image, kind="rods", device="cpu", heatmaps=True)
    with pytest.raises(TypeError, match="progress must be a callable"):
        detect(image, kind="rods", device="cpu", progress=5)
    with pytest.raises(ParticleDetectError, match="tile must be a whole number of pixels, at least 1, got 0"):
        detect(image, kind="rods", device="cpu", tile=0)
    calls = []
    table = detect(stack, kind="rods", device="cpu", frames=[-1], progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 1)] and set(table["frame"]) <= {2} and len(table)


def test_a_chains_table_and_its_summary_are_written_both_or_neither(tmp_path, monkeypatch):

    from napari_particle_detect.files import io
    from napari_particle_detect.kinds.registry import write_kind_table

    beads = pd.DataFrame({"frame": 0, "y": [10.0, 14.0], "x": [10.0, 10.0], "score": 0.9, "chain": 0,
                          "index": [0, 1], "closed": 0})
    path = tmp_path / "c.csv"
    write_kind_table(beads, path, "chains")
    before = path.read_text(), (tmp_path / "c.chains.csv").read_text()
    calls = fail_second_replace(monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        write_kind_table(beads.assign(y=[10.0, 22.0]), path, "chains")  # another contour length too
    monkeypatch.undo()
    assert (path.read_text(), (tmp_path / "c.chains.csv").read_text()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.chains.csv", "c.csv"]


def _kind_image(kind: str) -> np.ndarray:
    if kind == "rods":
        return synthesize_rods(benchmark_rod_config("fluorescent", 0.15, shape=(96, 96)), seed=123).image
    from napari_particle_detect.synthetic.chains import benchmark_chain_config

    return synthesize_chains(benchmark_chain_config("fluorescent", 0.25, shape=(96, 96)), seed=124).image


@pytest.mark.parametrize("kind", ["rods", "chains"])
def test_a_nan_frame_of_a_stack_is_a_blank_frame_and_one_nan_image_is_refused(kind, caplog):
    # One NaN pixel in frame 1 refused the whole stack, where spheres skip the frame with a warning.
    from napari_particle_detect.detection.prediction import detect

    image = _kind_image(kind).astype(np.float32)
    stack = np.stack([image] * 3)
    stack[1] = np.nan  # a dropped tile; a few NaN pixels are a mosaic's gaps (test_gaps_everywhere.py)
    with caplog.at_level("WARNING", logger="napari_particle_detect"):
        table = detect(stack, kind=kind, device="cpu", name="st.tif")
    alone = detect(image, kind=kind, device="cpu")
    assert len(alone) and set(table["frame"]) == {0, 2} and (table["frame"] == 2).sum() == len(alone)
    said = [r.getMessage() for r in caplog.records if "NaN or infinite" in r.getMessage()]
    assert said == ["st.tif frame 1: every pixel is NaN or infinite (a blank frame): nothing found; the rest of the "
                    "stack is detected"], said
    with pytest.raises(ParticleDetectError, match=r"^image: every pixel is NaN or infinite; nothing to "
                                                  r"detect$"):
        detect(stack[1], kind=kind, device="cpu")


def test_write_centres_keeps_each_kinds_column_order(tmp_path):
    # write_centres put score fourth in a rods table, where detect and the command line put it last.
    from napari_particle_detect.files.centre_csv import write_centres
    from napari_particle_detect.kinds.registry import write_kind_table

    found = {"rods": rod_table([20.0], [30.0], [45.0], [20.0], [6.0]).assign(frame=0, score=0.9),
             "chains": pd.DataFrame({"frame": 0, "y": [10.0, 14.0], "x": [10.0, 10.0], "score": 0.9, "chain": 0,
                                     "index": [0, 1], "closed": 0})}
    for kind, columns in (("rods", rods.COLUMNS), ("chains", chains.COLUMNS)):
        shuffled = found[kind][columns[::-1]].assign(file="a.tif")
        write_centres(shuffled, tmp_path / f"{kind}.csv")
        write_kind_table(shuffled, tmp_path / f"{kind}.cli.csv", kind)
        header = (tmp_path / f"{kind}.csv").read_text().splitlines()[0]
        assert header == (tmp_path / f"{kind}.cli.csv").read_text().splitlines()[0] == ",".join(columns + ["file"])
    spheres = pd.DataFrame({"particle": [3], "score": [0.9], "x": [1.0], "y": [2.0], "frame": [0]})
    write_centres(spheres, tmp_path / "spheres.csv")
    assert (tmp_path / "spheres.csv").read_text().splitlines()[0] == "frame,y,x,score,particle"
