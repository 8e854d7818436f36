"""The command line's ``--kind rods|ellipsoids|chains`` branches of synth, train and evaluate (detect
goes through file_detection with ``DetectOptions.kind``). A thin skin over kinds*.py and synthetic_*.py.
"""

from __future__ import annotations

import argparse
import json
import logging
import warnings
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import written_images
from .bars import RoundBar, StepBar, epoch_line, rod_f1_note
from ..errors import ParticleDetectError
from ..kinds.tables import frames_against_none, most_frames_of_one_image
from ..synthetic.rods import MAX_AREA_FRACTION  # the generator's own limit

if TYPE_CHECKING:  # annotations only: the generators and training load with the commands that use them
    from ..learning.kinds_rounds import Reviewed
    from ..learning.kinds_training import NamedFrame
    from ..synthetic.chains import ChainConfig
    from ..synthetic.rods import RodConfig

log = logging.getLogger("napari_particle_detect")


def cmd_synth_kind(args: argparse.Namespace) -> int:
    import tifffile

    from .checks import check_synth_count, check_synth_folder, check_synth_output, warn_of_empty_images
    from ..files.io import atomic_write_text, staged_folder
    from ..kinds.registry import table_csv
    from ..synthetic.chains import synthesize_chains
    from ..synthetic.rods import ROD_LOOKS, expected_count, synthesize_rods

    if args.area_fraction > MAX_AREA_FRACTION:
        raise ParticleDetectError(f"--area-fraction {args.area_fraction:g}: {args.kind} are drawn to an area fraction "
                                  f"of at most {MAX_AREA_FRACTION:g}; give {MAX_AREA_FRACTION:g} or less")
    if args.kind != "chains" and args.look not in ROD_LOOKS:
        raise ParticleDetectError(f"--look {args.look}: {args.kind} are drawn in {', '.join(ROD_LOOKS)}")
    config = benchmark_kind_config(args) if args.benchmark else kind_config(args)
    if args.kind == "chains":
        make = synthesize_chains
        check_synth_output(args.outdir, config.optics, args.n)
    else:
        make = synthesize_rods
        check_synth_folder(args.outdir)
        (height, width_px), width, aspect = config.optics.shape, config.width_range, config.aspect_range
        check_synth_count(expected_count(config), f"--shape {height} {width_px} with --width "
                          f"{width[0]:g} {width[1]:g} and --aspect {aspect[0]:g} {aspect[1]:g}",
                          f"use wider or longer {args.kind}, a smaller --area-fraction or smaller images")
    samples = [make(config, seed=args.seed + i) for i in range(args.n)]
    with staged_folder(args.outdir) as staging:  # all files or none
        if args.stack:
            write_stack(staging / "stack.tif", [s.image for s in samples])
            table = pd.concat([s.table.assign(frame=i) for i, s in enumerate(samples)], ignore_index=True)
            atomic_write_text(staging / "stack.csv", table_csv(_ordered(table)))
        else:
            for i, sample in enumerate(samples):
                tifffile.imwrite(staging / f"image_{i:03d}.tif", sample.image)
                atomic_write_text(staging / f"image_{i:03d}.csv", table_csv(_ordered(sample.table)))
        (staging / "synth.json").write_text(json.dumps({"seed": args.seed, "n": args.n, "kind": args.kind,
                                                        "benchmark": args.benchmark,
                                                        **config.to_dict()}, indent=2, default=str))
    log.info("wrote %s with %s to %s", written_images(args.n, args.stack), _drawn(samples, args), args.outdir)
    warn_of_empty_images([len(s.table) for s in samples], *_largest(config), config.optics.shape,
                         config.area_fraction, "--radius" if args.kind == "chains" else "--width or --aspect")
    return 0


