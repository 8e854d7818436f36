"""``particle-detect``: the command-line skin over the library (synth, train, detect, evaluate)."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..detection.choices import DEFAULT_TILE, DEVICE_CHOICES, PRECISION_CHOICES, RUNTIME_CHOICES
from ..arguments import DefaultsHelpFormatter, OneLineParser, number_in
from . import volumes as volume_cli
from .border import add_border_options
from .link import cmd_link
from ..errors import OneLineFormatter, ParticleDetectError, one_line
from . import command_line, report_failed, written_images
from ..synthetic.spheres import LOOKS
from ..wording import counted

if TYPE_CHECKING:  # annotations only: pandas and the detection stack load on the commands that use them
    import pandas as pd

    from ..files.file_detection import FramesSoFar

# As a shell reports a process SIGPIPE ended (`yes | head -1`): the reader closed the pipe (Windows has no SIGPIPE).
CLOSED_PIPE = 128 + getattr(signal, "SIGPIPE", 13)
KIND_NAMES = ("spheres", "rods", "chains")  # kinds.KIND_NAMES, without importing torch to parse


def kind_name(value: str) -> str:
    """``--kind`` of detect, train and evaluate: synth's ellipsoids are found by the rods model, which argparse's
    bare 'invalid choice' did not say."""
    if value == "ellipsoids":
        raise argparse.ArgumentTypeError("ellipsoids are detected, trained and scored as --kind rods (one model and "
                                         "one table for rods and ellipsoids: length and width are the axes)")
    return value

log = logging.getLogger("particle-detect")


def frame_range_argument(text: str) -> str | None:
    """``detect --frames``: its text as frame_ranges.frame_range writes it; a garbled one is argparse's one-line
    error, before any file is read."""
    from ..files.frame_ranges import frame_range

    try:
        return frame_range(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def frames_value_joined(argv: list[str]) -> list[str]:
    """``--frames -10:`` as ``--frames=-10:``: argparse takes a value starting with - for an option of its own unless
    it is a bare number, and said 'expected one argument' of the last ten frames."""
    joined: list[str] = []
    for argument in argv:
        if joined and joined[-1] == "--frames" and re.match(r"-[\d:]", argument):
            joined[-1] = f"--frames={argument}"
        else:
            joined.append(argument)
    return joined


DEVICE_HELP = "auto: a CUDA GPU where there is one, else Apple's MPS, else the CPU"
# Ranges checked while parsing: beyond them a run fails late, takes minutes, or runs out of memory.
DIAMETER = number_in(1.0, 1000.0)  # px
SEED = number_in(0, 2**31 - 1, whole=True)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(  # its subcommands' parsers are of its class too
        prog="particle-detect",
        description="Find centres of overlapping particles in microscopy images with a lightweight CNN.",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars or info messages")
    sub = parser.add_subparsers(dest="command", required=True)

    synth = sub.add_parser("synth", help="generate synthetic images with ground-truth centres",
                           formatter_class=DefaultsHelpFormatter,
                           description="Synthetic images and their true centres. Spheres are also drawn centred up "
                                       "to the largest radius outside the image (rods and ellipsoids up to half "
                                       "the longest length), cut by its edge as in a real field of view, and the "
                                       "truth lists only the centres inside: score detections with evaluate "
                                       "--border of about one particle diameter (rods: one width or more), else "
                                       "each one found at the edge counts as a false positive. Rods, "
                                       "ellipsoids and chains are drawn harder by default than the images the "
                                       "README's tables of them were measured on (chains: beads of 3.5-9 px "
                                       "mixed in one image, area fraction 0.5, chains of up to 50 beads, some "
                                       "crossing); give --benchmark to draw those and compare with the README.")
    synth.add_argument("outdir", type=Path, help="a new or empty folder to write image_NNN.tif + image_NNN.csv "
                       "into")
    synth.add_argument("--n", type=number_in(1, 10_000, whole=True), default=4, help="number of images")
    synth.add_argument("--area-fraction", type=number_in(0, 1.5, low_open=True), default=0.5,
                       help="particle area / image area")
    synth.add_argument("--seed", type=SEED, default=0,
                       help="random seed: image i uses seed + i, so --seed S --n N uses seeds S..S+N-1: a test set "
                            "needs a seed at least N past its training set's")
    synth.add_argument("--look", choices=LOOKS, default="fluorescent", help="optics the images imitate")
    synth.add_argument("--radius", type=number_in(1.0, 500.0), nargs=2, default=(4.0, 12.0), metavar=("LO", "HI"),
                       help="particle radii drawn from LO to HI px (chains: 3.5 9 by default, the chains model's "
                            "training range)")
    synth.add_argument("--shape", type=number_in(16, 8192, whole=True), nargs=2, default=(256, 256), metavar=("H", "W"),
                       help="image height and width in px")
    synth.add_argument("--bit-depth", type=int, choices=(8, 16), default=16, help="bits per pixel of the TIFFs")
    synth.add_argument("--stack", action="store_true", help="write one TYX stack (stack.tif + stack.csv with frame)")
    volume_cli.add_synth_options(synth, number_in(0, 0.58, low_open=True), number_in(0, 1e6, low_open=True))
    # Kinds of object (cli/kinds.py): --radius is the beads' radius for chains.
    synth.add_argument("--kind", choices=("spheres", "rods", "ellipsoids", "chains"), default="spheres",
                       help="what the images hold (rods and ellipsoids share detect's --kind rods)")
    synth.add_argument("--width", type=number_in(1.0, 500.0), nargs=2, default=(4.0, 14.0), metavar=("LO", "HI"),
                       help="rods/ellipsoids: width range in px")
    synth.add_argument("--aspect", type=number_in(1.0, 100.0), nargs=2, default=None, metavar=("LO", "HI"),
                       help="rods/ellipsoids: length/width range (default: 1.5 20 for rods, 1.2 5 for ellipsoids, "
                            "as in training)")
    synth.add_argument("--alignment", choices=("random", "nematic"), default="random", help="rods/ellipsoids")
    synth.add_argument("--beads", type=number_in(1, 1000, whole=True), nargs=2, default=(3, 50), metavar=("LO", "HI"),
                       help="chains: beads per chain")
    synth.add_argument("--benchmark", action="store_true",
                       help="rods, ellipsoids, chains: draw the images the README's tables were measured on "
                            "(benchmarks/anisotropic.py: its optics; rods of width 6-9 px and aspect 2-10 at area "
                            "fraction 0.3, ellipsoids of aspect 1.5-5 at 0.15; chains of 3-20 beads of radius 6 px "
                            "at 0.3, few rings and free beads, none crossing); --area-fraction, --width, --aspect, "
                            "--radius and --beads given change those")

    train = sub.add_parser(
        "train", help="train a model, or fine-tune one with --from",
        description="Without --from: train on the synthetic generator (and DATA, if given). With --from and DATA: "
                    "one fine-tuning round, as the napari dock runs it: part of every image is held out, and the "
                    "new model and the one it started from are both scored there. The defaults below are the "
                    "spheres'; --kind rods|chains have their own (a rods round: 100 steps of four 96 px crops at 1.5e-4; a "
                    "chains round: 150 steps of four crops at 5e-4; a quarter of each batch from the generator).")
    train.add_argument("data", nargs="*", type=Path, help="image.tif + image.csv pairs or folders of them "
                       "(none: synthetic data only)")
    train.add_argument("-o", "--output", required=True,  # a string: a trailing / names a folder, refused
                       help="model path to write (MODEL.pt + MODEL.json)")
    train.add_argument("--epochs", type=number_in(1, 100_000, whole=True), default=None,
                       help="default 20; a fine-tuning round is one epoch")
    train.add_argument("--steps-per-epoch", type=number_in(1, 1_000_000, whole=True), default=None,
                       help="default 200 (a fine-tuning round: 200 on a CPU, 500 on a GPU)")
    train.add_argument("--batch-size", type=number_in(1, 4096, whole=True), default=None,
                       help="default 16 (fine-tuning: 8 on a CPU, 32 on a GPU)")
    train.add_argument("--crop", type=number_in(16, 4096, whole=True), default=None, help="default 96 (64 fine-tuning)")
    train.add_argument("--lr", type=number_in(0, 1, low_open=True), default=None,
                       help="learning rate (default 2e-3; fine-tuning 2e-3 on a CPU, 4e-3 on a GPU; --from without DATA 5e-4)")
    train.add_argument("--arch", choices=("unet", "resnet"), default="unet",
                       help="the network of a sphere model trained anew (--from keeps its model's)")
    train.add_argument("--from", dest="init", type=Path, help="fine-tune from this model")
    train.add_argument("--validate", nargs="+", type=Path, default=[], metavar="DATA",
                       help="annotated pairs or folders used only for validation (which epoch is kept, threshold)")
    train.add_argument("--diameter", type=DIAMETER, default=None,
                       help="particle diameter in px as it appears in DATA (default: estimated per file; with --kind "
                            "chains the beads' size, estimated per frame); examples are rescaled to the model's "
                            "working size, as detect does (--kind rods: refused, rods are never rescaled)")
    train.add_argument("--unlabelled", nargs="+", type=Path, default=[], metavar="IMAGE",
                       help="with --from and DATA: 2D images or TYX stacks nobody annotated; halfway through its "
                            "steps the round labels some of their frames where it is sure and learns from them too "
                            "(pseudo-labels; a frame of DATA is never labelled, whatever its file is called; "
                            "rods and chains: their images give the batch-norm statistics of the round's second candidate)")
    train.add_argument("--unlabelled-frames", type=number_in(0, 1_000_000, whole=True), default=None, metavar="N",
                       help="how many --unlabelled frames to use, spread over them (default 8; 0: none)")
    train.add_argument("--resume", action="store_true", help="continue an interrupted run writing to --output")
    train.add_argument("--overwrite", action="store_true",
                       help="replace the model (and training state) already at --output; without it that is refused")
    train.add_argument("--synthetic-fraction", type=number_in(0, 1), default=None,
                       help="share of synthetic images in each batch when DATA is given (default 0.5; a "
                            "fine-tuning round 0, a rods or chains round 0.25)")
    train.add_argument("--minutes", type=number_in(0, 1e6, low_open=True), default=None,
                       help="stop after this many minutes of wall time, the best model so far saved and the "
                            "state --resume goes on from (not a fine-tuning round's: it runs its steps in full)")
    train.add_argument("--threads", type=number_in(1, 1024, whole=True), default=None, help="CPU threads for torch")
    train.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help=DEVICE_HELP)
    train.add_argument("--seed", type=SEED, default=0,
                       help="draws the generator's images and the crops (default 0)")
    train.add_argument("--kind", type=kind_name, choices=KIND_NAMES, default="spheres",
                       help="train a rods or chains model's heads (default: the kind --from's card names, else spheres)")
    volume_cli.add_train_options(train, number_in(0, 1e6, low_open=True))  # --axes ZYX: a 3D round

    recipe = sub.add_parser(
        "recipe", help="run or resume a training recipe (phases, checkpoints, lineage)",
        description="Train as a recipe file says, phase after phase, into runs/NAME beside it; each epoch leaves "
                    "a checkpoint, so running it again (later, elsewhere) resumes where it stopped.")
    recipe.add_argument("file", type=Path, help="a recipe .toml (see recipes/ in the repository)")
    recipe.add_argument("--minutes", type=number_in(0, 1e6, low_open=True), default=None,
                        help="pause after this much wall time (within one step); run again to resume")
    recipe.add_argument("--threads", type=number_in(1, 1024, whole=True), default=None, help="CPU threads for torch")
    recipe.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help=DEVICE_HELP)

    detect = sub.add_parser("detect", help="find particle centres in images or stacks")
    detect.add_argument("inputs", nargs="+", type=Path,
                        help="TIFF (2D, TYX or ZYX), PNG or zarr/OME-Zarr (.zarr folder) images, folders of them, "
                             "or glob patterns ('data/**/*.tif')")
    detect.add_argument("-o", "--output", required=True,  # a string: a trailing / names a folder
                        help="a .csv to write (frame,y,x,score; with several inputs one table with a file column), "
                             "or a folder (NAME/): one CSV per input inside it, an interrupted run resumes")
    detect.add_argument("--model", type=Path, default=None, help="model .pt (default: shipped UNet)")
    detect.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help=DEVICE_HELP)
    # What auto picks is runtimes.resolve_runtime's rule; the run's .json records the runtime and precision used.
    detect.add_argument("--precision", choices=PRECISION_CHOICES, default="auto",
                        help="auto: bfloat16 on OpenVINO on a CPU that computes in it natively, for a model "
                             "whose bfloat16 form passed the accuracy gate (the shipped ones and rounds tuned from "
                             "them); else float32 (bfloat16/float16 on torch move some centres by more than "
                             "0.05 px); int8 on ONNX Runtime or OpenVINO (CPU); the .json records the one used")
    detect.add_argument("--runtime", choices=RUNTIME_CHOICES, default="auto",
                        help="auto on a CPU: OpenVINO in bfloat16 where it is installed (pip install openvino), "
                             "the CPU computes in bfloat16 natively (AVX-512 BF16, AMX) and the model passed its "
                             "bfloat16 gate (or --precision bfloat16); else ONNX Runtime (the network exported "
                             "once and cached beside its weights); torch on GPUs, with --compile or "
                             "--precision float16, or without onnxruntime")
    detect.add_argument("--threshold", type=number_in(0, 1, high_open=True), default=None,
                        help="heatmap threshold (default: the model's)")
    detect.add_argument("--split-close", action="store_true",
                        help="spheres: also find particles the heatmap's peaks leave (a dimmer one on a brighter "
                             "one's flank): crowded spots gain, real images lose a little (README)")
    detect.add_argument("--diameter", type=DIAMETER, default=None, nargs="+", action=volume_cli.DiameterAction,
                        help="particle diameter in pixels as it appears in the image, like trackpy's diameter "
                             "(default: estimated from the image); for particles near the optics' resolution "
                             "the blob's size, not the physical size; for ringed particles (bright-field) the rim's "
                             "outer diameter, not the core's. Volumes: one value (xy) or three (z y x voxels). "
                             "--kind chains: the beads' diameter")
    volume_cli.add_detect_options(detect, number_in(0, 1e6, low_open=True))
    detect.add_argument("--polarity", choices=("auto", "bright", "dark"), default="auto",
                        help="2D images, every --kind: auto (default) and bright give the network the image as it "
                             "is (the shipped spheres, rods and chains models were trained on bright and dark "
                             "particles alike, so dark ones need no flag); dark inverts each frame first. They "
                             "differ only for spheres with --measure: auto measures on the inverted image where "
                             "the particles read as dark, bright and dark fix that choice")
    detect.add_argument("--channel", type=number_in(0, 1_000_000, whole=True), default=None, metavar="N",
                        help="of images with several channels (an ImageJ, OME-TIFF or OME-Zarr C axis, RGB, a last "
                             "axis of 2-4 in a TIFF or zarr without axes metadata): detect in channel N only (0 for "
                             "the first), for every --kind; without it such images are refused, never read as frames")
    detect.add_argument("--frames", type=frame_range_argument, default=None, metavar="SPEC",
                        help="detect only these frames of a stack (of a volume series: these time points), as Python slices, end exclusive: 0:10, "
                             "5, 0:100:10, 3,7,9, -10: (the last ten); the table keeps the stack's frame "
                             "numbers and the .json lists them (frames_detected). A range past a file's end is "
                             "refused (of several files, that one fails and the others go on); a folder run skips "
                             "a file done with the same range and redoes one done with another")
    detect.add_argument("--kind", type=kind_name, choices=KIND_NAMES, default="spheres",
                        help="what to find (default: the kind --model's card names, else spheres); rods and chains use "
                             "their shipped models")
    detect.add_argument("--overlay", type=Path, default=None,
                        help="PNG of the first frame detected (with --frames, the first of those) with its centres "
                             "drawn; replaces only an overlay detect drew")
    detect.add_argument("--tile", type=number_in(256, 65536, whole=True), default=DEFAULT_TILE,
                        help=f"tile size in pixels (bounds memory; default {DEFAULT_TILE})")
    detect.add_argument("--batch-size", type=number_in(1, 4096, whole=True), default=None,
                        help="tiles per network call, from one or several frames (default: by device)")
    detect.add_argument("--compile", action="store_true",
                        help="compile the network with torch.compile (a warm-up of seconds to a minute first)")
    detect.add_argument("--measure", action="store_true",
                        help="add trackpy's mass, size, ecc, signal and raw_mass of each centre, measured on the "
                             "original image at our centres (columns after frame,y,x,score); the .json records the "
                             "trackpy diameter and inversion used")
    detect.add_argument("--overwrite", action="store_true",
                        help="replace earlier outputs of detect that hold another file's results (without it they "
                             "are refused, before any work); a table edited by hand is still refused")
    detect.add_argument("--replace-edited", action="store_true",
                        help="replace earlier tables of detect even where one was edited since detect wrote it "
                             "(without it such a table is refused, before any work)")
    # Alternatives: --workers sizes a local cluster, which --scheduler's cluster would leave unused (ignored before).
    cluster = detect.add_mutually_exclusive_group()
    cluster.add_argument("--workers", type=number_in(1, 1024, whole=True), nargs="?", const=0, default=None,
                         metavar="N", help="with an output folder: run the files on N local worker processes "
                                           "(dask.distributed; N left out: sized to this machine)")
    cluster.add_argument("--scheduler", default=None, metavar="ADDRESS",
                         help="with an output folder: run the files on an existing dask.distributed cluster "
                              "(workers must see the input, output and model paths)")

    evaluate = sub.add_parser("evaluate", help="precision/recall/F1 of predicted centres against truth",
                              description="Precision, recall and F1 of the predicted centres against the true ones, "
                                          "per frame and pooled. Only what detect detected is scored: where "
                                          "detect's .json beside the predictions says so, the truth of the frames it "
                                          "left out (--frames, a run left unfinished) and of the inputs it failed on "
                                          "is left out of the scores, each said in one line.")
    evaluate.add_argument("predicted", type=Path, help="one CSV of detections: detect's table (with --kind chains, "
                          "the beads table, not the per-chain .chains.csv beside it)")
    evaluate.add_argument("truth", type=Path, help="one CSV of the true centres (or rods, or beads): synth's "
                          "image_NNN.csv or stack.csv, or a table corrected by hand")
    evaluate.add_argument("--tolerance", type=number_in(0, 1000, low_open=True), default=3.0,
                          help="match radius in pixels (default 3; chains: of beads; not with --kind rods, which "
                               "match each rod within max(3 px, a quarter of its true length))")
    evaluate.add_argument("--plot", type=Path, default=None, help="PNG with F1 vs tolerance and error histogram")
    evaluate.add_argument("--json", action="store_true", help="print the pooled scores as JSON")
    evaluate.add_argument("--kind", type=kind_name, choices=KIND_NAMES, default="spheres", help="the tables' kind and its metrics")
    evaluate.add_argument("--file", default=None, metavar="NAME",
                          help="tables of several files (a file column, as detect writes for several inputs) are "
                               "scored file by file; this scores only file NAME (as written there, or its name or "
                               "stem), e.g. against a truth table of that one image")
    volume_cli.add_evaluate_options(evaluate, number_in(0, 1e6, low_open=True))
    add_border_options(evaluate)

    link = sub.add_parser("link", help="link centres into trajectories with trackpy (drift, MSD)",
                          description="trackpy.link on a centre table (frame,y,x,...): writes it back with a "
                                      "particle column; --drift adds drift-corrected y_corrected,x_corrected; "
                                      "--msd writes the ensemble mean squared displacement (lagt,msd,N). Each CSV "
                                      "gets a .json beside it with the parameters and units.")
    link.add_argument("centres", type=Path, help="centre CSV with frame,y,x (detect's output, or trackpy's); with a "
                      "z column (volumes: frame,z,y,x, in voxels) linked in 3D, in units of the y voxel (see "
                      "--voxel-size)")
    link.add_argument("-o", "--output", type=Path, required=True,
                      help="tracks CSV to write (OUTPUT.json beside it records how they were linked)")
    link.add_argument("--overwrite", action="store_true",
                      help="replace the tracks and MSD files (and their .json) where they exist")
    link.add_argument("--sequence", action="store_true",
                      help="the table's files are the frames of one movie of one field of view (an image "
                           "sequence: detect of a folder of PNG or TIFF frames, one frame per file), frames 0, 1, "
                           "... in natural name order (frame2 before frame10); the file column is kept. Not for "
                           "different images: files of different sizes, or that detect failed on, are warned of")
    link.add_argument("--file", default=None, metavar="NAME",
                      help="link the centres of this one file of a table of several (as its file column names it): "
                           "drift and the MSD are per movie, and each file is one")
    link.add_argument("--search-range", type=number_in(0, 1000, low_open=True), default=5.0,
                      help="how far a particle may move between frames, px (y voxels for z,y,x tables; default 5)")
    link.add_argument("--voxel-size", type=number_in(0, 1e6, low_open=True), nargs=3, default=None,
                      metavar=("Z", "Y", "X"),
                      help="for frame,z,y,x tables: the voxel size (any one unit; only its ratios count). z and x are "
                           "scaled to units of the y voxel before linking, so --search-range, the drift and the MSD "
                           "mean the same length along every axis (--mpp is then microns per y voxel). Default: "
                           "from the table's z_um,y_um,x_um columns (detect and the dock's export write them when "
                           "the voxel size is known in a length), else the one detect's .json beside the table "
                           "records (a z step in pixels), else cubic voxels, with a warning")
    link.add_argument("--memory", type=number_in(0, 1000, whole=True), default=3,
                      help="frames a particle may vanish for and still be the same one (default 3)")
    link.add_argument("--min-length", type=number_in(1, 1_000_000, whole=True), default=1,
                      help="drop tracks seen in fewer frames (trackpy's filter_stubs; default 1: keep all)")
    link.add_argument("--drift", action="store_true", help="subtract the field's drift (trackpy.compute_drift)")
    link.add_argument("--msd", type=Path, default=None,
                      help="CSV of the ensemble MSD (trackpy.emsd: lagt, msd, N; their units in MSD.json beside it)")
    link.add_argument("--mpp", type=number_in(0, 1e6, low_open=True), default=None,
                      help="microns per pixel (per y voxel for z,y,x tables), for the MSD. Default: from the table's "
                           "y_um,x_um columns (the dock's Export writes them), else the image's pixel size "
                           "that detect's .json beside the table records, else the MSD in pixels")
    link.add_argument("--fps", type=number_in(0, 1e9, low_open=True), default=None,
                      help="frames per second, for the MSD. Default: from the image's frame interval that detect's "
                           ".json beside the table records, else lag times in frames")
    link.add_argument("--max-lag", type=number_in(1, 1_000_000, whole=True), default=100,
                      help="longest lag for the MSD, frames (default 100)")

    rounds = sub.add_parser("rounds", help="list a review project's model rounds; export one as a model file, "
                                           "or delete one",
                            description="The rounds the napari dock trained on an image. --export writes round N "
                                        "as MODEL.pt + MODEL.json (+ its criterion), for detect --model or the "
                                        "dock's Add... in another project.")
    rounds.add_argument("project", type=Path, help="the project folder (IMAGE.particle-detect, or the rods, chains "
                        "or volumes one) or its image")
    action = rounds.add_mutually_exclusive_group()
    action.add_argument("--export", type=number_in(1, 99_999, whole=True), metavar="N", help="export round N")
    action.add_argument("--delete", type=number_in(1, 99_999, whole=True), metavar="N",
                        help="delete round N (not the one in use, not the shipped model)")
    rounds.add_argument("-o", "--output", default=None,  # a string: a trailing / names a folder, refused
                        help="with --export: the model file to write (NAME or NAME.pt)")
    rounds.add_argument("--name", default=None, help="with --export: a name for the model, kept in its card")
    rounds.add_argument("--overwrite", action="store_true", help="with --export: replace the model file at -o")

    gui = sub.add_parser("gui", help="open napari with the Particle detection dock and these images")
    gui.add_argument("images", nargs="*", type=Path,
                     help="images or stacks (napari's readers), folders (each of their images) and centre CSVs")
    for command in sub.choices.values():  # -q after the subcommand too; SUPPRESS: absent, the first one's stands
        command.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                             help="no progress bars or info messages")
    return parser


def _given_options(argv: list[str]) -> set[str]:
    """The destinations of the options named on the command line (those left at their defaults are
    absent), so an option that the rest of the command would ignore can be refused."""
    parser = build_parser()

    def suppress(command: argparse.ArgumentParser) -> None:
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    suppress(sub)
            action.default = argparse.SUPPRESS

    suppress(parser)
    return set(vars(parser.parse_args(argv)))


# What each sort of synthetic data uses of synth's options (the others would be ignored: refused).
SYNTH_VOLUME_ONLY = ("volume_fraction", "volume_shape", "z_step", "psf_z_ratio", "dye", "sphere_diameter")
SYNTH_2D_ONLY = ("shape", "radius", "area_fraction", "look", "bit_depth", "stack", "benchmark")
SYNTH_KIND_ONLY = {"width": ("rods", "ellipsoids"), "aspect": ("rods", "ellipsoids"),
                   "alignment": ("rods", "ellipsoids"), "beads": ("chains",), "radius": ("spheres", "chains"),
                   "benchmark": ("rods", "ellipsoids", "chains")}


def _option(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def check_synth_options(args: argparse.Namespace) -> None:
    """Refuse an option this synth would not use, with one line saying what it goes with."""
    given = getattr(args, "given", set())
    if args.volume:
        if args.kind != "spheres":
            raise ParticleDetectError(f"--kind {args.kind}: --volume makes volumes of spheres only")
        for dest in SYNTH_2D_ONLY:
            if dest in given:
                raise ParticleDetectError(f"{_option(dest)} is for 2D images; --volume takes --volume-shape, "
                                          "--sphere-diameter, --volume-fraction, --z-step, --psf-z-ratio, --dye")
        return
    for dest in SYNTH_VOLUME_ONLY:
        if dest in given:
            raise ParticleDetectError(f"{_option(dest)} goes with --volume")
    for dest, kinds in SYNTH_KIND_ONLY.items():
        if dest in given and args.kind not in kinds:
            raise ParticleDetectError(f"{_option(dest)} is for --kind {' or '.join(kinds)}, not {args.kind}")


def cmd_synth(args: argparse.Namespace) -> int:
    check_synth_options(args)
    if args.volume:
        return volume_cli.cmd_synth_volumes(args)
    import pandas as pd
    import tifffile

    if args.kind != "spheres":
        from .kinds import cmd_synth_kind

        return cmd_synth_kind(args)
    from .checks import check_synth_output, warn_of_empty_images
    from .kinds import write_stack
    from ..files.io import staged_folder
    from ..files.centre_csv import write_centres
    from ..synthetic.spheres import SynthConfig, synthesize

    config = SynthConfig(
        shape=tuple(args.shape), look=args.look, radius_range=tuple(sorted(args.radius)),
        area_fraction=args.area_fraction, bit_depth=args.bit_depth,
    )
    check_synth_output(args.outdir, config, args.n)
    samples = [synthesize(config, seed=args.seed + i) for i in range(args.n)]
    with staged_folder(args.outdir) as staging:  # all files or none, never a truncated image
        if args.stack:
            write_stack(staging / "stack.tif", [s.image for s in samples])
            table = pd.concat(
                [pd.DataFrame({"frame": i, "y": s.centres[:, 0], "x": s.centres[:, 1]}) for i, s in enumerate(samples)]
            )
            write_centres(table, staging / "stack.csv")
        else:
            for i, sample in enumerate(samples):
                tifffile.imwrite(staging / f"image_{i:03d}.tif", sample.image)
                write_centres(pd.DataFrame({"y": sample.centres[:, 0], "x": sample.centres[:, 1]}),
                              staging / f"image_{i:03d}.csv")
        (staging / "synth.json").write_text(json.dumps({"seed": args.seed, "n": args.n, **config.to_dict()}, indent=2))
    log.info("wrote %s with %d centres to %s", written_images(args.n, args.stack), sum(len(s.centres) for s in samples),
             args.outdir)
    warn_of_empty_images([len(s.centres) for s in samples], "particles", 2 * config.radius_range[1], config.shape,
                         config.area_fraction, "--radius")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from .checks import check_model_path, check_train_outputs
    from ..projects.round_files import refuse_inside_project
    from ..shipped import refuse_shipped_output

    # As given, for its trailing separator; every step after it takes a path.
    output_text, args.output = str(args.output), Path(args.output)
    check_model_path(args.init, "--from")
    for path in args.data + args.validate + args.unlabelled:
        if not path.exists():  # said before "no centre table beside it" could name its table instead
            raise ParticleDetectError(f"{path}: file not found")
    _refuse_project_folders(args.data + args.validate)
    refuse_shipped_output(args.output)  # before --overwrite could replace a shipped model
    refuse_inside_project(args.output)
    check_train_outputs(output_text, args.data + args.validate, args.init)
    with _model_output_held(args.output):
        return _train_held(args)


@contextlib.contextmanager
def _model_output_held(output: Path) -> Iterator[None]:
    """``train -o``'s model held by this run for the block. Two runs to one -o at once each trained and saved its
    epochs and resume state over the other's: both said they wrote the model, which held whichever saved last, and
    its resume state mixed the two runs."""
    from filelock import Timeout

    from ..files.file_detection import holding_output

    # The lock makes -o's folder: a run refused before it wrote anything (no data found) leaves none behind.
    made = [folder for folder in output.absolute().parents if not folder.exists()]
    with contextlib.ExitStack() as held:
        held.callback(_remove_empty_folders, made)
        try:
            held.enter_context(holding_output(output.with_suffix(".pt"), blocking=False))
        except Timeout:
            raise ParticleDetectError(
                f"{output.with_suffix('.pt')}: another training is writing this model now; let it finish or stop it "
                "(then --resume goes on from where it got), or give another -o") from None
        yield


def _remove_empty_folders(folders: list[Path]) -> None:
    """Remove each of ``folders`` (deepest first) that is empty; one holding anything stays."""
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _train_held(args: argparse.Namespace) -> int:
    """:func:`cmd_train` once its output is checked and held."""
    from ..models import load_model
    from ..learning.training import load_examples, working_diameter
    from ..learning.warm_up import prepare_training_meanwhile

    _refuse_replacing_a_model(args)
    prepare_training_meanwhile()  # about 1.5 s of imports the first optimiser step would wait for, done meanwhile
    handled = volume_cli.train_volumes_if_any(args)  # a 3D round (--axes ZYX, or --from a 3D model)
    if handled is not None:
        return handled
    _refuse_ignored_train_options(args)
    if args.kind != "spheres":
        from .kinds import cmd_train_kind

        return cmd_train_kind(args)
    _refuse_kind_tables(args.data + args.validate)
    base = load_model(args.init, "cpu") if args.init else None
    if base is not None and "arch" in args.given and args.arch != base.card.architecture:
        raise ParticleDetectError(f"--arch {args.arch}: --from {args.init} is a {base.card.architecture}, and "
                                  "training from it keeps its network; leave out --arch")
    if base is not None and args.data:
        return _fine_tune_round(args, base)
    if args.unlabelled or args.unlabelled_frames is not None:
        raise ParticleDetectError("--unlabelled and --unlabelled-frames belong to a fine-tuning round: "
                                  "give --from MODEL and annotated DATA too")
    config = _train_config(args)
    working = base.card.canonical_diameter if base is not None else working_diameter(config)
    examples = load_examples(args.data, working, args.diameter) if args.data else None
    validation = load_examples(args.validate, working, args.diameter) if args.validate else None
    _log_rescaling((examples or []) + (validation or []), working)
    return _train(args, config, base, examples, validation)


def _refuse_replacing_a_model(args: argparse.Namespace) -> None:
    """A finished model (or an interrupted run's state) at -o is replaced only when asked (--overwrite);
    --resume continues it."""
    if args.overwrite and args.resume:
        raise ParticleDetectError("--overwrite starts again over the model at -o; --resume continues it: not both")
    if args.resume or args.overwrite:
        return
    from .checks import model_outputs

    # A fine-tuning round (--from with DATA) is short and refuses --resume: not offered for it.
    resume = "" if args.init is not None and args.data else ", --resume to continue an interrupted run"
    for path in model_outputs(args.output).values():
        if path.exists():
            raise ParticleDetectError(f"{path}: already there; give --overwrite to replace it{resume}, or another -o")


def _refuse_ignored_train_options(args: argparse.Namespace) -> None:
    """Options this 2D training would ignore: refused with one line, as elsewhere."""
    if args.diameter is not None and not (args.data or args.validate or args.unlabelled):
        raise ParticleDetectError("--diameter is the particle size in DATA (and --validate, --unlabelled); "
                                  "without them it would be ignored")
    if args.synthetic_fraction is not None and not args.data:
        raise ParticleDetectError("--synthetic-fraction mixes synthetic images with DATA; without DATA training is "
                                  "all synthetic")
    if args.unlabelled_frames is not None and not args.unlabelled:
        raise ParticleDetectError("--unlabelled-frames says how many --unlabelled frames to use; give --unlabelled")
    if args.kind != "spheres" and "arch" in args.given:
        raise ParticleDetectError(f"--arch is for sphere models; a {args.kind} model's network is its heads UNet")


def _refuse_project_folders(paths: list[Path]) -> None:
    """A dock project folder holds frames as the dock saved them, not image + CSV pairs: read as DATA it was
    "no image + CSV pairs found"; refused with the two ways to train on its reviewed frames."""
    from ..project_layout import PROJECT_SUFFIX

    for path in paths:
        if path.is_dir() and (path.suffix == PROJECT_SUFFIX or (path / "state.json").is_file()):
            raise ParticleDetectError(f"{path}: a napari project: run a Fine-tune round in the dock, or Export its "
                                      "reviewed frames beside the image (IMAGE.csv) and train --from on the image")


def _refuse_kind_tables(paths: list[Path]) -> None:
    """Sphere training on a rods or chains table would learn its centres as spheres': refused, by its header."""
    from .checks import boxes_hint, table_columns
    from ..kinds.columns import columns_said, table_kind
    from ..learning.training import annotated_files

    for _, csv in annotated_files(paths, "centre table"):
        columns = table_columns(csv)
        kind = table_kind(columns) if columns is not None else "spheres"  # unreadable: the reader says why, later
        if kind != "spheres":
            raise ParticleDetectError(f"{csv}: a {kind} table ({columns_said(kind, columns)} columns), read "
                                      f"here as sphere centres; give --kind {kind}{boxes_hint(columns)}")


def _train_config(args: argparse.Namespace, preset=None):
    """The training configuration: the preset (default: TrainConfig's) with the options given."""
    from dataclasses import fields, replace

    from ..learning.training import TrainConfig

    preset = preset or TrainConfig(learning_rate=5e-4 if args.init else 2e-3,
                                   synthetic_fraction=0.5 if args.data else 1.0)
    given = {"epochs": args.epochs, "steps_per_epoch": args.steps_per_epoch, "batch_size": args.batch_size,
             "crop": args.crop, "learning_rate": args.lr, "synthetic_fraction": args.synthetic_fraction,
             "time_limit_s": args.minutes * 60 if args.minutes else None, "threads": args.threads}
    given = {k: v for k, v in given.items() if v is not None}
    if not args.data:
        given["synthetic_fraction"] = 1.0
    assert {f.name for f in fields(preset)} >= set(given)
    return replace(preset, architecture=args.arch, seed=args.seed, device=args.device, **given)


def _log_rescaling(examples: list, working: float) -> None:
    """One line for the files rescaled to the model's working size: a file's factor, or the range of several
    files' (each file's own estimated size; the first file's factor alone read as everyone's)."""
    files = _files_of(examples)
    rescaled = [(name, scale) for name, scale in files if scale != 1.0]
    if not rescaled:
        return
    to = f"to the model's working particle size {working:.1f} px"
    if len(rescaled) == 1:
        log.info("%s: rescaled by %.3f %s", *rescaled[0], to)
        return
    (low, lowest), (high, highest) = min(rescaled, key=lambda f: f[1]), max(rescaled, key=lambda f: f[1])
    factors = f"by {lowest:.3f}" if lowest == highest else \
        f"by {lowest:.3f} ({low}) to {highest:.3f} ({high}), each file by its own particle size"
    count = f"all {len(files)}" if len(rescaled) == len(files) else f"{len(rescaled)} of {len(files)}"
    log.info("%s files rescaled %s %s", count, to, factors)


def _files_of(examples: list) -> list[tuple[str, float]]:
    """Each file's name and factor, from its examples (one a frame, named FILE[frame], a file's frames in a row
    and rising: a frame number that does not rise starts another file of the same name, in another folder)."""
    files: list[tuple[str, float]] = []
    last = None
    for ex in examples:
        name, _, index = str(ex.name).rpartition("[")
        frame = int(index.rstrip("]")) if index.rstrip("]").isdigit() else -1
        if last is None or name != last[0] or frame <= last[1]:
            files.append((name or str(ex.name), ex.scale))
        last = (name, frame)
    return files


def _train(args: argparse.Namespace, config, base, examples, validation) -> int:
    from .bars import StepBar, epoch_line
    from ..learning.training import resume_hint_at_ctrl_c, train

    trained_epochs = []

    # The training's own lines (a time limit reached) and the epochs' print above the bar.
    with resume_hint_at_ctrl_c(args.output, config.epochs), StepBar(args.quiet) as bar:
        def progress(event: dict) -> None:
            if event["event"] == "step":
                bar.step(event)
            else:
                trained_epochs.append(event["epoch"])
                # Logged: on stderr with the run's other lines (stdout was theirs alone), none with -q.
                log.info("%s", epoch_line(event))

        result = train(config, examples=examples, validation_examples=validation, init=base, out=args.output,
                       progress=progress, resume=args.resume, extra_card={"command": command_line()})
    if trained_epochs:  # none: a finished run resumed, which training said
        # The epoch kept and its threshold are chosen on the generator's images and --validate's pooled: said so.
        measured = [f"{n} {what}{'s' if n != 1 else ''}" for n, what in
                    ((config.validation_images, "generator image"), (len(validation or []), "--validate image")) if n]
        log.info("best validation F1 %.4f (on %s), threshold %.2f -> %s", result.best_f1, " and ".join(measured),
                 result.model.card.threshold, result.path)
    return 0


def _fine_tune_round(args: argparse.Namespace, base) -> int:
    """``train --from MODEL DATA``: the dock's fine-tuning round (finetune.fine_tune) on annotated files."""
    from dataclasses import replace

    from .bars import RoundBar
    from .rounds import save_round
    from ..learning.finetune import FINE_TUNE, fine_tune, round_defaults
    from ..learning.training import load_examples
    from .checks import refuse_a_time_limit_in_a_round, refuse_resuming_a_round, round_unsaved_at_ctrl_c

    refuse_resuming_a_round(args)
    refuse_a_time_limit_in_a_round(args)
    config = _train_config(args, FINE_TUNE)
    # What the device affords (a GPU: more crops a step), where the command line does not say.
    given = {"steps_per_epoch": args.steps_per_epoch, "batch_size": args.batch_size, "learning_rate": args.lr}
    config = replace(config, **{name: value for name, value in round_defaults(config.device).items()
                                if name in given and given[name] is None})
    with round_unsaved_at_ctrl_c(args.output):
        examples = load_examples(args.data, base.card.canonical_diameter, args.diameter)
        unlabelled = None
        if args.unlabelled:
            from ..learning.pseudo_labels import read_unlabelled

            config = replace(config, unlabelled_frames=_unlabelled_count(args, config, examples))
            unlabelled = read_unlabelled(args.unlabelled, base.card.canonical_diameter, args.diameter)
        validation = load_examples(args.validate, base.card.canonical_diameter, args.diameter) if args.validate \
            else None
        _log_rescaling(examples + (validation or []), base.card.canonical_diameter)
        with RoundBar(args.quiet, config.epochs * config.steps_per_epoch) as bar:  # the round's own lines above it
            result = fine_tune(base, examples, config, args.device, progress=bar.event, validation=validation,
                               unlabelled=unlabelled)
    # With --validate the verdict is measured on those images alone (finetune.fine_tune): said so.
    scored_on = f"--validate image{'s' if result.held_out_tiles != 1 else ''}" if validation else "held-out tiles"
    _warn_if_truth_looks_mismatched(result, args.init, "the --validate images" if validation else "the data")
    save_round(result, args.init, args.output, tiles=scored_on)
    return 0


def _unlabelled_count(args: argparse.Namespace, config, examples: list) -> int:
    """How many --unlabelled frames a round asks for: --unlabelled-frames, else the default but no more than the
    files hold unreviewed (a frame of ``examples``, known by its pixels, is never learned from: --unlabelled may be
    the annotated movie itself); a default of 8 over fewer frames was warned of as a round short of what was asked,
    though the user had asked for no number. Where none is left unreviewed, what the files hold is asked, so the
    round says it found none."""
    from ..learning.pseudo_labels import DEFAULT_FRAMES, stacks_at
    from ..learning.training import frame_digest

    if args.unlabelled_frames is not None:
        return int(args.unlabelled_frames)
    wanted = int(config.unlabelled_frames or DEFAULT_FRAMES)
    stacks = stacks_at(args.unlabelled)
    held = sum(len(frames) for _, frames in stacks)
    if held - len(examples) >= wanted:  # enough even were every reviewed frame among them: no frame read
        return wanted
    reviewed = {frame_digest(example.image) for example in examples}
    unreviewed = sum(frame_digest(frames[i]) not in reviewed for _, frames in stacks for i in range(len(frames)))
    return min(wanted, unreviewed or held)


# Below this held-out F1 for the starting model, the truth tables more likely describe other positions than
# the images show than optics the model never saw: the shipped model scored 0.65-0.90 on every unfamiliar
# optics of the learning loop's benchmarks (README, The learning loop), and 0.04 on truth in micrometres.
MISMATCHED_TRUTH_F1 = 0.3


def _warn_if_truth_looks_mismatched(result, parent: Path, scored_on: str = "the data") -> None:
    """Said beside the round's verdict: against truth that does not match its images, any round may read
    as "better" while both models are near 0. ``scored_on``: what the verdict was measured on."""
    if result.parent_score is not None and result.parent_score.f1 < MISMATCHED_TRUTH_F1:
        log.warning("%s scores held-out F1 %.4f on %s (below %.1f): the truth and the images may not match "
                    "(units? y,x order?); centres are in pixels, y first", parent, result.parent_score.f1, scored_on,
                    MISMATCHED_TRUTH_F1)


def cmd_detect(args: argparse.Namespace) -> int:
    from .checks import check_model_path
    from ..files.file_detection import DetectOptions, check_options, expand_inputs, unique_inputs

    # The run's start, before the model loads and a cluster starts: a run into the same folder that ended since
    # ran beside this one, and its record is kept in this one's (files.distributed.runs_beside).
    args.started = datetime.now().astimezone()
    check_model_path(args.model)
    inputs, repeats = unique_inputs(_without_overlays(args.inputs, expand_inputs(args.inputs)))
    for repeat, kept in repeats.items():
        log.info("%s: the same file as %s; detected once", repeat, kept)
    folder = _is_folder_output(args.output, args.inputs, inputs)  # a name that is neither is refused: volumes too
    if args.frames is not None:
        _check_frames_of_one_volume(args, inputs)
    handled = _detect_channel_of_volumes(args, inputs) if args.channel is not None else None
    if handled is None:  # volumes (by --axes or metadata) go their own way
        handled = volume_cli.detect_volumes_if_any(args, inputs)
    if handled is not None:
        return handled
    options = DetectOptions(threshold=args.threshold, diameter=args.diameter, polarity=args.polarity, tile=args.tile,
                            precision=args.precision, device=args.device, batch_size=args.batch_size,
                            compile=args.compile, runtime=args.runtime, measure=args.measure, kind=args.kind,
                            split_close=args.split_close, channel=args.channel, axes=args.axes, frames=args.frames)
    options = check_options(options)  # --frames written one way, so one range has one fingerprint
    if args.kind != "spheres" and args.overlay is not None:
        raise ParticleDetectError(f"{args.overlay}: --overlay draws sphere centres; not with --kind {args.kind}")
    if args.kind == "rods" and args.diameter is not None:
        raise ParticleDetectError("--diameter is the size of spheres and of chains' beads; --kind rods works at the "
                                  "image's own pixel scale (widths of about 4-18 px)")
    if args.kind != "spheres" and args.measure:
        raise ParticleDetectError(f"--measure measures sphere centres; not with --kind {args.kind}")
    if args.kind != "spheres" and args.split_close:
        raise ParticleDetectError(f"--split-close splits sphere peaks; not with --kind {args.kind}")
    args.output = Path(args.output)
    if folder:
        return _detect_into_folder(args, inputs, options)
    if args.workers is not None or args.scheduler is not None:
        raise ParticleDetectError(f"{args.output}: --workers and --scheduler write one CSV per input into a "
                                  "folder; end the output with / to name one")
    return _detect_into_csv(args, inputs, options)


def _without_overlays(arguments: list[str], inputs: list[Path]) -> list[Path]:
    """``inputs`` but for the overlays an earlier --overlay drew into a folder or glob given (files.overlay.MARK), and
    evaluate's --plot pictures (PLOT_MARK): pictures of centres and scores, not images to detect. One named on its
    own is kept, and read as the user asked."""
    from ..files.overlay import is_drawn

    named = {Path(argument) for argument in arguments}
    overlays = [path for path in inputs if path not in named and path.is_file() and is_drawn(path)]
    for path in overlays:
        log.info("%s: a picture particle-detect drew (an overlay or a plot), not an image; left out", path)
    if overlays and len(overlays) == len(inputs):
        raise ParticleDetectError(f"{' '.join(map(str, arguments))}: no images to detect, only overlays detect drew")
    return [path for path in inputs if path not in overlays]


def _check_frames_of_one_volume(args: argparse.Namespace, inputs: list[Path]) -> None:
    """``--frames`` past the end of the one volume (by --axes or metadata) a run into one table detects, refused
    before any work (the model loads), as _detect_into_csv refuses a 2D stack's: --frames picks time points of a
    series, and a ZYX file has one (frame 0). Of several inputs, or into a folder, such a file fails in its turn and
    the others are detected, as 2D stacks do (volume_detection.detect_volume_file checks each)."""
    from ..files.axes import read_volumes
    from ..detection.volume_detection import volumes_to_detect

    if len(inputs) != 1 or _is_folder_output(args.output, args.inputs, inputs):
        return
    (axes,), _ = volume_cli.read_axes(inputs, args.axes, args.channel)
    if axes is not None and axes.is_volume:
        volumes_to_detect(inputs[0], read_volumes(inputs[0], axes), args.frames)


def _detect_channel_of_volumes(args: argparse.Namespace, inputs: list[Path]) -> int | None:
    """With ``--channel``: detect here when the chosen channel of the inputs is a volume (a CZYX file), as
    volume_cli.detect_volumes_if_any does volumes, and return the exit status; None when it is a 2D image
    or stack (those go on to detect_volumes_if_any, which reads a channel file as its channel's axes)."""
    found, unreadable = volume_cli.read_axes(inputs, getattr(args, "axes", None), args.channel)
    return volume_cli.detect_volumes_among(args, inputs, found, unreadable)


def _is_folder_output(output: str, arguments: list[Path], inputs: list[Path]) -> bool:
    """An output folder: a name ending in a separator, or, for several inputs (or a folder or glob of
    them), an existing folder or a name without a suffix. One table: a .csv (an existing folder for one
    input is refused as a folder). Any other name is refused: its table would have no .csv, and its .json,
    named by replacing the suffix, would be another run's (``run_2024.12.06`` and ``run_2024.12.07`` both wrote
    ``run_2024.12.json``); so is an empty one, which names the working folder."""
    from ..files.file_detection import GLOB_CHARACTERS

    if not output.strip():
        raise ParticleDetectError("-o/--output is empty: give NAME.csv for one table, or a folder ending in / for "
                                  "a folder of tables")
    if output.endswith(("/", os.sep)):
        return True
    many = len(inputs) > 1 or any(Path(a).is_dir() or any(c in str(a) for c in GLOB_CHARACTERS) for a in arguments)
    path = Path(output)
    if path.is_dir() and not many:  # here, not at the table's checks: '.' has no name to take a .json's suffix
        raise ParticleDetectError(f"{output}: is a folder; give the output CSV a file name inside it, or "
                                  f"{output.rstrip(os.sep)}{os.sep} for a folder of tables")
    if path.suffix.lower() == ".csv":
        return False
    if path.is_dir():
        return True
    if many and path.suffix == "":
        return True
    raise ParticleDetectError(f"{output}: give {output}.csv for one table, or {output}/ for a folder of tables")


def _detect_into_csv(args: argparse.Namespace, inputs: list[Path], options) -> int:
    import pandas as pd

    from .checks import check_detect_outputs
    from ..files.distributed import failure_line
    from ..files.io import atomic_write_text, read_image
    from ..files.centre_csv import write_centres
    from ..detection.prediction import COLUMNS

    from ..files.file_detection import (
        FramesSoFar, check_diameter_fits, check_unedited, detected_frames, frames_to_detect, metadata_path,
        side_tables, table_digests,
    )

    if not args.replace_edited:  # first: check_detect_outputs removes a stale per-chain table, edited or not
        check_unedited([args.output])
    check_detect_outputs(args.output, args.overlay, inputs, args.model, args.kind)
    if args.overlay is not None:
        from ..files.overlay import check_replaceable

        check_replaceable(args.overlay)
    unreadable = {}
    frame_counts: dict[Path, int] = {}  # each input's frames to detect: its bar's length from the start
    for path in inputs:  # every input opens before any work (frames are read later)
        try:
            image = read_image(path, lazy=True, channel=args.channel, axes=args.axes, frames=options.frames)
            check_diameter_fits(path, image, args.diameter)
            frame_counts[path] = len(frames_to_detect(path, image, options.frames))
        except Exception as exc:  # noqa: BLE001 - of several files a bad one is reported at the end (README)
            if len(inputs) == 1:
                raise
            unreadable[path] = failure_line(path, exc)
    _load_model_first(args, options)  # before any bar: a model that cannot load is one error
    # An output a run of this command left unfinished (Ctrl-C, a failure at a frame): its frames are gone on from.
    earlier, meta = _earlier_frames(args, [path for path in inputs if path not in unreadable], options)
    failed = {}
    done: list[tuple[Path, dict, "pd.DataFrame"]] = []  # the inputs finished: their records and tables
    current: tuple[Path, FramesSoFar] | None = None  # the input being detected and its frames so far
    try:
        for path in inputs:
            if path in unreadable:
                failed[path] = unreadable[path]
                continue
            before = earlier.get(path)
            if before is not None and before.record is not None:
                # Finished before the run stopped at a later input: its rows and record as written then.
                record, table = before.record, before.rows
            else:
                current = (path, before.so_far if before is not None else FramesSoFar())
                try:
                    result = _detect_with_bar(args, path, options, current[1], frame_counts.get(path))
                except Exception as exc:  # noqa: BLE001 - of several files a bad one is reported at the end (README)
                    if len(inputs) == 1:
                        # Its frames done are kept, as at Ctrl-C; said above the error line.
                        kept = _keep_stopped(args, options, done, meta, current, failed, several=False)
                        if kept:
                            log.warning("%s: failed %s", path, kept)
                        raise
                    failed[path] = failure_line(path, exc)
                    current = None
                    continue
                record, table, meta = result.record, result.table, result.meta
            if args.kind != "spheres":
                # Chains count their beads as rows too; rods are a row each, so their count is said once.
                rows = f" ({record['rows']} rows)" if record["rows"] != record["objects"] else ""
                log.info("%s: %d %s%s in %s", path, record["objects"], args.kind, rows,
                         counted(len(detected_frames(record)), "frame"))
                table = table.assign(file=str(path)) if len(inputs) > 1 else table
            else:
                _log_sizing(path, record, f"{len(table)} centres in {counted(len(detected_frames(record)), 'frame')}; ")
                if len(inputs) > 1:
                    table["file"] = str(path)
            done.append((path, record, table))
            current = None
            if args.kind == "spheres" and args.overlay is not None and len(done) == 1:
                from ..files.overlay import save_overlay

                image = read_image(path, lazy=True, channel=args.channel, axes=args.axes, frames=options.frames)
                shown = detected_frames(record)[0]
                first = np.asarray(image if image.ndim == 2 else image[shown])
                save_overlay(first, table[table["frame"] == shown][["y", "x"]].to_numpy(), args.overlay,
                             record["diameter_px"])
    except KeyboardInterrupt:
        kept = _keep_stopped(args, options, done, meta, current, failed, len(inputs) > 1)
        raise KeyboardInterrupt(kept or "") from None
    if not done and failed:
        return report_failed(failed)  # nothing detected: no table
    _log_compile_warmup(args, options)
    out = pd.concat([table for *_, table in done], ignore_index=True) if done else pd.DataFrame(columns=COLUMNS)
    # What produced these centres, beside them: the particle size used, the model and its threshold. It
    # goes first, marked unfinished, then again once the tables are written: a run killed in between
    # leaves outputs that say detect wrote them, so the same command can replace them.
    meta = {**meta, "inputs": [record for _, record, _ in done]}
    if failed:  # the table holds the other files only; its metadata says which are missing and why
        meta["failed"] = [{"file": str(path), "reason": line} for path, line in failed.items()]
    try:
        atomic_write_text(metadata_path(args.output), json.dumps({**meta, "unfinished": True}, indent=2))
        if args.kind != "spheres":
            from ..kinds.registry import write_kind_table

            write_kind_table(out, args.output, args.kind)
        else:
            write_centres(out, args.output)
        meta["tables"] = table_digests(args.output, args.kind)
        atomic_write_text(metadata_path(args.output), json.dumps(meta, indent=2))
    except KeyboardInterrupt:
        # Every frame was detected: lost with a table half written, a long stack's whole run was to do again.
        kept = _keep_stopped(args, options, done, meta, None, failed, len(inputs) > 1, writing=True)
        raise KeyboardInterrupt(kept or "") from None
    beside = [path.name for path in [*side_tables(args.output, args.kind), metadata_path(args.output)]]
    log.info("wrote %s (and %s)", args.output, " and ".join(beside))
    return report_failed(failed)


# What an unfinished output's metadata holds beyond the run's own (model, threshold, device...): not carried over.
UNFINISHED_KEYS = ("unfinished", "inputs", "failed", "tables")


def _earlier_frames(args: argparse.Namespace, inputs: list[Path], options) -> tuple[dict, dict]:
    """Of the output a run of this command left unfinished (file_detection.write_unfinished), what each input had
    done (file_detection.earlier_frames: those of the same input, options and model), said input by input, and
    the run's metadata then (the model, threshold, ...) for a table whose every input was done; ({}, {}) where
    there is none. Spheres only: a rods or chains run keeps nothing when stopped, and starts over."""
    from ..files.file_detection import RESUME, earlier_frames, read_metadata, tell_moved, why_started_over

    if args.kind != "spheres":
        return {}, {}
    earlier = earlier_frames(args.output, inputs, options, args.model)
    meta = read_metadata(args.output) or {}
    if RESUME in meta and not earlier:  # the same rule as a folder run's output of other input, options or model
        log.info("%s: %s: detecting from the first frame", args.output,
                 why_started_over(args.output, inputs, options, args.model))
    tell_moved(list(earlier), [args.output] * len(earlier))
    for path, before in earlier.items():
        so_far = before.so_far
        log.info("%s: %s", path, f"done before, in {args.output}" if before.record is not None else
                 f"{so_far.done} of {so_far.total} frames done before, in {args.output}: detecting the "
                 f"{so_far.total - so_far.done} left")
    return earlier, ({k: v for k, v in meta.items() if k not in UNFINISHED_KEYS + (RESUME,)} if earlier else {})


def _keep_stopped(args: argparse.Namespace, options, done: list[tuple[Path, dict, "pd.DataFrame"]], meta: dict,
                  current: "tuple[Path, FramesSoFar] | None", failed: dict[Path, str], several: bool,
                  writing: bool = False) -> str:
    """Write what a single-table run stopped by Ctrl-C or a failure had done at its output, marked unfinished
    (file_detection.write_unfinished): the inputs ``done`` (with their records) and the frames of the one being
    detected (``current``), each with the fingerprint the same command finds again to go on from them; ``several``:
    the table has a file column (several inputs). How far it got and how to go on, as part of a line ('after 57
    of 150 frames: they are in ...'); "" where nothing was done, or could be kept (a rods or chains run keeps
    nothing). ``writing``: stopped as the finished table was written, every input done."""
    import pandas as pd

    from ..files.file_detection import detected_frames, job_fingerprint, keep_unfinished, unfinished_entry

    if args.kind != "spheres":
        return ""
    partial = current if current is not None and current[1].done else None
    if not done and partial is None:
        return ""

    def fingerprint(path: Path) -> dict | None:
        try:
            return job_fingerprint(path, options, args.model)
        except (OSError, ValueError):  # gone or unreadable now: an entry nothing matches, so it starts over
            return None

    tables = [table for _, _, table in done]
    records = [record for _, record, _ in done]
    resume = []
    for path, record, _ in done:
        frames = detected_frames(record)
        resume.append(unfinished_entry(str(path), len(frames), len(frames), fingerprint(path),
                                       frames=record.get("frames_detected")))
    if partial is not None:
        path, so_far = partial
        tables.append(so_far.table().assign(file=str(path)) if several else so_far.table())
        records.append(so_far.record(str(path)))
        resume.append(so_far.resume_entry(str(path), fingerprint(path)))
    stopped = {**meta, "inputs": records}
    if failed:
        stopped["failed"] = [{"file": str(path), "reason": line} for path, line in failed.items()]
    if not keep_unfinished(args.output, pd.concat(tables, ignore_index=True), stopped, resume):
        return ""
    if partial is not None:
        path, so_far = partial
        before = f", {counted(len(done), 'file')} before it done" if done else ""
        how_far = f"after {so_far.done} of {so_far.total} frames" + (f" of {path}{before}" if several else "")
    elif writing:
        how_far = "as the table was written, every frame detected"
    else:
        how_far = f"after {counted(len(done), 'file')}"
    return f"{how_far}: they are in {args.output}; run the same command again to go on"


def _log_sizing(path: Path, record: dict, found: str = "") -> None:
    """The particle size a file was detected at, and how it was found; a doubtful estimate is a warning,
    so it shows even with --quiet (and in folder runs, which log nothing else per file)."""
    from ..detection.sizing import DIAMETER_ADVICE, with_advice

    low = record.get("diameter_confidence") == "low"
    # The reason's own advice (the library's and the dock's words) names the option to give here.
    reason = with_advice(record.get("diameter_reason", ""), "give --diameter").replace(
        DIAMETER_ADVICE, "give --diameter if it is known")
    (log.warning if low else log.info)(
        "%s: %sparticle diameter %.1f px (%s%s)%s", path, found, record["diameter_px"], record["diameter_source"],
        ", ringed" if record.get("ringed") else "", f"; low confidence: {reason}" if low else "")


def _detect_with_bar(args: argparse.Namespace, path: Path, options, so_far: "FramesSoFar | None" = None,
                     total: int | None = None):
    """``detect_file`` on one input, its frames counted on a progress bar; ``so_far``: its FramesSoFar (frames
    done before are counted from the start, not timed); ``total``: its frames to detect, where known before (the
    bar shows 'n/total' from the start, not a bare count until the first frame is done)."""
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    from ..files.file_detection import detect_file

    initial = so_far.done if so_far is not None else 0
    # Warnings during the run (a blank frame) print on lines of their own, above the bar, not glued to it.
    with (logging_redirect_tqdm(),
          tqdm(total=total, disable=args.quiet, unit="frame", desc=one_line(path.name), initial=initial) as bar):
        def progress(count: int, total: int) -> None:
            bar.total = total
            bar.update(count - bar.n)

        return detect_file(path, options, args.model, progress=progress, so_far=so_far)


def _load_model_first(args: argparse.Namespace, options, device: str | None = None) -> None:
    """Load the model before the work and its progress bar: one that cannot be loaded would fail every
    file alike, a failure line per file where it is one error (the files' own failures are reported file
    by file). On ``device`` (default: the one detection runs on, which then finds it cached)."""
    from ..detection.devices import select_device

    device = select_device(device or options.device)
    if args.kind == "spheres":
        from ..detection.prediction import require_spheres
        from ..models import load_model_cached

        require_spheres(load_model_cached(args.model, device))  # detect_file finds it cached
    else:
        from ..detection.kinds_prediction import model_for

        model_for(args.kind, args.model, device)


def _detect_into_folder(args: argparse.Namespace, inputs: list[Path], options) -> int:
    from dataclasses import replace

    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    from ..files.distributed import (
        check_replaceable, close_local_client, detect_files, local_client, quiet_distributed_logs, scheduler_client,
        threads_per_worker,
    )
    from ..files.file_detection import output_paths

    from .checks import check_output_folder

    if args.overlay is not None:
        raise ParticleDetectError(f"{args.overlay}: --overlay goes with a single .csv output, not a folder")
    check_output_folder(args.output)
    # Refusals before the bar (and the cluster) start: an output that would replace an input, a file detect
    # did not write or, without --overwrite, another file's results or, without --replace-edited, a table edited
    # since (detect_files checks the same, for its other callers), and a model that cannot load, which would fail
    # every file alike. Not with --scheduler: its workers may see the model at a path this machine lacks.
    present = [p for p in inputs if p.exists()]
    check_replaceable(present, output_paths(present, args.output), options, args.model, args.overwrite,
                      remedy="give --overwrite", replace_edited=args.replace_edited)
    if args.scheduler is None:
        _load_model_first(args, options, "cpu" if args.workers is not None else None)
    client = None
    finished = False  # else interrupted or failed: said in one line, without dask's errors as its cluster closes
    told: dict[Path, str] = {}  # each file's status as detect_files told it, for a Ctrl-C's line to count
    # A local cluster's logs say nothing the run does not say itself, from its start to its close: a Ctrl-C lands
    # between the run and the close as well, where dask's loop logs what the interrupt cut short.
    local = args.scheduler is None and args.workers is not None
    with quiet_distributed_logs() if local else contextlib.nullcontext():
        try:
            if args.scheduler is not None:
                client = scheduler_client(args.scheduler, timeout="20s")
            elif args.workers is not None:
                client = local_client(args.workers or None)
                options = replace(options, threads=threads_per_worker(len(client.scheduler_info()["workers"])))
            with logging_redirect_tqdm(), tqdm(total=len(inputs), disable=args.quiet, unit="file") as bar:
                def progress(path: Path, status: str) -> None:
                    told[path] = status
                    bar.update(1)

                summary = detect_files(inputs, args.output, options, args.model, client, progress=progress,
                                       overwrite=args.overwrite, command=command_line(),
                                       replace_edited=args.replace_edited, started=args.started)
            finished = True
        except KeyboardInterrupt as stop:
            if local:  # the command ends here, and dask's loop may still log what the stop cut short
                quiet_distributed_logs.until_exit()
            raise KeyboardInterrupt(str(stop) or _frames_kept_line(args, inputs, options, told)) from None
        finally:
            if client is not None and args.scheduler is not None:
                client.close()  # the cluster is someone else's, and goes on
            elif client is not None:
                close_local_client(client, quietly=not finished)
    # Each file's doubtful size estimate was said as it was done (files.distributed), not again here.
    log.info("%s into %s: %s", counted(len(inputs), "file"), args.output, summary.describe())
    status = report_failed(summary.failed)
    if summary.stopped:  # last, after the files' own failures: why the rest were not done, and how to go on
        print(one_line(f"particle-detect: error: {summary.stopped}"), file=sys.stderr)
        return 2
    return status


def _frames_kept_line(args: argparse.Namespace, inputs: list[Path], options, told: dict[Path, str]) -> str:
    """How far a folder run stopped by Ctrl-C got, and the frames kept of the stacks it stopped in (detect_file wrote
    them at their outputs, marked unfinished; the same command goes on from them: file_detection.earlier_frames), as
    part of one line; else the files it finished and that the same command skips them; "" where it kept nothing,
    which the bare 'interrupted' says as ever. ``told``: the status detect_files gave each file it got to (done,
    skipped or failed)."""
    from ..files.distributed import FilesSummary, finished_files_line, how_far
    from ..files.file_detection import FileResult, earlier_frames, output_paths

    summary = FilesSummary(done=[FileResult(path, None, {}) for path, status in told.items() if status == "done"],
                           skipped=[path for path, status in told.items() if status == "skipped"],
                           failed={path: status for path, status in told.items() if status == "failed"},
                           left=[path for path in inputs if path not in told])
    present = [path for path in inputs if path.exists()]
    kept = []
    for path, target in zip(present, output_paths(present, args.output)):
        earlier = earlier_frames(target, [path], options, args.model).get(path) if path not in told else None
        if earlier is not None and earlier.record is None:  # frames of a stack, not a file finished
            kept.append(f"{earlier.so_far.done} of {earlier.so_far.total} frames of {path} are kept in {target}")
    if not kept:
        return finished_files_line(summary, args.output)
    return f"{how_far(summary)}; {', '.join(kept)}: run the same command again to go on"


def _log_compile_warmup(args: argparse.Namespace, options) -> None:
    if not options.compile:
        return
    from ..detection.devices import select_device
    from ..models import load_model_cached
    from ..detection.networks import prepare_network

    device = select_device(options.device)
    network = prepare_network(load_model_cached(args.model, device), device, options.precision, compile=True)
    if network.warmup_seconds is not None:
        log.info("torch.compile: first network call (compiling) took %.1f s", network.warmup_seconds)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .checks import FIGURE_SUFFIXES, check_output, refuse_tables_of_another_sort
    from .file_pairs import paired_files
    from ..kinds.evaluation import evaluate_frames, plot_report
    from ..kinds.file_pairing import label_frames
    from ..files.centre_csv import read_centres
    from .border import border_note, border_sizes, check_border_options, frame_sizes
    from .kinds import print_scores, refuse_frames_against_none

    check_border_options(args)
    refuse_tables_of_another_sort([args.predicted, args.truth], args.kind)
    if args.kind != "spheres":
        from .kinds import cmd_evaluate_kind

        return cmd_evaluate_kind(args)
    if args.plot is not None:
        from ..files.overlay import PLOT_MARK, check_replaceable

        check_output(args.plot, [args.predicted, args.truth], "plot", FIGURE_SUFFIXES)
        check_replaceable(args.plot, PLOT_MARK)  # a picture of the user's given as --plot: refused before any work
    predicted = read_centres(args.predicted, spheres_only=True)
    truth = read_centres(args.truth, spheres_only=True)
    sizes, size_source = border_sizes(args, predicted, truth)  # before pairing renames the files
    predicted, truth, labels = paired_files(args, predicted, truth)
    refuse_frames_against_none(args.predicted, predicted, args.truth, truth, "centres", labels)  # files named
    handled = volume_cli.evaluate_if_volumes(args, predicted, truth, labels)
    if handled is not None:
        return handled
    shape = frame_sizes(args, sizes, labels)
    table = label_frames(evaluate_frames(predicted, truth, args.tolerance, args.border, shape), labels)
    pooled = table.iloc[-1].to_dict() if len(table) else {}
    print_scores(args, pooled, table.to_string(index=False, float_format=lambda v: f"{v:.4f}"),
                 border_note(args, pooled, size_source) if args.border else "")
    if args.plot is not None:
        plot_report(predicted, truth, str(args.plot), border=args.border, shape=shape)
        log.info("wrote %s", args.plot)
    return 0


def cmd_rounds(args: argparse.Namespace) -> int:
    from ..learning.volume_rounds import volume_project_folder
    from ..projects.kinds_project import existing_kinds, kind_folder_of
    from ..projects.locations import (
        found_note, home_folder_for_image, home_note, image_file_record, known_project_folder, projects_elsewhere,
    )
    from ..projects.project import PROJECT_SUFFIX, project_folder_for_image
    from ..projects.project_state import read_state_file
    from ..projects.round_files import delete_round, export_round
    from .rounds import open_project, projects_inside_note

    # The Particle detection dock's project of an image: beside it, or where the dock keeps it instead (the
    # folder chosen with Folder…, or the projects home for an image whose folder cannot be written).
    folder = (args.project if args.project.is_dir()
              else known_project_folder(args.project) or project_folder_for_image(args.project))
    if not args.project.is_dir():
        # Every project of the image: its spheres review (the Particle detection dock's), rods or chains,
        # and its review as volumes (the 3D dock's; a ZYX file may be reviewed both ways).
        found = {"spheres": folder} if (folder / "state.json").is_file() else {}
        found.update({kind: kind_folder_of(kind, args.project) for kind in existing_kinds(args.project)})
        volumes = volume_project_folder(args.project)
        if (volumes / "state.json").is_file():
            found["volumes"] = volumes
        if len(found) > 1:
            raise ParticleDetectError(f"{args.project}: has {' and '.join(found)} projects; give the project folder "
                                      f"({', '.join(str(f) for f in found.values())})")
        folder = next(iter(found.values()), folder)
    if not folder.is_dir() or not (folder / "state.json").is_file():
        # Its folder renamed or copied since, the dock's project of it is not where it is looked for: named, as
        # the dock names it, never listed in its stead (it may be someone else's copy).
        elsewhere = [] if args.project.is_dir() else projects_elsewhere(args.project, image_file_record(args.project))
        hint = (f"; {found_note(elsewhere)}: give {'that folder' if len(elsewhere) == 1 else 'one of them'} (or "
                "choose it with Folder… in the dock)") if elsewhere else ""
        if not hint and not args.project.exists():  # a mistyped name: "no project there" sent users looking for one
            raise ParticleDetectError(f"{args.project}: file not found (no image or project folder of that name)")
        if not hint and args.project.is_dir():  # the images' folder given for their project's
            hint = projects_inside_note(args.project)
        raise ParticleDetectError(f"{args.project}: no review project there (expected a folder like "
                                  f"IMAGE{PROJECT_SUFFIX} with a state.json){hint}")
    # Rods and chains projects keep their rounds as spheres projects do; Project.open wants the kind named.
    kind = read_state_file(folder / "state.json").kind
    project = open_project(folder, kind)
    if (args.output is not None or args.name is not None or args.overwrite) and args.export is None:
        raise ParticleDetectError("-o, --name and --overwrite go with --export N")
    if args.export is not None:
        if args.output is None:
            raise ParticleDetectError("--export N needs -o MODEL.pt")
        project.round(args.export)  # a round it lacks said first: "give --overwrite" was no way to export it
        from ..shipped import refuse_shipped_output
        from .checks import check_train_outputs, refuse_a_model_folder

        refuse_a_model_folder(args.output, "model.pt")  # as train -o refuses it
        # As train -o: a name without .pt gets it (it was refused here, taken by train), another ending is refused
        # in train's words.
        check_train_outputs(args.output, [], None)
        args.output = Path(args.output).with_suffix(".pt")
        refuse_shipped_output(args.output)  # as train's -o: a round exported there would replace a shipped model
        if args.output.exists() and not args.overwrite:
            raise ParticleDetectError(f"{args.output}: already there; give --overwrite to replace it, or another -o")
        path = export_round(project, args.export, args.output, args.name)
        log.info("round-%03d of %s -> %s (+ .json card)", args.export, folder, path)
        return 0
    if args.delete is not None:
        info = delete_round(project, args.delete)
        log.info("deleted %s of %s", info.name, folder)
        return 0
    from ..learning.finetune import tie_note
    from ..projects.shipped_rounds import (
        is_other_version, origin_label, origin_word, other_version_copies, shipped_weights, way_to_this_versions_model,
    )
    from .rounds import round_note_lines, score_heading, trained_column

    # Which project is listed (the projects home's copy, or the one beside the image), on stderr: stdout stays
    # the table.
    kept = f" ({home_note(args.project)})" if folder == home_folder_for_image(args.project) else ""
    log.info("project: %s%s", folder, kept)
    current = project.current_round
    scores_heading, metric_note = score_heading(kind)
    width = len(scores_heading)
    # As wide as its longest cell: '12f 3r + 8u, 2e not learned' pushed the scores out of their column.
    trained_width = max([len("trained") + 3] + [len(trained_column(info)) for info in project.rounds])
    print(f"round  from        {'trained':<{trained_width}}  {scores_heading}  result")
    for info in project.rounds:
        scores = (f"{info.parent_f1:.3f} / {info.f1:.3f}" if info.f1 is not None and info.parent_f1 is not None
                  else "-")
        result = "" if info.parent is None else ("unscored" if info.improved is None
                                                  else "better" if info.improved else "not better")
        result += tie_note(info.improved, info.f1, info.parent_f1)  # as the dock says it
        origin = f"{info.parent:03d}" if info.parent else origin_word(project, info)
        in_use = "(in use)" if current is not None and current.number == info.number else ""
        # A round whose rounds/ folder was deleted by hand, or whose files were damaged, was listed as sound:
        # the first word of it came when the round was used.
        problem = project.round_model_problem(info.number) or ""
        # Joined: '(in use)' of a round with no verdict starts the column; stripped: a round with neither ended in
        # the padding's spaces.
        said = "  ".join(part for part in (result, in_use, problem) if part)
        trained = f"{trained_column(info):<{trained_width}}"
        print(f"{info.number:03d}    {origin:<10}  {trained}  {scores:<{width}}  {said}".rstrip())
    for line in round_note_lines(project.rounds) + ([metric_note] if metric_note else []):
        print(line)
    offered = other_version_copies(project)  # today's model is not in the project yet
    for info in project.rounds:
        if not info.parent and is_other_version(project, info):  # the starred 'from' in words
            how = (f" ({shipped_weights(project, info)}; {way_to_this_versions_model(project, info)})"
                   if info in offered else "")
            print(f"* {info.name}: {origin_label(project, info)}{how}")
    return 0


def cmd_gui(args: argparse.Namespace) -> int:
    from .gui import run

    return run(args.images)


def cmd_recipe(args: argparse.Namespace) -> int:
    from .bars import StepBar, epoch_line
    from ..learning.recipes import run_recipe

    try:
        with StepBar(args.quiet) as bar:
            def progress(record: dict) -> None:
                if record.get("event") == "step":
                    bar.step(record)
                else:  # an epoch's record, a sphere's or a kind's; a later phase's epoch 0 is its starting model
                    log.info("phase %s, %s", record["phase"], epoch_line(record))

            status = run_recipe(args.file, minutes=args.minutes, device=args.device, threads=args.threads,
                                progress=progress)
    except KeyboardInterrupt as stop:  # the phase's steps done are kept: where the same command goes on
        raise KeyboardInterrupt(f"the same command (recipe {args.file}) goes on {str(stop) or 'where it stopped'}") \
            from None
    log.info("%s", status.describe())
    return 0


COMMANDS = {"synth": cmd_synth, "train": cmd_train, "recipe": cmd_recipe, "detect": cmd_detect, "evaluate": cmd_evaluate,
            "gui": cmd_gui, "link": cmd_link, "rounds": cmd_rounds}


def main(argv: list[str] | None = None) -> int:
    argv = frames_value_joined(volume_cli.diameter_values_last(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(argv)
    args.given = _given_options(argv)
    # force: a second main() in one process (tests, notebooks) logs to today's stderr, not a closed one.
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, handlers=[_one_line_handler()],
                        force=True)
    stopped_by: list[int] = []  # the signals that stopped the run as Ctrl-C does, first first
    try:
        # Not the viewer's: Qt's event loop would take the KeyboardInterrupt for an error in whichever slot it hit.
        with _stop_signals_as_ctrl_c(stopped_by) if args.command != "gui" else contextlib.nullcontext():
            _kind_from_model_card(args)
            return COMMANDS[args.command](args)
    except ParticleDetectError as exc:
        print(f"particle-detect: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the output piped into a reader that stopped early (head): Unix tools end unsaid
        _output_to_nowhere()
        return CLOSED_PIPE
    except OSError as exc:  # disk full, read-only folder, name too long: the file and the reason
        where = f"{exc.filename}: " if exc.filename else ""
        print(one_line(f"particle-detect: error: {where}{exc.strerror or exc}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:  # its message, where there is one: how to go on (train --resume)
        # The one line said; not what modules log as the process ends (torch's cache statistics, at INFO, when
        # the interrupt cut its import short). The next main() sets the level again.
        logging.getLogger().setLevel(logging.CRITICAL)
        how_to_go_on = f"; {stop}" if str(stop) else ""
        by = f" by {signal.Signals(stopped_by[0]).name}" if stopped_by else ""
        # A closed terminal (SIGHUP) takes stderr with it: the frames are kept all the same, and the status says it.
        with contextlib.suppress(OSError):
            print(one_line(f"particle-detect: interrupted{by}{how_to_go_on}"), file=sys.stderr)
        return 128 + (stopped_by[0] if stopped_by else signal.SIGINT)  # as a shell reports a process the signal ended


def _kind_from_model_card(args: argparse.Namespace) -> None:
    """Without --kind, the kind of the model given (detect's --model, train's --from) is its card's: a rods model
    given alone was refused as 'finds rods, not spheres; give --kind rods', though its card said so. A --kind
    given is kept, and a model of another kind refused as before."""
    model = {"detect": "model", "train": "init"}.get(args.command)
    if model is None or getattr(args, model, None) is None or "kind" in args.given:
        return
    from ..models.registry import saved_card

    try:
        kind = saved_card(getattr(args, model)).kind
    except (ParticleDetectError, OSError):  # missing or unreadable: loading the model says why, as before
        return
    if kind in KIND_NAMES:
        args.kind = kind


def _output_to_nowhere() -> None:
    """Send what stdout still holds to the null device: flushed at exit into the closed pipe, it raised once more
    ("Exception ignored ... BrokenPipeError"). Python's documented way, on the file descriptor itself."""
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # no real stream (a program's own, pythonw): nothing flushed there
        return
    nowhere = os.open(os.devnull, os.O_WRONLY)
    os.dup2(nowhere, descriptor)
    os.close(nowhere)


def _one_line_handler() -> logging.Handler:
    """The command line's log handler, on today's stderr (tqdm's redirect takes its formatter over to the bars')."""
    handler = logging.StreamHandler()
    handler.setFormatter(OneLineFormatter("%(message)s"))
    return handler


@contextlib.contextmanager
def _stop_signals_as_ctrl_c(stopped_by: list[int]) -> Iterator[None]:
    """Within the block, SIGTERM (a batch system's time limit, ``timeout``, ``kill``) and SIGHUP (a closed terminal)
    stop the command as Ctrl-C does, through the same KeyboardInterrupt, so what it has done is kept as a Ctrl-C
    keeps it; each one's number is appended to ``stopped_by``. By default they ended the process at once, losing
    every frame done. The handlers before are put back after the block: the library used from Python keeps its
    process's own. files/distributed.py holds and shields its cluster's workers from the same signals. A repeat within
    stop_signals.SAME_STOP_S of the stop, Ctrl-C's too, is the same stop (``timeout`` sends its signal to the process,
    then to its group): acted on, it would raise again while the run keeps its work, losing the line saying how to go
    on, or a folder run's record and the release of its outputs' locks. Each,
    Ctrl-C too, stops an import under way only once it is done (:func:`_interrupt`)."""
    from ..stop_signals import SAME_STOP_S, same_stop

    stopping_since: list[float] = []

    def stop(signum: int, frame) -> None:
        # Ctrl-C too: ``timeout -s INT`` signals the process and then its group, and the repeat, raised while the
        # stopped run wrote its record and released its outputs, left them half done.
        if same_stop(stopping_since[0] if stopping_since else None):
            return
        stopping_since[:] = [time.monotonic()]
        if signum != signal.SIGINT:  # Ctrl-C stops unnamed, as Python's own handler stops it
            stopped_by.append(signum)
        _interrupt(frame)

    previous = {}
    if threading.current_thread() is threading.main_thread():  # elsewhere no handler can be set
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):  # no SIGHUP on Windows
            number = getattr(signal, name, None)
            # None: a handler set outside Python, which could not be put back; an ignored signal stays ignored
            # (nohup's SIGHUP); Ctrl-C's own handler only where it is Python's, not one of the caller's.
            handler = signal.getsignal(number) if number is not None else None
            if handler not in (None, signal.SIG_IGN) and (name != "SIGINT" or handler is signal.default_int_handler):
                previous[number] = signal.signal(number, stop)
    try:
        yield
    finally:
        if previous and stopping_since and stopped_by:
            # The repeat of a stop (``timeout``'s SIGTERM to the process group, sent after the one to the process)
            # reached the handler put back (the default) once a quick stop was over, and ended the process with
            # -15, not 143: it is waited for as long as it is the same stop.
            time.sleep(max(0.0, stopping_since[0] + SAME_STOP_S - time.monotonic()))
        for number, handler in previous.items():
            signal.signal(number, handler)


def _interrupt(frame) -> None:
    """Raise KeyboardInterrupt in the frame a stop signal came to, or, within an import, as soon as the imports under
    way are done: a C extension being imported (onnxruntime's, or any that imports numpy's C API) turns it into an
    ImportError ('initialization failed'), which a folder run took for its file's failure, going on with the rest.
    The imports are over once the outermost of importlib's frames returns: told by that frame alone, as looking for
    importlib's frames at every call tripled the time torch's import took, and a Ctrl-C then took seconds more than
    the run it stopped would have."""
    outermost = _outermost_import(frame) if frame is not None else None
    if outermost is None:
        raise KeyboardInterrupt
    before = sys.getprofile()
    imported: list[bool] = []

    def after_imports(current, event: str, arg: object) -> None:
        if imported:  # the first event after: back in the code that imported
            sys.setprofile(before)
            raise KeyboardInterrupt
        if event == "return" and current is outermost:
            imported.append(True)

    sys.setprofile(after_imports)


def _outermost_import(frame):
    """The outermost of importlib's frames below ``frame`` (the import under way that all others run within); None
    where ``frame`` runs within no import."""
    outermost = None
    while frame is not None:
        if "importlib" in frame.f_code.co_filename and "_bootstrap" in frame.f_code.co_filename:
            outermost = frame
        frame = frame.f_back
    return outermost


if __name__ == "__main__":
    sys.exit(main())
