"""``evaluate --border PX``: the centres within PX of the image edge are left out of the scores (rods by their
centre, chains bead by bead), so each file's image size is needed: ``--shape H W``, else the truth's
``synth.json``, else detect's ``.json``. Volumes (z tables) alike, in y voxels: ``--shape Z Y X``, the band as
thick along each axis as PX y voxels are long.

synth draws particles centred up to one radius outside the image, cut by its edge, but its truth lists only
the centres inside: scored to the edge, every detection of such a particle is a false positive (a stack of
192 px images read precision 0.89 where it is about 0.95)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TypeVar

import pandas as pd

from ..arguments import number_in
from ..errors import ParticleDetectError
from .recorded import RecordsBesideTables

Size = tuple[int, int]
VolumeSize = tuple[int, int, int]
Sized = TypeVar("Sized")


class ShapeAction(argparse.Action):
    """``--shape H W`` (frame,y,x tables) or ``--shape Z Y X`` (volumes)."""

    def __call__(self, parser, namespace, values, option_string=None):
        if len(values) not in (2, 3):
            parser.error(f"{option_string}: give the image's H W or the volume's Z Y X, got {len(values)} numbers")
        setattr(namespace, self.dest, tuple(values))


def add_border_options(evaluate: argparse.ArgumentParser) -> None:
    evaluate.add_argument("--border", type=number_in(0, 100_000), default=0.0, metavar="PX",
                          help="leave out of the scores the true and predicted centres within PX of the image edge "
                               "(a pair counts where its true centre lies; rods by their centre, chains bead by "
                               "bead), as the benchmarks score synth's images, "
                               "whose truth leaves out the particles centred outside the image: about one particle "
                               "diameter. Default 0: every centre counts")
    evaluate.add_argument("--shape", type=number_in(1, 1_000_000, whole=True), nargs="+", default=None,
                          action=ShapeAction, metavar="N",
                          help="with --border: the images' height and width in px, H W, or the volumes' Z Y X in "
                               "voxels (default: synth.json beside the truth, else each file's from detect's .json "
                               "beside the predictions)")


def check_border_options(args: argparse.Namespace) -> None:
    """Refuse ``--shape`` without ``--border`` (it would be ignored)."""
    if args.shape is not None and not args.border:
        raise ParticleDetectError("--shape H W (or Z Y X) is the image size for --border; give --border PX too")


def border_sizes(args: argparse.Namespace, predicted: pd.DataFrame, truth: pd.DataFrame
                 ) -> tuple[Size | dict[str, Size] | None, str]:
    """With ``--border``, read before the tables are paired (their files named as detect named them): one image
    size for every frame, or each predicted file's (scored file by file), and where it was read; (None, "")
    without a border or for volumes (:func:`volume_sizes`, once paired). One ParticleDetectError where no size is
    found."""
    if not args.border or "z" in predicted.columns or "z" in truth.columns:
        return None, ""
    recorded = RecordsBesideTables(args)
    kind = getattr(args, "kind", "spheres")
    table = "frame,y,x" if kind == "spheres" else kind
    sizes, source = _given_or_recorded(args, recorded, 2, f"is a {table} table; give its images' H W")
    # As pair_files pairs them: file by file where both tables name files (or, refused there, several without
    # the truth naming any); else the one image of the predictions.
    if not isinstance(sizes, dict) or (args.file is None and "file" in predicted.columns
                                       and ("file" in truth.columns or predicted["file"].nunique() > 1)):
        return sizes, source
    size = _one_image_size(args, predicted, sizes)
    if size is None:
        raise _no_size(args, str(args.predicted))
    return size, source


def frame_sizes(args: argparse.Namespace, sizes: Size | dict[str, Size] | None,
                labels: list[tuple[str, int]] | None) -> Size | dict[int, Size] | None:
    """:func:`border_sizes`' sizes as ``evaluate_frames(shape=...)`` takes them for the paired tables: one for
    every frame, or each frame number's, its file's (``labels``: the (file, frame) of each number)."""
    return _each_frame(args, sizes, labels or [], "H W") if isinstance(sizes, dict) else sizes


def volume_sizes(args: argparse.Namespace, labels: list[tuple[str, int]] | None, recorded: RecordsBesideTables
                 ) -> tuple[VolumeSize | dict[int, VolumeSize] | None, str]:
    """With ``--border`` on volumes, read once the tables are paired: the Z Y X size of every volume, or of each
    frame number (its file's: ``labels``, the (file, frame) of each number), and where it was read; (None, "")
    without a border. One ParticleDetectError where no size is found."""
    if not args.border:
        return None, ""
    sizes, source = _given_or_recorded(args, recorded, 3, "holds volumes; give their Z Y X")
    if not isinstance(sizes, dict):
        return sizes, source
    if labels is not None:
        return _each_frame(args, sizes, labels, "Z Y X"), source
    size = recorded.for_file(sizes, None)
    if size is None:
        raise _no_size(args, str(args.predicted), "Z Y X")
    return size, source


def _given_or_recorded(args: argparse.Namespace, recorded: RecordsBesideTables, dims: int, wrong_shape: str
                       ) -> tuple[Size | VolumeSize | dict[str, Size | VolumeSize], str]:
    """The image size (``dims`` 2: H W; 3: a volume's Z Y X) ``--shape`` gives (of another length: refused, the
    tables being what ``wrong_shape`` says), else synth's beside the truth, else each file's that detect's .json
    records; and where it was read."""
    if args.shape is not None:
        if len(args.shape) != dims:
            raise ParticleDetectError(f"--shape {' '.join(map(str, args.shape))}: {args.predicted} {wrong_shape}")
        return tuple(int(n) for n in args.shape), "--shape"
    synth = _synth_size(recorded.synth, dims)
    if synth is not None:
        return synth, str(recorded.synth_path)
    return _detected_sizes(recorded.inputs, dims), str(recorded.detect_path)


def _each_frame(args: argparse.Namespace, sizes: dict[str, Sized], labels: list[tuple[str, int]], words: str
                ) -> dict[int, Sized]:
    """Each paired frame number's size, its file's (``labels``: the (file, frame) of each number); a
    ParticleDetectError asking for ``--shape`` ``words`` where a file has none."""
    by_frame = {}
    for number, (name, _) in enumerate(labels):
        if name not in sizes:
            raise _no_size(args, name, words)
        by_frame[number] = sizes[name]
    return by_frame


def border_note(args: argparse.Namespace, pooled: dict, source: str, unit: str = "px", what: str = "centres") -> str:
    """One line over the scores: the border, where the image size came from, and what it left out (of the
    ``what``: centres, rods, beads)."""
    from ..kinds.border_band import LEFT_OUT

    truths, predictions = (int(pooled[key]) for key in LEFT_OUT)
    return (f"border {args.border:g} {unit} (image size from {source}): left out {truths} of "
            f"{int(pooled['tp'] + pooled['fn']) + truths} true and {predictions} of "
            f"{int(pooled['tp'] + pooled['fp']) + predictions} predicted {what}")


def _no_size(args: argparse.Namespace, what: str, shape: str = "H W") -> ParticleDetectError:
    from ..files.file_detection import metadata_path

    meta = metadata_path(args.predicted)
    # Named as missing where it is: "X.json records no shape" of a file that is not there sent users looking in it.
    recorded = f"{meta} records no shape of it" if Path(meta).exists() else f"no {Path(meta).name} of detect " \
        f"beside {args.predicted}"
    return ParticleDetectError(f"{what}: --border needs the image size: give --shape {shape} (no synth.json beside "
                               f"{args.truth}, and {recorded})")


def _synth_size(synth: dict, dims: int = 2) -> Size | VolumeSize | None:
    """The image size (``dims`` 2: H W; 3: a volume's Z Y X) synth recorded beside its truth tables (one for every
    image it wrote; the kinds' under ``optics``, their ``shape`` being rods or ellipsoids); None without."""
    try:
        return _whole_size(synth["optics"]["shape"] if isinstance(synth.get("optics"), dict) else synth["shape"],
                           dims, "synth.json shape")
    except (ValueError, TypeError, KeyError):  # none there, or another sort of synth's (2D against 3D)
        return None


def _whole_size(value: object, dims: int, name: str) -> Size | VolumeSize:
    """``value`` as an image's (H, W) or a volume's (Z, Y, X): ``dims`` positive whole numbers, else a ValueError."""
    from ..kinds.border_band import image_size

    if dims == 2:
        return image_size(value, name)
    try:
        z, *yx = value
    except (TypeError, ValueError):
        z, yx = None, ()
    if len(yx) != 2:
        raise ValueError(f"{name} must be the volume's (z, y, x) in voxels, three whole numbers, got {value!r}")
    return image_size((z, z), name)[:1] + image_size(yx, name)


def _detected_sizes(inputs: dict[str, dict], dims: int = 2) -> dict[str, Size | VolumeSize]:
    """Each input's image size that detect's .json records (``inputs``, by file; ``shape``: frames, height,
    width; a volume's: volumes, z, y, x), ``dims`` of it."""
    sizes = {}
    for name, record in inputs.items():
        try:
            sizes[name] = _whole_size(record["shape"][-dims:], dims, "shape")
        except (ValueError, TypeError, KeyError):  # an earlier detect's record, without the shape
            continue
    return sizes


def _one_image_size(args: argparse.Namespace, predicted: pd.DataFrame, detected: dict[str, Size]) -> Size | None:
    """The size of the one image scored: the file of the predictions' file column (or the one ``--file``
    names), else detect's one input."""
    from ..kinds.file_pairing import chosen_file

    if "file" in predicted.columns and len(predicted):
        name = chosen_file(predicted, args.file, str(args.predicted)) if args.file else str(predicted["file"].iloc[0])
        return detected.get(name)
    return next(iter(detected.values())) if len(detected) == 1 else None