def kind_config(args: argparse.Namespace) -> ChainConfig | RodConfig:
    """synth's rods, ellipsoids or chains as its options (and their defaults) ask: the generator's own
    optics, wider ranges than the README's tables were measured on."""
    from ..synthetic.chains import TRAINING_BEAD_RADIUS, ChainConfig
    from ..synthetic.rods import RodConfig
    from ..synthetic.spheres import SynthConfig

    # --radius's default is the spheres'; chains' beads are drawn at the size the chains model learnt unless
    # it is given (beads of 4-12 px radius, the spheres' default, are partly beyond it).
    given_radius = args.kind != "chains" or "radius" in getattr(args, "given", set())
    radius = tuple(sorted(args.radius)) if given_radius else TRAINING_BEAD_RADIUS
    optics = SynthConfig(shape=tuple(args.shape), look=args.look, radius_range=radius,
                         area_fraction=args.area_fraction, bit_depth=args.bit_depth)
    if args.kind == "chains":
        return ChainConfig(optics=optics, area_fraction=args.area_fraction,
                           beads_range=tuple(int(b) for b in sorted(args.beads)))
    # Ellipsoids are short: the training generator draws them 1.2-5 times as long as wide.
    aspect = args.aspect if args.aspect is not None else ((1.5, 20.0) if args.kind == "rods" else (1.2, 5.0))
    return RodConfig(optics=optics, shape=args.kind, width_range=tuple(sorted(args.width)),
                     aspect_range=tuple(sorted(aspect)), area_fraction=args.area_fraction, alignment=args.alignment)


def benchmark_kind_config(args: argparse.Namespace) -> ChainConfig | RodConfig:
    """``synth --benchmark``: the images benchmarks/anisotropic.py measured the README's rods, ellipsoids and
    chains tables on, but for the options given. Judged on the defaults' harder images, the shipped chains
    model read bond F1 0.71 and 37 % of chains exactly right (4 images) against the table's 0.99 and 92 %."""
    from ..synthetic.chains import benchmark_chain_config
    from ..synthetic.rods import benchmark_rod_config

    given = getattr(args, "given", set())
    area_fraction = args.area_fraction if "area_fraction" in given else 0.15 if args.kind == "ellipsoids" else 0.3
    shape = tuple(args.shape)
    if args.kind == "chains":
        config = benchmark_chain_config(args.look, area_fraction, shape)
        radius = tuple(sorted(args.radius)) if "radius" in given else config.optics.radius_range
        beads = tuple(int(b) for b in sorted(args.beads)) if "beads" in given else config.beads_range
        return replace(config, beads_range=beads,
                       optics=replace(config.optics, radius_range=radius, bit_depth=args.bit_depth))
    ranges = {"kind": args.kind, "alignment": args.alignment}
    if "width" in given:
        ranges["width_range"] = tuple(sorted(args.width))
    ranges["aspect_range"] = tuple(sorted(args.aspect)) if args.aspect is not None else \
        (2.0, 10.0) if args.kind == "rods" else (1.5, 5.0)
    config = benchmark_rod_config(args.look, area_fraction, shape, **ranges)
    return replace(config, optics=replace(config.optics, bit_depth=args.bit_depth))


def write_stack(path: Path, images: list[np.ndarray]) -> None:
    """Synthetic frames as one TIFF stack that names its axes (ImageJ's TYX), so that reading it back takes
    it for frames without a word about a volume it might be."""
    import tifffile

    tifffile.imwrite(path, np.stack(images), imagej=True, metadata={"axes": "TYX"})


def _drawn(samples: list, args: argparse.Namespace) -> str:
    """What the images hold: for chains, the chains and rings (each of --beads LO..HI beads) apart from
    the free beads drawn besides them, which are no chains of the range."""
    if args.kind != "chains":
        return f"{sum(len(s.table) for s in samples)} {args.kind}"
    sizes = pd.concat([s.table.groupby("chain").size() for s in samples if len(s.table)] or [pd.Series([], dtype=int)])
    lo, hi = samples[0].config.beads_range  # --benchmark's 3-20 where --beads is not given
    return (f"{int(sizes.sum())} beads: {int((sizes > 1).sum())} chains and rings of {lo}-{hi} beads and "
            f"{int((sizes == 1).sum())} single beads")


