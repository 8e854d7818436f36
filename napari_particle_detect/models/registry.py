"""Architecture names -> classes, and saving/loading weights with a JSON card beside them.

A saved model is two files: ``NAME.pt`` (a state dict) and ``NAME.json`` (architecture, channels,
heatmap sigma, normalisation, tuned threshold, trained particle-size range, training data). The card
is enough to rebuild the network, so a model file explains how to use itself.
"""

from __future__ import annotations

import glob
import json
import logging
import math
import os
import pickle
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import ParticleDetectError
from ..project_layout import DAMAGED_ROUND_ADVICE, is_round_model_file
from ..files.io import atomic_write_bytes, fsync_directory
from ..shipped import WEIGHTS_DIR
from .heads import KNOWN_HEADS, HeadsUNet
from .resnet import ResNetHeatmap
from .unet import UNet
from .unet3d import UNet3D
from ..detection.rescoring import Criterion

ARCHITECTURES: dict[str, type[nn.Module]] = {"unet": UNet, "resnet": ResNetHeatmap, "unet3d": UNet3D,
                                              "unet_heads": HeadsUNet}
# What a model finds (its card's ``kind``): round particles, or the kinds of kinds/registry.py.
MODEL_KINDS = ("spheres", "rods", "chains")
log = logging.getLogger(__name__)


@dataclass
class ModelCard:
    architecture: str = "unet"
    channels: tuple[int, ...] = (16, 32, 64, 112)
    sigma: float = 1.5
    threshold: float = 0.4
    min_distance: int = 2
    normalisation: str = "percentile 1-99.8 per frame"
    # Particle diameters (px) seen in training; images are rescaled into this range.
    trained_diameter_range: tuple[float, float] = (7.0, 18.0)
    # Images are rescaled so particles have this diameter: crowded particles separate best there.
    canonical_diameter: float = 15.0
    # The user's criterion learned in a round (file beside the weights), or None: the heatmap decides.
    criterion: str | None = None
    # Heatmap score down to which candidates are handed to the criterion.
    candidate_floor: float = 0.05
    # 2: frames (y, x); 3: volumes (z, y, x) on a grid where particles are canonical_diameter voxels
    # across along every axis (volume_detection).
    spatial_dims: int = 2
    # What the model finds, and its output maps in order (models/heads.py); spheres: one centre heatmap.
    kind: str = "spheres"
    heads: tuple[str, ...] = ("centre",)
    training: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict, source: str | Path = "model card") -> "ModelCard":
        """A card from its JSON form, every field checked: one ParticleDetectError naming ``source`` otherwise."""
        if not isinstance(data, dict):
            raise ParticleDetectError(f"{source}: not a model card (expected a JSON object, got {type(data).__name__})")
        missing = [k for k in REQUIRED_CARD_FIELDS if k not in data]
        if missing:
            raise ParticleDetectError(f"{source}: not a model card (no {', '.join(missing)})")
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key, check in CARD_CHECKS.items():
            if key in known:
                problem = check(known[key])
                if problem:
                    raise ParticleDetectError(f"{source}: {key} {problem}, got {known[key]!r:.60}")
        for key in ("channels", "trained_diameter_range", "heads"):
            if key in known:
                known[key] = tuple(known[key])
        return cls(**known)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# What a card needs to rebuild its network; everything else has a safe default.
