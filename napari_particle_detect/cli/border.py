"""``evaluate --border PX``: the centres within PX of the image edge are left out of the scores, so each
file's image size is needed: ``--shape H W``, else the truth's ``synth.json``, else detect's ``.json``. Volumes
(z tables) alike, in y voxels: ``--shape Z Y X``, the band as thick along each axis as PX y voxels are long.

synth draws particles centred up to one radius outside the image, cut by its edge, but its truth lists only
the centres inside: scored to the edge, every detection of such a particle is a false positive (a stack of
192 px images read precision 0.89 where it is about 0.95)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TypeVar

import pandas as pd

from ..arguments import number_in
from ..errors import ParticleDetectError

Size = tuple[int, int]
VolumeSize = tuple[int, int, int]
Recorded = TypeVar("Recorded")


class ShapeAction(argparse.Action):
    """``--shape H W`` (frame,y,x tables) or ``--shape Z Y X`` (volumes)."""

    def __call__(self, parser, namespace, values, option_string=None):
        if len(values) not in (2, 3):
            parser.error(f"{option_string}: give the image's H W or the volume's Z Y X, got {len(values)} numbers")
        setattr(namespace, self.dest, tuple(values))


def add_border_options(evaluate: argparse.ArgumentParser) -> None:
    evaluate.add_argument("--border", type=number_in(0, 100_000), default=0.0, metavar="PX",
                          help="leave out of the scores the true and predicted centres within PX of the image edge "
                               "(a pair counts where its true centre lies), as the benchmarks score synth's images, "
                               "whose truth leaves out the particles centred outside the image: about one particle "
                               "diameter. Default 0: every centre counts")
    evaluate.add_argument("--shape", type=number_in(1, 1_000_000, whole=True), nargs="+", default=None,
                          action=ShapeAction, metavar="N",
                          help="with --border: the images' height and width in px, H W, or the volumes' Z Y X in "
                               "voxels (default: synth.json beside the truth, else each file's from detect's .json "
                               "beside the predictions)")


def check_border_options(args: argparse.Namespace) -> None:
    """Refuse ``--shape`` without ``--border`` (it would be ignored) and ``--border`` where it is not applied."""
    if args.shape is not None and not args.border:
        raise ParticleDetectError("--shape H W (or Z Y X) is the image size for --border; give --border PX too")
    if args.border and args.kind != "spheres":
        raise ParticleDetectError(f"--border leaves out sphere centres at the image edge; not with --kind {args.kind}")


def border_sizes(args: argparse.Namespace, predicted: pd.DataFrame, truth: pd.DataFrame
                 ) -> tuple[Size | dict[str, Size] | None, str]:
    """With ``--border``, read before the tables are paired (their files named as detect named them): one image
    size for every frame, or each predicted file's (scored file by file), and where it was read; (None, "")
    without a border or for volumes (:func:`volume_sizes`, once paired). One ParticleDetectError where no size is
    found."""
    if not args.border or "z" in predicted.columns or "z" in truth.columns:
        return None, ""
    if args.shape is not None and len(args.shape) != 2:
        raise ParticleDetectError(f"--shape {' '.join(map(str, args.shape))}: {args.predicted} is a frame,y,x table; "
                                  "give its images' H W")
    if args.shape is not None:
        return (int(args.shape[0]), int(args.shape[1])), "--shape"
    synth = _synth_size(args.truth)
    if synth is not None:
        return synth, str(args.truth.parent / "synth.json")
    from ..files.file_detection import metadata_path

    detected, source = _detected_sizes(args.predicted), str(metadata_path(args.predicted))
    # As pair_files pairs them: file by file where both tables name files (or, refused there, several without
    # the truth naming any); else the one image of the predictions.
    if args.file is None and "file" in predicted.columns and ("file" in truth.columns
                                                            or predicted["file"].nunique() > 1):
        return detected, source
    size = _one_image_size(args, predicted, detected)
    if size is None:
        raise _no_size(args, str(args.predicted))
    return size, source


def frame_sizes(args: argparse.Namespace, sizes: Size | dict[str, Size] | None,
                labels: list[tuple[str, int]] | None) -> Size | dict[int, Size] | None:
    """:func:`border_sizes`' sizes as ``evaluate_frames(shape=...)`` takes them for the paired tables: one for
    every frame, or each frame number's, its file's (``labels``: the (file, frame) of each number)."""
    if not isinstance(sizes, dict):
        return sizes
    by_frame = {}
    for number, (name, _) in enumerate(labels or ()):
        if name not in sizes:
            raise _no_size(args, name)
        by_frame[number] = sizes[name]
    return by_frame


def volume_sizes(args: argparse.Namespace, labels: list[tuple[str, int]] | None
                 ) -> tuple[VolumeSize | dict[int, VolumeSize] | None, str]:
    """With ``--border`` on volumes, read once the tables are paired: the Z Y X size of every volume, or of each
    frame number (its file's: ``labels``, the (file, frame) of each number), and where it was read; (None, "")
    without a border. One ParticleDetectError where no size is found."""
    if not args.border:
        return None, ""
    if args.shape is not None:
        if len(args.shape) != 3:
            raise ParticleDetectError(f"--shape {' '.join(map(str, args.shape))}: {args.predicted} holds volumes; "
                                      "give their Z Y X")
        return tuple(int(n) for n in args.shape), "--shape"
    synth = _synth_size(args.truth, 3)
    if synth is not None:
        return synth, str(args.truth.parent / "synth.json")
    from ..files.file_detection import metadata_path

    detected, source = _detected_sizes(args.predicted, 3), str(metadata_path(args.predicted))
    if labels is None:
        size = recorded_for(args, detected, None)
        if size is None:
            raise _no_size(args, str(args.predicted), "Z Y X")
        return size, source
    by_frame = {}
    for number, (name, _) in enumerate(labels):
        if name not in detected:
            raise _no_size(args, name, "Z Y X")
        by_frame[number] = detected[name]
    return by_frame, source


def recorded_for(args: argparse.Namespace, values: dict[str, Recorded], name: str | None) -> Recorded | None:
    """What detect's .json records (``values``, by file) of the file ``name``; where the paired tables name no
    file (None), of the one ``--file`` picks, else the one value every input shares (None where they differ)."""
    from ..kinds.evaluation import chosen_file

    if name is not None:
        return values.get(name)
    if args.file is not None and values:
        try:
            return values.get(chosen_file(pd.DataFrame({"file": list(values)}), args.file, str(args.predicted)))
        except ParticleDetectError:  # not one of its inputs: the .json is of other images
            return None
    distinct = list(dict.fromkeys(values.values()))
    return distinct[0] if len(distinct) == 1 else None


def border_note(args: argparse.Namespace, pooled: dict, source: str, unit: str = "px") -> str:
    """One line over the scores: the border, where the image size came from, and what it left out."""
    from ..kinds.evaluation import LEFT_OUT

    truths, predictions = (int(pooled[key]) for key in LEFT_OUT)
    return (f"border {args.border:g} {unit} (image size from {source}): left out {truths} of "
            f"{int(pooled['tp'] + pooled['fn']) + truths} true and {predictions} of "
            f"{int(pooled['tp'] + pooled['fp']) + predictions} predicted centres")


def _no_size(args: argparse.Namespace, what: str, shape: str = "H W") -> ParticleDetectError:
    from ..files.file_detection import metadata_path

    return ParticleDetectError(f"{what}: --border needs the image size: give --shape {shape} (no synth.json beside "
                               f"{args.truth}, and {metadata_path(args.predicted)} records no shape of it)")


def _synth_size(truth: Path, dims: int = 2) -> Size | VolumeSize | None:
    """The image size (``dims`` 2: H W; 3: a volume's Z Y X) synth recorded beside its truth tables (one for every
    image it wrote); None without."""
    try:
        return _whole_size(json.loads((truth.parent / "synth.json").read_text())["shape"], dims, "synth.json shape")
    except (OSError, ValueError, TypeError, KeyError):  # none there, or another sort of synth's (2D against 3D)
        return None


def _whole_size(value: object, dims: int, name: str) -> Size | VolumeSize:
    """``value`` as an image's (H, W) or a volume's (Z, Y, X): ``dims`` positive whole numbers, else a ValueError."""
    from ..kinds.evaluation import image_size

    if dims == 2:
        return image_size(value, name)
    try:
        z, *yx = value
    except (TypeError, ValueError):
        z, yx = None, ()
    if len(yx) != 2:
        raise ValueError(f"{name} must be the volume's (z, y, x) in voxels, three whole numbers, got {value!r}")
    return image_size((z, z), name)[:1] + image_size(yx, name)


def detected_records(predicted: Path) -> dict[str, dict]:
    """Each input's record in detect's .json beside ``predicted``, by the file as the table names it; {} without
    one."""
    from ..files.file_detection import is_detect_metadata, read_metadata

    meta = read_metadata(predicted)
    if not is_detect_metadata(meta) or not isinstance(meta.get("inputs"), list):
        return {}
    return {str(record["file"]): record for record in meta["inputs"] if isinstance(record, dict) and "file" in record}


def _detected_sizes(predicted: Path, dims: int = 2) -> dict[str, Size | VolumeSize]:
    """Each input's image size that detect's .json beside ``predicted`` records (``shape``: frames, height,
    width; a volume's: volumes, z, y, x), ``dims`` of it, by the file as the table names it; {} without one."""
    sizes = {}
    for name, record in detected_records(predicted).items():
        try:
            sizes[name] = _whole_size(record["shape"][-dims:], dims, "shape")
        except (ValueError, TypeError, KeyError):  # an earlier detect's record, without the shape
            continue
    return sizes


def _one_image_size(args: argparse.Namespace, predicted: pd.DataFrame, detected: dict[str, Size]) -> Size | None:
    """The size of the one image scored: the file of the predictions' file column (or the one ``--file``
    names), else detect's one input."""
    from ..kinds.evaluation import chosen_file

    if "file" in predicted.columns and len(predicted):
        name = chosen_file(predicted, args.file, str(args.predicted)) if args.file else str(predicted["file"].iloc[0])
        return detected.get(name)
    return next(iter(detected.values())) if len(detected) == 1 else None