def _largest(config: ChainConfig | RodConfig) -> tuple[str, float]:
    """What a kind's images hold and the longest one drawn, in px (a chain's: its bead; a rod's: its length)."""
    if hasattr(config, "beads_range"):
        return "beads", 2 * config.optics.radius_range[1]
    return config.shape, config.width_range[1] * config.aspect_range[1]


def _ordered(table: pd.DataFrame) -> pd.DataFrame:
    first = [c for c in ("frame",) if c in table]
    return table[first + [c for c in table if c not in first]]


def cmd_train_kind(args: argparse.Namespace) -> int:
    from ..learning.kinds_training import KindTrainConfig, load_kind_examples, train_kind
    from ..learning.training import resume_hint_at_ctrl_c
    from . import command_line
    from .checks import refuse_kind_training_tables

    if args.diameter is not None and args.kind != "chains":
        # Detection never resamples rods: a diameter would change nothing, and detect refuses it too.
        raise ParticleDetectError(f"--diameter is the size of spheres and of chains' beads; --kind {args.kind} trains "
                                  "at the image's own pixel scale, as detection works (widths of about 4-18 px)")
    # With DATA (image + the kind's CSV pairs) and --from but no --validate: the dock's round (tiles
    # held out of the corrected frames, the honest verdict). With --validate: training mixed with the
    # generator's images, scored on the --validate frames alone.
    if args.init is not None and args.data and not args.validate:
        return _kind_round(args)
    refuse_kind_training_tables(args.data + (args.validate or []), args.kind)
    if args.unlabelled or args.unlabelled_frames is not None:
        raise ParticleDetectError("--unlabelled and --unlabelled-frames belong to a fine-tuning round: "
                                  "give --from MODEL and annotated DATA (and no --validate)")
    examples = load_kind_examples(args.data, args.kind) if args.data else None
    validation = load_kind_examples(args.validate, args.kind) if args.validate else None
    config = KindTrainConfig(kind=args.kind, seed=args.seed, threads=args.threads or 1, diameter=args.diameter)
    if args.synthetic_fraction is not None:
        config = replace(config, synthetic_fraction=args.synthetic_fraction)
    if args.epochs is not None:
        config = replace(config, epochs=args.epochs)
    if args.steps_per_epoch is not None:
        config = replace(config, steps_per_epoch=args.steps_per_epoch)
    if args.batch_size is not None:
        config = replace(config, batch_size=args.batch_size)
    if args.crop is not None:
        config = replace(config, crop=args.crop)
    if args.lr is not None:
        config = replace(config, learning_rate=args.lr)
    if args.minutes is not None:
        config = replace(config, time_limit_s=60.0 * args.minutes)
    trained_epochs = []

    def progress(record: dict) -> None:
        trained_epochs.append(record["epoch"])
        log.info("%s", epoch_line(record))

    with resume_hint_at_ctrl_c(args.output, config.epochs), StepBar(args.quiet) as bar:
        model = train_kind(config, args.output, init=args.init, examples=examples, validation_examples=validation,
                           device=args.device, resume=args.resume, progress=progress, steps=bar.step,
                           extra_card={"command": command_line()})
    if trained_epochs:  # none: a finished run resumed, which training said
        log.info("%s", saved_line(model, len(validation) if validation else 0))
    return 0


