"""3D centres of dense colloids in confocal volumes (issue 20): the shipped 3D model against trackpy's
3D ``locate`` grid-searched per volume fraction on separate volumes; time and peak memory.

    .venv/bin/python benchmarks/volumes.py [--per-cell 2] [--big] [-o benchmarks/results/volumes.txt]

Volumes: 48x128x128 voxels, spheres of diameter 10 px (+-7 %), z step 2 px, PSF sigma 1.2 px in xy and
2.5x that in z, 200 photons, read noise 3, depth decay to 0.5, uneven background; fresh seeds (the
model trained on seeds below 1000 and validated on 9_000_000+). Matching: one-to-one within half a
diameter (5 px) in physical space (z scaled by the voxel ratio 2).
``--big`` adds a 128x512x512 timing row (a periodic 128^3 packing tiled 4x4 in y and x), run in a
child process on 2 torch threads so its peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from napari_particle_detect.kinds.evaluation3d import score_nd
from napari_particle_detect.detection.volume_detection import VolumeOptions, detect_volume, load_volume_model
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

TEST_SEED = 500_000
TUNE_SEED = 700_000
FRACTIONS = (0.3, 0.45, 0.55)
VOXEL = (2.0, 1.0, 1.0)
TOLERANCE = 5.0
# Scored in the inner box half a diameter from the faces: there the truth (centres inside the
# volume) is not a convention; the whole-volume F1 is printed beside it.
MARGIN = (2.5, 5.0, 5.0)


def scores(found: np.ndarray, sample) -> dict:
    inner = score_nd(found, sample.centres, TOLERANCE, VOXEL, sample.image.shape, MARGIN).to_dict()
    return {**inner, "f1_whole": whole_volume_f1(found, sample), "f1_strict": score_nd(found, sample.centres, TOLERANCE, VOXEL).f1}


def whole_volume_f1(found: np.ndarray, sample) -> float:
    """F1 over the whole volume, where a detection of a sphere cut by a face whose centre lies just
    outside (often by less than a voxel) is neither right nor wrong: matched against the volume's
    spheres and the cut ones together, the latter's matches are left out."""
    from napari_particle_detect.kinds.evaluation import f1_score
    from napari_particle_detect.kinds.evaluation3d import match_nd

    cut = sample.cut if sample.cut is not None else np.zeros((0, 3))
    everything = np.concatenate([sample.centres, cut])
    pi, ti = match_nd(found, everything, TOLERANCE, VOXEL)
    own = ti < len(sample.centres)
    tp = int(own.sum())
    return f1_score(tp, len(found) - len(pi), len(sample.centres) - tp)


OPTICS = "standard"


def config(phi: float, shape=(48, 128, 128)) -> VolumeConfig:
    if OPTICS == "hard":  # dim shells, a longer PSF, strong depth loss: closer to a difficult confocal stack
        return VolumeConfig(shape=shape, volume_fraction=phi, diameter=10.0, polydispersity=0.07, z_step=2.0,
                            psf_sigma_xy=1.5, psf_z_ratio=3.5, dye="shell", photons=60.0, read_noise=4.0,
                            depth_decay=0.3, background=0.15, background_unevenness=0.6)
    return VolumeConfig(shape=shape, volume_fraction=phi, diameter=10.0, polydispersity=0.07, z_step=2.0,
                        psf_sigma_xy=1.2, psf_z_ratio=2.5, photons=200.0, read_noise=3.0, depth_decay=0.5,
                        background=0.08, background_unevenness=0.5)


def trackpy_grid(volume: np.ndarray):
    """trackpy 3D locate over diameters (odd voxels per axis) and separations down to 0.6 diameters;
    minmass is applied afterwards from the masses found (percentiles), which equals rerunning."""
    import trackpy

    trackpy.quiet()
    for dz, dxy, sep in itertools.product((3, 5, 7), (7, 9, 11), (0.6, 0.8, 1.0)):
        separation = tuple(max(1.0, sep * d) for d in (dz, dxy, dxy))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = trackpy.locate(volume, (dz, dxy, dxy), separation=separation, minmass=0)
        found = found[np.isfinite(found[["z", "y", "x"]]).all(axis=1)]  # trackpy gives NaN positions at times
        yield (dz, dxy, sep), found


