"""How long a fine-tuning round takes: loop.py's timing rows alone, repeated, on a CPU or a GPU.

The rounds are loop.py's (``loop.round_time_512``): two corrected 512 x 512 frames in dim_small optics,
and the semi-supervised round on a 24-frame stack of them (2 corrected, the teacher labelling
``unlabelled_frames`` of the other 22). Each round runs with the defaults of the device it runs on
(``finetune.round_defaults``: 200 steps of 8 crops and no unreviewed frames on a CPU, 500 steps of 32
crops at twice the learning rate and 8 unreviewed frames on a GPU), after one short warm-up round, so the first
call's set-up is not counted.

With ``--compare PATH`` the same rounds of the package found at PATH (a checkout of another commit)
alternate with this one's in fresh processes, so both see the same machine at the same moments.

    .venv/bin/python benchmarks/round_time.py --repeats 3                 # this checkout, CPU
    .venv/bin/python benchmarks/round_time.py --compare /tmp/old          # against another checkout
    python3 benchmarks/round_time.py --device cuda                        # on a GPU (scripts/device_checks.sh)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

# The environment as given, before the package's import sets torch's OpenMP wait policy in it: each
# checkout compared sets its own.
ORIGINAL_ENVIRONMENT = dict(os.environ)
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402

CPU_TARGET_S = 15.0  # issue 18: two frames of 512 x 512 on an idle 2-core CPU
CPU_SEMI_TARGET_S = 60.0  # issue 17: the 24-frame stack on the same CPU
GPU_TARGET_S = 10.0  # issue 17: the 24-frame stack on a GPU
SEMI_UNLABELLED = 8  # loop.py's --unlabelled-frames on a CPU, which defaults to none


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    C.add_model_args(p, resnet_default=None)
    C.add_common_args(p)
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--repeats", type=int, default=1, help="timed rounds of each kind (default 1)")
    p.add_argument("--rounds", nargs="+", default=["supervised", "semi"], choices=["supervised", "semi"])
    p.add_argument("--precision", default=None, choices=["auto", "float32", "bfloat16"],
                   help="the rounds' training precision (default FINE_TUNE's: auto)")
    p.add_argument("--compare", type=Path, default=None,
                   help="a checkout of another commit whose rounds alternate with this one's")
    p.add_argument("--rest", type=float, default=0.0,
                   help="with --compare: seconds of nothing before each run. This 2-core VM slows down under "
                        "sustained load (back-to-back rounds took 17-18 s, the same rounds after a minute's rest 10-13 s)")
    p.add_argument("--round-threads", default=None,
                   help="the round's own threads: a number, or 'auto' for what the CPU's load leaves free (the dock's "
                        "default, detection/threads.py); default: --threads")
    p.add_argument("--steps", type=int, default=None,
                   help="the rounds' training steps (default the device's: finetune.round_defaults)")
    p.add_argument("--batch-size", type=int, default=None, help="crops per step (default FINE_TUNE's)")
    p.add_argument("--label", default="this checkout", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def time_rounds(args: argparse.Namespace) -> list[tuple[str, float, float, float]]:
    import torch

    import loop
    from napari_particle_detect.learning.finetune import FINE_TUNE, round_defaults

    C.setup(args.threads)
    shipped = C.load(args.unet)
    device = torch.device(args.device)
    threads = args.threads if args.round_threads is None else (None if args.round_threads == "auto"
                                                                 else int(args.round_threads))
    defaults = round_defaults(device)
    config = replace(FINE_TUNE, threads=threads, device=args.device, **defaults)
    if args.precision:
        config = replace(config, precision=args.precision)
    if args.steps:
        config = replace(config, steps_per_epoch=args.steps)
    if args.batch_size:
        config = replace(config, batch_size=args.batch_size)
    print(f"  {args.label}: {config.steps_per_epoch} steps of {config.batch_size} crops, precision {config.precision}",
          flush=True)
    configs = {"supervised": replace(config, unlabelled_frames=0),
               "semi": replace(config, unlabelled_frames=defaults["unlabelled_frames"] or SEMI_UNLABELLED)}
    loop.round_time_512(shipped, replace(configs["supervised"], steps_per_epoch=10))  # warm-up
    out = []
    for _ in range(args.repeats):
        for name in args.rounds:
            total, share, gain = loop.round_time_512(shipped, configs[name])
            out.append((name, total, share, gain))
            print(f"  {args.label}: {name} round {total:.1f} s, training {share:.0%}, held-out gain {gain:+.3f}",
                  flush=True)
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.compare is None:
        print(C.environment_line())
        rows = time_rounds(args)
        targets = []
        for name, total, _, _ in rows:
            if args.device == "cuda":
                if name == "semi":
                    targets.append((f"GPU: semi-supervised round on a 24-frame 512^2 stack <= {GPU_TARGET_S:g} s",
                                    total <= GPU_TARGET_S, f"{total:.1f} s"))
            elif name == "supervised":
                targets.append((f"CPU: round on 2 frames of 512^2 <= {CPU_TARGET_S:g} s (idle)", total <= CPU_TARGET_S,
                                f"{total:.1f} s"))
            else:
                targets.append((f"CPU: semi round on a 24-frame 512^2 stack <= {CPU_SEMI_TARGET_S:g} s (idle)",
                                total <= CPU_SEMI_TARGET_S, f"{total:.1f} s"))
        C.print_targets(targets)
        return 0
    # Alternate fresh processes of the two checkouts, one timed round of each kind per turn.
    here = Path(__file__).resolve().parent.parent
    common = ["--device", args.device, "--threads", str(args.threads), "--rounds", *args.rounds,
              "--unet", str(args.unet.resolve())] + (["--precision", args.precision] if args.precision else [])
    for _ in range(args.repeats):
        for root, label in ((args.compare.resolve(), str(args.compare)), (here, "this checkout")):
            time.sleep(args.rest)
            # The benchmark code is this checkout's; the package is the one at root.
            subprocess.run([sys.executable, str(Path(__file__).resolve()), *common, "--label", label], cwd=root,
                           env={**ORIGINAL_ENVIRONMENT, "PYTHONPATH": str(root)}, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