REQUIRED_CARD_FIELDS = ("architecture", "channels", "threshold", "canonical_diameter")
CARD_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "architecture": lambda v: None if isinstance(v, str) else "must be text",
    "channels": lambda v: None if isinstance(v, list) and 1 <= len(v) <= 8
    and all(_is_whole(c) and 1 <= c <= 4096 for c in v) else "must be a list of 1 to 8 whole numbers from 1 to 4096",
    "sigma": lambda v: None if _is_number(v) and 0 < v <= 100 else "must be a number above 0 and at most 100",
    "threshold": lambda v: None if _is_number(v) and 0 < v < 1 else "must be a number between 0 and 1",
    "min_distance": lambda v: None if _is_whole(v) and 1 <= v <= 1000 else "must be a whole number from 1 to 1000",
    "normalisation": lambda v: None if isinstance(v, str) else "must be text",
    "trained_diameter_range": lambda v: None if isinstance(v, list) and len(v) == 2 and all(_is_number(d) and d > 0 for d in v)
    and v[0] <= v[1] else "must be two positive numbers, smallest first",
    "canonical_diameter": lambda v: None if _is_number(v) and 0 < v <= 10_000 else "must be a number above 0 and at most 10000",
    "training": lambda v: None if isinstance(v, dict) else "must be an object",
    "criterion": lambda v: None if v is None or (isinstance(v, str) and "/" not in v and "\\" not in v
                                                  and v.endswith(".skops")) else "must be a file name ending .skops",
    "spatial_dims": lambda v: None if v in (2, 3) and _is_whole(v) else "must be 2 or 3",
    "candidate_floor": lambda v: None if _is_number(v) and 0 < v < 1 else "must be a number between 0 and 1",
    "kind": lambda v: None if v in MODEL_KINDS else f"must be one of {', '.join(MODEL_KINDS)}",
    "heads": lambda v: None if isinstance(v, list) and 1 <= len(v) <= 8 and all(h in KNOWN_HEADS for h in v)
    else f"must be a list of heads from {', '.join(KNOWN_HEADS)}",
}


def read_card(path: str | Path) -> ModelCard:
    """The model card at ``path`` (a .json beside the weights), checked; one clear error otherwise."""
    path = Path(path)
    if not path.exists():
        raise ParticleDetectError(f"{path}: model card (JSON beside the weights) not found")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise ParticleDetectError(f"{path}: unreadable model card (not UTF-8 text)") from None
    except (OSError, json.JSONDecodeError, RecursionError) as exc:
        raise ParticleDetectError(f"{path}: unreadable model card ({str(exc)[:80]})") from None
    return ModelCard.from_dict(data, path)


@dataclass(eq=False)  # identity, not weights, makes two models the same (and keys caches)
class DetectorModel:
    network: nn.Module
    card: ModelCard
    path: Path | None = None
    criterion: Criterion | None = None


def wrong_kind(where: object, found: str, kind: str, advice: str = "") -> str:
    """The refusal of a model that finds ``found`` where one finding ``kind`` is needed, worded the same
    by every check (detect, train, rounds, recipes), each adding the way out that fits it."""
    return f"{where}: this model finds {found}, not {kind}" + (f"; {advice}" if advice else "")


def wrong_dims(where: object, found: int) -> str:
    """The refusal of a 3D model where frames are detected (or a 2D one where volumes are)."""
    if found == 3:
        return (f"{where}: a 3D model (finds particles in volumes); detect volumes with "
                "napari_particle_detect.detect_volumes or particle-detect detect --axes ZYX")
    return f"{where}: a 2D model (finds particles in frames); volumes need a 3D model (the shipped unet3d)"


def require_kind(model: DetectorModel | ModelCard, kind: str, where: object, advice: str = "",
                 spatial_dims: int | None = None) -> None:
    """Refuse a model (or its card) that finds another kind than ``kind``: a ParticleDetectError saying
    :func:`wrong_kind`, before another kind's heads are read or trained as this kind's. With
    ``spatial_dims`` (2: frames, 3: volumes) a model of the other dimension is refused first
    (:func:`wrong_dims`): a 3D sphere model is no way out for a 2D chains detection."""
    card = model.card if isinstance(model, DetectorModel) else model
    if spatial_dims is not None and card.spatial_dims != spatial_dims:
        raise ParticleDetectError(wrong_dims(where, card.spatial_dims))
    if card.kind != kind:
        raise ParticleDetectError(wrong_kind(where, card.kind, kind, advice))


def build_network(card: ModelCard) -> nn.Module:
    try:
        cls = ARCHITECTURES[card.architecture]
    except KeyError:
        raise ParticleDetectError(
            f"unknown architecture {card.architecture!r}; choose one of {', '.join(ARCHITECTURES)}"
        ) from None
    if cls is HeadsUNet:
        return cls(tuple(card.channels), heads=tuple(card.heads))
    return cls(tuple(card.channels))


def network_for_weights(card: ModelCard) -> nn.Module:
    """:func:`build_network` for weights about to replace its initial ones, built on a fork of torch's
    random numbers: the first detection with a model would otherwise draw them from the global generator
    and change what seeded code around it produces (training from scratch draws from it: build_network)."""
    with torch.random.fork_rng(devices=[]):
        return build_network(card)


