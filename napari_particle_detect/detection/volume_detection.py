"""Centres of particles in volumes (Z, Y, X): resample to the 3D model's working grid, run the
network tile by tile, decode 3D peaks, map centres back to the volume's voxels.

The particle size per axis comes from ``--diameter`` (one value: xy, z from the voxel size; three:
z, y, x in voxels), or is estimated: xy by the 2D estimator on the sharpest middle slices, z from
the voxel size when known, else from how far the image stays alike along z against along y.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..files.axes import Axes, ConstantVolumeError, check_volume, read_volumes
from ..errors import ParticleDetectError
from ..kinds.heatmap3d import decode3d
from .volume_resampling import from_working, normalise_volume, resample_volume, working_factors
from .threads import keeps_torch_threads

log = logging.getLogger(__name__)

VOLUME_COLUMNS = ["frame", "z", "y", "x", "score"]
DEFAULT_VOLUME_MODEL = "unet3d"
# Apparent z size over the physical one in the autocorrelation, for the confocal PSFs the model was
# trained for (2-4x longer in z): measured on the generator (benchmarks/volumes.py prints the check).
APPARENT_Z_WIDENING = 1.65
# A slice cuts most spheres off their equator, so the 2D estimate on one slice reads small: 0.84 of
# the diameter (median over 30 generator volumes of varied optics and density).
SECTION_FACTOR = 0.84
# Estimated xy diameters are kept within the 3D model's training range (7-14 px), widened a little.
ESTIMATE_RANGE = (5.0, 20.0)


@dataclass(frozen=True)
class VolumeOptions:
    threshold: float | None = None
    diameter: tuple[float, ...] | None = None  # (xy,) or (z, y, x), voxels
    voxel_size: tuple[float, float, float] | None = None  # z, y, x: their ratios size z from xy (any one unit)
    device: str = "auto"
    window: int = 96
    threads: int | None = None
    runtime: str = "auto"  # "auto": ONNX Runtime float32 on a CPU (about 1.5x torch on a 96^3 tile), torch on a GPU


@dataclass
class VolumeSizing:
    diameter: tuple[float, float, float]  # z, y, x voxels
    source: str  # "given", "voxel size", "estimated"
    confident: bool = True
    reason: str = ""
    extra: dict = field(default_factory=dict)


def volume_sizing(volume: np.ndarray, diameter: tuple[float, ...] | None,
                  voxel_size: tuple[float, float, float] | None) -> VolumeSizing:
    """The particle diameter per axis in voxels, and how it was found."""
    from .sizing import estimate_size

    if diameter is not None and len(diameter) == 3:
        return VolumeSizing(tuple(float(d) for d in diameter), "given")
    confident, reason = True, ""
    if diameter is not None:
        xy, source = float(diameter[0]), "given"
    else:
        # Five slices through the middle half (least depth loss), their median: one slice alone can
        # read twice the size (measured on the generator at volume fraction 0.45).
        nz = volume.shape[0]
        picks = np.unique(np.linspace(0.25 * (nz - 1), 0.75 * (nz - 1), 5).round().astype(int))
        estimates = [estimate_size(np.asarray(volume[i], dtype=np.float32)) for i in picks]
        sizes = [e.diameter for e in estimates]
        xy, source = float(np.median(sizes)) / SECTION_FACTOR, "estimated"
        doubtful = [e for e in estimates if not e.confident]
        if 2 * len(doubtful) > len(estimates):
            confident, reason = False, doubtful[0].reason
        elif max(sizes) > 1.3 * min(sizes):
            confident, reason = False, "slices disagree: " + ", ".join(f"{d:.1f}" for d in sizes) + " px"
        if not ESTIMATE_RANGE[0] <= xy <= ESTIMATE_RANGE[1]:
            # On dim, noisy volumes the 2D estimate can read noise grains as particles (2.7 px for 10 px
            # shells at 60 photons): enlarged to the working size, they cost minutes and gigabytes.
            clamped = float(np.clip(xy, *ESTIMATE_RANGE))
            confident, reason = False, (f"estimated {xy:.1f} px, outside what the 3D model knows; used "
                                        f"{clamped:.1f} px")
            xy = clamped
    if voxel_size is not None:
        z = xy * voxel_size[1] / voxel_size[0]
        return VolumeSizing((z, xy, xy), source if diameter is not None else "estimated xy, z from voxel size",
                            confident, reason)
    ratio = _apparent_anisotropy(volume)
    z = xy * ratio / APPARENT_Z_WIDENING
    return VolumeSizing((z, xy, xy), "estimated" if diameter is None else "given xy, z estimated", confident, reason,
                        {"apparent_z_over_y": round(ratio, 3)})


def _apparent_anisotropy(volume: np.ndarray) -> float:
    """How many times longer (in voxels) structures look along z than along y: the lags where the
    intensity autocorrelation of a central block falls to one half, z over y."""
    nz, ny, nx = volume.shape
    block = np.asarray(volume[:, ny // 2 - min(ny, 128) // 2: ny // 2 + min(ny, 128) // 2,
                              nx // 2 - min(nx, 128) // 2: nx // 2 + min(nx, 128) // 2], dtype=np.float32)
    block = block - block.mean()
    spectrum = np.abs(np.fft.rfftn(block, s=[2 * n for n in block.shape])) ** 2
    corr = np.fft.irfftn(spectrum)[: block.shape[0], : block.shape[1], : block.shape[2]]
    corr /= corr[0, 0, 0]

    def half(profile: np.ndarray) -> float:
        below = np.nonzero(profile < 0.5)[0]
        if not len(below):
            return float(len(profile))
        i = below[0]
        return float(i - 1 + (profile[i - 1] - 0.5) / max(profile[i - 1] - profile[i], 1e-9))

    return half(corr[:, 0, 0]) / max(half(corr[0, :, 0]), 1e-6)


def volume_network(model, device, runtime: str = "auto", threads: int | None = None):
    """The 3D network on the runtime asked for: ONNX Runtime float32 on a CPU under "auto"."""
    from .runtimes import onnx_network, openvino_network, resolve_runtime

    chosen, precision = resolve_runtime(runtime, "float32", device)
    if chosen == "onnx":
        return onnx_network(model, precision, threads=threads)
    if chosen == "openvino":
        return openvino_network(model, precision, threads=threads)
    return model.network.to(device)


def detect_volume(volume: np.ndarray, model, options: VolumeOptions, name: str = "volume",
                  sizing: VolumeSizing | None = None) -> tuple[np.ndarray, np.ndarray, VolumeSizing]:
    """Centres (N, 3) z, y, x in voxels of one volume, their scores, and the sizing used."""
    import torch

    from .volume_inference import predict_heatmap3d

    volume = check_volume(volume, name)
    sizing = sizing or volume_sizing(volume, options.diameter, options.voxel_size)
    factors = working_factors(sizing.diameter, model.card.canonical_diameter)
    working, applied = resample_volume(volume, factors)
    del volume
    if min(working.shape) < 4:
        raise ParticleDetectError(f"{name}: too few voxels for particles of {sizing.diameter} voxels "
                                  f"(working grid {working.shape})")
    working = normalise_volume(working)
    device = torch.device("cpu") if options.device in ("auto", "cpu") else torch.device(options.device)
    if options.device == "auto" and torch.cuda.is_available():
        device = torch.device("cuda")
    network = volume_network(model, device, options.runtime, options.threads)
    heat = predict_heatmap3d(network, working, stride=2 ** (len(model.card.channels) - 1),
                             window=options.window, device=device)
    del working
    threshold = model.card.threshold if options.threshold is None else options.threshold
    centres, scores = decode3d(heat, threshold, model.card.min_distance, sigma=model.card.sigma)
    centres = from_working(centres, applied)
    # Spheres cut by a face whose centre lies outside the volume are not this volume's particles.
    shape = np.array(heat.shape) / applied
    inside = np.all((centres >= -0.5) & (centres <= shape - 0.5), axis=1)
    return centres[inside], scores[inside], sizing


def load_volume_model(model_path: str | Path | None, device: str = "cpu"):
    """The 3D model (default: the shipped unet3d); a 2D model is refused by name."""
    from ..models import load_model_cached
    from ..models.registry import default_model_path

    path = model_path if model_path is not None else default_model_path(DEFAULT_VOLUME_MODEL)
    model = load_model_cached(path, "cpu")
    if model.card.spatial_dims != 3:
        raise ParticleDetectError(f"{model.path}: a 2D model; volumes need a 3D model (the shipped "
                                  f"{DEFAULT_VOLUME_MODEL}, or one trained for volumes)")
    return model


def volume_table(frame: int, centres: np.ndarray, scores: np.ndarray,
                 microns: tuple[float, float, float] | None) -> pd.DataFrame:
    """``frame,z,y,x,score`` (voxels), and ``z_um,y_um,x_um`` when ``microns`` (the voxel size in
    micrometres) is known: a size in another unit, or none, labels nothing as micrometres."""
    table = pd.DataFrame({"frame": frame, "z": centres[:, 0], "y": centres[:, 1], "x": centres[:, 2],
                          "score": scores})
    if microns is not None:
        for axis, size in zip("zyx", microns):
            table[f"{axis}_um"] = table[axis] * size
    return table


def blank_volume(volumes: np.ndarray, t: int, exc: ConstantVolumeError) -> str:
    """What to say of a constant volume ``t`` of a series, skipped so the rest is detected; a single
    volume's (nothing else to detect) is raised again."""
    if volumes.shape[0] == 1:
        raise exc
    return f"{exc} (volume {t} skipped; the rest of the series is detected)"


