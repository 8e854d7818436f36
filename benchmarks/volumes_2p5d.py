"""3D context for volumes (issue 20, item 3): the small 3D UNet against a 2.5D network (the project's
2D UNet taking K neighbouring working-grid slices as channels, predicting that slice of the same 3D
Gaussian heatmap, decoded in 3D), both trained from scratch for the same wall time on the same data.

    nice -n 19 .venv/bin/python benchmarks/volumes_2p5d.py [--minutes 8] [-o benchmarks/results/volumes_2p5d.txt]
    nice -n 19 .venv/bin/python benchmarks/volumes_2p5d.py --quick     # tiny volumes, seconds of training

Both models: the pool of generator volumes of volume_training (seeds from 0; validation seeds from
9_000_000), its random 32^3 crops with their augmentations and 3D Gaussian targets (sigma 1.2 on the
working grid, 6 voxels per diameter), the same weighted MSE, Adam, cosine learning rate over the
wall budget, one torch thread, the same seed (so the same stream of crops). The 2.5D net gets every
z slice of each crop that has K // 2 real slices either side; the 3D net the whole crop. Each
model's threshold is the best pooled validation F1 after training (volume_training.validation_scores).
Detection for all three models (the shipped unet3d as a reference) is volume_detection.detect_volume
on torch (the 2.5D net is wrapped as a (N, 1, Z, Y, X) -> (N, 1, Z, Y, X) module, reflect-padded in
z), diameter given (5/10/10 voxels), on the test volumes of benchmarks/volumes.py (same seeds,
matching within half a diameter in physical space, F1 in the box half a diameter inside the faces).
Seconds per volume and peak RSS are measured in one child process per model.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import napari_particle_detect  # noqa: F401 - before torch: its OpenMP wait policy, as users run it
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

import volumes as vb  # noqa: E402  (benchmarks/volumes.py: test volumes, scoring)

from napari_particle_detect.learning import volume_training as vt  # noqa: E402
from napari_particle_detect.models.registry import DetectorModel, ModelCard  # noqa: E402
from napari_particle_detect.models.unet import UNet, conv_block  # noqa: E402
from napari_particle_detect.models.unet3d import UNet3D  # noqa: E402
from napari_particle_detect.detection.volume_detection import VolumeOptions, detect_volume, load_volume_model  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
K = 5  # slices in, the slice and 2 either side
CHANNELS_2D = (16, 32, 64)  # two poolings (stride 4), as the 3D net's (8, 16, 32)
CHANNELS_3D = (8, 16, 32)
VAL_SEED = 9_000_000


class SlicesUNet(nn.Module):
    """The 2D UNet on K neighbouring z slices as channels, applied to every slice of a volume:
    (N, 1, Z, Y, X) -> (N, 1, Z, Y, X); ``pad``: reflect-pad z by K // 2 (else Z shrinks by K - 1)."""

    def __init__(self, channels=CHANNELS_2D, k: int = K) -> None:
        super().__init__()
        self.k = k
        self.net = UNet(channels)
        self.net.down[0] = conv_block(k, channels[0])  # K slices in, not one

    def forward(self, x: torch.Tensor, pad: bool = True) -> torch.Tensor:
        h = self.k // 2
        v = x[:, 0]
        if pad:
            v = nn.functional.pad(v[:, None], (0, 0, 0, 0, h, h), mode="reflect")[:, 0] if v.shape[1] > h else \
                torch.cat([v[:, :1]] * h + [v] + [v[:, -1:]] * h, dim=1)
        n, z, y, xx = v.shape
        slices = v.unfold(1, self.k, 1)  # (N, Z', Y, X, K)
        zs = slices.shape[1]
        slices = slices.permute(0, 1, 4, 2, 3).reshape(n * zs, self.k, y, xx)
        out = self.net(slices)  # (N * Z', 1, Y, X)
        return out.reshape(n, zs, y, xx)[:, None]


def make_network(kind: str) -> nn.Module:
    return SlicesUNet() if kind == "2.5D" else UNet3D(CHANNELS_3D)