def saved_line(model, validate_frames: int) -> str:
    """What a kind run saved: its validation score, on what it was measured (the --validate frames alone where
    given, as train's sphere line says its images), and whether the starting model was kept: a round whose
    epochs all scored below its start hands it back, and the last epoch line's score was not the saved one's."""
    training = model.card.training
    config = training.get("config", {})
    count, what = (validate_frames, "--validate frame") if validate_frames else \
        (config.get("validation_images", 0), "generator image")
    kept = "; the starting model's: no epoch beat it" if training.get("best_epoch") == 0 else ""
    # The best epoch's record of the score kept: a run stopped inside that epoch and resumed has a record of each
    # session's part (the first one's rod F1 was said beside the other's score).
    of_best = [r for r in training.get("history", []) if r.get("epoch") == training.get("best_epoch")]
    best = next((r for r in reversed(of_best) if r.get("score") == training.get("validation_score")),
                of_best[-1] if of_best else {})
    return (f"saved {model.path} ({model.card.kind} model, validation score "
            f"{training.get('validation_score', float('nan')):.4f}{rod_f1_note(best)} on {count} "
            f"{what}{'s' if count != 1 else ''}{kept})")


def _kind_round(args: argparse.Namespace) -> int:
    """A round on corrected frames, exactly as the dock runs it (kinds_rounds.fine_tune_kind)."""
    from .checks import (refuse_a_time_limit_in_a_round, refuse_kind_training_tables, refuse_resuming_a_round,
                         round_unsaved_at_ctrl_c)

    refuse_resuming_a_round(args)
    refuse_a_time_limit_in_a_round(args)
    from ..learning.kinds_rounds import STATISTICS_FRAMES, fine_tune_kind, round_config
    from ..learning.kinds_training import load_kind_examples
    from .rounds import save_round
    from ..models import load_model

    base = load_model(args.init, "cpu")
    if base.card.kind != args.kind:
        raise ParticleDetectError(f"{args.init}: a {base.card.kind} model, not a {args.kind} one; "
                                  f"give --kind {base.card.kind} or a {args.kind} model")
    refuse_kind_training_tables(args.data, args.kind)  # after the model's kind: a wrong --kind is said as such
    with round_unsaved_at_ctrl_c(args.output):
        reviewed = [_reviewed_frame(frame, i) for i, frame in enumerate(load_kind_examples(args.data, args.kind))]
        given = {"epochs": args.epochs, "steps_per_epoch": args.steps_per_epoch, "batch_size": args.batch_size,
                 "crop": args.crop, "learning_rate": args.lr, "synthetic_fraction": args.synthetic_fraction,
                 "threads": args.threads, "diameter": args.diameter}
        config = round_config(args.kind, seed=args.seed, **{k: v for k, v in given.items() if v is not None})
        count = STATISTICS_FRAMES if args.unlabelled_frames is None else args.unlabelled_frames
        unlabelled = unlabelled_images(args.unlabelled, count) if args.unlabelled else None
        with RoundBar(args.quiet, config.epochs * config.steps_per_epoch) as bar:
            result = fine_tune_kind(base, reviewed, config, args.device, progress=bar.event, unlabelled=unlabelled)
    log.info("%s", round_model_line(result.model.card.training["fine_tuned"]))
    save_round(result, args.init, args.output, score="score")
    return 0


def round_model_line(tuned: dict) -> str:
    """Which of a kind round's two candidates it kept, from its card's ``fine_tuned`` record, and how many frames
    the batch-norm statistics candidate read."""
    frames = tuned["statistics_frames"]
    return f"the round's model: {tuned['candidate']} (statistics candidate from {frames} frame{'s' * (frames != 1)})"


def _reviewed_frame(frame: NamedFrame, index: int) -> Reviewed:
    """A file's annotated frame as a round's reviewed one: named by its place (its held-out tiles, the card's
    scales), said by its file as the user gave it ('frame 0' alone did not say which file's frame was refused)."""
    from ..learning.kinds_rounds import Reviewed
    from ..learning.training import Example

    image, table = frame
    return Reviewed(Example(image, table[["y", "x"]].to_numpy(float), name=f"frame {index}",
                            given_as=frame.given_as), table)


