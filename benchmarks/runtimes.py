"""Which runtime and precision ``--runtime auto`` / ``--precision auto`` may pick on a CPU: accuracy and speed side by side.

Every runtime and precision runs the same shipped UNet on the images of ``accuracy.py`` (fluorescent
and opaque at area fractions 0.3 / 0.6 / 0.9, 256 x 256, diameter 12, the same test seeds and
scoring), on the sparse and Gaussian-spot scenes of its second table, and on the never-corrected
frames of ``loop.py``'s three synthetic domains (optics the model was not trained for, at the
diameter the dock would use: where users' own images are). A form may be chosen automatically
only where, on every row, its F1 is within 0.002 of torch float32's and its RMS localisation error
within 0.02 px. Then the time per image at 512 and 2048 px, next to trackpy with
numba tuned as in ``speed.py``, and the export times (once per model and precision, then cached).

    .venv/bin/python benchmarks/runtimes.py            # 6 test images per cell, 512 and 2048 px
    .venv/bin/python benchmarks/runtimes.py --quick    # 2 test images per cell, 256 and 512 px

A sparse scene row gets as many images as it takes to hold ``--min-objects`` particles (600). One
particle found a few pixels off counts twice, a miss and a false detection, and costs about 1/N of
F1 among N particles: with 6 images of 5 that was 0.016 (sampling luck decided the gate), with 300
particles 0.0033, still over the gate's 0.002; from 500 on one particle stays under it and two do not.
``--int8 SPEC`` (repeatable) measures int8 recipes beside the shipped forms:
``--int8 calibration=minmax --int8 "images=32" --int8 "keep_float=ends+last block;per_channel=0"``
(keys of ``runtimes.Int8Recipe``); ``--no-onnx-float32`` leaves that form out.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import napari_particle_detect  # noqa: F401 - before torch: its OpenMP wait policy, as users run it
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402
import _scenes as S  # noqa: E402
from accuracy import AREA_FRACTIONS, LOOKS, cell_images  # noqa: E402

from napari_particle_detect.detection import networks, runtimes  # noqa: E402
from napari_particle_detect.detection.devices import native_bfloat16_cpu  # noqa: E402
from napari_particle_detect.detection.openvino_runtime import import_openvino, openvino_available  # noqa: E402
from napari_particle_detect.synthetic import spheres as synthetic  # noqa: E402
from napari_particle_detect.kinds.evaluation import Counts  # noqa: E402
from napari_particle_detect.detection.prediction import detect  # noqa: E402

F1_TOLERANCE = 0.002
RMS_TOLERANCE = 0.02
DIAMETER = 12.0
TRACKPY_DIAMETER = 11
FORMS = runtimes.cpu_forms()  # OpenVINO's where it is installed (its bfloat16 is fast only where the CPU has it)
REFERENCE = ("torch", "float32")
MIN_OBJECTS = 600


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    C.add_model_args(p)
    p.add_argument("--images", type=int, default=None, help="test images per cell (default 6, quick 2)")
    p.add_argument("--sizes", type=int, nargs="+", default=None, help="image sides timed (default 512 2048)")
    p.add_argument("--repeats", type=int, default=None, help="timed repeats (default 5, quick 2)")
    p.add_argument("--no-scenes", action="store_true", help="skip the sparse and Gaussian-spot scenes")
    p.add_argument("--no-speed", action="store_true", help="accuracy only (its figures do not depend on load)")
    p.add_argument("--no-unfamiliar", action="store_true", help="skip loop.py's unfamiliar optics")
    p.add_argument("--no-accuracy", action="store_true", help="timings only")
    p.add_argument("--min-objects", type=int, default=MIN_OBJECTS,
                   help=f"particles per scene row at least (images added; default {MIN_OBJECTS})")
    p.add_argument("--int8", action="append", default=None, metavar="SPEC",
                   help="an int8 recipe to measure beside the shipped forms, e.g. 'calibration=minmax;images=32' "
                        "(repeatable)")
    p.add_argument("--no-onnx-float32", action="store_true", help="leave onnx float32 out (int8 recipes only)")
    p.add_argument("--forms", nargs="+", default=None, metavar="'RUNTIME PRECISION'",
                   help="measure only these forms (torch float32, the reference, always), e.g. 'openvino bfloat16'")
    C.add_common_args(p)
    return p.parse_args(argv)


def recipe(spec: str) -> runtimes.Int8Recipe:
    """An int8 recipe from 'key=value;key=value' (keep_float joined by '+', booleans 0/1)."""
    fields = {f.name: f for f in dataclasses.fields(runtimes.Int8Recipe)}
    values: dict = {}
    for item in filter(None, (part.strip() for part in spec.split(";"))):
        key, _, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if key not in fields:
            raise SystemExit(f"--int8: unknown key {key!r}; choose from {', '.join(fields)}")
        default = getattr(runtimes.Int8Recipe(), key)
        if isinstance(default, bool):
            values[key] = value.strip().lower() in ("1", "true", "yes", "on")
        elif isinstance(default, tuple):
            values[key] = tuple(v.strip() for v in value.split("+") if v.strip())
        else:
            values[key] = type(default)(value.strip())
    return runtimes.Int8Recipe(**values)


def label(form: tuple) -> str:
    if len(form) > 2 and form[2] != SHIPPED:  # an int8 recipe: name what differs from the shipped one
        diff = [f"{f.name}={'+'.join(v) if isinstance(v, tuple) else v}" for f in dataclasses.fields(form[2])
                if (v := getattr(form[2], f.name)) != getattr(SHIPPED, f.name)]
        return f"{form[0]} {form[1]} [{', '.join(diff)}]"
    return f"{form[0]} {form[1]}"


def use(model, form: tuple) -> None:
    """Make ``form``'s int8 recipe the one exported and run (a new session: the cache keys no recipe)."""
    runtimes.INT8 = form[2] if len(form) > 2 else SHIPPED
    networks._prepared.pop(model, None)


