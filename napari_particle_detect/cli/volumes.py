"""The command line's volume paths, kept out of cli/main.py: ``detect --axes``/``--voxel-size`` on
volumes, ``synth --volume``, and ``evaluate`` on ``frame,z,y,x`` tables."""

from __future__ import annotations

import argparse
import functools
import json
import logging
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from filelock import Timeout

from ..files.axes import AXES_CHOICES, MICROMETRE, STACK_HINT, Axes, axes_hint, file_axes
from ..errors import ParticleDetectError
from ..stop_signals import held_stop_signals
from .bars import RoundBar
from .recorded import RecordsBesideTables
from ..wording import counted

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..detection.volume_detection import VolumeOptions
    from ..files.distributed import FilesSummary
    from ..files.io import ChannelAxis

log = logging.getLogger("particle-detect")


class DiameterAction(argparse.Action):
    """``--diameter D`` (xy, as in 2D) or ``--diameter Z Y X`` (voxels, volumes only)."""

    def __call__(self, parser, namespace, values, option_string=None):
        if len(values) not in (1, 3):
            parser.error(f"{option_string}: give one diameter (px) or three (z y x, voxels), got {len(values)}")
        namespace.diameter = values[0] if len(values) == 1 else None
        namespace.diameter_zyx = tuple(values) if len(values) == 3 else None


# Options that take one count of numbers or another, so that argparse lets them take every word after them.
SEVERAL_COUNTS = {"--diameter": (1, 3), "--shape": (2, 3)}


def diameter_values_last(argv: list[str]) -> list[str]:
    """``argv`` with ``--diameter D`` (or ``Z Y X``), and evaluate's ``--shape H W`` (or ``Z Y X``), moved to the
    end when files follow their numbers.

    Each takes a varying count of numbers, so argparse lets it take every word after it: ``detect --diameter 12
    image.tif`` read the image as a second diameter. Moved behind the files (before a ``--``), its numbers end
    the line and the files are files again."""
    argv = list(argv)
    for option, counts in SEVERAL_COUNTS.items():
        if option not in argv:
            continue
        at = argv.index(option)
        count = 0
        while at + 1 + count < len(argv) and count < max(counts) and _is_number(argv[at + 1 + count]):
            count += 1
        rest = argv[at + 1 + count:]
        if count not in counts or not rest or rest[0].startswith("-"):
            continue
        group, remaining = argv[at : at + 1 + count], argv[:at] + rest
        end = remaining.index("--") if "--" in remaining else len(remaining)
        argv = remaining[:end] + group + remaining[end:]
    return argv


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def add_detect_options(detect: argparse.ArgumentParser, positive) -> None:
    detect.add_argument("--axes", choices=AXES_CHOICES, default=None, type=str.upper,
                        help="what the image's axes are (default: from the file's metadata; a 3D TIFF without "
                             "axes metadata is a stack of 2D frames); ZYX and TZYX find centres in 3D")
    detect.add_argument("--voxel-size", type=positive, nargs=3, default=None, metavar=("Z", "Y", "X"),
                        help="voxel size of a volume (e.g. micrometres; default: from the metadata): gives the "
                             "z diameter (and x's, where y and x voxels differ) from the one --diameter (or the "
                             "estimated one), read along y, and adds z_um,y_um,x_um columns")


def add_synth_options(synth: argparse.ArgumentParser, fraction, positive) -> None:
    synth.add_argument("--volume", action="store_true",
                       help="confocal ZYX volumes of packed spheres (volume_NNN.tif with ImageJ axes + "
                            "volume_NNN.csv frame,z,y,x)")
    synth.add_argument("--volume-fraction", type=fraction, default=0.45, help="with --volume (up to 0.58)")
    synth.add_argument("--volume-shape", type=int, nargs=3, default=(48, 128, 128), metavar=("Z", "Y", "X"),
                       help="with --volume: slices and voxels in y, x")
    synth.add_argument("--z-step", type=positive, default=2.0, help="with --volume: z voxel size in xy pixels")
    synth.add_argument("--psf-z-ratio", type=positive, default=2.5, help="with --volume: PSF length z over xy")
    synth.add_argument("--dye", choices=("volume", "shell"), default="volume",
                       help="with --volume: spheres dyed throughout, or only their shell (rings in each slice)")
    synth.add_argument("--sphere-diameter", type=positive, default=10.0, help="with --volume: xy pixels")


def cmd_synth_volumes(args: argparse.Namespace) -> int:
    import pandas as pd
    import tifffile

    from .checks import MAX_SYNTH_SPHERES_3D, check_synth_count, check_synth_folder
    from ..files.io import staged_folder
    from ..synthetic.volumes import MAX_VOLUME_FRACTION, VolumeConfig, expected_spheres, synthesize_volume

    if args.volume_fraction > MAX_VOLUME_FRACTION:
        raise ParticleDetectError(f"--volume-fraction {args.volume_fraction}: the packing reaches "
                                  f"{MAX_VOLUME_FRACTION:g} at most")
    if min(args.volume_shape) < 2 or min(args.volume_shape[1:]) < 8 or max(args.volume_shape) > 1024:
        shape = " ".join(map(str, args.volume_shape))  # as typed, as the other --volume-shape refusals say it
        raise ParticleDetectError(f"--volume-shape {shape}: need 2-1024 slices and 8-1024 voxels in y, x")
    config = VolumeConfig(shape=tuple(args.volume_shape), volume_fraction=args.volume_fraction,
                          diameter=args.sphere_diameter, z_step=args.z_step, psf_z_ratio=args.psf_z_ratio, dye=args.dye)
    check_synth_folder(args.outdir)
    z, y, x = config.shape
    if min(z * config.z_step, y, x) < config.diameter:  # it was drawn empty, its log giving the packing's 0.45
        raise ParticleDetectError(f"--volume-shape {z} {y} {x}: smaller than one sphere of --sphere-diameter "
                                  f"{config.diameter:g} (z {z} slices x --z-step {config.z_step:g} = "
                                  f"{z * config.z_step:g} px deep); give a larger volume or smaller spheres")
    check_synth_count(expected_spheres(config), f"--volume-shape {z} {y} {x} with --sphere-diameter "
                      f"{config.diameter:g} and --volume-fraction {config.volume_fraction:g}",
                      "use larger spheres or smaller volumes", MAX_SYNTH_SPHERES_3D)
    with staged_folder(args.outdir) as staging:
        total = 0
        for i in range(args.n):
            sample = synthesize_volume(config, seed=args.seed + i)
            # ImageJ hyperstack metadata: axes, z spacing and pixel size (xy pixel = 1 unit).
            tifffile.imwrite(staging / f"volume_{i:03d}.tif", sample.image, imagej=True, resolution=(1.0, 1.0),
                             metadata={"axes": "ZYX", "spacing": config.z_step, "unit": "pixel"})
            c = sample.centres
            truth = pd.DataFrame({"frame": 0, "z": c[:, 0], "y": c[:, 1], "x": c[:, 2]})
            (staging / f"volume_{i:03d}.csv").write_text(truth.to_csv(index=False, float_format="%.3f"))
            total += len(c)
            log.info("volume_%03d: %d spheres, volume fraction %.3f", i, len(c), sample.volume_fraction)
        (staging / "synth.json").write_text(json.dumps({"seed": args.seed, "n": args.n, **config.to_dict()}, indent=2))
    log.info("wrote %s with %d centres to %s", counted(args.n, "volume"), total, args.outdir)
    return 0


