"""The look check on smaller crops: how many rimmed bright-field images are still read as ringed, and
what it saves.

With a given diameter, detection reads the look (ringed or not) from the image's central
``sizing.ESTIMATE_CROP`` px (384) beside the network; on a 512 px image that is about 0.07 s of
CPU against the network's 0.04 s. This reads the generator's random 512 px images (radius 2-14 px;
bright-field ones with a bright core and a dark rim of random strengths, as ``sizing.py``'s look table
draws them) on the shipped crop and on smaller ones (fixed sides, or a number of diameters between
128 and 384 px), and with fewer scales (``--scales``), with the true diameter given as a user would,
and counts rimmed images read as ringed, plain ones read as ringed, and the CPU time of one check.

    .venv/bin/python benchmarks/look_crop.py --images 500                 # about 3 min
    .venv/bin/python benchmarks/look_crop.py --images 500 --crops 384 --scales 5 4 3
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402

from napari_particle_detect.synthetic import spheres as synthetic  # noqa: E402
from napari_particle_detect.detection import sizing  # noqa: E402

LOOK_SCALES = 5  # as prediction.given_sizing reads the look: 5 scales from 0.4 to 1.3 diameters


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--images", type=int, default=500, help="random images (default 500)")
    p.add_argument("--crops", nargs="+", default=["384", "256", "20d", "16d"],
                   help="crop sides: px, or a number of diameters followed by 'd' (default 384 256 20d 16d)")
    p.add_argument("--scales", type=int, nargs="+", default=[LOOK_SCALES],
                   help=f"scales of the check, each tried on every crop (default {LOOK_SCALES}, as detection reads it)")
    p.add_argument("--seed", type=int, default=507)
    C.add_common_args(p)
    return p.parse_args(argv)


def crop_side(crop: str, diameter: float) -> int:
    if crop.endswith("d"):
        return int(np.clip(float(crop[:-1]) * diameter, 128, 384))
    return int(crop)


def read_looks(images: int, crops: list[str], scales: list[int], seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    variants = [(crop, n) for n in scales for crop in crops]
    counts = {v: {"rimmed read as ringed": 0, "plain read as ringed": 0, "ms a check (CPU)": 0.0} for v in variants}
    rimmed_total = 0
    shipped = sizing.ESTIMATE_CROP
    try:
        for _ in range(images):
            config = synthetic.random_training_config(rng, shape=(512, 512), radius_range=(2.0, 14.0))
            sample_seed = int(rng.integers(1e9))
            rimmed = config.look == "brightfield"
            if rimmed:
                config = replace(config, core_amplitude=float(rng.uniform(0.3, 1.2)),
                                 rim_amplitude=float(rng.uniform(-1.2, -0.3)))
                rimmed_total += 1
            sample = synthetic.synthesize(config, seed=sample_seed)
            diameter = float(2 * np.median(sample.radii))
            for crop, n in variants:
                sizing.ESTIMATE_CROP = crop_side(crop, diameter)
                start = time.process_time()
                ringed = sizing.estimate_size(sample.image, 0.4 * diameter, 1.3 * diameter, scales=n,
                                              look_only=True).ringed
                counts[crop, n]["ms a check (CPU)"] += 1000 * (time.process_time() - start) / images
                counts[crop, n]["rimmed read as ringed" if rimmed else "plain read as ringed"] += int(ringed)
    finally:
        sizing.ESTIMATE_CROP = shipped
    table = pd.DataFrame(counts).T
    table["rimmed read as ringed"] = [f"{int(v)}/{rimmed_total}" for v in table["rimmed read as ringed"]]
    table["plain read as ringed"] = [f"{int(v)}/{images - rimmed_total}" for v in table["plain read as ringed"]]
    table.index.names = ["crop", "scales"]
    return table


def main(argv=None) -> int:
    args = parse_args(argv)
    C.setup(1)  # the check's own time, one thread (its scales run side by side where cores are free)
    print("# The look check on smaller crops (napari_particle_detect benchmarks/look_crop.py)")
    print(C.environment_line())
    print(f"{args.images} random 512 px images (generator's spread, radius 2-14 px), seed {args.seed}; "
          f"shipped crop {sizing.ESTIMATE_CROP} px; the true diameter given")
    C.print_table(read_looks(args.images, args.crops, args.scales, args.seed), "Images read as ringed, and the check's CPU time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