def default_model_path(architecture: str = "unet") -> Path:
    """The shipped weights, ``napari_particle_detect/weights/ARCHITECTURE.pt`` (package data)."""
    candidate = WEIGHTS_DIR / f"{architecture}.pt"
    if candidate.exists():
        return candidate
    raise ParticleDetectError(f"no shipped weights for {architecture!r} in {WEIGHTS_DIR}")


def _card_path(weights: Path) -> Path:
    return weights.with_suffix(".json")


def card_json(card: Any) -> bytes:
    """A card's text, standard JSON: a value that is no number (the loss of epoch 0, the starting model, never
    trained) as null. Written as NaN it was JSON only to Python and jq; JavaScript's JSON.parse, R's jsonlite and
    Python's own json with parse_constant refusing it could not read the card at all."""
    return json.dumps(_finite_or_null(card), indent=2, allow_nan=False).encode()


def _finite_or_null(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite_or_null(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_null(item) for item in value]
    return value


def save_model(model: DetectorModel, path: str | Path) -> Path:
    """Write ``path`` (.pt), its criterion if it has one, and its .json card (:func:`_write_model_files`:
    a save cut short never leaves the new weights beside the old card)."""
    path = Path(path).with_suffix(".pt")
    state = {k: v.detach().cpu().contiguous() for k, v in model.network.state_dict().items()}
    files: list[tuple[Path, Callable]] = [(path, _torch_writer(state))]
    model.card.criterion = None
    if model.criterion is not None:
        criterion_file = path.with_suffix(CRITERION_SUFFIX)
        data = model.criterion.to_bytes()
        files.append((criterion_file, lambda fh: fh.write(data)))
        model.card.criterion = criterion_file.name
    card = card_json(model.card.to_dict())
    files.append((_card_path(path), lambda fh: fh.write(card)))
    _write_model_files(files)
    return path


def _write_model_files(files: list[tuple[Path, Callable]]) -> None:
    """Write a model's files (``(place, writer)`` pairs in one folder, weights first, card last): each in
    full under a temporary name first, so a failed write (a full disk) leaves the old model as it was;
    then the old card goes before any file is replaced, and the new card comes in last. A save killed
    in between leaves weights without a card, which loading refuses: the old card, left beside new
    weights, made them load silently with another model's threshold, scores and training."""
    for place, _ in files:  # what a save killed before its renames left (the temporary of a temporary too)
        for pattern in (f".{glob.escape(place.name)}.*.tmp", f"..{glob.escape(place.name)}.*.tmp"):
            for leftover in place.parent.glob(pattern):
                leftover.unlink(missing_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for place, writer in files:
            staged.append((_staged_file(place, writer), place))
        card = files[-1][0]
        card.unlink(missing_ok=True)
        fsync_directory(card.parent)  # the card is gone on disk before any file is replaced
        for temporary, place in staged:
            os.replace(temporary, place)
        fsync_directory(card.parent)
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)  # those not moved into place: a write that failed


def _staged_file(place: Path, writer: Callable) -> Path:
    """``writer``'s file written in full beside ``place`` under a temporary name (the kind
    files.io.remove_stale_temporaries tidies); an OSError names ``place``, the file the user knows."""
    temporary = place.with_name(f".{place.name}.{secrets.token_hex(4)}.tmp")
    try:
        return atomic_write_bytes(temporary, writer)
    except OSError as exc:
        if exc.errno is None or exc.filename not in (str(temporary), None):
            raise
        raise OSError(exc.errno, exc.strerror or str(exc), str(place)) from None


def save_tensors(tensors: Any, path: str | Path) -> Path:
    """``torch.save`` ``tensors`` to ``path`` atomically (all or nothing). A failed write (a full disk) is an
    OSError naming ``path``."""
    return atomic_write_bytes(path, _torch_writer(tensors))


def _torch_writer(tensors: Any) -> Callable:
    """A writer for atomic_write_bytes that torch.saves ``tensors``. torch re-raises the file's OSError as
    a RuntimeError ("[enforce fail at inline_container.cc] unexpected pos"), which told the user
    nothing: it becomes that OSError again."""

    def write(handle) -> None:
        try:
            torch.save(tensors, handle)
        except RuntimeError as exc:
            cause = exc.__context__ or exc.__cause__
            if isinstance(cause, OSError) and cause.errno is not None:
                # No file name: atomic_write_bytes names ``path``, not its temporary.
                raise OSError(cause.errno, cause.strerror or str(cause)) from None
            raise

    return write


def weights_path(path: str | Path | None = None) -> Path:
    """The weights file a model path names (default: the shipped UNet; a folder means its model.pt;
    a bare name such as ``unet-wide`` that names no file here, the shipped weights of that name)."""
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"model must be a model file's path, a shipped model's name or a DetectorModel, got "
                        f"{type(path).__name__} {path!r:.40}")
    path = Path(path) if path is not None else default_model_path()
    if path.is_dir():
        path = path / "model.pt"
    given, path = path, path if path.suffix == ".pt" else path.with_suffix(".pt")
    if len(path.parts) == 1 and (WEIGHTS_DIR / path.name).exists():
        if not path.exists():
            return WEIGHTS_DIR / path.name
        _warn_shadowed(path)
    if given.suffix not in (".pt", ".json") and given.is_file() and not path.exists():
        # pyproject.toml: not "pyproject.pt: model weights file not found", a file the user never named
        raise ParticleDetectError(f"{given}: not a model (a model is NAME.pt, its weights, with NAME.json, its card, "
                                  "beside it)")
    return path