def detect_volumes_if_any(args: argparse.Namespace, inputs: list[Path]) -> int | None:
    """Run ``detect`` here when the inputs are volumes (by --axes or metadata) and return its exit
    status; None when they are 2D images or stacks of frames (after saying so for 3D TIFFs whose
    metadata names no axes)."""
    from ..files.io import read_image

    given = getattr(args, "axes", None)
    channel = getattr(args, "channel", None)
    found, unreadable = read_axes(inputs, given)
    if not any(axes is not None and axes.is_volume for axes in found):
        if given is not None and unreadable:  # --axes that a file refuses: said before any work, as ever for 2D
            raise next(iter(unreadable.values()))
        if getattr(args, "diameter_zyx", None) is not None:
            raise ParticleDetectError("--diameter Z Y X (three values) is for volumes; give one diameter for 2D images")
        if args.voxel_size is not None:
            raise ParticleDetectError("--voxel-size is for volumes (--axes ZYX or TZYX)")
        if args.model is not None:
            from ..models.registry import read_card, weights_path

            card = weights_path(args.model).with_suffix(".json")
            if card.exists() and read_card(card).spatial_dims == 3:
                raise ParticleDetectError(f"{args.model}: a model for volumes, and {inputs[0]} is read as 2D; "
                                          "give --axes ZYX (or TZYX) if it is a volume")
        stacks: dict[Path, int] = {}  # the 3D files read as stacks, by their frames
        for path, axes in zip(inputs, found):
            if axes is None or axes.source == "default":  # an unreadable one: the reader says why
                samples = colour_samples(path)
                try:
                    shape = getattr(read_image(path, lazy=True, channel=channel), "shape", ())
                except ParticleDetectError as exc:
                    hint = axes_hint(path)  # a 4D file read as 2D: the reader's refusal does not say what to do
                    if hint and channel is None and _rgb_planes(samples):
                        hint += ", or --channel N, N from 0 to 2, if each frame's planes are colours"
                    if hint and len(inputs) == 1:
                        raise ParticleDetectError(f"{exc}: {hint}") from None
                    if hint:
                        log.warning("%s: %s", path, hint)
                    continue  # the per-file runner reports it, and goes on with the others
                if samples is not None and channel is not None:
                    _say_colour_chosen(path, *samples, channel, stack=len(shape) == 3)
                elif len(shape) == 3:
                    stacks[path] = shape[0]
        _say_read_as_stacks(stacks)
        return None
    return detect_volumes_among(args, inputs, found, unreadable)


def colour_samples(path: Path) -> tuple[ChannelAxis, bool] | None:
    """The RGB(A) samples of a TIFF's pixels (interleaved or planar) that ``--channel`` picks one of, and whether its
    planes are read as frames without it (tifffile writes a stack of 3 or 4 frames as RGB planes:
    io.tiff_channel_axis); None for any other file."""
    if path.suffix.lower() not in (".tif", ".tiff"):
        return None
    import tifffile

    from ..files.io import _quiet_tifffile, tiff_channel_axis

    try:
        with _quiet_tifffile(), tifffile.TiffFile(path) as tif:
            chosen = tiff_channel_axis(path, tif, channel=0)
            if chosen is None or chosen.axes[chosen.index] != "S":
                return None
            return chosen, tiff_channel_axis(path, tif) is None
    except Exception:  # noqa: BLE001 - an unreadable file: the reader names its problem
        return None


def _rgb_planes(samples: tuple[ChannelAxis, bool] | None) -> bool:
    """Whether :func:`colour_samples` found three planes per frame, as likely colours as slices; four, which tifffile
    writes as RGB and alpha, are more often a volume's slices than colours and opacity."""
    return samples is not None and samples[0].shape[samples[0].index] == 3 and not samples[0].alpha


def _say_colour_chosen(path: Path, samples: ChannelAxis, planes_are_frames: bool, channel: int, stack: bool) -> None:
    """That ``--channel`` read one colour of each pixel of ``path`` (:func:`colour_samples`), in each frame of a
    stack, and what the file's planes would be read as otherwise: frames, or volumes' slices (--axes TZYX)."""
    size = "x".join(map(str, samples.shape))
    planar = samples.index < len(samples.shape) - 1
    colours = f"{samples.count} colour{' plane' * planar}s{' and alpha' * samples.alpha} (RGB{'A' * samples.alpha})"
    colour = f"{'plane' if planar else 'colour'} {channel}"
    held = samples.shape[samples.index]
    if stack:
        frames = int(np.prod([n for a, n in zip(samples.axes, samples.shape) if a not in "SYX"]))
        volumes = (f"; give --axes TZYX without --channel if they are {frames} volumes of {held} slices"
                   if planar and len(samples.shape) == 4 else "")
        log.info("%s: shape %s read as %d frames of %s, %s of each detected (--channel %d)%s", path, size, frames,
                 colours, colour, channel, volumes)
    else:
        frames = f"; without --channel its {held} planes are frames" if planes_are_frames else ""
        log.info("%s: shape %s read as one image of %s, %s detected (--channel %d)%s", path, size, colours, colour,
                 channel, frames)


