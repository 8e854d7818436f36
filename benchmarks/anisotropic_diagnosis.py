"""Where the rods and chains models lose accuracy, on tuning images of the benchmark's configs.

Rods, per look and area fraction: F1 with the decoder as shipped and with its steps switched off
one at a time; the heads read at the true centres (what the maps say before decoding); the misses
by cause (crossing another rod, cut by the border, aspect, centre map below threshold at the true
centre, the nearest detection's length against the truth's) and the false positives (on a rod that
was found: a piece of it; near the border). Chains, per look: chains exactly right, and the wrong
bonds: missed ones (evidence below the threshold, or a partner already bonded twice) and false ones
(between chains, at chain ends).

Seeds 950000+ (rods) and 900000+ (chains) by default: not the benchmark's test seeds, so a decoder
choice made here is not made on the test images.

    .venv/bin/python benchmarks/anisotropic_diagnosis.py --kind rods --images 2
    .venv/bin/python benchmarks/anisotropic_diagnosis.py --kind chains --model out/chains.pt
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import napari_particle_detect  # noqa: F401 - before torch: its OpenMP wait policy, as users run it
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from anisotropic import LOOKS, rods_images  # noqa: E402

from napari_particle_detect.kinds import chains  # noqa: E402
from napari_particle_detect.kinds import rods  # noqa: E402
from napari_particle_detect.kinds.evaluation import match  # noqa: E402
from napari_particle_detect.detection.kinds_prediction import model_for, predict_maps  # noqa: E402
from napari_particle_detect.detection.prediction import prepare_network  # noqa: E402
from napari_particle_detect.detection.preprocessing import normalise  # noqa: E402
from napari_particle_detect.synthetic.chains import benchmark_chain_config, bonds_of, synthesize_chains  # noqa: E402

VARIANTS = {"as shipped": {}, "no tips": {"use_tips": False}, "tips move centres": {"tips_move": True},
            "no merge": {"merge": False}, "no along-axis read": {"along_axis": False}, "no fragment drop": {"drop_fragments": False}}


def body_distance(row, y, x):
    """Distance from (y, x) to a rod's outline (negative inside)."""
    theta = np.radians(row.angle)
    along = (y - row.y) * np.sin(theta) + (x - row.x) * np.cos(theta)
    across = -(y - row.y) * np.cos(theta) + (x - row.x) * np.sin(theta)
    half = max(0.5 * (row.length - row.width), 0.0)
    return np.hypot(np.clip(np.abs(along) - half, 0, None), across) - 0.5 * row.width


def crossing(table: pd.DataFrame) -> np.ndarray:
    """Per rod: whether its axis passes through another rod's body."""
    out = np.zeros(len(table), bool)
    rows = list(table.itertuples(index=False))
    for i, a in enumerate(rows):
        t = np.linspace(-0.5, 0.5, 40)[:, None] * a.length
        pts = np.array([a.y, a.x]) + t * np.array([np.sin(np.radians(a.angle)), np.cos(np.radians(a.angle))])
        out[i] = any(j != i and np.hypot(a.y - b.y, a.x - b.x) < 0.5 * (a.length + b.length) + 2
                     and (body_distance(b, pts[:, 0], pts[:, 1]) < 0.5 * a.width).any() for j, b in enumerate(rows))
    return out


