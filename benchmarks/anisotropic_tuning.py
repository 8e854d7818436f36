"""Rods models side by side on the tuning seeds (950000+ and 960000+), never the test seeds of
``anisotropic.py``: the check a candidate model or decoder change passes before the benchmark is run.

Per model: F1, orientation error p90 and median length error in each rods cell (3 looks x area
fraction 0.15 / 0.30, 3 images each, per seed base) and F1 of ellipsoids (aspect 1.5-5, 0.15), each with
the model card's threshold and the shipped decoder; then the means.

    .venv/bin/python benchmarks/anisotropic_tuning.py MODEL.pt [MODEL.pt ...] [--images 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pandas as pd  # noqa: E402
import napari_particle_detect  # noqa: F401 - before torch: its OpenMP wait policy, as users run it
import torch  # noqa: E402

from anisotropic import LOOKS, rods_images  # noqa: E402
from napari_particle_detect.detection.kinds_prediction import predict_maps  # noqa: E402
from napari_particle_detect.detection.prediction import prepare_network  # noqa: E402
from napari_particle_detect.detection.preprocessing import normalise  # noqa: E402
from napari_particle_detect.kinds import rods  # noqa: E402
from napari_particle_detect.models.registry import load_model  # noqa: E402

SEED_BASES = (950_000, 960_000)
AREA_FRACTIONS = (0.15, 0.3)


def score_cell(network, threshold: float, samples) -> rods.RodScores:
    errors = rods.empty_errors()
    for sample in samples:
        rods.add_errors(errors, rods.decode(predict_maps(network, normalise(sample.image)), threshold), sample.table)
    return rods.scores_from(errors)


def model_rows(path: Path, images: int) -> pd.DataFrame:
    model = load_model(path)
    network, threshold = prepare_network(model, "cpu"), model.card.threshold
    rows = []
    for base in SEED_BASES:
        for look, af in itertools.product(LOOKS, AREA_FRACTIONS):
            seed = base + int(af * 1000) + 10_000 * LOOKS.index(look)
            s = score_cell(network, threshold, rods_images(look, af, images, seed))
            rows.append({"kind": "rods", "cell": f"{base} {look} {af}", "f1": s.f1, "angle_p90": s.angle_p90,
                         "length_error": s.length_error_median})
        for look in LOOKS:
            seed = base + 50_000 + 10_000 * LOOKS.index(look)
            s = score_cell(network, threshold, rods_images(look, 0.15, images, seed, "ellipsoids", aspect=(1.5, 5.0)))
            rows.append({"kind": "ellipsoids", "cell": f"{base} {look} 0.15", "f1": s.f1, "angle_p90": s.angle_p90,
                         "length_error": s.length_error_median})
    return pd.DataFrame(rows).assign(model=str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--images", type=int, default=3, help="images per cell and seed base (default 3)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    table = pd.concat([model_rows(p, args.images) for p in args.models], ignore_index=True)
    pd.set_option("display.width", 200)
    print("# Rods models on the tuning seeds (benchmarks/anisotropic_tuning.py)\n")
    print(table.pivot_table(index=["kind", "cell"], columns="model", values="f1").round(3).to_string())
    means = table.groupby(["model", "kind"])[["f1", "angle_p90", "length_error"]].mean().round(4)
    print("\n## Means over the cells\n")
    print(means.to_string())


if __name__ == "__main__":
    main()