def _say_read_as_stacks(stacks: dict[Path, int]) -> None:
    """That the 3D files ``stacks`` (each one's frames) were read as stacks of 2D frames, in one line however many:
    a folder of them said one line each before its bar."""
    if len(stacks) == 1:
        (path, frames), = stacks.items()
        log.info("%s: read as a stack of %d 2D frames (its metadata names no axes); %s", path, frames, STACK_HINT)
    elif stacks:
        low, high = min(stacks.values()), max(stacks.values())
        frames = f"{low}" if low == high else f"{low} to {high}"
        log.info("%s: read as stacks of %s 2D frames (their metadata names no axes); give --axes ZYX if each is one "
                 "volume", _some_files(list(stacks)), frames)


def read_axes(inputs: list[Path], given: str | None,
              channel: int | None = None) -> tuple[list[Axes | None], dict[Path, Exception]]:
    """Each input's axes (files.axes.file_axes, by ``given``: --axes, and ``channel``: --channel), None for one that
    cannot be read so, whose error is in the dict: of several files a bad one is reported at the end and the others
    go on (README, Many files), whatever the kind of the rest. One file is refused at once where an option the user
    gave is what it refuses; read by neither it goes on to the 2D reader, which says what is wrong with it."""
    found: list[Axes | None] = []
    unreadable: dict[Path, Exception] = {}
    for path in inputs:
        try:
            found.append(file_axes(path, given, channel))
        except (ParticleDetectError, OSError) as exc:
            if len(inputs) == 1 and (given is not None or channel is not None):
                raise
            found.append(None)
            unreadable[path] = exc
    return found, unreadable


def detect_volumes_among(args: argparse.Namespace, inputs: list[Path], found: list[Axes | None],
                         unreadable: dict[Path, Exception]) -> int | None:
    """``detect`` here when the inputs read (``found``: read_axes's) are volumes, the ``unreadable`` ones failed
    among them, and its exit status; None when none read is a volume (2D images or stacks, or none read). Files of
    both kinds are refused before any work: a run is of volumes or of 2D images, their options, outputs and run
    record being of one kind."""
    volumes = [(path, axes) for path, axes in zip(inputs, found) if axes is not None and axes.is_volume]
    if not volumes:
        return None
    flat = [(path, axes) for path, axes in zip(inputs, found) if axes is not None and not axes.is_volume]
    if flat:
        # A 3D TIFF whose metadata names no axes reads as a stack: the likeliest odd one out of a folder of volumes.
        unnamed = any(axes.source == "default" for _, axes in flat)
        raise ParticleDetectError(
            f"{_some_files([p for p, _ in volumes])} read as volumes and {_some_files([p for p, _ in flat])} as 2D "
            "images or stacks: a run detects one kind; run detect once on the volumes and once on the 2D files (name "
            "them, or put each kind in a folder of its own)"
            + ("; or give --axes ZYX if the 2D ones are volumes whose metadata names no axes" if unnamed else ""))
    return _detect_volumes(args, inputs, found, unreadable)


def _some_files(paths: list[Path], shown: int = 3) -> str:
    """'2 files (a.tif, b.tif)', '5 files (a.tif, b.tif, c.tif and 2 more)': a count and the first few names."""
    names = ", ".join(map(str, paths[:shown])) + (f" and {len(paths) - shown} more" if len(paths) > shown else "")
    return f"{len(paths)} file{'s' * (len(paths) > 1)} ({names})"


def _detect_volumes(args, inputs, found, unreadable) -> int:
    """``detect`` on volumes: its options and outputs checked before any work (a folder run's finished outputs to be
    skipped), each file detected in its turn (:class:`_VolumeRun`), and the run's table or record written."""
    from ..files.distributed import FilesSummary, write_run_record
    from ..detection.volume_detection import DEFAULT_VOLUME_MODEL, load_volume_model
    from ..models.registry import default_model_path
    from . import command_line

    options = _volume_options(args, inputs)
    output = Path(args.output)
    folder, outputs = _volume_outputs(args.output, inputs)
    run_options = VolumeRunOptions(options, args.axes, args.channel)
    # The model the fingerprint names: the one loaded, the shipped unet3d by default (not 2D's unet).
    model = args.model if args.model is not None else default_model_path(DEFAULT_VOLUME_MODEL)
    finished = _check_volume_outputs(args, inputs, output, outputs, run_options, model, folder)
    load_volume_model(args.model)  # one that cannot load is one error before any work, not every file's failure
    # Begun when the command began (cli/main.cmd_detect), before the model loaded: a run into the folder that ended
    # since ran beside this one, and its record is kept in this one's (files.distributed.runs_beside).
    summary = FilesSummary(started=getattr(args, "started", None) or datetime.now().astimezone())
    # As a 2D folder run's record (files.distributed): what was done, skipped, failed and left, so a rerun can tell.
    record_run = functools.partial(write_run_record, output, summary, outputs, run_options, model,
                                   command_line()) if folder else None
    run = _VolumeRun(args, inputs, found, unreadable, [outputs.get(path) for path in inputs], options, run_options,
                     model, finished, summary, record_run)
    return run.finish(run.take_turns())


