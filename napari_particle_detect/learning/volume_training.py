"""Training the 3D model on the volume generator: a pool of synthetic volumes (written by one
process, read by the trainer as it grows), random crops on the working grid, weighted MSE on 3D
Gaussian heatmaps, a checkpoint after every block of steps, the best validation F1 kept."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..kinds.heatmap3d import DEFAULT_SIGMA_3D, decode3d, encode3d
from ..detection.volume_resampling import normalise_volume, resample_volume, to_working, working_factors
from ..synthetic.volumes import random_volume_config, synthesize_volume

WORKING_DIAMETER = 6.0  # voxels across a particle on the 3D model's grid
POOL_CANONICAL_SHAPE = (44, 56, 56)  # about this many working voxels per pool volume


def pool_volume(seed: int):
    """One training volume of varied optics and density, sized to about POOL_CANONICAL_SHAPE on the
    working grid."""
    rng = np.random.default_rng(seed)
    base = random_volume_config(rng)
    d, s = base.diameter, base.z_step
    shape = (int(round(POOL_CANONICAL_SHAPE[0] * d / (WORKING_DIAMETER * s))),
             int(round(POOL_CANONICAL_SHAPE[1] * d / WORKING_DIAMETER)),
             int(round(POOL_CANONICAL_SHAPE[2] * d / WORKING_DIAMETER)))
    from dataclasses import replace

    return synthesize_volume(replace(base, shape=shape), seed=seed)


def write_pool(folder: Path, first_seed: int, count: int) -> None:
    """Write ``count`` pool volumes (npz: image, centres, diameter per axis) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for seed in range(first_seed, first_seed + count):
        path = folder / f"vol_{seed:07d}.npz"
        if path.exists():
            continue
        sample = pool_volume(seed)
        tmp = folder / f".vol_{seed:07d}.tmp.npz"
        np.savez(tmp, image=sample.image, centres=sample.centres,
                 diameter=np.array(sample.config.diameter_voxels), phi=sample.volume_fraction, cut=sample.cut,
                 config=json.dumps(sample.config.to_dict()))
        tmp.rename(path)


@dataclass
class VolumeTrainConfig:
    channels: tuple[int, ...] = (8, 16, 32)
    crop: int = 32
    batch_size: int = 4
    learning_rate: float = 2e-3
    minutes: float = 20.0
    validate_every: int = 100
    cache: int = 12  # resampled pool volumes kept; one replaced every step
    seed: int = 0
    sigma: float = DEFAULT_SIGMA_3D


