"""Which diameter to give for particles near the optics' resolution: physical, apparent or estimated.

Synthetic sparse images (area fraction 0.2, 256 px, 8-bit) of small particles blurred by a
Gaussian PSF about as wide as they are, so the blob in the image is mostly the PSF. For each,
the UNet detects with the diameter set to: the physical diameter the generator drew (``2 r``);
the estimate (``sizing.estimate_size``, what ``detect`` uses with no diameter); the apparent
blob diameter ``sqrt((2 r)^2 + 8 sigma^2)`` (the disc's own LoG scale and the PSF's, added in
quadrature); and 1.5x that. F1 at 3 px against the exact centres, 3 images per row.
A second table shows whether bright-field particles (bright core, dark rim) are still read as
ringed as they crowd, and what detection with no parameters costs against the true diameter; a
third, how often the generator's random images with rims, and its plain ones, are read as ringed.

Then images drawn independently of the generator (``_scenes.py``: 256 px, 12 bits, noise 20 grey
levels), as a new user's own script would draw them: the issue's table remeasured (bright-field
particles of radius 6 px at 15 / 30 / 80 / 140 per image, Gaussian spots of sigma 2 px at 100 /
300 / 600), beside trackpy given the right diameter; and the estimate alone (its error against
the apparent size, and whether it is confident) for every look from 5 to 600 particles per image.

    .venv/bin/python benchmarks/sizing.py            # about 10 min
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402
import _scenes as S  # noqa: E402

from napari_particle_detect.synthetic import spheres as synthetic  # noqa: E402
from napari_particle_detect.detection.prediction import detect  # noqa: E402
from napari_particle_detect.detection.sizing import estimate_size  # noqa: E402

CASES = [(1.5, 2.0), (2.0, 1.5), (2.0, 2.5), (3.0, 2.0)]  # (radius, PSF sigma) in px
IMAGES = 3
TOLERANCE = 3.0
SCENE_SEED_BASE = 600_000
ESTIMATE_COUNTS = (5, 15, 40, 100, 300, 600)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--unet", "--model", dest="unet", type=Path, default=C.DEFAULT_UNET,
                   help="the model to size for, default napari_particle_detect/weights/unet.pt")
    C.add_common_args(p)
    return p.parse_args(argv)


def f1_at(model, samples, diameter: float | None) -> float:
    """Pooled F1 over ``samples`` with this diameter (None: estimated, as with no parameters)."""
    total = C.Counts()
    for sample in samples:
        table = detect(sample.image, model=model, device="cpu", diameter=None if diameter is None else float(diameter))
        total += C.score_counts(C.centres_of(table), sample.centres, TOLERANCE)
    return total.f1


def crowded_bright_field(model, images: int) -> pd.DataFrame:
    """Whether the ringed look is recognised as particles crowd, and what a miss costs."""
    rows = []
    for area_fraction in (0.15, 0.3, 0.5, 0.7):
        config = replace(synthetic.benchmark_config("fluorescent", area_fraction, radius=8.0), look="brightfield")
        samples = [synthetic.synthesize(config, seed=C.TEST_SEED_BASE + 96_000 + int(100 * area_fraction) + i)
                   for i in range(images)]
        estimates = [estimate_size(s.image) for s in samples]
        rows.append({"area fraction": area_fraction, "read as ringed": f"{sum(e.ringed for e in estimates)}/{images}",
                     "estimated d (median)": float(np.median([e.diameter for e in estimates])),
                     "F1 no parameters": f1_at(model, samples, None), "F1 d=16": f1_at(model, samples, 16.0)})
    return pd.DataFrame(rows).set_index("area fraction")


def look_recognition(rimmed_per_set: int, plain_per_set: int) -> pd.DataFrame:
    """How often the generator's random bright-field images with rims, and its random plain
    (fluorescent, opaque) images, are read as ringed, 384 px. The ring thresholds were chosen on
    sets 1 and 2; sets 3 and 4 are held out."""
    rows = []
    for set_id in (1, 2, 3, 4):
        rng = np.random.default_rng(1000 + set_id)
        rimmed, plain = [], []
        while len(rimmed) < rimmed_per_set or len(plain) < plain_per_set:
            config = synthetic.random_training_config(rng, shape=(384, 384), radius_range=(2.0, 14.0))
            seed = int(rng.integers(1e9))
            if config.look == "brightfield":
                if len(rimmed) >= rimmed_per_set:
                    continue
                # A bright core and a dark rim (before any inversion), of random strengths.
                config = replace(config, core_amplitude=float(rng.uniform(0.3, 1.2)),
                                 rim_amplitude=float(rng.uniform(-1.2, -0.3)))
                rimmed.append(estimate_size(synthetic.synthesize(config, seed=seed).image).ringed)
            elif len(plain) < plain_per_set:
                plain.append(estimate_size(synthetic.synthesize(config, seed=seed).image).ringed)
        rows.append({"set": f"{set_id} ({'tuning' if set_id <= 2 else 'held out'})", "rimmed read as ringed": f"{sum(rimmed)}/{len(rimmed)}",
                     "plain read as ringed": f"{sum(plain)}/{len(plain)}"})
    return pd.DataFrame(rows).set_index("set")


def main(argv=None) -> int:
    args = parse_args(argv)
    C.setup(args.threads)
    model = C.load(args.unet)
    print("# Sizing near the resolution limit (napari_particle_detect benchmarks/sizing.py)")
    print(C.environment_line())
    print(f"model {C.model_info(model)['file']}; area fraction 0.2, 256 px, 8-bit; {IMAGES} images per row; "
          f"F1 at {TOLERANCE:g} px")
    rows = []
    for look in ("fluorescent", "opaque"):
        for case, (radius, psf) in enumerate(CASES):
            config = replace(synthetic.benchmark_config(look, 0.2, radius=radius), psf_sigma=psf, bit_depth=8)
            seeds = [C.TEST_SEED_BASE + 95_000 + 100 * case + i for i in range(1 if args.quick else IMAGES)]
            samples = [synthetic.synthesize(config, seed=seed) for seed in seeds]
            physical = 2 * radius
            estimated = float(np.median([estimate_size(s.image).diameter for s in samples]))
            apparent = float(np.sqrt(physical**2 + 8 * psf**2))
            rows.append({
                "look": look, "radius px": radius, "PSF sigma px": psf,
                "physical d": physical, "estimated d": estimated, "apparent d": apparent,
                "F1 physical": f1_at(model, samples, physical), "F1 estimated": f1_at(model, samples, estimated),
                "F1 apparent": f1_at(model, samples, apparent), "F1 1.5x apparent": f1_at(model, samples, 1.5 * apparent),
            })
            print(f"  {look} r {radius} sigma {psf}: done", flush=True)
    table = pd.DataFrame(rows).set_index(["look", "radius px", "PSF sigma px"])
    C.print_table(table, "F1 by the diameter given (columns 'd' in px)")
    scores = table[[c for c in table.columns if c.startswith("F1")]]
    best = scores.max(axis=1)
    physical_best = int((scores["F1 physical"] >= best).sum())
    gap = float((best - scores["F1 estimated"]).max())
    print(f"\nThe physical diameter gave the best F1 in {physical_best} of {len(table)} rows; the estimate "
          f"was at most {gap:.3f} below the best in any row.")
    C.print_table(crowded_bright_field(model, 1 if args.quick else IMAGES),
                  "Bright-field (bright core, dark rim; radius 8 px, so d = 16), no parameters against the true diameter")
    C.print_table(look_recognition(*((10, 10) if args.quick else (120, 150))),
                  "The ringed look over the generator's random spread (radius 2-14 px, 384 px images)")
    issue = issue_table(model, 1 if args.quick else 4, args.quick)
    C.print_table(issue.drop(columns=["trackpy settings"]),
                  "The issue's table remeasured on images drawn independently of the generator (_scenes.py), "
                  f"{1 if args.quick else 4} per row; trackpy given the right diameter")
    C.print_table(issue[["trackpy settings"]], "trackpy settings chosen per row (on a separate tuning image)")
    estimates = estimate_table(2 if args.quick else 6)
    C.print_table(estimates, "The estimate alone, every look, 5 to 600 particles per 256 x 256 image "
                  f"({2 if args.quick else 6} images each)", float_format="{:.2f}")
    ok = estimates["within 15 % or flagged"].str.split("/").map(lambda p: p[0] == p[1])
    C.print_targets([
        ("No parameters F1 >= 0.97 in every row of the issue's table", bool((issue["F1 no parameters"] >= 0.97).all()),
         f"lowest {issue['F1 no parameters'].min():.3f}"),
        ("... and never below trackpy given the right diameter",
         bool((issue["F1 no parameters"] >= issue["trackpy F1 (right d)"]).all()),
         f"smallest margin {(issue['F1 no parameters'] - issue['trackpy F1 (right d)']).min():+.3f}"),
        ("Estimate within 15 % of the apparent size or flagged, every look, 5-600 per image", bool(ok.all()),
         f"{int(ok.sum())}/{len(ok)} cells"),
    ])
    return 0


def issue_table(model, n_test: int, quick: bool) -> pd.DataFrame:
    grid = ({"separations": (3, 6), "percentiles": (64.0,), "minmass_steps": 20} if quick
            else {"separations": (2, 3, 4, 6, 8), "percentiles": (64.0, 20.0), "minmass_steps": 30})
    rows = []
    for k, (look, count) in enumerate(S.ISSUE_ROWS):
        row = C.scene_row(model, S.LOOKS[look], count, n_test, 1, SCENE_SEED_BASE + 1000 * k, grid, TOLERANCE)
        rows.append({"look": look, "per image": count, **row})
        print(f"  {look} {count}: done", flush=True)
    return pd.DataFrame(rows).set_index(["look", "per image"])


def estimate_table(images: int) -> pd.DataFrame:
    """Per look and count: the apparent size, the estimates' median and worst error, how many are
    confident, and how many are within 15 % of the apparent size or else flagged."""
    rows = []
    for j, (look, make) in enumerate(S.LOOKS.items()):
        for count in ESTIMATE_COUNTS:
            scenes = [make(count, SCENE_SEED_BASE + 100_000 + 1000 * j + 10 * count + i) for i in range(images)]
            found = [estimate_size(s.image) for s in scenes]
            errors = np.array([e.diameter / s.diameter - 1 for e, s in zip(found, scenes)])
            # (an older library, run for comparison, reports no confidence: taken as confident)
            confident = [getattr(e, "confident", True) for e in found]
            ok = [abs(err) <= 0.15 or not c for err, c in zip(errors, confident)]
            rows.append({"look": look, "per image": count, "placed": float(np.mean([len(s.centres) for s in scenes])),
                         "apparent d": scenes[0].diameter, "estimated d (median)": float(np.median([e.diameter for e in found])),
                         "worst error %": 100 * float(errors[np.argmax(np.abs(errors))]),
                         "confident": f"{sum(confident)}/{images}",
                         "ringed": f"{sum(e.ringed for e in found)}/{images}",
                         "within 15 % or flagged": f"{sum(ok)}/{images}"})
    return pd.DataFrame(rows).set_index(["look", "per image"])


if __name__ == "__main__":
    raise SystemExit(main())