def _volume_options(args: argparse.Namespace, inputs: list[Path]) -> VolumeOptions:
    """The volume detector's options from detect's, those it has no use for refused."""
    from ..detection.volume_detection import VolumeOptions

    if args.overlay is not None:
        raise ParticleDetectError(f"{args.overlay}: --overlay is for 2D images, not volumes")
    if args.workers is not None or args.scheduler is not None:
        raise ParticleDetectError("--workers/--scheduler run 2D images; run volumes without them")
    if args.kind != "spheres":
        raise ParticleDetectError(f"--kind {args.kind}: volumes are searched for spheres only; {inputs[0]} is a volume")
    given = getattr(args, "given", set())
    for dest, used in (("measure", args.measure), ("split_close", args.split_close), ("compile", args.compile),
                       ("polarity", args.polarity != "auto"), ("tile", "tile" in given),
                       ("batch_size", args.batch_size is not None)):
        if used:  # the volume detector has none of these (detection/volume_detection.VolumeOptions)
            raise ParticleDetectError(f"--{dest.replace('_', '-')} is for 2D images; volumes take --threshold, "
                                      "--diameter, --voxel-size, --model, --device, --runtime")
    diameter = getattr(args, "diameter_zyx", None) or ((args.diameter,) if args.diameter is not None else None)
    if getattr(args, "precision", "auto") not in ("auto", "float32"):
        raise ParticleDetectError(f"--precision {args.precision} is for 2D images; volumes run in float32")
    return VolumeOptions(threshold=args.threshold, diameter=diameter,
                         voxel_size=tuple(args.voxel_size) if args.voxel_size else None, device=args.device,
                         runtime=getattr(args, "runtime", "auto"), frames=args.frames)


def _volume_outputs(given: str | Path, inputs: list[Path]) -> tuple[bool, dict[Path, Path]]:
    """Whether ``given`` (-o, its trailing / kept) is a folder, and each input's output in it (none of a table of
    every file's)."""
    from ..files.file_detection import output_paths

    output = Path(given)
    folder = str(given).endswith("/") or output.is_dir()
    if not folder and output.suffix.lower() != ".csv":
        raise ParticleDetectError(f"{output}: the output must end in .csv (or / for a folder)")
    for path in inputs:
        if output.resolve() == Path(path).resolve():
            raise ParticleDetectError(f"{output}: is an input")
    # As a 2D folder run's (files.distributed): a missing file has no output, and fails as the reader says it.
    present = [path for path in inputs if path.exists()] if folder else []
    return folder, dict(zip(present, output_paths(present, output)))


def _check_volume_outputs(args: argparse.Namespace, inputs: list[Path], output: Path, outputs: dict[Path, Path],
                          run_options: VolumeRunOptions, model: str | Path, folder: bool) -> dict[Path, bool]:
    """The outputs checked before any work; of a folder run, whether each input's output is finished (skipped)."""
    from .checks import check_detect_outputs, check_output_folder
    from ..files.distributed import check_replaceable, check_run_record_place
    from ..files.file_detection import check_unedited, tell_earlier_versions, tell_moved

    if not folder:
        if not args.replace_edited:  # first: check_detect_outputs removes a stale per-chain table, edited or not
            check_unedited([output])
        check_detect_outputs(output, None, inputs, args.model)
        return {}
    present = list(outputs)
    check_output_folder(output)
    # As a 2D folder run (files.distributed): refused before any work, another volume's results where this one's
    # would go (day1/ then day2/ into one folder) or a table edited since; and the outputs finished from this
    # input, options and model (file_detection.is_finished) skipped, so a run again goes on where one stopped.
    finished = dict(zip(present, check_replaceable(present, list(outputs.values()), run_options, model,
                                                   args.overwrite, remedy="give --overwrite",
                                                   replace_edited=args.replace_edited)))
    check_run_record_place(output, list(outputs.values()))
    tell_moved(present, list(outputs.values()))  # once past every refusal, as a 2D folder run says it
    tell_earlier_versions(output, [target for path, target in outputs.items() if not finished[path]], run_options,
                          model)
    return finished


