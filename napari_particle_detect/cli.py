"""``particle-detect``: the command-line skin over the library (synth, train, detect, evaluate)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from .devices import DEVICE_CHOICES, PRECISION_CHOICES
from .errors import ParticleDetectError
from .synthetic import LOOKS

log = logging.getLogger("particle-detect")


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="particle-detect",
        description="Find centres of overlapping particles in microscopy images with a lightweight CNN.",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars or info messages")
    sub = parser.add_subparsers(dest="command", required=True)

    synth = sub.add_parser("synth", help="generate synthetic images with ground-truth centres")
    synth.add_argument("outdir", type=Path, help="folder to write image_NNN.tif + image_NNN.csv into")
    synth.add_argument("--n", type=int, default=4, help="number of images (default 4)")
    synth.add_argument("--area-fraction", type=_positive_float, default=0.5, help="particle area / image area")
    synth.add_argument("--seed", type=int, default=0, help="random seed (image i uses seed + i)")
    synth.add_argument("--look", choices=LOOKS, default="fluorescent")
    synth.add_argument("--radius", type=_positive_float, nargs=2, default=(4.0, 12.0), metavar=("LO", "HI"))
    synth.add_argument("--shape", type=int, nargs=2, default=(256, 256), metavar=("H", "W"))
    synth.add_argument("--bit-depth", type=int, choices=(8, 16), default=16)
    synth.add_argument("--stack", action="store_true", help="write one TYX stack (stack.tif + stack.csv with frame)")

    train = sub.add_parser("train", help="train a model, or fine-tune one with --from")
    train.add_argument("data", nargs="*", type=Path, help="image.tif + image.csv pairs or folders of them "
                       "(none: synthetic data only)")
    train.add_argument("-o", "--output", type=Path, required=True, help="model path to write (MODEL.pt + MODEL.json)")
    train.add_argument("--epochs", type=int, default=20)
    train.add_argument("--steps-per-epoch", type=int, default=200)
    train.add_argument("--batch-size", type=int, default=16)
    train.add_argument("--crop", type=int, default=96)
    train.add_argument("--lr", type=float, default=None, help="learning rate (default 2e-3, 5e-4 with --from)")
    train.add_argument("--arch", choices=("unet", "resnet"), default="unet")
    train.add_argument("--from", dest="init", type=Path, help="fine-tune from this model")
    train.add_argument("--validate", nargs="+", type=Path, default=[], metavar="DATA",
                       help="annotated pairs or folders used only for validation (which epoch is kept, threshold)")
    train.add_argument("--diameter", type=_positive_float, default=None,
                       help="particle diameter in px as it appears in DATA (default: estimated per file); "
                            "examples are rescaled to the model's working size, as detect does")
    train.add_argument("--resume", action="store_true", help="continue an interrupted run writing to --output")
    train.add_argument("--synthetic-fraction", type=float, default=0.5,
                       help="share of synthetic images in each batch when DATA is given")
    train.add_argument("--minutes", type=float, default=None, help="stop after this much wall time")
    train.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    train.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    train.add_argument("--seed", type=int, default=0)

    detect = sub.add_parser("detect", help="find particle centres in images or stacks")
    detect.add_argument("inputs", nargs="+", type=Path, help="TIFF (2D, TYX or ZYX) or PNG files")
    detect.add_argument("-o", "--output", type=Path, required=True, help="CSV to write (frame,y,x,score)")
    detect.add_argument("--model", type=Path, default=None, help="model .pt (default: shipped UNet)")
    detect.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    detect.add_argument("--precision", choices=PRECISION_CHOICES, default="auto",
                        help="auto: bfloat16 on CPUs that compute it natively, else float32")
    detect.add_argument("--threshold", type=float, default=None, help="heatmap threshold (default: the model's)")
    detect.add_argument("--diameter", type=_positive_float, default=None,
                        help="particle diameter in pixels as it appears in the image, like trackpy's diameter "
                             "(default: estimated from the image); for particles near the optics' resolution "
                             "the blob's size, not the physical size")
    detect.add_argument("--polarity", choices=("auto", "bright", "dark"), default="auto")
    detect.add_argument("--overlay", type=Path, default=None, help="PNG of the first frame with centres drawn")
    detect.add_argument("--tile", type=int, default=1024, help="tile size in pixels (bounds memory)")

    evaluate = sub.add_parser("evaluate", help="precision/recall/F1 of predicted centres against truth")
    evaluate.add_argument("predicted", type=Path)
    evaluate.add_argument("truth", type=Path)
    evaluate.add_argument("--tolerance", type=_positive_float, default=3.0, help="match radius in pixels")
    evaluate.add_argument("--plot", type=Path, default=None, help="PNG with F1 vs tolerance and error histogram")
    evaluate.add_argument("--json", action="store_true", help="print the pooled scores as JSON")
    return parser


def cmd_synth(args: argparse.Namespace) -> int:
    import pandas as pd
    import tifffile

    from .io import write_centres
    from .synthetic import SynthConfig, synthesize

    if args.n < 1:
        raise ParticleDetectError(f"--n must be at least 1, got {args.n}")
    config = SynthConfig(
        shape=tuple(args.shape), look=args.look, radius_range=tuple(sorted(args.radius)),
        area_fraction=args.area_fraction, bit_depth=args.bit_depth,
    )
    args.outdir.mkdir(parents=True, exist_ok=True)
    samples = [synthesize(config, seed=args.seed + i) for i in range(args.n)]
    if args.stack:
        tifffile.imwrite(args.outdir / "stack.tif", np.stack([s.image for s in samples]), photometric="minisblack")
        table = pd.concat(
            [pd.DataFrame({"frame": i, "y": s.centres[:, 0], "x": s.centres[:, 1]}) for i, s in enumerate(samples)]
        )
        write_centres(table, args.outdir / "stack.csv")
    else:
        for i, sample in enumerate(samples):
            tifffile.imwrite(args.outdir / f"image_{i:03d}.tif", sample.image)
            write_centres(pd.DataFrame({"y": sample.centres[:, 0], "x": sample.centres[:, 1]}),
                          args.outdir / f"image_{i:03d}.csv")
    (args.outdir / "synth.json").write_text(json.dumps({"seed": args.seed, "n": args.n, **config.to_dict()}, indent=2))
    log.info("wrote %d image(s) with %d centres to %s", args.n, sum(len(s.centres) for s in samples), args.outdir)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .models import load_model
    from .training import TrainConfig, load_examples, train, working_diameter

    lr = args.lr if args.lr is not None else (5e-4 if args.init else 2e-3)
    config = TrainConfig(
        architecture=args.arch, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch,
        batch_size=args.batch_size, crop=args.crop, learning_rate=lr,
        synthetic_fraction=args.synthetic_fraction if args.data else 1.0, seed=args.seed, device=args.device,
        time_limit_s=args.minutes * 60 if args.minutes else None, threads=args.threads,
    )
    base = load_model(args.init, "cpu") if args.init else None
    working = base.card.canonical_diameter if base is not None else working_diameter(config)
    examples = load_examples(args.data, working, args.diameter) if args.data else None
    validation = load_examples(args.validate, working, args.diameter) if args.validate else None
    for ex in (examples or []) + (validation or []):
        if ex.scale != 1.0:
            log.info("%s: rescaled by %.3f to the model's working particle size %.1f px", ex.name, ex.scale, working)
            break
    bar = tqdm(total=args.epochs * args.steps_per_epoch, disable=args.quiet, unit="step")

    def progress(event: dict) -> None:
        if event["event"] == "step":
            bar.n = (event["epoch"] - 1) * event["steps"] + event["step"]
            bar.set_postfix(epoch=event["epoch"], loss=f"{event['loss']:.4f}")
            bar.refresh()
        else:
            bar.write(f"epoch {event['epoch']}/{event['epochs']}: loss {event['loss']:.5f}, "
                      f"validation F1 {event['val_f1']:.4f} ({event['seconds']} s)")

    command = "particle-detect " + " ".join(sys.argv[1:])
    result = train(config, examples=examples, validation_examples=validation, init=base, out=args.output,
                   progress=progress, resume=args.resume, extra_card={"command": command})
    bar.close()
    log.info("best validation F1 %.4f, threshold %.2f -> %s", result.best_f1, result.model.card.threshold, result.path)
    return 0


def cmd_detect(args: argparse.Namespace) -> int:
    import pandas as pd
    from tqdm import tqdm

    from .devices import select_device, select_precision
    from .io import atomic_write_text, read_image, write_centres
    from .models import load_model
    from .prediction import COLUMNS, centres_table, iter_detect

    device = select_device(args.device)
    model = load_model(args.model, device)
    images = [(path, read_image(path, lazy=True)) for path in args.inputs]  # read all first: fail before any work
    tables, runs = [], []
    for path, image in images:
        n_frames = 1 if image.ndim == 2 else len(image)
        parts = []
        with tqdm(total=n_frames, disable=args.quiet, unit="frame", desc=path.name) as bar:
            for index, result, sizing in iter_detect(
                image, model, device, args.threshold, args.diameter, args.polarity, tile=args.tile, name=str(path),
                precision=args.precision,
            ):
                parts.append(centres_table(index, result.centres, result.scores))
                bar.update(1)
        table = pd.concat(parts, ignore_index=True)
        # A doubtful estimate is a warning, so it shows even with --quiet.
        (log.warning if sizing.confidence == "low" else log.info)(
            "%s: %d centres in %d frame(s); particle diameter %.1f px (%s%s)%s", path, len(table), n_frames,
            sizing.diameter, sizing.source, ", ringed" if sizing.ringed else "",
            f"; low confidence: {sizing.reason}; give --diameter" if sizing.confidence == "low" else "")
        runs.append({"file": str(path), "frames": n_frames, "centres": len(table),
                     "diameter_px": round(sizing.diameter, 3), "diameter_source": sizing.source,
                     "diameter_confidence": sizing.confidence, "ringed": sizing.ringed, "rescale_factor": sizing.scale})
        if len(images) > 1:
            table["file"] = str(path)
        tables.append(table)
        if args.overlay is not None and len(tables) == 1:
            from .overlay import save_overlay

            first = np.asarray(image if image.ndim == 2 else image[0])
            save_overlay(first, table[table["frame"] == 0][["y", "x"]].to_numpy(), args.overlay, sizing.diameter)
    out = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=COLUMNS)
    write_centres(out, args.output)
    # What produced these centres, beside them: the particle size used, the model and its threshold.
    meta = {"model": str(model.path), "threshold": args.threshold if args.threshold is not None else model.card.threshold,
            "polarity": args.polarity, "device": str(device),
            "precision": str(select_precision(args.precision, device)).removeprefix("torch."), "inputs": runs}
    atomic_write_text(args.output.with_suffix(".json"), json.dumps(meta, indent=2))
    log.info("wrote %s (and %s)", args.output, args.output.with_suffix(".json").name)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluation import evaluate_frames, plot_report
    from .io import read_centres

    predicted, truth = read_centres(args.predicted), read_centres(args.truth)
    table = evaluate_frames(predicted, truth, args.tolerance)
    pooled = table.iloc[-1].to_dict() if len(table) else {}
    if args.json:
        print(json.dumps({k: (v if not isinstance(v, np.generic) else v.item()) for k, v in pooled.items()}))
    else:
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if args.plot is not None:
        plot_report(predicted, truth, str(args.plot))
        log.info("wrote %s", args.plot)
    return 0


COMMANDS = {"synth": cmd_synth, "train": cmd_train, "detect": cmd_detect, "evaluate": cmd_evaluate}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")
    try:
        return COMMANDS[args.command](args)
    except ParticleDetectError as exc:
        print(f"particle-detect: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("particle-detect: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
