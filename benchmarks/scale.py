"""Scale: files per second on 1 and 2 worker processes, peak memory against stack length and frame
size, and throughput of each prediction stage (on a GPU too, when there is one).

1. Files per second: the same N synthetic images detected by ``distributed.detect_files`` on a
   LocalCluster of 1 and of 2 worker processes (torch threads split so the workers use every core
   once), and in this process for reference; cluster start-up is timed apart.
2. Peak resident memory (RSS) of a fresh process detecting a lazily read TIFF stack of 10 and of
   1,000 frames, and a single big image (the 16384² case with ``--big 16384``), each beside the
   size of one frame: memory should follow the frame, not the number of frames.
3. Stages, in megapixels of the original image per second: prepare (read, resample, normalise),
   network (batches of tiles), decode (stitch, peaks, refine), and end to end: batched across
   frames (``iter_detect``) against frame by frame (``detect_frame``, one tile per call), same run.

    .venv/bin/python benchmarks/scale.py              # all three on the CPU (and the GPU if present)
    .venv/bin/python benchmarks/scale.py --quick      # fewer files and frames
    .venv/bin/python benchmarks/scale.py --big 16384  # also the 16384² image (minutes on a CPU)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile
import napari_particle_detect  # noqa: F401 - before torch: its OpenMP wait policy, as users run it
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

from napari_particle_detect.synthetic import spheres as synthetic
from napari_particle_detect.files.distributed import (
    detect_files,
    local_client,
    threads_per_worker,
)
from napari_particle_detect.files.file_detection import DetectOptions, detect_file
from napari_particle_detect.detection.prediction import (
    TILE_MARGIN,
    detect_frame,
    frame_result,
    iter_detect,
    prepare_network,
    steps_for,
)
from napari_particle_detect.detection.stages import auto_batch_size, prepare_frame, run_network
from napari_particle_detect.detection.tiling import BandDecoder, plan_tiles

DIAMETER = 12.0
WORKER_RATIO_TARGET = 1.7


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    C.add_model_args(p, resnet_default=None)
    p.add_argument("--files", type=int, default=None, help="files for the worker comparison (default 24, quick 8)")
    p.add_argument("--file-size", type=int, default=512, help="side of those files in px (default 512)")
    p.add_argument("--frames", type=int, nargs="+", default=None, help="stack lengths for peak RSS (default 10 1000)")
    p.add_argument("--frame-size", type=int, default=256, help="side of those frames in px (default 256)")
    p.add_argument("--big", type=int, default=4096, help="side of the single big image for peak RSS (default 4096)")
    p.add_argument("--big-model", default=None, metavar="MODEL",
                   help="model for the big image ('narrow': an untrained UNet of 4-8-16-32 channels, whose "
                        "activations are small, so what is measured is the image's own buffers, in minutes)")
    p.add_argument("--stage-frames", type=int, default=10, help="frames of the stage-timing stack (default 10)")
    p.add_argument("--stage-sizes", type=int, nargs="+", default=None,
                   help="frame sides for the stage timings (default 512 2048; quick 256 512)")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats per stage after a warm-up (default 3)")
    p.add_argument("--skip", nargs="*", default=[], choices=("workers", "memory", "stages"))
    p.add_argument("--child-rss", nargs=2, metavar=("IMAGE", "MODEL"), help=argparse.SUPPRESS)
    C.add_common_args(p)
    return p.parse_args(argv)


def synthetic_image(size: int, seed: int) -> np.ndarray:
    config = synthetic.benchmark_config("fluorescent", 0.5, shape=(size, size), radius=6.0)
    return synthetic.synthesize(config, seed=C.TEST_SEED_BASE + 95_000 + seed).image


# ------------------------------------------------------------------------------------------------
# 1. Files per second


def files_per_second(args, model_path: Path, folder: Path) -> pd.DataFrame:
    n = args.files or (8 if args.quick else 24)
    paths = []
    for i in range(n):
        path = folder / f"image_{i:03d}.tif"
        tifffile.imwrite(path, synthetic_image(args.file_size, i % 4))
        paths.append(path)
    options = DetectOptions(diameter=DIAMETER, device="cpu")
    rows = []

    def timed(label: str, workers: int, client=None, threads: int | None = None) -> None:
        out = folder / f"out-{label}"
        opts = DetectOptions(**{**options.__dict__, "threads": threads})
        start = time.perf_counter()
        summary = detect_files(paths, out, opts, model_path, client)
        seconds = time.perf_counter() - start
        assert summary.ok and len(summary.done) == n, summary.failed
        rows.append({"run": label, "workers": workers, "torch threads each": threads or torch.get_num_threads(),
                     "files": n, "seconds": seconds, "files/s": n / seconds})

    detect_file(paths[0], options, model_path)  # warm this process (model, network) like the workers below
    timed("in this process", 0)
    for workers in (1, 2):
        start = time.perf_counter()
        client = local_client(workers)
        try:
            client.run(_warm_worker, str(model_path), str(paths[0]))  # start-up and model load, timed apart
            started = time.perf_counter() - start
            timed(f"LocalCluster({workers})", workers, client, threads_per_worker(workers))
            rows[-1]["start-up s"] = started
        finally:
            cluster = client.cluster
            client.close()
            cluster.close()
    return pd.DataFrame(rows).set_index("run")


def _warm_worker(model_path: str, image: str) -> None:
    detect_file(image, DetectOptions(diameter=DIAMETER, device="cpu", threads=1), model_path)


# ------------------------------------------------------------------------------------------------
# 2. Peak memory


def peak_rss(image: Path, model_path: Path) -> dict:
    """Peak RSS and RSS once done (MB) of a fresh process that detects in ``image`` (read lazily) and
    writes the CSV."""
    done = subprocess.run(
        [sys.executable, __file__, "--child-rss", str(image), str(model_path)], capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(C.REPO), os.environ.get("PYTHONPATH", "")])},
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "child failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child_rss(image: str, model_path: str) -> None:
    torch.set_num_threads(2)
    out = Path(tempfile.mkdtemp()) / "centres.csv"
    start = time.perf_counter()
    result = detect_file(image, DetectOptions(diameter=DIAMETER, device="cpu"), model_path, out)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    import psutil

    print(json.dumps({"peak_rss_mb": peak, "end_rss_mb": psutil.Process().memory_info().rss / 2**20,
                      "seconds": time.perf_counter() - start, "centres": result.record["centres"]}))


def memory_table(args, model_path: Path, folder: Path) -> pd.DataFrame:
    rows = []
    baseline = folder / "one.tif"
    tifffile.imwrite(baseline, synthetic_image(64, 0))
    process = peak_rss(baseline, model_path)
    import_only = process["peak_rss_mb"]
    rows.append({"input": "64x64 image (the process itself: python, torch, model)", "frame MB": 64 * 64 * 2 / 1e6,
                 "peak RSS MB": import_only, "RSS when done MB": process["end_rss_mb"]})
    frame = synthetic_image(args.frame_size, 1)
    for n in args.frames or ([10, 100] if args.quick else [10, 1000]):
        path = folder / f"stack_{n}.tif"
        with tifffile.TiffWriter(path) as tif:
            for _ in range(n):
                tif.write(frame, photometric="minisblack", contiguous=True)
        start = time.perf_counter()
        rss = peak_rss(path, model_path)
        rows.append({"input": f"{n}-frame stack of {args.frame_size}x{args.frame_size} (TIFF, lazy)",
                     "frame MB": frame.nbytes / 1e6, "peak RSS MB": rss["peak_rss_mb"],
                     "RSS when done MB": rss["end_rss_mb"], "seconds": time.perf_counter() - start})
        path.unlink()
    if args.big:
        tiles = synthetic_image(1024, 2)
        reps = -(-args.big // 1024)
        big = np.tile(tiles, (reps, reps))[: args.big, : args.big]
        path = folder / "big.tif"
        tifffile.imwrite(path, big)
        del big
        start = time.perf_counter()
        big_model = narrow_model(folder) if args.big_model == "narrow" else Path(args.big_model or model_path)
        rss = peak_rss(path, big_model)
        label = f"one {args.big}x{args.big} image (uint16)" + (", narrow untrained UNet" if args.big_model == "narrow" else "")
        rows.append({"input": label, "frame MB": args.big**2 * 2 / 1e6, "peak RSS MB": rss["peak_rss_mb"],
                     "RSS when done MB": rss["end_rss_mb"], "seconds": time.perf_counter() - start})
        path.unlink()
    table = pd.DataFrame(rows)
    table["above the process MB"] = table["peak RSS MB"] - import_only
    return table.set_index("input")


def narrow_model(folder: Path) -> Path:
    """An untrained UNet of 4-8-16-32 channels, its threshold above anything it outputs (no peaks:
    the memory measured is the image's and the heatmap's, not a list of random peaks)."""
    from dataclasses import replace

    import torch

    from napari_particle_detect.models import (
        DetectorModel,
        build_network,
        load_model,
        save_model,
    )

    shipped = load_model(None)
    card = replace(shipped.card, channels=(4, 8, 16, 32), threshold=0.999)
    network = build_network(card)
    with torch.no_grad():
        network.head.bias.fill_(-20.0)  # sigmoid output near 0 everywhere
    path = folder / "narrow.pt"
    save_model(DetectorModel(network, card), path)
    return path


# ------------------------------------------------------------------------------------------------
# 3. Stages


def stage_table(args, model, device: torch.device, sizes: list[int]) -> pd.DataFrame:
    rows = []
    network = prepare_network(model, device)
    steps = steps_for(device)
    scale = model.card.canonical_diameter / DIAMETER
    n = args.stage_frames

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    def best(fn, repeats: int = args.repeats) -> float:
        fn()
        sync()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            sync()
            times.append(time.perf_counter() - start)
        return float(np.median(times))

    def one_size(size: int) -> None:
        stack = np.stack([synthetic_image(size, i % 4) for i in range(n)])
        mp = n * size * size / 1e6
        prepared = [prepare_frame(stack, i, steps, scale, False, "bench") for i in range(n)]
        plan = plan_tiles(tuple(prepared[0].image.shape), network.stride, 1024, TILE_MARGIN)
        windows = [steps.window(p.image, t.y, t.x, plan.window, plan.pad_mode) for p in prepared for t in plan.tiles]
        batch = auto_batch_size(plan.window, device)
        thr, md = model.card.threshold, model.card.min_distance

        def network_only() -> None:
            for i in range(0, len(windows), batch):
                run_network(network, steps.batch(windows[i : i + batch]), device)

        outputs = [steps.outputs(run_network(network, steps.batch([w]), device))[0] for w in windows]

        def decode_only() -> None:
            tiles = iter(outputs)
            for p in prepared:
                decoder = BandDecoder(steps, plan, thr, md)
                for t in plan.tiles:
                    decoder.add(t, next(tiles))
                frame_result(model, p, decoder, scale, False, thr)

        def batched() -> None:
            for _ in iter_detect(stack, model, device, diameter=DIAMETER, heatmaps=False):
                pass

        def frame_by_frame() -> None:
            for i in range(n):
                detect_frame(model, stack[i], device, scale=scale, batch_size=1, network=network, heatmap=False)

        def prepare_only() -> None:
            for i in range(n):
                prepare_frame(stack, i, steps, scale, False, "bench")

        for stage, fn in (("prepare", prepare_only), (f"network (batches of {batch} tiles)", network_only),
                          ("decode", decode_only), ("end to end, batched across frames (iter_detect)", batched),
                          ("end to end, frame by frame (detect_frame, 1 tile a call)", frame_by_frame)):
            seconds = best(fn)
            rows.append({"frames": f"{n} x {size}x{size}", "stage": stage, "device": device.type,
                         "s/frame": seconds / n, "MP/s": mp / seconds})
    for size in sizes:
        one_size(size)
    return pd.DataFrame(rows).set_index(["frames", "stage", "device"])


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child_rss:
        child_rss(*args.child_rss)
        return 0
    C.setup(args.threads)
    model_path = Path(args.unet)
    model = C.load(model_path)
    print("# Scale (napari_particle_detect benchmarks/scale.py)")
    print(C.environment_line())
    print(f"cores usable: {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()}; "
          f"fluorescent, area fraction 0.5, diameter {DIAMETER:g} px given")
    targets = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if "workers" not in args.skip:
            table = files_per_second(args, model_path, folder)
            C.print_table(table, f"Files per second ({args.file_size}x{args.file_size} images)")
            ratio = table.loc["LocalCluster(2)", "files/s"] / table.loc["LocalCluster(1)", "files/s"]
            targets.append((f"2 workers >= {WORKER_RATIO_TARGET:g}x the files/s of 1", bool(ratio >= WORKER_RATIO_TARGET),
                            f"{ratio:.2f}x"))
        if "memory" not in args.skip:
            table = memory_table(args, model_path, folder)
            C.print_table(table, "Peak memory (RSS of a fresh process; frames read lazily)", "{:.1f}")
            stacks = table[table.index.str.contains("-frame stack")]
            # The peak comes with the first frame (threads starting, the look check beside the network)
            # and varies run to run by a few hundred MB; what must not grow is the memory held per frame.
            grow = stacks["RSS when done MB"].iloc[-1] - stacks["RSS when done MB"].iloc[0]
            targets.append(("memory held independent of the number of frames (RSS when done)", bool(grow < 50),
                            f"{stacks['RSS when done MB'].iloc[0]:.0f} -> {stacks['RSS when done MB'].iloc[-1]:.0f} MB "
                            f"(peaks {stacks['peak RSS MB'].iloc[0]:.0f} -> {stacks['peak RSS MB'].iloc[-1]:.0f} MB)"))
            big = table[table.index.str.startswith("one ")]
            if len(big):
                row = big.iloc[0]
                targets.append((f"{big.index[0]}: peak above the process <= 6x the image's own size",
                                bool(row["above the process MB"] <= 6 * row["frame MB"]),
                                f"{row['above the process MB']:.0f} MB for a {row['frame MB']:.0f} MB image"))
    if "stages" not in args.skip:
        sizes = args.stage_sizes or ([256, 512] if args.quick else [512, 2048])
        tables = [stage_table(args, model, torch.device("cpu"), sizes)]
        if torch.cuda.is_available():
            tables.append(stage_table(args, C.load(model_path), torch.device("cuda"), sizes))
        table = pd.concat(tables)
        C.print_table(table, "Stages, in megapixels of the original image per second")
        if not torch.cuda.is_available():
            targets.append(("GPU stage and end-to-end MP/s", None, "not measured: no CUDA device here"))
    C.print_targets(targets)
    print(f"\n(total {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