@dataclass
class _VolumeRun:
    """A volume run's files, each detected, skipped or failed in its turn into ``summary``: a folder run's into their
    ``targets`` with its record (``record_run``), else into one table of every file's (``tables``, ``records``)."""

    args: argparse.Namespace
    inputs: list[Path]
    found: list
    unreadable: dict
    targets: list
    options: VolumeOptions
    run_options: VolumeRunOptions
    model: str | Path
    finished: dict
    summary: FilesSummary
    record_run: Callable[..., object] | None  # write_run_record of a folder run; None: no record
    tables: list = field(default_factory=list)
    records: list = field(default_factory=list)

    @property
    def output(self) -> Path:
        return Path(self.args.output)

    def turn(self, index: int, wait: bool) -> Exception | None:
        """The file at ``index`` detected, skipped or failed into ``summary``; the failure that stops the run there,
        if it is one. Not ``wait``: filelock.Timeout where another run holds its output."""
        from ..files.file_detection import FileResult

        path, axes, target = self.inputs[index], self.found[index], self.targets[index]
        if self.finished.get(path):
            log.info("%s: done before, in %s (input, options and model unchanged): skipped", path, target)
            self.summary.skipped.append(path)
            return None
        try:
            if path in self.unreadable:  # its axes could not be read: failed in its turn, as any other failure
                raise self.unreadable[path]
            detected = _detect_volume_into(path, axes, target, self.options, self.args.model, self.run_options,
                                           self.model, wait)
        except Timeout:  # an OSError (TimeoutError) too, yet no failure: another run holds the output
            raise
        except Exception as exc:  # noqa: BLE001 - of several files a bad one is reported at the end (README)
            return self._failed(path, target, exc)
        if detected is None:
            log.info("%s: finished meanwhile by another run into %s: skipped", path, target)
            self.summary.skip_finished_elsewhere(path)
            return None
        table, record = detected
        if target is not None:
            self.summary.done.append(FileResult(path, target, record))
        else:
            if len(self.inputs) > 1:
                table["file"] = str(path)
            self.tables.append(table)
        self.records.append(record)
        return None

    def _failed(self, path: Path, target: Path | None, exc: Exception) -> Exception | None:
        """``path``'s failure into ``summary``; ``exc`` where it stops the run, raised where it is the run's one file."""
        from ..files.distributed import failure_line, record_failure, stops_the_run

        # Every later file would fail alike (a full disk, a folder that takes no file now): the run stops.
        if self.record_run is not None and stops_the_run(exc, self.output):
            return exc
        if self.record_run is None and len(self.inputs) == 1:
            raise exc
        if target is not None:  # its earlier output marked, as a 2D folder run's: no longer finished
            record_failure(self.summary, path, target, failure_line(path, exc), None)
        else:
            self.summary.failed[path] = failure_line(path, exc)
        return None

    def take_turns(self) -> Exception | None:
        """Every file's turn (:func:`_take_turns`); the failure that stopped the run, None where none did. Interrupted
        (Ctrl-C), a folder run's record says which files were not done by then."""
        from ..files.distributed import finished_files_line

        busy: list[int] = []  # files whose output another run holds: done after the others, as a 2D folder run does
        try:
            return _take_turns(self.turn, len(self.inputs), busy)
        except BaseException as interrupt:
            if self.record_run is None:
                raise
            self.summary.left.extend(_not_reached(self.inputs, self.summary))
            self.summary.in_order(self._order())
            # A repeat of the stop (timeout's SIGINT to the process, then its group) is the same stop: acted on
            # here, it cut the record short. Held, then dropped, as a 2D folder run's is.
            with held_stop_signals():
                self.record_run(interrupted=True)
            said = finished_files_line(self.summary, self.output) if isinstance(interrupt, KeyboardInterrupt) else ""
            if said:  # how far it got and how to go on, as a 2D folder run says it
                raise KeyboardInterrupt(said) from None
            raise

    def _order(self) -> dict[Path, int]:
        return {path: index for index, path in enumerate(self.inputs)}

    def finish(self, stop: Exception | None) -> int:
        """The run's exit status, its record or its table (with the .json listing the files that failed) written."""
        import pandas as pd

        from . import report_failed
        from ..files.distributed import full_disk_line
        from ..files.file_detection import metadata_path

        if stop is not None:  # said once the files left are known: the line counts them
            self.summary.left.extend(_not_reached(self.inputs, self.summary))
            self.summary.stopped = full_disk_line(stop, self.output, self.summary)
        self.summary.in_order(self._order())  # busy ones were done (or skipped) last
        if self.record_run is not None:
            self.record_run()
            log.info("%s into %s: %s", counted(len(self.inputs), "file"), self.output, self.summary.describe())
            status = report_failed(self.summary.failed)
            if self.summary.stopped:  # last, after the files' own failures, as a 2D folder run says it
                print(f"particle-detect: error: {self.summary.stopped}", file=sys.stderr)
                return 2
            return status
        if self.tables:  # the table holds the files detected; its .json lists those that failed and why
            _write_volume_table(self.output, pd.concat(self.tables, ignore_index=True), self.records,
                                failed=self.summary.failed)
            log.info("wrote %s (and %s)", self.output, metadata_path(self.output).name)
        return report_failed(self.summary.failed)


def _take_turns(turn, count: int, busy: list[int]) -> Exception | None:
    """``turn`` (:meth:`_VolumeRun.turn`) for each of ``count`` files, not waiting for one another run holds: those
    go into ``busy`` and are done last, waited for then (as files.distributed._run_here does 2D files). The failure
    that stopped the run, None where none did."""
    for index in range(count):
        try:
            stop = turn(index, wait=False)
        except Timeout:
            busy.append(index)
            continue
        if stop is not None:
            return stop
    for index in busy:
        if (stop := turn(index, wait=True)) is not None:
            return stop
    return None


def _not_reached(inputs: list[Path], summary) -> list[Path]:
    """The ``inputs`` a folder run's ``summary`` (files.distributed.FilesSummary) has not said done, skipped or
    failed: left, where the run stopped."""
    reached = {result.path for result in summary.done} | set(summary.skipped) | set(summary.failed)
    return [path for path in inputs if path not in reached]


def _detect_volume_into(path: Path, axes: Axes, target: Path | None, options, model_name: str | None, run_options,
                        model: str | Path, wait: bool):
    """``path``'s table (its columns in order) and record, written at ``target`` (a folder run's output; None: the
    caller writes one table) under that output's lock (file_detection.holding_output), as a 2D folder run's
    (files.distributed.detect_unless_done): another run into the folder at once neither detects it again nor
    interleaves. None where another run finished it meanwhile. Not ``wait``: filelock.Timeout where another run
    holds the output; ``wait``: waited for, said so."""
    from ..files.file_detection import holding_output

    if target is None:
        return _detect_volume_held(path, axes, None, options, model_name, run_options, model)
    try:
        with holding_output(target, blocking=False):
            return _detect_volume_held(path, axes, target, options, model_name, run_options, model)
    except Timeout:
        if not wait:
            raise
    log.info("%s: another run is detecting it into %s; waiting for that run", path, target)
    with holding_output(target):
        return _detect_volume_held(path, axes, target, options, model_name, run_options, model)


def _detect_volume_held(path: Path, axes: Axes, target: Path | None, options, model_name: str | None, run_options,
                        model: str | Path):
    """:func:`_detect_volume_into`'s work, its output's lock held."""
    from ..detection.volume_detection import VOLUME_COLUMNS
    from ..files.file_detection import is_finished, job_fingerprint

    if target is not None and is_finished(path, target, run_options, model):
        return None
    # Taken before the input is read, as 2D's: a file changed while it is detected is not finished.
    fingerprint = job_fingerprint(path, run_options, model) if target is not None else None
    table, record = _detect_one_volume_file(path, axes, options, model_name)
    table = table[VOLUME_COLUMNS + [c for c in table.columns if c not in VOLUME_COLUMNS]]
    if target is not None:
        _write_volume_table(target, table, [record], fingerprint)
    return table, record