def load_pool_volume(path: Path, rng: np.random.Generator | None,
                     with_cut: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """A pool volume on the working grid, normalised, and its centres there. With ``rng``, the
    diameter used to resample is off by up to 15 % in xy and 25 % in z, as an estimate may be."""
    data = np.load(path)
    diameter = np.array(data["diameter"], dtype=float)
    if rng is not None:
        xy = rng.uniform(0.87, 1.15)
        diameter = diameter * np.array([rng.uniform(0.8, 1.25), xy, xy])
    factors = working_factors(diameter, WORKING_DIAMETER)
    volume, applied = resample_volume(data["image"], factors)
    centres = data["centres"]
    if with_cut and "cut" in data.files and len(data["cut"]):
        # Spheres cut by the faces get their (partial) peaks too, as inside a crop's faces.
        centres = np.concatenate([centres, data["cut"].reshape(-1, 3)])
    return normalise_volume(volume), to_working(centres, applied)


def _crop(volume: np.ndarray, centres: np.ndarray, size: int, rng: np.random.Generator, sigma: float):
    pad = [(0, max(0, size - n)) for n in volume.shape]
    if any(p[1] for p in pad):
        volume = np.pad(volume, pad, mode="reflect")
    start = np.array([rng.integers(0, n - size + 1) for n in volume.shape])
    crop = volume[start[0]:start[0] + size, start[1]:start[1] + size, start[2]:start[2] + size]
    local = centres - start
    near = np.all((local > -4) & (local < size + 3), axis=1)
    target = encode3d(local[near], (size, size, size), sigma)
    for axis in range(3):  # flips along every axis, and y <-> x: the optics are symmetric there
        if rng.random() < 0.5:
            crop, target = np.flip(crop, axis), np.flip(target, axis)
    if rng.random() < 0.5:
        crop, target = crop.transpose(0, 2, 1), target.transpose(0, 2, 1)
    crop = crop * rng.uniform(0.8, 1.25) + rng.uniform(-0.1, 0.1)
    return np.ascontiguousarray(crop), np.ascontiguousarray(target)


def validation_scores(network, volumes: list, thresholds=(0.2, 0.3, 0.4, 0.5, 0.6)) -> dict[float, float]:
    """Pooled F1 on the working grid (matching within half a diameter) at each threshold."""
    from ..kinds.evaluation import f1_score
    from ..kinds.evaluation3d import match_nd
    from ..detection.volume_inference import predict_heatmap3d

    counts = {t: [0, 0, 0] for t in thresholds}
    for volume, truth in volumes:
        heat = predict_heatmap3d(network, volume)
        for t in thresholds:
            found, _ = decode3d(heat, t, sigma=DEFAULT_SIGMA_3D)
            found = found[np.all((found >= -0.5) & (found <= np.array(heat.shape) - 0.5), axis=1)]
            pi, ti = match_nd(found, truth, WORKING_DIAMETER / 2)
            c = counts[t]
            c[0] += len(pi); c[1] += len(found) - len(pi); c[2] += len(truth) - len(ti)
    return {t: f1_score(*c) for t, c in counts.items()}


def train_volumes(pool: Path, validation: Path, out: Path, config: VolumeTrainConfig,
                  resume: bool = False, log=print, init: Path | None = None) -> Path:
    """Train the 3D UNet for ``config.minutes`` of wall time; the best validation round goes to ``out``."""
    import torch

    from ..models.registry import DetectorModel, ModelCard, resume_state_path, save_model, save_tensors
    from ..models.unet3d import UNet3D
    from ..shipped import refuse_shipped_output
    from .training import adam

    refuse_shipped_output(out)  # the shipped unet3d.pt every volume detection and round starts from
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    network = UNet3D(config.channels)
    optimiser = adam(network.parameters(), config.learning_rate)
    state_file = resume_state_path(out)
    step, best, elapsed0 = 0, -1.0, 0.0
    if resume and state_file.exists():
        state = torch.load(state_file, weights_only=True)  # tensors and numbers only: never code
        network.load_state_dict(state["network"]); optimiser.load_state_dict(state["optimiser"])
        step, best, elapsed0 = state["step"], state["best"], state["elapsed"]
    elif init is not None:
        # Only a fresh start: a resume given its command's INIT again went on from INIT's weights with the
        # run's step count, optimiser and best score, throwing the steps trained so far away unsaid.
        _start_from(network, Path(init), config.channels)
    # Validation truth: the volumes' own spheres only (cut spheres' centres lie outside).
    val = [load_pool_volume(p, None, with_cut=False) for p in sorted(validation.glob("vol_*.npz"))]
    cache: list = []
    start = time.perf_counter()
    losses = []
    card = ModelCard(architecture="unet3d", channels=tuple(config.channels), sigma=config.sigma, threshold=0.4,
                     min_distance=2, normalisation="percentile 1-99.8 per volume",
                     trained_diameter_range=(7.0, 14.0), canonical_diameter=WORKING_DIAMETER, spatial_dims=3)
    while True:
        elapsed = elapsed0 + time.perf_counter() - start
        fraction = elapsed / (config.minutes * 60)
        files = sorted(pool.glob("vol_*.npz"))
        if len(cache) < config.cache or rng.random() < 0.5:
            entry = load_pool_volume(files[rng.integers(len(files))], rng)
            if len(cache) < config.cache:
                cache.append(entry)
            else:
                cache[rng.integers(len(cache))] = entry
        lr = config.learning_rate * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * min(fraction, 1.0))))
        for group in optimiser.param_groups:
            group["lr"] = float(lr)  # a NumPy scalar in the optimiser state would not load on resuming
        batch = [_crop(*cache[rng.integers(len(cache))], config.crop, rng, config.sigma) for _ in range(config.batch_size)]
        x = torch.from_numpy(np.stack([b[0] for b in batch])[:, None])
        y = torch.from_numpy(np.stack([b[1] for b in batch])[:, None])
        network.train()
        weight = 1.0 + 4.0 * (y > 0.05).float()  # the few voxels near centres count more
        loss = (((network(x) - y) ** 2) * weight).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
        step += 1
        done = fraction >= 1.0
        if step % config.validate_every == 0 or done:
            scores = validation_scores(network, val)
            threshold, f1 = max(scores.items(), key=lambda kv: kv[1])
            log(f"step {step} ({elapsed / 60:.1f} min): loss {np.mean(losses[-50:]):.5f}, validation F1 "
                f"{f1:.4f} at threshold {threshold} ({len(files)} pool volumes)")
            if f1 > best:
                best = f1
                card.threshold = float(threshold)
                card.training = {"steps": step, "minutes": round(elapsed / 60, 1), "validation_f1": round(f1, 4),
                                 "data": "volumes_synthetic pool (random_volume_config), working grid 6 voxels/diameter",
                                 "crop": config.crop, "batch_size": config.batch_size}
                save_model(DetectorModel(network=network, card=card), out)
            # Atomic, and a full disk one OSError naming the file (torch's own error names nothing); plain
            # floats, as resuming reads tensors and numbers only (a NumPy scalar there refused to load).
            save_tensors({"network": network.state_dict(), "optimiser": optimiser.state_dict(), "step": step,
                          "best": float(best), "elapsed": float(elapsed)}, state_file)
        if done:
            return out