SHIPPED = runtimes.INT8


def run(image: np.ndarray, model, form: tuple, diameter: float | None = DIAMETER) -> pd.DataFrame:
    return detect(image, model=model, device="cpu", diameter=diameter, runtime=form[0], precision=form[1])


def accuracy_rows(model, n_test: int, scenes: bool, forms=FORMS, min_objects: int = MIN_OBJECTS,
                  unfamiliar: bool = True) -> pd.DataFrame:
    """F1 and RMS per form on accuracy.py's cells (and its scenes, and loop.py's unfamiliar optics),
    one row per cell and form, with the images and true particles each row counts."""
    cases = []
    cells = [(look, af) for look in LOOKS for af in AREA_FRACTIONS]
    for cell, (look, af) in enumerate(cells):
        tests = cell_images(look, af, cell, n_test, C.TEST_SEED_BASE, 256, 6.0)
        cases.append((f"{look} {af:.1f}", [(s.image, s.centres) for s in tests], DIAMETER))
    if scenes:
        cases += [(case, images, None) for case, images in scene_images(n_test, min_objects)]
    if unfamiliar:
        cases += unfamiliar_cases(model)
    rows = []
    for case, images, diameter in cases:
        for form in forms:
            use(model, form)
            counts = Counts()
            for image, truth in images:
                counts += C.score_counts(C.centres_of(run(image, model, form, diameter)), truth, 3.0)
            rows.append({"case": case, "form": label(form), "F1": counts.f1, "RMS": counts.rms,
                         "images": len(images), "objects": sum(len(truth) for _, truth in images)})
        print(f"  {case} done", flush=True)
    use(model, REFERENCE)
    return pd.DataFrame(rows)


