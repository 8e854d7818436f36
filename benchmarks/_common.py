"""Shared helpers for the benchmark scripts: model loading, trackpy tuning, scoring, printing.

Not part of the library; the scripts in this folder import it as ``_common`` (they put their own
folder on ``sys.path``), so run them from anywhere as ``.venv/bin/python benchmarks/NAME.py``.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import napari_particle_detect  # noqa: F401 - before torch: its OpenMP wait policy, as users run it
import torch

from napari_particle_detect.kinds.evaluation import Counts, match
from napari_particle_detect.models import DetectorModel, load_model
from napari_particle_detect.shipped import WEIGHTS_DIR

REPO = Path(__file__).resolve().parents[1]
DEFAULT_UNET = WEIGHTS_DIR / "unet.pt"
DEFAULT_RESNET = WEIGHTS_DIR / "resnet.pt"
# Seeds of benchmark images. Training draws its synthetic crops from seeds seed * 1_000_003 + n
# (the shipped models: seeds 1 and 2, so from 1_000_003 and 2_000_006 up) and validates on seeds
# from 10_000_000, so these ranges are unseen; they also use another generator config.
TEST_SEED_BASE = 50_000
TUNE_SEED_BASE = 70_000


def add_model_args(parser: argparse.ArgumentParser, resnet_default: Path | None = DEFAULT_RESNET) -> None:
    """--unet (the shipped default model) and --resnet, the same in every script."""
    parser.add_argument("--unet", "--model", dest="unet", type=Path, default=DEFAULT_UNET,
                        help="the shipped default model (UNet), default napari_particle_detect/weights/unet.pt")
    if resnet_default is None:
        parser.add_argument("--resnet", type=Path, default=None,
                            help="also run this ResNet (no parameters and right diameter); default: skip")
    else:
        parser.add_argument("--resnet", type=Path, default=resnet_default,
                            help="default napari_particle_detect/weights/resnet.pt ('none' to skip)")


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--quick", action="store_true", help="fewer and smaller images, for a smoke run")


def setup(threads: int) -> None:
    torch.set_num_threads(max(1, int(threads)))
    quiet_trackpy()
    warnings.filterwarnings("ignore", message="No maxima survived")
    warnings.filterwarnings("ignore", message="I am interpreting the image as")
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 50)


def quiet_trackpy() -> None:
    import trackpy

    trackpy.quiet()
    logging.getLogger("trackpy").setLevel(logging.WARNING)


def load(path: str | Path) -> DetectorModel:
    return load_model(Path(path), "cpu")


def model_info(model: DetectorModel) -> dict:
    """Size on disk of the .pt file, parameter count and the card's threshold and validation F1."""
    path = Path(model.path) if model.path is not None else None
    size_mb = path.stat().st_size / 1e6 if path is not None and path.exists() else float("nan")
    params = sum(p.numel() for p in model.network.parameters())
    return {
        "file": str(path.relative_to(REPO)) if path is not None and path.is_relative_to(REPO) else str(path),
        "architecture": model.card.architecture,
        "channels": "-".join(map(str, model.card.channels)),
        "weights MB": round(size_mb, 3),
        "params": params,
        "threshold": model.card.threshold,
        "val F1 (card)": model.card.training.get("validation_f1", float("nan")),
    }


def centres_of(table: pd.DataFrame) -> np.ndarray:
    return table[["y", "x"]].to_numpy(float).reshape(-1, 2)


# ---------------------------------------------------------------------------------------------
# Scoring


def score_counts(
    predicted: np.ndarray,
    truth: np.ndarray,
    tolerance: float = 3.0,
    shape: tuple[int, int] | None = None,
    border: float = 0.0,
) -> Counts:
    """TP/FP/FN of the library's optimal matching, counted in the interior of the image only.

    Matching uses every centre, so nothing near the border line is cut in two; then a match counts
    when its true centre is at least ``border`` px inside the image, a missed truth when it is
    inside, and an unmatched prediction when it is inside. ``border=0`` counts everything.
    """
    predicted = np.asarray(predicted, float).reshape(-1, 2)
    truth = np.asarray(truth, float).reshape(-1, 2)
    pi, ti = match(predicted, truth, tolerance)

    def inside(points: np.ndarray) -> np.ndarray:
        if shape is None or border <= 0:
            return np.ones(len(points), bool)
        h, w = shape
        return (
            (points[:, 0] >= border) & (points[:, 0] <= h - 1 - border)
            & (points[:, 1] >= border) & (points[:, 1] <= w - 1 - border)
        )

    truth_in, pred_in = inside(truth), inside(predicted)
    matched_t = np.zeros(len(truth), bool)
    matched_t[ti] = True
    matched_p = np.zeros(len(predicted), bool)
    matched_p[pi] = True
    keep = truth_in[ti]
    err = predicted[pi[keep]] - truth[ti[keep]]
    return Counts(
        tp=int(keep.sum()),
        fp=int((~matched_p & pred_in).sum()),
        fn=int((~matched_t & truth_in).sum()),
        sq_err=float((err**2).sum()),
    )


