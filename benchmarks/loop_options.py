"""What a fine-tuning round should train, measured: one round on two corrected frames, each option
changed alone from the chosen settings (``finetune.FINE_TUNE``), F1 on frames nobody corrected.

Domains and the simulated annotator are ``loop.py``'s. Columns: F1 at 3 px on the unseen frames
(the truth: the generator's, or for bulk water the user's criterion, trackpy's walkthrough
result), the held-out F1 the round reported for itself and its parent, whether a criterion was
learned, and the round's wall and CPU seconds with ``--threads`` torch threads.

    .venv/bin/python benchmarks/loop_options.py                   # about 25 min on 2 idle cores
    .venv/bin/python benchmarks/loop_options.py --quick
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402
import loop  # noqa: E402

from napari_particle_detect.learning.finetune import FINE_TUNE, fine_tune  # noqa: E402
from napari_particle_detect.detection.prediction import detect  # noqa: E402

OPTIONS = {
    "chosen (FINE_TUNE)": {},
    "decoder only": {"trainable": "decoder"},
    "half synthetic": {"synthetic_fraction": 0.5},
    "100 steps": {"steps_per_epoch": 100},
    "400 steps": {"steps_per_epoch": 400},
    "lr 5e-4": {"learning_rate": 5e-4},
    "lr 4e-3": {"learning_rate": 4e-3},
    "crops anywhere (no focus)": {"focus_share": 0.0},
    "no criterion": {"learn_criterion": False},
    "float32 forward": {"precision": "float32"},
    "bfloat16 forward": {"precision": "bfloat16"},
    # A GPU's round (finetune.GPU_ROUND_STEPS) and the same crops in fewer, larger steps, which a GPU
    # runs in about the same time each (benchmarks/results/round_time_gpu_h200.txt).
    "2000 steps of 8 crops": {"steps_per_epoch": 2000},
    "1000 steps of 16 crops": {"steps_per_epoch": 1000, "batch_size": 16},
    "500 steps of 32 crops": {"steps_per_epoch": 500, "batch_size": 32},
    "500 steps of 32 crops, lr 4e-3": {"steps_per_epoch": 500, "batch_size": 32, "learning_rate": 4e-3},
}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    C.add_model_args(p, resnet_default=None)
    C.add_common_args(p)
    p.add_argument("--domains", nargs="+", default=["dim_small", "brightfield_rims", "bulk_water"],
                   choices=[*loop.DOMAINS, "bulk_water"])
    p.add_argument("--data", type=Path, default=loop.DATA)
    p.add_argument("--options", nargs="+", default=list(OPTIONS), choices=list(OPTIONS))
    p.add_argument("--seeds", type=int, default=1,
                   help="rounds per option, each with its own seed (crops, augmentation), reported with their "
                        "mean: one seed's F1 moves by about 0.002 with any change of arithmetic (default 1)")
    args = p.parse_args(argv)
    C.setup(args.threads)
    print(C.environment_line())
    shipped = C.load(args.unet)
    base = replace(FINE_TUNE, threads=args.threads)
    if args.quick:
        base = replace(base, steps_per_epoch=20)
    rows = []
    for key in args.domains:
        domain = (loop.bulk_water_domain(args.data) if key == "bulk_water"
                  else loop.synthetic_domain(key, 4 if args.quick else 8))
        domain.diameter, _ = loop.user_diameter(domain, shipped)
        corrected = {}
        table = detect(domain.frames[:2], shipped, "cpu", diameter=domain.diameter)
        for frame in (0, 1):
            corrected[frame], _ = loop.correct(loop.centres_of(table, frame)[0], domain.truth[frame])
        examples = loop.examples_for(domain, shipped, corrected)
        shipped_f1 = loop.unseen_f1(shipped, domain)
        for name in args.options:
            for seed in range(args.seeds):
                config = replace(base, **OPTIONS[name], seed=base.seed + seed)
                if args.quick and "steps_per_epoch" in OPTIONS[name]:
                    config = replace(config, steps_per_epoch=OPTIONS[name]["steps_per_epoch"] // 10)
                wall, cpu = time.monotonic(), time.process_time()
                result = fine_tune(shipped, examples, config, "cpu")
                wall, cpu = time.monotonic() - wall, time.process_time() - cpu
                rows.append({"domain": key, "option": name, "seed": config.seed, "shipped F1": shipped_f1,
                             "unseen F1": loop.unseen_f1(result.model, domain),
                             "held-out parent": result.parent_score.f1 if result.parent_score else float("nan"),
                             "held-out round": result.score.f1 if result.score else float("nan"),
                             "criterion": result.model.criterion is not None, "wall s": wall, "cpu s": cpu})
                print(f"  {rows[-1]}", flush=True)
    table = pd.DataFrame(rows)
    if args.seeds > 1:
        table = table.groupby(["domain", "option"], sort=False).agg(
            {"seed": "count", "shipped F1": "mean", "unseen F1": ["mean", "min", "max"], "held-out parent": "mean",
             "held-out round": "mean", "criterion": "mean", "wall s": "mean", "cpu s": "mean"})
        table.columns = ["rounds" if c == ("seed", "count") else c[0] if c[1] == "mean" else f"{c[0]} {c[1]}"
                         for c in table.columns]
        C.print_table(table, f"One round on two corrected frames, one option changed at a time; means over "
                             f"{args.seeds} seeds")
    else:
        C.print_table(table.drop(columns="seed").set_index(["domain", "option"]),
                      "One round on two corrected frames, one option changed at a time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