def diagnose_rods(network, threshold: float, images: int, base: int) -> None:
    for look, af in itertools.product(LOOKS, (0.15, 0.3)):
        samples = rods_images(look, af, images, base + int(af * 1000) + 10_000 * LOOKS.index(look))
        errors = {k: rods.empty_errors() for k in VARIANTS}
        misses, extras, at_truth = [], [], {"angle": [], "length": []}
        for s in samples:
            maps = predict_maps(network, normalise(s.image))
            truth, (h, w) = s.table, s.image.shape
            for name, options in VARIANTS.items():
                rods.add_errors(errors[name], rods.decode(maps, threshold, **options), truth)
            found = rods.decode(maps, threshold)
            r, c = rods.match_rods(found, truth)
            crossed = crossing(truth)
            cut = ((truth[["y1", "y2"]].min(axis=1) < 0) | (truth[["x1", "x2"]].min(axis=1) < 0)
                   | (truth[["y1", "y2"]].max(axis=1) > h - 1) | (truth[["x1", "x2"]].max(axis=1) > w - 1)).to_numpy()
            for i in sorted(set(range(len(truth))) - set(c.tolist())):
                row = truth.iloc[i]
                d = np.hypot(found.y - row.y, found.x - row.x).to_numpy()
                near = int(np.argmin(d)) if len(d) else None
                misses.append({"crossing": crossed[i], "cut": cut[i], "aspect": row.length / row.width,
                               "centre below threshold": maps[0, int(np.clip(round(row.y), 0, h - 1)),
                                                              int(np.clip(round(row.x), 0, w - 1))] < threshold,
                               "nearest length / truth": found.length.iloc[near] / row.length if near is not None else np.nan})
            for j in sorted(set(range(len(found))) - set(r.tolist())):
                p = found.iloc[j]
                under = [i for i in range(len(truth)) if body_distance(truth.iloc[i], p.y, p.x) < 0]
                extras.append({"on a rod": bool(under), "on a found rod": any(i in set(c.tolist()) for i in under),
                               "near border": min(p.y, p.x, h - 1 - p.y, w - 1 - p.x) < 0.5 * p.length})
            iy = np.clip(np.rint(truth.y).astype(int), 0, h - 1)
            ix = np.clip(np.rint(truth.x).astype(int), 0, w - 1)
            at_truth["angle"] += list(rods.angle_error(np.degrees(0.5 * np.arctan2(maps[2, iy, ix], maps[1, iy, ix])) % 180,
                                                       truth.angle))
            at_truth["length"] += list(np.abs(rods.LENGTH_UNIT * np.exp(maps[3, iy, ix]) / truth.length - 1))
        print(f"\n== rods {look} {af}: {sum(len(s.table) for s in samples)} rods")
        for name, e in errors.items():
            sc = rods.scores_from(e)
            print(f"  {name:20s} F1 {sc.f1:.3f} (tp {sc.tp} fp {sc.fp} fn {sc.fn}) angle {sc.angle_median:.2f}/"
                  f"{sc.angle_p90:.2f} length {sc.length_error_median:.3f}")
        print(f"  heads at the true centres: angle median/p90 {np.median(at_truth['angle']):.1f}/"
              f"{np.percentile(at_truth['angle'], 90):.1f} deg, length error median {np.median(at_truth['length']):.2f}")
        if misses:
            m = pd.DataFrame(misses)
            print(f"  misses {len(m)}: crossing {m.crossing.mean():.2f}, cut by the border {m.cut.mean():.2f}, aspect < 4 "
                  f"{(m.aspect < 4).mean():.2f}, centre map below threshold {m['centre below threshold'].mean():.2f}, "
                  f"nearest detection's length / truth (median) {m['nearest length / truth'].median():.2f}")
        if extras:
            x = pd.DataFrame(extras)
            print(f"  false positives {len(x)}: on a rod {x['on a rod'].mean():.2f} (on one found: "
                  f"{x['on a found rod'].mean():.2f}), near the border {x['near border'].mean():.2f}")