def train(kind: str, pool: Path, val_dir: Path, minutes: float, seed: int, log=print) -> tuple[nn.Module, dict]:
    """volume_training.train_volumes' loop (its pool, cache, crops, targets, loss and schedule) for
    either network, no checkpoints; the threshold from validation at the end."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    cfg = vt.VolumeTrainConfig(minutes=minutes, seed=seed)
    network = make_network(kind)
    optimiser = torch.optim.Adam(network.parameters(), lr=cfg.learning_rate)
    files = sorted(pool.glob("vol_*.npz"))
    h = K // 2
    cache, losses, step = [], [], 0
    start = time.perf_counter()
    while True:
        fraction = (time.perf_counter() - start) / (minutes * 60)
        if fraction >= 1.0:
            break
        if len(cache) < cfg.cache or rng.random() < 0.5:
            entry = vt.load_pool_volume(files[rng.integers(len(files))], rng)
            if len(cache) < cfg.cache:
                cache.append(entry)
            else:
                cache[rng.integers(len(cache))] = entry
        lr = cfg.learning_rate * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * fraction)))
        for group in optimiser.param_groups:
            group["lr"] = lr
        batch = [vt._crop(*cache[rng.integers(len(cache))], cfg.crop, rng, cfg.sigma) for _ in range(cfg.batch_size)]
        x = torch.from_numpy(np.stack([b[0] for b in batch])[:, None])
        y = torch.from_numpy(np.stack([b[1] for b in batch])[:, None])
        network.train()
        if kind == "2.5D":
            out, y = network(x, pad=False), y[:, :, h:y.shape[2] - h]
        else:
            out = network(x)
        weight = 1.0 + 4.0 * (y > 0.05).float()
        loss = (((out - y) ** 2) * weight).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
        step += 1
        if step % 50 == 0:
            log(f"  {kind} step {step} ({(time.perf_counter() - start) / 60:.1f} min): loss {np.mean(losses[-50:]):.5f}")
    wall = time.perf_counter() - start
    val = [vt.load_pool_volume(p, None, with_cut=False) for p in sorted(val_dir.glob("vol_*.npz"))]
    scores = vt.validation_scores(network, val)
    threshold, f1 = max(scores.items(), key=lambda kv: kv[1])
    info = {"steps": step, "train_s": round(wall), "val_f1": round(f1, 4), "threshold": threshold,
            "loss_last50": float(np.mean(losses[-50:])) if losses else float("nan"),
            "params": sum(p.numel() for p in network.parameters())}
    log(f"  {kind}: {info}")
    return network, info


def as_model(kind: str, network: nn.Module, threshold: float) -> DetectorModel:
    card = ModelCard(architecture="unet3d", channels=CHANNELS_2D if kind == "2.5D" else CHANNELS_3D, sigma=1.2,
                     threshold=threshold, min_distance=2, canonical_diameter=vt.WORKING_DIAMETER, spatial_dims=3)
    return DetectorModel(network=network, card=card)


def eval_child(spec: dict) -> dict:
    """In its own process: detect on every test volume, seconds each, and this process's peak RSS."""
    torch.set_num_threads(1)
    if spec["kind"] == "shipped":
        model = load_volume_model(None)
    else:
        network = make_network(spec["kind"])
        network.load_state_dict(torch.load(spec["weights"], weights_only=True))
        model = as_model(spec["kind"], network, spec["threshold"])
    rows = []
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for path in map(Path, spec["files"]):
        data = np.load(path)
        sample = _Sample(data["image"], data["centres"], data["cut"].reshape(-1, 3))
        opts = VolumeOptions(diameter=(10.0,), voxel_size=vb.VOXEL, device="cpu", runtime="torch")
        start = time.perf_counter()
        centres, _, _ = detect_volume(sample.image, model, opts)
        seconds = time.perf_counter() - start
        rows.append({"optics": str(data["optics"]), "phi": float(data["phi"]), "n": len(sample.centres),
                     **vb.scores(centres, sample), "seconds": seconds})
    # Memory and time on a bigger volume: the first test volume tiled 2x2x2.
    big = np.tile(np.load(spec["files"][0])["image"], (2, 2, 2))
    rss_big = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    detect_volume(big, model, VolumeOptions(diameter=(10.0,), voxel_size=vb.VOXEL, device="cpu", runtime="torch"))
    big_s = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"rows": rows, "peak_rss_mb": round(peak), "rss_before_mb": round(rss_before), "rss_big_mb": round(rss_big),
            "big_shape": "x".join(map(str, big.shape)), "big_s": round(big_s, 1)}


