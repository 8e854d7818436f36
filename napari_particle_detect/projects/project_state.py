"""The typed contents of a project's ``state.json``: what was reviewed, the model rounds, the settings.

Everything is checked on load: a wrong type, a negative or absurd number, a frame or round that does
not exist, text that is not UTF-8 or JSON is one ParticleDetectError naming the file. Numbers here are
never used as paths without these checks, so a crafted state cannot reach outside its project.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock, Timeout

from ..errors import ParticleDetectError
from ..files.io import atomic_write_bytes, atomic_write_text
from ..project_layout import ROUND_FOLDER
from ..wording import counted

STATE_VERSION = 2
POLARITIES = ("auto", "bright", "dark")
# What a project's frames hold: sphere centres (the original), rods or bead chains (kinds/registry.py).
PROJECT_KINDS = ("spheres", "rods", "chains")
# Bounds that no real project reaches; anything beyond them in state.json is corruption, not data.
MAX_FRAMES = 10_000_000
MAX_ROUND = 99_999
MAX_DIAMETER = 10_000.0
# Beside state.json: the state before its last change, and a damaged state.json set aside (Project._write_state).
BACKUP_SUFFIX = ".bak"
DAMAGED_SUFFIX = ".damaged"
# About this many pixels of the first frame make an image's fingerprint: enough to tell two frames of a
# noisy movie apart, few enough to read from a lazy stack in no time.
FINGERPRINT_SAMPLES = 4096
_FINGERPRINT = re.compile(r"[0-9a-f]{8,64}")
# A project's files that reading its state touches: the lock every change takes, its frames' centres.
LOCK_FILE = ".lock"
FRAMES_FOLDER = "frames"
FRAME_FILE = re.compile(r"frame-(\d+)\.csv")  # frames/frame-0003.csv: frame 3's (fullmatch it)


class DamagedState(ParticleDetectError):
    """A state.json that is there but cannot be decoded: cut short, garbled, not UTF-8."""


class NewerState(ParticleDetectError):
    """A state.json written by a newer version: never replaced by its backup or rewritten here."""


@dataclass(frozen=True)
class Region:
    """An accepted rectangle of one frame, in image pixels: rows ``y0 <= y < y1``, columns ``x0 <= x < x1``.

    Pixel (0, 0)'s centre is at (0.0, 0.0), so a frame of H x W pixels spans -0.5 .. H - 0.5 (as in napari).
    In a volume (a frame is a ZYX volume) a region is a 3D box: slices ``z0 <= z < z1`` too; in 2D both are None.
    """

    frame: int
    y0: float
    x0: float
    y1: float
    x1: float
    z0: float | None = None
    z1: float | None = None

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.y0, self.x0, self.y1, self.x1)

    @property
    def z_range(self) -> tuple[float, float] | None:
        return None if self.z0 is None else (self.z0, self.z1)

    def contains(self, y: np.ndarray, x: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
        y, x = np.asarray(y, dtype=float), np.asarray(x, dtype=float)
        inside = (y >= self.y0) & (y < self.y1) & (x >= self.x0) & (x < self.x1)
        if self.z0 is not None and z is not None:
            z = np.asarray(z, dtype=float)
            inside &= (z >= self.z0) & (z < self.z1)
        return inside


@dataclass
class RoundInfo:
    """One model in the project's history; ``f1``/``parent_f1`` are scored on ``held_out`` frames/regions."""

    number: int
    origin: str
    parent: int | None = None
    created: str = ""
    trained_frames: list[int] = field(default_factory=list)
    trained_regions: int = 0
    held_out: int = 0
    f1: float | None = None
    parent_f1: float | None = None
    threshold: float | None = None
    improved: bool | None = None
    seconds: float | None = None
    # A remote round's: the seconds its user waited for it (connecting, the examples sent, the model fetched back),
    # where ``seconds`` are its dask worker's. None for a round trained here, and for rounds recorded before this was.
    waited: float | None = None
    # The unreviewed frames the round also learned from (pseudo-labelled) and how many it asked for (0: none).
    unreviewed_frames: list[int] = field(default_factory=list)
    unreviewed_asked: int = 0
    # Why it learned from fewer than it asked: frames its teacher was unsure all over (nothing learned there), and
    # the frames it left out as edited but not accepted whole (their deleted points would be learned back).
    unreviewed_unsure: int = 0
    edited_left_out: list[int] = field(default_factory=list)
    # Frames the user had edited whose edits the round did not learn, whether or not it asked for unreviewed
    # frames: none of it accepted, or only regions of it (whatever lay outside them). Empty for rounds recorded
    # before these were.
    edited_not_accepted: list[int] = field(default_factory=list)
    edited_in_regions: list[int] = field(default_factory=list)
    # Those of ``edited_in_regions`` whose edits were not known to reach outside the regions (an earlier session's,
    # or marked through the API): they may all lie inside, learned, so the round says "any edits" of them.
    edited_where_unknown: list[int] = field(default_factory=list)
    # What another version recorded of the round that this one does not know: written back as it was read.
    unknown: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def name(self) -> str:
        return f"round-{self.number:03d}"

    def to_dict(self) -> dict:
        data = asdict(self)
        return {**data.pop("unknown"), **data}