# Local files already said to shadow a shipped model: a run loads its model several times (checks, then
# each file), and one warning says it.
_shadows_warned: set[Path] = set()


def _warn_shadowed(local: Path) -> None:
    """Warn, once per process, that the file ``local`` in the working folder is used where its bare name
    also names a shipped model (a ``train -o unet`` here takes the place of the shipped ``unet``)."""
    resolved = local.resolve()
    if resolved == (WEIGHTS_DIR / local.name).resolve() or resolved in _shadows_warned:
        return
    _shadows_warned.add(resolved)
    log.warning("%s: a file in this folder, used instead of the shipped model %s of the same name; rename it, or "
                "give %s for the shipped one", resolved, local.stem, WEIGHTS_DIR / local.name)


# The models last named by path are kept while their files are unchanged, so detecting image after
# image through the plain API neither re-reads the weights nor re-prepares the network (on a GPU that
# doubled the time of a 2048 px image). A few, not one: the docks detect spheres, rods and chains at
# once, and with one kept each turn reloaded the other's. Threads share it, under a lock.
CACHED_MODELS = 4
_last_loaded: OrderedDict[tuple, DetectorModel] = OrderedDict()
_cache_lock = threading.Lock()


def load_model_cached(path: str | Path | None = None, device: str | torch.device = "cpu") -> DetectorModel:
    """:func:`load_model`, reusing one of the last CACHED_MODELS models loaded from the same, unchanged files."""
    weights = weights_path(path)
    try:
        stamp = tuple((f.stat().st_mtime_ns, f.stat().st_size) for f in (weights, _card_path(weights)))
    except OSError:
        return load_model(weights, device)  # it says which file is missing
    key = (str(weights.resolve()), stamp, str(device))
    with _cache_lock:
        model = _last_loaded.get(key)
        if model is not None:
            _last_loaded.move_to_end(key)
            return model
    model = load_model(weights, device)  # outside the lock: another model may be read meanwhile
    with _cache_lock:
        for stale in [k for k in _last_loaded if k[0] == key[0] and k[1] != key[1]]:
            del _last_loaded[stale]  # the same file before it changed: never asked for again
        model = _last_loaded.setdefault(key, model)  # a thread that loaded it first wins: one object
        _last_loaded.move_to_end(key)
        while len(_last_loaded) > CACHED_MODELS:
            _last_loaded.popitem(last=False)
    return model


def saved_card(path: str | Path | None = None) -> ModelCard:
    """The card of the saved model ``path`` names, found and checked as :func:`load_model` finds it, its
    weights left unread: what a model is, known before the one load that reads them."""
    weights = weights_path(path)
    try:
        return _saved_card(weights)
    except ParticleDetectError as exc:
        raise _with_round_advice(exc, weights) from None


def _saved_card(weights: Path) -> ModelCard:
    if not weights.exists():
        raise ParticleDetectError(f"{weights}: model weights file not found")
    return read_card(_card_path(weights))