def _detect_one_volume_file(path: Path, axes: Axes, options, model: str | None):
    """One file's table and record (detection.volume_detection.detect_volume_file), and what it logs."""
    from ..detection.sizing import with_advice
    from ..detection.volume_detection import detect_volume_file

    table, record = detect_volume_file(path, axes, options, model)
    if record["voxel_size_zyx"] and record["voxel_unit"] != MICROMETRE:
        log.info("%s: voxel size %s in %s, not a length: it sizes z from xy, but no z_um,y_um,x_um columns are "
                 "written; give --voxel-size Z Y X (micrometres) for them", path,
                 " x ".join(f"{v:g}" for v in record["voxel_size_zyx"]), record["voxel_unit"] or "no unit")
    elif record["voxel_size_zyx"] is None and axes.voxel_size is None:  # one it had but unusable is said already
        log.info("%s: z step unknown (no z spacing in its metadata): no z_um,y_um,x_um columns; give "
                 "--voxel-size Z Y X (micrometres) for them", path)
    z, y, x = record["diameter_voxels_zyx"]
    low = record["diameter_confidence"] == "low"
    # Without a voxel size z was estimated too, and one --diameter (xy) leaves it so.
    advice = "give --diameter" if record["voxel_size_zyx"] else "give --diameter Z Y X or --voxel-size Z Y X"
    volumes = (f"{len(record['frames_detected'])} of {counted(record['volumes'], 'volume')}" if "frames_detected" in record
               else counted(record["volumes"], "volume"))
    (log.warning if low else log.info)(
        "%s: %d centres in %s (axes %s from %s); diameter z %.1f, y %.1f, x %.1f voxels (%s)%s",
        path, len(table), volumes, axes.axes, axes.source, z, y, x, record["diameter_source"],
        f"; low confidence: {with_advice(record['diameter_reason'], advice)}" if low else "")
    return table, record


@dataclass(frozen=True)
class VolumeRunOptions:
    """A volume run's options as a 2D run's DetectOptions give them to the resume rule (file_detection.job_fingerprint,
    is_finished) and to a folder run's record: ``volume``, with the ``axes`` (--axes) and ``channel`` (--channel) the
    files were read by. Its time points (--frames) are among them, as a 2D run's frames are: an output of other time
    points is another run's, redone, not skipped."""

    volume: VolumeOptions
    axes: str | None = None
    channel: int | None = None
    kind: ClassVar[str] = "spheres"  # volumes are searched for spheres only

    def affecting_results(self) -> dict:
        """The options that change the centres found (device and threads do not)."""
        return {"threshold": self.volume.threshold, "diameter": self.volume.diameter,
                "voxel_size": self.volume.voxel_size, "runtime": self.volume.runtime,
                **({"axes": self.axes} if self.axes is not None else {}),
                **({"channel": self.channel} if self.channel is not None else {}),
                **({"frames": self.volume.frames} if self.volume.frames is not None else {})}


def _write_volume_table(output: Path, table, records: list[dict], fingerprint: dict | None = None,
                        failed: dict[Path, str] | None = None) -> None:
    """The table at ``output`` and its metadata. The metadata first without the table's digest: a run killed
    between the two leaves the new table replaceable by the next run, not refused as edited by hand.
    ``fingerprint`` (a folder run's: file_detection.job_fingerprint) goes in last, marking the output finished.
    ``failed``: the inputs of a table of several that failed, and why (listed as a 2D table's .json lists them)."""
    from ..files.file_detection import metadata_path, table_digests
    from ..files.io import atomic_write_text

    meta = {"inputs": records,
            **({"failed": [{"file": str(path), "reason": line} for path, line in failed.items()]} if failed else {})}
    atomic_write_text(metadata_path(output), json.dumps({**meta, "unfinished": True}, indent=2))
    atomic_write_text(output, table.to_csv(index=False, float_format="%.3f"))
    finished = {**meta, "tables": table_digests(output, "spheres"),
                **({"fingerprint": fingerprint} if fingerprint is not None else {})}
    atomic_write_text(metadata_path(output), json.dumps(finished, indent=2))


def add_evaluate_options(evaluate: argparse.ArgumentParser, positive) -> None:
    evaluate.add_argument("--voxel-size", type=positive, nargs=3, default=None, metavar=("Z", "Y", "X"),
                          help="for frame,z,y,x tables: voxel size, so matching is in physical space (default 1 1 1; "
                               "the tolerance is in units of the y voxel)")


def _voxel_sizes_by_file(args: argparse.Namespace, predicted, truth, labels: list[tuple[str, int]] | None,
                         recorded: RecordsBesideTables) -> dict[str | None, tuple[float, float, float]]:
    """Each file's voxel size (key None: the paired tables name no file), files of one table may differ:
    ``--voxel-size``, else the one its rows' z_um,y_um,x_um columns give (as link reads them), else the one
    detect's .json beside the predictions records, else synth.json's z_step beside the truth, else cubic
    voxels; where each was read is said per file."""
    from ..files.tables import FROM_COLUMNS, VoxelSize, recorded_of_files, three_positive
    from ..kinds.evaluation3d import voxel_sizes_by_file

    detected = {name: size for name, size in recorded_of_files(recorded.detect_metadata, "voxel_size_zyx",
                                                               three_positive).items() if size is not None}
    z_step = _synth_z_step(recorded.synth)
    sizes = {}
    # The library's reading first (--voxel-size, else the columns), so that both score alike; then the records.
    read = voxel_sizes_by_file(predicted, truth, labels, args.voxel_size, (str(args.predicted), str(args.truth)),
                               "--voxel-size")
    for name, found in read.items():
        where = str(args.predicted) if name is None else f"{args.predicted} ({name})"
        if found.size is not None:
            if found.source == FROM_COLUMNS:  # read, not given: say which table it came from
                log.info("%s: voxel size %s from %s (the tolerance is in y voxels)", found.table, found.describe(),
                         found.source)
            sizes[name] = found.size
        elif (size := recorded.for_file(detected, name)) is not None:
            log.info("%s: voxel size %s from detect's .json beside it (the tolerance is in y voxels)", where,
                     VoxelSize(size).describe())
            sizes[name] = size
        elif z_step is not None:
            log.info("%s: voxel size %g x 1 x 1 from the z_step of synth.json beside %s (the tolerance is in y "
                     "voxels)", where, z_step, args.truth)
            sizes[name] = (z_step, 1.0, 1.0)
        else:
            log.warning("%s: no voxel size (no --voxel-size, no z_um,y_um,x_um columns, none in detect's .json or a "
                        "synth.json): matched as if the voxels were cubes", where)
            sizes[name] = (1.0, 1.0, 1.0)
    return sizes