@dataclass
class ProjectState:
    """Everything ``state.json`` holds, checked on load (see :func:`parse_state`)."""

    version: int = STATE_VERSION
    image: str | None = None
    n_frames: int | None = None
    # (height, width) of a frame; (depth, height, width) of a volume project's volumes, so a volume of
    # another depth is told apart (volume projects made before that recorded (height, width) only).
    frame_shape: tuple[int, ...] | None = None
    # pixel_fingerprint of the image's first frame, recorded when the project is made (or first opened
    # with its pixels): an image replaced by another of the same size is noticed.
    fingerprint: str | None = None
    # Reviewed areas, oldest acceptance first: (frame, None) is the whole frame, (frame, region) a rectangle.
    accepted: list[tuple[int, Region | None]] = field(default_factory=list)
    rounds: list[RoundInfo] = field(default_factory=list)
    current_round: int | None = None
    diameter: float | None = None
    polarity: str = "auto"
    threshold: float | None = None
    kind: str = "spheres"
    # The highest round number ever given, deleted rounds included: a number names one model for good
    # (a CSV's or a card's "round-003" must not come to mean another model after a delete).
    last_round: int = 0
    # Frame -> the round whose scores its network points carry (the round that last detected it): one
    # model's scores are never compared with another model's threshold.
    detected_by: dict[int, int] = field(default_factory=dict)
    # Round -> the threshold its detections were shown at when another round was put in use (``threshold``
    # is the round in use's): the frames it detected keep it until they are detected again.
    round_thresholds: dict[int, float] = field(default_factory=dict)
    # Frames the user edited since they were last detected, sorted: a later session's Detect over them keeps
    # the edits one undo away and says so, as within the session that made them.
    edited: list[int] = field(default_factory=list)
    # Of ``edited``, the frames whose edits a dock saw reach outside their accepted regions (it knew the frame as
    # detected); the others' may all lie inside them, learned. A project recorded before this knows none.
    edited_outside: list[int] = field(default_factory=list)
    # Frames not in ``edited`` whose edits all lie inside their accepted regions (learned, so not marked): an
    # un-accepted region may have held them, and a later session cannot see the points deleted there.
    edited_inside: list[int] = field(default_factory=list)
    # Top-level keys of state.json this version does not know (a later version's, which added them without
    # raising the version): written back as they were read, so a shared project's older copy of the plugin
    # never removes what a newer one recorded.
    unknown: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {**self.unknown, **self._known_dict()}

    def _known_dict(self) -> dict:
        return {
            "version": STATE_VERSION, "image": self.image, "n_frames": self.n_frames,
            "frame_shape": list(self.frame_shape) if self.frame_shape else None, "fingerprint": self.fingerprint,
            "accepted": [{"frame": f} if r is None else {"frame": f, "box": list(r.box),
                                                         **({"z": list(r.z_range)} if r.z_range else {})}
                         for f, r in self.accepted],
            "rounds": [r.to_dict() for r in self.rounds], "current_round": self.current_round,
            "diameter": self.diameter, "polarity": self.polarity, "threshold": self.threshold,
            "kind": self.kind, "last_round": self.last_round,
            "detected_by": {str(f): r for f, r in sorted(self.detected_by.items())},
            "round_thresholds": {str(r): t for r, t in sorted(self.round_thresholds.items())},
            "edited": sorted(set(self.edited)),
            "edited_outside": sorted(set(self.edited_outside) & set(self.edited)),
            "edited_inside": sorted(set(self.edited_inside) - set(self.edited)),
        }


_STATE_KEYS = frozenset(ProjectState()._known_dict())