@keeps_torch_threads
def detect_volume_file(path: str | Path, axes: Axes, options: VolumeOptions, model_path: str | Path | None = None,
                       progress=None) -> tuple[pd.DataFrame, dict]:
    """Centres of every volume of one ZYX or TZYX file, as ``frame,z,y,x,score`` (+ ``*_um`` when the
    voxel size is known in micrometres: ``options.voxel_size``, taken as micrometres, or the file's in a
    length unit), and a record of what was used. A constant volume of a series is skipped with a warning."""
    import torch

    start = time.perf_counter()
    if options.threads:
        torch.set_num_threads(int(options.threads))
    path = Path(path)
    data = read_volumes(path, axes)
    try:
        check_volume(np.asarray(data[0]), f"{path}")  # bad voxels named before the model loads
    except ConstantVolumeError as exc:
        blank_volume(data, 0, exc)  # a series goes on: its other volumes are checked as they come
    model = load_volume_model(model_path)
    voxel = options.voxel_size or axes.voxel_size
    unit = "µm" if options.voxel_size else axes.voxel_unit
    microns = options.voxel_size or axes.voxel_um
    opts = VolumeOptions(options.threshold, options.diameter, voxel, options.device, options.window, options.threads,
                         options.runtime)
    parts, sizing, skipped, pending = [], None, [], []
    for t in range(data.shape[0]):
        name = f"{path}" + (f" volume {t}" if data.shape[0] > 1 else "")
        try:
            centres, scores, sizing = detect_volume(np.asarray(data[t]), model, opts, name, sizing)
        except ConstantVolumeError as exc:
            pending.append(blank_volume(data, t, exc))
            skipped.append(t)
            continue
        for note in pending:  # said once a volume is detected: a series all blank is one error line
            log.warning("%s", note)
        pending = []
        parts.append(volume_table(t, centres, scores, microns))
        if progress is not None:
            progress(t + 1, data.shape[0])
    if sizing is None:
        raise ParticleDetectError(f"{path}: every volume is constant; nothing to detect")
    table = pd.concat(parts, ignore_index=True)
    record = {"file": str(path), "axes": axes.axes, "axes_source": axes.source, "volumes": int(data.shape[0]),
              "centres": len(table), "diameter_voxels_zyx": [round(d, 3) for d in sizing.diameter],
              "diameter_source": sizing.source, "diameter_confidence": "high" if sizing.confident else "low",
              "diameter_reason": sizing.reason, "voxel_size_zyx": list(voxel) if voxel else None,
              "voxel_unit": unit if voxel else None, "skipped_volumes": skipped,
              "model": str(model.path), "threshold": model.card.threshold if options.threshold is None
              else options.threshold, "seconds": round(time.perf_counter() - start, 2), **sizing.extra}
    return table, record