def unfamiliar_cases(model) -> list[tuple[str, list[tuple[np.ndarray, np.ndarray]], float]]:
    """loop.py's synthetic domains: their 8 never-corrected frames, at the diameter the loop uses."""
    import loop

    cases = []
    for key in loop.DOMAINS:
        domain = loop.synthetic_domain(key, 8, 256)
        domain.diameter, _ = loop.user_diameter(domain, model)
        images = [(domain.frames[f], domain.truth[f]) for f in domain.unseen]
        cases.append((f"unfamiliar: {key} (loop.py)", images, domain.diameter))
    return cases


# accuracy.py's second table: sparse fields of every look, and Gaussian spots from sparse to crowded.
SCENES = tuple((look, n) for look in S.LOOKS for n in S.SPARSE_COUNTS) + tuple(("Gaussian spots", n)
                                                                               for n in S.SPOT_COUNTS)


def scene_seed(count: int, i: int) -> int:
    """The seeds this script always used for the first 10 images of a row; the images added past
    them draw from a range of their own (those rows are 10 * count apart: 120 images of 5 would
    reach the 15/img row's seeds)."""
    if i < 10:
        return C.TEST_SEED_BASE + 7000 + 10 * count + i
    return C.TEST_SEED_BASE + 200_000 + 1000 * count + i


def scene_images(n: int, min_objects: int = 0) -> list[tuple[str, list[tuple[np.ndarray, np.ndarray]]]]:
    """Scenes of accuracy.py's second table (drawn by _scenes.py), detected with no parameters:
    ``n`` images per row, more where that holds fewer than ``min_objects`` particles."""
    cases = []
    for look, count in SCENES:
        n_images = max(n, math.ceil(min_objects / count))
        scenes = [S.LOOKS[look](count, scene_seed(count, i)) for i in range(n_images)]
        cases.append((f"{look} {count}/img, no parameters", [(s.image, s.centres) for s in scenes]))
    return cases


def gate(table: pd.DataFrame, forms=FORMS) -> pd.DataFrame:
    """Per form: the largest F1 drop and RMS rise against the reference over all rows (and where),
    and the verdict."""
    ref = table[table.form == label(REFERENCE)].set_index("case")
    out = []
    for form in forms:
        if form == REFERENCE:
            continue
        mine = table[table.form == label(form)].set_index("case")
        f1_drop, rms_rise = ref.F1 - mine.F1, mine.RMS - ref.RMS
        out.append({"form": label(form), "worst F1 drop": float(f1_drop.max()), "at": f1_drop.idxmax(),
                    "worst RMS rise px": float(rms_rise.max()), "at ": rms_rise.idxmax(),
                    "auto may pick it": bool(f1_drop.max() <= F1_TOLERANCE and rms_rise.max() <= RMS_TOLERANCE)})
    return pd.DataFrame(out).set_index("form")