class FieldChecker:
    """Type and range checks that name the file and the field in one line."""

    def __init__(self, source: Path) -> None:
        self.source = source

    def fail(self, what: str, problem: str) -> ParticleDetectError:
        return ParticleDetectError(f"{self.source}: {what} {problem}")

    def integer(self, value: Any, what: str, lo: int, hi: int, optional: bool = False) -> int | None:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(what, f"must be a whole number, got {value!r:.40}")
        if not lo <= value <= hi:
            raise self.fail(what, f"must be between {lo} and {hi}, got {value}")
        return value

    def number(self, value: Any, what: str, lo: float, hi: float, optional: bool = False,
               open_low: bool = False) -> float | None:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(what, f"must be a number, got {value!r:.40}")
        value = float(value)
        if not math.isfinite(value) or value < lo or value > hi or (open_low and value == lo):
            raise self.fail(what, f"must be {'above' if open_low else 'at least'} {lo:g} and at most {hi:g}, "
                                  f"got {value:g}")
        return value

    def text(self, value: Any, what: str, optional: bool = False, choices: Sequence[str] | None = None) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise self.fail(what, f"must be text, got {value!r:.40}")
        if choices is not None and value not in choices:
            raise self.fail(what, f"must be one of {', '.join(choices)}, got {value!r:.40}")
        return value

    def boolean(self, value: Any, what: str, optional: bool = False) -> bool | None:
        if value is None and optional:
            return None
        if not isinstance(value, bool):
            raise self.fail(what, f"must be true or false, got {value!r:.40}")
        return value

    def array(self, value: Any, what: str) -> list:
        if not isinstance(value, list):
            raise self.fail(what, f"must be a list, got {type(value).__name__}")
        return value

    def numbers(self, value: Any, what: str, described: str, count: int) -> list:
        """A list of ``count`` finite numbers (``described`` says which, in the error)."""
        value = self.array(value, what)
        if len(value) != count:
            raise self.fail(what, f"must be {described}")
        for v in value:
            self.number(v, what, -1e9, 1e9)
        return value

    def mapping(self, value: Any, what: str) -> dict:
        if not isinstance(value, dict):
            raise self.fail(what, f"must be an object, got {type(value).__name__}")
        return value


def make_region(frame: int, box: Sequence[float] | Region, n_frames: int | None = None,
                frame_shape: tuple[int, ...] | None = None, source: str = "region",
                z_range: Sequence[float] | None = None) -> Region:
    """A validated :class:`Region` from ``(y0, x0, y1, x1)``: finite, ordered, inside the frame; with
    ``z_range`` (z0, z1) a 3D box of a volume (a Region given keeps its own z range)."""
    if isinstance(box, Region):
        z_range = box.z_range if z_range is None else z_range
        box = box.box
    z0 = z1 = None
    if z_range is not None:
        try:
            z0, z1 = (float(v) for v in z_range)
        except (TypeError, ValueError):
            raise ParticleDetectError(f"{source}: a z range is two numbers z0, z1, got {z_range!r:.60}") from None
        if not (math.isfinite(z0) and math.isfinite(z1) and -0.5 <= z0 < z1):
            raise ParticleDetectError(f"{source}: z range {z0:g}, {z1:g} must be finite with -0.5 <= z0 < z1")
    try:
        y0, x0, y1, x1 = (float(v) for v in box)
    except (TypeError, ValueError):
        raise ParticleDetectError(f"{source}: a box is four numbers y0, x0, y1, x1, got {box!r:.60}") from None
    frame = check_frame_number(frame, n_frames, source)
    if not all(math.isfinite(v) for v in (y0, x0, y1, x1)) or not (y0 < y1 and x0 < x1):
        raise ParticleDetectError(f"{source}: box {y0:g}, {x0:g}, {y1:g}, {x1:g} must be finite with y0 < y1 and x0 < x1")
    h, w = frame_shape[-2:] if frame_shape else (math.inf, math.inf)
    if y0 < -0.5 or x0 < -0.5 or y1 > h - 0.5 or x1 > w - 0.5:
        raise ParticleDetectError(f"{source}: box {y0:g}, {x0:g}, {y1:g}, {x1:g} reaches outside the frame "
                                  f"(-0.5 .. {h - 0.5:g}, -0.5 .. {w - 0.5:g})")
    return Region(frame, y0, x0, y1, x1, z0, z1)


def check_frame_number(frame: Any, n_frames: int | None, source: str) -> int:
    if isinstance(frame, bool) or not isinstance(frame, (int, np.integer)) or frame < 0:
        if isinstance(frame, (float, np.floating)) and float(frame).is_integer() and frame >= 0:
            frame = int(frame)
        else:
            raise ParticleDetectError(f"{source}: frame must be a whole number from 0, got {frame!r:.40}")
    limit = n_frames if n_frames is not None else MAX_FRAMES
    if int(frame) >= limit:
        raise ParticleDetectError(f"{source}: frame {int(frame)} is beyond {frames_of_this_image(limit)}")
    return int(frame)


def frames_of_this_image(count: int) -> str:
    """'the 3 frames of this image'; of a single image 'this image, one frame (frame 0)', not 'the 1 frames'."""
    return "this image, one frame (frame 0)" if count == 1 else f"the {count} frames of this image"


