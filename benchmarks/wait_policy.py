"""How torch's OpenMP threads should wait for work: one training step's time under each policy, on an
idle machine and beside busy neighbours, each case in a fresh process (the policy is read when torch loads).

A step is the fine-tuning round's (8 crops of 64 px, the shipped UNet, channels-last, the round's
forward precision). Neighbours: ``yes`` on one core, and a torch job with two threads of its own
(waiting passively) doing matrix products. The package's choice (napari_particle_detect/__init__.py)
is the row ``ACTIVE + GOMP_SPINCOUNT=1000`` (ACTIVE keeps the 1000 rounds when libgomp's threads outnumber the
cores: results/worker_thread_round.txt); ``GOMP_SPINCOUNT=1000`` alone was: about the default's speed when idle,
about passive's beside others.

    .venv/bin/python benchmarks/wait_policy.py            # about 2 minutes
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

POLICIES = {
    "OMP_WAIT_POLICY=PASSIVE": {"OMP_WAIT_POLICY": "PASSIVE"},
    # libgomp's own default spin count, given explicitly: with neither variable set the package's import sets its own.
    "libgomp default": {"GOMP_SPINCOUNT": "300000"},
    "GOMP_SPINCOUNT=1000 (the package's until 2026-12-04)": {"GOMP_SPINCOUNT": "1000"},
    "ACTIVE + GOMP_SPINCOUNT=1000 (the package's)": {"GOMP_SPINCOUNT": "1000", "OMP_WAIT_POLICY": "ACTIVE",
                                                     "KMP_BLOCKTIME": "0"},
    "GOMP_SPINCOUNT=10000": {"GOMP_SPINCOUNT": "10000"},
}
STEP = r"""
import copy, sys, time
import napari_particle_detect, torch
from napari_particle_detect.detection.devices import training_dtype
from napari_particle_detect.learning.training import forward_in, training_layout
from napari_particle_detect.models import load_model
torch.set_num_threads(2)
device = torch.device("cpu")
net = training_layout(copy.deepcopy(load_model(None).network).train(), device)
opt = torch.optim.Adam(net.parameters(), lr=1e-4)
x, t = torch.rand(8, 1, 64, 64), torch.rand(8, 1, 64, 64) * 0.1
dtype = training_dtype("auto", device)
def step():
    opt.zero_grad(set_to_none=True)
    loss = ((forward_in(net, x, dtype) - t) ** 2).mean()
    loss.backward()
    opt.step()
for _ in range(5):
    step()
start = time.perf_counter()
for _ in range(int(sys.argv[1])):
    step()
print((time.perf_counter() - start) / int(sys.argv[1]) * 1000)
"""
BUSY_TORCH = r"""
import time, torch
torch.set_num_threads(2)
a = torch.rand(512, 512)
while True:
    for _ in range(50):
        a = torch.tanh(a @ a * 0.001)
"""


def step_ms(policy: dict, steps: int) -> float:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    out = subprocess.run([sys.executable, "-c", STEP, str(steps)], env={**env, **policy}, capture_output=True,
                         text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=30)
    args = p.parse_args(argv)
    print(f"ms per training step (2 torch threads, {os.cpu_count()} CPUs), a fresh process per cell")
    neighbours = {
        "idle": None,
        "beside `yes`": ["yes"],
        "beside a 2-thread torch job": [sys.executable, "-c", BUSY_TORCH],
    }
    table = {name: {} for name in POLICIES}
    for where, command in neighbours.items():
        busy = None
        if command:
            env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
            busy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            time.sleep(2)
        try:
            for name, policy in POLICIES.items():
                table[name][where] = step_ms(policy, args.steps)
                print(f"  {where}, {name}: {table[name][where]:.1f} ms", flush=True)
        finally:
            if busy is not None:
                busy.kill()
                busy.wait()
    print(f"\n{'policy':40s}" + "".join(f"{w:>30s}" for w in neighbours))
    for name, row in table.items():
        print(f"{name:40s}" + "".join(f"{row[w]:30.1f}" for w in neighbours))
    return 0


if __name__ == "__main__":
    sys.exit(main())
