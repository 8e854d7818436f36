"""Particles the sphere decoder leaves in the heatmap: a second look at what its peaks do not explain.

The decoder takes the heatmap's local maxima. Two particles closer than the network can separate
(Gaussian spots 2-3 px apart, crowded spheres) come out as one broad, elongated peak, and the second
particle is lost although the heatmap still shows more than one particle's worth there. This
measures the decoder step ``detect(..., split_close=True)`` takes (heatmap.ResidualRule; variants of it here): draw every found peak as the
network draws an isolated particle (a Gaussian of ``width`` x the card's sigma, its height the
peak's), subtract that from the heatmap, and take the residual's peaks above ``level`` that lie at
least ``apart`` px (working scale) from every found one as more particles.

F1 at 3 px per row, the shipped UNet, no parameters for the scenes (``_scenes.py``: Gaussian spots,
bright-field, opaque discs; the diameter estimated as ``detect`` does), diameter 12 for the
generator's cells (as ``accuracy.py``). Tuning seeds only (spots 90000+, cells 80000+, scenes
95000+ / 96000+), never ``accuracy.py``'s test seeds.

    .venv/bin/python benchmarks/residual_peaks.py [--images 3] [--seed-offset 0] [--threads 2]
    .venv/bin/python benchmarks/residual_peaks.py --test-seeds --images 6   # the once-only check on test seeds
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402
import _scenes as S  # noqa: E402

from napari_particle_detect.detection.prediction import detect_frame, given_sizing, resolve_sizing  # noqa: E402
from napari_particle_detect.detection.sizing import rescale_centres_back  # noqa: E402
from napari_particle_detect.kinds.heatmap import RESIDUAL, encode, find_peaks, refine, stencil_values  # noqa: E402
from napari_particle_detect.synthetic import spheres as synthetic  # noqa: E402

# (level, width, apart): None is the decoder as shipped.
VARIANTS = [None, (0.3, 1.3, 2.0), (0.3, 1.5, 2.0), (0.35, 1.3, 2.0), (0.35, 1.5, 2.0), (0.4, 1.5, 2.0)]


def rows(images: int, offset: int) -> list[tuple[str, list, float | None]]:
    """(row name, scenes with .image and .centres, diameter given or None for no parameters)."""
    out = [(f"Gaussian spots {n}", [S.gaussian_spots(n, 2.0, 90000 + offset + 1000 * k + i) for i in range(images)], None)
           for k, n in enumerate((100, 300, 600))]
    for look in ("fluorescent", "opaque"):
        for af in (0.3, 0.6, 0.9):
            config = synthetic.benchmark_config(look, af, (256, 256))
            seeds = [80000 + offset + int(af * 100) + 1000 * (look == "opaque") + i for i in range(images)]
            out.append((f"{look} {af}", [synthetic.synthesize(config, seed=s) for s in seeds], 12.0))
    out.append(("bright-field 80", [S.brightfield_particles(80, 6.0, 95000 + offset + i) for i in range(images)], None))
    out.append(("opaque discs 40", [S.opaque_discs(40, 6.0, 96000 + offset + i) for i in range(images)], None))
    return out


def with_residual_peaks(heat: np.ndarray, factors: np.ndarray, centres: np.ndarray, sigma: float,
                        variant: tuple[float, float, float] | None) -> np.ndarray:
    """``centres`` (original pixels) and, with ``variant``, the residual's peaks added."""
    if variant is None:
        return centres
    level, width, apart = variant
    work = (centres + 0.5) * factors - 0.5
    iy, ix = np.clip(np.rint(work).astype(int), 0, np.array(heat.shape) - 1).T
    residual = heat - encode(work, heat.shape, width * sigma, heat[iy, ix])
    peaks = find_peaks(residual, level, 2)
    if not len(peaks):
        return centres
    more = refine(peaks, stencil_values(residual, peaks))
    if len(work):
        nearest = np.min(np.hypot(*(more[:, None, :] - work[None]).transpose(2, 0, 1)), axis=1)
        more = more[nearest >= apart]
    return np.concatenate([centres, rescale_centres_back(more, factors)])