def parse_round(data: Any, index: int, check: FieldChecker) -> RoundInfo:
    where = f"rounds[{index}]"
    data = check.mapping(data, where)
    known = {f.name for f in fields(RoundInfo)} - {"unknown"}
    kept = {k: data[k] for k in data if k in known}
    if "held_out_frames" in data and "held_out" not in data:  # version 1 listed the held-out frames
        kept["held_out"] = len(check.array(data["held_out_frames"], f"{where}.held_out_frames"))
    if "number" not in kept or "origin" not in kept:
        raise check.fail(where, "needs a number and an origin")
    trained = check.array(kept.get("trained_frames", []), f"{where}.trained_frames")
    return RoundInfo(
        number=check.integer(kept["number"], f"{where}.number", 1, MAX_ROUND),
        origin=check.text(kept["origin"], f"{where}.origin"),
        parent=check.integer(kept.get("parent"), f"{where}.parent", 1, MAX_ROUND, optional=True),
        created=check.text(kept.get("created", ""), f"{where}.created"),
        trained_frames=[check.integer(f, f"{where}.trained_frames", 0, MAX_FRAMES) for f in trained],
        trained_regions=check.integer(kept.get("trained_regions", 0), f"{where}.trained_regions", 0, MAX_FRAMES),
        held_out=check.integer(kept.get("held_out", 0), f"{where}.held_out", 0, MAX_FRAMES),
        f1=check.number(kept.get("f1"), f"{where}.f1", 0.0, 1.0, optional=True),
        parent_f1=check.number(kept.get("parent_f1"), f"{where}.parent_f1", 0.0, 1.0, optional=True),
        threshold=check.number(kept.get("threshold"), f"{where}.threshold", 0.0, 1.0, optional=True),
        improved=check.boolean(kept.get("improved"), f"{where}.improved", optional=True),
        seconds=check.number(kept.get("seconds"), f"{where}.seconds", 0.0, 1e9, optional=True),
        waited=check.number(kept.get("waited"), f"{where}.waited", 0.0, 1e9, optional=True),
        unreviewed_frames=[check.integer(f, f"{where}.unreviewed_frames", 0, MAX_FRAMES)
                           for f in check.array(kept.get("unreviewed_frames", []), f"{where}.unreviewed_frames")],
        unreviewed_asked=check.integer(kept.get("unreviewed_asked", 0), f"{where}.unreviewed_asked", 0, MAX_FRAMES),
        unreviewed_unsure=check.integer(kept.get("unreviewed_unsure", 0), f"{where}.unreviewed_unsure", 0, MAX_FRAMES),
        edited_left_out=_frame_list(kept, "edited_left_out", where, check),
        edited_not_accepted=_frame_list(kept, "edited_not_accepted", where, check),
        edited_in_regions=_frame_list(kept, "edited_in_regions", where, check),
        edited_where_unknown=_frame_list(kept, "edited_where_unknown", where, check),
        unknown={k: v for k, v in data.items() if k not in known and k != "held_out_frames"},
    )


def _frame_list(kept: dict, key: str, where: str, check: FieldChecker) -> list[int]:
    """A round's list of frame numbers under ``key`` (none where it was not recorded)."""
    return [check.integer(f, f"{where}.{key}", 0, MAX_FRAMES) for f in check.array(kept.get(key, []), f"{where}.{key}")]


def _frames_of(data: dict, key: str, n_frames: int | None, check: FieldChecker) -> list[int]:
    """The state's sorted frame numbers under ``key`` (none where it was not recorded)."""
    return sorted({check.integer(f, key, 0, (n_frames or MAX_FRAMES) - 1) for f in check.array(data.get(key, []), key)})


