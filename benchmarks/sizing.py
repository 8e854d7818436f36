"""Which diameter to give for particles near the optics' resolution: physical, apparent or estimated.

Synthetic sparse images (area fraction 0.2, 256 px, 8-bit) of small particles blurred by a
Gaussian PSF about as wide as they are, so the blob in the image is mostly the PSF. For each,
the UNet detects with the diameter set to: the physical diameter the generator drew (``2 r``);
the estimate (``sizing.estimate_size``, what ``detect`` uses with no diameter); the apparent
blob diameter ``sqrt((2 r)^2 + 8 sigma^2)`` (the disc's own LoG scale and the PSF's, added in
quadrature); and 1.5x that. F1 at 3 px against the exact centres, 3 images per row.

    .venv/bin/python benchmarks/sizing.py
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

from napari_particle_detect import synthetic  # noqa: E402
from napari_particle_detect.prediction import detect  # noqa: E402
from napari_particle_detect.sizing import estimate_size  # noqa: E402

CASES = [(1.5, 2.0), (2.0, 1.5), (2.0, 2.5), (3.0, 2.0)]  # (radius, PSF sigma) in px
IMAGES = 3
TOLERANCE = 3.0


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--unet", "--model", dest="unet", type=Path, default=C.DEFAULT_UNET,
                   help="the model to size for, default weights/unet.pt")
    C.add_common_args(p)
    return p.parse_args(argv)


def f1_at(model, samples, diameter: float) -> float:
    total = C.Counts()
    for sample in samples:
        table = detect(sample.image, model=model, device="cpu", diameter=float(diameter))
        total += C.score_counts(C.centres_of(table), sample.centres, TOLERANCE)
    return total.f1


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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
