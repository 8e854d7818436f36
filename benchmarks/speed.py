"""Detection speed: images per second and megapixels per second, next to trackpy on the same images.

Synthetic fluorescent images (area fraction 0.5, radius 6 px, so about 12 px diameters) of
512 x 512 and 2048 x 2048 px. Our full pipeline is ``prediction.detect`` (normalise, tile, network,
decode) with the diameter given (12 px) and, separately, with the diameter estimated from the image.
trackpy is ``locate(image, 11, separation=..., minmass=...)`` with separation, minmass and
percentile tuned for F1 on a separate image of the same kind (so it does the same job, not a faster, worse one),
run with numba (what trackpy users run: ``pip install numba``) and, for reference, its pure Python engine.
Each timing is the median of several repeats after one warm-up call; torch uses ``--threads``
CPU threads (default 2). The CPU targets are judged on trackpy, the pipeline with the diameter given
and with it estimated timed again in turn (6 rounds of 5 at 512 px, 3 of 2 at 2048 px; this VM's
speed drifts 10-20 % within a minute, which moved the sequential rows' ratios by as much); the model
shipped before (``--previous``, default the 16-32-64-112 UNet, weights/unet-wide.pt) is timed in those
turns too, so the two models' ratio comes from one run. On a
machine with CUDA the network path is timed on the GPU as well, and the GPU target (issue 18:
500 MP/s) is judged on one call over a stack of 100 frames of 512 x 512, end to end.

Runtimes: the default (``--runtime auto``: ONNX Runtime on a CPU, OpenVINO bfloat16 on one with native
bfloat16) beside torch float32 (the pipeline before it), ONNX Runtime int8 and OpenVINO's float32,
bfloat16 and int8 where it is installed. Precision check: every other runtime and precision (ONNX float32
and int8, torch bfloat16 and float16) against torch float32 on the same image: centres gained or
lost and how far matched ones moved. Which form ``auto`` may pick is decided on accuracy by
``runtimes.py``; this table shows how far each moves centres. ``--compile`` adds torch.compile rows with their warm-up.

    .venv/bin/python benchmarks/speed.py            # 512 and 2048 px
    .venv/bin/python benchmarks/speed.py --quick    # 256 and 512 px, fewer repeats
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import napari_particle_detect  # noqa: F401 - before torch: its OpenMP wait policy, as users run it
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402

from napari_particle_detect.synthetic import spheres as synthetic  # noqa: E402
from napari_particle_detect.detection.runtimes import cpu_forms, resolve_runtime  # noqa: E402
from napari_particle_detect.kinds.evaluation import match  # noqa: E402
from napari_particle_detect.detection.prediction import DEFAULT_TILE, TILE_MARGIN, detect, prepare_network  # noqa: E402

CPU_RATIO_TARGET = 3.0
# Issue 18: end-to-end detection of a stack of GPU_STACK_FRAMES frames of GPU_STACK_SIZE px on a GPU.
GPU_MPS_TARGET = 500.0
GPU_STACK_FRAMES = 100
GPU_STACK_SIZE = 512
DIAMETER = 12.0
TRACKPY_DIAMETER = 11
STACK_FRAMES = 10
# What the CPU targets compare, timed in turn.
IN_TURN = ("trackpy locate", "UNet detect d=12", "UNet detect auto d")
# The model shipped before (timed in turn beside them, not judged): the 16-32-64-112 UNet.
PREVIOUS = "previous UNet detect d=12"
PRECISION_SHIFT_PX = 0.05


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    C.add_model_args(p)
    p.add_argument("--sizes", type=int, nargs="+", default=None, help="image sides in px (default 512 2048)")
    p.add_argument("--previous", type=Path, default=C.WEIGHTS_DIR / "unet-wide.pt",
                   help="the model shipped before, timed in turn beside the default ('none' to skip; "
                        "default napari_particle_detect/weights/unet-wide.pt)")
    p.add_argument("--repeats", type=int, default=None, help="timed repeats per measurement (default 5; quick 2)")
    p.add_argument("--no-cuda", action="store_true", help="skip the GPU timings even when CUDA is available")
    p.add_argument("--gpu-only", action="store_true",
                   help="the GPU rows and trackpy's alone (a lent GPU machine's minutes: scripts/device_checks.sh)")
    p.add_argument("--compile", action="store_true", help="also time torch.compile (a warm-up of up to minutes)")
    C.add_common_args(p)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    C.setup(args.threads)
    sizes = args.sizes or ([256, 512] if args.quick else [512, 2048])
    repeats = args.repeats or (2 if args.quick else 5)
    models = {"UNet": C.load(args.unet)}
    previous = C.load(args.previous) if str(args.previous).lower() != "none" else None
    if str(args.resnet).lower() != "none":
        models["ResNet"] = C.load(args.resnet)
    cuda = torch.cuda.is_available() and not args.no_cuda

    print("# Speed (napari_particle_detect benchmarks/speed.py)")
    print(C.environment_line())
    print(f"fluorescent, area fraction 0.5, radius 6 px; median of {repeats} repeats after 1 warm-up; "
          f"torch CPU threads {torch.get_num_threads()}")

    tune = synthetic.synthesize(synthetic.benchmark_config("fluorescent", 0.5, shape=(256, 256)), seed=C.TUNE_SEED_BASE + 900)
    trackpy_params, tune_f1, _ = C.tune_trackpy(
        [tune.image], [tune.centres], diameters=(TRACKPY_DIAMETER,), separations=(3, 4, 5, 6, 8, 10, 12),
        percentiles=(64.0, 20.0, 0.0), border=8.0,
    )
    print(f"trackpy: {trackpy_params.describe()} (F1 {tune_f1:.3f} on a 256 px tuning image), "
          f"engine {'numba' if C.has_numba() else 'python'}")

    auto_runtime, auto_precision = resolve_runtime("auto", "auto", torch.device("cpu"), model=models["UNet"])
    print(f"CPU inference (auto): {auto_runtime} {auto_precision if auto_runtime != 'torch' else 'float32'}; "
          "batch norm folded into the convolutions; the network exported once per model and cached")
    rows, checks, in_turn = [], [], []
    for size in sizes:
        config = synthetic.benchmark_config("fluorescent", 0.5, shape=(size, size), radius=6.0)
        image = synthetic.synthesize(config, seed=C.TEST_SEED_BASE + 90_000 + size).image
        mp = size * size / 1e6
        n_rep = max(2, repeats // 2) if size >= 2048 else repeats

        def add(method: str, device: str, seconds: float, found: int) -> None:
            rows.append({"size": f"{size}x{size}", "method": method, "device": device, "s/image": seconds,
                         "images/s": 1.0 / seconds, "MP/s": mp / seconds, "centres": found})

        t0 = time.perf_counter()
        found = len(trackpy_params.locate(image))
        seconds = C.median_time(lambda: trackpy_params.locate(image), n_rep)
        add("trackpy locate", "cpu", seconds, found)
        if C.has_numba():
            found = len(trackpy_params.locate(image, engine="python"))
            add("trackpy locate, python engine (not numba)", "cpu",
                C.median_time(lambda: trackpy_params.locate(image, engine="python"), n_rep), found)
        if not args.gpu_only:
            add_cpu_rows(add, checks, image, size, models, (auto_runtime, auto_precision), n_rep, args.compile)
            # The targets' three timings again, taken in turn (this VM drifts 10-20 % within a minute).
            rounds, each = (C.TIMING_ROUNDS, C.TIMING_REPEATS) if size < 2048 else (3, 2)
            timed = {IN_TURN[0]: lambda: trackpy_params.locate(image),
                     IN_TURN[1]: lambda: detect(image, model=models["UNet"], device="cpu", diameter=DIAMETER),
                     IN_TURN[2]: lambda: detect(image, model=models["UNet"], device="cpu", diameter=None)}
            if previous is not None:
                timed[PREVIOUS] = lambda: detect(image, model=previous, device="cpu", diameter=DIAMETER)
            in_turn.append({"size": f"{size}x{size}",
                            **dict(zip(timed, C.interleaved_medians(list(timed.values()), rounds, each))),
                            "rounds": f"{rounds} x {each}"})
        if cuda:
            for name, model in models.items():
                run = lambda m=model: detect(image, model=m, device="cuda", diameter=DIAMETER)  # noqa: E731
                found = len(run())
                add(f"{name} detect d=12", "cuda", C.median_time(run, n_rep), found)
            run = lambda: detect(image, model=models["UNet"], device="cuda", diameter=None)  # noqa: E731
            found = len(run())
            add("UNet detect auto d", "cuda", C.median_time(run, n_rep), found)
            reference = C.centres_of(detect(image, model=models["UNet"], device="cuda", diameter=DIAMETER,
                                            precision="float32"))
            for precision in ("bfloat16", "float16"):
                run = lambda p=precision: detect(image, model=models["UNet"], device="cuda",  # noqa: E731
                                                 diameter=DIAMETER, precision=p)
                found = run()
                add(f"UNet detect d=12 {precision} (not default)", "cuda", C.median_time(run, n_rep), len(found))
                checks.append(precision_check(f"{size}x{size}", "cuda", precision, reference, C.centres_of(found)))
            if args.compile:
                add_compiled(add, image, models["UNet"], "cuda", n_rep)
            # A movie pays the per-call look check (on the host) once, not once per frame.
            stack = np.stack([image] * STACK_FRAMES)
            run = lambda: detect(stack, model=models["UNet"], device="cuda", diameter=DIAMETER)  # noqa: E731
            found = len(run()) // STACK_FRAMES
            add(f"UNet detect d=12, per frame of a {STACK_FRAMES}-frame stack", "cuda",
                C.median_time(run, n_rep) / STACK_FRAMES, found)
        print(f"  {size}x{size}: done in {time.perf_counter() - t0:.0f} s", flush=True)
    if cuda:
        rows.append(gpu_stack_row(models["UNet"], max(1, repeats // 2)))

    table = pd.DataFrame(rows)
    tp_time = table[table.method == "trackpy locate"].set_index("size")["s/image"]
    table["time / trackpy"] = [row["s/image"] / tp_time.get(row["size"], np.nan) for _, row in table.iterrows()]
    C.print_table(table.set_index(["size", "method", "device"]), "Time per image (full pipeline, seconds) and throughput")
    if checks:
        C.print_table(pd.DataFrame(checks).set_index(["size", "device", "precision"]),
                      f"Precision check against float32 (torch's bfloat16/float16: auto only if every centre stays "
                      f"within {PRECISION_SHIFT_PX:g} px; ONNX int8: auto by the accuracy gate of benchmarks/runtimes.py "
                      f"instead, F1 and RMS on accuracy.py's rows, for weights in runtimes.INT8_GATE_PASSED)")

    targets = []
    if in_turn:
        turns = pd.DataFrame(in_turn).set_index("size")
        for method in [*IN_TURN[1:], *([PREVIOUS] if previous is not None else [])]:
            turns[f"{method} / trackpy"] = turns[method] / turns[IN_TURN[0]]
        if previous is not None:
            turns[f"{PREVIOUS} / {IN_TURN[1]}"] = turns[PREVIOUS] / turns[IN_TURN[1]]
        C.print_table(turns, "The targets' timings taken in turn (seconds per image, median of rounds x repeats)")
        for key, r in turns.iterrows():
            for method, what in zip(IN_TURN[1:], ("UNet", "UNet with auto diameter")):
                ratio = r[f"{method} / trackpy"]
                targets.append((f"CPU, {key}: {what} no slower than {CPU_RATIO_TARGET:g}x trackpy per image",
                                bool(ratio <= CPU_RATIO_TARGET),
                                f"{ratio:.2f}x ({r[method]:.3f} s vs {r[IN_TURN[0]]:.3f} s)"))
    if cuda:
        r = table[table["size"] == GPU_STACK_KEY].iloc[0]
        targets.append((f"GPU ({torch.cuda.get_device_name(0)}), {GPU_STACK_KEY} stack end to end: "
                        f">= {GPU_MPS_TARGET:g} MP/s", bool(r["MP/s"] >= GPU_MPS_TARGET), f"{r['MP/s']:.1f} MP/s"))
    else:
        targets.append((f"GPU: >= {GPU_MPS_TARGET:g} MP/s", None, "not measured: no CUDA device here"))
    C.print_targets(targets)
    return 0


def add_cpu_rows(add, checks: list, image: np.ndarray, size: int, models: dict, auto: tuple[str, str],
                 n_rep: int, compile: bool) -> None:
    """The CPU rows of one image: each model, every runtime and precision, the tiling, a stack, the estimate."""
    for name, model in models.items():
        found = len(detect(image, model=model, device="cpu", diameter=DIAMETER))
        add(f"{name} detect d=12", "cpu",
            C.median_time(lambda: detect(image, model=model, device="cpu", diameter=DIAMETER), n_rep, warmup=0),
            found)
    # The decoder's residual peaks (heatmap.ResidualRule, split_close=True, off by default) beside it.
    run = lambda: detect(image, model=models["UNet"], device="cpu", diameter=DIAMETER, split_close=True)  # noqa: E731
    found = len(run())
    add("UNet detect d=12, split_close (not default)", "cpu", C.median_time(run, n_rep, warmup=0), found)
    # The runtimes and precisions side by side: torch float32 (the pipeline before ONNX Runtime)
    # and int8, which auto picks only where benchmarks/runtimes.py's accuracy gate passes.
    reference = C.centres_of(detect(image, model=models["UNet"], device="cpu", diameter=DIAMETER,
                                    runtime="torch", precision="float32"))
    for runtime, precision in cpu_forms():
        run = lambda r=runtime, p=precision: detect(image, model=models["UNet"], device="cpu",  # noqa: E731
                                                    diameter=DIAMETER, runtime=r, precision=p)
        found = run()
        chosen = auto == (runtime, precision)
        add(f"UNet detect d=12 {runtime} {precision}{'' if chosen else ' (not default)'}", "cpu",
            C.median_time(run, n_rep, warmup=0), len(found))
        if runtime != "torch":
            checks.append(precision_check(f"{size}x{size}", "cpu", f"{runtime} {precision}", reference,
                                          C.centres_of(found)))
    # Not the default: one tile for the whole image, where the default tile is smaller than
    # the image plus its margins. Shown to size the overlap the default tiling costs.
    big_tile = min(2 ** int(np.ceil(np.log2(size + 2 * TILE_MARGIN))), 4096)
    if big_tile > DEFAULT_TILE:
        found = len(detect(image, model=models["UNet"], device="cpu", diameter=DIAMETER, tile=big_tile))
        add(f"UNet detect d=12 tile={big_tile} (not default)", "cpu",
            C.median_time(lambda: detect(image, model=models["UNet"], device="cpu", diameter=DIAMETER,
                                         tile=big_tile), n_rep, warmup=0),
            found)
    for precision in ("bfloat16", "float16"):
        # runtime="torch": under auto a bfloat16 request runs OpenVINO where the CPU computes in bfloat16.
        run = lambda p=precision: detect(image, model=models["UNet"], device="cpu", diameter=DIAMETER,  # noqa: E731
                                         runtime="torch", precision=p)
        found = run()
        add(f"UNet detect d=12 torch {precision} (not default)", "cpu", C.median_time(run, n_rep, warmup=0),
            len(found))
        checks.append(precision_check(f"{size}x{size}", "cpu", f"torch {precision}", reference,
                                      C.centres_of(found)))
    stack = np.stack([image] * STACK_FRAMES)
    run = lambda: detect(stack, model=models["UNet"], device="cpu", diameter=DIAMETER)  # noqa: E731
    found = len(run()) // STACK_FRAMES
    add(f"UNet detect d=12, per frame of a {STACK_FRAMES}-frame stack", "cpu",
        C.median_time(run, max(1, n_rep // 2), warmup=0) / STACK_FRAMES, found)
    if compile:
        add_compiled(add, image, models["UNet"], "cpu", n_rep)
    found = len(detect(image, model=models["UNet"], device="cpu", diameter=None))
    add("UNet detect auto d", "cpu",
        C.median_time(lambda: detect(image, model=models["UNet"], device="cpu", diameter=None), n_rep, warmup=0),
        found)


GPU_STACK_KEY = f"{GPU_STACK_FRAMES}x{GPU_STACK_SIZE}x{GPU_STACK_SIZE}"


def gpu_stack_row(model, repeats: int, device: str = "cuda", count: int = GPU_STACK_FRAMES) -> dict:
    """The GPU target's row: one call of ``detect`` on a stack of ``count`` frames (ten different
    images, repeated), diameter given, from the array in memory to the centre table."""
    config = synthetic.benchmark_config("fluorescent", 0.5, shape=(GPU_STACK_SIZE, GPU_STACK_SIZE), radius=6.0)
    frames = [synthetic.synthesize(config, seed=C.TEST_SEED_BASE + 95_000 + i).image for i in range(10)]
    stack = np.stack([frames[i % len(frames)] for i in range(count)])
    run = lambda: detect(stack, model=model, device=device, diameter=DIAMETER)  # noqa: E731
    found = len(run()) // count
    seconds = C.median_time(run, repeats, warmup=0)
    return {"size": GPU_STACK_KEY, "method": f"UNet detect d=12, {count}-frame stack end to end", "device": device,
            "s/image": seconds / count, "images/s": count / seconds, "MP/s": stack.size / 1e6 / seconds,
            "centres": found}


def precision_check(size: str, device: str, precision: str, reference: np.ndarray, found: np.ndarray) -> dict:
    """How far a lower precision moves the centres float32 finds on the same image."""
    pi, ti = match(found, reference, 1.0)
    shift = np.linalg.norm(found[pi] - reference[ti], axis=1) if len(pi) else np.zeros(0)
    unmatched = len(found) - len(pi) + len(reference) - len(ti)
    within = bool(unmatched == 0 and (shift <= PRECISION_SHIFT_PX).all())
    return {"size": size, "device": device, "precision": precision, "centres (float32)": len(reference),
            "gained or lost": unmatched, "max shift px": float(shift.max()) if len(shift) else 0.0,
            "p99 shift px": float(np.percentile(shift, 99)) if len(shift) else 0.0,
            f"share > {PRECISION_SHIFT_PX:g} px": float((shift > PRECISION_SHIFT_PX).mean()) if len(shift) else 0.0,
            "passes": within}


def add_compiled(add, image: np.ndarray, model, device: str, repeats: int) -> None:
    """torch.compile rows: the first call (compiling) apart from the timed ones."""
    network = prepare_network(model, torch.device(device), "auto", compile=True)
    start = time.perf_counter()
    found = len(detect(image, model=model, device=device, diameter=DIAMETER, compile=True))
    warmup = time.perf_counter() - start
    seconds = C.median_time(lambda: detect(image, model=model, device=device, diameter=DIAMETER, compile=True),
                            repeats, warmup=0)
    add(f"UNet detect d=12 torch.compile (warm-up {warmup:.0f} s; first network call {network.warmup_seconds or 0:.0f} s)",
        device, seconds, found)


if __name__ == "__main__":
    raise SystemExit(main())