def parse_state(data: Any, source: Path) -> ProjectState:
    """A :class:`ProjectState` from decoded JSON (version 1 or 2), or one ParticleDetectError naming ``source``."""
    check = FieldChecker(source)
    if not isinstance(data, dict):
        raise ParticleDetectError(f"{source}: not a project state (expected a JSON object, got {type(data).__name__})")
    if "version" not in data:
        raise ParticleDetectError(f"{source}: not a project state (no version)")
    version = check.integer(data["version"], "version", 1, 10**6)
    if version > STATE_VERSION:
        raise NewerState(f"{source}: made by a newer napari-particle-detect; please upgrade")
    n_frames = check.integer(data.get("n_frames"), "n_frames", 1, MAX_FRAMES, optional=True)
    shape = data.get("frame_shape")
    if shape is not None:
        shape = check.array(shape, "frame_shape")
        if len(shape) not in (2, 3):
            raise check.fail("frame_shape", f"must be [height, width] or [depth, height, width], got {shape!r:.40}")
        shape = tuple(check.integer(v, "frame_shape", 1, 10**7) for v in shape)
    accepted: list[tuple[int, Region | None]] = []
    if version == 1:
        for frame in check.array(data.get("reviewed", []), "reviewed"):
            entry = (check.integer(frame, "reviewed", 0, (n_frames or MAX_FRAMES) - 1), None)
            if entry not in accepted:
                accepted.append(entry)
    else:
        for i, entry in enumerate(check.array(data.get("accepted", []), "accepted")):
            entry = check.mapping(entry, f"accepted[{i}]")
            frame = check.integer(entry.get("frame"), f"accepted[{i}].frame", 0, (n_frames or MAX_FRAMES) - 1)
            box = entry.get("box")
            region = None
            if box is not None:
                box = check.numbers(box, f"accepted[{i}].box", "four numbers y0, x0, y1, x1", 4)
                z = entry.get("z")
                if z is not None:
                    z = check.numbers(z, f"accepted[{i}].z", "two numbers z0, z1", 2)
                region = make_region(frame, box, n_frames, shape, f"{source}: accepted[{i}]", z)
            if (frame, region) not in accepted:
                accepted.append((frame, region))
    rounds = [parse_round(r, i, check) for i, r in enumerate(check.array(data.get("rounds", []), "rounds"))]
    numbers = [r.number for r in rounds]
    if len(set(numbers)) != len(numbers):
        raise check.fail("rounds", "repeat a round number")
    current = check.integer(data.get("current_round"), "current_round", 1, MAX_ROUND, optional=True)
    if current is not None and current not in numbers:
        raise check.fail("current_round", f"names round {current}, which is not in rounds")
    return ProjectState(
        version=STATE_VERSION,
        image=check.text(data.get("image"), "image", optional=True),
        n_frames=n_frames,
        frame_shape=shape,
        fingerprint=_fingerprint(data.get("fingerprint"), check),
        accepted=accepted,
        rounds=sorted(rounds, key=lambda r: r.number),
        current_round=current,
        diameter=check.number(data.get("diameter"), "diameter", 0.0, MAX_DIAMETER, optional=True, open_low=True),
        polarity=check.text(data.get("polarity", "auto"), "polarity", choices=POLARITIES),
        threshold=check.number(data.get("threshold"), "threshold", 0.0, 1.0, optional=True),
        kind=check.text(data.get("kind", "spheres"), "kind", choices=PROJECT_KINDS),
        last_round=max([check.integer(data.get("last_round", 0), "last_round", 0, MAX_ROUND)] + numbers),
        detected_by={check_frame_number(_whole_key(f, "detected_by", check), n_frames, str(source)):
                     check.integer(r, f"detected_by[{f}]", 1, MAX_ROUND)
                     for f, r in check.mapping(data.get("detected_by", {}), "detected_by").items()},
        round_thresholds={check.integer(_whole_key(r, "round_thresholds", check), "round_thresholds", 1, MAX_ROUND):
                          check.number(t, f"round_thresholds[{r}]", 0.0, 1.0)
                          for r, t in check.mapping(data.get("round_thresholds", {}), "round_thresholds").items()},
        edited=(sorted({check.integer(f, "edited", 0, (n_frames or MAX_FRAMES) - 1)
                        for f in check.array(data["edited"], "edited")}) if "edited" in data
                else edits_before_recording(source.parent, n_frames, accepted)),
        edited_outside=_frames_of(data, "edited_outside", n_frames, check),
        edited_inside=_frames_of(data, "edited_inside", n_frames, check),
        # A version 1 state's keys are all known: those it renamed ("reviewed") are not kept beside the new ones.
        unknown={k: v for k, v in data.items() if k not in _STATE_KEYS} if version == STATE_VERSION else {},
    )


def edits_before_recording(folder: Path, n_frames: int | None,
                           accepted: Sequence[tuple[int, Region | None]]) -> list[int]:
    """The frames a project made before it recorded ``edited`` holds the user's edits of, found in its frame
    files: every saved frame with a point placed by hand (source 'added'), and every one with accepted regions.

    Those versions kept no trace of network points deleted or dragged (what is left is network points,
    in place or moved): a frame the user reviewed part of is where such edits outside its regions are to
    be feared. Counting a frame needlessly costs a notice and an undo step at its next Detect; missing
    one costs the edits."""
    with_regions = {frame for frame, region in accepted if region is not None}
    # A frame beyond the image's is none of its frames: the project says so when it reads its frames.
    return sorted(frame for frame, path in _frame_files(folder).items()
                  if frame < (n_frames or MAX_FRAMES) and (frame in with_regions or _holds_points_placed_by_hand(path)))


def _holds_points_placed_by_hand(path: Path) -> bool:
    return _holds_source(path, b"added")


