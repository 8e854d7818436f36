"""A round's model in OpenVINO bfloat16 against float32: may it keep its gated parent's bfloat16 verdict?

On each of ``loop.py``'s domains (three synthetic optics the shipped UNet was not trained on, and real bulk
water with trackpy's result as the criterion), the user's first two frames are corrected and one round
(the dock's settings) is trained from the shipped model, as ``loop.py`` does. Then the shipped model and the
round's model find the never-corrected frames (bulk water: frames 2-9) on ONNX Runtime float32 and on
OpenVINO bfloat16, and the F1 and RMS of each are printed side by side. ``runtimes.BFLOAT16_INHERITED``
lets a round's model run in bfloat16 under ``auto`` because these differences are within the gate's
(F1 0.002, RMS 0.02 px). Needs a CPU with OpenVINO installed (bfloat16 is emulated, slowly, without
native support; the figures are the same).

    .venv/bin/python benchmarks/round_runtimes.py [--threads 2]     # about 3 min
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd
import napari_particle_detect  # noqa: F401 - before torch: its OpenMP wait policy, as users run it

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402
import loop as L  # noqa: E402

from napari_particle_detect import load_model  # noqa: E402
from napari_particle_detect.detection.prediction import detect  # noqa: E402
from napari_particle_detect.kinds.evaluation import Counts, count_in_area  # noqa: E402
from napari_particle_detect.learning.finetune import FINE_TUNE, fine_tune  # noqa: E402

FORMS = (("onnx", "float32"), ("openvino", "bfloat16"))


def scored(model, domain, frames: list[int], runtime: str, precision: str) -> Counts:
    table = detect(domain.frames[frames], model, "cpu", diameter=domain.diameter, runtime=runtime, precision=precision)
    total = Counts()
    for k, frame in enumerate(frames):
        total = total + count_in_area(L.centres_of(table, k)[0], domain.truth[frame], None, L.TOLERANCE)
    return total


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=L.DATA, help="folder with trackpy_bulk_water_10.tif")
    C.add_common_args(p)
    args = p.parse_args(argv)
    C.setup(args.threads)
    shipped = load_model(C.DEFAULT_UNET)
    print("# A round's model in OpenVINO bfloat16 against float32 (napari_particle_detect benchmarks/round_runtimes.py)")
    print(C.environment_line())
    rows = []
    config = replace(FINE_TUNE, threads=args.threads)
    # --quick (a smoke run, as loop.py's): one synthetic domain, 4 unseen frames, a 40-step round.
    domains = ([L.synthetic_domain(next(iter(L.DOMAINS)), 4)] if args.quick
               else [L.synthetic_domain(key, 8) for key in L.DOMAINS] + [L.bulk_water_domain(args.data)])
    if args.quick:
        config = replace(config, steps_per_epoch=40)
    for domain in domains:
        domain.diameter, _ = L.user_diameter(domain, shipped)
        corrected: dict = {}
        L.correct_next_two(domain, shipped, corrected, 1)
        result = fine_tune(shipped, L.examples_for(domain, shipped, corrected), config)
        frames = domain.unseen if domain.key != "bulk_water" else list(range(2, len(domain.frames)))
        for name, model in (("shipped model", shipped), ("round's model", result.model)):
            counts = {form: scored(model, domain, frames, *form) for form in FORMS}
            f32, bf16 = counts[FORMS[0]], counts[FORMS[1]]
            rows.append({"domain": domain.key, "model": name, "F1 float32": f32.f1, "F1 bfloat16": bf16.f1,
                         "F1 difference": bf16.f1 - f32.f1, "RMS float32": f32.rms, "RMS bfloat16": bf16.rms,
                         "RMS difference": bf16.rms - f32.rms})
        print(f"  {domain.key}: done", flush=True)
    table = pd.DataFrame(rows).set_index(["domain", "model"])
    C.print_table(table, "Never-corrected frames: ONNX Runtime float32 against OpenVINO bfloat16", "{:.4f}")
    rounds = table.xs("round's model", level="model")
    C.print_targets([("a round's model in bfloat16 within 0.002 F1 and 0.02 px RMS of float32, every domain",
                      bool((rounds["F1 difference"].abs() <= 0.002).all() and (rounds["RMS difference"].abs() <= 0.02).all()),
                      f"largest F1 difference {rounds['F1 difference'].abs().max():.4f}, "
                      f"RMS {rounds['RMS difference'].abs().max():.4f} px")])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