class _Sample:
    def __init__(self, image, centres, cut):
        self.image, self.centres, self.cut = image, centres, cut


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=8.0, help="wall minutes of training per model")
    parser.add_argument("--per-cell", type=int, default=2, help="test volumes per volume fraction and optics")
    parser.add_argument("--pool", type=int, default=40, help="pool volumes (seeds from 0)")
    parser.add_argument("--optics", default="standard,hard", help="test optics of benchmarks/volumes.py")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "volumes_2p5d")
    parser.add_argument("--quick", action="store_true", help="tiny volumes, a few seconds of training")
    parser.add_argument("--eval-child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("-o", "--output", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.eval_child:
        print(json.dumps(eval_child(json.loads(args.eval_child))))
        return
    command = "nice -n 19 .venv/bin/python benchmarks/volumes_2p5d.py " + " ".join(sys.argv[1:])
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    shape = (48, 128, 128)
    if args.quick:
        args.minutes, args.per_cell, args.pool, shape = 0.1, 1, 3, (24, 48, 48)
        args.workdir = args.workdir.with_name(args.workdir.name + "_quick")
    work = args.workdir
    t0 = time.perf_counter()
    vt.write_pool(work / "pool", 0, args.pool)
    vt.write_pool(work / "val", VAL_SEED, 1 if args.quick else 3)
    print(f"pool {args.pool} + validation volumes ready ({time.perf_counter() - t0:.0f} s)", flush=True)
    test_dir = work / ("test_quick" if args.quick else "test")
    test_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for optics in args.optics.split(","):
        vb.OPTICS = optics
        for phi in vb.FRACTIONS:
            for i in range(args.per_cell):
                path = test_dir / f"{optics}_{phi}_{i}.npz"
                files.append(str(path))
                if not path.exists():
                    s = vb.synthesize_volume(vb.config(phi, shape), seed=vb.TEST_SEED + int(phi * 1000) + i)
                    cut = s.cut if s.cut is not None else np.zeros((0, 3))
                    np.savez(path, image=s.image, centres=s.centres, cut=cut, optics=optics, phi=phi)
    print(f"test volumes ready ({time.perf_counter() - t0:.0f} s)", flush=True)

    infos = {}
    for kind in ("2.5D", "3D"):
        network, info = train(kind, work / "pool", work / "val", args.minutes, seed=0)
        torch.save(network.state_dict(), work / f"{kind}.pt")
        infos[kind] = info
    infos["shipped"] = {"steps": 300, "train_s": 768, "threshold": 0.4, "params": sum(
        p.numel() for p in load_volume_model(None).network.parameters())}

    results = {}
    for kind in ("2.5D", "3D", "shipped"):
        spec = {"kind": kind, "weights": str(work / f"{kind}.pt"), "threshold": infos[kind]["threshold"],
                "files": files}
        done = subprocess.run([sys.executable, __file__, "--eval-child", json.dumps(spec)], capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(done.stderr)
        results[kind] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"  scored {kind}", flush=True)

    import pandas as pd

    names = {"2.5D": f"2.5D UNet (K={K}, {'/'.join(map(str, CHANNELS_2D))})",
             "3D": f"3D UNet ({'/'.join(map(str, CHANNELS_3D))})", "shipped": "shipped unet3d (reference)"}
    rows = [{"model": names[k], **r} for k in results for r in results[k]["rows"]]
    table = pd.DataFrame(rows)
    summary = table.groupby(["optics", "phi", "model"], sort=False).agg(
        volumes=("n", "size"), spheres=("n", "sum"), tp=("tp", "sum"), fp=("fp", "sum"), fn=("fn", "sum"),
        f1_whole=("f1_whole", "mean"), rms_z=("rms_z", "mean"), rms_y=("rms_y", "mean"), s_per_volume=("seconds", "mean"))
    summary["precision"] = summary.tp / (summary.tp + summary.fp)
    summary["recall"] = summary.tp / (summary.tp + summary.fn)
    summary["f1"] = 2 * summary.tp / (2 * summary.tp + summary.fp + summary.fn)
    summary = summary[["volumes", "spheres", "precision", "recall", "f1", "f1_whole", "rms_z", "rms_y", "s_per_volume"]]
    lines = [f"# command: {command}", f"# commit: {commit}",
             "# under load: 2 CPU cores shared with other jobs, nice 19, 1 torch thread; times are wall seconds",
             f"# training: from scratch, {args.minutes} wall minutes each, same pool ({args.pool} volumes), seed, "
             f"crops (32^3, batch 4), targets, loss and schedule (volume_training); threshold = best validation F1"]
    for k in ("2.5D", "3D", "shipped"):
        i = infos[k]
        extra = "" if k != "shipped" else " (its card: 300 steps, 12.8 min, growing pool)"
        lines.append(f"#   {names[k]}: {i['steps']} steps in {i['train_s']} s, {i['params']} parameters, threshold "
                     f"{i['threshold']}" + (f", validation F1 {i['val_f1']}" if "val_f1" in i else "") + extra)
    lines.append("# test volumes: benchmarks/volumes.py's (seeds, 48x128x128, z step 2; optics standard and hard), "
                 "diameter given 5/10/10 voxels, detect_volume on torch; P/R/F1 in the box half a diameter inside the "
                 "faces, matched within half a diameter in physical space")
    lines.append(summary.to_string(float_format=lambda v: f"{v:.3f}"))
    overall = table.groupby("model", sort=False).apply(
        lambda t: pd.Series({"f1": 2 * t.tp.sum() / (2 * t.tp.sum() + t.fp.sum() + t.fn.sum()),
                             "s_per_volume": t.seconds.mean()}))
    lines.append("## pooled over all test volumes")
    lines.append(overall.to_string(float_format=lambda v: f"{v:.3f}"))
    for k in results:
        r = results[k]
        lines.append(f"{names[k]}: {r['big_shape']} volume (a test volume tiled 2x2x2) in {r['big_s']} s; peak RSS "
                     f"{r['peak_rss_mb']} MB (before the first volume {r['rss_before_mb']} MB, before the big one "
                     f"{r['rss_big_mb']} MB)")
    text = "\n".join(lines)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")


if __name__ == "__main__":
    main()