def load_model(path: str | Path | None = None, device: str | torch.device = "cpu") -> DetectorModel:
    """Load a saved model (default: the shipped UNet) onto ``device``, in eval mode."""
    path = weights_path(path)
    try:
        return _load_model(path, device)
    except ParticleDetectError as exc:
        raise _with_round_advice(exc, path) from None


def _with_round_advice(error: ParticleDetectError, weights: Path) -> ParticleDetectError:
    """``error`` about a missing or damaged model, with what to do when the model is a project's round
    (the user never named its file: the dock did)."""
    return ParticleDetectError(f"{error}; {DAMAGED_ROUND_ADVICE}") if is_round_model_file(weights) else error


def _load_model(path: Path, device: str | torch.device) -> DetectorModel:
    card = _saved_card(path)
    network = network_for_weights(card)
    state = read_saved_tensors(path)
    try:
        network.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise ParticleDetectError(f"{path}: weights do not match the {card.architecture} in its card ({first})") from None
    network.to(device).eval()
    criterion = None
    if card.criterion is not None:
        criterion_file = path.with_name(card.criterion)
        try:
            data = criterion_file.read_bytes()
        except OSError as exc:
            raise ParticleDetectError(f"{criterion_file}: cannot read the model's criterion ({exc.strerror})") from None
        criterion = Criterion.from_bytes(data, str(criterion_file))
    return DetectorModel(network=network, card=card, path=path, criterion=criterion)


# How files torch.save writes begin: a zip archive, or (before torch 1.6) a pickle of this magic number.
_TORCH_ARCHIVE_START = b"PK\x03\x04"
_TORCH_LEGACY_MAGIC = b"\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19"


def read_saved_tensors(path: Path, what: str = "model weights file",
                       if_refused: str = "use weights saved by napari-particle-detect") -> Any:
    """The tensors (and plain values) torch saved in ``path``, read without running code. A file that is no
    PyTorch file at all (empty, random bytes, text) is told apart from a real one holding other objects,
    the only one refused as a risk (``if_refused`` says what to do then): any failure to unpickle read as
    that risk, a damaged file looked like an attack. ``what`` the file is, for the messages."""
    problem = not_torch_file(path)
    if problem:
        raise ParticleDetectError(f"{path}: not a {what} (damaged or another format: {problem})")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Unsupported operand" not in str(exc):  # a class or function to import: code could run
            raise ParticleDetectError(f"{path}: refused: it holds objects other than tensors (loading them could "
                                      f"run code); {if_refused}") from None
        raise ParticleDetectError(f"{path}: cannot read {what.removesuffix(' file')} (a damaged PyTorch archive)") from None
    except Exception as exc:  # corrupt zip, truncated files
        first = str(exc).strip().splitlines()[0].split(". ")[0][:120] if str(exc).strip() else ""
        raise ParticleDetectError(f"{path}: cannot read {what.removesuffix(' file')} (a damaged PyTorch archive: "
                                  f"{type(exc).__name__}: {first})") from None


def not_torch_file(path: Path) -> str | None:
    """Why ``path`` is no file torch.save wrote (empty, another format), or None when it begins as one: its first
    bytes read, nothing loaded (cheap enough for a list of rounds to ask at every refresh)."""
    try:
        with open(path, "rb") as handle:
            start = handle.read(16)
    except OSError as exc:
        raise ParticleDetectError(f"{path}: cannot read model weights ({exc.strerror})") from None
    if not start:
        return "empty"
    if start.startswith(_TORCH_ARCHIVE_START) or _TORCH_LEGACY_MAGIC in start:
        return None
    return "not a PyTorch archive"


CRITERION_SUFFIX = ".criterion.skops"