def speed_rows(model, sizes: list[int], repeats: int, forms=FORMS) -> pd.DataFrame:
    tune = synthetic.synthesize(synthetic.benchmark_config("fluorescent", 0.5, shape=(256, 256)),
                                seed=C.TUNE_SEED_BASE + 900)
    params, _, _ = C.tune_trackpy([tune.image], [tune.centres], diameters=(TRACKPY_DIAMETER,),
                                  separations=(3, 4, 5, 6, 8, 10, 12), percentiles=(64.0, 20.0, 0.0), border=8.0)
    rows = []
    for size in sizes:
        config = synthetic.benchmark_config("fluorescent", 0.5, shape=(size, size), radius=6.0)
        image = synthetic.synthesize(config, seed=C.TEST_SEED_BASE + 90_000 + size).image
        n_rep = max(2, repeats // 2) if size >= 2048 else repeats
        tp = C.median_time(lambda: params.locate(image), n_rep)
        rows.append({"size": f"{size}x{size}", "method": "trackpy locate (numba)" if C.has_numba() else
                     "trackpy locate", "s/image": tp, "time / trackpy": 1.0})
        for form in forms:
            use(model, form)
            run(image, model, form)
            seconds = C.median_time(lambda f=form: run(image, model, f), n_rep, warmup=0)
            rows.append({"size": f"{size}x{size}", "method": f"UNet detect d=12, {label(form)}", "s/image": seconds,
                         "time / trackpy": seconds / tp})
        seconds = C.median_time(lambda: detect(image, model=model, device="cpu", diameter=None), n_rep, warmup=0)
        rows.append({"size": f"{size}x{size}", "method": "UNet detect auto d, default runtime", "s/image": seconds,
                     "time / trackpy": seconds / tp})
        print(f"  {size}x{size} timed", flush=True)
    return pd.DataFrame(rows).set_index(["size", "method"])


def export_rows(model, forms=FORMS) -> pd.DataFrame:
    rows = []
    for form in forms:
        if form[0] != "onnx":
            continue
        use(model, form)
        path = runtimes.exported_path(model, form[1])
        path.unlink(missing_ok=True)
        start = time.perf_counter()
        runtimes.export(model, form[1])
        rows.append({"form": label(form), "export s (once, then cached)": time.perf_counter() - start,
                     "file MB": path.stat().st_size / 1e6})
    use(model, REFERENCE)
    return pd.DataFrame(rows).set_index("form")


def main(argv=None) -> int:
    args = parse_args(argv)
    C.setup(args.threads)
    model = C.load(args.unet)
    n_test = args.images or (2 if args.quick else 6)
    sizes = args.sizes or ([256, 512] if args.quick else [512, 2048])
    repeats = args.repeats or (2 if args.quick else 5)
    forms = [form for form in FORMS if not (args.no_onnx_float32 and form == ("onnx", "float32"))]
    if args.forms:
        forms = [REFERENCE] + [tuple(spec.split()) for spec in args.forms if tuple(spec.split()) != REFERENCE]
    forms += [("onnx", "int8", recipe(spec)) for spec in args.int8 or []]
    print("# CPU runtimes and precisions (napari_particle_detect benchmarks/runtimes.py)")
    print(C.environment_line())
    import onnxruntime

    print(f"onnxruntime {onnxruntime.__version__}; torch CPU threads {torch.get_num_threads()}; "
          f"auto picks for this model: onnx {runtimes.auto_onnx_precision(model)} (int8 only for weights in "
          "runtimes.INT8_GATE_PASSED)")
    if openvino_available():
        openvino = import_openvino()

        print(f"openvino {openvino.__version__}; native bfloat16 on this CPU: {native_bfloat16_cpu()}; auto picks: "
              f"{' '.join(runtimes.resolve_runtime('auto', 'auto', torch.device('cpu'), model=model))} (OpenVINO "
              "bfloat16 only for weights in runtimes.BFLOAT16_GATE_PASSED)")
    print(f"shipped int8 recipe: {runtimes.INT8}")
    if any(form[0] == "onnx" for form in forms):
        C.print_table(export_rows(model, forms), "Export (the torch network to ONNX, int8 calibrated on "
                      f"{runtimes.INT8.images} generator images)")
    if not args.no_accuracy:
        table = accuracy_rows(model, n_test, not args.no_scenes, forms, args.min_objects, not args.no_unfamiliar)
        wide = table.pivot(index="case", columns="form", values=["F1", "RMS"])
        sizes_of = table.drop_duplicates("case").set_index("case")[["images", "objects"]]
        wide.columns = [f"{value} {form}" for value, form in wide.columns]
        wide = sizes_of.join(wide)
        C.print_table(wide, f"Accuracy per form on accuracy.py's cells ({n_test} test images each) and scenes "
                      f"(images added to hold {args.min_objects} particles a row)")
        C.print_table(gate(table, forms), f"Gate: auto may pick a form only if F1 within {F1_TOLERANCE} and RMS "
                      f"within {RMS_TOLERANCE} px of {label(REFERENCE)} on every row")
    if not args.no_speed:
        C.print_table(speed_rows(model, sizes, repeats, forms), "Time per image (full pipeline), median")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