def _synth_z_step(synth: dict) -> float | None:
    """The z step (in xy pixels) synth recorded beside its volumes' truth (``synth``: its synth.json); None
    without."""
    z_step = synth.get("z_step")  # none in a 2D synth's
    from ..files.tables import three_positive

    return float(z_step) if three_positive((z_step, 1.0, 1.0)) is not None else None


def _units_note(scales: list[np.ndarray]) -> str:
    """The line that says the unit of the tolerance and the RMS columns: y voxels, each file's own."""
    distinct = {tuple(np.round(s, 6)) for s in scales}
    if len(distinct) != 1:
        return "tolerance and rms_z, rms_y, rms_x in y voxels, each file's own"
    z, _, x = distinct.pop()
    if (z, x) == (1.0, 1.0):
        return "tolerance and rms_z, rms_y, rms_x in voxels"
    return (f"tolerance and rms_z, rms_y, rms_x in y voxels (a z voxel is {z:g} of them"
            + (f", an x voxel {x:g}" if x != 1.0 else "") + ")")


def evaluate_if_volumes(args: argparse.Namespace, predicted, truth, labels=None) -> int | None:
    """``evaluate`` on two tables with a z column: 3D matching, P/R/F1 and RMS per axis; else None.
    ``labels``: the (file, frame) of each frame number, where the tables held several files."""
    from ..kinds.file_pairing import label_frames

    has_z = ["z" in predicted.columns, "z" in truth.columns]
    if not any(has_z):
        if args.voxel_size is not None:
            raise ParticleDetectError(f"{args.predicted}: --voxel-size is for frame,z,y,x tables; these have no "
                                      "z column")
        return None
    if not all(has_z):
        which = args.truth if has_z[0] else args.predicted
        raise ParticleDetectError(f"{which}: has no z column, the other table has; compare 3D with 3D")
    from ..kinds.evaluation3d import evaluate_volumes

    from ..files.centre_csv import finite_column

    for name, table in ((args.predicted, predicted), (args.truth, truth)):
        finite_column(table, "z", str(name))
    if args.plot is not None:
        raise ParticleDetectError(f"{args.plot}: --plot is for 2D tables")
    from .border import border_note, volume_sizes
    from .kinds import print_scores

    recorded = RecordsBesideTables(args)  # synth.json and detect's .json, read once for the sizes and the voxel sizes
    shape, shape_source = volume_sizes(args, labels, recorded)  # a wrong --shape refused before anything is said
    sizes = _voxel_sizes_by_file(args, predicted, truth, labels, recorded)
    # Each volume in its own file's proportions: files of one table may come from different microscopes.
    proportions = {name: np.asarray(size, dtype=float) / size[1] for name, size in sizes.items()}
    scale = ({frame: proportions[name] for frame, (name, _) in enumerate(labels)} if labels is not None
             else proportions[None])
    table = evaluate_volumes(predicted.assign(z=predicted["z"].astype(float)), truth.assign(z=truth["z"].astype(float)),
                             args.tolerance, scale, args.border, shape)
    table = label_frames(table, labels)
    pooled = table.iloc[-1].to_dict() if len(table) else {}
    print_scores(args, pooled, f"{_units_note(list(proportions.values()))}\n"
                 + table.to_string(index=False, float_format=lambda v: f"{v:.4f}"),
                 border_note(args, pooled, shape_source, "y voxels") if args.border else "")
    return 0


# ---- train --from MODEL --axes ZYX DATA: one 3D fine-tuning round ----------------------------------
def add_train_options(train: argparse.ArgumentParser, positive) -> None:
    train.add_argument("--axes", choices=("ZYX", "TZYX"), default=None, type=str.upper,
                       help="with --from a 3D model: DATA are volumes (volume.tif + volume.csv frame,z,y,x); "
                            "default: from the files' metadata")
    train.add_argument("--voxel-size", type=positive, nargs=3, default=None, metavar=("Z", "Y", "X"),
                       help="with volumes: voxel size (default: from the metadata); gives the z diameter (and x's, "
                            "where y and x voxels differ) from the one --diameter, read along y")


def train_volumes_if_any(args: argparse.Namespace) -> int | None:
    """``train`` here when it is a 3D round (``--axes ZYX``/``TZYX``, or ``--from`` a 3D model) and
    return its exit status; None for 2D training."""
    from ..models.registry import read_card, weights_path

    init_3d = False
    if args.init is not None:
        card = weights_path(args.init).with_suffix(".json")
        init_3d = card.exists() and read_card(card).spatial_dims == 3
    if args.axes is None and not init_3d:
        if args.voxel_size is not None:
            raise ParticleDetectError("--voxel-size is for volumes (--axes ZYX or TZYX with --from a 3D model)")
        return None
    if args.init is None:
        raise ParticleDetectError(f"--axes {args.axes}: a 3D round fine-tunes a 3D model; give --from MODEL "
                                  "(e.g. the shipped napari_particle_detect/weights/unet3d.pt or a project's round)")
    if not init_3d:
        raise ParticleDetectError(f"{args.init}: a 2D model; --axes {args.axes} fine-tunes a 3D model (unet3d)")
    if not args.data:
        raise ParticleDetectError("a 3D round needs corrected volumes: give DATA (volume.tif + volume.csv with "
                                  "frame,z,y,x)")
    for flag, given in (("--kind", args.kind != "spheres"), ("--unlabelled", bool(args.unlabelled)),
                        ("--unlabelled-frames", args.unlabelled_frames is not None), ("--validate", bool(args.validate)),
                        ("--resume", args.resume), ("--synthetic-fraction", args.synthetic_fraction is not None),
                        ("--epochs", args.epochs is not None), ("--minutes", args.minutes is not None)):
        if given:
            raise ParticleDetectError(f"{flag} is for 2D training; a 3D round takes --steps-per-epoch, --batch-size, "
                                      "--crop, --lr, --threads, --seed, --diameter, --voxel-size")
    return _volume_round(args)