def copy_model(source: str | Path, destination: str | Path, note: dict | None = None) -> Path:
    """Copy the saved model at ``source`` (.pt) to ``destination`` (.pt): weights, its criterion renamed
    after the destination, and its card (naming that criterion, with ``note`` added to its ``training``),
    written as :func:`save_model` writes them (never the new weights beside an old card)."""
    source = Path(source).with_suffix(".pt")
    destination = Path(destination)
    if destination.suffix != ".pt":
        destination = destination.with_name(destination.name + ".pt")
    model = load_model(source, "cpu")  # every file is checked before anything is written
    if destination.resolve() == source.resolve():
        raise ParticleDetectError(f"{destination}: is the model being copied")
    if destination.is_dir():
        raise ParticleDetectError(f"{destination}: is a folder")
    destination.parent.mkdir(parents=True, exist_ok=True)
    card = json.loads(source.with_suffix(".json").read_text("utf-8"))
    weights = source.read_bytes()
    files: list[tuple[Path, Callable]] = [(destination, lambda fh: fh.write(weights))]
    if model.card.criterion is not None:
        criterion = destination.with_name(destination.stem + CRITERION_SUFFIX)
        data = source.with_name(model.card.criterion).read_bytes()
        files.append((criterion, lambda fh: fh.write(data)))
        card["criterion"] = criterion.name
    if note:
        card["training"] = {**card.get("training", {}), **note}
    # Through card_json as every saved card: an older round's card (NaN for the untrained epoch's loss) was exported
    # as read, a card JavaScript's JSON.parse and R's jsonlite cannot read. A copy of a shipped model written so is
    # still told to be one (shipped_rounds reads NaN as null).
    text = card_json(card)
    files.append((destination.with_suffix(".json"), lambda fh: fh.write(text)))
    _write_model_files(files)
    return destination


# The unfinished models already said, so a folder run (a detect per file) says it once.
_unfinished_said: set[tuple] = set()


def warn_unfinished_training(card: ModelCard, name: str) -> None:
    """Say once, in one line, that the model ``name`` (its saved weights' path, or what to call a model never
    saved; its ``card``) is from a training run that stopped before its last epoch (cancelled, or at its time
    limit): it detects as far as it got, which can look like a poor model rather than an unfinished one."""
    training = card.training if isinstance(card.training, dict) else {}
    done, epochs = training.get("epochs_done"), training.get("epochs")
    how = "it detects as trained so far: resume the training to finish it"
    if training.get("finished") is False:
        how_far = f"after {done} of {epochs} epochs" if done is not None and epochs is not None else "early"
        problem = f"its training stopped {how_far} (its card says finished: false)"
    elif not training and (state := _resume_state_beside(name)) is not None:
        # Versions before runs recorded their progress saved a model mid-run with no training record, written
        # only at the end; a card without one is otherwise a model made by hand, which is no unfinished run.
        problem = f"saved mid-run by an older version (its card has no training record, and {state.name}, the " \
                  "run's resume state, lies beside it)"
    elif "finished" not in training and (planned := _only_its_start(training)) is not None:
        # Versions before runs recorded their progress saved a fine-tuning's starting model, scored as epoch 0,
        # before its first epoch; killed then, that file is all the run left, and no state to resume from.
        problem = (f"saved by an older version before the first of its {planned} epochs ended (its history holds "
                   "only epoch 0, the model it started from)")
        how = "it detects as the model it started from: train it again to have the fine-tuned one"
    else:
        return  # finished, or a card from before runs recorded it
    key = (str(name), done, epochs)
    if key in _unfinished_said:
        return
    _unfinished_said.add(key)
    log.warning("%s: %s; %s", name, problem, how)


def _only_its_start(training: dict) -> int | None:
    """The epochs a run planned whose recorded history holds epoch 0 alone (its starting model's score), None for any
    other record: one that trained an epoch or more, or records no plan."""
    config = training.get("config") if isinstance(training.get("config"), dict) else {}
    history = training.get("history") if isinstance(training.get("history"), list) else []
    planned = config.get("epochs")
    epochs = [record.get("epoch") for record in history if isinstance(record, dict)]
    if isinstance(planned, int) and not isinstance(planned, bool) and planned > 0 and epochs == [0]:
        return planned
    return None


def resume_state_path(weights: str | Path) -> Path:
    """Where a training run saving the model ``weights`` (MODEL.pt) keeps what resuming it needs (MODEL.state.pt):
    named here alone, as training writes it, the CLI refuses to replace it and a mid-run model is told by it."""
    return Path(weights).with_suffix(".state.pt")


def _resume_state_beside(name: str) -> Path | None:
    """The training run's resume state beside the saved model ``name`` names, or None when there is none (or
    ``name`` names no saved model)."""
    weights = Path(name)
    state = resume_state_path(weights)
    return state if weights.suffix == ".pt" and state.is_file() else None
