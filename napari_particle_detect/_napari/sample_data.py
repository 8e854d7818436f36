"""Sample data: a generated stack of heavily overlapping particles with its truth, generated rods, chains and a
volume of spheres, and the bundled images."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ParticleDetectError
from ..files.calibration import file_calibration
from ..files.io import read_image
from ..shipped import SAMPLE_DATA_DIR
from ..synthetic.spheres import benchmark_config, synthesize

# The same seeds as sample_data/synthetic_stack.tif, so the generated sample and the file agree.
SYNTHETIC_SEEDS = (900, 901, 902, 903)
# In a sample image's layer metadata: the kind of particle it shows, so the Rods and chains dock opens it
# with that kind instead of making the user notice it is set to the other.
KIND_HINT = "particle_kind"
# In a bundled image's layer metadata: the file it was read from. A sample's layer has no file of its own (its
# project is kept under its name, not beside the installed package), and the Tracks panel reads a frame interval
# from the image's file only, so bulk water's 24 fps were lost between the file and the dock.
SAMPLE_FILE_KEY = "sample_file"


def synthetic_stack(shape: tuple[int, int] = (256, 256), area_fraction: float = 0.7) -> list[tuple]:
    """Fluorescent particles covering 70 % of the field, overlapping heavily; exact centres as a second layer."""
    samples = [synthesize(benchmark_config("fluorescent", area_fraction, shape), seed) for seed in SYNTHETIC_SEEDS]
    stack = np.stack([s.image for s in samples])
    truth = np.concatenate([np.column_stack([np.full(len(s.centres), i), s.centres]) for i, s in enumerate(samples)])
    labels = _sample_axis_labels("tyx")
    return [
        (stack, {"name": "synthetic particles", "axis_labels": labels}, "image"),
        (truth, {"name": "synthetic particles truth", "symbol": "cross", "size": 4, "face_color": "magenta",
                 "border_width": 0, "visible": False, "axis_labels": labels}, "points"),
    ]


def _sample_axis_labels(letters: str) -> tuple[str, ...]:
    """A sample's slider labels in the viewer it opens into (layers.named_axis_labels): napari numbered a stack's, and
    '-3' stood beside its frame slider; labels the user gave that viewer's axes stay."""
    from napari import current_viewer

    from .layers import named_axis_labels

    return named_axis_labels(current_viewer(), letters)


def _bundled(filename: str, name: str) -> list[tuple]:
    """A bundled image, drawn at the pixel size its own metadata gives (as detect records it in its .json,
    so the dock's micrometres and the command line's agree), in pixels where it gives none; its file named in
    its metadata (:func:`sample_file`), for the frame interval the file gives."""
    path = SAMPLE_DATA_DIR / filename
    if not path.exists():
        raise ParticleDetectError(f"{path}: bundled sample image missing from the installed package")
    image = read_image(path)
    kwargs = {"name": name, "metadata": {SAMPLE_FILE_KEY: str(path)}, **_calibrated_scale(path, image.ndim)}
    if image.ndim == 3:  # a stack of frames, as detect reads it
        kwargs["axis_labels"] = _sample_axis_labels("tyx")
    # Over its own grey levels, as napari shows a 16-bit image and particle-detect gui the same file: at the 0-255
    # napari gives 8 bits the latex spheres (grey levels 93-140) were a flat grey canvas. Given limits are also the
    # slider's range, so it spans the levels the image has, not a narrower part of them.
    low, high = float(image.min()), float(image.max())
    if high > low:
        kwargs["contrast_limits"] = (low, high)
    return [(image, kwargs, "image")]


def sample_file(layer) -> Path | None:
    """The bundled file an image layer was opened from by File > Open Sample (or copies one that was); None for
    any other layer."""
    path = layer.metadata.get(SAMPLE_FILE_KEY) if isinstance(layer.metadata, dict) else None
    return Path(path) if isinstance(path, str) else None


def _calibrated_scale(path: Path, ndim: int) -> dict:
    """Layer scale and units of ``path``'s y, x pixel size in micrometres; {} where its metadata gives none."""
    pixel_um = file_calibration(path).pixel_um
    if pixel_um is None:
        return {}
    lead = ndim - 2
    return {"scale": (1.0,) * lead + pixel_um, "units": ("pixel",) * lead + ("um", "um")}


def opaque_discs() -> list[tuple]:
    return _bundled("seed_demo_opaque_discs_4.tif", "opaque discs")


def brightfield_colloids() -> list[tuple]:
    return _bundled("trackpy_brightfield_3.tif", "bright-field colloids")


def bulk_water() -> list[tuple]:
    return _bundled("trackpy_bulk_water_3.tif", "latex spheres in water")


def rods_sample() -> list[tuple]:
    """Fluorescent rods (aspect 2-10) at area fraction 0.2, with their exact lines as a hidden layer."""
    from ..synthetic.rods import benchmark_rod_config, synthesize_rods
    from .kind_layers import rods_layer_data

    sample = synthesize_rods(benchmark_rod_config("fluorescent", 0.2), seed=910)
    lines, kwargs, kind = rods_layer_data(sample.table.assign(source="added"), "rods truth")
    return [(sample.image, {"name": "synthetic rods", "metadata": {KIND_HINT: "rods"}}, "image"),
            (lines, {**kwargs, "visible": False}, kind)]


def chains_sample() -> list[tuple]:
    """Fluorescent bead chains (3-20 beads) packed until they touch, with their exact chains hidden."""
    from ..synthetic.chains import benchmark_chain_config, synthesize_chains
    from .kind_layers import chain_layers_data

    sample = synthesize_chains(benchmark_chain_config("fluorescent", 0.3), seed=911)
    layers = chain_layers_data(sample.table.assign(source="added", score=np.nan), "chains truth")
    return [(sample.image, {"name": "synthetic bead chains", "metadata": {KIND_HINT: "chains"}}, "image")] + [
        (data, {**kwargs, "visible": False}, kind) for data, kwargs, kind in layers]


def volume_sample() -> list[tuple]:
    """A confocal-like volume (ZYX) of spheres packed to overlap in xy, for the Volume detection (3D) dock; drawn at
    its z step (z voxels twice the xy pixels), so the dock sizes spheres along z from their xy diameter."""
    from ..synthetic.volumes import VolumeConfig, synthesize_volume

    # Small, to be made in about half a second; a fixed seed, so it shows the same spheres each time it is opened.
    sample = synthesize_volume(VolumeConfig(shape=(24, 96, 96), volume_fraction=0.35), seed=920)
    # Its axes named: napari's default labels put '-3' beside the z slider, read as the slider's first position.
    return [(sample.image, {"name": "synthetic spheres (3D)", "scale": sample.config.voxel_size,
                            "axis_labels": _sample_axis_labels("zyx")}, "image")]