def _start_from(network, init: Path, channels: tuple[int, ...]) -> None:
    """``init``'s weights in ``network``. A 2D model, or weights of another network, is one line naming it:
    torch's refusal listed every tensor that did not fit, a page long."""
    from ..errors import ParticleDetectError
    from ..models.registry import read_card, read_saved_tensors, wrong_dims

    card = init.with_suffix(".json")
    dims = read_card(card).spatial_dims if card.is_file() else 3  # bare weights: judged by their shapes below
    if dims != 3:
        raise ParticleDetectError(wrong_dims(init, dims))
    try:
        network.load_state_dict(read_saved_tensors(init))
    except (RuntimeError, TypeError, AttributeError):
        raise ParticleDetectError(f"{init}: not the weights of the 3D UNet this trains (channels "
                                  f"{', '.join(map(str, channels))}); give a model it saved, or the shipped "
                                  "unet3d.pt") from None


def _fresh_output(out: Path, overwrite: bool) -> None:
    """Without --resume, a model or resume state at ``out`` is another run's: replaced only with ``overwrite``,
    as particle-detect train does (its state goes too: a later --resume went on from that run's steps)."""
    from ..errors import ParticleDetectError
    from ..models.registry import resume_state_path
    from ..shipped import refuse_shipped_output

    refuse_shipped_output(out)  # before its --overwrite could delete anything there
    weights = out.with_suffix(".pt")
    there = [p for p in (weights, resume_state_path(weights)) if p.exists()]
    if there and not overwrite:
        raise ParticleDetectError(f"{there[0]}: already there; give --overwrite to replace it, --resume to go on "
                                  "with the run that wrote it, or another OUT")
    if overwrite:
        resume_state_path(weights).unlink(missing_ok=True)


PROG = "python -m napari_particle_detect.learning.volume_training"