def diagnose_chains(network, threshold: float, images: int, base: int) -> None:
    for li, look in enumerate(LOOKS):
        total, missed, false = {}, [], []
        for i in range(images):
            s = synthesize_chains(benchmark_chain_config(look, 0.3), seed=base + 1000 * li + i)
            maps = predict_maps(network, normalise(s.image))
            pred, truth = chains.decode(maps, threshold), s.table.reset_index(drop=True)
            total = chains.add_counts(total, chains.chain_counts(pred, truth))
            rows, cols = match(pred[["y", "x"]].to_numpy(float), truth[["y", "x"]].to_numpy(float), 3.0)
            to_pred, to_true = dict(zip(cols.tolist(), rows.tolist())), dict(zip(rows.tolist(), cols.tolist()))
            true_bonds = {tuple(sorted(p)) for p in bonds_of(truth).tolist()}
            pred_bonds = {tuple(sorted(p)) for p in bonds_of(pred).tolist()}
            centres = pred[["y", "x"]].to_numpy(float)
            degree = np.bincount(np.array(sorted(pred_bonds)).ravel(), minlength=len(pred)) if pred_bonds else np.zeros(len(pred), int)
            true_degree = np.bincount(np.array(sorted(true_bonds)).ravel(), minlength=len(truth)) if true_bonds else np.zeros(len(truth), int)
            for a, b in true_bonds:
                if a in to_pred and b in to_pred and tuple(sorted((to_pred[a], to_pred[b]))) in pred_bonds:
                    continue
                if a not in to_pred or b not in to_pred:
                    missed.append({"bead missing": True})
                    continue
                pa, pb = to_pred[a], to_pred[b]
                evidence = chains.bond_evidence(maps[1], centres, np.array([[pa, pb]]))[0]
                missed.append({"bead missing": False, "weak": evidence < chains.BOND_THRESHOLD,
                               "partner full": degree[pa] >= 2 or degree[pb] >= 2})
            for a, b in pred_bonds:
                ta, tb = to_true.get(a), to_true.get(b)
                if ta is not None and tb is not None and tuple(sorted((ta, tb))) in true_bonds:
                    continue
                between = ta is not None and tb is not None and truth.chain[ta] != truth.chain[tb]
                false.append({"between chains": between,
                              "end to end": between and true_degree[ta] <= 1 and true_degree[tb] <= 1})
        sc = chains.scores_from(total)
        print(f"\n== chains {look}: exactly right {sc.chains_exact:.3f} ({total['chains_exact']}/{total['chains']}), "
              f"bead F1 {sc.bead_f1:.3f}, bond F1 {sc.bond_f1:.3f}, beads in the right chain {sc.beads_right_chain:.3f}")
        if missed:
            m = pd.DataFrame(missed).fillna(False)
            print(f"  missed bonds {len(m)}: a bead missing {int(m['bead missing'].sum())}, evidence below "
                  f"{chains.BOND_THRESHOLD} {int(m.get('weak', pd.Series(dtype=bool)).sum())}, a partner already "
                  f"bonded twice {int(m.get('partner full', pd.Series(dtype=bool)).sum())}, the rest refused by the length or turn rule")
        if false:
            f = pd.DataFrame(false)
            print(f"  false bonds {len(f)}: between two chains {int(f['between chains'].sum())}, of them end to end "
                  f"{int(f['end to end'].sum())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=("rods", "chains"), default="rods")
    parser.add_argument("--model", type=Path, default=None, help="default: the shipped weights of the kind")
    parser.add_argument("--threshold", type=float, default=None, help="default: the model card's")
    parser.add_argument("--images", type=int, default=2, help="images per cell")
    parser.add_argument("--seed-base", type=int, default=None, help="default 950000 (rods) / 900000 (chains)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = model_for(args.kind, args.model, torch.device("cpu"))
    network = prepare_network(model, torch.device("cpu"))
    threshold = model.card.threshold if args.threshold is None else args.threshold
    print(f"# {args.kind}: {model.path}, threshold {threshold}")
    if args.kind == "rods":
        diagnose_rods(network, threshold, args.images, 950_000 if args.seed_base is None else args.seed_base)
    else:
        diagnose_chains(network, threshold, args.images, 900_000 if args.seed_base is None else args.seed_base)


if __name__ == "__main__":
    main()