def unlabelled_images(paths: list, count: int) -> list[np.ndarray]:
    """``count`` frames spread over the images or stacks at ``paths`` (read only then), as they are: a
    kinds round reads their images for its batch-norm statistics candidate. Bad files fail here. A blank frame
    (a movie's dropped one) is passed over with a warning, and a spare spread over the rest taken in its place, as
    many spares as frames asked at most (kinds_rounds.usable_images): refusing the whole stack for it threw away
    every good frame. None usable: one line."""
    from ..learning.kinds_rounds import usable_images
    from ..learning.pseudo_labels import spread, stacks_at

    where = [(path, frames, index) for path, frames in stacks_at(paths) for index in range(len(frames))]
    picks = spread(count, range(len(where)))
    spares = spread(len(picks), [k for k in range(len(where)) if k not in set(picks)])
    named = ((f"{path} frame {index}" if len(frames) > 1 else str(path), lambda frames=frames, index=index:
              frames[index]) for path, frames, index in (where[k] for k in picks + spares))
    images = list(usable_images(named, len(picks)))
    if picks and not images:
        files = str(paths[0]) if len(paths) == 1 else f"--unlabelled's {len(paths)} files"
        tried = len(picks) + len(spares)
        read = "the frame read is" if tried == 1 else f"all {tried} frames read are"
        raise ParticleDetectError(f"{files}: {read} blank (constant, or NaN or infinite all over); give "
                                  "--unlabelled images with particles in them, or leave --unlabelled out")
    return images


def cmd_evaluate_kind(args: argparse.Namespace) -> int:
    from .border import border_note, border_sizes, frame_sizes
    from .file_pairs import paired_files
    from ..kinds.border_band import LEFT_OUT
    from ..kinds import chains
    from ..kinds import rods
    from ..kinds.registry import read_kind_table

    if args.plot is not None:
        raise ParticleDetectError(f"{args.plot}: --plot draws sphere scores; not with --kind {args.kind}")
    if args.voxel_size is not None:
        raise ParticleDetectError(f"--voxel-size is for frame,z,y,x sphere tables; not with --kind {args.kind}")
    if args.kind == "rods" and "tolerance" in getattr(args, "given", set()):
        # rods.match_rods scales the reach with each rod: a fixed tolerance would miss long rods' centres.
        raise ParticleDetectError("--tolerance: rods are matched within max(3 px, a quarter of each true rod's "
                                  "length); not with --kind rods")
    predicted, truth = read_kind_table(args.predicted, args.kind), read_kind_table(args.truth, args.kind)
    sizes, size_source = border_sizes(args, predicted, truth)  # before pairing renames the files
    predicted, truth, labels = paired_files(args, predicted, truth)
    # Once paired: only the frames of the files scored count (--file's, or those both tables hold).
    refuse_frames_against_none(args.predicted, predicted, args.truth, truth, args.kind, labels)
    shape = frame_sizes(args, sizes, labels)
    if args.kind == "rods":
        scores, counts = rods.evaluate_rods(predicted, truth, args.border, shape)
    else:
        scores, counts = chains.evaluate_chains(predicted, truth, args.tolerance, args.border, shape)
    pooled = scores.to_dict()
    note = ""
    if args.border:
        pooled.update((key, counts[key]) for key in LEFT_OUT)
        # The border leaves out rods whole, chains bead by bead: the note counts what it left out of those.
        what, counted = ("rods", "") if args.kind == "rods" else ("beads", "bead_")
        found = {key: counts[counted + key] for key in ("tp", "fp", "fn")}
        note = border_note(args, {**found, **pooled}, size_source, what=what)
    text = "\n".join(f"{k:>22}  {v:.4f}" if isinstance(v, float) else f"{k:>22}  {v}" for k, v in pooled.items())
    if not args.json:
        # A stack's frames each get a row, as the spheres' table has them: which frame went wrong is what a
        # user reviewing a stack looks for.
        rows = frame_rows(args.kind, predicted, truth, args.tolerance, args.border, shape, labels)
        if rows:
            text = rows + "\n\nall frames:\n" + text
    print_scores(args, pooled, text, note)
    return 0


