"""Where the files shipped inside the package live: the default weights and the sample images.

Both folders are package data, so the same paths hold in a source checkout and in an installed wheel.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from functools import lru_cache
from pathlib import Path

from .errors import ParticleDetectError

PACKAGE_DIR = Path(__file__).resolve().parent
WEIGHTS_DIR = PACKAGE_DIR / "weights"
SAMPLE_DATA_DIR = PACKAGE_DIR / "sample_data"


def is_shipped(weights: Path) -> bool:
    """Whether ``weights`` is one of the models shipped in this install's weights folder."""
    return Path(weights).resolve().parent == WEIGHTS_DIR.resolve()


def refuse_shipped_output(path: Path) -> None:
    """Refuse to write a trained model (or a run's folder) at ``path`` inside the shipped weights folder: it
    would replace a model every detection and round starts from, in every project of this install."""
    if Path(path).resolve().is_relative_to(WEIGHTS_DIR.resolve()):
        raise ParticleDetectError(f"{path}: inside the shipped models' folder {WEIGHTS_DIR}, which training never "
                                  "replaces; write the model outside it")


# The digests of the files' bytes (:func:`_file_digest`) that the versions before 2026-12-07 recorded of each shipped
# model, by the digest of what it detects with (:func:`_prediction_digest`): its cards rewritten since (NaN as null, a
# recipe's hash) with its weights and settings unchanged, from the repository's history of weights/. A model shipped
# with other weights or settings has another key, so outputs of the one before are detected again.
_EARLIER_CARDS: dict[str, tuple[str, ...]] = {
    # chains
    "24c2184b3b1837ad42b949f66202ee28af5a8e237936e743c7228468c91582d4": (
        "1907e20c08c6cb6fc84007d9943229498d6640fd6cc18058fff17a8ef3960cd3",
        "7e481acd5ca44a96c1deb76bcf741dc82ae3496bbd8b29ecda49ec24b0620979",
        "eb282ff2e46ede39d4146dd0e446a7e82956bc87250c865f3389f10cd98feafc",
    ),
    # resnet
    "ca17aeb00d00b4045d1920de45f20034a9ab11eeb43de91b1a7206ba6bb8e162": (
        "b392fbb71cfc93efb558b4e66e856afd81c2c9b36d17c3566ce1f28216bc2d97",
    ),
    # rods
    "dc4e1004122ad24bb3b13f010c24fc0d7d1786b2a90e34ce343bf746f3779ef3": (
        "811b74bd8cec6a93d2de81dc34b3a5f51bdf63ba635a476220bb18e1be93d07c",
        "95f028446de814e0b82b33e35ede0e7d4cacfc9d51aa19c2619158150a2eb047",
        "ed6589c696b24be209503714f0b97b9807c108938c987801d98aa39a1e2cfbf4",
    ),
    # unet-wide
    "dea0c5a8f2b883947ed090cda8feca8afc771d38b2f52deccef510f9bd3a0705": (
        "a67f2f56a4f041e23986af653de709d5eb6003b7542b59e8115a846dbe10b85d",
        "f073976da7ab52e863104f93f9ab1f44be5664e9c009656c8dccbfd27e68a3cc",
    ),
    # unet
    "6b80b733ca40e2e0fdbb8872fe356ded0cfaa6b8f7ff11e1ca0d09c240a9e677": (
        "17e111550b2e976c7ad2b5fddea6488ce4db703c6b014d1624b8c5ba15c69d0b",
        "42b5d3bd8c04823fe1e62aa7f00c0353b33974780297dc1bb2ffd2158e5d0e98",
        "4b1aa8934a744250e829cec045bf68363b0e0dba88fd453955b89eca8954899e",
        "e4451b068a5c7b728fa5cae14a0ddc3b1d73d6a2e660c8b7c9aaf67d61f1ee93",
    ),
    # unet3d
    "05082387accfafac917234ddf7bef279d2f7d26ea7267e8e05fd3bfa7fc0c132": (
        "7f80f7d5e971183698b5b10a6c93038cd903f82769d1e7f2fa4853ef7e363792",
    ),
}