def _holds_source(path: Path, source: bytes) -> bool:
    # The source column is the only text a frame file holds below its header, and no column is named after
    # a source: looking for the word answers without parsing thousands of tables on opening.
    try:
        return source in path.read_bytes()
    except OSError:
        return False  # said when the frame is read


def _frame_files(folder: Path) -> dict[int, Path]:
    """The frame files in ``folder``'s frames folder (links left out: refused when read), by frame."""
    frames_folder = folder / FRAMES_FOLDER
    if frames_folder.is_symlink() or not frames_folder.is_dir():
        return {}
    try:
        paths = list(frames_folder.iterdir())
    except OSError:
        return {}  # said when the frames are read
    found = {}
    for path in paths:
        match = FRAME_FILE.fullmatch(path.name)
        if match and int(match.group(1)) < MAX_FRAMES and not path.is_symlink():
            found[int(match.group(1))] = path
    return found


def _kind_in_files(folder: Path, frames: Sequence[Path]) -> str:
    """The kind a project's frames hold, from their columns (a frame of rods has an angle, of chains a chain),
    else from its folder's name (``<stem>.rods.particle-detect``); spheres when neither tells."""
    for path in frames:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                header = handle.readline().strip().split(",")
        except OSError:
            continue
        if "angle" in header:
            return "rods"
        if "chain" in header:
            return "chains"
    parts = folder.name.split(".")
    return next((kind for kind in PROJECT_KINDS[1:] if len(parts) > 2 and parts[-2] == kind), "spheres")


def _holds_rounds(folder: Path) -> bool:
    rounds = folder / "rounds"
    try:
        return rounds.is_dir() and not rounds.is_symlink() and any(ROUND_FOLDER.match(p.name) for p in rounds.iterdir())
    except OSError:
        return False


def _frames_named(frames: Sequence[int]) -> str:
    named = ", ".join(str(f) for f in frames[:8]) + (f" and {len(frames) - 8} more" if len(frames) > 8 else "")
    return f"frame{'s' if len(frames) != 1 else ''} {named}"


def rebuilt_state(folder: Path) -> tuple[ProjectState, str] | None:
    """(a state rebuilt from the files of the project in ``folder``, what it could not rebuild, in words), for a
    state.json that cannot be decoded and has no backup to go back to (damaged after the project's first save);
    None when it holds neither frame files nor rounds: nothing to rebuild, nothing locked out.

    Every saved frame's centres are its file's, so all are kept, and all are counted as edited: a Detect over
    them keeps them one undo away. Which frames and regions were accepted is not rebuilt: a frame file's
    accepted points do not say whether the whole frame or a box of it was reviewed, nor whether it was taken
    back since, and a review made up here would be trained on as ground truth. The rounds are the project's
    (recovered from their folders as after a crash, :meth:`Project._recover_orphans`)."""
    frames = _frame_files(folder)
    if not frames and not _holds_rounds(folder):
        return None
    state = ProjectState(kind=_kind_in_files(folder, [frames[f] for f in sorted(frames)]), edited=sorted(frames))
    reviewed = [f for f in sorted(frames) if _holds_source(frames[f], b"accepted")]
    kept = f"the centres of {_frames_named(sorted(frames))} are kept" if frames else "no frame had centres saved"
    hint = (f" ({_frames_named(reviewed)} hold{'s' if len(reviewed) == 1 else ''} accepted points: look "
            f"{'it' if len(reviewed) == 1 else 'them'} over and accept {'it' if len(reviewed) == 1 else 'them'} "
            "again)") if reviewed else ""
    return state, (f"rebuilt from the project's files: {kept}; which frames and regions were accepted is lost{hint}, "
                   "as are the detection settings")


def _whole_key(key: str, what: str, check: FieldChecker) -> int:
    """A JSON object's key that stands for a whole number ("12"): the number, or one error naming ``what``."""
    if not (isinstance(key, str) and key.isascii() and key.isdigit() and len(key) <= 12):
        raise check.fail(what, f"keys must be whole numbers, got {key!r:.40}")
    return int(key)


def _fingerprint(value: Any, check: FieldChecker) -> str | None:
    value = check.text(value, "fingerprint", optional=True)
    if value is not None and not _FINGERPRINT.fullmatch(value):
        raise check.fail("fingerprint", f"must be 8 to 64 hexadecimal digits, got {value!r:.40}")
    return value