def _pool_files(folder: Path, what: str) -> None:
    """Refuse a ``folder`` without pool volumes (vol_*.npz): training would fail on its first step."""
    from ..errors import ParticleDetectError

    if not folder.is_dir():
        raise ParticleDetectError(f"{folder}: no such folder; give the {what} folder (write it with {PROG} "
                                  "FOLDER FIRST_SEED COUNT)")
    if not any(folder.glob("vol_*.npz")):
        raise ParticleDetectError(f"{folder}: holds no pool volumes (vol_*.npz); write them with {PROG} "
                                  "FOLDER FIRST_SEED COUNT")


def main(argv: list[str] | None = None) -> int:
    """``POOL FIRST_SEED COUNT``: write pool volumes; ``train POOL VALIDATION OUT [MINUTES [LR [INIT]]]
    [--resume]``: train on them (one CPU thread). Bad arguments are one line, exit 2."""
    import sys

    from ..arguments import OneLineParser, number_in
    from ..errors import ParticleDetectError

    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    defaults = VolumeTrainConfig()
    if argv[:1] == ["train"]:
        parser = OneLineParser(prog=f"{PROG} train", description="Train the 3D UNet on a pool of generator "
                               "volumes; the best validation F1 is kept at OUT (.pt + .json), a checkpoint beside "
                               "it (OUT.state.pt).")
        parser.add_argument("pool", metavar="POOL", type=Path,
                            help="folder of pool volumes (vol_*.npz), may grow while training")
        parser.add_argument("validation", metavar="VALIDATION", type=Path,
                            help="folder of validation volumes (vol_*.npz)")
        parser.add_argument("out", metavar="OUT", type=Path, help="model path to write (.pt)")
        parser.add_argument("minutes", metavar="MINUTES", nargs="?", type=number_in(0, 1e6, low_open=True),
                            default=defaults.minutes, help=f"wall time to train (default {defaults.minutes:g})")
        parser.add_argument("lr", metavar="LR", nargs="?", type=number_in(0, 1, low_open=True),
                            default=defaults.learning_rate,
                            help=f"learning rate (default {defaults.learning_rate:g})")
        parser.add_argument("init", metavar="INIT", nargs="?", type=Path, default=None,
                            help="start from these weights (.pt)")
        parser.add_argument("--resume", action="store_true", help="continue from OUT.state.pt if it is there")
        parser.add_argument("--overwrite", action="store_true",
                            help="replace the model (and resume state) already at OUT; without it that is refused")
        args = parser.parse_intermixed_args(argv[1:])  # --resume anywhere, even between the positionals
    else:
        parser = OneLineParser(prog=PROG, description=f"Write pool volumes for training ({PROG} train --help "
                               "trains on them).")
        parser.add_argument("pool", metavar="POOL", type=Path,
                            help="folder to write vol_SEED.npz into (those there are kept)")
        parser.add_argument("first_seed", metavar="FIRST_SEED", type=number_in(0, 2**31 - 1, whole=True),
                            help="seed of the first volume")
        parser.add_argument("count", metavar="COUNT", type=number_in(1, 1_000_000, whole=True),
                            help="how many volumes")
        args = parser.parse_args(argv)
    try:
        if argv[:1] != ["train"]:
            write_pool(args.pool, args.first_seed, args.count)
            return 0
        _pool_files(args.pool, "pool")
        _pool_files(args.validation, "validation")
        if args.init is not None and not args.init.is_file():
            raise ParticleDetectError(f"{args.init}: file not found; give the weights (.pt) to start from")
        from ..files.output_checks import check_output

        # Before any step: a folder that is a file, or read-only, failed at the first save, its steps lost.
        check_output(args.out.with_suffix(".pt"), [args.init] if args.init else [], "model")
        if not args.resume:
            _fresh_output(args.out, args.overwrite)
        import torch

        torch.set_num_threads(1)
        config = VolumeTrainConfig(minutes=args.minutes, learning_rate=args.lr)
        train_volumes(args.pool, args.validation, args.out, config, resume=args.resume, init=args.init)
        return 0
    except ParticleDetectError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, an unwritable folder: the file and the reason
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"{parser.prog}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