def overlap_share(centres: np.ndarray, radii: np.ndarray, among: np.ndarray | None = None) -> tuple[int, int]:
    """(particles overlapping another, particles): overlap when centre distance < r_i + r_j.

    ``among`` marks which particles are counted (e.g. those inside the image); all particles,
    counted or not, can be the partner that overlaps.
    """
    from scipy.spatial import cKDTree

    centres = np.asarray(centres, float).reshape(-1, 2)
    radii = np.asarray(radii, float)
    among = np.ones(len(centres), bool) if among is None else among
    if len(centres) < 2:
        return 0, int(among.sum())
    tree = cKDTree(centres)
    pairs = tree.query_pairs(2 * radii.max(), output_type="ndarray")
    d = np.linalg.norm(centres[pairs[:, 0]] - centres[pairs[:, 1]], axis=1)
    over = pairs[d < radii[pairs[:, 0]] + radii[pairs[:, 1]]]
    flag = np.zeros(len(centres), bool)
    flag[over.ravel()] = True
    return int((flag & among).sum()), int(among.sum())


# ---------------------------------------------------------------------------------------------
# trackpy


@dataclass(frozen=True)
class TrackpyParams:
    diameter: int
    separation: float | None = None
    minmass: float | None = None
    invert: bool = False
    percentile: float = 64.0

    def locate(self, image: np.ndarray, characterize: bool = False, engine: str = "auto") -> pd.DataFrame:
        """trackpy's ``locate``; ``engine`` 'auto' is numba when it is installed, as trackpy users run it."""
        import trackpy

        return trackpy.locate(
            image, self.diameter, minmass=self.minmass, separation=self.separation, invert=self.invert,
            percentile=self.percentile, characterize=characterize, engine=engine,
        )

    def centres(self, image: np.ndarray) -> np.ndarray:
        return centres_of(self.locate(image))

    def describe(self) -> str:
        parts = [f"diameter={self.diameter}", f"separation={self.separation:g}" if self.separation else "",
                 f"minmass={self.minmass:.4g}" if self.minmass else "", "invert=True" if self.invert else "",
                 f"percentile={self.percentile:g}" if self.percentile != 64 else ""]
        return "locate(" + ", ".join(p for p in parts if p) + ")"

    def to_dict(self) -> dict:
        return asdict(self)


def tune_trackpy(
    images: list[np.ndarray],
    truths: list[np.ndarray],
    diameters: tuple[int, ...] = (7, 9, 11, 13, 15),
    separations: tuple[float, ...] = (3, 4, 5, 6, 8, 10, 12),
    inverts: tuple[bool, ...] = (False,),
    percentiles: tuple[float, ...] = (64.0, 20.0, 0.0),
    minmass_steps: int = 40,
    tolerance: float = 3.0,
    border: float = 0.0,
    top_masses: int = 0,
) -> tuple[TrackpyParams, float, int]:
    """Grid search for the trackpy ``locate`` settings with the best pooled F1 on ``images``.

    ``minmass`` is a pure post-filter in trackpy (``mass > minmass`` after refinement), so each grid
    point runs ``locate`` once with no mass filter and every minmass candidate (quantiles of the
    masses found) is scored by filtering that output: the same result as rerunning ``locate``.
    ``top_masses`` adds, as candidates, the thresholds that keep exactly the k most massive
    features for k up to that many: on sparse images the particles are far fewer than 3 % of
    what ``locate`` finds in the noise, beyond the reach of the quantiles.
    Returns (best parameters, their F1, grid points tried).
    """
    best, best_f1, tried = None, -1.0, 0
    for diameter, separation, invert, percentile in itertools.product(diameters, separations, inverts, percentiles):
        params = TrackpyParams(int(diameter), float(separation), None, bool(invert), float(percentile))
        found = [params.locate(image) for image in images]
        masses = np.concatenate([f["mass"].to_numpy() for f in found]) if found else np.zeros(0)
        if len(masses) == 0:
            continue
        candidates = np.unique(np.concatenate([[0.0], np.quantile(masses, np.linspace(0, 0.97, minmass_steps)),
                                               np.sort(masses)[::-1][1 : top_masses + 1]]))
        for minmass in candidates:
            total = Counts()
            for f, truth, image in zip(found, truths, images):
                keep = f["mass"].to_numpy() > minmass
                total += score_counts(centres_of(f)[keep], truth, tolerance, image.shape, border)
            tried += 1
            if total.f1 > best_f1:
                best_f1 = total.f1
                best = TrackpyParams(int(diameter), float(separation), float(minmass) or None, bool(invert),
                                     float(percentile))
    if best is None:
        raise RuntimeError("trackpy found nothing at any grid point")
    return best, best_f1, tried