def test_seed_check(model, images: int, scene_images: int) -> None:
    """``detect`` with ``split_close`` (heatmap.RESIDUAL) against the peaks alone (the default), on accuracy.py's test
    images: its six cells (diameter 12, scored 8 px inside the border) and its scenes table (no
    parameters); the check made once a rule is chosen on the tuning seeds."""
    import accuracy as A
    from napari_particle_detect.detection import prediction

    rows_out = []
    cells = [(look, af) for look in A.LOOKS for af in A.AREA_FRACTIONS]
    cases = [(f"{look} {af}", A.cell_images(look, af, k, images, C.TEST_SEED_BASE, 256, 6.0), 12.0, 8.0)
             for k, (look, af) in enumerate(cells)]
    scenes = [(look, n) for look in S.LOOKS for n in S.SPARSE_COUNTS] + [("Gaussian spots", n) for n in S.SPOT_COUNTS]
    for k, (look, n) in enumerate(scenes):
        made = [S.LOOKS[look](n, A.SCENE_SEED_BASE + 1000 * k + i) for i in range(scene_images)]
        cases.append((f"{look} {n}/img", made, None, 0.0))
    for name, samples, diameter, border in cases:
        counts = {}
        for split in (False, True):
            total = C.score_counts(np.zeros((0, 2)), np.zeros((0, 2)))
            for sample in samples:
                found = C.centres_of(prediction.detect(sample.image, model=model, device="cpu", diameter=diameter,
                                                       split_close=split))
                total = total + C.score_counts(found, sample.centres, 3.0, sample.image.shape, border)
            counts[split] = total
        a, b = counts[False], counts[True]
        rows_out.append((name, a.f1, b.f1, a.rms, b.rms))
        print(f"  {name:<28} F1 {a.f1:.4f} -> {b.f1:.4f} ({b.f1 - a.f1:+.4f}), RMS {a.rms:.3f} -> {b.rms:.3f}", flush=True)
    worst = min(rows_out, key=lambda r: r[2] - r[1])
    print(f"\nrows: {len(rows_out)}; higher {sum(r[2] > r[1] for r in rows_out)}, lower {sum(r[2] < r[1] for r in rows_out)}; "
          f"worst {worst[0]} {worst[2] - worst[1]:+.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=3, help="images per row")
    parser.add_argument("--seed-offset", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--test-seeds", action="store_true",
                        help="instead: detect with and without split_close on accuracy.py's test images")
    parser.add_argument("--scene-images", type=int, default=4, help="with --test-seeds: images per scene row")
    args = parser.parse_args()
    C.setup(args.threads)
    print(C.environment_line())
    model = C.load(C.DEFAULT_UNET)
    if args.test_seeds:
        print(f"accuracy.py's test images: {args.images} a cell, {args.scene_images} a scene row; the rule {RESIDUAL}")
        test_seed_check(model, args.images, args.scene_images)
        return
    sigma = float(model.card.sigma)
    print(f"{args.images} images a row, seed offset {args.seed_offset}; variants: (level, width x sigma {sigma:g}, apart px)")
    table = {}
    for name, scenes, diameter in rows(args.images, args.seed_offset):
        first = scenes[0].image
        sizing = given_sizing(model, diameter) if diameter else resolve_sizing(model, first[None], None)
        found = []
        for s in scenes:
            result = detect_frame(model, s.image, scale=sizing.scale, ringed=sizing.ringed)
            heat = np.asarray(result.raw_heatmap, np.float32)
            found.append((heat, np.array(heat.shape) / np.array(s.image.shape), result.centres, s.centres))
        for variant in VARIANTS:
            counts = C.score_counts(np.zeros((0, 2)), np.zeros((0, 2)), 3.0)
            for heat, factors, centres, truth in found:
                counts = counts + C.score_counts(with_residual_peaks(heat, factors, centres, sigma, variant), truth, 3.0)
            table[(name, variant)] = counts
        print(f"  {name}: " + "  ".join(f"{v}: {table[(name, v)].f1:.4f}" for v in VARIANTS), flush=True)
    names = list(dict.fromkeys(n for n, _ in table))
    print("\n## F1 per row (first line: the decoder as shipped); last column: the worst change against it\n")
    print("variant".ljust(20) + "".join(n.replace("Gaussian ", "")[:13].rjust(14) for n in names) + "   worst")
    for v in VARIANTS:
        worst = min(table[(n, v)].f1 - table[(n, None)].f1 for n in names)
        print(str(v).ljust(20) + "".join(f"{table[(n, v)].f1:14.4f}" for n in names) + f"   {worst:+.4f}")


if __name__ == "__main__":
    main()
