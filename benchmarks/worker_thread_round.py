"""A fine-tuning round in the main thread against the same round in a worker thread (as the docks run
rounds: napari workers), alternating in one process, with the OpenMP settings the package's import makes
(or the caller's own). libgomp cuts its spinning to 100 rounds once its threads outnumber the cores,
which a second thread running torch brings about; the package's OMP_WAIT_POLICY=ACTIVE beside
GOMP_SPINCOUNT=1000 keeps 1000 there (napari_particle_detect/__init__.py).

    .venv/bin/python benchmarks/worker_thread_round.py [--repeats 3]
    GOMP_SPINCOUNT=1000 .venv/bin/python benchmarks/worker_thread_round.py     # the package's setting before
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from dataclasses import replace
from pathlib import Path

import napari_particle_detect  # noqa: F401 - before torch: its OpenMP wait policy, as users run it

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402
import loop  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    C.add_common_args(parser)
    args = parser.parse_args()
    from napari_particle_detect.learning.finetune import FINE_TUNE
    from napari_particle_detect.learning.warm_up import prepare_training

    C.setup(args.threads)
    prepare_training()
    shipped = C.load(C.DEFAULT_UNET)
    config = replace(FINE_TUNE, threads=args.threads)
    if args.quick:  # a smoke run, as loop.py's: 40-step rounds
        config = replace(config, steps_per_epoch=40)
    loop.round_time_512(shipped, replace(config, steps_per_epoch=10))  # warm-up
    print(C.environment_line())
    print("OpenMP: " + ", ".join(f"{k}={os.environ.get(k)}" for k in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY", "KMP_BLOCKTIME")))
    mains, workers = [], []
    for _ in range(args.repeats):
        mains.append(loop.round_time_512(shipped, config)[0])
        out = {}
        worker = threading.Thread(target=lambda: out.update(seconds=loop.round_time_512(shipped, config)[0]))
        worker.start()
        worker.join()
        workers.append(out["seconds"])
        print(f"  round on two 512 px frames: main thread {mains[-1]:.1f} s, worker thread {workers[-1]:.1f} s", flush=True)
    ratio = sorted(workers)[len(workers) // 2] / sorted(mains)[len(mains) // 2]
    C.print_targets([("a round in a worker thread as quick as in the main thread (within 10 %)", ratio <= 1.1,
                      f"{ratio:.2f}x (medians)")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
