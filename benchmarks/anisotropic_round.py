"""One fine-tuning round of the shipped rods model on two corrected frames in optics it was not trained
on (a wider PSF, a dimmer signal), scored on unseen frames of the same optics, beside its in-domain
ceiling (the benchmark optics of ``anisotropic.py``).

    .venv/bin/python benchmarks/anisotropic_round.py [--seconds 120]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402

from napari_particle_detect import rods  # noqa: E402
from napari_particle_detect.kinds_prediction import detect_kind, shipped_model_path  # noqa: E402
from napari_particle_detect.kinds_training import KindTrainConfig, train_kind  # noqa: E402
from napari_particle_detect.synthetic_rods import benchmark_rod_config, synthesize_rods  # noqa: E402

SEED = 480_000


def f1_on(samples, model) -> rods.RodScores:
    errors = {"angle": [], "length": [], "width": [], "tp": 0, "fp": 0, "fn": 0}
    for s in samples:
        rods.add_errors(errors, detect_kind(s.image, "rods", model, "cpu"), s.table)
    return rods.scores_from(errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="the round's training time")
    parser.add_argument("--unseen", type=int, default=4)
    C.add_common_args(parser)
    args = parser.parse_args()
    C.setup(args.threads)
    base = benchmark_rod_config("fluorescent", 0.15)
    shifted = replace(base, optics=replace(base.optics, psf_sigma=2.5, peak_photons=60.0))
    ceiling = [synthesize_rods(base, seed=SEED + i) for i in range(args.unseen)]
    corrected = [synthesize_rods(shifted, seed=SEED + 100 + i) for i in range(2)]
    unseen = [synthesize_rods(shifted, seed=SEED + 200 + i) for i in range(args.unseen)]
    shipped = shipped_model_path("rods")
    inside, before = f1_on(ceiling, shipped), f1_on(unseen, shipped)
    examples = [(s.image, s.table) for s in corrected]
    config = KindTrainConfig(kind="rods", steps_per_epoch=15, epochs=100, batch_size=4, learning_rate=5e-4,
                             synthetic_fraction=0.5, time_limit_s=args.seconds, threads=args.threads, seed=5)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        # The two corrected frames train and score the round (the verdict); unseen frames judge it here.
        model = train_kind(config, Path(folder) / "round.pt", init=shipped, examples=examples,
                           validation_examples=examples,
                           progress=lambda r: print(f"  epoch {r['epoch']}: score {r['score']:.3f} ({r['seconds']} s)",
                                                    flush=True))
        seconds = time.perf_counter() - start
        after = f1_on(unseen, model)
    gap = inside.f1 - before.f1
    print("# One round of the rods model on two corrected frames of unseen optics (PSF sigma 2.5, 60 photons)\n")
    print(C.environment_line())
    print(f"in-domain ceiling F1 {inside.f1:.3f}; unseen optics before {before.f1:.3f} (angle {before.angle_median:.2f}), "
          f"after the round {after.f1:.3f} (angle {after.angle_median:.2f}); round {seconds:.0f} s under load")
    gained = after.f1 - before.f1
    C.print_targets([("round closes >= half the gap to the in-domain ceiling", gap > 0 and gained >= 0.5 * gap,
                      f"gap {gap:+.3f}, gained {gained:+.3f}")])


if __name__ == "__main__":
    main()