def tune_trackpy(volume: np.ndarray, truth: np.ndarray) -> tuple[dict, float]:
    best, best_f1 = None, -1.0
    for (dz, dxy, sep), found in trackpy_grid(volume):
        for pct in (0, 10, 20, 30, 40, 50, 60):
            minmass = float(np.percentile(found["mass"], pct)) if len(found) else 0.0
            kept = found[found["mass"] >= minmass]
            f1 = score_nd(kept[["z", "y", "x"]].to_numpy(), truth, TOLERANCE, VOXEL, volume.shape, MARGIN).f1
            if f1 > best_f1:
                best, best_f1 = {"diameter": (dz, dxy, dxy), "separation": sep, "minmass": minmass}, f1
    return best, best_f1


def run_trackpy(volume: np.ndarray, params: dict) -> np.ndarray:
    import trackpy

    separation = tuple(max(1.0, params["separation"] * d) for d in params["diameter"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = trackpy.locate(volume, params["diameter"], separation=separation, minmass=params["minmass"])
    found = found[["z", "y", "x"]].to_numpy()
    return found[np.isfinite(found).all(axis=1)]


def big_row(runtime: str = "auto") -> dict:
    """128x512x512: a periodic packing rendered at 128^3 and tiled; detection on 2 threads (the ONNX
    export, made once per weights and cached, is made before the clock starts)."""
    import torch

    from napari_particle_detect.detection.volume_detection import volume_network

    from napari_particle_detect.synthetic import volumes as vs

    torch.set_num_threads(2)
    cfg = config(0.55, shape=(128, 128, 128))
    rng = np.random.default_rng(TEST_SEED + 999)
    positions, diameters, _ = vs.pack_spheres((256.0, 128.0, 128.0), 0.55, 10.0, 0.07, rng)
    tile = vs.render_volume(cfg, positions, diameters, rng)
    volume = np.tile(tile, (1, 4, 4))
    del tile
    model = load_volume_model(None)
    volume_network(model, torch.device("cpu"), runtime, 2)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    centres, _, _ = detect_volume(volume, model, VolumeOptions(diameter=(10.0,), voxel_size=VOXEL, device="cpu",
                                                               threads=2, runtime=runtime))
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"runtime": runtime, "shape": list(volume.shape), "seconds": round(seconds, 1), "centres": len(centres),
            "peak_rss_mb": round(peak), "rss_before_mb": round(before)}


def big_lines() -> list[str]:
    """The 128x512x512 volume on torch and on ONNX Runtime (the CPU default), each in its own process
    (so each peak memory is its own), side by side."""
    lines = []
    for runtime in ("torch", "onnx"):
        done = subprocess.run([sys.executable, __file__, "--big-child", runtime], capture_output=True, text=True)
        if done.returncode == 0:
            big = json.loads(done.stdout.strip().splitlines()[-1])
            lines.append(f"## 128x512x512 (phi 0.55, tiled periodic packing), 2 threads, {runtime}: "
                         f"{big['seconds']} s, {big['centres']} centres, peak RSS {big['peak_rss_mb']} MB "
                         f"(of which {big['rss_before_mb']} MB before detection: the volume and the model)")
        else:
            lines.append(f"## 128x512x512 on {runtime} failed: " + done.stderr.strip().splitlines()[-1])
        print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-cell", type=int, default=2, help="test volumes per volume fraction")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--big", action="store_true")
    parser.add_argument("--big-child", choices=("auto", "torch", "onnx"), default=None, help=argparse.SUPPRESS)
    parser.add_argument("--big-only", action="store_true", help="only the 128x512x512 volume, torch and ONNX Runtime")
    parser.add_argument("-o", "--output", type=Path, default=None)
    parser.add_argument("--optics", choices=("standard", "hard"), default="standard",
                        help="hard: shell dye, 60 photons, PSF sigma 1.5 px and 3.5x longer in z, depth loss to 0.3")
    args = parser.parse_args()
    global OPTICS
    OPTICS = args.optics
    if args.big_child:
        print(json.dumps(big_row(args.big_child)))
        return
    if args.big_only:
        lines = big_lines()
        print("\n".join(lines))
        if args.output:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text("\n".join(lines) + "\n")
        return
    import torch

    torch.set_num_threads(1)
    model = load_volume_model(args.model)
    lines = [f"# Volumes: 3D model vs tuned trackpy (benchmarks/volumes.py), under load (2 shared cores, 1 torch thread)",
             f"# model {model.path.name}: {json.dumps(model.card.training)[:160]}"]
    rows = []
    for phi in FRACTIONS:
        tune = synthesize_volume(config(phi), seed=TUNE_SEED + int(phi * 100))
        t0 = time.perf_counter()
        params, tune_f1 = tune_trackpy(tune.image.astype(np.float32), tune.centres)
        tune_s = time.perf_counter() - t0
        for i in range(args.per_cell):
            sample = synthesize_volume(config(phi), seed=TEST_SEED + int(phi * 1000) + i)
            for name, opts in (("3D UNet (d given)", VolumeOptions(diameter=(10.0,), voxel_size=VOXEL)),
                               ("3D UNet (d estimated)", VolumeOptions(voxel_size=VOXEL))):
                start = time.perf_counter()
                centres, _, sizing = detect_volume(sample.image, model, opts)
                seconds = time.perf_counter() - start
                rows.append({"phi": phi, "method": name, "n": len(sample.centres), **scores(centres, sample), "seconds": seconds,
                             "d_zyx": "/".join(f"{d:.1f}" for d in sizing.diameter)})
            start = time.perf_counter()
            found = run_trackpy(sample.image.astype(np.float32), params)
            seconds = time.perf_counter() - start
            rows.append({"phi": phi, "method": "trackpy tuned", "n": len(sample.centres), **scores(found, sample),
                         "seconds": seconds, "d_zyx": "/".join(map(str, params["diameter"])) + f" sep {params['separation']}"})
        lines.append(f"  phi {phi}: trackpy tuned on seed {TUNE_SEED + int(phi * 100)}: {params} (F1 {tune_f1:.3f} there, "
                     f"grid {tune_s:.0f} s)")
        print(lines[-1], flush=True)
    table = pd.DataFrame(rows)
    summary = table.groupby(["phi", "method"], sort=False).agg(
        volumes=("n", "size"), spheres=("n", "sum"), tp=("tp", "sum"), fp=("fp", "sum"), fn=("fn", "sum"),
        f1_whole=("f1_whole", "mean"), f1_strict=("f1_strict", "mean"), rms_z=("rms_z", "mean"), rms_y=("rms_y", "mean"), rms_x=("rms_x", "mean"), s_per_volume=("seconds", "mean"),
        d_zyx=("d_zyx", "first"))
    summary["precision"] = summary.tp / (summary.tp + summary.fp)
    summary["recall"] = summary.tp / (summary.tp + summary.fn)
    summary["f1"] = 2 * summary.tp / (2 * summary.tp + summary.fp + summary.fn)
    summary = summary[["volumes", "spheres", "precision", "recall", "f1", "f1_whole", "f1_strict", "rms_z", "rms_y", "rms_x", "s_per_volume", "d_zyx"]]
    lines.append("")
    lines.append(f"## optics: {OPTICS} ({json.dumps({k: v for k, v in config(0.3).to_dict().items() if k not in ('shape', 'volume_fraction')})})")
    lines.append("## 48x128x128 voxels, z step 2; RMS in voxels per axis; seconds per volume (under load); "
                 "P/R/F1 in the box half a diameter inside the faces; f1_whole over the whole volume with detections "
                 "of spheres cut by a face (centre outside) neither right nor wrong; f1_strict counts those as false")
    lines.append(summary.to_string(float_format=lambda v: f"{v:.3f}"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines.append(f"peak RSS of this process (all rows, trackpy included): {peak:.0f} MB")
    if args.big:
        lines += big_lines()
    text = "\n".join(lines)
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n")


if __name__ == "__main__":
    main()
