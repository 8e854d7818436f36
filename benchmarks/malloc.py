"""Detection time and peak memory with glibc's malloc as the package sets it (memory_allocator) against
glibc's defaults, each in fresh processes taken in turn (what a command or a benchmark's timing meets).

    .venv/bin/python benchmarks/malloc.py              # 3 processes of each
    .venv/bin/python benchmarks/malloc.py --rounds 1

The "glibc defaults" processes run with NAPARI_PARTICLE_DETECT_MALLOC=glibc: the package leaves malloc alone.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

GLIBC_DEFAULTS = {"NAPARI_PARTICLE_DETECT_MALLOC": "glibc"}


def measure(threads: int) -> dict:
    """One process's medians (ms) and peak memory (MB)."""
    import resource

    import napari_particle_detect  # noqa: F401 - before torch, as users run it
    import torch

    from napari_particle_detect.detection.kinds_prediction import detect_kind
    from napari_particle_detect.detection.prediction import detect
    from napari_particle_detect.models import load_model
    from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods
    from napari_particle_detect.synthetic.spheres import SynthConfig, synthesize

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _common as C

    torch.set_num_threads(threads)
    spheres, rods = load_model("unet"), load_model("rods")

    def median_ms(run, repeats: int) -> float:
        return C.median_time(run, repeats) * 1e3

    rod_image = synthesize_rods(benchmark_rod_config("fluorescent", 0.3), seed=399_999).image
    row = {"spheres 256 px, d given": median_ms(lambda: detect(rod_image, spheres, "cpu", diameter=12.0), 25),
           "rods 256 px": median_ms(lambda: detect_kind(rod_image, "rods", rods, "cpu"), 25)}
    for size, repeats in ((512, 9), (2048, 3)):
        image = synthesize(SynthConfig(shape=(size, size), area_fraction=0.5, radius_range=(6, 6)), seed=5).image
        row[f"spheres {size} px, d given"] = median_ms(lambda: detect(image, spheres, "cpu", diameter=12.0), repeats)
        row[f"spheres {size} px, d estimated"] = median_ms(lambda: detect(image, spheres, "cpu"), repeats)
    row["peak memory MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes of each setting, taken in turn")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.threads)))
        return
    settings = {"package": {}, "glibc defaults": GLIBC_DEFAULTS}
    rows = []
    for turn in range(args.rounds):
        for name, env in settings.items():
            done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", "--threads", str(args.threads)],
                                  env={**os.environ, **env}, capture_output=True, text=True, check=True)
            rows.append({"setting": name, "turn": turn, **json.loads(done.stdout.strip().splitlines()[-1])})
            print(f"  {name} turn {turn}: " + ", ".join(f"{k} {v:.1f}" for k, v in rows[-1].items()
                                                         if k not in ("setting", "turn")), flush=True)
    table = pd.DataFrame(rows).drop(columns="turn").groupby("setting").median().T
    table["defaults / package"] = table["glibc defaults"] / table["package"]
    pd.set_option("display.width", 200)
    print(f"\n## Medians over {args.rounds} fresh processes each ({args.threads} threads; ms, and MB)\n")
    print(table[["package", "glibc defaults", "defaults / package"]].to_string(float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    main()