# ---------------------------------------------------------------------------------------------
# Scenes drawn independently of the generator (_scenes.py): our model beside trackpy


def trackpy_diameters(apparent: float) -> tuple[int, int]:
    """trackpy's ``diameter`` for particles that appear ``apparent`` px across: the smallest odd
    integer at least that, and the next (trackpy wants odd sizes a little larger than the feature)."""
    first = int(np.ceil(apparent)) | 1
    return first, first + 2


def scene_row(model, make, count: int, n_test: int, n_tune: int, seed: int, grid: dict,
              tolerance: float = 3.0) -> dict:
    """One scene case: our model with no parameters and with the right diameter, and trackpy given
    the right diameter (its other settings grid-searched on separate tuning images), pooled over
    ``n_test`` images; plus the size estimate's error and confidence per image."""
    from napari_particle_detect.detection.prediction import detect

    tests = [make(count, seed + i) for i in range(n_test)]
    tunes = [make(count, seed + 500 + i) for i in range(n_tune)]
    apparent = tests[0].diameter
    params, _, _ = tune_trackpy([s.image for s in tunes], [s.centres for s in tunes],
                                diameters=trackpy_diameters(apparent), inverts=(False, True), tolerance=tolerance,
                                top_masses=min(2 * count * n_tune + 20, 120), **grid)
    auto, given, trackpy = Counts(), Counts(), Counts()
    estimates, flags, detections = [], [], 0
    for scene in tests:
        table = detect(scene.image, model=model, device="cpu")
        auto += score_counts(centres_of(table), scene.centres, tolerance)
        estimates.append(table.attrs["diameter"])
        # (an older library, run for comparison, reports no confidence: taken as confident)
        flags.append(table.attrs.get("diameter_confidence", "high") == "high")
        detections += len(table)
        table = detect(scene.image, model=model, device="cpu", diameter=apparent)
        given += score_counts(centres_of(table), scene.centres, tolerance)
        trackpy += score_counts(params.centres(scene.image), scene.centres, tolerance)
    errors = np.asarray(estimates) / apparent - 1
    worst = int(np.argmax(np.abs(errors)))
    return {
        "particles/img": float(np.mean([len(s.centres) for s in tests])), "apparent d": apparent,
        "estimated d (median)": float(np.median(estimates)), "worst error %": 100 * float(errors[worst]),
        "confident": f"{sum(flags)}/{n_test}",
        # The target: every estimate within 15 % of the apparent size, or flagged.
        "estimate ok": bool(all(abs(e) <= 0.15 or not f for e, f in zip(errors, flags))),
        "detections/img": detections / n_test,
        "F1 no parameters": auto.f1, "RMS no parameters": auto.rms,
        "F1 right d": given.f1, "RMS right d": given.rms,
        "trackpy F1 (right d)": trackpy.f1, "trackpy RMS": trackpy.rms, "trackpy settings": params.describe(),
    }


# ---------------------------------------------------------------------------------------------
# Timing and printing


def median_time(fn, repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


# Timings on a shared VM drift by 10-20 % within a minute: what is compared is timed in turn, several rounds each.
TIMING_ROUNDS, TIMING_REPEATS = 6, 5


def interleaved_medians(runs: list, rounds: int = TIMING_ROUNDS, repeats: int = TIMING_REPEATS) -> list[float]:
    """Median seconds of each call, timed ``repeats`` at a time in ``rounds`` rounds, taken in turn."""
    times = [[] for _ in runs]
    for run in runs:
        run()  # warm-up
    for _ in range(rounds):
        for run, spent in zip(runs, times):
            for _ in range(repeats):
                start = time.perf_counter()
                run()
                spent.append(time.perf_counter() - start)
    return [float(np.median(spent)) for spent in times]


def print_table(table: pd.DataFrame, title: str, float_format: str = "{:.3f}") -> None:
    print(f"\n## {title}\n")
    print(table.to_string(float_format=lambda v: float_format.format(v)))


def print_targets(rows: list[tuple[str, bool | None, str]], title: str = "Targets") -> None:
    """Rows of (target, met?, figure); met=None prints n/a (not measured in this run)."""
    print(f"\n## {title}\n")
    width = max(len(r[0]) for r in rows) if rows else 10
    for name, ok, figure in rows:
        mark = "n/a " if ok is None else ("PASS" if ok else "MISS")
        print(f"  [{mark}] {name:<{width}}  {figure}")


def environment_line() -> str:
    import platform

    import trackpy

    cuda = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return (
        f"python {platform.python_version()}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"trackpy {trackpy.__version__}, numba {'yes' if has_numba() else 'no'}, CUDA: {cuda}, "
        f"CPU: {platform.processor() or platform.machine()}"
    )


def has_numba() -> bool:
    try:
        import numba  # noqa: F401
    except Exception:
        return False
    return True