def model_digest(weights: Path) -> str:
    """SHA-256 of what a model detects with (:func:`_prediction_digest`): the same model wherever a package is
    installed (its path differs from one install to another), read once per process while the files are unchanged.

    Not of the files' bytes: a new version that rewrites only a card's training record (its epoch 0 loss NaN written
    as null) would have made every output of the model look made by another, and a folder run detect them all again.
    Outputs recorded under the earlier digest of the files' bytes are still this model's (:func:`earlier_digests`)."""
    return _prediction_digest(_stamp(weights))


def earlier_digests(weights: Path) -> frozenset[str]:
    """The digests earlier versions recorded of the model ``weights`` (:func:`_file_digest`, of its files' bytes)
    while it detected as it does now: its files as they are, and the shipped cards since rewritten."""
    stamp = _stamp(weights)
    return frozenset({_file_digest(stamp), *_EARLIER_CARDS.get(_prediction_digest(stamp), ())})


def _stamp(weights: Path) -> tuple:
    files = [Path(weights), Path(weights).with_suffix(".json")]
    return tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files if f.exists())


@lru_cache(maxsize=16)
def _file_digest(stamp: tuple) -> str:
    """The digest of versions before 2026-12-07: of the weights' and card's bytes."""
    digest = hashlib.sha256()
    for name, _, _ in stamp:
        digest.update(Path(name).read_bytes())
    return digest.hexdigest()


@lru_cache(maxsize=16)
def _prediction_digest(stamp: tuple) -> str:
    """Of the weights' tensors (names, types, shapes, values) and of the card but for its training record (all but
    the runtime gate that record may carry, which picks the precision), and of a criterion file the card names."""
    digest = hashlib.sha256(b"prediction digest 2")
    weights, *card = [Path(name) for name, _, _ in stamp]
    for name, dtype, shape, data in _tensors(weights):
        digest.update(f"{name} {dtype} {shape}".encode())
        digest.update(data)
    if card:
        values = _prediction_card(card[0])
        digest.update(json.dumps(values, sort_keys=True).encode())
        criterion = values.get("criterion")
        if isinstance(criterion, str) and (weights.parent / criterion).is_file():
            digest.update((weights.parent / criterion).read_bytes())
    return digest.hexdigest()


def _tensors(weights: Path) -> list[tuple[str, str, tuple, bytes]]:
    """The state dict in ``weights`` as (name, dtype, shape, bytes), by name; a file torch cannot read as one
    gives its bytes (loading the model then says what is wrong with it)."""
    import torch

    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except (RuntimeError, ValueError, EOFError, pickle.UnpicklingError):
        return [("", "file", (), weights.read_bytes())]
    if not isinstance(state, dict) or not all(isinstance(t, torch.Tensor) for t in state.values()):
        return [("", "file", (), weights.read_bytes())]
    # As bytes, whatever the type (numpy has no bfloat16).
    return [(str(name), str(t.dtype), tuple(t.shape), t.detach().contiguous().reshape(-1).view(torch.uint8).numpy()
             .tobytes()) for name, t in sorted(state.items(), key=lambda item: str(item[0]))]


# The card's training record key a round's model inherits its runtime precision by (detection.runtimes
# BFLOAT16_INHERITED): it changes what the model detects with, so it counts in the digest.
BFLOAT16_GATE_FROM = "bfloat16_gate_from"


def _prediction_card(card: Path) -> dict:
    try:
        values = json.loads(card.read_bytes())
    except ValueError:  # not JSON: loading the model says so
        return {"unreadable card": hashlib.sha256(card.read_bytes()).hexdigest()}
    if not isinstance(values, dict):
        return {"card": values}
    training = values.pop("training", None)
    if isinstance(training, dict) and BFLOAT16_GATE_FROM in training:
        values[BFLOAT16_GATE_FROM] = training[BFLOAT16_GATE_FROM]
    return values
