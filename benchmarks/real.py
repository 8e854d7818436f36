"""Detection on real images nobody here made: the three stacks in ``shared/data``.

* ``trackpy_bulk_water_10.tif``: sparse dark spots. Reference: trackpy
  ``locate(frame, 11, invert=True, minmass=20)`` (the trackpy walkthrough's settings); we report
  precision, recall and F1 at 3 px against it.
* ``trackpy_brightfield_10.tif``: five large bright-field colloids a frame. Reference: trackpy
  ``locate(frame, 15, minmass=300)``; we report frames where all reference particles are found,
  false positives in total, and F1 at 3 px.
* ``seed_demo_opaque_discs.tif``: dense, overlapping opaque discs; no reference. We report the
  count per frame (mean, spread = (max - min) / mean, largest deviation from the mean) and the share
  of detections closer than half a diameter to another one (duplicates).

Columns: the default model with no parameters (diameter estimated, polarity auto); the same with
the right diameter (measured once per set, see ``measure_diameter``); and, unless
``--skip-finetune``, one fine-tuning round on frames 0 and 1 (reference centres as the 'corrected'
frames; for the seed demo, the default model's own detections) evaluated on the other frames only,
with the right-diameter column restricted to those frames beside it for comparison.

For the sets with a trackpy reference, a second table shows how far the reference itself moves
when a frame changes in ways that move no particle (one grey level of noise, a half-pixel shift,
a slight blur): trackpy's agreement with its own unchanged result is the ceiling any other
detector can reach against it. Our default's agreement with itself is printed beside it.

    .venv/bin/python benchmarks/real.py
    .venv/bin/python benchmarks/real.py --quick --overlays /tmp/overlays
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile
from scipy import ndimage
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402

from napari_particle_detect.kinds.evaluation import match  # noqa: E402
from napari_particle_detect.models import DetectorModel  # noqa: E402
from napari_particle_detect.detection.prediction import iter_detect  # noqa: E402
from napari_particle_detect.learning.finetune import FINE_TUNE, fine_tune  # noqa: E402
from napari_particle_detect.detection.sizing import radial_profile  # noqa: E402
from napari_particle_detect.learning.training import Example  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TOLERANCE = 3.0
FINETUNE_FRAMES = (0, 1)


@dataclass
class DataSet:
    key: str
    file: str
    reference: C.TrackpyParams | None
    note: str


SETS = [
    DataSet("bulk_water", "trackpy_bulk_water_10.tif", C.TrackpyParams(11, None, 20.0, True),
            "reference trackpy locate(frame, 11, invert=True, minmass=20)"),
    DataSet("brightfield", "trackpy_brightfield_10.tif", C.TrackpyParams(15, None, 300.0, False),
            "reference trackpy locate(frame, 15, minmass=300)"),
    DataSet("seed_demo", "seed_demo_opaque_discs.tif", None, "no reference"),
]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    C.add_model_args(p, resnet_default=None)
    p.add_argument("--data", type=Path, default=DATA, help=f"folder with the three TIFFs (default {DATA})")
    p.add_argument("--sets", nargs="+", choices=[s.key for s in SETS], default=[s.key for s in SETS])
    p.add_argument("--diameter", nargs="+", default=[], metavar="SET=PX",
                   help="override the measured right diameter, e.g. bulk_water=7 seed_demo=17")
    p.add_argument("--skip-finetune", action="store_true", help="no fine-tuning column")
    p.add_argument("--finetune-steps", type=int, default=None, metavar="STEPS",
                   help="steps of the fine-tuning round (default: the dock's FINE_TUNE preset; quick 8)")
    p.add_argument("--overlays", type=Path, default=None, help="write overlay PNGs of frame 0 of each set here")
    C.add_common_args(p)
    return p.parse_args(argv)


# ---------------------------------------------------------------------------------------------
# The right diameter of each set, measured once from the data (documented in the README).


def measure_diameter(key: str, stack: np.ndarray, reference: list[pd.DataFrame] | None) -> tuple[float, str]:
    """(diameter in px, how it was measured)."""
    if key == "bulk_water":
        # Near-Gaussian dark spots smaller than trackpy's 11 px mask: the radius of gyration trackpy
        # reports ('size') is meaningful, and a uniform disc of diameter d has Rg = d / (2 sqrt 2).
        size = float(np.median(np.concatenate([r["size"].to_numpy() for r in reference])))
        return 2 * np.sqrt(2) * size, f"2*sqrt(2) x median trackpy size (Rg) {size:.2f} px"
    if key == "brightfield":
        # Bright core, dark ring: trackpy's Rg only sees the core inside its 15 px mask. The dark
        # ring's minimum in the mean radial profile marks the particle edge (the generator's
        # bright-field look puts its rim at the particle radius too).
        profile = np.mean([radial_profile(stack[i], reference[i][["y", "x"]].to_numpy(), 30)
                           for i in range(len(reference))], axis=0)
        k = int(np.argmin(profile[: len(profile) - 1]))
        a, b, c = profile[k - 1 : k + 2]
        shift = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) > 0 else 0.0
        radius = k + 0.5 + shift  # ring k is centred on k + 0.5
        return 2 * radius, f"2 x radius of the dark ring's minimum in the radial profile ({radius:.1f} px)"
    if key == "seed_demo":
        # Opaque discs, one size: threshold half way between disc and background, label, and take
        # the most common component area (single, isolated discs), d = 2 sqrt(A / pi).
        areas = []
        for frame in stack[: min(4, len(stack))]:
            lo, hi = np.percentile(frame, [2, 98])
            labels, n = ndimage.label(frame < 0.5 * (lo + hi))
            areas.append(np.bincount(labels.ravel())[1:])
        areas = np.concatenate(areas)
        areas = areas[areas >= 20]
        hist, edges = np.histogram(np.log(areas), bins=np.arange(np.log(20), np.log(areas.max()) + 0.05, 0.05))
        k = int(np.argmax(hist))
        in_mode = areas[(np.log(areas) >= edges[k]) & (np.log(areas) < edges[k + 1])]
        area = float(np.median(in_mode))
        return 2 * np.sqrt(area / np.pi), f"2*sqrt(A/pi), A = modal area of dark components {area:.0f} px^2"
    raise KeyError(key)


# ---------------------------------------------------------------------------------------------


@dataclass
class Run:
    centres: dict[int, np.ndarray]  # frame -> (N, 2)
    diameter: float
    scale: float
    seconds: float


def run_detect(model: DetectorModel, stack: np.ndarray, diameter: float | None, frames: list[int]) -> Run:
    start = time.perf_counter()
    centres, used, scale = {}, float("nan"), 1.0
    for index, result, sizing in iter_detect(stack, model=model, device="cpu", diameter=diameter, frames=frames):
        centres[index] = result.centres
        used = sizing.diameter
        scale = result.scale
    return Run(centres, used, scale, time.perf_counter() - start)


def reference_metrics(run: Run, reference: list[pd.DataFrame], frames: list[int]) -> C.Counts:
    total = C.Counts()
    for i in frames:
        total += C.score_counts(run.centres[i], reference[i][["y", "x"]].to_numpy(), TOLERANCE)
    return total


def duplicate_share(centres: np.ndarray, diameter: float) -> tuple[int, int]:
    if len(centres) < 2:
        return 0, len(centres)
    d, _ = cKDTree(centres).query(centres, k=2)
    return int((d[:, 1] < 0.5 * diameter).sum()), len(centres)


def close_pairs(centres: np.ndarray, diameter: float) -> np.ndarray:
    """(K, 2) index pairs of detections closer than half a diameter."""
    if len(centres) < 2:
        return np.zeros((0, 2), dtype=int)
    return cKDTree(centres).query_pairs(0.5 * diameter, output_type="ndarray")


def dark_run(mask: np.ndarray, start: np.ndarray, direction: np.ndarray, reach: float) -> float:
    """Length of the run of ``mask`` through ``start`` along +-``direction`` (0.25 px steps)."""
    steps = np.arange(-reach, reach + 0.25, 0.25)
    points = start[:, None] + direction[:, None] * steps[None]
    inside = ndimage.map_coordinates(mask.astype(float), points, order=1, mode="constant") > 0.5
    centre = len(steps) // 2
    if not inside[centre]:
        return 0.0
    left = centre - np.argmin(inside[centre::-1]) if not inside[: centre + 1].all() else 0
    right = centre + np.argmin(inside[centre:]) if not inside[centre:].all() else len(steps)
    return 0.25 * (right - left)


def one_disc_pairs(frame: np.ndarray, centres: np.ndarray, diameter: float) -> tuple[int, int]:
    """(close pairs on what looks like one disc, close pairs) for dark discs on a bright background.

    Two overlapping discs s apart make a dark blob about d + s long along the pair's axis and d
    across; one disc seen twice is as long as it is wide. A pair counts as one disc when the blob
    is less than s / 2 longer than wide. The 'duplicates' target counts every close pair.
    """
    pairs = close_pairs(centres, diameter)
    lo, hi = np.percentile(frame, [2, 98])
    dark = frame < 0.5 * (lo + hi)
    single = 0
    for i, j in pairs:
        axis = centres[j] - centres[i]
        separation = float(np.linalg.norm(axis))
        axis = axis / max(separation, 1e-9)
        middle = 0.5 * (centres[i] + centres[j])
        along = dark_run(dark, middle, axis, 1.5 * diameter)
        across = dark_run(dark, middle, np.array([-axis[1], axis[0]]), 1.5 * diameter)
        single += along - across < 0.5 * separation
    return single, len(pairs)


def save_close_pairs(frame: np.ndarray, centres: np.ndarray, diameter: float, path: Path, count: int = 28) -> None:
    """A contact sheet of the first ``count`` close pairs, to judge by eye what the metric counts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = close_pairs(centres, diameter)[:count]
    cols = 7
    rows = max(1, int(np.ceil(len(pairs) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(2 * cols, 2 * rows), squeeze=False)
    half = int(diameter)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (i, j) in zip(axes.flat, pairs):
        cy, cx = np.round(0.5 * (centres[i] + centres[j])).astype(int)
        y0, x0 = max(cy - half, 0), max(cx - half, 0)
        ax.imshow(frame[y0 : cy + half, x0 : cx + half], cmap="gray")
        ax.plot(centres[[i, j], 1] - x0, centres[[i, j], 0] - y0, "r+-", ms=8)
        ax.set_title(f"{np.linalg.norm(centres[i] - centres[j]):.1f} px", fontsize=9)
    fig.suptitle(f"detections closer than d/2 = {diameter / 2:.1f} px (frame 0)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def disagreement(run: Run, reference: list[pd.DataFrame], frames: list[int], separation: float) -> tuple[float, float, float]:
    """Where we and the reference part ways: (% of our unmatched centres within trackpy's
    ``separation`` of a matched one, which trackpy cannot report by construction; median trackpy
    mass of the reference centres we miss; and of those we find)."""
    near, extra, missed_mass, found_mass = 0, 0, [], []
    for i in frames:
        ours, ref = run.centres[i], reference[i]
        pi, ti = match(ours, ref[["y", "x"]].to_numpy(), TOLERANCE)
        unmatched = np.setdiff1d(np.arange(len(ours)), pi)
        if len(pi) and len(unmatched):
            distance, _ = cKDTree(ours[pi]).query(ours[unmatched])
            near += int((distance < separation).sum())
        extra += len(unmatched)
        found = np.zeros(len(ref), bool)
        found[ti] = True
        missed_mass += list(ref["mass"].to_numpy()[~found])
        found_mass += list(ref["mass"].to_numpy()[found])
    median = lambda values: float(np.median(values)) if values else float("nan")  # noqa: E731
    return 100 * near / max(extra, 1), median(missed_mass), median(found_mass)


# Changes that leave every particle where it is: one grey level of noise (the 8-bit step), a
# half-pixel shift (linear interpolation; centres shifted back), a slight blur.
PERTURBATIONS = ("noise sigma 1 grey level", "shift 0.5 px", "blur sigma 0.5 px")
STABILITY_FRAMES = 5


def perturb(frame: np.ndarray, kind: str, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """``frame`` changed by ``kind``, and the offset that maps centres found in it back."""
    frame = frame.astype(np.float64)
    if kind.startswith("noise"):
        return frame + rng.normal(0.0, 1.0, frame.shape), 0.0
    if kind.startswith("shift"):
        return ndimage.shift(frame, (0.5, 0.5), order=1, mode="nearest"), -0.5
    return ndimage.gaussian_filter(frame, 0.5), 0.0


def self_agreement(ds: DataSet, stack, model: DetectorModel, reference, ours: dict[str, Run]) -> pd.DataFrame:
    """How well trackpy's reference, and our runs (name -> run, diameter as used there), agree with
    themselves on the same frames after each perturbation. trackpy's is the ceiling any other
    detector can reach against the reference."""
    frames = list(range(min(STABILITY_FRAMES, len(stack))))
    rng = np.random.default_rng(0)
    rows = {}
    for kind in PERTURBATIONS:
        changed = [perturb(stack[i], kind, rng) for i in frames]
        images = np.stack([image for image, _ in changed])
        offset = changed[0][1]
        theirs = C.Counts()
        for k, i in enumerate(frames):
            found = ds.reference.centres(images[k]) + offset
            theirs += C.score_counts(found, reference[i][["y", "x"]].to_numpy(), TOLERANCE)
        rows[kind] = {"trackpy vs its reference F1": f"{theirs.f1:.3f}",
                      "(P / R)": f"{theirs.precision:.3f} / {theirs.recall:.3f}"}
        for name, run in ours.items():
            diameter = None if name == "no parameters" else run.diameter
            again = run_detect(model, images, diameter, list(range(len(frames))))
            mine = C.Counts()
            for k, i in enumerate(frames):
                mine += C.score_counts(again.centres[k] + offset, run.centres[i], TOLERANCE)
            rows[kind][f"ours ({name}) vs ours F1"] = f"{mine.f1:.3f}"
    return pd.DataFrame(rows).T.rename_axis(f"{ds.key}, frames 0-{frames[-1]}")


def column_metrics(ds: DataSet, stack, run: Run, reference, frames: list[int], right_d: float) -> dict:
    """Metric name -> (value, display string) for one method on one set, over ``frames``."""
    out: dict[str, tuple[float, str]] = {}
    counts = np.array([len(run.centres[i]) for i in frames])
    out["frames"] = (len(frames), f"{frames[0]}-{frames[-1]}" if len(frames) > 1 else str(frames[0]))
    out["diameter used (px)"] = (run.diameter, f"{run.diameter:.1f}")
    out["count/frame (mean)"] = (counts.mean(), f"{counts.mean():.1f}")
    if reference is not None:
        ref_counts = np.array([len(reference[i]) for i in frames])
        c = reference_metrics(run, reference, frames)
        out["reference count/frame"] = (ref_counts.mean(), f"{ref_counts.mean():.1f}")
        out["precision"] = (c.precision, f"{c.precision:.3f}")
        out["recall"] = (c.recall, f"{c.recall:.3f}")
        out["F1"] = (c.f1, f"{c.f1:.3f}")
        out["RMS vs reference (px)"] = (c.rms, f"{c.rms:.2f}")
        if ds.key == "brightfield":
            all_found = sum(
                C.score_counts(run.centres[i], reference[i][["y", "x"]].to_numpy(), TOLERANCE).tp == len(reference[i])
                for i in frames
            )
            out["frames with all found"] = (all_found, f"{all_found}/{len(frames)}")
            out["false positives (total)"] = (c.fp, str(c.fp))
        separation = ds.reference.separation or ds.reference.diameter + 1
        near, missed, found = disagreement(run, reference, frames, separation)
        out[f"unmatched ours < {separation:g} px from a match %"] = (near, f"{near:.0f}")
        out["trackpy mass: missed / found (median)"] = (missed, f"{missed:.0f} / {found:.0f}")
    else:
        mean = counts.mean()
        spread = 100 * (counts.max() - counts.min()) / mean if mean else float("nan")
        deviation = 100 * np.abs(counts - mean).max() / mean if mean else float("nan")
        dup = np.array([duplicate_share(run.centres[i], right_d) for i in frames]).sum(axis=0)
        share = 100 * dup[0] / max(dup[1], 1)
        out["count min-max"] = (counts.min(), f"{counts.min()}-{counts.max()}")
        out["spread (max-min)/mean %"] = (spread, f"{spread:.1f}")
        out["largest deviation from mean %"] = (deviation, f"{deviation:.1f}")
        out[f"duplicates % (< d/2 = {right_d / 2:.1f} px)"] = (share, f"{share:.2f}")
        single, pairs = np.array([one_disc_pairs(stack[i], run.centres[i], right_d) for i in frames]).sum(axis=0)
        out["close pairs on one disc / all"] = (single, f"{single}/{pairs}")
        # One disc seen twice adds one spurious detection; an overlapping pair adds none.
        shaped = 100 * single / max(dup[1], 1)
        out["duplicates judged by shape %"] = (shaped, f"{shaped:.2f}")
    per_frame = run.seconds / len(run.centres)  # the run may cover more frames than are scored here
    out["seconds/frame"] = (per_frame, f"{per_frame:.2f}")
    return out


def finetune(model: DetectorModel, stack, targets: dict[int, np.ndarray], scale: float, args):
    """One fine-tuning round as the napari dock runs it (``finetune.fine_tune``, the FINE_TUNE preset):
    the corrected frames' held-out tiles score the new model against the one it started from."""
    config = replace(FINE_TUNE, threads=args.threads)
    if args.finetune_steps or args.quick:
        config = replace(config, steps_per_epoch=args.finetune_steps or 8)
    examples = [Example(stack[i], targets[i], scale=scale, name=f"frame {i}") for i in FINETUNE_FRAMES]
    return fine_tune(model, examples, config, "cpu")


def main(argv=None) -> int:
    args = parse_args(argv)
    C.setup(args.threads)
    overrides = {}
    for item in args.diameter:
        key, _, value = item.partition("=")
        overrides[key] = float(value)
    unet = C.load(args.unet)
    resnet = C.load(args.resnet) if args.resnet else None

    print("# Real images (napari_particle_detect benchmarks/real.py)")
    print(C.environment_line())
    info = C.model_info(unet)
    print(f"model {info['file']} ({info['architecture']}, {info['params']:,} parameters, threshold {info['threshold']}); "
          f"match tolerance {TOLERANCE:g} px; data {args.data}")

    target_rows, started = [], time.perf_counter()
    for ds in [s for s in SETS if s.key in args.sets]:
        stack = tifffile.imread(args.data / ds.file)
        if args.quick:
            stack = stack[:4]
        frames = list(range(len(stack)))
        held_out = [i for i in frames if i not in FINETUNE_FRAMES]
        reference = None
        if ds.reference is not None:
            reference = [ds.reference.locate(stack[i], characterize=True) for i in frames]
        right_d, how = measure_diameter(ds.key, stack, reference)
        if ds.key in overrides:
            right_d, how = overrides[ds.key], "given with --diameter"
        print(f"\n{ds.key}: {ds.file} {stack.shape} {stack.dtype}; {ds.note}; right diameter {right_d:.1f} px ({how})",
              flush=True)

        runs = {"no parameters": run_detect(unet, stack, None, frames),
                f"diameter {right_d:.1f}": run_detect(unet, stack, right_d, frames)}
        if resnet is not None:
            runs["ResNet no parameters"] = run_detect(resnet, stack, None, frames)
            runs[f"ResNet diameter {right_d:.1f}"] = run_detect(resnet, stack, right_d, frames)
        columns = {name: column_metrics(ds, stack, run, reference, frames, right_d) for name, run in runs.items()}
        right = runs[f"diameter {right_d:.1f}"]

        tuned_model = None
        if not args.skip_finetune and len(held_out) > 0:
            if reference is not None:
                targets = {i: reference[i][["y", "x"]].to_numpy() for i in FINETUNE_FRAMES}
            else:
                targets = {i: runs["no parameters"].centres[i] for i in FINETUNE_FRAMES}
            result = finetune(unet, stack, targets, right.scale, args)
            tuned_model = result.model
            print(f"  fine-tuned on frames {FINETUNE_FRAMES} at scale {right.scale:.3f} in {result.seconds:.0f} s: "
                  f"held-out F1 {result.score.f1:.3f} against {result.parent_score.f1:.3f} for the shipped model "
                  f"on {result.held_out_tiles} held-out tiles; criterion learned: {tuned_model.criterion is not None}; "
                  f"threshold {tuned_model.card.threshold}", flush=True)
            tuned = run_detect(tuned_model, stack, right_d, held_out)
            columns[f"diameter {right_d:.1f}, held-out frames"] = column_metrics(ds, stack, right, reference, held_out, right_d)
            columns["fine-tuned, held-out frames"] = column_metrics(ds, stack, tuned, reference, held_out, right_d)
            runs["fine-tuned"] = tuned

        metric_names = list(dict.fromkeys(m for col in columns.values() for m in col))
        table = pd.DataFrame({name: [col.get(m, (None, ""))[1] for m in metric_names] for name, col in columns.items()},
                             index=pd.Index(metric_names, name=ds.key))
        C.print_table(table, f"{ds.key} ({ds.file}; {ds.note})")
        sys.stdout.flush()

        stability = None
        if reference is not None and not args.quick:
            stability = self_agreement(ds, stack, unet, reference,
                                       {k: runs[k] for k in ("no parameters", f"diameter {right_d:.1f}")})
            C.print_table(stability, f"{ds.key}: self-agreement after changes that move no particle (F1 at "
                                     f"{TOLERANCE:g} px against the unchanged frames' result)")
            sys.stdout.flush()

        default = columns["no parameters"]
        if ds.key == "bulk_water":
            f1 = default["F1"][0]
            ceiling = "" if stability is None else (
                "; trackpy vs itself: " + ", ".join(f"{stability.loc[k, 'trackpy vs its reference F1']} ({k})"
                                                   for k in PERTURBATIONS[:2]))
            target_rows.append(("bulk water, no parameters: F1 >= 0.95 vs trackpy reference", f1 >= 0.95,
                                f"F1 {f1:.3f} (P {default['precision'][1]}, R {default['recall'][1]}){ceiling}"))
        elif ds.key == "brightfield":
            ok = default["frames with all found"][0] == len(frames) and default["false positives (total)"][0] == 0
            target_rows.append(("brightfield, no parameters: all 5 in every frame, no false positives", bool(ok),
                                f"all found in {default['frames with all found'][1]} frames, "
                                f"{default['false positives (total)'][1]} false positives"))
        elif ds.key == "seed_demo":
            dev = default["largest deviation from mean %"][0]
            dup_key = next(k for k in default if k.startswith("duplicates"))
            dup = default[dup_key][0]
            target_rows.append(("seed demo, no parameters: count within +-2 % of the mean in every frame",
                                bool(dev <= 2.0), f"largest deviation {dev:.1f} % (spread {default['spread (max-min)/mean %'][1]} %,"
                                f" counts {default['count min-max'][1]})"))
            target_rows.append(("seed demo, no parameters: < 1 % duplicates", bool(dup < 1.0),
                                f"{dup:.2f} % (every close pair; judged by shape: "
                                f"{default['duplicates judged by shape %'][1]} %)"))

        if args.overlays is not None:
            from napari_particle_detect.files.overlay import save_overlay

            args.overlays.mkdir(parents=True, exist_ok=True)
            if reference is not None:
                save_overlay(stack[0], reference[0][["y", "x"]].to_numpy(), args.overlays / f"{ds.key}_reference.png",
                             right_d, f"{ds.key} frame 0: trackpy reference ({len(reference[0])})")
            if ds.key == "seed_demo":
                save_close_pairs(stack[0], runs["no parameters"].centres[0], right_d,
                                 args.overlays / f"{ds.key}_close_pairs.png")
            for name, run in runs.items():
                frame = 0 if 0 in run.centres else min(run.centres)
                slug = name.replace(" ", "_").replace(",", "").replace(".", "p")
                save_overlay(stack[frame], run.centres[frame], args.overlays / f"{ds.key}_{slug}.png", run.diameter,
                             f"{ds.key} frame {frame}: {name} ({len(run.centres[frame])})")

    C.print_targets(target_rows, "Targets (default model, no parameters)")
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
