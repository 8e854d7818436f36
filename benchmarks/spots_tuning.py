"""Sphere models side by side on tuning seeds, never the test seeds of ``accuracy.py``: the check a
candidate sphere model passes before that benchmark is run.

Per model, with no parameters (the diameter estimated, the card's threshold): F1 on Gaussian spots at
100 / 300 / 600 per 256 x 256 (``_scenes.py``, seeds 90000+), recall by the distance to a spot's nearest
neighbour (what crowded spots lose), and F1 on the generator's fluorescent and opaque cells at area
fraction 0.3 / 0.6 / 0.9 (seeds 80000+; ``accuracy.py`` tests on 50000+ and tunes trackpy on 70000+).

    .venv/bin/python benchmarks/spots_tuning.py MODEL.pt [MODEL.pt ...] [--images 4] [--threads 1]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.spatial import cKDTree  # noqa: E402

import _common as C  # noqa: E402
import _scenes as S  # noqa: E402
from napari_particle_detect.detection.prediction import detect  # noqa: E402
from napari_particle_detect.kinds.evaluation import Counts, match  # noqa: E402
from napari_particle_detect.synthetic import spheres as synthetic  # noqa: E402

SPOT_SEED_BASE = 90_000
CELL_SEED_BASE = 80_000
SPOT_COUNTS = (100, 300, 600)
NEIGHBOUR_BINS = (0.0, 1.0, 2.0, 3.0, 4.0, np.inf)  # px to the nearest other spot
TOLERANCE = 3.0


def found_by_neighbour_distance(truth: np.ndarray, found: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per bin of nearest-neighbour distance: true spots in it, and how many of them were matched."""
    nearest = cKDTree(truth).query(truth, 2)[0][:, 1]
    matched = np.zeros(len(truth), bool)
    _, truth_index = match(found, truth, TOLERANCE)
    matched[truth_index] = True
    bins = np.digitize(nearest, NEIGHBOUR_BINS) - 1
    return (np.bincount(bins, minlength=len(NEIGHBOUR_BINS) - 1),
            np.bincount(bins, weights=matched, minlength=len(NEIGHBOUR_BINS) - 1))


def model_rows(path: Path, images: int) -> tuple[list[dict], list[dict]]:
    model = C.load(path)
    rows, recall_rows = [], []
    for k, count in enumerate(SPOT_COUNTS):
        counts = Counts()
        totals = found = np.zeros(len(NEIGHBOUR_BINS) - 1)
        for i in range(images):
            scene = S.gaussian_spots(count, 2.0, SPOT_SEED_BASE + 1000 * k + i)
            centres = C.centres_of(detect(scene.image, model=model, device="cpu"))
            counts += C.score_counts(centres, scene.centres, TOLERANCE)
            in_bin, matched = found_by_neighbour_distance(scene.centres, centres)
            totals, found = totals + in_bin, found + matched
        rows.append({"row": f"Gaussian spots {count}", "F1": counts.f1, "P": counts.precision, "R": counts.recall})
        recall_rows.append({"spots": count} | {
            f"{lo:g}-{hi:g} px": f"{f / t:.3f} ({t / totals.sum():.0%})" if t else "-"
            for lo, hi, t, f in zip(NEIGHBOUR_BINS[:-1], NEIGHBOUR_BINS[1:], totals, found)})
    for cell, (look, af) in enumerate(itertools.product(("fluorescent", "opaque"), (0.3, 0.6, 0.9))):
        config = synthetic.benchmark_config(look, af)
        counts = Counts()
        for i in range(images):
            sample = synthetic.synthesize(config, seed=CELL_SEED_BASE + 1000 * cell + i)
            counts += C.score_counts(C.centres_of(detect(sample.image, model=model, device="cpu", diameter=12.0)),
                                     sample.centres, TOLERANCE, shape=sample.image.shape, border=8.0)
        rows.append({"row": f"{look} {af}", "F1": counts.f1, "P": counts.precision, "R": counts.recall})
    return rows, recall_rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("models", nargs="+", type=Path, help="sphere model files (.pt)")
    p.add_argument("--images", type=int, default=4, help="images per row (default 4)")
    C.add_common_args(p)
    args = p.parse_args(argv)
    C.setup(args.threads)
    f1, recall = {}, []
    for path in args.models:
        rows, recall_rows = model_rows(path, args.images)
        f1[str(path)] = pd.DataFrame(rows).set_index("row")["F1"]
        recall += [{"model": str(path)} | r for r in recall_rows]
        C.print_table(pd.DataFrame(rows).set_index("row"), f"{path}: F1, precision, recall", "{:.4f}")
    C.print_table(pd.DataFrame(f1), "F1 side by side", "{:.4f}")
    print(pd.DataFrame(recall).set_index(["model", "spots"]).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
