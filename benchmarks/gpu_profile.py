"""Where a GPU's detection time goes: the 100 x 512 x 512 stack of issue 18's 500 MP/s target, split.

speed.py judges the target on one ``detect`` call; this shows what bounds that call, so the next
session without a GPU knows what to change. Rows, each the median of a few calls after a warm-up:

- ``detect`` end to end with its defaults, then with other batch sizes and precisions;
- the network alone on batches of tiles already on the device (the ceiling the pipeline can reach);
- the stack's move to the device, and the decode alone on heatmaps already there;
- torch.profiler's busiest operations of one default ``detect`` call (host time and device time);
- a fine-tuning round's cost per training step (two round lengths apart) and its busiest operations;
- a prototype (this file only, not the pipeline) of detection done a chunk of frames at a time: one copy,
  one sort, one network call and one peak search per chunk, one copy back. It skips what a stack of
  equal, small frames does not need (tiles, bands, the look check, plateaus) and shows how far fewer
  and larger steps would take the pipeline.

    python3 benchmarks/gpu_profile.py                  # on a GPU (scripts/device_checks.sh)
    .venv/bin/python benchmarks/gpu_profile.py --device cpu --frames 4   # a dry run of the script here
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

from napari_particle_detect.detection.networks import prepare_network  # noqa: E402
from napari_particle_detect.detection.prediction import (  # noqa: E402
    DEFAULT_TILE, TILE_MARGIN, candidate_floor, detect, frames_table, predict_heatmap, steps_for,
)
from napari_particle_detect.detection.preprocessing import PERCENTILES  # noqa: E402
from napari_particle_detect.detection.sizing import rescale_centres_back, resampled_shape, scale_for_diameter  # noqa: E402
from napari_particle_detect.kinds.heatmap import STENCIL, refine  # noqa: E402
from napari_particle_detect.detection.stages import laid_out_for, run_network  # noqa: E402
from napari_particle_detect.detection.tiling import plan_tiles  # noqa: E402
from napari_particle_detect.synthetic import spheres as synthetic  # noqa: E402

SIZE = 512
DIAMETER = 12.0


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    C.add_model_args(p, resnet_default=None)
    p.add_argument("--device", default="cuda")
    p.add_argument("--frames", type=int, default=100)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--round-steps", type=int, nargs=2, default=(100, 400),
                   help="two round lengths whose difference gives a step's cost (0 0: no round)")
    C.add_common_args(p)
    return p.parse_args(argv)


def synchronised(device: torch.device, fn):
    def run():
        out = fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return out
    return run


def main(argv=None) -> int:
    args = parse_args(argv)
    C.setup(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print(f"# GPU profile: no CUDA GPU here (torch {torch.__version__}), nothing measured. Run it on a GPU "
              "(scripts/device_checks.sh), or dry-run the script here: --device cpu --frames 4")
        return 0
    if args.quick:  # a smoke run: a few frames, one timed call each, short rounds
        args.frames, args.repeats = min(args.frames, 4), 1
        args.round_steps = (2, 4) if args.round_steps and args.round_steps[1] > args.round_steps[0] else (0, 0)
    model = C.load(args.unet)
    config = synthetic.benchmark_config("fluorescent", 0.5, shape=(SIZE, SIZE), radius=6.0)
    frames = [synthetic.synthesize(config, seed=C.TEST_SEED_BASE + 95_000 + i).image for i in range(10)]
    stack = np.stack([frames[i % len(frames)] for i in range(args.frames)]).astype(np.float32)
    megapixels = stack.size / 1e6
    print("# GPU profile (napari_particle_detect benchmarks/gpu_profile.py)")
    print(C.environment_line())
    print(f"{args.frames} frames of {SIZE} x {SIZE} ({megapixels:.1f} MP), diameter {DIAMETER:g} px given; "
          f"median of {args.repeats} after one warm-up")
    rows = []

    def add(what: str, seconds: float, pixels: float = megapixels) -> None:
        rows.append({"what": what, "s": seconds, "MP/s": pixels / seconds})
        print(f"  {what}: {seconds:.4f} s", flush=True)

    for label, kwargs in [("detect, defaults", {}), ("detect, batch_size 8", {"batch_size": 8}),
                          ("detect, batch_size 64", {"batch_size": 64}),
                          ("detect, precision float32", {"precision": "float32"}),
                          ("detect, precision bfloat16", {"precision": "bfloat16"}),
                          ("detect, precision float16", {"precision": "float16"})]:
        run = synchronised(device, lambda k=kwargs: detect(stack, model=model, device=device, diameter=DIAMETER, **k))
        try:
            add(label, C.median_time(run, args.repeats))
        except Exception as exc:  # noqa: BLE001 - one variant failing leaves the others their rows
            print(f"  {label}: failed ({type(exc).__name__}: {exc})", flush=True)
    # What the residual peaks (heatmap.ResidualRule; split_close, off by default) cost here.
    add("detect, defaults and split_close",
        C.median_time(synchronised(device, lambda: detect(stack, model=model, device=device, diameter=DIAMETER,
                                                          split_close=True)), args.repeats))

    # The frames as the network sees them: enlarged to the model's working diameter first.
    working, _ = resampled_shape((SIZE, SIZE), scale_for_diameter(DIAMETER, model.card.canonical_diameter))
    window = plan_tiles(working, 8, DEFAULT_TILE, TILE_MARGIN).window
    for precision in ("float32", "bfloat16"):
        network = prepare_network(model, device, precision)
        for batch in (8, 32, 100):
            count = min(batch, args.frames)
            x = torch.randn(count, 1, *window, device=device)
            x = laid_out_for(network, x)

            def forward(n=network, x=x):
                with torch.inference_mode():
                    return n(x)
            add(f"network alone, {precision}, batch {count} of {window[0]}x{window[1]} windows (MP/s of frames' pixels)",
                C.median_time(synchronised(device, forward), args.repeats), count * SIZE * SIZE / 1e6)

    reference = detect(stack, model=model, device=device, diameter=DIAMETER)
    network = prepare_network(model, device)
    for chunk in (25, 100):
        run = synchronised(device, lambda c=chunk: chunked_detect(model, network, stack, device, DIAMETER, c))
        found = run()
        add(f"prototype: {chunk} frames a step ({len(found)} centres; detect {len(reference)})",
            C.median_time(run, args.repeats))
    add("stack to the device (float32)", C.median_time(synchronised(device, lambda: torch.from_numpy(stack).to(device)),
                                                       args.repeats))
    # Real heatmaps of the ten distinct frames, decoded as the pipeline does, one frame at a time.
    network = prepare_network(model, device)
    steps = steps_for(device)
    heat = []
    for frame in frames:
        tensor = torch.from_numpy(frame.astype(np.float32)).to(device)
        h = predict_heatmap(network, (tensor - tensor.mean()) / tensor.std(), device)
        heat.append(h if steps.device.type == "cuda" else h.cpu().numpy())
    threshold, spacing = candidate_floor(model, model.card.threshold), model.card.min_distance

    def decode_all():
        for i in range(args.frames):
            steps.maxima_and_stencils(heat[i % len(heat)], threshold, spacing, (0, SIZE))
    add("peaks and stencils alone, heatmaps on the device, frame by frame",
        C.median_time(synchronised(device, decode_all), args.repeats))

    C.print_table(pd.DataFrame(rows).set_index("what"), "Seconds and MP/s (of the stack's pixels, or of the batch's)")

    activities = [torch.profiler.ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        synchronised(device, lambda: detect(stack, model=model, device=device, diameter=DIAMETER))()
    averages = prof.key_averages()
    print("\n## One default detect call: busiest operations by host time\n")
    print(averages.table(sort_by="self_cpu_time_total", row_limit=25, max_name_column_width=60))
    if device.type == "cuda":
        print("\n## The same call: busiest operations by device time\n")
        print(averages.table(sort_by="self_cuda_time_total", row_limit=20, max_name_column_width=60))
    if args.round_steps and args.round_steps[1] > args.round_steps[0]:
        profile_round(model, device, args.round_steps, activities)
    return 0


def chunked_detect(model, network, stack: np.ndarray, device: torch.device, diameter: float,
                   chunk: int) -> pd.DataFrame:
    """Detection a chunk of frames at a time, with the pipeline's arithmetic (percentile
    normalisation, bilinear enlargement, the network, local maxima, the log-parabola refinement)."""
    scale = scale_for_diameter(diameter, model.card.canonical_diameter)
    if scale < 1.0:
        raise ValueError("the prototype only enlarges")
    (height, width), factors = resampled_shape(tuple(stack.shape[1:]), scale)
    threshold, spacing = model.card.threshold, int(model.card.min_distance)
    host = torch.from_numpy(np.ascontiguousarray(stack, dtype=np.float32))
    offsets = torch.tensor(STENCIL, device=device)
    parts = []
    for start in range(0, len(stack), chunk):
        x = host[start : start + chunk]
        x = (x.pin_memory() if device.type == "cuda" else x).to(device, non_blocking=True)
        if scale != 1.0:  # enlarged first, then normalised, as the pipeline does
            x = torch.nn.functional.interpolate(x[:, None], size=(height, width), mode="bilinear", align_corners=False)[:, 0]
        count = len(x)
        ordered = x.reshape(count, -1).sort(dim=1).values
        last = ordered.shape[1] - 1
        bounds = []
        for q in PERCENTILES:
            position = last * q / 100.0
            low = int(np.floor(position))
            a, b = ordered[:, low].double(), ordered[:, min(low + 1, last)].double()
            bounds.append(a + (b - a) * (position - low))
        lo, hi = bounds
        x = (x - lo.float()[:, None, None]) / torch.clamp(hi - lo, min=1e-12).float()[:, None, None]
        heat = run_network(network, x[:, None], device)
        pooled = torch.nn.functional.max_pool2d(heat[:, None], 2 * spacing + 1, stride=1, padding=spacing)[:, 0]
        peaks = torch.nonzero((heat == pooled) & (heat > threshold))
        padded = torch.nn.functional.pad(heat, (1, 1, 1, 1), value=float("nan"))
        values = padded[peaks[:, :1].T, peaks[:, 1:2].T + 1 + offsets[:, :1], peaks[:, 2:].T + 1 + offsets[:, 1:]]
        both = torch.cat([peaks.T.double(), values.double()]).cpu().numpy()
        centres = rescale_centres_back(refine(both[1:3].T.astype(np.intp), both[3:]), factors)
        frames = both[0].astype(int) + start
        parts.extend((int(f), centres[frames == f], both[3][frames == f]) for f in np.unique(frames))
    return frames_table(parts)


def profile_round(model, device: torch.device, steps: tuple[int, int], activities: list) -> None:
    """What one training step of a supervised round (loop.py's two 512 px frames) costs, from two
    round lengths, and the busiest operations of the shorter round."""
    from dataclasses import replace

    import loop
    from napari_particle_detect.learning.finetune import FINE_TUNE

    config = replace(FINE_TUNE, device=str(device), unlabelled_frames=0)
    loop.round_time_512(model, replace(config, steps_per_epoch=5))  # warm-up
    short, long = (loop.round_time_512(model, replace(config, steps_per_epoch=n))[0] for n in steps)
    print(f"\n## Round: {steps[0]} steps {short:.2f} s, {steps[1]} steps {long:.2f} s: "
          f"{(long - short) / (steps[1] - steps[0]) * 1e3:.2f} ms a step (batch {config.batch_size} of {config.crop} px, "
          f"precision {config.precision})\n")
    with torch.profiler.profile(activities=activities) as prof:
        loop.round_time_512(model, replace(config, steps_per_epoch=steps[0]))
    averages = prof.key_averages()
    print(averages.table(sort_by="self_cpu_time_total", row_limit=25, max_name_column_width=60))
    if device.type == "cuda":
        print(averages.table(sort_by="self_cuda_time_total", row_limit=12, max_name_column_width=60))


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"\n(done in {time.perf_counter() - started:.0f} s)")
    sys.exit(code)
