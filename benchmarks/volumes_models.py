"""3D models side by side on the same test volumes of benchmarks/volumes.py (its seeds, optics and
scoring), the diameter given: which model to ship.

    .venv/bin/python benchmarks/volumes_models.py weights/history/unet3d-longer.pt [MORE.pt ...] \
        [--optics standard,hard] [--per-cell 2] [-o benchmarks/results/volumes_models.txt]

The shipped ``unet3d`` is always the first column. F1 is counted in the box half a diameter inside the
faces, as in volumes.py; each model at the threshold its card gives.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import volumes as vb  # noqa: E402  (benchmarks/volumes.py: test volumes, scoring)

from napari_particle_detect.detection.volume_detection import VolumeOptions, detect_volume, load_volume_model  # noqa: E402
from napari_particle_detect.synthetic.volumes import synthesize_volume  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", type=Path, nargs="*", help="3D model files to compare with the shipped one")
    parser.add_argument("--optics", default="standard,hard")
    parser.add_argument("--per-cell", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("-o", "--output", type=Path, default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    models = {"shipped unet3d": load_volume_model(None)}
    models.update({path.stem: load_volume_model(path) for path in args.models})
    rows = []
    for optics in args.optics.split(","):
        vb.OPTICS = optics
        for phi in vb.FRACTIONS:
            for i in range(args.per_cell):
                sample = synthesize_volume(vb.config(phi), seed=vb.TEST_SEED + int(phi * 1000) + i)
                for name, model in models.items():
                    start = time.perf_counter()
                    centres, _, _ = detect_volume(sample.image, model, VolumeOptions(
                        diameter=(10.0,), voxel_size=vb.VOXEL, device="cpu", threads=args.threads))
                    rows.append({"optics": optics, "phi": phi, "model": name, **vb.scores(centres, sample),
                                 "seconds": time.perf_counter() - start})
            print(f"  {optics} {phi}: done", flush=True)
    table = pd.DataFrame(rows)
    pooled = table.groupby(["optics", "phi", "model"], sort=False)[["tp", "fp", "fn"]].sum()
    pooled["f1"] = 2 * pooled.tp / (2 * pooled.tp + pooled.fp + pooled.fn)
    wide = pooled["f1"].unstack("model")[list(models)]
    lines = [f"# benchmarks/volumes_models.py {' '.join(map(str, args.models))} --optics {args.optics} "
             f"--per-cell {args.per_cell}",
             "# F1 in the box half a diameter inside the faces, diameter given, each model at its card's threshold",
             "# models: " + json.dumps({n: {"threshold": m.card.threshold, "training": {k: m.card.training.get(k)
                                                 for k in ("steps", "minutes", "validation_f1")}}
                                        for n, m in models.items()}),
             wide.to_string(float_format=lambda v: f"{v:.3f}"),
             "mean seconds per 48x128x128 volume: " + ", ".join(
                 f"{n} {table[table.model == n].seconds.mean():.2f}" for n in models)]
    text = "\n".join(lines)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")


if __name__ == "__main__":
    main()
