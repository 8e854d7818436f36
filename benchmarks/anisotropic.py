"""Rods, ellipsoids and bead chains on fresh synthetic images: the shipped kind models against what a
user would do instead, each tuned on separate images.

* Rods (aspect 2-10, width 6-9 px, 256 x 256, random orientations), per look and area fraction:
  our rods model; threshold + ``skimage.measure.regionprops`` (centroid, orientation, major axis
  times a length factor), the threshold, polarity, smallest area and length factor grid-searched on
  separate tuning images; and today's sphere model (centres only). Scored by ``rods.evaluate_rods``:
  one-to-one matching within max(3 px, length / 4), F1, orientation error min(|d|, 180 - |d|),
  relative length and width errors (regionprops: the minor axis as the width).
* Ellipsoids (aspect 1.5-5): orientation error of our model and of regionprops, and both width errors.
* Chains (3-20 beads, packed until chains touch, radius 6 px): our chains model against trackpy's
  beads (``locate`` tuned on separate images) linked by a distance rule (pairs closer than a tuned
  factor x the median neighbour distance, at most two partners each, nearest first), tuned for bond F1.
* Time per 256 x 256 frame of each kind's detection, spheres included (same image size).

    .venv/bin/python benchmarks/anisotropic.py            # 4 test + 2 tuning images per cell
    .venv/bin/python benchmarks/anisotropic.py --quick    # 2 test + 1 tuning image
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import napari_particle_detect  # noqa: F401 - before torch: its OpenMP wait policy, as users run it
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402

from napari_particle_detect.kinds import chains  # noqa: E402
from napari_particle_detect.kinds import rods  # noqa: E402
from napari_particle_detect.detection.kinds_prediction import detect_kind  # noqa: E402
from napari_particle_detect.detection.prediction import detect  # noqa: E402
from napari_particle_detect.synthetic.chains import benchmark_chain_config, synthesize_chains  # noqa: E402
from napari_particle_detect.synthetic.rods import benchmark_rod_config, rod_table, synthesize_rods  # noqa: E402

LOOKS = ("fluorescent", "opaque", "brightfield")
AREA_FRACTIONS = (0.15, 0.30)
ROD_F1_TARGETS = {0.15: 0.97, 0.30: 0.93}
SEED_BASE = 400_000  # far from training (seed * 1_000_003 % 10^7 ...) and validation (10^7 up) seeds
TUNE_BASE = 450_000


def rods_images(look: str, af: float, n: int, base: int, kind: str = "rods", aspect=(2.0, 10.0)):
    config = benchmark_rod_config(look, af, kind=kind, aspect_range=aspect)
    return [synthesize_rods(config, seed=base + i) for i in range(n)]


# ---- threshold + regionprops -------------------------------------------------------------------

def regionprops_rods(image: np.ndarray, level: float, dark: bool, min_area: int, factor: float) -> pd.DataFrame:
    from skimage.measure import label, regionprops

    img = image.astype(float)
    lo, hi = np.percentile(img, [1, 99.8])
    img = (img - lo) / max(hi - lo, 1e-9)
    if dark:
        img = 1 - img
    rows = []
    for region in regionprops(label(img > level)):
        if region.area < min_area:
            continue
        phi = region.orientation
        angle = np.degrees(np.arctan2(np.cos(phi), np.sin(phi)))
        length = factor * region.axis_major_length
        width = max(region.axis_minor_length, 1.0)
        rows.append((region.centroid[0], region.centroid[1], angle, max(length, width), width))
    table = rod_table(*np.array(rows).T) if rows else rod_table([], [], [], [], [])
    return table.assign(frame=0)


def tune_regionprops(samples) -> tuple[tuple, float]:
    best, best_f1 = None, -1.0
    for level, dark, min_area in itertools.product(np.linspace(0.15, 0.7, 12), (False, True), (5, 15, 30)):
        errors = rods.empty_errors()
        ratios = []
        for s in samples:
            found = regionprops_rods(s.image, level, dark, min_area, 1.0)
            rows, cols = rods.match_rods(found, s.table)
            ratios += list(s.table["length"].to_numpy()[cols] / found["length"].to_numpy()[rows])
            rods.add_errors(errors, found, s.table)
        f1 = rods.scores_from(errors).f1
        if f1 > best_f1:
            best_f1 = f1
            best = (float(level), bool(dark), int(min_area), float(np.median(ratios)) if ratios else 1.0)
    return best, best_f1


# ---- trackpy + distance rule -----------------------------------------------------------------

def distance_chains(centres: np.ndarray, reach: float) -> list[tuple[list[int], bool]]:
    """Link beads closer than ``reach`` x the median neighbour distance, nearest first, two partners at most."""
    from scipy.spatial import cKDTree

    n = len(centres)
    if n < 2:
        return [([i], False) for i in range(n)]
    d, _ = cKDTree(centres).query(centres, k=2)
    spacing = float(np.median(d[:, 1]))
    pairs = cKDTree(centres).query_pairs(reach * spacing, output_type="ndarray")
    length = np.hypot(*(centres[pairs[:, 0]] - centres[pairs[:, 1]]).T) if len(pairs) else np.zeros(0)
    # The decoder's linking with "evidence" = closeness: the same paths-and-rings walk.
    neighbours = [[] for _ in range(n)]
    for k in np.argsort(length):
        a, b = (int(v) for v in pairs[k])
        if len(neighbours[a]) < 2 and len(neighbours[b]) < 2:
            neighbours[a].append(b)
            neighbours[b].append(a)
    return chains.walk_chains(neighbours)


def trackpy_chains(image, params: C.TrackpyParams, reach: float) -> pd.DataFrame:
    found = params.locate(image)
    centres = C.centres_of(found)
    scores = found["mass"].to_numpy(float) if len(found) else np.zeros(0)
    return chains.chain_rows(centres, scores, distance_chains(centres, reach))


def tune_trackpy_chains(samples) -> tuple[C.TrackpyParams, float]:
    params, _, _ = C.tune_trackpy([s.image for s in samples], [s.table[["y", "x"]].to_numpy() for s in samples],
                                  diameters=(11, 13, 15), separations=(6, 8, 10), percentiles=(64.0,),
                                  inverts=(False, True), minmass_steps=20)
    best, best_f1 = 1.3, -1.0
    for reach in (1.1, 1.2, 1.3, 1.4, 1.5, 1.7):
        total: dict = {}
        for s in samples:
            total = chains.add_counts(total, chains.chain_counts(trackpy_chains(s.image, params, reach), s.table))
        f1 = chains.scores_from(total).bond_f1
        if f1 > best_f1:
            best, best_f1 = reach, f1
    return params, best


# ---- the tables --------------------------------------------------------------------------------

def rods_table(args, rods_model, sphere_model, previous_model=None) -> tuple[pd.DataFrame, list]:
    rows, times = [], []
    for look, af in itertools.product(LOOKS, AREA_FRACTIONS):
        tests = rods_images(look, af, args.images, SEED_BASE + int(af * 1000) + 10_000 * LOOKS.index(look))
        tunes = rods_images(look, af, args.tune, TUNE_BASE + int(af * 1000) + 10_000 * LOOKS.index(look))
        (level, dark, min_area, factor), _ = tune_regionprops(tunes)
        ours = rods.empty_errors()
        base = rods.empty_errors()
        sphere = rods.empty_errors()
        ours_in, base_in, prev = (rods.empty_errors() for _ in range(3))
        for s in tests:
            start = time.perf_counter()
            found = detect_kind(s.image, "rods", rods_model, "cpu")
            times.append(time.perf_counter() - start)
            rods.add_errors(ours, found, s.table)
            baseline = regionprops_rods(s.image, level, dark, min_area, factor)
            rods.add_errors(base, baseline, s.table)
            rods.add_errors(ours_in, found, s.table, inside=s.image.shape)
            if previous_model is not None:
                rods.add_errors(prev, detect_kind(s.image, "rods", previous_model, "cpu"), s.table)
            rods.add_errors(base_in, baseline, s.table, inside=s.image.shape)
            centres = detect(s.image, sphere_model, "cpu")
            # Centres only: no orientation or length; scored for detection (F1) alone.
            fake = rod_table(centres["y"], centres["x"], np.zeros(len(centres)), np.ones(len(centres)), np.ones(len(centres)))
            rods.add_errors(sphere, fake, s.table)
        o, b, sp = rods.scores_from(ours), rods.scores_from(base), rods.scores_from(sphere)
        oi, bi = rods.scores_from(ours_in), rods.scores_from(base_in)
        rows.append({"look": look, "area fraction": af, "rods": o.tp + o.fn,
                     "F1 ours": o.f1, "F1 regionprops": b.f1, "F1 sphere model": sp.f1,
                     "F1 ours inside": oi.f1, "F1 rp inside": bi.f1,
                     "angle med ours": o.angle_median, "angle p90 ours": o.angle_p90,
                     "angle med rp": b.angle_median, "angle p90 rp": b.angle_p90,
                     "len err med ours": o.length_error_median, "len err med rp": b.length_error_median,
                     "width err med ours": o.width_error_median, "width err med rp": b.width_error_median})
        if previous_model is not None:
            p = rods.scores_from(prev)
            rows[-1].update({"F1 previous": p.f1, "angle p90 previous": p.angle_p90,
                             "len err med previous": p.length_error_median})
        print(f"  rods {look} {af}: ours F1 {o.f1:.3f} (inside {oi.f1:.3f}) angle {o.angle_median:.2f}/{o.angle_p90:.2f} len "
              f"{o.length_error_median:.3f} width {o.width_error_median:.3f}; regionprops F1 {b.f1:.3f} (level "
              f"{level:.2f}, dark {dark}); sphere F1 {sp.f1:.3f}", flush=True)
    return pd.DataFrame(rows), times


def ellipsoids_table(args, rods_model) -> pd.DataFrame:
    rows = []
    for look in LOOKS:
        tests = rods_images(look, 0.15, args.images, SEED_BASE + 50_000 + 10_000 * LOOKS.index(look), "ellipsoids",
                            (1.5, 5.0))
        tunes = rods_images(look, 0.15, args.tune, TUNE_BASE + 50_000 + 10_000 * LOOKS.index(look), "ellipsoids",
                            (1.5, 5.0))
        (level, dark, min_area, factor), _ = tune_regionprops(tunes)
        ours = rods.empty_errors()
        base = rods.empty_errors()
        for s in tests:
            rods.add_errors(ours, detect_kind(s.image, "rods", rods_model, "cpu"), s.table)
            rods.add_errors(base, regionprops_rods(s.image, level, dark, min_area, factor), s.table)
        o, b = rods.scores_from(ours), rods.scores_from(base)
        rows.append({"look": look, "ellipsoids": o.tp + o.fn, "F1 ours": o.f1, "F1 regionprops": b.f1,
                     "angle med ours": o.angle_median, "angle p90 ours": o.angle_p90,
                     "angle med rp": b.angle_median, "len err med ours": o.length_error_median,
                     "width err med ours": o.width_error_median, "width err med rp": b.width_error_median})
    return pd.DataFrame(rows)


def chains_table(args, chains_model) -> tuple[pd.DataFrame, list]:
    rows, times = [], []
    for look in LOOKS:
        config = benchmark_chain_config(look, 0.3)
        tests = [synthesize_chains(config, seed=SEED_BASE + 70_000 + 1000 * LOOKS.index(look) + i)
                 for i in range(args.images)]
        tunes = [synthesize_chains(config, seed=TUNE_BASE + 70_000 + 1000 * LOOKS.index(look) + i)
                 for i in range(args.tune)]
        params, reach = tune_trackpy_chains(tunes)
        ours, base = {}, {}
        for s in tests:
            start = time.perf_counter()
            found = detect_kind(s.image, "chains", chains_model, "cpu")
            times.append(time.perf_counter() - start)
            ours = chains.add_counts(ours, chains.chain_counts(found, s.table))
            base = chains.add_counts(base, chains.chain_counts(trackpy_chains(s.image, params, reach), s.table))
        o, b = chains.scores_from(ours), chains.scores_from(base)
        touching = np.mean([_touching_share(s.table) for s in tests])
        rows.append({"look": look, "beads": o.beads, "chains": o.chains, "touching": touching,
                     "bead F1 ours": o.bead_f1, "bond F1 ours": o.bond_f1, "exact ours": o.chains_exact,
                     "right chain ours": o.beads_right_chain,
                     "bead F1 tp": b.bead_f1, "bond F1 tp": b.bond_f1, "exact tp": b.chains_exact,
                     "right chain tp": b.beads_right_chain})
        print(f"  chains {look}: ours bead {o.bead_f1:.3f} bond {o.bond_f1:.3f} exact {o.chains_exact:.3f}; trackpy+"
              f"distance (reach {reach}) bead {b.bead_f1:.3f} bond {b.bond_f1:.3f} exact {b.chains_exact:.3f}",
              flush=True)
    return pd.DataFrame(rows), times


def _touching_share(table: pd.DataFrame) -> float:
    """Share of chains (2+ beads) with a bead within 1.1 diameters of another chain's bead."""
    from scipy.spatial import cKDTree

    pts = table[["y", "x"]].to_numpy(float)
    d, _ = cKDTree(pts).query(pts, k=2)
    pairs = cKDTree(pts).query_pairs(1.1 * float(np.median(d[:, 1])), output_type="ndarray")
    ids = table["chain"].to_numpy()
    other = pairs[ids[pairs[:, 0]] != ids[pairs[:, 1]]]
    sizes = table.groupby("chain").size()
    multi = set(sizes[sizes >= 2].index)
    touched = {ids[i] for i in other.ravel()} & multi
    return len(touched) / max(len(multi), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rods-model", type=Path, default=None, help="default: shipped weights/rods.pt")
    parser.add_argument("--chains-model", type=Path, default=None, help="default: shipped weights/chains.pt")
    parser.add_argument("--previous-rods-model", type=Path, default=None,
                        help="a second rods model scored side by side on the same images (e.g. the one shipped before)")
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--tune", type=int, default=2)
    parser.add_argument("--only", choices=("rods", "ellipsoids", "chains", "timing", "all"), default="all",
                        help="timing: the detection time per frame of each kind alone")
    C.add_common_args(parser)
    args = parser.parse_args()
    if args.quick:
        args.images, args.tune = 2, 1
    C.setup(args.threads)
    from napari_particle_detect.detection.kinds_prediction import model_for
    import torch

    cpu = torch.device("cpu")
    rods_model = model_for("rods", args.rods_model, cpu)
    chains_model = model_for("chains", args.chains_model, cpu)
    sphere_model = C.load(C.DEFAULT_UNET)
    print("# Rods, ellipsoids and chains: shipped kind models against threshold+regionprops and trackpy")
    print(f"\n{C.environment_line()}")
    print(f"{args.images} test + {args.tune} tuning images (256 x 256) per cell; timings under load (a shared "
          "2-core machine), not idle figures")
    targets = []
    if args.only in ("rods", "all"):
        previous = model_for("rods", args.previous_rods_model, cpu) if args.previous_rods_model else None
        table, rod_times = rods_table(args, rods_model, sphere_model, previous)
        C.print_table(table.set_index(["look", "area fraction"]), "Rods (aspect 2-10, width 6-9 px)")
        for _, r in table.iterrows():
            name = f"rods {r['look']} af {r['area fraction']}"
            targets += [
                (f"{name}: F1 >= {ROD_F1_TARGETS[r['area fraction']]}", r["F1 ours"] >= ROD_F1_TARGETS[r["area fraction"]],
                 f"{r['F1 ours']:.3f} (rods wholly inside the frame: {r['F1 ours inside']:.3f})"),
                (f"{name}: angle median <= 2, p90 <= 6 deg", r["angle med ours"] <= 2 and r["angle p90 ours"] <= 6,
                 f"{r['angle med ours']:.2f} / {r['angle p90 ours']:.2f}"),
                (f"{name}: median length error <= 5 %", r["len err med ours"] <= 0.05, f"{100 * r['len err med ours']:.1f} %"),
            ]
            if r["area fraction"] == 0.30:
                gap = r["F1 ours"] - r["F1 regionprops"]
                targets.append((f"{name}: >= 0.1 F1 ahead of regionprops", gap >= 0.1, f"{gap:+.3f}"))
    if args.only in ("ellipsoids", "all"):
        table = ellipsoids_table(args, rods_model)
        C.print_table(table.set_index("look"), "Ellipsoids (aspect 1.5-5, area fraction 0.15)")
        for _, r in table.iterrows():
            targets.append((f"ellipsoids {r['look']}: angle median <= 5 deg", r["angle med ours"] <= 5,
                            f"{r['angle med ours']:.2f}"))
    if args.only in ("chains", "all"):
        table, chain_times = chains_table(args, chains_model)
        C.print_table(table.set_index("look"), "Chains (3-20 beads, radius 6 px, packed to area fraction 0.3)")
        for _, r in table.iterrows():
            targets += [
                (f"chains {r['look']}: bead F1 >= 0.98", r["bead F1 ours"] >= 0.98, f"{r['bead F1 ours']:.3f}"),
                (f"chains {r['look']}: bond F1 >= 0.97", r["bond F1 ours"] >= 0.97, f"{r['bond F1 ours']:.3f}"),
                (f"chains {r['look']}: >= 90 % chains exact", r["exact ours"] >= 0.9, f"{100 * r['exact ours']:.1f} %"),
            ]
    if args.only in ("timing", "all"):
        image = synthesize_rods(benchmark_rod_config("fluorescent", 0.3), seed=SEED_BASE - 1).image
        # Each kind as a user runs it: the sizes given where a kind takes one (spheres' diameter, chains' beads),
        # and estimated, which spheres and chains do once per image or stack (rods have no size to give).
        spheres_s, spheres_auto_s, rods_s, chains_s, chains_auto_s = C.interleaved_medians([
            lambda: detect(image, sphere_model, "cpu", diameter=12.0),
            lambda: detect(image, sphere_model, "cpu"),
            lambda: detect_kind(image, "rods", rods_model, "cpu"),
            lambda: detect_kind(image, "chains", chains_model, "cpu", diameter=12.0),
            lambda: detect_kind(image, "chains", chains_model, "cpu")])
        timing = pd.DataFrame({
            "kind": ["spheres, diameter given", "spheres, diameter estimated", "rods", "chains, bead size given",
                     "chains, bead size estimated"],
            "s per 256x256 frame (under load)": [spheres_s, spheres_auto_s, rods_s, chains_s, chains_auto_s],
            "x spheres alike": [1.0, 1.0, rods_s / spheres_s, chains_s / spheres_s, chains_auto_s / spheres_auto_s]})
        C.print_table(timing.set_index("kind"), f"Detection time per frame, one image, median of {C.TIMING_ROUNDS} x "
                      f"{C.TIMING_REPEATS}, the kinds taken in turn ({torch.get_num_threads()} threads); each kind "
                      "against spheres run alike (sizes given, or estimated)")
        targets += [("rods time <= 1.3x spheres", rods_s <= 1.3 * spheres_s, f"{rods_s / spheres_s:.2f}x"),
                     ("chains time <= 1.3x spheres (sizes given)", chains_s <= 1.3 * spheres_s,
                      f"{chains_s / spheres_s:.2f}x"),
                     ("chains time <= 1.3x spheres (sizes estimated)", chains_auto_s <= 1.3 * spheres_auto_s,
                      f"{chains_auto_s / spheres_auto_s:.2f}x")]
    C.print_targets(targets)


if __name__ == "__main__":
    main()