def frame_rows(kind: str, predicted: pd.DataFrame, truth: pd.DataFrame, tolerance: float, border: float,
               shape, labels: list[tuple[str, int]] | None) -> str:
    """The scores of each frame of ``truth`` as a table (rods or chains; ``shape`` as evaluate_rods and
    evaluate_chains take it), or "" for tables of one frame."""
    from ..kinds import chains
    from ..kinds import rods
    from ..kinds.border_band import LEFT_OUT
    from ..kinds.file_pairing import label_frames

    frames = sorted(set(truth["frame"].astype(int)) | set(predicted["frame"].astype(int))) \
        if "frame" in truth and "frame" in predicted else []
    if len(frames) < 2:
        return ""
    rows = []
    # What the tables' scoring has to say (radians for degrees, a file in one table only) was said once, pooled.
    scoring = logging.getLogger("napari_particle_detect.kinds")
    said = scoring.level
    scoring.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for frame in frames:
                one_predicted, one_truth = predicted[predicted["frame"] == frame], truth[truth["frame"] == frame]
                if kind == "rods":
                    scores, counts = rods.evaluate_rods(one_predicted, one_truth, border, shape)
                else:
                    scores, counts = chains.evaluate_chains(one_predicted, one_truth, tolerance, border, shape)
                left_out = {key: counts[key] for key in LEFT_OUT} if border else {}
                rows.append({"frame": frame, **scores.to_dict(), **left_out})
    finally:
        scoring.setLevel(said)
    table = label_frames(pd.DataFrame(rows), labels)
    return table.to_string(index=False, float_format=lambda v: f"{v:.4f}")


def refuse_frames_against_none(predicted_path: Path, predicted: pd.DataFrame, truth_path: Path, truth: pd.DataFrame,
                               kind: str, labels: list[tuple[str, int]] | None = None) -> None:
    """One ParticleDetectError where one table has no frame column (read as frame 0) and the other holds
    several frames of one image: the other frames' objects would be scored as false or missed, silently.

    The tables as paired (cli.file_pairs.paired_files), so only the frames of the files scored count: with
    ``labels`` (the (file, frame) of each frame number, tables paired file by file) each file's own."""
    from .checks import table_columns

    for path, other_path, other in ((truth_path, predicted_path, predicted), (predicted_path, truth_path, truth)):
        columns = table_columns(path)
        if columns is None or "frame" in columns:  # None: its reader said what is wrong with it
            continue
        frames = _most_frames_of_one_image(other, labels)
        if frames > 1:
            raise frames_against_none(str(path), str(other_path), frames, kind)


def _most_frames_of_one_image(table: pd.DataFrame, labels: list[tuple[str, int]] | None) -> int:
    """The most frames any one image (file) of a paired table holds."""
    if labels is not None:  # frames numbered across files: back to each number's (file, frame)
        images = pd.DataFrame([labels[number] for number in table["frame"].astype(int)], columns=["file", "frame"])
    else:
        images = table
    return most_frames_of_one_image(images)


def print_scores(args: argparse.Namespace, pooled: dict, text: str, note: str = "") -> None:
    """``evaluate``'s output (spheres, volumes and the kinds): the pooled scores as one line of JSON with
    ``--json``, else ``note`` (the border's line, where there is one) over the scores' ``text``."""
    if args.json:
        print(scores_json(pooled))
        return
    print("\n".join(line for line in (note, text) if line))


def scores_json(scores: dict) -> str:
    """Scores as one line of JSON for ``evaluate --json`` (spheres, volumes and the kinds): a score that
    does not exist (NaN: a median of no matches) is null, since JSON has no NaN and a bare NaN breaks the
    reader; NumPy numbers as plain ones."""
    def plain(value):
        value = value.item() if isinstance(value, np.generic) else value
        return None if isinstance(value, float) and not np.isfinite(value) else value

    return json.dumps({k: plain(v) for k, v in scores.items()}, allow_nan=False)
