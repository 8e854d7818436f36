"""The look check with a given diameter (ringed or not): read around the network's detections (shipped)
against the scale-space blob search that read it before, on the same images.

With the diameter given, detection still needs the look: ringed particles' rims draw weak responses that
decoding drops (prediction.SHADOW_RATIO). Until 2026-12-05 it was read by a blob search over 5 scales
(0.4-1.3 diameters) in the image's central 384 px, beside the network: about 0.06 s of CPU on every
call, more than the network's 0.04 s on a 512 px image. Now it is the mean radial profile around the
strongest peaks of the first frame (look.ringed_around). This reads the generator's random 512 px
images (radius 2-14 px; bright-field ones with a bright core and a dark rim of random strengths), with
the true diameter given as a user would, and counts rimmed images read as ringed and plain ones read as
ringed by each, the CPU time of one check, and the detection F1 each reading gives where they differ
(matched within max(3 px, a quarter diameter), 8 px inside the border).

    .venv/bin/python benchmarks/look_check.py --images 500        # about 3 min
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
from napari_particle_detect.detection.look import StackLook  # noqa: E402
from napari_particle_detect.detection.prediction import detect_frame  # noqa: E402
from napari_particle_detect.detection.preprocessing import normalise  # noqa: E402
from napari_particle_detect.kinds.evaluation import f1_score  # noqa: E402

BORDER = 8.0


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    C.add_model_args(p, resnet_default=None)
    p.add_argument("--images", type=int, default=500, help="random images (default 500)")
    p.add_argument("--seed", type=int, default=507)
    C.add_common_args(p)
    return p.parse_args(argv)


def blob_search_look(image: np.ndarray, diameter: float) -> bool:
    """The look as read before 2026-12-05: a blob search over 5 scales from 0.4 to 1.3 diameters in the
    central 384 px, read again in the central 1024 px where fewer than 4 blobs stood out."""
    sigmas = np.geomspace(0.4 * diameter, 1.3 * diameter, 5) / sizing.DISC_SIGMA_TO_DIAMETER
    # _estimate_in returns a reading (its .estimate: the SizeEstimate) since 2026-12-05.
    estimate = sizing._estimate_in(normalise(sizing._central_crop(image, sizing.ESTIMATE_CROP)), sigmas).estimate
    if estimate.blobs < sizing.MIN_CONVINCING_BLOBS and max(image.shape) > sizing.ESTIMATE_CROP:
        estimate = sizing._estimate_in(normalise(sizing._central_crop(image, sizing.SPARSE_ESTIMATE_CROP)),
                                       sigmas).estimate
    return estimate.ringed


class TimedLook(StackLook):
    """The shipped look, with the CPU time of its reading."""

    cpu = 0.0

    def __call__(self, image, peaks, scores) -> bool:
        start = time.process_time()
        try:
            return super().__call__(image, peaks, scores)
        finally:
            self.cpu += time.process_time() - start


def read_looks(model, images: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(images):
        config = synthetic.random_training_config(rng, shape=(512, 512), radius_range=(2.0, 14.0))
        sample_seed = int(rng.integers(1e9))
        rimmed = config.look == "brightfield"
        if rimmed:
            config = replace(config, core_amplitude=float(rng.uniform(0.3, 1.2)),
                             rim_amplitude=float(rng.uniform(-1.2, -0.3)))
        sample = synthetic.synthesize(config, seed=sample_seed)
        diameter = float(2 * np.median(sample.radii))
        scale = sizing.scale_for_diameter(diameter, model.card.canonical_diameter)
        start = time.process_time()
        before = blob_search_look(sample.image, diameter)
        before_cpu = time.process_time() - start
        look = TimedLook(diameter * scale)
        found = detect_frame(model, sample.image, "cpu", scale=scale, ringed=look, heatmap=False)
        now = bool(look.ringed)
        tolerance = max(3.0, 0.25 * diameter)
        f1 = {}
        for name, ringed in (("now", now), ("before", before)):
            if ringed != now:
                found = detect_frame(model, sample.image, "cpu", scale=scale, ringed=ringed, heatmap=False)
            counts = C.score_counts(found.centres, sample.centres, tolerance, sample.image.shape, BORDER)
            f1[name] = f1_score(counts.tp, counts.fp, counts.fn)
        rows.append({"rimmed": rimmed, "before": before, "now": now, "ms before": 1000 * before_cpu,
                     "ms now": 1000 * look.cpu, "F1 before": f1["before"], "F1 now": f1["now"]})
    return pd.DataFrame(rows)


def summary(looks: pd.DataFrame) -> pd.DataFrame:
    rimmed, plain = looks[looks.rimmed], looks[~looks.rimmed]
    differ = looks[looks.before != looks.now]
    rows = {}
    for name, label in (("before", "blob search (before)"), ("now", "around detections (shipped)")):
        rows[label] = {
            "rimmed read as ringed": f"{int(rimmed[name].sum())}/{len(rimmed)}",
            "plain read as ringed": f"{int(plain[name].sum())}/{len(plain)}",
            "ms a check (CPU)": looks[f"ms {name}"].median(),
            f"mean F1, {len(differ)} images read differently": differ[f"F1 {name}"].mean() if len(differ) else np.nan,
            "mean F1, all images": looks[f"F1 {name}"].mean(),
        }
    return pd.DataFrame(rows).T


def main(argv=None) -> int:
    args = parse_args(argv)
    C.setup(1)  # each check's own CPU time, one thread
    model = C.load(args.unet)
    print("# The look check with a given diameter (napari_particle_detect benchmarks/look_check.py)")
    print(C.environment_line())
    print(f"{args.images} random 512 px images (generator's spread, radius 2-14 px), seed {args.seed}; the true "
          f"diameter given; F1 within max(3 px, d/4), {BORDER:g} px inside the border")
    looks = read_looks(model, args.images, args.seed)
    C.print_table(summary(looks), "Images read as ringed, the check's CPU time, and detection F1", "{:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