# ---- which image a project belongs to -----------------------------------------------------------
def pixel_fingerprint(frame: Any) -> str:
    """A short hash of a fixed, sparse grid of about FINGERPRINT_SAMPLES pixels of one frame (a 2D image,
    or a volume), the same for the same pixels whatever holds them (numpy, dask, zarr; any dtype).

    The grid is taken with strided slices, so a lazy frame reads at most itself (its touched chunks only,
    where it is chunked); callers give the first frame, never the whole stack."""
    shape = tuple(int(n) for n in np.shape(frame))
    per_axis = max(2, round(FINGERPRINT_SAMPLES ** (1 / max(1, len(shape)))))
    grid = tuple(slice(None, None, max(1, n // per_axis)) for n in shape)
    try:
        sample = np.asarray(frame[grid], dtype=np.float64)
    except (TypeError, IndexError, ValueError):  # an array-like without strided slicing
        sample = np.asarray(np.asarray(frame)[grid], dtype=np.float64)
    digest = hashlib.sha1(str(shape).encode())
    digest.update(np.ascontiguousarray(sample + 0.0).tobytes())  # + 0.0: -0.0 hashes as 0.0
    return digest.hexdigest()[:16]


def describe_size(n_frames: int | None, frame_shape: Sequence[int] | None) -> str:
    """"4 frames of 256 x 256 pixels", "2 volumes of 30 z-slices of 256 x 256 pixels" (the parts known)."""
    volumes = frame_shape is not None and len(frame_shape) == 3
    frames = "" if n_frames is None else counted(n_frames, "volume" if volumes else "frame")
    pixels = "" if not frame_shape else " x ".join(str(int(v)) for v in frame_shape[-2:]) + " pixels"
    if volumes:
        pixels = f"{counted(int(frame_shape[0]), 'z-slice')} of {pixels}"
    return " of ".join(part for part in (frames, pixels) if part) or "unknown size"


def image_mismatch(recorded: ProjectState, n_frames: int | None, frame_shape: Sequence[int] | None,
                   fingerprint: str | None, name: str = "the image") -> str | None:
    """Why ``name`` (``n_frames`` frames of ``frame_shape``, first frame's ``fingerprint``; None: not known)
    is not the image a project ``recorded``, in words; None when nothing known differs."""
    recorded_shape = tuple(recorded.frame_shape) if recorded.frame_shape else None
    given_shape = tuple(int(v) for v in frame_shape) if frame_shape else None
    both_shapes = recorded_shape is not None and given_shape is not None
    counts = recorded.n_frames is not None and n_frames is not None and int(n_frames) != recorded.n_frames
    # A volume project made before depths were recorded knows (height, width) only: the depth it cannot
    # compare here still differs in the fingerprint, which hashes the volume's shape.
    planes = both_shapes and given_shape[-2:] != recorded_shape[-2:]
    if counts or planes:
        return (f"this project was made for an image of {describe_size(recorded.n_frames, recorded.frame_shape)}, "
                f"but {name} has {describe_size(n_frames, frame_shape)}")
    depths_known = both_shapes and len(recorded_shape) == len(given_shape) == 3
    if depths_known and given_shape[0] != recorded_shape[0]:
        return (f"{name} has {counted(given_shape[0], 'z-slice')} per volume, this project was made for "
                f"{recorded_shape[0]}")
    if recorded.fingerprint is not None and fingerprint is not None and fingerprint != recorded.fingerprint:
        if both_shapes and len(recorded_shape) != len(given_shape):
            return (f"{name} is not the image this project was made for (another number of z-slices, or other "
                    "pixels in its first volume; this project did not record its z-slices)")
        return (f"{name} is not the image this project was made for (the same size, "
                f"{describe_size(recorded.n_frames, recorded.frame_shape)}, but other "
                f"{'voxels in its first volume' if depths_known else 'pixels in its first frame'})")
    return None


# ---- reading state.json, and its backup ---------------------------------------------------------
def backup_path(path: Path) -> Path:
    """Where the state before ``path``'s last change is kept (``state.json.bak``)."""
    return path.with_name(path.name + BACKUP_SUFFIX)


def _decoded_state_file(path: Path) -> tuple[bytes, Any]:
    """(``path``'s bytes, their JSON), or one ParticleDetectError naming it."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ParticleDetectError(f"{path}: cannot read the project state ({exc.strerror or exc})") from None
    try:
        return raw, json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise DamagedState(f"{path}: not a project state (not UTF-8 text)") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        raise DamagedState(f"{path}: unreadable project state ({str(exc)[:60]})") from None


def _read_one_state_file(path: Path) -> ProjectState:
    return parse_state(_decoded_state_file(path)[1], path)


def state_file_is_sound(path: Path) -> bool:
    """Whether ``path`` reads as a project state (a damaged one is never kept as the backup)."""
    try:
        _read_one_state_file(path)
    except ParticleDetectError:
        return False
    return True


def _usable_backup(path: Path) -> ProjectState | None:
    backup = backup_path(path)
    if backup.is_symlink() or not backup.is_file():
        return None
    try:
        return _read_one_state_file(backup)
    except ParticleDetectError:
        return None


def lost_state(path: Path) -> tuple[ProjectState, str] | None:
    """For a ``state.json`` at ``path`` that is not there: (the state before its last change, in its backup, or
    one rebuilt from the project's frame files; what was done, in one line), or None where nothing says the
    project had one (a new project, or one whose first round was put in place as its first write was cut off).

    Only a replaced state.json leaves a backup, and every first save writes the state before its frame: either
    one there without it is a state.json deleted by hand or lost by a copy or a sync. Starting afresh instead
    dropped every accepted frame and region without a word, and the next change put that fresh state over
    the backup, the one copy of the review left."""
    said = f"{path}: missing (deleted, or lost by a copy or a sync)"
    previous = _usable_backup(path)
    if previous is not None:
        return previous, f"{said}; went back to the state before its last change ({backup_path(path).name})"
    if not _frame_files(path.parent):
        return None
    state, lost = rebuilt_state(path.parent)
    return state, f"{said}, with no usable {backup_path(path).name} to go back to, so the state was {lost}"


def read_state_with_backup(path: Path) -> tuple[ProjectState, str | None]:
    """(the state in ``path``, None); or, when ``path`` cannot be decoded (cut short or garbled by
    something outside this program: every save of ours is atomic), (the state before its last change,
    kept in ``state.json.bak``, a one-line problem saying so). Going back one change loses at most that
    change's bookkeeping (the frames' centres and the rounds' models are files of their own, and a
    round missing from the state is recovered from its folder), where refusing would lock the whole
    review out. With no usable backup, the state rebuilt from the project's files (:func:`rebuilt_state`),
    the problem saying what was lost. Anything else is one ParticleDetectError naming the file and what to do.

    A state made before projects recorded which frames hold edits gets those found in its frame files
    (:func:`edits_before_recording`) written into it, once (:func:`_record_found_edits`)."""
    try:
        raw, data = _decoded_state_file(path)
        state = parse_state(data, path)
    except DamagedState as exc:
        previous = _usable_backup(path)
        if previous is None:
            # Refusing would lock the user out of every edit in the frame files, which are sound.
            rebuilt = rebuilt_state(path.parent)
            if rebuilt is None:
                raise DamagedState(f"{exc}; no usable {backup_path(path).name} to go back to: move the project "
                                   "folder aside to start again") from None
            return rebuilt[0], (f"{exc}; no usable {backup_path(path).name} to go back to, so the state was "
                                f"{rebuilt[1]}; the damaged file is kept as {path.name}{DAMAGED_SUFFIX} at the "
                                "next change")
        return previous, (f"{exc}; went back to the state before its last change ({backup_path(path).name}): "
                          f"that change is lost, and the damaged file is kept as {path.name}{DAMAGED_SUFFIX} at the "
                          "next change")
    except NewerState:
        raise
    except ParticleDetectError as exc:
        # Decoded but breaking a rule: an edit by hand or another program, said rather than undone.
        if _usable_backup(path) is None:
            raise ParticleDetectError(f"{exc}; correct it, or move the project folder aside to start again") from None
        raise ParticleDetectError(f"{exc}; the state before its last change is in {backup_path(path).name}: rename "
                                  "it to state.json to go back one change") from None
    if "edited" not in data:
        _record_found_edits(path, raw, state)
    return state, None


def _record_found_edits(path: Path, raw: bytes, state: ProjectState) -> None:
    """Write ``state``, an older project's with the edited frames found in its files, over its state.json
    ``path`` (whose bytes were ``raw``): found once, since a point placed by hand and deleted later, or
    a frame detected again, would change what a later look finds. As every change is saved: under the
    project's lock, atomically, the state before kept as the backup.

    Only where the lock is free at once: whoever holds it (this program, inside a change) writes the
    state next, and every write records them. A project that cannot be written finds them at each opening."""
    lock = path.with_name(LOCK_FILE)
    if path.is_symlink() or lock.is_symlink():
        return  # the project refuses links as it opens
    try:
        with FileLock(str(lock), timeout=0):
            if path.read_bytes() != raw:
                return  # changed since it was read, by a writer that recorded them
            atomic_write_bytes(backup_path(path), lambda handle: handle.write(raw), sync=False)
            atomic_write_text(path, json.dumps(state.to_dict(), indent=2))
    except (Timeout, OSError, ParticleDetectError):
        pass


def read_state_file(path: Path) -> ProjectState:
    """Decode and check a ``state.json``; every problem is one ParticleDetectError naming the file. A file
    that cannot be decoded gives the state in its backup, as a Project does (which reports it)."""
    return read_state_with_backup(path)[0]
