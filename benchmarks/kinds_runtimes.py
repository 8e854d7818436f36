"""Which runtime and precision the rods and chains models may run on a CPU: their accuracy side by side.

The shipped rods and chains models on torch float32 (the reference), ONNX Runtime float32 and
OpenVINO bfloat16, on tuning seeds (rods 950000+: 3 looks x area fraction 0.15 / 0.30 and ellipsoids;
chains 900000+: 3 looks at 0.30), never ``anisotropic.py``'s test seeds. A form passes where, pooled
over the images, rods F1 and ellipsoid F1 stay within 0.002 of the reference, the 90th percentile
of the orientation error within 0.1 degree, the median length error within 0.002 (0.2 % of a
length), and chains' bead and bond F1 within 0.002 and the share of chains exactly right within
0.01; ``runtimes.BFLOAT16_GATE_PASSED`` lists the weights that passed in bfloat16. Then the time of
one 256 x 256 frame per form beside the sphere UNet's default.

    .venv/bin/python benchmarks/kinds_runtimes.py [--images 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pandas as pd  # noqa: E402

import _common as C  # noqa: E402
from anisotropic import LOOKS, rods_images  # noqa: E402
from napari_particle_detect.detection.kinds_prediction import detect_kind, model_for  # noqa: E402
from napari_particle_detect.detection.prediction import detect  # noqa: E402
from napari_particle_detect.detection.runtimes import resolve_runtime  # noqa: E402
from napari_particle_detect.kinds import chains, rods  # noqa: E402
from napari_particle_detect.synthetic.chains import benchmark_chain_config, synthesize_chains  # noqa: E402

FORMS = (("torch", "float32"), ("onnx", "float32"), ("openvino", "bfloat16"))
REFERENCE = FORMS[0]
TOLERANCE = {"rods F1": 0.002, "ellipsoids F1": 0.002, "rods angle p90": 0.1, "rods length error": 0.002,
             "chains bead F1": 0.002, "chains bond F1": 0.002, "chains exact": 0.01}
RODS_BASE, CHAINS_BASE = 950_000, 900_000


def rods_scores(form: tuple[str, str], images: int) -> dict:
    model = model_for("rods", None, "cpu")
    errors, ellipsoids = rods.empty_errors(), rods.empty_errors()

    def add(into: dict, samples) -> None:
        for s in samples:
            rods.add_errors(into, detect_kind(s.image, "rods", model, "cpu", runtime=form[0], precision=form[1]), s.table)

    for look in LOOKS:
        for af in (0.15, 0.3):
            add(errors, rods_images(look, af, images, RODS_BASE + int(af * 1000) + 10_000 * LOOKS.index(look)))
        add(ellipsoids, rods_images(look, 0.15, images, RODS_BASE + 50_000 + 10_000 * LOOKS.index(look), "ellipsoids",
                                    aspect=(1.5, 5.0)))
    r, e = rods.scores_from(errors), rods.scores_from(ellipsoids)
    return {"rods F1": r.f1, "ellipsoids F1": e.f1, "rods angle p90": r.angle_p90,
            "rods length error": r.length_error_median}


def chains_scores(form: tuple[str, str], images: int) -> dict:
    model = model_for("chains", None, "cpu")
    total: dict = {}
    for look in LOOKS:
        for i in range(images):
            s = synthesize_chains(benchmark_chain_config(look, 0.3), seed=CHAINS_BASE + 1000 * LOOKS.index(look) + i)
            found = detect_kind(s.image, "chains", model, "cpu", runtime=form[0], precision=form[1])
            total = chains.add_counts(total, chains.chain_counts(found, s.table))
    c = chains.scores_from(total)
    return {"chains bead F1": c.bead_f1, "chains bond F1": c.bond_f1, "chains exact": c.chains_exact}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--images", type=int, default=3, help="images per cell (default 3)")
    C.add_common_args(p)
    args = p.parse_args(argv)
    C.setup(args.threads)
    print("# Rods and chains models per CPU runtime (napari_particle_detect benchmarks/kinds_runtimes.py)")
    print(C.environment_line())
    table = pd.DataFrame({f"{r} {pr}": {**rods_scores((r, pr), args.images), **chains_scores((r, pr), args.images)}
                          for r, pr in FORMS})
    C.print_table(table, f"Accuracy per form ({args.images} images per cell, tuning seeds)", "{:.4f}")
    reference = table[" ".join(REFERENCE)]
    gaps = table.sub(reference, axis=0).abs()
    verdict = {form: all(gaps.loc[row, form] <= tol for row, tol in TOLERANCE.items()) for form in table.columns}
    print("\n## Gate (every row within its tolerance of torch float32)\n")
    for form, ok in verdict.items():
        print(f"  {form}: {'passes' if ok else 'fails'}" + ("" if ok else " at " + ", ".join(
            f"{row} {gaps.loc[row, form]:.4f}" for row, tol in TOLERANCE.items() if gaps.loc[row, form] > tol)))
    image = rods_images("fluorescent", 0.3, 1, RODS_BASE - 1)[0].image
    sphere = C.load(C.DEFAULT_UNET)
    rows = [{"model": "spheres (UNet, default runtime: " + " ".join(resolve_runtime("auto", "auto", C.torch.device("cpu"),
                                                                                   model=sphere)) + ")",
             "s per 256x256 frame": C.median_time(lambda: detect(image, sphere, "cpu", diameter=12.0), 5)}]
    for kind in ("rods", "chains"):
        for form in (("auto", "auto"), *FORMS):
            seconds = C.median_time(lambda f=form: detect_kind(image, kind, None, "cpu", runtime=f[0], precision=f[1]), 5)
            rows.append({"model": f"{kind} {form[0]} {form[1]}", "s per 256x256 frame": seconds})
    timing = pd.DataFrame(rows).set_index("model")
    timing["x spheres"] = timing["s per 256x256 frame"] / timing["s per 256x256 frame"].iloc[0]
    C.print_table(timing, "Detection time per frame, one image, median of 5")
    return 0


if __name__ == "__main__":
    sys.exit(main())