def load_volume_examples(paths: list[Path], axes: str | None, working_diameter: float,
                         diameter: float | None, voxel_size: tuple[float, float, float] | None) -> list:
    """Every volume of ``volume.tif`` + ``volume.csv`` pairs (whole volumes, corrected), on the model's
    working grid; the CSV's ``frame`` says which volume of a TZYX file (none: volume 0). A ``source`` column
    (the dock's Export) keeps only the volumes a person reviewed (learning.training.reviewed_indices)."""
    from ..files.axes import read_volumes
    from ..files.centre_csv import finite_column, read_centres
    from ..learning.training import (annotated_files, check_centres_inside, frame_beyond, reviewed_indices,
                                     say_unlabelled_images)
    from ..detection.volume_detection import Prepared, refuse_subvoxel, volume_sizing
    from ..learning.volume_finetune import volume_example
    from ..detection.volume_resampling import normalise_volume, resample_volume, to_working, working_factors

    table_kind = "centre table (frame,z,y,x)"
    say_unlabelled_images(paths, table_kind)  # 2D and rods/chains training say so too: a volume left out unseen
    examples = []
    for image_path, csv in annotated_files(paths, table_kind):
        found = file_axes(image_path, axes)
        if not found.is_volume:
            raise ParticleDetectError(f"{image_path}: read as {found.axes or '2D'} ({found.source}); give --axes ZYX "
                                      "(or TZYX) if it is a volume")
        data = read_volumes(image_path, found)
        table = read_centres(csv)
        if "z" not in table.columns:
            raise ParticleDetectError(f"{csv}: needs a z column (frame,z,y,x) for a volume")
        table = table.assign(z=finite_column(table, "z", str(csv)), frame=table["frame"] if "frame" in table else 0)
        frames = sorted(set(int(f) for f in table["frame"])) or [0]
        if frames[-1] >= data.shape[0]:
            # A table numbered from 1 (as ImageJ numbers its frames) is asked about, as 2D training asks.
            raise frame_beyond(csv, frames[-1], data.shape[0], str(image_path), frames, volumes=True)
        # A dock export's volumes nobody reviewed hold the model's detections: taught as truth, its misses
        # would be taught as background (2D and rods/chains training read source the same way).
        frames = reviewed_indices(csv, table.assign(frame=table["frame"].astype(int)), frames, data.shape[0] > 1)
        voxel = voxel_size or found.voxel_size
        sizing, prepared = None, Prepared()
        for t in frames:
            # Refilled before sizing, as detect does: a blank slice read as an edge every sphere stops at sized them
            # 0.6 voxels deep (4.1 once refilled), and the working grid then stretched z 14 times.
            volume = prepared.training_volume(f"{image_path} volume {t}" if data.shape[0] > 1 else str(image_path),
                                              np.asarray(data[t]))
            if sizing is None:
                sizing = volume_sizing(volume, (diameter,) if diameter else None, voxel)
                # Before resampling, as detect does: a voxel size in mixed units (z in nm, y and x in µm) makes
                # particles a fraction of a slice deep, and z enlarged a thousand times or more costs minutes.
                refuse_subvoxel(sizing, voxel, str(image_path))
            factors = working_factors(sizing.diameter, working_diameter)
            # As detect prepares it: a hot line resampled first would squash the volume's contrast, unlike detect's.
            working, applied = resample_volume(prepared.despike(volume, None), factors)
            centres = table.loc[table["frame"] == t, ["z", "y", "x"]].to_numpy(float)
            check_centres_inside(csv, centres, volume.shape, f" volume {t}" if data.shape[0] > 1 else "")
            examples.append(volume_example(normalise_volume(working), to_working(centres, applied),
                                           f"{image_path.name} volume {t}"))
        prepared.say(str(image_path))  # what detect says of the same file, so a user sees it was read alike
        log.info("%s: %s, diameter z %.1f, y %.1f, x %.1f voxels (%s)", image_path, counted(len(frames), "volume"),
                 *sizing.diameter, sizing.source)
    return examples


def _volume_round(args: argparse.Namespace) -> int:
    from .checks import round_unsaved_at_ctrl_c
    from .rounds import save_round
    from ..models import load_model
    from ..learning.volume_finetune import VOLUME_FINE_TUNE, fine_tune_volumes, with_config

    base = load_model(args.init, "cpu")
    config = with_config(VOLUME_FINE_TUNE, steps=args.steps_per_epoch, batch_size=args.batch_size, crop=args.crop,
                         learning_rate=args.lr, threads=args.threads, seed=args.seed)
    if config.crop % base.network.stride:  # said before the volumes are read: large ones take a while
        raise ParticleDetectError(f"--crop {config.crop}: must be a multiple of {base.network.stride} for this model")
    # Nothing is written before save_round: a Ctrl-C says so and how to start again, as the 2D round's does.
    with round_unsaved_at_ctrl_c(args.output):
        examples = load_volume_examples(args.data, args.axes, base.card.canonical_diameter, args.diameter,
                                        tuple(args.voxel_size) if args.voxel_size else None)
        # As the 2D round's (main._fine_tune_round): opened at the round's first event, closed before a failure's
        # or a Ctrl-C's line, the round's own log lines printed above it.
        with RoundBar(args.quiet, config.steps) as bar:
            result = fine_tune_volumes(base, examples, config, "cuda" if args.device == "cuda" else "cpu",
                                       progress=bar.event)
    save_round(result, args.init, args.output, tiles="held-out 3D tiles")
    return 0
