"""``evaluate --border PX``: the centres within PX of the image edge are left out of the scores, so each
file's image size is needed: ``--shape H W``, else the truth's ``synth.json``, else detect's ``.json``.

synth draws particles centred up to one radius outside the image, cut by its edge, but its truth lists only
the centres inside: scored to the edge, every detection of such a particle is a false positive (a stack of
192 px images read precision 0.89 where it is about 0.95)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from ..arguments import number_in
from ..errors import ParticleDetectError

Size = tuple[int, int]


def add_border_options(evaluate: argparse.ArgumentParser) -> None:
    evaluate.add_argument("--border", type=number_in(0, 100_000), default=0.0, metavar="PX",
                          help="leave out of the scores the true and predicted centres within PX of the image edge "
                               "(a pair counts where its true centre lies), as the benchmarks score synth's images, "
                               "whose truth leaves out the particles centred outside the image: about one particle "
                               "diameter. Default 0: every centre counts")
    evaluate.add_argument("--shape", type=number_in(1, 1_000_000, whole=True), nargs=2, default=None,
                          metavar=("H", "W"),
                          help="with --border: the images' height and width in px (default: synth.json beside the "
                               "truth, else each file's from detect's .json beside the predictions)")


def check_border_options(args: argparse.Namespace) -> None:
    """Refuse ``--shape`` without ``--border`` (it would be ignored) and ``--border`` where it is not applied."""
    if args.shape is not None and not args.border:
        raise ParticleDetectError("--shape H W is the image size for --border; give --border PX too")
    if args.border and args.kind != "spheres":
        raise ParticleDetectError(f"--border leaves out sphere centres at the image edge; not with --kind {args.kind}")


def border_sizes(args: argparse.Namespace, predicted: pd.DataFrame, truth: pd.DataFrame
                 ) -> tuple[Size | dict[str, Size] | None, str]:
    """With ``--border``, read before the tables are paired (their files named as detect named them): one image
    size for every frame, or each predicted file's (scored file by file), and where it was read; (None, "")
    without a border. One ParticleDetectError where no size is found or the tables are volumes."""
    if not args.border:
        return None, ""
    if "z" in predicted.columns or "z" in truth.columns:
        raise ParticleDetectError(f"{args.predicted}: --border is for frame,y,x tables, not volumes (a z column)")
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


def border_note(args: argparse.Namespace, pooled: dict, source: str) -> str:
    """One line over the scores: the border, where the image size came from, and what it left out."""
    from ..kinds.evaluation import LEFT_OUT

    truths, predictions = (int(pooled[key]) for key in LEFT_OUT)
    return (f"border {args.border:g} px (image size from {source}): left out {truths} of "
            f"{int(pooled['tp'] + pooled['fn']) + truths} true and {predictions} of "
            f"{int(pooled['tp'] + pooled['fp']) + predictions} predicted centres")


def _no_size(args: argparse.Namespace, what: str) -> ParticleDetectError:
    from ..files.file_detection import metadata_path

    return ParticleDetectError(f"{what}: --border needs the image size: give --shape H W (no synth.json beside "
                               f"{args.truth}, and {metadata_path(args.predicted)} records no shape of it)")


def _synth_size(truth: Path) -> Size | None:
    """The image size synth recorded beside its truth tables (one for every image it wrote); None without."""
    from ..kinds.evaluation import image_size

    try:
        return image_size(json.loads((truth.parent / "synth.json").read_text())["shape"], "synth.json shape")
    except (OSError, ValueError, TypeError, KeyError):  # none there, or another sort of synth's (volumes: 3D)
        return None


def _detected_sizes(predicted: Path) -> dict[str, Size]:
    """Each input's image size that detect's .json beside ``predicted`` records (``shape``: frames, height,
    width), by the file as the table names it; {} without one."""
    from ..files.file_detection import is_detect_metadata, read_metadata
    from ..kinds.evaluation import image_size

    meta = read_metadata(predicted)
    if not is_detect_metadata(meta) or not isinstance(meta.get("inputs"), list):
        return {}
    sizes = {}
    for record in meta["inputs"]:
        try:
            sizes[str(record["file"])] = image_size(record["shape"][-2:], "shape")
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
